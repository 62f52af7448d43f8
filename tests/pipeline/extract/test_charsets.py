"""Charset labels read as browsers read them, and decoding that counts what it replaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract.charsets import decode_replacing, decode_strict, decoders, widest


@pytest.mark.parametrize("label,expected", [
    ("Shift_JIS", ["shift_jis", "cp932"]), ("windows-31j", ["shift_jis", "cp932"]),
    ("GB2312", ["gbk", "gb18030", "gb2312"]), ("big5", ["big5", "cp950", "big5hkscs"]),
    ("ISO-8859-1", ["cp1252", "iso8859-1"]), ("us-ascii", ["cp1252", "ascii"]), ("koi8-r", ["koi8-r"]),
    ("utf-8", ["utf-8"]), (None, []), ("", []),
])
def test_decoders_put_the_label_s_browser_reading_first(label: str | None, expected: list[str]) -> None:
    assert decoders(label) == expected


def test_decode_strict_takes_the_first_codec_that_decodes_all() -> None:
    data = "① 東京".encode("cp932")
    assert decode_strict(data, ["shift_jis", "cp932"]) == ("① 東京", "cp932")
    assert decode_strict(data, ["utf-8", "shift_jis"]) is None
    assert decode_strict(b"x", ["no-such-codec", "ascii"]) == ("x", "ascii")


@pytest.mark.parametrize("data,codec,text,replaced", [
    ("é".encode() + b"\xff\xfe" + b"x", "utf-8", "é\ufffdx", 2),  # a run of bad bytes: one U+FFFD
    (b"a\xffb\xfec", "utf-8", "a\ufffdb\ufffdc", 2),
    ("紅樓".encode("gb18030") + b"\xff", "gb18030", "紅樓\ufffd", 1),
    ("\ufffd ok".encode(), "utf-8", "\ufffd ok", 0),  # a U+FFFD in the text is no replacement
])
def test_decode_replacing_counts_the_bytes_it_replaces(data: bytes, codec: str, text: str, replaced: int) -> None:
    assert decode_replacing(data, codec) == (text, replaced)


@pytest.mark.parametrize("label,codec", [("GB2312", "gb18030"), ("gbk", "gb18030"), ("big5", "big5hkscs"),
                                         ("Shift_JIS", "cp932"), ("euc-kr", "cp949"), ("koi8-r", "koi8-r"),
                                         ("windows-1251", "cp1251"), (None, None)])
def test_widest_is_the_last_superset(label: str | None, codec: str | None) -> None:
    assert widest(label) == codec


def test_nearly_utf8_takes_damaged_utf8_and_never_a_single_byte_charset() -> None:
    from pipeline.extract.charsets import nearly_utf8

    text = "Grüße aus Köln, 东京. " * 100
    cut = text.encode().index(b",") + 1  # a character boundary
    damaged = text.encode()[:cut] + b"\xff" + text.encode()[cut:]
    head = text.encode()[:cut].decode()
    assert nearly_utf8(damaged) == (head + "\ufffd" + text[len(head):], 1)
    assert nearly_utf8(("Café crème " * 300).encode("cp1252")) is None  # every accent a bad byte
    assert nearly_utf8(("x" * 3000 + "é").encode("cp1252")) is None  # one bad byte, no valid multi-byte one
    assert nearly_utf8(b"\xff" * 10 + text.encode()) is None  # more damage than one byte in a thousand


def _jawiki_lines(shared_data: Path, n: int = 60) -> list[str]:
    """Japanese lines of the shared jawiki dump that ISO-2022-JP can hold (JIS X 0208 has no rare kanji)."""
    import lzma

    dump = shared_data / "wiki" / "jawiki-2023-truncated-100k-lines.xml.xz"
    with lzma.open(dump, "rt", encoding="utf-8") as fh:
        head = fh.read(400_000)
    lines = []
    for line in head.splitlines():
        if len(line) > 20 and sum(ord(c) > 0x3000 for c in line) > len(line) // 2:
            try:
                line.encode("iso2022_jp")
            except UnicodeEncodeError:
                continue
            lines.append(line)
    assert len(lines) >= n
    return lines[:n]


def test_iso2022_jp_cut_inside_a_character_or_an_escape_keeps_its_charset(shared_data: Path) -> None:
    from pipeline.extract.charsets import iso2022_jp

    text = "\n".join(_jawiki_lines(shared_data))
    data = text.encode("iso2022_jp")
    assert iso2022_jp(data) == (text, 0)
    # a cut at every byte of the last 40: inside a two-byte character, inside ESC ( B, or between characters
    for cut in range(len(data) - 40, len(data)):
        decoded, replaced = iso2022_jp(data[:cut])
        whole = data[:cut].decode("iso2022_jp", errors="ignore")
        assert decoded.rstrip("\ufffd") == whole, cut  # every complete character kept
        # a cut tail is one U+FFFD counted as its bytes: one of a character, one or two of an escape
        assert (replaced, decoded.endswith("\ufffd")) in ((0, False), (1, True), (2, True)), cut
        assert "\x1b" not in decoded
    # a few bad bytes: each replaced and counted
    jis = data.index(b"\x1b$B", len(data) // 2) + 3  # a two-byte run starts here
    damaged = data[:jis] + b"/~" + data[jis:]  # a pair JIS X 0208 leaves unassigned (row 15)
    decoded, replaced = iso2022_jp(damaged)
    assert replaced == 2 and decoded.count("\ufffd") == 1 and decoded.replace("\ufffd", "") == text
    # damage everywhere is not ISO-2022-JP
    assert iso2022_jp(b"\x1b$B" + b"/~" * 50 + data) is None


def test_html_and_books_read_a_cut_iso2022_jp_stream_as_japanese(shared_data: Path) -> None:
    from pipeline.extract.html import decode_html
    from pipeline.readers.books import decode

    text = "\n".join(_jawiki_lines(shared_data))
    data = text.encode("iso2022_jp")[:-4]  # cut inside the last character
    for decoded in (decode_html(data), decode(data)):
        assert decoded.text.startswith(text[:200]) and "\x1b" not in decoded.text
        assert decoded.charset.replace("-", "").replace("_", "") == "iso2022jp" and decoded.replaced >= 1


@pytest.mark.parametrize("text,latin9", [
    ("Le cœur de l'œuvre coûte 12 € ; sa sœur aussi.", True),  # œ inside words, the euro sign
    ("Preis: 30 € pro Person, inkl. Führung.", True),  # the euro sign alone
    ("Slavoj Žižek und Robert Šimko trafen sich in Lemberg.", True),  # ž inside a word
    ("Man nehme 1½ Tassen Mehl und ¼ Liter Milch; geht´s so?", False),  # latin-1's own ½ ¼ ´
    ("Grüße aus München, schöne Straße.", False),  # no byte where the two differ
])
def test_latin9_only_where_its_letters_or_euro_sign_say_so(text: str, latin9: bool) -> None:
    from pipeline.extract.charsets import latin9 as pick

    data = text.encode("iso8859_15" if latin9 else "latin-1")
    assert pick(data, "cp1252") == ("iso8859_15" if latin9 else "cp1252")
    assert pick(data, "iso8859-2") == "iso8859-2"  # only a Western guess is reconsidered
    assert pick(data + "“quoted”".encode("cp1252"), "cp1252") == "cp1252"  # windows-1252's own bytes: it is that


@pytest.mark.parametrize("label,expected", [
    ("UHC", ["cp949"]), ("CP949", ["cp949"]), ("IBM855", ["cp855"]), ("MAC-CYRILLIC", ["mac-cyrillic"]),
    ("x-mac-cyrillic", ["mac-cyrillic"]), ("no-such-charset", []),
])
def test_decoders_read_names_beyond_whatwg_with_python_s_codec(label: str, expected: list[str]) -> None:
    # resiliparse's WHATWG mapping turns names it does not know into UTF-8, which cannot read these texts
    assert decoders(label) == expected
