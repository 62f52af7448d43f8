"""A vocabulary whose update failed part way is not used again: the next documents get the tokens a fresh
vocabulary gives them (the vocabulary is kept between documents and tasks, so a chunk table a step ahead of
its columns would hand later documents wrong token ids, counts and classes without an error)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from pipeline.filters import words
from pipeline.filters.segment import JIEBA, WHITESPACE
from tests.pipeline.filters.support import real_documents, require_compiled


class Injected(Exception):
    """The failure the test forces in the middle of a vocabulary update."""


def _fail_once(real: Callable[..., Any], before: bool = False) -> Callable[..., Any]:
    """``real`` that raises ``Injected`` on its first call, after doing its work (or before, with ``before``):
    what a MemoryError or OverflowError half-way through an update leaves behind."""
    calls = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) > 1:
            return real(*args, **kwargs)
        if not before:
            real(*args, **kwargs)
        raise Injected("forced in the middle of a vocabulary update")
    return wrapped


def _texts(segmenter: str) -> list[str]:
    if segmenter == JIEBA:
        from tests.pipeline.filters.test_multilingual import documents
        return [d.text for d in documents("zhwiki")[:8]]
    return [d.text for d in real_documents("commoncrawl")[:8]]


def _seen(segmenter: str, texts: list[str]) -> list[tuple[list[str], list[int], list[int], list[int] | None]]:
    """Each text's tokens (strings from the vocabulary's ids), lengths, classes and tokens per chunk."""
    out = []
    for text in texts:
        tokens = words.tokenize(text, segmenter)
        vocabulary = words._current(segmenter)
        assert tokens.generation == vocabulary.generation
        assert tokens.key.view(np.int64).tolist() == words.token_keys(tokens.ids).tolist()
        out.append((vocabulary.token_strings(tokens.ids), tokens.length.tolist(), tokens.flags.tolist(),
                    None if tokens.chunk_count is None else tokens.chunk_count.tolist()))
    return out


# where the update fails: (segmenter, compiled tables, what to patch)
FAILURES = [
    (WHITESPACE, True, "split"),  # the chunk table holds the new chunks, nothing else does
    (WHITESPACE, True, "intern"),  # the token table holds the new tokens too
    (WHITESPACE, True, "check_int32"),  # ``_check_int32``'s OverflowError, after the compiled interning
    (WHITESPACE, True, "columns"),  # the chunk columns and ``flat`` are extended, the token columns not
    (WHITESPACE, False, "split"),
    (WHITESPACE, False, "check_int32"),
    (WHITESPACE, False, "columns"),
    (JIEBA, True, "entries"),  # the compiled interning from the chunk table's entries
    (JIEBA, True, "columns"),
]


# with the compiled expansion an out-of-step vocabulary fails later documents (IndexError) until its columns
# catch up with the chunk ids, then gives them wrong tokens; with numpy's, it gives wrong tokens at once
@pytest.mark.parametrize("expand", ["compiled", "numpy"])
@pytest.mark.parametrize("segmenter, compiled, where", FAILURES)
def test_a_failed_update_leaves_no_vocabulary_out_of_step(monkeypatch, segmenter, compiled, where, expand):
    if compiled:
        require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    if expand == "compiled":
        require_compiled(words._tokens, "_tokens", "numpy's expansion")
    if not compiled:
        monkeypatch.setattr(words, "_chunks", None)
    if expand == "numpy":
        monkeypatch.setattr(words, "_tokens", None)
    texts = _texts(segmenter)
    warm, failing, later = texts[:3], texts[3], texts[3:]
    words.clear_cache()
    expected = _seen(segmenter, later)  # what a fresh vocabulary gives the later texts
    words.clear_cache()
    _seen(segmenter, warm)  # a vocabulary in use: it holds chunks and tokens when the update fails
    vocabulary = words._current(segmenter)
    if where == "split":
        monkeypatch.setattr(vocabulary, "split_many", _fail_once(vocabulary.split_many, before=True))
    elif where == "intern":
        monkeypatch.setattr(words._chunks, "intern_split", _fail_once(words._chunks.intern_split))
    elif where == "check_int32":
        def overflow(self: Any, more_tokens: int, calls: list[int] = []) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise OverflowError("forced")
        monkeypatch.setattr(words._Vocabulary, "_check_int32", overflow)
    elif where == "columns" and compiled and words._tokens is not None:  # the token columns in one C call
        monkeypatch.setattr(words._tokens, "add_tokens", _fail_once(words._tokens.add_tokens, before=True))
    elif where == "columns":
        monkeypatch.setattr(words, "token_keys", _fail_once(words.token_keys, before=True))
    else:
        monkeypatch.setitem(words._ENTRY_INTERNING, JIEBA, _fail_once(words._ENTRY_INTERNING[JIEBA]))
    with pytest.raises((Injected, OverflowError)):
        words.tokenize(failing, segmenter)
    assert _seen(segmenter, later) == expected
    words.clear_cache()
