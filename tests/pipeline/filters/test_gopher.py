"""Gopher quality and repetition rules (Rae et al. 2021, A.1.1 and table A1), each just inside and just
outside its published threshold."""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from pipeline.filters.base import Doc
from pipeline.filters import gopher
from pipeline.filters.gopher import (DUP_NGRAMS, STOP_WORDS, TOP_NGRAMS, GopherQualityFilter,
                                     GopherQualityOptions, GopherRepetitionOptions, duplicates,
                                     ngram_fractions, numpy_ngram_fractions, split_lines, split_paragraphs)
from pipeline.filters.words import has_alpha, is_symbol, split_words, tokenize
from tests.pipeline.filters.support import prose, real_documents, require_compiled, signal, verdict, word


def test_quality_defaults_are_the_papers():
    o = GopherQualityOptions()
    assert (o.min_words, o.max_words, o.min_mean_word_length, o.max_mean_word_length) == (50, 100_000, 3, 10)
    assert (o.max_hash_ratio, o.max_ellipsis_ratio, o.max_bullet_lines, o.max_ellipsis_lines) == (
        0.1, 0.1, 0.9, 0.3)
    assert (o.min_alpha_words, o.min_stop_words, o.stop_words) == (0.8, 2, STOP_WORDS)


def test_repetition_defaults_are_table_a1():
    o = GopherRepetitionOptions()
    assert (o.max_dup_line_frac, o.max_dup_para_frac, o.max_dup_line_char_frac, o.max_dup_para_char_frac) == (
        0.3, 0.3, 0.2, 0.2)
    assert o.max_top_ngram_char_frac == {2: 0.2, 3: 0.18, 4: 0.16}
    assert o.max_dup_ngram_char_frac == {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


def _lines(n: int, marked: int, mark_start: str = "", mark_end: str = "") -> str:
    out = []
    for i in range(n):
        line = prose(10, start=10 * i)
        out.append(f"{mark_start}{line}{mark_end}" if i < marked else line)
    return "\n".join(out)


def _with(tokens: str, count: int, words: int = 90) -> str:
    """``words`` words with ``count`` copies of ``tokens`` in the middle of the line."""
    ws = prose(words).split()
    return " ".join(ws[:2] + [tokens] * count + ws[2:])


QUALITY_CASES = [  # rule, text just inside (kept), text just outside (removed)
    ("min_words", prose(50), prose(49)),
    ("max_words", "the and " + "word " * 99_998, "the and " + "word " * 99_999),
    ("min_mean_word_length", "the and " + "ab " * 99 + "abcd " * 99, "the and " + "ab " * 100 + "abcd " * 98),
    ("max_mean_word_length", "the and " + "a" * 11 + " " + ("a" * 11 + " ") * 13 + ("b" * 10 + " ") * 84,
     "the and " + ("a" * 11 + " ") * 15 + ("b" * 10 + " ") * 83),
    ("max_hash_ratio", _with("#", 10), _with("#", 11)),
    ("max_ellipsis_ratio", _with("...", 10), _with("…", 11)),
    ("max_bullet_lines", _lines(100, 90, "- "), _lines(100, 91, "• ")),
    ("max_ellipsis_lines", _lines(100, 30, mark_end=" …"), _lines(100, 31, mark_end="...")),
    ("min_alpha_words", prose(80) + " 123" * 20, prose(80) + " 123" * 21),
    ("min_stop_words", prose(60), "the " + " ".join(word(i) for i in range(60))),
]


QUALITY_SIGNAL = {"min_words": "words", "max_words": "words", "min_mean_word_length": "mean_word_length",
                  "max_mean_word_length": "mean_word_length", "max_hash_ratio": "hash_ratio",
                  "max_ellipsis_ratio": "ellipsis_ratio", "max_bullet_lines": "bullet_lines",
                  "max_ellipsis_lines": "ellipsis_lines", "min_alpha_words": "alpha_words",
                  "min_stop_words": "stop_words"}


@pytest.mark.parametrize("rule, inside, outside", QUALITY_CASES, ids=[c[0] for c in QUALITY_CASES])
def test_quality_rule_at_its_threshold(rule, inside, outside):
    """Rae et al. (and datatrove) remove below a minimum and above a maximum: a document measuring
    exactly the paper's value is kept; one a word, a line or about 0.01 beyond it is removed."""
    limit = getattr(GopherQualityOptions(), rule)
    value_in = signal("gopher_quality", QUALITY_SIGNAL[rule], inside)
    value_out = signal("gopher_quality", QUALITY_SIGNAL[rule], outside)
    assert value_in == limit, (value_in, limit)
    step = 1 if rule in ("min_words", "max_words", "min_stop_words") else 0.0101
    beyond = limit - value_out if rule.startswith("min_") else value_out - limit
    assert 0 < beyond <= step, (value_out, limit)
    assert verdict("gopher_quality", inside) is None
    assert verdict("gopher_quality", outside) == ("gopher_quality", rule)


def test_quality_signals_are_exact():
    assert signal("gopher_quality", "words", prose(49)) == 49
    assert signal("gopher_quality", "mean_word_length", "the and " + "ab " * 49 + "abcd " * 49) == 3.0
    assert signal("gopher_quality", "alpha_words", prose(80) + " 123" * 20) == 0.8
    assert signal("gopher_quality", "hash_ratio", _with("#", 10)) == 0.1  # '#' tokens count as words
    assert signal("gopher_quality", "stop_words", "The the THE be") == 2  # case-sensitive, as in Gopher


REP_OFF = dict(max_dup_para_frac=None, max_dup_para_char_frac=None, max_dup_line_frac=None,
               max_dup_line_char_frac=None, max_top_ngram_char_frac={}, max_dup_ngram_char_frac={})
DEFAULT = GopherRepetitionOptions()


def _repeated(units: list[str], copies: int, total: int, sep: str) -> str:
    return sep.join(units[:total - copies] + [units[0]] * copies)


def filler(size: int, sep: str = " ", start: int = 0, last: str = "z") -> str:
    """Exactly ``size`` characters of distinct words joined by ``sep``: four-letter words, then one word
    of ``last`` letters whose length absorbs the remainder (so a text's length is set to the character)."""
    parts, used, i = [], 0, start
    while size - used > 10:
        parts.append(word(i))
        used, i = used + 4 + len(sep), i + 1
    assert size - used >= 1, size
    parts.append(last * (size - used))
    return sep.join(parts)


def smallest_exact(chars_per_copy: int, limit: float, first: int = 1) -> tuple[int, int]:
    """(copies, text length) with copies * chars_per_copy / length == limit exactly: the repeated
    characters are a multiple of the threshold's numerator. Correctly rounded division then gives the
    same double as the literal threshold, so the test compares with ``==``."""
    fraction = Fraction(str(limit))
    copies = first
    while (Fraction(copies * chars_per_copy) / fraction).denominator != 1:
        copies += 1
    return copies, int(Fraction(copies * chars_per_copy) / fraction)


def at_threshold(rule: str, inside: str, outside: str, limit: float, **options) -> None:
    """Rae et al. remove a document whose fraction *exceeds* the maximum (datatrove: ``value > limit``):
    ``inside`` measures exactly the threshold and is kept, ``outside`` lies above it by under 0.005 and
    is removed by this rule. A rule that decided at limit + 0.003 or at ``>=`` fails one of the two."""
    opts = {**REP_OFF, **options}
    key = rule.removeprefix("max_")
    value_in = signal("gopher_repetition", key, inside, **opts)
    value_out = signal("gopher_repetition", key, outside, **opts)
    assert value_in == limit, (value_in, limit)
    assert limit < value_out < limit + 0.005, (value_out, limit)
    assert verdict("gopher_repetition", inside, **opts) is None
    assert verdict("gopher_repetition", outside, **opts) == ("gopher_repetition", rule)


@pytest.mark.parametrize("sep, rule", [("\n", "max_dup_line_frac"), ("\n\n", "max_dup_para_frac")])
def test_duplicate_line_and_paragraph_fractions(sep, rule):
    """300 of 1,000 lines (paragraphs) repeat the first: exactly 0.3, kept; 301 are removed."""
    units = [word(i) for i in range(1000)]
    limit = getattr(DEFAULT, rule)
    at_threshold(rule, _repeated(units, 300, 1000, sep), _repeated(units, 301, 1000, sep), limit,
                 **{rule: limit})


@pytest.mark.parametrize("sep, rule", [("\n", "max_dup_line_char_frac"), ("\n\n", "max_dup_para_char_frac")])
def test_duplicate_character_fractions(sep, rule):
    """A line (paragraph) and its later copy; every character of the copy counts as duplicated."""
    unit = prose(20, start=5000)
    limit = getattr(DEFAULT, rule)
    copies, length = smallest_exact(len(unit), limit)

    def make(size: int) -> str:
        body = [unit] * (copies + 1)
        room = size - len(unit) * (copies + 1) - len(sep) * (copies + 1)
        return sep.join(body[:1] + [filler(room, sep)] + body[1:])

    assert len(make(length)) == length
    at_threshold(rule, make(length), make(length - 1), limit, **{rule: limit})


@pytest.mark.parametrize("n", sorted(TOP_NGRAMS))
def test_top_ngram_fraction(n):
    """``copies`` adjacent copies of an n-word phrase (4-letter words: 5n - 1 characters with its inner
    spaces, as Rae et al. count the top n-gram) and distinct filler words."""
    phrase = " ".join(word(9000 + j) for j in range(n))
    limit = TOP_NGRAMS[n]
    copies, length = smallest_exact(len(phrase), limit, first=2)

    def make(size: int) -> str:
        repeated = " ".join([phrase] * copies)
        return repeated + " " + filler(size - len(repeated) - 1)

    at_threshold(f"max_top_{n}_gram", make(length), make(length - 1), limit,
                 max_top_ngram_char_frac={n: limit})


@pytest.mark.parametrize("n", sorted(DUP_NGRAMS))
def test_duplicate_ngram_fraction(n):
    """An n-word phrase and ``copies`` later copies, each after a distinct word; every later copy counts
    its word characters (4n, spaces excluded, as in Rae et al.)."""
    phrase = " ".join(word(9000 + j) for j in range(n))
    limit = DUP_NGRAMS[n]
    copies, length = smallest_exact(4 * n, limit)

    def make(size: int) -> str:
        parts = [phrase]
        for j in range(copies):
            parts += [word(8000 + j), phrase]
        head = " ".join(parts)
        return head + " " + filler(size - len(head) - 1)

    at_threshold(f"max_dup_{n}_gram", make(length), make(length - 1), limit,
                 max_dup_ngram_char_frac={n: limit})


def test_ngram_fractions_follow_the_definitions():
    text = "a b a b a b c"
    fr = ngram_fractions(split_words(text), len(text))
    assert fr["top_2_gram"] == pytest.approx(len("a b") * 3 / len(text))  # "a b" occurs 3 times
    text = " ".join(["x1 x2 x3 x4 x5"] * 3)  # second and third copies repeat the first 5-gram
    fr = ngram_fractions(split_words(text), len(text))
    assert fr["dup_5_gram"] == pytest.approx(2 * len("x1x2x3x4x5") / len(text))


def test_unknown_ngram_size_is_rejected():
    with pytest.raises(ValueError, match=r"n-gram sizes \[11\]"):
        GopherRepetitionOptions(max_dup_ngram_char_frac={11: 0.1})


def _reference_fractions(words: list[str], n_chars: int) -> dict[str, float]:
    """Rae et al.'s definitions written directly with strings (slow, obviously right)."""
    out = {}
    for n in TOP_NGRAMS:
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        top = max(Counter(grams).items(), key=lambda kv: kv[1]) if grams else ("", 0)
        out[f"top_{n}_gram"] = len(top[0]) * top[1] / n_chars
    for n in DUP_NGRAMS:
        seen, i, repeated = set(), 0, 0
        while i < len(words) - n + 1:
            gram = tuple(words[i:i + n])
            if gram in seen:
                repeated, i = repeated + sum(map(len, gram)), i + n
            else:
                seen.add(gram)
                i += 1
        out[f"dup_{n}_gram"] = repeated / n_chars
    return out


def test_hashed_ngram_fractions_equal_the_definition_on_real_pages():
    for doc in real_documents("commoncrawl"):
        tokens = split_words(doc.text)
        assert ngram_fractions(tokens, len(doc.text)) == pytest.approx(
            _reference_fractions(tokens, len(doc.text)), abs=1e-12), doc.key


def test_the_compiled_extension_is_built_under_ci():
    require_compiled(gopher._compiled, "_ngrams", "the numpy path")


@pytest.mark.skipif(gopher._compiled is None,
                    reason="pipeline.filters._ngrams not built (no C compiler): only the numpy path can be tested")
def test_compiled_ngram_fractions_equal_numpy_bit_for_bit():
    docs = real_documents("commoncrawl")
    assert docs
    for doc in docs:
        t = tokenize(doc.text)
        assert gopher.hashed_ngram_fractions(t.key, t.length, len(doc.text)) == numpy_ngram_fractions(
            t.key, t.length, len(doc.text)), doc.key
    rng = np.random.default_rng(7)  # small vocabularies: many repeats, ties and overlapping n-grams
    for _ in range(2000):
        size, vocab = int(rng.integers(0, 60)), int(rng.integers(1, 6))
        keys = rng.integers(0, vocab, size).astype(np.uint64) * np.uint64(0x9E3779B1)
        lengths = rng.integers(1, 6, size).astype(np.int64)
        n_chars = int(lengths.sum()) + size
        assert gopher.hashed_ngram_fractions(keys, lengths, n_chars) == numpy_ngram_fractions(
            keys, lengths, n_chars), (keys, lengths)

    # wider vocabularies: texts whose 2- or 3-grams never repeat, where the compiled 3- and 4-gram passes
    # visit no position (their top fractions are then the first n-gram's, once)
    for _ in range(2000):
        size, vocab = int(rng.integers(0, 40)), int(rng.integers(6, 60))
        keys = rng.integers(0, vocab, size).astype(np.uint64) * np.uint64(0x9E3779B1)
        lengths = rng.integers(1, 6, size).astype(np.int64)
        n_chars = int(lengths.sum()) + size
        assert gopher.hashed_ngram_fractions(keys, lengths, n_chars) == numpy_ngram_fractions(
            keys, lengths, n_chars), (keys, lengths)


def test_compiled_ngram_fractions_do_not_depend_on_the_calls_before():
    """The compiled table is kept from one call to the next (a new epoch per call, not zeroed) up to 2^15
    slots and freed above: the same results, equal to numpy, whatever size the previous call had."""
    require_compiled(gopher._compiled, "_ngrams", "the numpy n-gram path")
    rng = np.random.default_rng(13)
    inputs = []
    for size in (40_000, 7, 3_000, 20_000, 0, 2, 60_000, 500, 16_383, 16_384, 5):  # around the kept limit
        keys = rng.integers(0, 50, size).astype(np.uint64) * np.uint64(0x9E3779B1)
        lengths = rng.integers(1, 6, size).astype(np.int64)
        inputs.append((keys, lengths, int(lengths.sum()) + size))
    expected = [numpy_ngram_fractions(*args) for args in inputs]
    for _ in range(2):
        for args, values in zip(inputs, expected):
            assert gopher.hashed_ngram_fractions(*args) == values
    for args, values in zip(inputs[::-1], expected[::-1]):
        assert gopher.hashed_ngram_fractions(*args) == values


def test_compiled_ngram_fractions_equal_numpy_on_chinese():
    """Chinese has about 2.7x English's tokens per character and other repeat patterns (the 3- and 4-gram
    passes visit only the positions whose shorter n-gram repeats): every zhwiki article, and its first
    paragraphs alone."""
    require_compiled(gopher._compiled, "_ngrams", "the numpy n-gram path")
    from tests.pipeline.filters.support import SHARED_DATA
    from pipeline.filters.segment import JIEBA

    text = (SHARED_DATA / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
    pages = re.findall(r"<text[^>]*>(.*?)</text>", text, re.S)
    assert len(pages) > 10
    for page in pages:
        for part in (page, page[:300], page[:60]):
            t = tokenize(part, JIEBA)
            assert gopher.hashed_ngram_fractions(t.key, t.length, len(part)) == numpy_ngram_fractions(
                t.key, t.length, len(part))


def _reference_duplicates(items: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        seen.add(item)
    return count, chars


def test_line_and_paragraph_splits_equal_the_regex_splits():
    texts = ["", "\n", "a", "a\n\nb", "\n\na\n\n\nb\n\n\n\n\nc\n", "x\r\n\r\ny\n\n \n\nz"]
    texts += [doc.text for doc in real_documents("commoncrawl")]
    for text in texts:
        assert split_lines(text) == re.split(r"\n+", text)
        assert split_paragraphs(text.strip()) == re.split(r"\n{2,}", text.strip())
        lines = text.split("\n")
        assert duplicates(lines) == _reference_duplicates(lines)


def _quality_reference(text: str) -> dict[str, float | int]:
    """Gopher quality's signals from their definitions over the word strings."""
    tokens = Counter(split_words(text))
    n_tokens = sum(tokens.values()) or 1
    words = {w: c for w, c in tokens.items() if not is_symbol(w)}
    n_words = sum(words.values())
    lines = text.splitlines() or [""]
    return {
        "words": n_words,
        "mean_word_length": sum(len(w) * c for w, c in words.items()) / n_words if n_words else 0.0,
        "hash_ratio": text.count("#") / n_tokens,
        "ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens,
        "bullet_lines": sum(ln.lstrip().startswith(("•", "-")) for ln in lines) / len(lines),
        "ellipsis_lines": sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / len(lines),
        "alpha_words": sum(c for w, c in tokens.items() if has_alpha(w)) / n_tokens,
        "stop_words": sum(1 for w in set(STOP_WORDS) if w in tokens),
    }


def test_quality_signals_equal_a_counter_of_the_words_on_real_pages():
    """The array version of the quality signals against the definitions over the word strings."""
    flt = GopherQualityFilter(GopherQualityOptions())
    for doc in real_documents("commoncrawl"):
        assert flt.signal(Doc(doc.text)) == _quality_reference(doc.text), doc.key


def test_quality_columns_of_a_batch_equal_the_definitions():
    """``compute`` (columns from per-document tuples, issue 13 doc33) gives each signal's column in document
    order, every column its own signal's values, and empty columns for no documents."""
    flt = GopherQualityFilter(GopherQualityOptions())
    texts = [d.text for d in real_documents("commoncrawl")] + ["", "# a ... b\n- c…", "the be to of"]
    got = flt.compute([Doc(t) for t in texts])
    expected = [_quality_reference(t) for t in texts]
    assert list(got) == list(GopherQualityFilter.SIGNALS)
    for key in GopherQualityFilter.SIGNALS:
        assert got[key] == [e[key] for e in expected], key
    assert len({tuple(column) for column in got.values()}) == len(got)  # no column repeated under two names
    assert flt.compute([]) == {key: [] for key in GopherQualityFilter.SIGNALS}


def test_stop_words_counted_from_strings_after_the_vocabulary_was_renewed():
    # tokens made before a vocabulary renewal cannot be compared by id: the filter falls back to strings
    from pipeline.filters import words

    text = prose(80) + " the cat and the dog with a hat"
    flt = GopherQualityFilter(GopherQualityOptions())
    expected = flt.signal(Doc(text))["stop_words"]
    stale = Doc(text)
    assert stale.tokens is not None
    words.clear_cache()
    assert stale.tokens.count_present(STOP_WORDS) is None
    assert flt.signal(stale)["stop_words"] == expected >= 3
