"""``python -m training.ablate`` end to end on a tiny real ablation: 2 variants x 2 seeds of the tiny model,
killed with SIGKILL inside its second run and resumed; then the report, the resumed run against an
uninterrupted one, and the held-out text against every variant's training tokens."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from contracts.ablation import load_ablation
from contracts.token_dataset import TokenDataset
from training.ablate import RunSpec, run_one, run_specs, train_all
from tests.ablation_helpers import write_ablation

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # one real ablation for the module: ~60 s on a quiet 2-core machine


def _losses(metrics: Path) -> list[tuple[int, float]]:
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [(r["step"], r["loss"]) for r in records if r["kind"] == "train"]


@pytest.fixture(scope="module")
def ablated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The ablation run once: halted for good at step 6 of its second run (checkpoint at step 4), killed
    with SIGKILL, and rerun to the end."""
    folder = tmp_path_factory.mktemp("ablation")
    path = write_ablation(folder)
    flag = folder / "halted"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "tests.training.gated_ablate", "2", "6", str(flag), str(path)],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                               start_new_session=True)
    deadline = time.monotonic() + 400
    while not flag.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    halted = flag.exists()
    os.killpg(process.pid, signal.SIGKILL)
    stderr = process.communicate()[1].decode()
    assert halted, stderr[-3000:]
    ablation = load_ablation(path)
    killed_dir, first_dir = sorted(ablation.layout.runs.glob("raw/seed-*"))[::-1]  # seed-2-..., seed-1-...
    before = {"first_result": (first_dir / "result.json").exists(),
              "killed_result": (killed_dir / "result.json").exists(), "killed_logged": _losses(
                  killed_dir / "metrics.jsonl")[-1][0]}
    resumed = subprocess.run([sys.executable, "-m", "training.ablate", str(path)], cwd=REPO, capture_output=True,
                             text=True, timeout=400, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    data = json.loads(ablation.layout.data_record.read_text())
    return {"ablation": ablation, "before": before, "resumed": resumed, "data": data, "folder": folder,
            "killed_dir": killed_dir,
            "report": json.loads((ablation.layout.report / "report.json").read_text())}


def test_every_variant_and_seed_is_trained_scored_and_compared(ablated: dict[str, Any]) -> None:
    report, ablation = ablated["report"], ablated["ablation"]
    assert report["variants"] == ["raw", "filtered+dedup"] and set(report["scores"]) == set(report["variants"])
    for variant, scores in report["scores"].items():
        bpb = scores["bits_per_byte"]
        assert bpb["n"] == 2 and bpb["values"][0] != bpb["values"][1]  # the seeds are different models
        assert all(math.isfinite(v) and 0 < v for v in bpb["values"])
        curve = report["curves"][variant]["bits_per_byte"]
        assert [s for s, _ in curve] == [0, 4, 8, 12] and curve[-1][1] < curve[0][1]  # it learned
        assert scores["core.copa"]["n"] == 2
    pair = report["comparisons"][0]
    assert (pair["a"], pair["b"]) == ("raw", "filtered+dedup")
    assert isinstance(pair["bits_per_byte"]["beyond_seed_spread"], bool)
    assert pytest.approx(pair["bits_per_byte"]["difference"]) == \
        report["scores"]["raw"]["bits_per_byte"]["mean"] - report["scores"]["filtered+dedup"]["bits_per_byte"]["mean"]
    funnel = report["funnel"]
    assert [r["stage"] for r in funnel["raw"]] == ["crawl", "held-out", "tokenize"]
    assert [r["stage"] for r in funnel["filtered+dedup"]] == ["crawl", "filter", "dedup", "held-out", "tokenize"]
    assert funnel["filtered+dedup"][1]["docs_out"] < funnel["raw"][0]["docs_out"]  # the filter removed some
    assert all(rows[-1]["tokens_train"] > 0 for rows in funnel.values())
    assert report["plan"]["filtered+dedup"][0]["action"] == "reuse"  # one crawl for both
    assert len(list((ablation.layout.root / "nodes").glob("*.json"))) == 7  # crawl, filter, dedup, 2 x 2
    for name in ("report.md", "report.html"):
        text = (ablation.layout.report / name).read_text()
        assert "filtered+dedup" in text and "bits_per_byte" in text


def test_a_killed_ablation_resumes_its_run_and_skips_finished_work(ablated: dict[str, Any]) -> None:
    before, resumed, ablation = ablated["before"], ablated["resumed"], ablated["ablation"]
    assert before == {"first_result": True, "killed_result": False, "killed_logged": 6}
    assert "raw seed 1: finished, skipped" in resumed.stderr
    assert "already done, reused" in resumed.stderr and "[ablation] crawl" in resumed.stderr
    killed_dir = ablated["killed_dir"]
    assert f"resuming {killed_dir / 'checkpoint.pt'} at step 4" in resumed.stdout
    # the resumed run is the run an uninterrupted process trains
    spec = next(s for s in run_specs(ablation, ablated["data"]) if (s.variant, s.seed) == ("raw", 2))
    assert Path(spec.config["out_dir"]) == killed_dir
    whole = RunSpec("raw", 2, {**spec.config, "out_dir": str(ablated["folder"] / "whole")})
    reference = run_one(whole, quiet=True)
    result = json.loads((killed_dir / "result.json").read_text())
    assert _losses(killed_dir / "metrics.jsonl") == _losses(ablated["folder"] / "whole" / "metrics.jsonl")
    assert [s for s, _ in _losses(killed_dir / "metrics.jsonl")] == list(range(1, 13))
    assert result["final"] == reference["final"] and result["curves"] == reference["curves"]


def test_the_held_out_text_is_in_no_variant_s_training_tokens(ablated: dict[str, Any]) -> None:
    ablation, data = ablated["ablation"], ablated["data"]
    held = pq.read_table(ablation.layout.held_out / "documents.parquet")
    held_ids = set(held["id"].to_pylist())
    assert len(held_ids) == 3
    windows = [text[i:i + 80] for text in held["text"].to_pylist() for i in range(0, len(text) - 80, 1000)]
    # a control: windows of Wikipedia articles that are not held out are found the same way
    crawl = next(ablation.layout.stages.glob("crawl-*"))
    others = [row["text"] for shard in crawl.glob("docs/wiki/*.parquet")
              for row in pq.read_table(shard, columns=["id", "text"]).to_pylist() if row["id"] not in held_ids]
    control = [text[i:i + 80] for text in others for i in range(0, len(text) - 80, 1000)][::20][:30]
    assert len(windows) > 20 and len(control) >= 10
    for variant, info in data["variants"].items():
        dataset = TokenDataset.open(info["dataset"])
        train_text = "".join(dataset.decode(shard.values) for source in dataset.sources
                             for shard in dataset.shards("train", source))
        found = [w for w in windows if w in train_text]
        assert found == [], f"{variant}: held-out text in its training tokens: {found[:2]}"
        assert sum(w in train_text for w in control) > len(control) // 2, variant
        assert data["held_out_scrub"][info["nodes"][-2]] == {"removed.id": 3}


def test_runs_as_ray_tasks_train_the_same_models(ablated: dict[str, Any], ray_local, tmp_path: Path) -> None:
    """``runner.kind: ray``: each run a Ray task on a real local Ray; the same config gives the same model."""
    base = ablated["ablation"]
    runner = base.model.runner.model_copy(update={"kind": "ray"})
    ablation = dataclasses.replace(base, model=base.model.model_copy(update={"runner": runner}))
    specs = [s for s in run_specs(ablation, ablated["data"]) if s.seed == 1]
    moved = [RunSpec(s.variant, s.seed, {**s.config, "out_dir": str(tmp_path / s.variant)}) for s in specs]
    results = train_all(ablation, moved)
    for spec, result in zip(specs, results):
        local = json.loads((Path(spec.config["out_dir"]) / "result.json").read_text())
        assert (result["variant"], result["final"], result["curves"]) == (spec.variant, local["final"],
                                                                           local["curves"])
        assert (tmp_path / spec.variant / "result.json").exists()
