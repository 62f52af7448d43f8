"""The trainer's hardware paths on CPU: `compile: true` (torch.compile with the inductor CPU backend), a
bf16 autocast step, and the shipped demo config (`cpu-small`) for a few steps through the command line that
`make demo` runs. CUDA itself is not available in CI; these run the same code paths the GPU takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from model.checkpoint_io import load_checkpoint
from tests.training.trainer_helpers import bpe_dataset, config_dict, train_losses, write_config
from training.config import parse_config
from training.train import main as train_main
from training.train import train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpe_dataset(tmp_path_factory)


def _run(tokens: Path, out: Path, **system) -> tuple[list[float], dict]:
    """Three steps of the tiny model (one sequence of 64 tokens per micro-batch, so compiling is quick)."""
    data = config_dict(tokens, out, optim={"max_steps": 3, "batch_tokens": 256, "micro_batch": 4},
                       eval={"every": 100, "batches": 1, "batch_size": 2}, checkpoint={"every": 100})
    data["system"].update(system)
    result = train(parse_config(data), echo=None)
    records = [json.loads(line) for line in result.metrics.read_text().splitlines() if line]
    run = next(r for r in records if r["kind"] == "start")
    return [loss for _, loss in train_losses(result.metrics)], run


@pytest.fixture(scope="module")
def eager(tokens: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[float], dict]:
    return _run(tokens, tmp_path_factory.mktemp("eager"), dtype="float32", compile=False)


@pytest.mark.slow  # inductor compiles forward, backward and the eval graph: ~1 min of CPU, minutes when loaded
def test_compile_true_on_cpu_trains_like_eager(tokens: Path, tmp_path: Path, eager) -> None:
    """The compiled model computes the same function: the same three losses as eager fp32 to float
    rounding (inductor fuses and reorders reductions, so not bit for bit)."""
    losses, run = _run(tokens, tmp_path, dtype="float32", compile=True)
    assert run["compile"] is True and run["dtype"] == "float32"
    assert len(losses) == 3
    assert losses == pytest.approx(eager[0], rel=1e-4, abs=1e-4)
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # the raw model's weights
    assert not any("_orig_mod" in key for key in checkpoint["model"])
    load_checkpoint(tmp_path / "checkpoint.pt")  # and it loads into an eager model


def test_bf16_autocast_step_on_cpu(tokens: Path, tmp_path: Path, eager) -> None:
    """bf16 autocast really runs (losses differ from fp32 in their low bits) and stays close to fp32;
    the master weights and the saved checkpoint stay float32."""
    losses, run = _run(tokens, tmp_path, dtype="bfloat16", compile=False)
    assert run["dtype"] == "bfloat16"
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    assert losses != eager[0]  # autocast changed the arithmetic
    assert losses == pytest.approx(eager[0], abs=0.05)  # bf16 keeps 8 bits of mantissa: ~1e-2 on ~6.2
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {t.dtype for t in checkpoint["model"].values() if t.is_floating_point()} == {torch.float32}


def test_demo_config_trains_cpu_small_through_the_command_line(tokens: Path, tmp_path: Path) -> None:
    """training/configs/demo.yaml as `make demo` runs it (`--resume` on a fresh folder), with its data
    section pointed at the test's token shards (the demo's own shards need the pipeline run first) and
    its 300 steps cut to 2; model, optimiser, evaluation and system settings are the shipped ones."""
    demo = yaml.safe_load((REPO / "training" / "configs" / "demo.yaml").read_text())
    assert demo["model"]["preset"] == "cpu-small" and demo["system"]["device"] == "auto"
    demo["out_dir"] = str(tmp_path / "train")
    demo["data"] = {"dataset": str(tokens)}
    demo["optim"]["max_steps"] = 2
    demo["optim"]["warmup_steps"] = 1
    demo["eval"].update(every=2, batches=1)
    demo["checkpoint"]["every"] = 2
    assert train_main([str(write_config(tmp_path / "demo.yaml", demo)), "--resume"]) == 0
    model, checkpoint = load_checkpoint(tmp_path / "train" / "checkpoint.pt")
    assert (model.config.n_layer, model.config.n_embd, model.config.context_length) == (4, 256, 256)
    losses = [loss for _, loss in train_losses(tmp_path / "train" / "metrics.jsonl")]
    assert len(losses) == 2 and all(loss == loss for loss in losses)
    assert train_main([str(tmp_path / "demo.yaml"), "--resume"]) == 0  # a rerun finds it finished
