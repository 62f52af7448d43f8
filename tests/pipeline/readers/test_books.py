"""The books reader on every real book in shared data, plus bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.accounting import Tally
from pipeline.documents import Document
from pipeline.readers import get_reader
from pipeline.readers.books import READER, Options

# file -> (first real line, last real line, title, author)
BOOKS = {
    "gutenberg-972-the-devils-dictionary.txt": (
        "THE DEVIL'S DICTIONARY", "the domestic cow sheds its horn every two years.",
        "The Devil's Dictionary", "Ambrose Bierce"),
    "gutenberg-3261-news-from-nowhere.txt": (
        "NEWS FROM NOWHERE", "{3}  Cirencester and Burford he must have meant.",
        "News from Nowhere or An Epoch of Rest, being some chapters from A Utopian Romance", "William Morris"),
    "gutenberg-9198-the-complete-angler-1653.txt": (
        "THE COMPLETE ANGLER;", "FINIS.", "The Complete Angler, 1653", "Isaak Walton"),
    "gutenberg-16215-jack-sheppard.txt": (
        "Transcribers Note: Obvious typesetter errors", "THE END.", "Jack Sheppard A Romance",
        "William Harrison Ainsworth"),
    "gutenberg-14263-katrine.txt": (
        '[Illustration: "I HAVE WAITED ALL THESE YEARS"]', "THE END", "Katrine", "Elinor Macartney Lane"),
    "tinyshakespeare.txt": (
        "First Citizen:", "Whiles thou art waking.", "tinyshakespeare", None),
    "the-verdict.txt": (
        "I HAD always thought Jack Gisburn rather a cheap genius--though a good fellow enough",
        "there's no exterminating our kind of art.\"", "the verdict", None),
    "de-goethe-faust1-pg2229.txt": (
        "Faust:\nDer Tragödie erster Teil", "Heinrich! Heinrich!", "Faust: Der Tragödie erster Teil",
        "Johann Wolfgang von Goethe"),
    "zh-hongloumeng-pg24264.txt": (
        "第一回\u3000甄士隱夢幻識通靈", "由來同一夢，休笑世人痴!", "A Dream Of Red Mansions", "Xueqin Cao"),
}
# file -> (a line from the middle of the book, a line from its last page): the body between them survived.
MIDDLE_AND_END = {
    "de-goethe-faust1-pg2229.txt": ("Faust. Margarete vorübergehend.", "Heinrich! Heinrich!"),
    "gutenberg-14263-katrine.txt": ("ridiculously long and spare, with an unbroken record",
                                    'And a little later: "It is cold for you here," he said.'),
    "gutenberg-16215-jack-sheppard.txt": ('"My dear," observed Wood, "you should be more charitable--"',
                                          "some pitying hand supplied the inscription"),
    "gutenberg-3261-news-from-nowhere.txt": ("if the end of the world were come when such laws were enacted.",
                                             "Cirencester and Burford he must have meant."),
    "gutenberg-9198-the-complete-angler-1653.txt": (
        "possibly, whether you fish with a flie or worm, and fish down the",
        "and love _quietnesse_, and _vertue_, and _Angling_."),
    "gutenberg-972-the-devils-dictionary.txt": ("LOCK-AND-KEY, n.  The distinguishing device of civilization",
                                                "the domestic cow sheds its horn every two years."),
    "the-verdict.txt": ("my eye fell on a small picture above the mantel-piece",
                        "there's no exterminating our kind of art."),
    "tinyshakespeare.txt": ("Death, lie thou there, by a dead man interr'd.", "Whiles thou art waking."),
    "zh-hongloumeng-pg24264.txt": ("薛姨媽道：“我這几天連日忙", "由來同一夢，休笑世人痴!"),
}
LICENCE_TRACES = ("Project Gutenberg", "PROJECT GUTENBERG", "START OF", "END OF THIS", "END OF THE PROJECT",
                  "gutenberg.org", "gutenberg.net", "SMALL PRINT", "Produced by", "\r")


def read_one(path: Path, options: Options | None = None) -> tuple[list[Document], Tally]:
    opts = options or Options()
    tally = Tally()
    docs = [doc for split in READER.plan(str(path), None, opts) for doc in READER.read(split, opts, tally)]
    return docs, tally


@pytest.fixture(scope="module")
def books(shared_data: Path) -> dict[str, Document]:
    out = {}
    for name in BOOKS:
        docs, tally = read_one(shared_data / "books" / name)
        assert len(docs) == 1 and not any(k.startswith("skipped.") for k in tally.counts)
        out[name] = docs[0]
    return out


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_real_book(books: dict[str, Document], name: str) -> None:
    first, last, title, author = BOOKS[name]
    doc = books[name]
    for trace in LICENCE_TRACES:
        assert trace not in doc.text, f"{name}: {trace!r} left in the text"
    assert doc.text.startswith(first)
    assert doc.text.endswith(last)
    assert doc.key == name  # basename: independent of where the corpus is mounted
    assert doc.title == title
    assert doc.meta["author"] == author
    assert doc.meta["origin"].endswith(f"books/{name}")
    assert doc.meta["charset"] == "utf-8"
    doc.to_row("books")  # meta fields are all in the schema


def test_every_shared_book_is_covered(shared_data: Path) -> None:
    assert sorted(p.name for p in (shared_data / "books").iterdir()) == sorted(BOOKS) == sorted(MIDDLE_AND_END)


def _without_blank_lines(raw: bytes) -> bytes:
    lines = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line for line in lines if line.strip()).encode()


def _bom_and_crlf(raw: bytes) -> bytes:
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    return "\ufeff".encode() + text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("variant", ["as-is", "no-blank-lines", "bom-crlf"])
@pytest.mark.parametrize("name", sorted(MIDDLE_AND_END))
def test_every_book_keeps_its_body_whatever_its_layout(shared_data: Path, tmp_path: Path, name: str,
                                                       variant: str) -> None:
    """The middle and the last page of each book survive, and the licence and credits go, also when the
    file has no blank line at all (nothing then separates credits from the book) or a BOM and CRLF."""
    raw = (shared_data / "books" / name).read_bytes()
    make = {"as-is": lambda b: b, "no-blank-lines": _without_blank_lines, "bom-crlf": _bom_and_crlf}[variant]
    path = tmp_path / name
    path.write_bytes(make(raw))
    (doc,), tally = read_one(path)
    middle, end = MIDDLE_AND_END[name]
    flat = " ".join(doc.text.split())  # unwrapping may join the phrase's line with its neighbours
    assert " ".join(middle.split()) in flat and " ".join(end.split()) in flat, name
    assert len(flat) - flat.rfind(" ".join(end.split())) < 400, f"{name}: the book's last page is not last"
    for trace in LICENCE_TRACES:
        assert trace not in doc.text, f"{name} ({variant}): {trace!r} left in the text"
    assert "\ufeff" not in doc.text
    assert doc.title == BOOKS[name][2] and doc.meta["author"] == BOOKS[name][3]
    assert not any(k.startswith("skipped.") for k in tally.counts)


def test_gutenberg_metadata_dates(books: dict[str, Document]) -> None:
    assert books["gutenberg-14263-katrine.txt"].meta["date"] == "2004-12-06"
    assert books["gutenberg-9198-the-complete-angler-1653.txt"].meta["date"] == "2005-10"
    # the 2020s header: "Release date: June 1, 2000 [eBook #2229]" with "Most recently updated" below it
    assert books["de-goethe-faust1-pg2229.txt"].meta["date"] == "2000-06-01"


def test_prose_is_unwrapped_into_paragraphs(books: dict[str, Document]) -> None:
    text = books["gutenberg-14263-katrine.txt"].text
    assert ('"Ah," he cried, opening his arms to her, "come to me, come to me, you divine little soul! '
            "I'm not worthy, but God knows how I will try to be!\"") in text

@pytest.mark.parametrize("name", [n for n in BOOKS if n.startswith("gutenberg")])
def test_only_verse_and_title_pages_keep_line_breaks(books: dict[str, Document], name: str) -> None:
    """Unindented paragraphs with a line break inside are prose the unwrapping missed: (almost) none."""
    paragraphs = [p.strip("\n") for p in books[name].text.split("\n\n") if p.strip()]
    prose_left_wrapped = [p for p in paragraphs
                          if "\n" in p and not any(line[:1].isspace() for line in p.split("\n"))]
    assert len(prose_left_wrapped) <= 3  # title-page blocks such as "EPOCH THE FIRST, 1703.\nJONATHAN WILD."


def test_bare_cr_book_has_lines(books: dict[str, Document]) -> None:
    """Jack Sheppard mixes CRLF and bare CR: both must end lines, not vanish or glue them together."""
    text = books["gutenberg-16215-jack-sheppard.txt"].text
    assert "Thus died Jack Sheppard.\n\nThat night a grave was dug in Willesden churchyard" in text
    assert "END OF THE FIRST EPOCH." in text  # a body line that looks like an end marker stays


def test_plays_keep_their_speaker_blocks(books: dict[str, Document], shared_data: Path) -> None:
    raw = (shared_data / "books" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    lines = [line.rstrip() for line in raw.split("\n")]  # only trailing spaces may go
    assert books["tinyshakespeare.txt"].text == "\n".join(lines).strip("\n")


def test_options_off_keep_the_raw_text(shared_data: Path) -> None:
    path = shared_data / "books" / "gutenberg-972-the-devils-dictionary.txt"
    (doc,), _ = read_one(path, Options(strip_gutenberg=False, unwrap=False))
    assert "*** START OF THIS PROJECT GUTENBERG EBOOK" in doc.text
    with pytest.raises(ValidationError):
        Options(unwrap=True, strip=True)  # type: ignore[call-arg]


def test_registered() -> None:
    assert get_reader("books") is READER


def test_empty_file_is_a_counted_skip(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    docs, tally = read_one(path)
    assert docs == [] and tally.counts["skipped.empty_file"] == 1
    assert tally.examples["empty_file"][0]["file"] == str(path)


def test_licence_only_file_is_a_counted_skip(tmp_path: Path) -> None:
    path = tmp_path / "licence.txt"
    path.write_text("*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\n")
    docs, tally = read_one(path)
    assert docs == [] and tally.counts["skipped.empty_text"] == 1


def test_cp1252_falls_back_and_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Caf\u00e9 \u201cquoted\u201d".encode("cp1252"))
    (doc,), tally = read_one(path)
    assert doc.text == "Caf\u00e9 \u201cquoted\u201d" and doc.meta["charset"] == "cp1252"
    assert tally.counts["decoded_fallback"] == 1


def test_latin1_last_resort(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes(b"abc \x81 def")  # 0x81 is undefined in cp1252
    (doc,), tally = read_one(path)
    assert doc.meta["charset"] == "latin-1" and tally.counts["decoded_fallback"] == 1


def test_compressed_book(tmp_path: Path, shared_data: Path) -> None:
    raw = (shared_data / "books" / "the-verdict.txt").read_bytes()
    path = tmp_path / "the-verdict.txt.gz"
    path.write_bytes(gzip.compress(raw))
    (doc,), _ = read_one(path)
    assert doc.title == "the verdict" and doc.text.startswith("I HAD always")
    bad = tmp_path / "broken.txt.gz"
    bad.write_bytes(gzip.compress(raw)[:200])
    docs, tally = read_one(bad)
    assert docs == [] and tally.counts["skipped.corrupt_file"] == 1


def test_missing_file_raises_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_one(tmp_path / "nope.txt")


def test_a_bom_on_a_cp1252_file_is_not_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "Caf\u00e9 \u201cquoted\u201d".encode("cp1252"))
    (doc,), _ = read_one(path)
    assert doc.text == "Caf\u00e9 \u201cquoted\u201d" and doc.meta["charset"] == "cp1252"


# --- legacy charsets (issue 13): real texts of four languages written in the charsets their books circulate in


def _real_texts(shared_data: Path) -> dict[str, str]:
    """Real text per language: the Chinese and German Gutenberg books, jawiki's and ruwiki's articles."""
    from pipeline.readers.base import Split
    from pipeline.readers.wikipedia import Options as WikiOptions, read as read_wiki

    def wiki(name: str) -> str:
        return "\n\n".join(d.text for d in read_wiki(Split(str(shared_data / "wiki" / name)), WikiOptions(), Tally()))

    books = shared_data / "books"
    return {"zh": (books / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8")[:300_000],
            "de": (books / "de-goethe-faust1-pg2229.txt").read_text(encoding="utf-8"),
            "ja": wiki("jawiki-2023-truncated-100k-lines.xml.xz")[:200_000],
            "ru": wiki("ruwiki-sample-pages-articles.xml.bz2")[:200_000]}

LEGACY = [("zh", "gb18030"), ("zh", "gbk"), ("zh", "big5"), ("zh", "cp950"), ("ja", "cp932"), ("ja", "shift_jis"),
          ("ja", "euc_jp"), ("ja", "iso2022_jp"), ("ru", "cp1251"), ("ru", "koi8_r"), ("de", "cp1252"),
          ("de", "latin-1")]


@pytest.fixture(scope="module")
def real_texts(shared_data: Path) -> dict[str, str]:
    return _real_texts(shared_data)


@pytest.mark.parametrize("language,charset", LEGACY)
def test_a_book_in_a_legacy_charset_reads_as_its_utf8_twin(real_texts: dict[str, str], tmp_path: Path,
                                                          language: str, charset: str) -> None:
    text = real_texts[language].encode(charset, errors="ignore").decode(charset)  # what the charset can hold
    (tmp_path / "utf8").mkdir()
    (tmp_path / "utf8" / "book.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "book.txt").write_bytes(text.encode(charset))
    (twin,), _ = read_one(tmp_path / "utf8" / "book.txt")
    (doc,), tally = read_one(tmp_path / "book.txt")
    assert doc.text == twin.text, (language, charset, doc.meta["charset"])
    assert tally.counts["decoded_fallback"] == 1 and "decode_replaced_bytes" not in tally.counts


def test_a_damaged_utf8_book_stays_utf8_with_its_bad_bytes_counted(shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_bytes()
    cut = raw.index("。".encode(), 100_000) + len("。".encode())  # a character boundary
    path = tmp_path / "damaged.txt"
    path.write_bytes(raw[:cut] + b"\xff\xfe" + raw[cut:])
    (doc,), tally = read_one(path)
    (whole,), _ = read_one(shared_data / "books" / "zh-hongloumeng-pg24264.txt")
    assert doc.meta["charset"] == "utf-8" and tally.counts["decode_replaced_bytes"] == 2
    assert doc.text.count("\ufffd") == 1 and doc.text.replace("\ufffd", "") == whole.text
    assert "decoded_fallback" not in tally.counts


def test_a_damaged_gb18030_book_keeps_its_charset(real_texts: dict[str, str], tmp_path: Path) -> None:
    data = real_texts["zh"].encode("gb18030")
    path = tmp_path / "damaged.txt"
    path.write_bytes(data[:5001] + b"\xff" + data[5001:])  # 0xFF is no GB18030 byte
    (doc,), tally = read_one(path)
    assert doc.meta["charset"] == "gb18030" and 1 <= tally.counts["decode_replaced_bytes"] <= 3
    assert doc.text.count("\ufffd") == 1 and doc.text.count("賈寶玉") == real_texts["zh"].count("賈寶玉")


def test_the_gutenberg_header_names_the_charset(tmp_path: Path) -> None:
    # Polish and Czech in ISO-8859-2: uchardet takes such text for windows-1250, where these letters differ
    body = "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy. Świerszcz, źdźbło, łódź.\n" * 3
    head = "The Project Gutenberg EBook of Pan Tadeusz\n\nCharacter set encoding: ISO-8859-2\n\n"
    path = tmp_path / "pl.txt"
    path.write_bytes((head + body).encode("iso8859_2"))
    (doc,), _ = read_one(path, Options(strip_gutenberg=False, unwrap=False))
    assert doc.meta["charset"] == "iso8859-2" and doc.text == (head + body).strip("\n")


def test_a_utf16_book_with_its_bom(real_texts: dict[str, str], tmp_path: Path) -> None:
    text = real_texts["ja"][:5000]
    for codec in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{codec}.txt"
        bom = "\ufeff".encode(codec)
        path.write_bytes(bom + text.encode(codec))
        (doc,), _ = read_one(path, Options(unwrap=False))
        assert doc.meta["charset"] == "utf-16" and doc.text == text.replace("\r\n", "\n").strip("\n"), codec


@pytest.mark.parametrize("charset", ["cp1252", "latin-1"])
def test_western_european_books_keep_windows_1252(tmp_path: Path, charset: str) -> None:
    # è, à, ê, ò, ã differ between windows-1252 and the Central European charsets a guess could pick
    text = ("Il était évêque de Digne; à côté, l'église où il prêchait. Vivía un hidalgo de los de lanza en "
            "astillero, rocín flaco y galgo corredor. Nel mezzo del cammin di nostra vita, ché la diritta via "
            "era smarrita. Não sei se o leitor já reparou que a vida é uma ópera.\n")
    for n in (1, 20):
        path = tmp_path / f"w{n}.txt"
        path.write_bytes((text * n).encode(charset))
        (doc,), _ = read_one(path, Options(unwrap=False))
        assert doc.text == (text * n).strip("\n") and doc.meta["charset"] == "cp1252"


def test_a_latin9_book_reads_its_letters_and_euro_sign(shared_data: Path, tmp_path: Path) -> None:
    # dewiki's sample names people with š; in ISO-8859-15 that is 0xA8, which windows-1252 reads as ¨
    from pipeline.readers.base import Split
    from pipeline.readers.wikipedia import Options as WikiOptions, read as read_wiki

    dewiki = "\n\n".join(d.text for d in read_wiki(Split(str(shared_data / "wiki" / "dewiki-20170701-sample.xml")),
                                                  WikiOptions(), Tally()))
    text = dewiki.encode("iso8859_15", errors="ignore").decode("iso8859_15")
    assert "š" in text
    for body in (text, text[:3000] + " Eintritt 5 €.", "Eintritt 5 €, Kinder frei.\n" * 3):
        path = tmp_path / "latin9.txt"
        path.write_bytes(body.encode("iso8859_15"))
        (doc,), _ = read_one(path, Options(unwrap=False, strip_gutenberg=False))
        assert doc.meta["charset"] == "iso8859_15" and doc.text == body.replace("\r\n", "\n").strip("\n")


def test_zip_archives_of_books(shared_data: Path, tmp_path: Path) -> None:
    import zipfile

    raw = (shared_data / "books" / "the-verdict.txt").read_bytes()
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("b/second.txt", raw)
        archive.writestr("a/the-verdict.txt", raw)
        archive.writestr("cover.jpg", b"\xff\xd8 not text")
        archive.writestr("empty.txt", b"")
    docs, tally = read_one(path)
    (single,), _ = read_one(shared_data / "books" / "the-verdict.txt")
    assert [d.key for d in docs] == ["two.zip/a/the-verdict.txt", "two.zip/b/second.txt"]
    assert all(d.text == single.text for d in docs) and docs[0].title == "the verdict"
    assert docs[0].meta["origin"] == f"{path}!a/the-verdict.txt"
    assert tally.counts["books.zip_members_skipped"] == 1 and tally.counts["skipped.empty_file"] == 1
    assert tally.examples["empty_file"][0]["file"] == f"{path}!empty.txt"

    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"a" * (2 << 20))  # 2 MiB that deflate to a few KB
    docs, tally = read_one(big, Options(max_document_bytes=1 << 20))
    assert docs == [] and tally.counts["skipped.too_large"] == 1

    images = tmp_path / "images.zip"
    with zipfile.ZipFile(images, "w") as archive:
        archive.writestr("cover.jpg", b"\xff\xd8")
    docs, tally = read_one(images)
    assert docs == [] and tally.counts["skipped.no_text_member"] == 1

    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes()[:-200])  # the central directory cut off
    docs, tally = read_one(broken)
    assert docs == [] and tally.counts["skipped.corrupt_file"] == 1


def test_gutenberg_distribution_files(shared_data: Path, tmp_path: Path) -> None:
    """The names and shapes PG serves one book in: NNNN-0.txt (UTF-8, BOM), NNNN-8.txt (Latin-1, no BOM, with
    or without its "Character set encoding" line), NNNN.txt (ASCII), each also as a .zip of that one file,
    and the old e-text names (2city12.txt, 2CITY12.ZIP holding 2CITY12.TXT). Each is one book, in its
    charset, with the same text as the UTF-8 file."""
    import zipfile

    faust = (shared_data / "books" / "de-goethe-faust1-pg2229.txt").read_text(encoding="utf-8").lstrip("\ufeff")
    # what Latin-1 can hold (the 2020s licence's curly quotes and trade mark sign become "?"), as PG's -8 files
    faust = faust.encode("latin-1", errors="replace").decode("latin-1")
    assert "Character set encoding" not in faust  # a 2020s header: PG's -8 files of the 2000s declared it
    latin1 = faust.replace("Language: German\n", "Language: German\n\nCharacter set encoding: ISO-8859-1\n")
    assert latin1 != faust
    ascii_book = (shared_data / "books" / "gutenberg-972-the-devils-dictionary.txt").read_bytes()
    files = {"2229-0.txt": b"\xef\xbb\xbf" + latin1.encode("utf-8"), "2229-8.txt": latin1.encode("latin-1"),
             "22290-8.txt": faust.encode("latin-1"),
             "972.txt": ascii_book, "2city12.txt": ascii_book}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for name in ("2229-0.txt", "2229-8.txt", "972.txt"):
        with zipfile.ZipFile(tmp_path / name.replace(".txt", ".zip"), "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, files[name])
    with zipfile.ZipFile(tmp_path / "2CITY12.ZIP", "w") as archive:
        archive.writestr("2CITY12.TXT", ascii_book)
    (reference,), _ = read_one(tmp_path / "2229-0.txt")
    expected = {"2229-0.txt": "utf-8", "2229-0.zip": "utf-8", "2229-8.txt": "cp1252", "2229-8.zip": "cp1252",
                "22290-8.txt": "cp1252", "972.txt": "utf-8", "972.zip": "utf-8", "2city12.txt": "utf-8",
                "2CITY12.ZIP": "utf-8"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)
    for name, charset in expected.items():
        (doc,), tally = read_one(tmp_path / name)
        assert doc.meta["charset"] == charset, name  # cp1252: how browsers and decoders read ISO-8859-1
        assert tally.counts["books.gutenberg_stripped"] == 1 and "books.gutenberg_unmarked" not in tally.counts
        if name.startswith("2229"):
            assert doc.text == reference.text and doc.title == "Faust: Der Tragödie erster Teil", name
            assert doc.meta["language"] == "de"
        else:
            assert doc.title == "The Devil's Dictionary" and doc.text.startswith("THE DEVIL'S DICTIONARY"), name
        member = {"2229-0.zip": "/2229-0.txt", "2229-8.zip": "/2229-8.txt", "972.zip": "/972.txt",
                  "2CITY12.ZIP": "/2CITY12.TXT"}.get(name, "")
        assert doc.key == name + member


def test_an_iso_2022_kr_book_is_read_as_korean(tmp_path: Path) -> None:
    # 7-bit, so valid UTF-8 too; its "ESC $ )" designation made the ISO-2022-JP repair replace it
    text = ("대한민국은 동아시아의 한반도 남부에 있는 민주공화국이다. 수도는 서울특별시이며, 공용어는 한국어이다.\n"
            "한국의 역사는 고조선에서 시작되어 삼국 시대와 고려, 조선을 거쳐 오늘에 이른다.\n") * 20
    path = tmp_path / "korean.txt"
    path.write_bytes(text.encode("iso2022_kr"))
    (doc,), _ = read_one(path, Options(unwrap=False))
    assert doc.meta["charset"] == "iso2022_kr" and doc.text == text.strip("\n")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_books_without_a_bom(real_texts: dict[str, str], tmp_path: Path, codec: str) -> None:
    # chardet's tests/UTF-16BE/nobom-utf16be.txt and its three siblings (a CSV of prices, CRLF lines): NULs are
    # valid UTF-8, so they were read as UTF-8 with a NUL beside each letter, named utf-8, the NULs dropped by
    # the cleaner, every CRLF of the UTF-32 ones split into two line breaks, and the files flagged as
    # yielding "little" (their NULs counted as characters held). German prose keeps its umlauts (U+00xx:
    # NUL high bytes too), the Euro sign and a CJK name (not), in proportions the NULs still show.
    text = ("DateTime,Bid,Ask\r\n07/19/2015 21:00:15.469,1.083,1.08332\r\n"
            + real_texts["de"][:3000].replace("\r\n", "\n").replace("\n", "\r\n") + "\r\nPreis: 12 € (賈寶玉)\r\n")
    path = tmp_path / f"{codec}.txt"
    path.write_bytes(text.encode(codec))
    (doc,), tally = read_one(path, Options(unwrap=False, strip_gutenberg=False))
    assert doc.meta["charset"] == codec and doc.text == text.replace("\r\n", "\n").strip("\n"), doc.text[:200]
    assert tally.counts["chars_held"] == len(text.replace("\r\n", "\n"))


def test_utf8_text_with_a_few_nuls_stays_utf8(tmp_path: Path) -> None:
    # A stray NUL or two in a UTF-8 book is no UTF-16 pattern: the book stays UTF-8 (the cleaner drops them)
    text = "Ein Buch über Brücken.\x00 Noch ein Satz.\x00\n" * 40
    path = tmp_path / "nul.txt"
    path.write_bytes(text.encode("utf-8"))
    (doc,), _ = read_one(path, Options(unwrap=False))
    assert doc.meta["charset"] == "utf-8"
