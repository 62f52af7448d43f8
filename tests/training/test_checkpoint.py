"""Checkpoints and resume: a killed run resumed from its checkpoint logs the uninterrupted run's losses bit
for bit (CPU), and a resume that would not continue the same run is refused with a clear message."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.training.trainer_helpers import bpe_dataset, config_dict, train_losses, write_config
from training import checkpoint as ckpt
from training.config import parse_config
from training.metrics import read_metrics
from training.train import train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpe_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def uninterrupted(tokens: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 steps, checkpoints every 5, never stopped: the reference metrics."""
    out = tmp_path_factory.mktemp("whole")
    train(parse_config(config_dict(tokens, out, optim={"max_steps": 24})), echo=None)
    return out


def records_without_timing(metrics: Path) -> list[dict]:
    """Train and eval records minus the wall-clock fields, which legitimately differ between runs."""
    timing = {"tokens_per_s", "mfu", "step_ms"}
    return [{k: v for k, v in r.items() if k not in timing} for r in read_metrics(metrics) if r["kind"] != "start"]


def test_stopped_and_resumed_run_repeats_the_losses_bitwise(tokens: Path, uninterrupted: Path, tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path, optim={"max_steps": 24}))
    stopped = train(config, stop_after=13, echo=None)  # last checkpoint at step 10; steps 11-13 are redone
    assert stopped.step == 13
    assert torch.load(stopped.checkpoint, weights_only=True)["trainer"]["step"] == 10
    resumed = train(config, resume=True, echo=None)
    assert resumed.step == 24
    assert train_losses(resumed.metrics) == train_losses(uninterrupted / "metrics.jsonl")  # exact floats
    assert records_without_timing(resumed.metrics) == records_without_timing(uninterrupted / "metrics.jsonl")
    starts = read_metrics(resumed.metrics, "start")
    assert [(s["step"], s["resumed"]) for s in starts] == [(0, False), (10, True)]
    assert [r["step"] for r in read_metrics(resumed.metrics, "eval")] == [0, 10, 20, 24]
    final = torch.load(resumed.checkpoint, weights_only=True)["model"]
    reference = torch.load(uninterrupted / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(final[k], reference[k]) for k in reference)


def test_resume_restores_the_dropout_random_stream(tokens: Path, tmp_path: Path) -> None:
    """With dropout the losses depend on the RNG, so this fails unless its state is saved and restored."""
    def config(out: str):
        return parse_config(config_dict(tokens, tmp_path / out, optim={"max_steps": 12},
                                        model={"preset": "tiny", "overrides": {"dropout": 0.1}}))

    whole = train(config("whole"), echo=None)
    train(config("cut"), stop_after=7, echo=None)
    resumed = train(config("cut"), resume=True, echo=None)
    assert train_losses(resumed.metrics) == train_losses(whole.metrics)


def test_sigkilled_process_resumes_to_the_same_losses(tokens: Path, tmp_path: Path) -> None:
    """A real `python -m training.train` killed with SIGKILL between checkpoints, then `--resume`d."""
    data = config_dict(tokens, tmp_path / "killed", optim={"max_steps": 60}, checkpoint={"every": 5})
    path = write_config(tmp_path / "killed.yaml", data)
    metrics, checkpoint = tmp_path / "killed" / "metrics.jsonl", tmp_path / "killed" / "checkpoint.pt"
    flag = tmp_path / "halted"
    process = subprocess.Popen([sys.executable, "-m", "tests.training.gated_train", "7", str(flag), str(path)],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # the run halts for good after logging step 7: the kill cannot miss
    while not flag.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert flag.exists(), process.stderr.read().decode() if process.poll() is not None else "timed out"
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved_step = torch.load(checkpoint, weights_only=True)["trainer"]["step"]
    logged_step = train_losses(metrics)[-1][0]
    assert (saved_step, logged_step) == (5, 7)  # steps 6 and 7 were logged and must be redone identically

    resumed = subprocess.run([sys.executable, "-m", "training.train", str(path), "--resume"], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {checkpoint} at step {saved_step}" in resumed.stdout
    whole = parse_config(config_dict(tokens, tmp_path / "whole", optim={"max_steps": 60}, checkpoint={"every": 5}))
    reference = train(whole, echo=None)
    assert train_losses(metrics) == train_losses(reference.metrics)
    assert [s for s, _ in train_losses(metrics)] == list(range(1, 61))


def test_existing_checkpoint_needs_resume(tokens: Path, uninterrupted: Path) -> None:
    config = parse_config(config_dict(tokens, uninterrupted, optim={"max_steps": 24}))
    with pytest.raises(ckpt.CheckpointError, match="already holds a checkpoint; pass --resume"):
        train(config, echo=None)


def test_resuming_a_finished_run_does_nothing(tokens: Path, uninterrupted: Path) -> None:
    before = (uninterrupted / "metrics.jsonl").read_text()
    result = train(parse_config(config_dict(tokens, uninterrupted, optim={"max_steps": 24})), resume=True, echo=None)
    assert result.step == 24
    assert (uninterrupted / "metrics.jsonl").read_text() == before


def test_resume_with_changed_optimisation_is_refused(tokens: Path, uninterrupted: Path) -> None:
    config = parse_config(config_dict(tokens, uninterrupted, optim={"max_steps": 24, "lr": 1e-3}))
    with pytest.raises(ckpt.CheckpointError, match=r"optim\.lr: checkpoint 0\.003, config 0\.001"):
        train(config, resume=True, echo=None)


def test_resume_against_another_tokenizer_is_refused(tokens: Path, uninterrupted: Path,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    other = bpe_dataset(tmp_path_factory, vocab_size=600)
    config = parse_config(config_dict(other, uninterrupted, optim={"max_steps": 24}))
    with pytest.raises(ckpt.CheckpointError, match="was trained with tokenizer 'refinery-bpe'.*the token ids "
                       "mean different things"):
        train(config, resume=True, echo=None)


def test_resume_against_another_dataset_with_the_same_tokenizer_is_refused(
        tokens: Path, uninterrupted: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = bpe_dataset(tmp_path_factory, shard_tokens=50_000)  # same BPE, shards cut differently
    assert json.loads((other / "index.json").read_text())["tokenizer"] == \
        json.loads((tokens / "index.json").read_text())["tokenizer"]
    config = parse_config(config_dict(other, uninterrupted, optim={"max_steps": 24}))
    with pytest.raises(ckpt.CheckpointError, match="resuming would change the data order"):
        train(config, resume=True, echo=None)


def test_damaged_checkpoint_and_unknown_versions_are_refused(tmp_path: Path, uninterrupted: Path) -> None:
    damaged = tmp_path / "checkpoint.pt"
    damaged.write_bytes((uninterrupted / "checkpoint.pt").read_bytes()[:1000])
    with pytest.raises(ckpt.CheckpointError, match="cannot be read .* damaged"):
        ckpt.load(damaged)
    state = ckpt.TrainState()
    with pytest.raises(ckpt.CheckpointError, match="trainer state version 2"):
        state.load_state_dict({"version": 2, "step": 1, "tokens_seen": 1})
    state.load_state_dict({"version": 1, "step": 3, "tokens_seen": 9})
    assert state.state_dict() == {"version": 1, "step": 3, "tokens_seen": 9}


def test_atomic_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    ckpt.save_atomic({"format_version": ckpt.FORMAT_VERSION, "x": torch.arange(3)}, tmp_path / "c.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
    assert torch.equal(ckpt.load(tmp_path / "c.pt")["x"], torch.arange(3))
