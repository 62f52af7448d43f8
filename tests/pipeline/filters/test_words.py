"""The regex word splitter reproduces spaCy's English token boundaries on the cases that change counts.

Expected lists are spaCy 3.8's blank English tokenizer output (what datatrove's Gopher filters use),
recorded from bench/datatrove_decisions.py's virtualenv; bench/filter_agreement.py measures the
agreement on whole real pages (bench/README.md, Filters).
"""

from __future__ import annotations

import pytest

from pipeline.filters.words import TERMINAL_PUNCTUATION, has_alpha, is_symbol, split_words

CASES = [
    ("Hello, world. I don't know John's plans... It's 3.5% of $1,000 -- well-known e.g. 3rd",
     ["Hello", ",", "world", ".", "I", "do", "n't", "know", "John", "'s", "plans", "...", "It", "'s", "3.5",
      "%", "of", "$", "1,000", "--", "well", "-", "known", "e.g.", "3rd"]),
    ("at 10:30pm and 5pm on Nov. 5", ["at", "10:30pm", "and", "5", "pm", "on", "Nov.", "5"]),
    ("see archive.org and http://www.example.com/a?b=1. ok",
     ["see", "archive.org", "and", "http://www.example.com/a?b=1", ".", "ok"]),
    ("Mr. Smith vs. Inc. S. A. Plan A.", ["Mr.", "Smith", "vs.", "Inc.", "S.", "A.", "Plan", "A."]),
    ("cannot 2–3 end.Next 3-4 foo@bar.com", ["can", "not", "2–3", "end", ".", "Next", "3", "-", "4",
                                           "foo@bar.com"]),
    ('x.y.z "quoted" (paren)', ["x.y.z", '"', "quoted", '"', "(", "paren", ")"]),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_matches_spacy_boundaries(text, expected):
    assert split_words(text) == expected


def test_no_word_spans_whitespace():
    assert split_words("a\nb\tc  d") == ["a", "b", "c", "d"]
    assert split_words("") == [] and split_words(" \n ") == []


def test_token_classes():
    assert is_symbol("...") and is_symbol("#") and is_symbol("—") and not is_symbol("a1")
    assert has_alpha("x1") and not has_alpha("123")
    assert {".", "!", "?", "。", "؟"} <= set(TERMINAL_PUNCTUATION)
