"""What every reader shares: the unit of work (a split of one input file) and generic record fields.

A reader is two functions registered under a source ``kind``:

* ``plan(path, size, options) -> list[Split]`` cuts one input file into independent splits (byte ranges
  aligned to records at read time, Parquet row groups, or the whole file when the format cannot be cut);
* ``read(split, options, tally) -> Iterator[Document]`` yields the documents of one split and records every
  record it could not use in ``tally`` (``contracts.accounting.Tally``) with a reason, so nothing is
  dropped silently.

Readers never write files and never touch Ray: the crawl stage drives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from pydantic import BaseModel, ConfigDict

from contracts.accounting import Tally
from pipeline.documents import Document


@dataclass(frozen=True)
class Split:
    """One independent piece of one input file.

    ``start``/``end`` are byte offsets for splittable text formats (a record belongs to the split in which
    it *starts*), row-group indices for Parquet, and ``0``/``None`` for "the whole file".
    """

    path: str
    index: int = 0
    start: int = 0
    end: int | None = None


class PlanFn(Protocol):
    def __call__(self, path: str, size: int | None, options: Any) -> list[Split]: ...


class ReadFn(Protocol):
    def __call__(self, split: Split, options: Any, tally: Tally) -> Iterator[Document]: ...


@dataclass(frozen=True)
class Reader:
    kind: str
    plan: PlanFn
    read: ReadFn


def whole_file(path: str, size: int | None, options: Any) -> list[Split]:
    """The plan of a format that cannot be cut: one split for the whole file."""
    return [Split(path=path)]


def byte_ranges(path: str, size: int | None, split_bytes: int) -> list[Split]:
    """Cut ``size`` bytes into ranges of about ``split_bytes``; the reader aligns them to records."""
    if not size or size <= split_bytes:
        return [Split(path=path, index=0, start=0, end=None)]
    splits, start, index = [], 0, 0
    while start < size:
        end = min(start + split_bytes, size)
        splits.append(Split(path=path, index=index, start=start, end=None if end >= size else end))
        start, index = end, index + 1
    return splits


class RecordFields(BaseModel):
    """Which fields of a generic record (JSONL object, Parquet row) hold the document's parts."""

    model_config = ConfigDict(extra="forbid")

    text_field: str = "text"
    id_field: str | None = "id"
    url_field: str | None = None
    title_field: str | None = None


def scalar_str(value: Any) -> str | None:
    """Optional string fields of a generic record (url, title, id): scalars as text; anything else (null,
    lists, strings with lone surrogates) as missing."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return text if is_encodable(text) else None


def is_encodable(text: str) -> bool:
    """Whether ``text`` is valid UTF-8 when written (JSON can spell lone surrogates, UTF-8 cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
