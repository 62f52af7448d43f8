"""Run accounting: what a task saw, kept and skipped, and why, merged over a whole run.

``Tally`` travels with the work: a reader fills it while it reads, every stage's task adds its counts and
corpus statistics (``contracts.corpus_stats``) to it, the runner sums the tasks' tallies into the stage
statistics (``stats/<stage>.json``) and the report reads them back. ``skip`` is the one way a record
leaves without becoming a document, so nothing is dropped silently: each skip is a counted reason with a
few examples that name the file and record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES_PER_REASON = 5
# Per-file entry fields summed over a file's splits (``bytes`` is the file's size: kept, not summed).
_FILE_SUMS = ("docs_out", "chars_held", "chars_out", "records")
_FILE_COUNTERS = ("skipped", "ignored")


@dataclass
class Tally:
    """Counts of what a task saw, kept and skipped, with a few examples of each skip reason.

    ``skip`` records a reason under ``skipped.<reason>`` in the counts (the stage statistics' key), and
    examples name the file and record so a user can find the bad input.
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
        self.counts.update(other.counts)
        for reason, items in other.examples.items():
            bucket = self.examples.setdefault(reason, [])
            for item in items:
                if sum(1 for e in bucket if e.get("source") == item.get("source")) < MAX_EXAMPLES_PER_REASON:
                    bucket.append(item)
        for path, entry in other.files.items():
            if path in self.files:
                merge_file_entry(self.files[path], entry)
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


def merge_file_entry(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Add another split's entry of the same input file (``bytes`` is the file's size, not summed)."""
    for key in _FILE_SUMS:
        into[key] = into.get(key, 0) + other.get(key, 0)
    for key in _FILE_COUNTERS:
        merged = Counter(into.get(key, {}))
        merged.update(other.get(key, {}))
        into[key] = dict(sorted(merged.items()))
    into["bytes"] = max(into.get("bytes", 0), other.get("bytes", 0))
