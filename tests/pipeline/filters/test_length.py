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
