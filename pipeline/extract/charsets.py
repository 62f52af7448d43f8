"""Charset labels -> the Python codecs to try, in order, for text that claims or seems to be in them.

Why not the label's own Python codec alone: Python's ``shift_jis``, ``gbk``, ``big5`` and ``euc_kr`` are the
strict standards, while nearly every file or page so labelled was written by software using the vendor
superset (Windows code pages 932, 950 and 949; GB18030 contains GBK; Big5-HKSCS). One NEC numeral, one
GBK-only character or one Hong Kong character then fails the strict codec for the whole text, and the
text fell through to a Latin fallback: mojibake. Browsers decode these labels with the supersets (the
WHATWG Encoding Standard), and resiliparse's ``map_encoding_to_html5`` already folds the labels' aliases
onto the WHATWG names (``x-sjis``, ``windows-31j`` -> Shift_JIS, ``gb2312`` -> GBK, ``iso-8859-1`` and
``us-ascii`` -> windows-1252, ...). So each label's own codec is tried first (a text that decodes with it
decodes exactly as before) and its supersets after it.
"""

from __future__ import annotations

import codecs
import re
import threading
from typing import Callable, NamedTuple

# The strict Python codec (as resiliparse's mapping names it) -> supersets to try after it, in order.
SUPERSETS: dict[str, tuple[str, ...]] = {
    "shift_jis": ("cp932",),
    "euc_jp": ("euc_jis_2004",),
    "gbk": ("gb18030",),
    "gb2312": ("gbk", "gb18030"),
    "big5": ("cp950", "big5hkscs"),
    "euc_kr": ("cp949",),
}
MAX_REPLACED_SHARE = 1 / 1000  # bad bytes per byte, at most, for a damaged text to keep its charset


class Decoded(NamedTuple):
    """A text decoded from bytes, the codec it was read with, and the bytes no character came from (each run
    of them one U+FFFD in ``text``; counted by the readers as ``decode_replaced_bytes``)."""

    text: str
    charset: str
    replaced: int = 0


_ESCAPED = re.compile("[\udc80-\udcff]+")


# WHATWG labels that neither resiliparse's mapping nor Python's codec registry knows (resiliparse leaves
# x-mac-cyrillic out; Python calls it mac_cyrillic): a page served with one fell to detection.
ALIASES = {"x-mac-cyrillic": "mac_cyrillic", "x-mac-ukrainian": "mac_cyrillic"}


def decoders(label: str | None) -> list[str]:
    """The Python codecs to try for ``label`` (an HTTP/meta/header charset label or a detector's answer), the
    WHATWG reading of the label first, its supersets next, Python's own codec of that name last (where the
    WHATWG reading differs: ``iso-8859-1`` is windows-1252 first, and latin-1 where that fails on one of its
    five undefined bytes); [] for no label or one nobody knows.

    A label that is no WHATWG label but is a Python codec (uchardet's ``UHC``/``CP949``, ``IBM855``,
    ``MAC-CYRILLIC``, ``IBM852``, ``JOHAB``) is read with Python's codec: resiliparse maps such labels to
    UTF-8, which decoded every Korean page without a declared charset as windows-1252 mojibake."""
    if not label:
        return []
    from resiliparse.parse.encoding import map_encoding_to_html5  # a C module, imported where first needed

    label = label.strip()
    names = []
    for name in (map_encoding_to_html5(label, fallback_utf8=False), ALIASES.get(label.lower(), label)):
        try:
            name = codecs.lookup(name).name if name else None
        except LookupError:
            continue
        if name:
            names += [name, *SUPERSETS.get(name, ())]
    return list(dict.fromkeys(names))


# Byte-order marks, UTF-32's first (UTF-32LE's begins with UTF-16LE's)
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))


def utf16_32(data: bytes) -> Decoded | None:
    """``data`` as UTF-16 or UTF-32 where it starts with that byte-order mark and decodes whole (the mark
    dropped), else None. A browser reads a page so marked as UTF-16 whatever its header says (WHATWG "BOM
    sniffing"); read as UTF-8 or a legacy charset, every other byte is a NUL."""
    if data[:1] not in (b"\xff", b"\xfe", b"\x00"):
        return None
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec)
            except UnicodeDecodeError:
                return None
    return None


_NUL_SAMPLE = 4096  # bytes looked at for the NUL pattern of a text without a byte-order mark


