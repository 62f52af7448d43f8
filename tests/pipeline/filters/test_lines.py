"""The compiled line counts (pipeline.filters._lines) equal the str methods and Counters they replace in
Gopher repetition, Gopher quality and FineWeb (and C4's line ends and ASCII view): on crafted texts with
every kind of line break and space, on Hypothesis texts, on the shared real documents, and for every code
point that could be a break or a space."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.filters import fineweb, gopher
from pipeline.filters.fineweb import python_line_counts
from pipeline.filters.gopher import python_quality_counts, python_repetition_counts
from tests.pipeline.filters.support import SHARED_DATA, real_documents, require_compiled

_lines = gopher._lines

# line breaks of every kind, spaces of every kind, bullets, ellipses, terminal marks, Han and astral text
_ALPHABET = st.sampled_from(list("ab. #-•…。！？，中文词\t ") + [
    "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
    "\u3000", "\xa0", "\u2003", "...", "....", "word", "line", "𠀀", "𝐀", "？\n", "- item\n", "• item\n"])
_TEXTS = st.lists(_ALPHABET, max_size=60).map("".join)
_CRAFTED = ["", " ", "\n", "\n\n", "\n\n\n", "a", "a\n", "\na", "a\n\nb", "a\n\n\nb", "a\n\n\n\n\nb",
            " \n a \n\n a \n", "x\r\ny\r\n", "x\ry\r", "...", "....", "......", "a...\n…\n-x\n•y",
            "  - a  \n\t• b...\u3000\n", "same\nsame\n\nsame\n\nsame", "中文。\n中文。\n\n中文。", "#\n#\n",
            "a\n\nb\n\na\n\nb", "a\n\n\nb\n\nb", "x\n\n\ny\n\n\ny\n\ny", "\n\n\na\n\n\n",
            "𠀀\n𠀀\n", "\x85a\x85a", "a\u2028a\u2029a"]


def _compiled() -> None:
    require_compiled(_lines, "_lines", "str methods and Counters")


def _same(text: str) -> None:
    ends = np.cumsum([len(line) for line in text.splitlines(keepends=True)], dtype=np.int64)
    assert np.frombuffer(_lines.line_ends(text), np.int64).tolist() == ends.tolist(), repr(text)
    assert _lines.repetition(text) == python_repetition_counts(text), repr(text)
    assert _lines.quality(text) == python_quality_counts(text), repr(text)
    for short in (1, 3, 30):
        assert _lines.fineweb(text, fineweb._TERMINAL_SORTED, short) == python_line_counts(text, short), repr(text)


def test_crafted_texts():
    _compiled()
    for text in _CRAFTED:
        _same(text)
        _same(text.encode("utf-8", "surrogatepass").decode("latin-1"))  # the same lines in one-byte storage


@settings(max_examples=600, deadline=None)
@given(_TEXTS)
def test_random_texts(text):
    _compiled()
    _same(text)


def test_real_documents():
    _compiled()
    docs = real_documents("commoncrawl") + real_documents("wikipedia")
    assert docs
    for doc in docs:
        _same(doc.text)
    zh = (SHARED_DATA / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
    pages = re.findall(r"<text[^>]*>(.*?)</text>", zh, re.S)
    assert len(pages) > 10
    for page in pages:
        _same(page)


def test_every_break_and_space():
    """Each code point alone between two lines, at a line's ends, and doubled: splitlines() and strip()
    decide which are breaks and spaces, the compiled scan must agree for all of them."""
    _compiled()
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if c.isspace() or c.splitlines() != [c] or cp < 0x100:
            for text in (f"a{c}b", f"{c}-x{c}\n{c}", f"{c}{c}", f"x...{c}\n{c}\n{c}"):
                _same(text)
    # the rest: one text holding each as a line of its own, beside a bullet and an ellipsis
    rest = "\n".join(f"-{chr(cp)}...{chr(cp)}" for cp in range(0x100, 0x110000, 7) if not 0xD800 <= cp <= 0xDFFF)
    _same(rest)
    # two-byte storage, where the scans pass over four units at once when none can matter: every code point
    # of the plane in runs beside ideographs, at each of the four alignments
    for shift in range(4):
        bmp = "中" * shift + "".join(f"{chr(cp) * 3}中中中{chr(cp)}文" for cp in range(0x100, 0x10000)
                                    if not 0xD800 <= cp <= 0xDFFF)
        _same(bmp)
        lowered = _lines.ascii_lower(bmp)
        assert lowered is None or lowered == bmp.encode("ascii", "replace").lower()


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from(["", "\u212a", "\u0130", "ABC Lorem", "Ä", "\u0130\u212a"]))
def test_c4_ascii_lower_equals_the_str_methods(text, extra):
    """C4's view of a text beyond ASCII for its ASCII phrases: compiled, and with str.encode and lower()."""
    _compiled()
    from pipeline.filters import c4

    for t in (text + extra, extra + text, text):
        if t.isascii():
            continue
        expected = t.lower() if any(c in t for c in c4._LOWER_TO_ASCII) else t.encode("ascii", "replace").lower()
        lowered = _lines.ascii_lower(t)
        assert (t.lower() if lowered is None else lowered) == expected, repr(t)


