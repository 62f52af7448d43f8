"""spaCy's special cases that hold a space ("и др.", "EE. UU.") merged across chunks as spaCy merges them.

Expected tokens are spaCy 3.8.7's blank tokenizers' (datatrove's word tokenizer for these languages), recorded
from the datatrove bench venv: the cases below by hand, ``tests/data/spacy/spaced_specials.json`` by
``bench/spaced_specials_check.py --fixture`` (texts built around every table's cases, with marks before and after
and other whitespace between their parts now and then).
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline.filters import words
from pipeline.filters.c4 import C4Options, scan
from pipeline.filters.affixes import MatchedTokens, affix_split, special_runs
from pipeline.filters.segment import affix_rules, affix_spaced_specials, affix_specials
from pipeline.filters.spaced_specials import ONE_SPACE, WHITESPACE, SpacedSpecial, one_space_gaps, spaced_specials
from pipeline.filters.words import split_words, tokenize, tokenize_by_line, tokenize_many
from tests.pipeline.filters.support import require_compiled

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "spacy" / "spaced_specials.json"

# (segmenter, text, spaCy's tokens), each checked in the datatrove venv's spaCy 3.8.7
CASES = [
    ("spacy-ru", "Пушкин, Толстой и др. писатели", ["Пушкин", ",", "Толстой", "и др.", "писатели"]),
    ("spacy-ru", "(и др.)", ["(", "и др.", ")"]),
    ("spacy-ru", "и  др.", ["и", "др", "."]),  # two spaces: spaCy puts a whitespace token between
    ("spacy-ru", "и\nдр.", ["и", "др", "."]),
    ("spacy-ru", "и\u00a0др.", ["и", "др", "."]),
    ("spacy-ru", "в т.ч. это", ["в т.ч.", "это"]),
    ("spacy-ru", "наст. время", ["наст.", "время"]),  # "наст." is a case alone: its pattern never matches
    ("spacy-ru", "зам. дир.", ["зам", ".", "дир."]),
    ("spacy-ru", "канд. физ.-мат. наук Иванов", ["канд. физ.-мат. наук", "Иванов"]),
    # the tokens of "тер. СНП" run together: its match covers them, so "тер." is not merged inside the chunk
    ("spacy-ru", "(тер.СНП»", ["(", "тер", ".", "СНП", "»"]),
    ("spacy-ru", "тер.СНП", ["тер", ".", "СНП"]),
    ("spacy-es", "los EE. UU. y", ["los", "EE. UU.", "y"]),
    ("spacy-es", "EE.UU.", ["EE.UU."]),
    ("spacy-mk", "(и др.)", ["(", "и", "др.", ")"]),  # Macedonian's "др." is a case of its own
    ("spacy-ms", "lihat 1 Kor. 3", ["lihat", "1 Kor.", "3"]),
    ("spacy-el", "Μ. Ασία και", ["Μ. Ασία", "και"]),
    ("spacy-ar", "ب. م نص (م. س)", ["ب. م", "نص", "(", "م. س", ")"]),
    ("spacy-ar", "ب.م", ["ب", ".", "م"]),
    ("spacy-bg", "Иван и др. хора", ["Иван", "и", "др.", "хора"]),  # Bulgarian's "др." is a case of its own
]


@pytest.mark.parametrize("segmenter, text, expected", CASES)
def test_spacys_tokens(segmenter, text, expected):
    assert split_words(text, segmenter) == expected


def fixture_cases() -> list[tuple[str, str, list[str]]]:
    stored = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [(segmenter, entry["text"], entry["tokens"]) for segmenter, entries in stored["texts"].items()
            for entry in entries]


def test_the_stored_texts_get_spacys_tokens():
    cases = fixture_cases()
    assert len(cases) >= 200 and {s for s, _, _ in cases} >= {"spacy-ru", "spacy-es", "spacy-mk", "spacy-ms"}
    merged = 0
    for segmenter, text, expected in cases:
        assert split_words(text, segmenter) == expected, text
        merged += sum(" " in token for token in expected)
    assert merged > 100  # the stored texts do hold merges


def test_the_stored_texts_through_tokenize_many_and_without_the_compiled_paths(monkeypatch):
    cases = [c for c in fixture_cases() if c[0] == "spacy-ru"]
    texts = [text for _, text, _ in cases]
    words.clear_cache()
    many = tokenize_many(texts, "spacy-ru")
    vocabulary = words._current("spacy-ru")
    assert [vocabulary.token_strings(t.ids) for t in many] == [expected for _, _, expected in cases]
    for t in many:  # the arrays agree with each other and with the chunks
        assert len(t.key) == len(t.length) == len(t.flags) == len(t.ids)
        assert np.array_equal(t.length, [len(s) for s in vocabulary.token_strings(t.ids)])
        counts = np.ones(len(t.ids)) if t.chunk_count is None else t.chunk_count
        assert counts.sum() == len(t.ids) and (t.chunks_per_line is None or t.chunks_per_line.sum() == len(counts))
    for compiled in ("_tokens", "_chunks"):
        monkeypatch.setattr(words, compiled, None)
        words.clear_cache()
        assert [split_words(text, "spacy-ru") for text in texts] == [expected for _, _, expected in cases]
    words.clear_cache()


def test_a_merged_token_counts_on_its_line_for_c4():
    text = "Толстой и др. писатели\nи др.\nочень длинная строка без точки"
    tokens = tokenize(text, "spacy-ru")
    strings = words._current("spacy-ru").token_strings(tokens.ids)
    assert strings[:4] == ["Толстой", "и др.", "писатели", "и др."]
    # "и др." counts as its first chunk's token: the chunks per line stay the text's
    assert tokens.chunks_per_line.tolist() == [len(line.split()) for line in text.splitlines()]
    assert tokens.lines(tokens.chunks_per_line.tolist()).tolist() == [0, 0, 0, 1, 2, 2, 2, 2, 2]
    # C4 with the merged tokens decides as it does counting each line's chunks itself
    assert (scan(text, C4Options(), Counter(), known_chunks_per_line=tokens.chunks_per_line, segmenter="spacy-ru",
                 tokens=tokens) == scan(text, C4Options(), Counter(), segmenter="spacy-ru"))
    by_line = tokenize_by_line(text, "spacy-ru")
    assert np.array_equal(by_line.ids, tokens.ids)


def test_the_tables_cases():
    ru = {case.key: case for case in affix_spaced_specials("spacy-ru")}
    assert len(ru) == 91
    assert ru["и др."] == SpacedSpecial("и др.", ("и", "др", "."), (ONE_SPACE, ""))
    assert ru["вед. науч. сотр."].pattern == ("вед", ".", "науч", ".", "сотр", ".")
    assert {case.key for case in affix_spaced_specials("spacy-es")} == {"EE. UU.", "Ee. Uu."}
    # Persian's ".ق " ends in a space: a span's text never does, in spaCy as here
    assert ".ق " in affix_specials("spacy-fa") and not affix_spaced_specials("spacy-fa")
    assert affix_spaced_specials("spacy-en") == affix_spaced_specials("whitespace") == ()


def test_spaced_specials_keeps_the_cases_a_span_can_spell():
    special = {"a b": ("a b",), " a": (" a",), "a  b": ("a  b",), "a\tb": ("a\tb",), "x.": ("x.",), "c. d": ("c. d",)}
    cases = spaced_specials(special, lambda part: tuple(re.findall(r"\w+|[^\w\s]", part)))
    assert cases == (SpacedSpecial("a b", ("a", "b"), (ONE_SPACE,)),
                     SpacedSpecial("c. d", ("c", ".", "d"), ("", ONE_SPACE)))


def test_special_runs_the_longest_then_earliest_and_a_dropped_match_still_covers():
    rules = affix_rules("spacy-ru")
    # "в т.ч." (3 tokens) against "т.ч" + "." inside a chunk: none of ru's own cases; the longest wins
    runs, matched = special_runs(["в", "т.ч", ".", "и", "др", "."], rules, [" ", "", " ", " ", ""])
    assert matched and runs == [(0, 3, ("в т.ч.",)), (3, 6, ("и др.",))]
    # a gap other than one space: no run crosses it
    assert special_runs(["и", "др", "."], rules, [None, ""]) == ([], False)
    # run together inside one chunk the tokens still match, but spell no case: matched, nothing replaced
    assert special_runs(["и", "др", "."], rules, ["", ""]) == ([], True)
    assert special_runs(["тер", ".", "СНП"], rules) == ([], True)
    # a chunk that loses two marks at once leaves a case's pieces, which the matcher merges (and marks)
    assert affix_split(",«наст.", rules, merge=False) == (",", "«", "наст", ".")
    assert affix_split(",«наст.", rules) == (",", "«", "наст.")
    assert type(affix_split(",«наст.", rules)) is MatchedTokens and type(affix_split("наст.", rules)) is tuple
    # ...and across chunks spaCy's matcher sees the pieces: "наст. время" wins as the longest
    assert split_words(",«наст. время", "spacy-ru") == [",", "«", "наст. время"]
    assert split_words("(наст. время)", "spacy-ru") == ["(", "наст.", "время", ")"]


def test_one_space_gaps_match_the_chunks_of_str_split():
    rng = random.Random(3)
    alphabet = ["a", "б", "中", "😀", " ", " ", "\n", "\t", "\u00a0", "\u3000", "\x1c", ".", "\ud800"]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        spans = [m.span() for m in re.finditer(r"\S+", text)]
        expected = [text[end:start] == " " for (_, end), (start, _) in zip(spans, spans[1:])]
        assert one_space_gaps(text).tolist() == expected, repr(text)
        assert len(spans) == len(text.split())


def test_the_whitespace_list_is_str_isspace():
    points = "".join(map(chr, range(sys.maxunicode + 1)))
    spaces = [i for i, c in enumerate(points) if c.isspace()]
    assert sorted(WHITESPACE.tolist()) == spaces


def test_pair_starts_equals_its_numpy_reference():
    require_compiled(words._tokens, "_tokens", "numpy fancy indexing")
    rng = np.random.default_rng(5)
    first = np.zeros(40, dtype=np.int32)
    second = np.zeros(30, dtype=np.int32)
    first[[3, 7, 11]] = [1, 2, 3]
    second[[4, 7, 29]] = [1, 2, 3]
    table = np.zeros((4, 4), dtype=np.uint8)
    table[1, 1] = table[2, 3] = table[3, 2] = 1
    for _ in range(50):
        ids = rng.integers(0, 60, size=rng.integers(0, 400)).astype(np.int64)
        got = np.frombuffer(words._tokens.pair_starts(ids, first, second, table, 4), dtype=np.int64)
        f = first[np.minimum(ids[:-1], len(first) - 1)] * (ids[:-1] < len(first))
        s = second[np.minimum(ids[1:], len(second) - 1)] * (ids[1:] < len(second))
        assert got.tolist() == np.flatnonzero(table[f, s]).tolist()
    with pytest.raises(ValueError, match="not rows of width"):
        words._tokens.pair_starts(np.zeros(2, np.int64), first, second, np.zeros(5, np.uint8), 4)
    bad = first.copy()
    bad[3] = 9
    with pytest.raises(ValueError, match="outside the"):
        words._tokens.pair_starts(np.array([3, 4], np.int64), bad, second, table, 4)
