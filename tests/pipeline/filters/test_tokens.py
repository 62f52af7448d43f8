"""The compiled per-token passes (pipeline.filters._tokens) give what the numpy path gives: the token arrays
of a text, Gopher quality's counts, and C4's words, tokens and sentences per line; C4's deferred tokens
equal the eager ones, and the per-line shortcuts of C4 and FineWeb equal the str methods they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.filters import c4, fineweb, words
from pipeline.filters.c4 import count_sentences
from pipeline.filters.segment import JIEBA, WHITESPACE
from pipeline.filters.words import (ALPHA, MARK, PUNCT, SYMBOL, TERMINAL, TERMINAL_PUNCTUATION, sentences_per_line,
                                    split_words, tokenize)
from tests.pipeline.filters.support import require_compiled
from tests.pipeline.filters.test_words import EDGE_TEXTS

# words, punctuation (terminal and not), Han text, line breaks of every kind, spaces of every kind
_ALPHABET = st.sampled_from(list("ab Zé.,!?;:-'\"()…。！？，、；「」中文词语北京大学数学研究学科")
                            + ["\n", "\r\n", "\r", "\x0b", "\u2028", "\u3000", "\xa0", "\t", "...", "U.S.",
                               "don't", "3.5", "#", "•", "K", "\u212a", "\u0130", "İ", "JavaScript",
                               "Cookie Policy", "lorem IPSUM", "[1]", "{"])
_TEXTS = st.lists(_ALPHABET, max_size=80).map("".join)


def _compiled() -> None:
    require_compiled(words._tokens, "_tokens", "numpy fancy indexing and masks")


def _numpy_tokens(monkeypatch: pytest.MonkeyPatch, texts: list[str], segmenter: str) -> list[words.Tokens]:
    with monkeypatch.context() as patch:
        patch.setattr(words, "_tokens", None)
        words.clear_cache()
        return [tokenize(t, segmenter) for t in texts]


def _same_tokens(a: words.Tokens, b: words.Tokens) -> None:
    for name in ("key", "length", "flags", "ids"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert (a.chunk_count is None) == (b.chunk_count is None)
    if a.chunk_count is not None:
        assert a.chunk_count.dtype == b.chunk_count.dtype and np.array_equal(a.chunk_count, b.chunk_count)


def test_the_compiled_token_passes_are_built_under_ci():
    _compiled()


@pytest.mark.parametrize("lang", ["en", "de", "zh"])
def test_compiled_token_arrays_equal_numpy_on_real_documents(monkeypatch, lang):
    from pipeline.filters.lang_params import segmenter_of
    from tests.pipeline.filters.support import real_documents
    from tests.pipeline.filters.test_multilingual import documents

    _compiled()
    segmenter = segmenter_of(lang)
    docs = real_documents("commoncrawl")[:40] if lang == "en" else documents(f"{lang}wiki")[:12]
    texts = EDGE_TEXTS + [d.text for d in docs]
    words.clear_cache()
    compiled = [tokenize(t, segmenter) for t in texts]
    for a, b in zip(compiled, _numpy_tokens(monkeypatch, texts, segmenter)):
        _same_tokens(a, b)
    words.clear_cache()


def _numpy_word_stats(tokens: words.Tokens) -> tuple[int, int, int]:
    is_word = (tokens.flags & SYMBOL) == 0
    return (int(np.count_nonzero(is_word)), int(tokens.length[is_word].sum()),
            int(np.count_nonzero(tokens.flags & ALPHA)))


def _numpy_line_stats(tokens: words.Tokens) -> tuple[list[int], list[int], list[int]]:
    n_lines = len(tokens.chunks_per_line)
    line = np.repeat(np.arange(n_lines), tokens.chunks_per_line)
    if tokens.chunk_count is not None:
        line = np.repeat(line, tokens.chunk_count)
    is_word = (tokens.flags & MARK) == 0  # C4's words of a line: not marks
    return (np.bincount(line[is_word], minlength=n_lines).tolist(), np.bincount(line, minlength=n_lines).tolist(),
            sentences_per_line(tokens, line, n_lines).tolist())


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from([WHITESPACE, JIEBA]))
def test_compiled_passes_equal_numpy_on_random_text(text, segmenter):
    _compiled()
    words.clear_cache()
    tokens = tokenize(text, segmenter)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(words, "_tokens", None)
        words.clear_cache()
        reference = tokenize(text, segmenter)
        expected_stats = reference.word_stats()
    _same_tokens(tokens, reference)
    assert tokens.word_stats() == expected_stats == _numpy_word_stats(tokens)
    stats = tokens.line_stats()
    assert [s.tolist() for s in stats] == list(_numpy_line_stats(tokens))
    # and the sentences are c4.count_sentences of each line's tokens
    assert stats[2].tolist() == [count_sentences(split_words(ln, segmenter)) for ln in text.splitlines()]
    words.clear_cache()


def test_line_stats_refuse_counts_that_do_not_add_up():
    _compiled()
    flags = np.zeros(3, np.uint8)
    with pytest.raises(ValueError):
        words._tokens.line_stats(flags, None, np.array([1, 1], np.int64), SYMBOL, TERMINAL, PUNCT)
    with pytest.raises(ValueError):
        words._tokens.line_stats(flags, np.array([2, 2], np.int64), np.array([2], np.int64), SYMBOL, TERMINAL, PUNCT)
    with pytest.raises(ValueError):
        words._tokens.line_stats(flags, np.array([4, -1], np.int64), np.array([2], np.int64), SYMBOL, TERMINAL, PUNCT)
    out = words._tokens.line_stats(flags, np.array([2, 1], np.int64), np.array([0, 2, 0], np.int64), SYMBOL,
                                   TERMINAL, PUNCT)
    assert [np.frombuffer(o, np.int64).tolist() for o in out] == [[0, 3, 0], [0, 3, 0], [1, 1, 1]]


@pytest.mark.parametrize("segmenter", [WHITESPACE, JIEBA])
def test_batch_token_arrays_have_the_numpy_paths_types_and_values(monkeypatch, segmenter):
    """``tokenize_many``'s arrays (``_expand``: ``np.frombuffer`` with dtype objects made once) are the numpy
    path's, type and values, the tokens per chunk and chunks per line included (issue 13, doc33)."""
    _compiled()
    texts = EDGE_TEXTS + ["北京大学的数学研究。\n中文 词语，学科！", "The end. Really?\nYes...\n\nno"]
    words.clear_cache()
    compiled = words.tokenize_many(texts, segmenter)
    reference = _numpy_tokens(monkeypatch, texts, segmenter)
    for a, b in zip(compiled, reference):
        _same_tokens(a, b)
        assert a.key.dtype == np.uint64 and a.length.dtype == a.ids.dtype == np.int64 and a.flags.dtype == np.uint8
        assert a.chunks_per_line.dtype == np.int64
        assert a.chunks_per_line.tolist() == np.asarray(b.chunks_per_line).tolist()
        if a.chunk_count is not None:
            assert a.chunk_count.dtype == np.int64
    assert any(t.chunk_count is not None for t in compiled)  # a chunk of several tokens: its counts compared
    words.clear_cache()


