"""``words.tokenize_many`` (a batch's documents segmented and interned together) gives what ``tokenize`` one
document at a time gives: the same token ids, keys, lengths, classes, tokens per chunk, chunks per line and
vocabulary, renewed before the same document, on real Chinese and English text; a failure part way drops the
vocabulary; and ``compute_signals``, which now fills a language group's tokens through it, leaves the
vocabulary and every signal as the lazy path does."""

from __future__ import annotations

import functools
from itertools import zip_longest
from typing import Any

import numpy as np
import pytest

from pipeline.filters import base, segment, words
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import ChainSpec, build
from pipeline.filters.lang_params import segmenter_of
from pipeline.filters.segment import JIEBA, WHITESPACE
from tests.pipeline.filters.support import SHARED_DATA, real_documents, require_compiled


@functools.cache
def _zhwiki() -> tuple[str, ...]:
    from tests.pipeline.filters.test_multilingual import documents
    return tuple(d.text for d in documents("zhwiki"))


@functools.cache
def _zh_web() -> tuple[str, ...]:
    """The Chinese pages (mostly Han script) of the shared WARCs, as the commoncrawl reader yields them."""
    from contracts.accounting import Tally
    from pipeline.filters.segment import script_of
    from pipeline.readers import get_reader, reader_module
    from pipeline.readers.base import Split

    reader, options = get_reader("commoncrawl"), reader_module("commoncrawl").Options()
    paths = [p for p in sorted((SHARED_DATA / "web").glob("*.warc*")) if ".wet" not in p.name and ".wat" not in p.name]
    pages = tuple(d.text for p in paths for d in reader.read(Split(str(p)), options, Tally()) if script_of(d.text) == "Hani")
    assert len(pages) >= 10, f"{len(pages)} Chinese pages in the WARCs of {SHARED_DATA / 'web'}"
    return pages


def _enwiki() -> tuple[str, ...]:
    return tuple(d.text for d in real_documents("wikipedia"))


def _mixed() -> list[str]:
    """Chinese articles, English articles and Chinese pages interleaved (a web shard's mix)."""
    parts = [_zhwiki()[:12], _enwiki()[:12], _zh_web()[:12]]
    return [t for group in zip_longest(*parts) for t in group if t is not None]


SETS = {"zhwiki": (JIEBA, lambda: list(_zhwiki())), "zh_web": (JIEBA, lambda: list(_zh_web())),
        "enwiki": (WHITESPACE, lambda: list(_enwiki())), "mixed-jieba": (JIEBA, _mixed),
        "mixed-whitespace": (WHITESPACE, _mixed)}


def _seen(tokens: words.Tokens, generations: dict[int, int]) -> tuple[Any, ...]:
    """Everything a filter reads of ``tokens``; the generation as its rank among those met (a renewal)."""
    rank = generations.setdefault(tokens.generation, len(generations))
    optional = (tokens.chunk_count, tokens.chunks_per_line)
    return (rank, tokens.ids.tolist(), tokens.key.tolist(), tokens.length.tolist(), tokens.flags.tolist(),
            *(None if a is None else a.tolist() for a in optional))


def _vocabulary(segmenter: str) -> tuple[Any, ...]:
    """The current vocabulary's chunks and tokens, by id, and its columns."""
    v = words._current(segmenter)
    return (v.table.strings(np.arange(len(v.table), dtype=np.int64)), v.token_strings(np.arange(v.n_tokens)),
            v.chars, *(c.filled().tolist() for c in (v.chunk_first, v.chunk_count, v.flat, v.key, v.length, v.flags)))


def _both(segmenter: str, warm: list[str], texts: list[str]) -> tuple[Any, Any]:
    """(one at a time, together): each text's tokens and the vocabulary after, both from a vocabulary that
    already holds ``warm``'s chunks."""
    out = []
    for together in (False, True):
        words.clear_cache()
        generations: dict[int, int] = {}
        for text in warm:
            _seen(words.tokenize(text, segmenter), generations)
        made = words.tokenize_many(texts, segmenter) if together else [words.tokenize(t, segmenter) for t in texts]
        out.append(([_seen(t, generations) for t in made], _vocabulary(segmenter)))
    words.clear_cache()
    return out[0], out[1]


@pytest.fixture(autouse=True)
def _compiled():
    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    require_compiled(words._tokens, "_tokens", "numpy's expansion")
    yield
    words.clear_cache()


@pytest.mark.parametrize("flush", [None, 1])  # whitespace: interned every 4,096 new chunks, or after each text
@pytest.mark.parametrize("name", sorted(SETS))
def test_together_equals_one_at_a_time(monkeypatch, name, flush):
    segmenter, texts = SETS[name][0], SETS[name][1]()
    if flush is not None:
        monkeypatch.setattr(words, "_FLUSH_CHUNKS", flush)
    warm, texts = texts[:3], texts[3:]  # a vocabulary in use: its chunks keep their ids, the others follow
    one, together = _both(segmenter, warm, texts)
    assert len(together[0]) == len(texts) and {t[0] for t in together[0]} == {0}  # no renewal
    assert together == one


