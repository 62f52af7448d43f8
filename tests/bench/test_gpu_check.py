"""bench/gpu_check.sh in its CPU mode, as CI runs it so the prepared GPU check cannot rot: the trainer's five
launches (speed, bf16, fp32, an uninterrupted reference, killed and resumed) on a small real dataset, every
check passing and every output under the folder given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pipeline.manifest import load_manifest
from tests.training.trainer_helpers import bpe_dataset

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import gpu_check  # noqa: E402


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "PYTHON": sys.executable, **env})


@pytest.mark.slow
def test_cpu_mode_runs_every_check_and_writes_only_under_out(tmp_path_factory: pytest.TempPathFactory,
                                                             tmp_path: Path) -> None:
    tokens = bpe_dataset(tmp_path_factory)
    out = tmp_path / "out"
    run = run_script("--cpu", "--tokens", str(tokens), OUT=str(out))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((out / "gpu_check.json").read_text())
    assert result["passed"] and result["checks"] == {"bf16_matches_fp32": True, "resume_repeats_the_killed_step": True,
                                                     "resume_matches_uninterrupted": True}
    speed = result["speed"]
    assert speed["tokens_per_s"] > 0 and 0 < speed["mfu"] < 1 and speed["peak_flops_source"] == "measured"
    precision = result["precision"]
    assert precision["steps"] == [1, 2, 3, 4] and 0 < precision["max_abs_diff"] <= 0.05  # bf16 differs, slightly
    resume = result["resume"]
    assert resume["checkpoint_step"] == 10 and resume["redone_steps"] and resume["tolerance"] == 0.0
    assert resume["first_redone_step_bitwise"] and resume["bitwise_vs_uninterrupted"]  # CPU: bit for bit
    assert resume["steps_after_resume"] == 30 - resume["checkpoint_step"]
    assert sorted(p.name for p in out.iterdir()) == ["configs", "gpu_check.json", "logs", "runs", "summary.txt"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["bf16", "fp32", "reference", "resume", "speed"]
    assert "PASSED" in (out / "summary.txt").read_text() and "PASSED" in run.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU; here a GPU "
                    "is present, so GPU mode really runs (bench/gpu_check.sh measures it)")
def test_gpu_mode_without_a_gpu_says_so(tmp_path: Path) -> None:
    run = run_script("--out", str(tmp_path))
    assert run.returncode == 1 and "torch sees no CUDA device" in run.stderr and "pass --cpu" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_demo_manifest_it_writes_validates(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    path = gpu_check.demo_manifest(tmp_path, REPO / "samples" / "tokenizers" / "gpt2.tiktoken")
    manifest = load_manifest(path)
    assert manifest.run_dir == tmp_path / "data" / "demo-gpt2"
    check = subprocess.run([sys.executable, "-m", "pipeline", "check", str(path)], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    assert check.returncode == 0, check.stderr
