"""Score a scale run's dedup against the corpus's planned copies (``records.jsonl`` of bench/scale_corpus.py).

A group is an original record and its planned exact and near copies. Of a group's k members that reached
dedup (the filter may have removed some), k - 1 should be removed and one kept. Recall: removals that
fall in groups, capped at k - 1 per group, over the sum of k - 1; precision: the same over all removals.
Records are matched to documents by URL (web), title (wiki) and file name (books).

    .venv/bin/python bench/scale_dedup_score.py /tmp/scale/runs/scale-10x /tmp/scale/corpus-10x
"""

from __future__ import annotations

import argparse
import ast
import json
import posixpath
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def _record_key(source: str, row: dict[str, Any]) -> str:
    if source == "web":
        return row["url"]
    if source == "wiki":
        return row["title"]
    meta = row["meta"]
    if isinstance(meta, str):
        meta = ast.literal_eval(meta)
    return posixpath.basename(meta["origin"])


def score(run_dir: Path, corpus: Path) -> dict[str, Any]:
    records = [json.loads(line) for line in (corpus / "records.jsonl").read_text().splitlines()]
    group_of = {(r["source"], r["id"]): (r["source"], r["copy_of"] if r["copy_of"] is not None else r["index"])
                for r in records}
    kinds = {(r["source"], r["id"]): r["kind"] for r in records}
    present: Counter = Counter()
    doc_group: dict[str, tuple[str, int]] = {}
    dedup_inputs = json.loads((run_dir / "stats" / "filter.json").read_text())["outputs"]
    for path in (run_dir / rel for rel in dedup_inputs):
        source = path.parent.name
        for row in pq.read_table(path, columns=["id", "url", "title", "meta"]).to_pylist():
            key = (source, _record_key(source, row))
            if key in group_of:
                doc_group[row["id"]] = group_of[key]
                present[group_of[key]] += 1
    removed: Counter = Counter()
    stray = 0
    for path in sorted((run_dir / "removed" / "dedup").rglob("*.parquet")):
        for doc in pq.read_table(path, columns=["id"]).column("id").to_pylist():
            if doc in doc_group:
                removed[doc_group[doc]] += 1
            else:
                stray += 1
    expected = sum(k - 1 for k in present.values())
    hits = sum(min(removed[g], present[g] - 1) for g in present)
    total_removed = sum(removed.values()) + stray
    copies = Counter(kinds[key] for key in kinds)
    return {"docs_into_dedup": sum(present.values()), "groups_with_copies_present": sum(1 for k in present.values() if k > 1),
            "expected_removals": expected, "removed": total_removed, "correct_removals": hits,
            "recall": round(hits / max(1, expected), 4), "precision": round(hits / max(1, total_removed), 4),
            "unmatched_removed": stray, "planned_records": dict(copies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    print(json.dumps(score(args.run_dir, args.corpus), indent=1))


if __name__ == "__main__":
    main()
