"""Building the variants' data: a threshold change re-decides from the signals another variant stored,
and a rebuild reuses every finished node."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.ablation import load_ablation
from contracts.token_dataset import TokenDataset
from pipeline.ablation.build import build
from pipeline.completion_ledger import read_records
from tests.ablation_helpers import write_ablation

VARIANTS = {"filtered": {"stages": {"order": ["crawl", "filter", "tokenize"]}},
            "strict": {"stages": {"order": ["crawl", "filter", "tokenize"],
                                  "filter": {"per_source": {"web": {"gopher_quality": {"min_words": 400}}}}}}}


def test_a_threshold_change_reuses_the_stored_signals(tmp_path: Path) -> None:
    ablation = load_ablation(write_ablation(tmp_path, VARIANTS, sources=("web",), held_out={"docs": {"web": 2},
                                                                                            "max_bytes": 5000}))
    data = build(ablation)
    filter_dir = next(ablation.layout.stages.glob("filter-*"))
    signal_records = read_records(filter_dir / "_done" / "filter-signals")
    decision_records = read_records(filter_dir / "_done" / "filter")
    assert len(decision_records) == 2 * len(signal_records) > 0  # each shard measured once, decided twice
    funnel = {v: {row["stage"]: row for row in data["variants"][v]["funnel"]} for v in VARIANTS}
    assert funnel["strict"]["filter"]["docs_out"] < funnel["filtered"]["filter"]["docs_out"]
    assert funnel["strict"]["filter"]["docs_in"] == funnel["filtered"]["filter"]["docs_in"]
    strict = TokenDataset.open(data["variants"]["strict"]["dataset"])
    loose = TokenDataset.open(data["variants"]["filtered"]["dataset"])
    assert strict.num_tokens("train", "web") < loose.num_tokens("train", "web")

    stamps = {p: p.stat().st_mtime_ns for p in ablation.layout.stages.rglob("*.parquet")}
    again = build(ablation)
    assert again["variants"] == data["variants"]
    assert {p: p.stat().st_mtime_ns for p in ablation.layout.stages.rglob("*.parquet")} == stamps
    nodes = [json.loads(p.read_text()) for p in (ablation.layout.root / "nodes").glob("*.json")]
    assert sorted(n["stage"] for n in nodes) == ["crawl", "filter", "filter", "held-out", "held-out", "tokenize",
                                                 "tokenize"]