def unmarked_utf16_32(data: bytes) -> Decoded | None:
    """``data`` as UTF-16 or UTF-32 without a byte-order mark, where its NUL bytes say which and it decodes
    whole, else None. For plain text only: an HTML page without a mark is left to its label (no WHATWG rule
    reads one so; ``decode_html``).

    Why: a text of Latin letters, digits and punctuation in UTF-16 is a NUL beside each byte, and NULs are
    valid UTF-8, so the file "decoded" as UTF-8 with a NUL between letters (the cleaner then dropped them,
    and a UTF-32 file's CR and LF, split by NULs, became two line breaks); its charset was named utf-8 and
    its characters held counted twice or four times. In UTF-32LE every fourth byte is NUL (no code point
    reaches it) and the third nearly always (the BMP); in UTF-16LE the odd bytes are NUL for each character
    below U+0100 and the even ones almost never; big-endian the other way round. Texts whose characters
    mostly lie above U+00FF (CJK in UTF-16) have no such NULs and are not told here."""
    sample = data[:_NUL_SAMPLE]
    if b"\x00" not in sample:
        return None
    n = len(sample) // 4 * 4
    if n < 16:
        return None
    zero = [sample[i:n:4].count(0) / (n // 4) for i in range(4)]
    odd, even = (zero[1] + zero[3]) / 2, (zero[0] + zero[2]) / 2
    if zero[3] > 0.99 and zero[2] > 0.9 and zero[0] < 0.1:
        codec = "utf-32-le"
    elif zero[0] > 0.99 and zero[1] > 0.9 and zero[3] < 0.1:
        codec = "utf-32-be"
    elif odd > 0.3 and even < 0.02:
        codec = "utf-16-le"
    elif even > 0.3 and odd < 0.02:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else Decoded(text, codec)


def widest(label: str | None) -> str | None:
    """The codec that decodes the most of what ``label`` may hold (its last superset), for a text that no
    codec of ``decoders(label)`` decodes whole: its few bad bytes are then replaced (``decode_replacing``)."""
    names = decoders(label)
    return (SUPERSETS.get(names[0], ())[-1:] or names[:1])[0] if names else None


def decode_strict(data: bytes, labels: list[str]) -> tuple[str, str] | None:
    """The first of ``labels``' codecs that decodes all of ``data``: (text, codec), else None."""
    for codec in dict.fromkeys(labels):
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def decode_replacing(data: bytes, codec: str) -> tuple[str, int]:
    """``data`` decoded with ``codec``, each run of bytes it cannot decode replaced by one U+FFFD; returns the
    text and the number of bytes replaced (what a caller counts: nothing is replaced silently)."""
    text = data.decode(codec, errors="surrogateescape")
    replaced = _escaped_bytes(text)
    return (_ESCAPED.sub("\ufffd", text) if replaced else text), replaced


def _escaped_bytes(text: str) -> int:
    """How many bytes ``errors="surrogateescape"`` kept in ``text`` as lone surrogates, counted in C: each is
    one byte under "surrogateescape" and none under "ignore" (a Python call per run cost more, on a page in
    the wrong charset, than decoding it)."""
    try:
        return len(text.encode("utf-8", "surrogateescape")) - len(text.encode("utf-8", "ignore"))
    except UnicodeEncodeError:  # a surrogate outside the escapes' range (no charset decoder makes one)
        return sum(map(len, _ESCAPED.findall(text)))


def iso2022_jp(data: bytes) -> tuple[str, int] | None:
    """``data`` as ISO-2022-JP where its escape sequences say so (7-bit text, so it is valid UTF-8 too and a
    UTF-8-first decoder would keep the escapes as text): (text, bytes replaced), else None.

    A file or page cut inside a two-byte character or an escape sequence (a truncated download) and a
    few damaged sequences (at most ``MAX_REPLACED_SHARE`` of the bytes, or one) keep the charset: the
    complete characters are decoded, each bad sequence and the cut tail become one U+FFFD, counted.
    Before, one cut byte made the strict decoder fail and the text fell to UTF-8 with its escapes."""
    if data.find(b"\x1b") < 0 or b"\x1b$" not in data or not data.isascii():  # memchr first: most pages have no ESC
        return None
    if b"\x1b$)C" in data:  # ISO-2022-KR's designation (``iso2022_kr``): ISO-2022-JP has no "ESC $ )"
        return None
    try:
        return data.decode("iso2022_jp"), 0
    except UnicodeDecodeError:
        pass
    bad: list[int] = []

    def replace(error: UnicodeDecodeError) -> tuple[str, int]:
        bad.append(error.end - error.start)
        return "\ufffd", error.end

    decoder = codecs.getincrementaldecoder("iso2022_jp")(_ERRORS)
    _counted.replace = replace
    try:
        text = decoder.decode(data, final=False)  # an unfinished last character stays pending, not an error
    finally:
        _counted.replace = None
    if len(bad) > max(1, len(data) * MAX_REPLACED_SHARE):
        return None
    cut = len(decoder.getstate()[0])
    return text + ("\ufffd" if cut else ""), sum(bad) + cut


def iso2022_kr(data: bytes) -> str | None:
    """``data`` as ISO-2022-KR where it designates KS X 1001 ("ESC $ ) C") and decodes whole, else None.

    Korean mail and early web text, 7-bit like ISO-2022-JP (so valid UTF-8 too): read as UTF-8 it kept its
    shift codes and came out as ASCII gibberish ("\x0e?*;g@{\x0f"). Browsers refuse this encoding (the WHATWG
    maps it to "replacement", against script injection through its escapes); a text extractor has no
    scripts to protect and gets the Korean text."""
    if data.find(b"\x1b") < 0 or b"\x1b$)C" not in data or not data.isascii():
        return None
    try:
        return data.decode("iso2022_kr")
    except UnicodeDecodeError:
        return None


class _Counted(threading.local):
    replace: Callable[[UnicodeDecodeError], tuple[str, int]] | None = None


# codecs' error handlers are global and named; this one hands each error to the calling thread's counter.
_counted = _Counted()
_ERRORS = "refinery.charsets.counted"
codecs.register_error(_ERRORS, lambda error: _counted.replace(error))  # type: ignore[misc]


def nearly_utf8(data: bytes) -> tuple[str, int] | None:
    """A UTF-8 text with a few damaged bytes (at most ``MAX_REPLACED_SHARE`` of them, and fewer than its valid
    multi-byte characters) as UTF-8 with those bytes replaced, and their count; else None. A text in a
    single-byte charset almost never forms valid UTF-8 multi-byte sequences, so this never takes one of
    those, while a guess from its bytes may call such a file windows-1252 and turn every accent into two
    characters."""
    escaped = data.decode("utf-8", errors="surrogateescape")
    replaced = _escaped_bytes(escaped)
    if replaced > len(data) * MAX_REPLACED_SHARE:  # before replacing: a legacy-charset page has thousands
        return None
    text = _ESCAPED.sub("\ufffd", escaped) if replaced else escaped
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # the U+FFFDs included
    if replaced <= len(data) * MAX_REPLACED_SHARE and non_ascii - replaced > replaced:
        return text, replaced
    return None


_WESTERN = ("cp1252", "latin-1", "iso8859-1")
_C1 = re.compile(rb"[\x80-\x9f]")
# Latin-9's letters where latin-1 has symbols (š ž Œ œ Ÿ at 0xA8 0xB8 0xBC 0xBD 0xBE; Š at 0xA6), inside a word
_LATIN9_BYTES = (b"\xa4", b"\xa6", b"\xa8", b"\xb8", b"\xbc", b"\xbd", b"\xbe")
_LATIN9_LETTER = re.compile(rb"(?<=[A-Za-z\xc0-\xff])[\xa6\xa8\xb8\xbc\xbd\xbe](?=[A-Za-z\xc0-\xff])")
# latin-1's own reading: ¼ ½ ¾ after a digit ("1½"), ´ as an apostrophe inside a word ("geht´s")
_LATIN1_SYMBOL = re.compile(rb"(?<=[0-9])[\xbc\xbd\xbe]|(?<=[a-z])\xb4(?=[a-z])")


def latin9(data: bytes, codec: str) -> str:
    """ISO-8859-15 (Latin-9) for a Western single-byte text whose bytes say so, else ``codec``.

    Latin-9 is latin-1 with the euro sign at 0xA4 and seven letters (Š š Ž ž Œ œ Ÿ) where latin-1 has
    symbols. Detectors name such a text windows-1252 or latin-1, which reads "cœur" as "c½ur" and 0xA4 as the
    generic currency sign ¤, which prose does not use. So a text with none of windows-1252's own bytes
    0x80-0x9F (its quotes, dashes and its euro sign at 0x80) is read as Latin-9 when its euro signs and
    in-word Latin-9 letters outnumber the bytes that read naturally as latin-1 symbols (½ after a digit, ´ as
    an apostrophe inside a word). Only for undeclared text: a declared label is honoured as browsers do."""
    if codec not in _WESTERN or not any(byte in data for byte in _LATIN9_BYTES) or _C1.search(data):
        return codec  # (a memchr per byte first: the lookbehind scans below cost ~1 ms a 50 kB web page)
    votes = data.count(b"\xa4") + len(_LATIN9_LETTER.findall(data))
    return "iso8859_15" if votes > len(_LATIN1_SYMBOL.findall(data)) else codec