def test_expand_refuses_ids_outside_the_columns():
    _compiled()
    first, count, flat = (np.array(v, np.int32) for v in ([0, 1], [1, 2], [0, 1, 0]))
    key, length, flags = np.array([7, 8], np.int64), np.array([1, 2], np.int64), np.array([0, 2], np.uint8)
    ids, k, ln, fl, per_chunk = words._tokens.expand(np.array([1, 0], np.int64), first, count, flat, key, length,
                                                      flags)
    assert np.frombuffer(ids, np.int64).tolist() == [1, 0, 0]
    assert np.frombuffer(k, np.int64).tolist() == [8, 7, 7]
    assert np.frombuffer(per_chunk, np.int64).tolist() == [2, 1]
    assert words._tokens.expand(np.array([0], np.int64), first, count, flat, key, length, flags)[4] is None
    assert np.frombuffer(words._tokens.expand(np.array([], np.int64), first, count, flat, key, length, flags)[4],
                         np.int64).tolist() == []  # no chunk: per-chunk counts (empty), as numpy's path
    with pytest.raises(IndexError):
        words._tokens.expand(np.array([2], np.int64), first, count, flat, key, length, flags)
    with pytest.raises(IndexError):  # a token id beyond the token columns
        words._tokens.expand(np.array([0], np.int64), first, count, np.array([5, 1, 0], np.int32), key, length,
                             flags)
    with pytest.raises(ValueError):
        words._tokens.expand(np.array([0], np.int64), first, count[:1], flat, key, length, flags)


