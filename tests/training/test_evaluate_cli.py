"""`python -m training.evaluate`: results JSON beside the checkpoint, the same scores from a Hugging Face
GPT-2 folder of the same weights and from two torchrun ranks, one error line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.hf_interop import export_checkpoint
from tests.tiny_checkpoint import save_tiny_checkpoint
from training.benchmarks.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("cli") / "checkpoint.pt"
    save_tiny_checkpoint(path, shared_data, seed=5)
    return path


def test_writes_results_beside_the_checkpoint(checkpoint: Path, shared_data: Path, tmp_path: Path, capsys) -> None:
    text_file = tmp_path / "verdict-start.txt"
    verdict = (shared_data / "books" / "the-verdict.txt").read_text(encoding="utf-8")
    text_file.write_text(verdict[:3000], encoding="utf-8")
    assert main([str(checkpoint), "--tasks", "core.copa,lambada_openai", "--limit", "5", "--device", "cpu",
                 "--data-dir", str(shared_data / "eval"), "--bpb", str(text_file)]) == 0
    out = checkpoint.with_name("checkpoint.eval.json")
    report = json.loads(out.read_text())
    assert set(report["tasks"]) == {"core.copa", "lambada_openai"}
    copa = report["tasks"]["core.copa"]
    assert copa["metric"] == "acc_per_token" and copa["items"] == 5 and copa["random_baseline"] == 0.5
    assert copa["value"] == copa["acc_per_token"] and {"acc", "acc_norm", "seconds"} <= set(copa)
    assert {"acc", "perplexity"} <= set(report["tasks"]["lambada_openai"])
    assert report["core"]["tasks"] == ["core.copa"] and len(report["core"]["not_scored"]) == 19
    assert report["core"]["value"] == pytest.approx((copa["value"] - 0.5) / 0.5)
    assert report["bits_per_byte"][0]["bytes"] == text_file.stat().st_size
    assert report["seed"] == 1234 and report["limit"] == 5
    printed = capsys.readouterr()
    assert "core.copa" in printed.out and "items/s" in printed.err


def test_hf_folder_scores_like_the_checkpoint(checkpoint: Path, shared_data: Path, tmp_path: Path) -> None:
    folder = export_checkpoint(checkpoint, tmp_path / "hf")
    args = ["--tasks", "core.winograd", "--limit", "6", "--device", "cpu", "--data-dir", str(shared_data / "eval")]
    assert main([str(checkpoint), *args, "--out", str(tmp_path / "a.json")]) == 0
    assert main([str(folder), *args, "--out", str(tmp_path / "b.json")]) == 0
    a, b = (json.loads((tmp_path / name).read_text())["tasks"]["core.winograd"] for name in ("a.json", "b.json"))
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


def test_bad_input_is_one_error_line(tmp_path: Path, checkpoint: Path, capsys) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    assert main([str(garbage), "--tasks", "core.copa"]) == 2
    assert capsys.readouterr().err.startswith(f"error: checkpoint {garbage} cannot be read")
    assert main([str(checkpoint), "--tasks", "core.copa,nonesuch"]) == 2
    assert "unknown task or group 'nonesuch'" in capsys.readouterr().err


def test_two_ranks_score_like_one(checkpoint: Path, shared_data: Path, tmp_path: Path) -> None:
    args = [str(checkpoint), "--tasks", "core.copa,core.bigbench_operators", "--limit", "5", "--device", "cpu",
            "--data-dir", str(shared_data / "eval")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    torchrun = Path(sys.executable).with_name("torchrun")
    two = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "training.evaluate", *args,
                          "--out", str(tmp_path / "two.json")], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    assert main([*args, "--out", str(tmp_path / "one.json")]) == 0
    one, two_ranks = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert two_ranks["world_size"] == 2
    for name in ("core.copa", "core.bigbench_operators"):
        drop = {"seconds"}
        assert ({k: v for k, v in one["tasks"][name].items() if k not in drop}
                == pytest.approx({k: v for k, v in two_ranks["tasks"][name].items() if k not in drop}))