def test_terminal_marks_must_be_sorted():
    _compiled()
    with pytest.raises(ValueError):
        _lines.fineweb("a.\n", "?.", 30)


def test_the_filters_use_the_compiled_counts(monkeypatch):
    """The signals of the three filters are the same with and without ``_lines``."""
    _compiled()
    from tests.pipeline.filters.support import evaluate

    texts = list(_CRAFTED) + [d.text for d in real_documents("commoncrawl")[:20]]
    chain = {"gopher_repetition": {}, "gopher_quality": {}, "fineweb": {}}
    with_compiled = evaluate(chain, texts)[0].to_pylist()
    monkeypatch.setattr(gopher, "_lines", None)
    monkeypatch.setattr(fineweb, "_lines", None)
    assert evaluate(chain, texts)[0].to_pylist() == with_compiled


def test_c4_finds_the_same_special_lines_without_line_ends(monkeypatch):
    """C4's lines with a mark or phrase, found through the compiled line ends and through splitlines()."""
    _compiled()
    from pipeline.filters import c4
    from tests.pipeline.filters.support import evaluate

    texts = [t + "\n[1] {x}\r\nJavaScript\u2028lorem ipsum\n" + t for t in _CRAFTED]
    texts += [d.text for d in real_documents("commoncrawl")[:20]]
    with_compiled = evaluate({"c4": {}}, texts)
    monkeypatch.setattr(c4, "_lines", None)
    assert evaluate({"c4": {}}, texts) == with_compiled


# phrases in any case and cut by breaks, marks, long lines padded with every kind of space, and the two
# characters whose lower case is ASCII or two characters
_C4_PIECES = st.sampled_from(["Lorem Ipsum", "lorem ipsum", "lorem", " ipsum", "JavaScript", "javascript",
                              "Terms of Use", "uses cookies", "use of cookies", "use cookie", "privacy policy",
                              "cookie policy", "{", "[", "]", "}", "x" * 7, "a", " ", "\t", "\u3000", "\xa0", "\n",
                              "\r\n", "\r", "\x0b", "\x1c", "\x85", "\u2028", "中文中文", "é", "𝐀", "\u212a",
                              "\u0130", "\ud800"])
_C4_TEXTS = st.lists(_C4_PIECES, max_size=40).map("".join)


def _same_special_lines(text: str) -> None:
    from pipeline.filters import c4

    lines = list(map(str.strip, text.splitlines()))
    for longest in (None, 3, 8, 1000):
        for citations in (True, False):
            o = c4.C4Options(max_word_length=longest, remove_citations=citations)
            expected = c4.python_special_lines(text, lines, o)
            found = _lines.special_lines(text, "{[" if citations else "{", c4._PHRASES, -1 if longest is None
                                         else longest)
            assert found == expected, (repr(text), longest, citations)
            assert c4._special_lines(text, lines, o) == expected


# The Kelvin sign lowers to "k" and "İ" to "i" and a combining dot: the compiled scan reads them so, without a
# fallback to the str searches (a text with "İ" has every line special once a mark or phrase is found)
_LOWERED_BEYOND_ASCII = ["\u212a {", "\u0130\n{", "uses coo\u212aies\nplain line\n", "plain\nuses COO\u212aIES",
                         "cookie polic\u0130\nx", "\u0130 one\ntwo\nthree", "\u0130\nlorem ipsum\n\n",
                         "a\nJava\u0130cript\nb", "\u212a\u0130\u212a\nterms of use\r\nz", "x" * 9 + "\u0130\nshort\n",
                         "uses cookie\u212a\nuse cookies\u0130", "\u212a" * 3 + "\n" + "中文\u212a{" + "\n\u0130"]