def _columns(segmenter: str) -> dict[str, list[int]]:
    vocabulary = words._vocabularies[segmenter]
    return {name: getattr(vocabulary, name).data[:getattr(vocabulary, name).size].tolist()
            for name in ("flat", "chunk_first", "chunk_count", "key", "length", "flags")}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compiled_bookkeeping_fills_the_vocabulary_columns_as_numpy(monkeypatch, lang):
    """``_tokens.add_chunks`` and ``add_tokens`` (with the keys they compute) leave the vocabulary's columns as the
    numpy path does, document after document, past the columns' first growth (4,096 items)."""
    from pipeline.filters.lang_params import segmenter_of
    from tests.pipeline.filters.support import real_documents
    from tests.pipeline.filters.test_multilingual import documents

    _compiled()
    segmenter = segmenter_of(lang)
    docs = real_documents("commoncrawl")[:40] if lang == "en" else documents(f"{lang}wiki")[:12]
    texts = EDGE_TEXTS + [d.text for d in docs]
    words.clear_cache()
    for t in texts:
        tokenize(t, segmenter)
    compiled = _columns(segmenter)
    _numpy_tokens(monkeypatch, texts, segmenter)
    assert _columns(segmenter) == compiled
    assert len(compiled["key"]) > 4096 and len(compiled["flat"]) > 4096
    assert compiled["key"] == words.token_keys(np.arange(len(compiled["key"]))).tolist()
    assert set(compiled["flags"]) - {ALPHA} and ALPHA in compiled["flags"]  # both kinds of new token were met
    words.clear_cache()


def test_add_chunks_and_add_tokens_write_after_the_filled_items():
    _compiled()
    flat, first, count = np.full(6, -1, np.int32), np.full(4, -1, np.int32), np.full(4, -1, np.int32)
    ids, per_chunk = np.array([4, 2, 9], np.int64).tobytes(), np.array([2, 0, 1], np.int64).tobytes()
    assert words._tokens.add_chunks(flat, first, count, 2, 1, ids, per_chunk) is None
    assert flat.tolist() == [-1, -1, 4, 2, 9, -1]
    assert first.tolist() == [-1, 2, 4, 4] and count.tolist() == [-1, 2, 0, 1]
    length, flags = np.full(5, -1, np.int64), np.full(5, 99, np.uint8)
    key = np.full(5, -1, np.int64)
    others = words._tokens.add_tokens(key, length, flags, 1, np.array([3, 1, 2], np.int64).tobytes(),
                                      bytes([1, 0, 0]), ALPHA)
    assert np.frombuffer(others, np.int64).tolist() == [2, 3]  # ids of the tokens not all letters
    assert length.tolist() == [-1, 3, 1, 2, -1] and flags.tolist() == [99, ALPHA, 0, 0, 99]
    assert key.tolist() == [-1, *words.token_keys(np.arange(1, 4)).tolist(), -1]
    ids = np.array([0, 1, 2**20 + 12345], np.int64)  # the compiled keys are token_keys, also far from 0
    keys = [np.empty(int(i) + 1, np.int64) for i in ids]
    for i, k in zip(ids, keys):
        words._tokens.add_tokens(k, np.empty(int(i) + 1, np.int64), np.empty(int(i) + 1, np.uint8), int(i),
                                 np.zeros(1, np.int64).tobytes(), bytes(1), ALPHA)
    assert [int(k[-1]) for k in keys] == words.token_keys(ids).tolist()


