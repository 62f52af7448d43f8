"""pipeline._clean (the compiled scans of pipeline.clean) against the regex path it replaces: the same
results on generated texts built from the characters the scans look at, and the same cleaned texts on
real extracted pages."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import clean


def _require_compiled() -> None:
    """`make test` builds pipeline._clean: under CI a missing build fails instead of testing the fallback twice."""
    if clean._clean is None:
        assert not os.environ.get("CI"), "pipeline._clean was not built: is a C compiler installed?"
        pytest.skip("pipeline._clean not built (no C compiler): the regex path is in use")


# Every character class the scans decide on, at its edges, in all three string widths.
ALPHABET = (" \t\n\r\x0b\x0c\xa0\x7f\x80\x9f\xa0\xbf\xc0\xc1\xc2\xc3\xe9\xf4\xf5\xff\u0152\u0178\u0192\u02c6\u02dc"
            "\u1680\u1fff\u2000\u200a\u200b\u2013\u2019\u201a\u201b\u2022\u2026\u2028\u202f\u205f\u20ac\u2122\u3000"
            "\u4e2d\U0001f600abcÃ©"
            "\x00\x08\x1f\x1f\xac\xad\xae\u200c\u2060\u2061\ufeff\ud7ff\ud800\udfff\ue000")  # remove_control's edges
texts = st.text(alphabet=ALPHABET, max_size=60)


_regex_whitespace = clean.regex_collapse_spaces


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_scans_equal_the_regexes(text: str) -> None:
    _require_compiled()
    assert clean._clean.mojibake_suspect(text) == bool(clean.MOJIBAKE_RE.search(text))
    for start in (0, 1, len(text) // 2, len(text)):
        match = clean.MOJIBAKE_RE.search(text, start)
        assert clean._clean.mojibake_at(text, start) == (match.start() if match else -1)
    spaced = clean._clean.space_separators(text)
    assert spaced == clean.SPACES_RE.sub(" ", text) and type(spaced) is str
    collapsed = clean._clean.collapse_spaces(text)
    assert collapsed == _regex_whitespace(text)
    assert hash(collapsed) == hash(_regex_whitespace(text))  # stored in the narrowest width, like any str
    removed = clean._clean.remove_control(text)
    assert removed == clean.CONTROL_RE.sub("", text)
    assert hash(removed) == hash(clean.CONTROL_RE.sub("", text))


@settings(max_examples=1000, deadline=None)
@given(texts)
def test_clean_text_same_with_and_without_the_scans(text: str) -> None:
    _require_compiled()
    counts = Counter()
    compiled = clean.clean_text(text, counts)
    module, clean._clean = clean._clean, None
    try:
        plain_counts = Counter()
        plain = clean.clean_text(text, plain_counts)
    finally:
        clean._clean = module
    assert compiled == plain and counts == plain_counts


def test_unchanged_text_is_the_same_object() -> None:
    _require_compiled()
    text = "a line\n\tindented\nCafé \u4e2d"
    assert clean._clean.collapse_spaces(text) is text and clean._clean.space_separators(text) is text
    assert clean._clean.remove_control(text) is text
    assert clean._clean.remove_control("a\u200bb\x00\n\tc\ud800") == "ab\n\tc"
    assert clean._clean.remove_control("\ufeffabc").isascii()  # narrowed once its only wide character is gone
    assert clean._clean.collapse_spaces("a  b\t\tc \n  d") == "a b c\n  d"
    assert clean._clean.space_separators("a\u3000b") == "a b" and clean._clean.space_separators("a\u3000b").isascii()
    with pytest.raises(TypeError):
        clean._clean.mojibake_suspect(b"bytes")


def test_real_pages_clean_alike(shared_data: Path) -> None:
    """Every HTML page of the shared WARCs, extracted, cleans to the same text and counts either way."""
    _require_compiled()
    from contracts.accounting import Tally
    from pipeline.readers.commoncrawl import READER, Options

    pages = []
    for path in sorted((shared_data / "web").glob("*.warc.gz")):
        if ".wet." in path.name or ".wat." in path.name:
            continue
        tally = Tally()
        for split in READER.plan(str(path), path.stat().st_size, Options()):
            pages += [d.text for d in READER.read(split, Options(), tally)]
    assert len(pages) > 150 and sum(not p.isascii() for p in pages) > 20
    for text in pages:
        counts = Counter()
        compiled = clean.clean_text(text, counts)
        module, clean._clean = clean._clean, None
        try:
            plain_counts = Counter()
            assert clean.clean_text(text, plain_counts) == compiled and counts == plain_counts
        finally:
            clean._clean = module