def test_c4_special_lines_equal_the_str_searches_on_crafted_texts():
    _compiled()
    for text in _CRAFTED + ["Lorem\nIpsum lorem ipsum", "x\r\n{", "a" * 12 + "\r\n" + " " * 9 + "b" + "\u3000" * 9,
                            "use cookies\x85[1]\u2028javascript"] + _LOWERED_BEYOND_ASCII:
        _same_special_lines(text)


def _str_search_lines(text: str, marks: str, phrases: tuple[str, ...], longest: int) -> list[int]:
    """The special lines for any marks and phrases, by str searches over text and text.lower()
    (c4.python_special_lines with other phrases)."""
    lines = [line.strip() for line in text.splitlines()]
    found = [i for i, line in enumerate(lines) if 0 <= longest < len(line)]
    lower = text.lower()
    if not any(m in text for m in marks) and not any(p in lower for p in phrases):
        return found
    if len(lower) != len(text):
        return list(range(len(lines)))
    positions = [i for m in marks for i in range(len(text)) if text.startswith(m, i)]
    positions += [i for p in phrases for i in range(len(lower)) if lower.startswith(p, i)]
    ends = np.cumsum([len(line) for line in text.splitlines(keepends=True)])
    return sorted(set(found) | set(np.searchsorted(ends, positions, side="right").tolist()))


# phrases that end in "i" (which "İ" can end), start with "k" or "i", or are those letters alone
_OTHER_PHRASES = ("taxi", "kiwi", "k", "ski", "i", "ok")


def test_special_lines_match_dotted_i_only_at_a_phrases_end():
    """"İ" lowers to "i" and a dot: it ends "taxi" but cannot stand inside "kiwi" or start "ok"; the Kelvin
    sign is a "k" anywhere (expected values written out, then checked against the str searches)."""
    _compiled()
    cases = [("k\u0130wi\nb", ("kiwi",), []), ("tax\u0130\nb", ("taxi",), [0, 1]), ("\u212aiwi\nb", ("kiwi",), [0]),
             ("\u0130\nb", ("i",), [0, 1]), ("\u212a\nb\nk", ("k",), [0, 2]), ("\u0130k\nb", ("ik",), []),
             ("a\nO\u212a", ("ok",), [1]), ("a\n\u0130\n[", ("kiwi",), [0, 1, 2])]
    for text, phrases, expected in cases:
        assert _lines.special_lines(text, "[", phrases, -1) == expected, (repr(text), phrases)
        assert _str_search_lines(text, "[", phrases, -1) == expected, (repr(text), phrases)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["taxi", "TAX", "\u0130", "\u212a", "\u212aiwi", "kiw", "s\u212a\u0130", "sk",
                                 "wi", "o", "x", " ", "\n", "\r\n", "\u2028", "é", "中", "{", "[", "a" * 6]),
                max_size=30).map("".join))
def test_special_lines_read_the_kelvin_sign_and_dotted_i_as_lower_does(text):
    _compiled()
    for phrases in (_OTHER_PHRASES, _OTHER_PHRASES[:2], ("taxi", "ski")):
        for longest in (-1, 4):
            assert _lines.special_lines(text, "[", phrases, longest) == _str_search_lines(text, "[", phrases, longest), \
                (repr(text), phrases, longest)


@settings(max_examples=600, deadline=None)
@given(_C4_TEXTS)
def test_c4_special_lines_equal_the_str_searches_on_random_texts(text):
    _compiled()
    _same_special_lines(text)


def test_c4_special_lines_check_their_arguments():
    _compiled()
    with pytest.raises(ValueError):
        _lines.special_lines("a", "{", ("Upper",), -1)
    with pytest.raises(ValueError):
        _lines.special_lines("a", "{", ("",), -1)
    with pytest.raises(TypeError):
        _lines.special_lines("a", "{", ["list"], -1)