def test_add_chunks_and_add_tokens_refuse_what_does_not_fit():
    _compiled()
    flat, first, count = np.zeros(4, np.int32), np.zeros(2, np.int32), np.zeros(2, np.int32)
    one = np.array([1], np.int64).tobytes()
    add = words._tokens.add_chunks
    with pytest.raises(ValueError):  # no room after the filled items
        add(flat, first, count, 4, 0, one, one)
    with pytest.raises(ValueError):
        add(flat, first, count, 0, 2, one, one)
    with pytest.raises(ValueError):  # tokens per chunk that do not add up to the ids
        add(flat, first, count, 0, 0, one, np.array([2], np.int64).tobytes())
    with pytest.raises(ValueError):
        add(flat, first, count, 0, 0, np.array([1, 2], np.int64).tobytes(), np.array([3, -1], np.int64).tobytes())
    with pytest.raises(ValueError):  # an id beyond int32
        add(flat, first, count, 0, 0, np.array([2**31], np.int64).tobytes(), one)
    with pytest.raises(ValueError):  # places beyond int32
        add(flat, first, count, 2**31 - 1, 0, one, one)
    with pytest.raises(BufferError):  # a read-only column
        add(bytes(16), first, count, 0, 0, one, one)
    with pytest.raises(ValueError):  # an int32 column of the wrong item size
        add(np.zeros(3, np.int16), first, count, 0, 0, one, one)
    assert flat.tolist() == [0] * 4 and first.tolist() == [0] * 2  # nothing written by a refused call
    add = words._tokens.add_tokens
    with pytest.raises(ValueError):  # no room
        add(np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(2, np.uint8), 1, one, bytes(1), ALPHA)
    with pytest.raises(ValueError):
        add(np.zeros(1, np.int64), np.zeros(2, np.int64), np.zeros(2, np.uint8), 1, one, bytes(1), ALPHA)
    with pytest.raises(ValueError):  # not one letter byte per length
        add(np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros(2, np.uint8), 0, one, bytes(2), ALPHA)



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compiled_count_present_equals_numpy_and_the_string_count(lang):
    """``Tokens.count_present`` through ``_tokens.count_present`` gives the numpy path's count and the count of
    the listed words among the text's token strings, for lists of frequent, rare and absent words, on deferred
    (C4's) and eager tokens, document after document in one vocabulary."""
    from collections import Counter

    from pipeline.filters.lang_params import segmenter_of
    from tests.pipeline.filters.support import real_documents
    from tests.pipeline.filters.test_multilingual import documents

    _compiled()
    segmenter = segmenter_of(lang)
    docs = real_documents("commoncrawl")[:30] if lang == "en" else documents(f"{lang}wiki")[:12]
    texts = EDGE_TEXTS + [d.text for d in docs]
    counts = Counter(w for t in texts for w in split_words(t, segmenter))
    ranked = [w for w, _ in counts.most_common()]
    lists = [tuple(ranked[:50]), tuple(ranked[::7][:300]) + ("absent-word", "不存在的词"), tuple(ranked[-40:]),
             ("none",)]
    words.clear_cache()
    checked = 0
    for text in texts:
        tokens = tokenize(text, segmenter)
        strings = set(split_words(text, segmenter))
        line = np.zeros(len(tokens), np.int64)
        for stop in lists:
            expected = len(set(stop) & strings)
            got = tokens.count_present(stop)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(words, "_tokens", None)
                assert tokens.count_present(stop) == got == expected
            assert tokens.select(np.ones(len(tokens), bool), line).count_present(stop) == expected
            checked += expected > 0
    assert checked > len(texts)  # most lists met words of most texts
    words.clear_cache()


