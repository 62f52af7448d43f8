"""The ablation file: validated before any work, every error naming its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.ablation import AblationError, deep_merge, load_ablation, parse_ablation
from tests.ablation_helpers import ablation_data, write_ablation


def test_a_valid_file_loads_with_its_layout(tmp_path: Path) -> None:
    ablation = load_ablation(write_ablation(tmp_path))
    assert ablation.variants == ["raw", "filtered+dedup"]
    assert ablation.layout.root == tmp_path / "out" / "t"
    assert ablation.layout.run_dir("raw", 2, "ab12") == tmp_path / "out/t/runs/raw/seed-2-ab12"
    assert ablation.model.training.max_steps == 12
    assert ablation.variant_data("raw")["stages"]["order"] == ["crawl", "tokenize"]
    assert ablation.variant_data("raw")["stages"]["tokenize"]["shard_tokens"] == 100000  # merged, not replaced


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["training"].update(tokens=5), "training.tokens: unknown key"),
    (lambda d: d["variants"].update({"bad/name": {}}), "variant name 'bad/name'"),
    (lambda d: d["training"].update(seeds=[1, 1]), "seeds repeat"),
    (lambda d: d["training"].update(token_budget=10), "less than one step"),
    (lambda d: d["held_out"].update(docs={"nosuch": 2}), "held_out.docs: 'nosuch' is not a source"),
    (lambda d: d["variants"].update(raw={"weights": {"nosuch": 1.0}}), "variants.raw.weights: 'nosuch'"),
    (lambda d: d.update(manifest="missing.yaml"), "missing.yaml not found"),
])
def test_mistakes_are_refused_naming_the_key(tmp_path: Path, change, expected: str) -> None:
    data = ablation_data(tmp_path)
    change(data)
    with pytest.raises(AblationError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        parse_ablation(yaml.safe_load(yaml.safe_dump(data)), "a.yaml", tmp_path)


def test_deep_merge_merges_mappings_and_replaces_lists() -> None:
    base = {"order": ["a", "b"], "filter": {"x": 1, "y": {"z": 2}}}
    assert deep_merge(base, {"order": ["a"], "filter": {"y": {"w": 3}}}) == \
        {"order": ["a"], "filter": {"x": 1, "y": {"z": 2, "w": 3}}}
    assert base["filter"]["y"] == {"z": 2}  # the base is untouched
