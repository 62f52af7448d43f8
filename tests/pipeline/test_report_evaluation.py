"""Two runs' benchmark scores side by side: results files written by the real evaluator on two tiny
models, paired by their place in the run folders, every figure equal to the files' own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.eval_results import ResultsError, find_results, read_results, write_results
from pipeline.report.evaluation import evaluation_diffs, render_evaluation
from tests.pipeline.test_report import _assert_page_matches
from tests.tiny_checkpoint import save_tiny_checkpoint


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path]:
    from training.benchmarks.cli import main

    root = tmp_path_factory.mktemp("eval-runs")
    text = root / "verdict.txt"
    text.write_text((shared_data / "books" / "the-verdict.txt").read_text(encoding="utf-8")[:1500], encoding="utf-8")
    runs = []
    for name, seed, tasks in (("a", 0, "core.copa,lambada_openai"), ("b", 1, "core.copa,core.winograd")):
        checkpoint = root / name / "train" / "checkpoint.pt"
        checkpoint.parent.mkdir(parents=True)
        save_tiny_checkpoint(checkpoint, shared_data, seed=seed)
        assert main([str(checkpoint), "--tasks", tasks, "--limit", "6", "--bpb", str(text), "--device", "cpu",
                     "--data-dir", str(shared_data / "eval")]) == 0
        runs.append(root / name)
    return runs[0], runs[1]


def test_scores_of_two_runs_pair_up_with_differences(two_runs) -> None:
    run_a, run_b = two_runs
    (file_a,), (file_b,) = find_results(run_a), find_results(run_b)
    assert file_a == run_a / "train" / "checkpoint.eval.json"
    a, b = read_results(file_a), read_results(file_b)
    data = evaluation_diffs(run_a, run_b)
    assert data["only_a"] == data["only_b"] == []
    (pair,) = data["pairs"]
    rows = {t["task"]: t for t in pair["tasks"]}
    assert set(rows) == {"core.copa", "lambada_openai", "core.winograd"}
    copa = rows["core.copa"]
    assert (copa["a"], copa["b"]) == (a["tasks"]["core.copa"]["value"], b["tasks"]["core.copa"]["value"])
    assert copa["diff"] == pytest.approx(copa["b"] - copa["a"]) and copa["items_a"] == copa["items_b"] == 6
    assert rows["lambada_openai"]["b"] is None and rows["lambada_openai"]["diff"] is None
    assert rows["core.winograd"]["a"] is None and rows["core.winograd"]["b"] == b["tasks"]["core.winograd"]["value"]
    assert pair["core"] == {"a": a["core"]["value"], "b": b["core"]["value"],
                            "diff": pytest.approx(b["core"]["value"] - a["core"]["value"])}
    (bpb,) = pair["bits_per_byte"]
    assert (bpb["a"], bpb["b"]) == (a["bits_per_byte"][0]["bits_per_byte"], b["bits_per_byte"][0]["bits_per_byte"])
    assert pair["caveats"] == []
    html = render_evaluation(data)
    # bound cells: copa's A, B, B - A; lambada's A and winograd's B (no difference where one side is
    # missing); CORE's three; bits per byte's three
    assert _assert_page_matches(html, {"evaluation": data}) == 3 + 1 + 1 + 3 + 3


def test_unpaired_files_and_differing_limits_are_said(two_runs, tmp_path: Path) -> None:
    run_a, run_b = two_runs
    extra = json.loads((run_b / "train" / "checkpoint.eval.json").read_text())
    write_results(run_b / "other" / "checkpoint.eval.json", {**extra, "limit": 50})
    data = evaluation_diffs(run_a, run_b)
    assert len(data["pairs"]) == 1 and data["only_b"] == [str(run_b / "other" / "checkpoint.eval.json")]
    # the lone files pair whatever their names when each run holds one
    write_results(tmp_path / "x" / "eval.json", {**extra, "limit": 50})
    (pair,) = evaluation_diffs(run_a, tmp_path)["pairs"]
    assert pair["caveats"] == ["limit differs: A 6, B 50"]
    assert "Not comparable as they stand: limit differs" in render_evaluation(evaluation_diffs(run_a, tmp_path))
    assert "Neither run holds benchmark results" in render_evaluation(evaluation_diffs(tmp_path / "x" / "none",
                                                                                       tmp_path / "none"))


def test_a_damaged_results_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "run" / "train" / "checkpoint.eval.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({"tasks": {"core.copa": {"metric": "acc", "value": "high", "items": 3,
                                                       "random_baseline": 0.5}}}))
    with pytest.raises(ResultsError, match=r"checkpoint\.eval\.json: task 'core\.copa' field 'value'"):
        evaluation_diffs(tmp_path / "run", tmp_path / "run")
    bad.write_text("{")
    with pytest.raises(ResultsError, match="not valid JSON"):
        read_results(bad)
