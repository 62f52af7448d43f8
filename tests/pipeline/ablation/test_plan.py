"""Variant planning: which stage outputs each variant computes, and which it reuses from another."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.ablation import AblationError, load_ablation
from pipeline.ablation.plan import format_plan, make_plan
from tests.ablation_helpers import write_ablation

VARIANTS = {
    "raw": {"stages": {"order": ["crawl", "tokenize"]}},
    "filtered": {"stages": {"order": ["crawl", "filter", "tokenize"]}},
    "filtered+dedup": {},
    "loose": {"stages": {"filter": {"per_source": {"web": {"gopher_quality": {"min_words": 20}}}}}},
    "no-c4": {"stages": {"filter": {"per_source": {"web": {"c4": {"enabled": False}}}}}},
    "val10": {"stages": {"tokenize": {"validation": {"fraction": 0.1}}}},
    "mixture": {"weights": {"web": 0.1, "wiki": 0.6, "books": 0.3}},
}


def _rows(plan, variant: str) -> dict[str, dict]:
    return {row["stage"]: row for row in plan.describe()[variant]}


def test_variants_share_what_they_have_in_common(tmp_path: Path) -> None:
    plan = make_plan(load_ablation(write_ablation(tmp_path, VARIANTS)))
    assert [plan.nodes[k].stage for k in plan.chains["raw"]] == ["crawl", "held-out", "tokenize"]
    assert [plan.nodes[k].stage for k in plan.chains["filtered+dedup"]] == \
        ["crawl", "filter", "dedup", "held-out", "tokenize"]
    # one crawl for all, computed by the first variant
    assert len({chain[0] for chain in plan.chains.values()}) == 1
    assert all(_rows(plan, v)["crawl"]["action"] == "reuse" for v in VARIANTS if v != "raw")
    # filtered and filtered+dedup share the filter; only filtered+dedup runs dedup
    assert _rows(plan, "filtered+dedup")["filter"] == {**_rows(plan, "filtered")["filter"], "action": "reuse",
                                                       "from_variant": "filtered"}
    # a threshold change recomputes filter decisions (in the same folder) with every source's signals reused,
    # then everything after it
    loose = _rows(plan, "loose")
    assert loose["filter"]["action"] == "compute"
    assert loose["filter"]["folder"] == _rows(plan, "filtered")["filter"]["folder"]
    assert sorted(loose["filter"]["signals_reused"]) == ["books", "web", "wiki"]
    assert {loose[s]["action"] for s in ("dedup", "held-out", "tokenize")} == {"compute"}
    # turning a filter off changes what web measures: only the other sources' signals are reused
    assert sorted(_rows(plan, "no-c4")["filter"]["signals_reused"]) == ["books", "wiki"]
    # a tokenize option reuses every stage before tokenize
    val10 = _rows(plan, "val10")
    assert [val10[s]["action"] for s in ("crawl", "filter", "dedup", "held-out", "tokenize")] == \
        ["reuse"] * 4 + ["compute"]
    # a mixture change is training only: it reuses the whole dataset
    assert plan.chains["mixture"] == plan.chains["filtered+dedup"]
    text = format_plan(plan)
    assert "loose:" in text and "decisions only: signals of books, web, wiki reused" in text


def test_node_keys_do_not_depend_on_variant_names_or_order(tmp_path: Path) -> None:
    a = make_plan(load_ablation(write_ablation(tmp_path, VARIANTS)))
    reordered = {f"v-{name}": spec for name, spec in reversed(VARIANTS.items())}
    (tmp_path / "b").mkdir()
    b = make_plan(load_ablation(write_ablation(tmp_path / "b", reordered)))
    assert set(a.nodes) == set(b.nodes)
    assert a.chains["loose"] == b.chains["v-loose"]


def test_variants_must_share_the_crawl_and_end_with_tokenize(tmp_path: Path) -> None:
    crawl = {"a": {}, "b": {"stages": {"crawl": {"shard_docs": 7}}}}
    with pytest.raises(AblationError, match="same crawl"):
        make_plan(load_ablation(write_ablation(tmp_path, crawl)))
    no_tokens = {"a": {"stages": {"order": ["crawl", "filter"]}}}
    with pytest.raises(AblationError, match="variants.a.stages.order: must start with crawl and end with tokenize"):
        make_plan(load_ablation(write_ablation(tmp_path, no_tokens)))
    typo = {"a": {"stages": {"filter": {"per_source": {"web": {"c4": {"enabld": False}}}}}}}
    with pytest.raises(AblationError, match=r"(?s)variants\.a: .*stages\.filter\.per_source\.web\.c4\.enabld"):
        make_plan(load_ablation(write_ablation(tmp_path, typo)))