def test_count_present_counts_distinct_positions_of_ids_within_the_table():
    _compiled()
    positions = np.array([-1, 0, 1, -1, 2, 1], np.int32)  # ids 1, 2, 4, 5 are words 0, 1, 2, 1
    count = words._tokens.count_present
    assert count(np.array([0, 5, 2, 2, 99, 3, -1], np.int64), positions) == 1  # word 1 twice; 99 is beyond
    assert count(np.array([4, 1, 5, 2, 4], np.int64), positions) == 3
    assert count(np.array([], np.int64), positions) == 0 == count(np.array([1], np.int64), positions[:0])
    with pytest.raises(ValueError):  # a position beyond the table: not one of wanted_positions
        count(np.array([1], np.int64), np.array([-1, 9], np.int32))
    with pytest.raises(ValueError):
        count(np.array([1], np.int32), positions)

@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.sampled_from([WHITESPACE, JIEBA]), st.data())
def test_deferred_tokens_equal_the_eager_selection(text, segmenter, data):
    words.clear_cache()
    tokens = tokenize(text, segmenter)
    per_line = tokens.chunks_per_line
    if per_line is None:  # without the compiled chunk scan
        per_line = np.array([len(ln.split()) for ln in text.splitlines()], np.int64)
    per_line = per_line.tolist()
    kept = data.draw(st.lists(st.booleans(), min_size=len(per_line), max_size=len(per_line)))
    new_number = np.full(len(per_line), -1, dtype=np.int64)
    numbers = [i for i, k in enumerate(kept) if k]
    new_number[numbers] = np.arange(len(numbers))
    line = tokens.lines(per_line)
    new_line = new_number[line]
    eager = tokens.select(new_line >= 0, new_line[new_line >= 0])
    deferred = tokens.select_lines(new_number, per_line, len(eager))
    assert len(deferred) == len(eager)
    extra = [(n, tokenize(f"x y {n}", segmenter)) for n in numbers[:2]]
    combined = deferred.with_lines(extra)
    for name in ("key", "length", "flags", "ids", "line"):
        assert np.array_equal(getattr(deferred, name), getattr(eager, name)), name
    reference = eager.with_lines(extra)
    assert len(combined) == len(reference)
    for name in ("key", "length", "flags", "ids", "line"):
        assert np.array_equal(getattr(combined, name), getattr(reference, name)), name
    words.clear_cache()


def test_deferred_tokens_check_the_announced_size():
    words.clear_cache()
    tokens = tokenize("a b c")
    wrong = words.Tokens.deferred(2, tokens.generation, lambda: tokens)
    assert len(wrong) == 2
    with pytest.raises(AssertionError):
        wrong.key
    with pytest.raises(AttributeError):
        wrong.no_such_attribute


def test_only_kelvin_and_dotted_capital_i_lower_to_ascii_or_two_characters():
    # the premise of c4._ascii_lower, over every code point beyond ASCII (surrogates excluded)
    odd = {chr(c) for c in range(128, 0x110000) if not 0xD800 <= c <= 0xDFFF
           and (len(chr(c).lower()) != 1 or chr(c).lower().isascii())}
    assert odd == set(c4._LOWER_TO_ASCII)
    assert all(p.isascii() for p in c4._PHRASES)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_phrase_positions_equal_those_in_str_lower(text):
    lower, fast = text.lower(), c4._ascii_lower(text)
    if isinstance(fast, str):  # ASCII text, or a character that lowers to ASCII or to two characters
        assert fast == lower
    else:
        assert len(fast) == len(lower) == len(text)
        for p, q in zip(c4._PHRASES, c4._PHRASE_BYTES):
            assert c4._find_all(fast, q) == c4._find_all(lower, p)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXTS.filter(lambda t: "\n" not in t and t.strip()), max_size=10))
def test_fineweb_line_punctuation_equals_str_endswith(lines):
    doc_lines = [ln for ln in "\n".join(lines).split("\n") if ln.strip()]
    expected = sum(ln.endswith(TERMINAL_PUNCTUATION) for ln in doc_lines) / (len(doc_lines) or 1)
    got = fineweb.FineWebFilter(fineweb.FineWebOptions()).signal(words_doc("\n".join(lines)))["line_punct"]
    assert got == expected


def words_doc(text: str):
    from pipeline.filters.base import Doc

    return Doc(text)
