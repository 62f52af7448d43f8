"""What every reader shares: the unit of work (a split of one input file) and the skip tally.

A reader is two functions registered under a source ``kind``:

* ``plan(path, size, options) -> list[Split]`` cuts one input file into independent splits (byte ranges
  aligned to records at read time, Parquet row groups, or the whole file when the format cannot be cut);
* ``read(split, options, tally) -> Iterator[Document]`` yields the documents of one split and records every
  record it could not use in ``tally`` with a reason, so nothing is dropped silently.

Readers never write files and never touch Ray: the crawl stage drives them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

from pydantic import BaseModel, ConfigDict

from pipeline.documents import Document

MAX_EXAMPLES_PER_REASON = 5


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


@dataclass
class Tally:
    """Counts of what a reader saw, kept and skipped, with a few examples of each skip reason.

    ``skip`` is the one way a record leaves a reader without becoming a document; the reason becomes a key
    in the stage statistics (``skipped.<reason>``), and examples name the file and record so a user can
    find the bad input.
    """

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # per input file (crawl stage only): see ``pipeline.file_accounting``
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def skip(self, reason: str, path: str, record: str | None = None, detail: str | None = None) -> None:
        self.counts[f"skipped.{reason}"] += 1
        bucket = self.examples.setdefault(reason, [])
        if len(bucket) < MAX_EXAMPLES_PER_REASON:
            bucket.append({"file": path, "record": record, "detail": (detail or "")[:300]})

    def merge(self, other: "Tally") -> None:
        """Add ``other``'s counts and per-file entries; keep up to ``MAX_EXAMPLES_PER_REASON`` examples per
        reason *and source* (examples carry their ``source`` once the crawl stage tags them), so a large
        source merged first cannot crowd the examples of the others out of the statistics."""
        from pipeline.file_accounting import merge_entry

        self.counts.update(other.counts)
        for reason, items in other.examples.items():
            bucket = self.examples.setdefault(reason, [])
            for item in items:
                if sum(1 for e in bucket if e.get("source") == item.get("source")) < MAX_EXAMPLES_PER_REASON:
                    bucket.append(item)
        for path, entry in other.files.items():
            if path in self.files:
                merge_entry(self.files[path], entry)
            else:
                self.files[path] = {k: dict(v) if isinstance(v, dict) else v for k, v in entry.items()}

    def to_dict(self) -> dict[str, Any]:
        data = {"counts": dict(sorted(self.counts.items())), "examples": self.examples}
        if self.files:
            data["files"] = dict(sorted(self.files.items()))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Tally":
        return cls(Counter(data.get("counts", {})), {k: list(v) for k, v in data.get("examples", {}).items()},
                   {k: dict(v) for k, v in data.get("files", {}).items()})


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


ReaderFactory = Callable[[], Reader]


class RecordFields(BaseModel):
    """Which fields of a generic record (JSONL object, Parquet row) hold the document's parts."""

    model_config = ConfigDict(extra="forbid")

    text_field: str = "text"
    id_field: str | None = "id"
    url_field: str | None = None
    title_field: str | None = None