@pytest.mark.parametrize("flush", [None, 100])
@pytest.mark.parametrize("cap", ["chunks", "chars"])
@pytest.mark.parametrize("name", ["mixed-jieba", "enwiki"])
def test_the_vocabulary_is_renewed_before_the_same_text(monkeypatch, name, cap, flush):
    """With a cap hit twice in the batch, the renewals come before the same texts as one at a time."""
    segmenter, texts = SETS[name][0], SETS[name][1]()
    if flush is not None:
        monkeypatch.setattr(words, "_FLUSH_CHUNKS", flush)
    words.clear_cache()
    for text in texts:
        words.tokenize(text, segmenter)
    v = words._current(segmenter)
    size = len(v) if cap == "chunks" else v.chars
    monkeypatch.setattr(words, "MAX_CHUNKS" if cap == "chunks" else "MAX_CHUNK_CHARS", size // 3)
    one, together = _both(segmenter, texts[:1], texts[1:])
    assert together == one
    assert len({t[0] for t in together[0]}) >= 3  # renewed at least twice within the batch


def test_trim_cache_drops_a_vocabulary_filled_together(monkeypatch):
    words.clear_cache()
    first = words.tokenize_many(list(_zhwiki()[:5]), JIEBA)
    monkeypatch.setattr(words, "KEEP_BYTES", 0)
    words.trim_cache()
    assert JIEBA not in words._vocabularies
    again = words.tokenize_many(list(_zhwiki()[:5]), JIEBA)
    assert again[0].generation != first[0].generation
    assert [t.ids.tolist() for t in again] == [t.ids.tolist() for t in first]  # a fresh one, same order


class Injected(Exception):
    """The failure the test forces part way through a batch."""


class _FailingLookup:
    """A chunk table whose lookup raises on the ``at``-th call, after the earlier texts' chunks went in."""

    def __init__(self, table: Any, at: int) -> None:
        self.table, self.at, self.calls = table, at, 0

    def lookup(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise Injected("forced part way through the lookups")
        return self.table.lookup(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    def __len__(self) -> int:
        return len(self.table)


def _fail_once_after(real: Any) -> Any:
    calls = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        result = real(*args, **kwargs)
        if len(calls) == 1:
            raise Injected("forced after the batch's interning")
        return result
    return wrapped


@pytest.mark.parametrize("where", ["lookup", "interning"])
@pytest.mark.parametrize("segmenter", [JIEBA, WHITESPACE])
def test_a_failure_part_way_drops_the_vocabulary(monkeypatch, segmenter, where):
    texts = _mixed()
    warm, batch, later = texts[:4], texts[4:12], texts[12:20]
    words.clear_cache()
    expected = [_seen(t, {}) for t in (words.tokenize(x, segmenter) for x in later)]  # a fresh vocabulary's
    words.clear_cache()
    for text in warm:
        words.tokenize(text, segmenter)
    vocabulary = words._current(segmenter)
    if where == "lookup":
        monkeypatch.setattr(vocabulary, "table", _FailingLookup(vocabulary.table, 4))
    elif segmenter == JIEBA:
        monkeypatch.setitem(words._ENTRY_INTERNING, JIEBA, _fail_once_after(words._ENTRY_INTERNING[JIEBA]))
    else:
        monkeypatch.setattr(words._chunks, "intern_split", _fail_once_after(words._chunks.intern_split))
    with pytest.raises(Injected):
        words.tokenize_many(batch, segmenter)
    assert words._vocabularies.get(segmenter) is not vocabulary
    assert [_seen(t, {}) for t in (words.tokenize(x, segmenter) for x in later)] == expected


CHAIN = {"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}


def _signals_and_vocabularies(texts: list[str], languages: list[str]) -> tuple[Any, ...]:
    words.clear_cache()
    chain = build(ChainSpec.model_validate(CHAIN))
    signals = compute_signals(chain, texts, [None] * len(texts), 1_000_000, None, languages)
    return signals, _vocabulary(JIEBA), _vocabulary(segmenter_of("en"))


def test_compute_signals_leaves_vocabulary_and_signals_as_the_lazy_path(monkeypatch):
    """The chain's vocabularies (chunks and tokens by id) and signals equal those of tokens made one document
    at a time as the filters ask: new chunks interned in the same order."""
    texts = _mixed()
    languages = ["zh" if segment.script_of(t) == "Hani" else "en" for t in texts]
    together = _signals_and_vocabularies(texts, languages)
    monkeypatch.setattr(base, "_tokenize_together", lambda docs: None)
    lazy = _signals_and_vocabularies(texts, languages)
    assert len(together[1][1]) > 1_000 and len(together[2][1]) > 1_000  # both vocabularies filled
    assert together == lazy


def test_compute_signals_makes_the_tokens_together(monkeypatch):
    """Each language group's analysable documents through one ``tokenize_many`` call, before the first word
    filter; the document over the analysis cap is not split."""
    calls: list[tuple[int, str]] = []
    real = base.tokenize_many

    def counted(texts: list[str], segmenter: str) -> list[words.Tokens]:
        calls.append((len(texts), segmenter))
        return real(texts, segmenter)
    monkeypatch.setattr(base, "tokenize_many", counted)
    texts = list(_zhwiki()[:4]) + list(_enwiki()[:3])
    cap = max(map(len, texts))
    texts.append("短" * (cap + 1))  # Chinese, over the cap: not split
    chain = build(ChainSpec.model_validate(CHAIN))
    compute_signals(chain, texts, [None] * len(texts), cap, None, ["zh"] * 4 + ["en"] * 3 + ["zh"])
    assert calls == [(4, JIEBA), (3, segmenter_of("en"))]
