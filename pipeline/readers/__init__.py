"""Source readers, one module per source kind; ``get_reader(kind)`` is the one place that maps them.

Each module defines ``Options`` (a pydantic model of its per-source options, validated with the manifest)
and ``READER`` (a ``pipeline.readers.base.Reader``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.readers.base import Reader

MODULES = {
    "commoncrawl": "pipeline.readers.commoncrawl",
    "wikipedia": "pipeline.readers.wikipedia",
    "books": "pipeline.readers.books",
    "jsonl": "pipeline.readers.jsonl",
    "parquet": "pipeline.readers.parquet",
}


def reader_module(kind: str) -> ModuleType:
    if kind not in MODULES:
        raise ValueError(f"unknown source kind {kind!r}; allowed: {sorted(MODULES)}")
    return importlib.import_module(MODULES[kind])


def get_reader(kind: str) -> Reader:
    return reader_module(kind).READER
