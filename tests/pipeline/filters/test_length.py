"""Length bounds: the default removes only documents with nothing to read."""

from __future__ import annotations

import numpy as np

from pipeline.filters.length import count_words
from tests.pipeline.filters.support import verdict


def test_default_removes_empty_and_whitespace_only():
    assert verdict("length", "") == ("length", "min_chars")
    assert verdict("length", " \n\t ") == ("length", "min_chars")
    assert verdict("length", "a") is None


def test_bounds_at_their_thresholds():
    assert verdict("length", "x" * 10, max_chars=10) is None
    assert verdict("length", "x" * 11, max_chars=10) == ("length", "max_chars")
    assert verdict("length", "one two three", min_words=3) is None
    assert verdict("length", "one two", min_words=3) == ("length", "min_words")
    assert verdict("length", "one two three", max_words=2) == ("length", "max_words")
    assert verdict("length", "abc  ", min_chars=3) is None
    assert verdict("length", "ab   ", min_chars=3) == ("length", "min_chars")


def test_word_count_of_huge_text_matches_split():
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("ab \n\t"), size=20_000))
    assert count_words(text) == len(text.split())


def _every_space() -> str:
    return "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_compiled_counts_equal_the_str_methods():
    """``_lines.length_counts`` against ``str.split()`` / ``str.count`` (and ``count_words`` in its ASCII
    mode): every Unicode space, the six ASCII ones, Han text in runs of four (the skipped UCS-2 blocks),
    astral and Latin-1 text, and the one-byte, two-byte and four-byte storage of str."""
    from pipeline.filters import length
    from tests.pipeline.filters.support import require_compiled

    require_compiled(length._lines, "_lines", "str.split() and str.count")
    spaces = _every_space()
    assert max(spaces) <= "\u3000"  # the premise of the compiled four-unit skip
    rng = np.random.default_rng(19)
    pieces = list(spaces) + ["a", "é", "中文中文", "中", "𝐀", "\x00", "\x1c", "\x85", "\xa0", "\u3000", "x" * 5]
    texts = ["", " ", "a", " a ", "中文中文中文中文", "中文中文 中文中文\u3000中", "\x85é\xa0", "𝐀 𝐀"]
    texts += ["".join(rng.choice(pieces, size=int(rng.integers(0, 50)))) for _ in range(3000)]
    for text in texts:
        ascii_words = count_words(text)
        assert length.python_length_counts(text) == (len(text) - sum(map(text.count, " \t\n\r\f\v")),
                                                    len(text.split()))
        assert length._lines.length_counts(text, True) == length.python_length_counts(text), repr(text)
        assert length._lines.length_counts(text, False)[1] == ascii_words, repr(text)
        assert length.length_counts(text) == length.python_length_counts(text)


def test_length_counts_above_a_million_characters_use_ascii_spaces():
    from pipeline.filters import length

    text = ("word\u3000word " * 100_001)[:1_000_001]
    assert len(text) > 1_000_000
    assert length.length_counts(text) == length.python_length_counts(text)
    assert length.length_counts(text)[1] == count_words(text) != len(text.split())
