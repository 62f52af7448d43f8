"""Whole-run accounting checks shared by the bad-input and fault-injection tests.

At every stage the documents that went in are the documents kept plus the documents removed, both in the
statistics (stats/<stage>.json) and in the shards on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

STAGES = ("crawl", "filter", "dedup", "tokenize")


def stage_counts(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {s: json.loads((run_dir / "stats" / f"{s}.json").read_text())["counts"] for s in STAGES}


def rows(run_dir: Path, folder: str, exclude: str | None = None) -> int:
    """Rows of every Parquet file under ``folder``, leaving out paths with an ``exclude`` component."""
    base = run_dir / folder
    return sum(pq.read_metadata(p).num_rows for p in base.rglob("*.parquet")
               if exclude is None or exclude not in p.relative_to(base).parts)


def assert_in_equals_kept_plus_removed(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Check the invariant at crawl, filter, dedup and tokenize; returns each stage's counts."""
    counts = stage_counts(run_dir)
    crawl, filt, dedup, tok = (counts[s] for s in STAGES)
    # crawl: documents read = documents written + documents emptied by cleaning
    assert crawl["docs_in"] == crawl["docs_out"] + crawl.get("skipped.empty_after_clean", 0)
    assert rows(run_dir, "docs") == crawl["docs_out"]
    # filter: each document is kept or removed under exactly one rule, and removed ones are in the ledger
    by_rule = sum(v for k, v in filt.items() if k.startswith("removed."))
    assert filt["docs_in"] == crawl["docs_out"] == filt["docs_out"] + filt["docs_removed"]
    assert filt["docs_removed"] == by_rule
    assert rows(run_dir, "filtered") == filt["docs_out"]
    assert rows(run_dir, "removed", exclude="dedup") == filt["docs_removed"]
    # dedup: kept + removed (exact or near duplicates), each removed one in the ledger
    removed = dedup.get("removed.exact", 0) + dedup.get("removed.near", 0)
    assert dedup["docs_in"] == filt["docs_out"] == dedup["docs_out"] + removed
    assert removed == dedup.get("removed.within_source", 0) + dedup.get("removed.across_source", 0)
    assert rows(run_dir, "dedup") == dedup["docs_out"]
    assert rows(run_dir, "removed/dedup") == removed
    # tokenize: every document lands in training or validation, none is dropped
    assert tok["docs_in"] == dedup["docs_out"] == tok["docs_out"]
    assert tok.get("docs_train", 0) + tok.get("docs_val", 0) == tok["docs_in"]
    return counts
