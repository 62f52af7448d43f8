"""Helpers for the filter tests: one-filter verdicts on crafted text, real documents from shared/data, and
plain-Python interning as the reference of the compiled one."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from pipeline.documents import Document
from pipeline.filters.base import compute_signals, decide, signal_schema
from pipeline.filters.chain import ChainSpec, build

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def require_compiled(module: ModuleType | None, name: str, fallback: str) -> None:
    """`make test` installs the project with its C extensions: under CI a missing one fails (CI must not
    silently test only the fallback); elsewhere the test skips, saying which fallback is in use."""
    if module is None:
        assert not os.environ.get("CI"), f"pipeline.filters.{name} was not built: is a C compiler installed?"
        pytest.skip(f"pipeline.filters.{name} not built (no C compiler): {fallback} is in use; install a C compiler "
                    "and rerun `make test` to test the compiled path (under CI this fails)")


def both_simd_paths(module_name: str, ids: tuple[str, str]) -> Any:
    """A fixture that runs each test twice: with ``module_name``'s vector path on (where the CPU has it; else its
    scalar path runs both times) and off, through the module's ``simd()``/``set_simd()``; it yields the path in use
    and restores the module's setting after."""
    @pytest.fixture(params=[True, False], ids=list(ids))
    def simd(request: pytest.FixtureRequest) -> Any:
        import importlib

        module = importlib.import_module(module_name)
        before = module.simd()
        module.set_simd(request.param)
        yield module.simd()
        module.set_simd(before)
    return simd


def require_library(segmenter: str) -> None:
    """`make` installs every segmenter library (Kiwi, the Indic NLP Library, khmer-nltk, pyidaungsu as extras): under
    CI a missing one fails (it would hide a missing install step); elsewhere the test skips, naming what to install."""
    from pipeline.filters.segment_lib import missing_library

    why = missing_library(segmenter)
    if why:
        assert not os.environ.get("CI"), f"under CI every segmenter library is installed: {why}"
        pytest.skip(why)


def evaluate(chain_options: dict[str, dict[str, Any]], texts: list[str], urls: list[str | None] | None = None,
             analysis_max_chars: int = 1_000_000) -> tuple[pa.Table, list[tuple[str, str] | None]]:
    """Signals and (filter, rule) decisions (None = kept) of a chain given as {filter: options}."""
    chain = build(ChainSpec.model_validate(chain_options))
    columns = compute_signals(chain, texts, urls or [None] * len(texts), analysis_max_chars)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    decisions = decide(chain, table, analysis_max_chars)
    return table, [None if f is None else (f, r) for f, r in zip(decisions.filter, decisions.rule)]


def web_chain_verdict(language: str, text: str) -> tuple[dict[str, list[Any]], tuple[str, str] | None]:
    """Signals and the (filter, rule) decision (None = kept) of the commoncrawl default chain with its keep-list
    set to ``language``, for one document."""
    from pipeline.filters.chain import resolve

    chain = build(resolve("commoncrawl", {}, ChainSpec.model_validate({"language": {"languages": [language]}})))
    columns = compute_signals(chain, [text], [None], 1_000_000)
    table = pa.table({"id": [language], **columns}, schema=signal_schema(chain))
    decisions = decide(chain, table, 1_000_000)
    return columns, None if decisions.filter[0] is None else (decisions.filter[0], decisions.rule[0])


def verdict(name: str, text: str, url: str | None = None, **options: Any) -> tuple[str, str] | None:
    """The (filter, rule) that removes ``text`` with filter ``name`` alone, or None when it is kept."""
    return evaluate({name: options}, [text], [url])[1][0]


def signal(name: str, key: str, text: str, **options: Any) -> Any:
    table, _ = evaluate({name: options}, [text])
    column = key if name == "language" else f"{name}.{key}"
    return table[column][0].as_py()


NON_ENGLISH = ("servo-ru-", "servo-zh-", "ruwiki-", "dewiki-", "jawiki-", "zhwiki-", "de-", "zh-")
"""File-name prefixes of shared/data's Chinese, Russian, German and Japanese files. The English-default
chains are pinned on the English files; the other languages need per-source language settings."""


@functools.cache
def real_documents(kind: str) -> tuple[Document, ...]:
    """Every document the project's reader yields for the real English corpus of ``kind`` in shared/data."""
    from pipeline.readers import get_reader, reader_module
    from contracts.accounting import Tally
    from pipeline.readers.base import Split

    folder, pattern = {"commoncrawl": ("web", "*.warc.gz"), "wikipedia": ("wiki", "*.bz2"),
                       "books": ("books", "*.txt")}[kind]
    reader, options = get_reader(kind), reader_module(kind).Options()
    return tuple(doc for path in sorted((SHARED_DATA / folder).glob(pattern)) if not path.name.startswith(NON_ENGLISH)
                 for doc in reader.read(Split(str(path)), options, Tally()))


def word(i: int) -> str:
    """A distinct four-letter word for every i < 17,576 (so crafted texts repeat nothing by accident)."""
    return "w" + "".join(chr(97 + (i // 26 ** k) % 26) for k in range(3))


def prose(n: int, start: int = 0) -> str:
    """n distinct words, the first two of them stop words."""
    return " ".join(["the", "and"] + [word(start + i) for i in range(n - 2)])


def intern_reference(split: list[tuple[str, ...]], ids: dict[str, int]) -> tuple[bytes, bytes, list[str]]:
    """Interning in plain Python, the reference: each token's id, new ones numbered in first-seen order."""
    flat, counts, fresh = [], [], []
    for tokens in split:
        counts.append(len(tokens))
        for token in tokens:
            if token not in ids:
                ids[token] = len(ids)
                fresh.append(token)
            flat.append(ids[token])
    return np.array(flat, np.int64).tobytes(), np.array(counts, np.int64).tobytes(), fresh


def str_columns(tokens: list[str]) -> tuple[bytes, bytes]:
    """``ChunkTable.columns``'s reference: each token's length (int64 bytes) and ``str.isalpha`` (uint8 bytes)."""
    import numpy as np

    return (np.array([len(t) for t in tokens], dtype=np.int64).tobytes(),
            bytes(t.isalpha() for t in tokens))
