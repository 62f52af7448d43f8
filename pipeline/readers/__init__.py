"""Source readers, one module per source kind; ``KINDS`` is the one place that lists them.

Each module defines ``Options`` (a pydantic model of its per-source options, validated with the manifest),
``READER`` (a ``pipeline.readers.base.Reader``) and ``KIND`` (a ``pipeline.readers.source_kind.SourceKind``:
input resolution, record identity, default filters, manifest keys). Everything kind-specific elsewhere in
the pipeline is read from ``source_kind(kind)``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.readers.base import Reader
from pipeline.readers.source_kind import SourceKind

KINDS = {
    "commoncrawl": "pipeline.readers.commoncrawl",
    "wikipedia": "pipeline.readers.wikipedia",
    "books": "pipeline.readers.books",
    "jsonl": "pipeline.readers.jsonl",
    "parquet": "pipeline.readers.parquet",
}


class UnknownSourceKind(ValueError):
    """A source kind no reader module is registered for."""


def reader_module(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise UnknownSourceKind(f"unknown source kind {kind!r}; known kinds: {sorted(KINDS)}. A new kind is a "
                                "reader module defining KIND, listed in pipeline.readers.KINDS")
    return importlib.import_module(KINDS[kind])


def source_kind(kind: str) -> SourceKind:
    """The declared contract of ``kind``; an unknown kind is an error naming the known ones."""
    declared = reader_module(kind).KIND
    if declared.name != kind:
        raise RuntimeError(f"{KINDS[kind]} declares kind {declared.name!r} but is registered as {kind!r}")
    return declared


def get_reader(kind: str) -> Reader:
    return source_kind(kind).reader
