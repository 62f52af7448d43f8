"""Checkpoints and resume: a killed run resumed from its checkpoint logs the uninterrupted run's losses bit
for bit (CPU), and a resume that would not continue the same run is refused with a clear message."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
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
    timing = {"tokens_per_s", "mfu", "step_ms", "mfu_measured"}
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


class NodeGenerators:
    """A CPU stand-in for one node's GPUs as ``torch.cuda``'s per-device RNG calls see them: one real
    generator per device index, and the error torch raises for an index the process cannot see."""

    def __init__(self, count: int, seed: int):
        self.generators = [torch.Generator().manual_seed(seed + i) for i in range(count)]

    def _of(self, device: torch.device) -> torch.Generator:
        if device.index is None or device.index >= len(self.generators):
            raise IndexError(f"invalid device {device}: this node has {len(self.generators)} GPUs")
        return self.generators[device.index]

    def get_rng_state(self, device: torch.device) -> torch.Tensor:
        return self._of(device).get_state()

    def set_rng_state(self, new_state: torch.Tensor, device: torch.device) -> None:
        self._of(device).set_state(new_state)


def test_each_rank_saves_and_restores_only_its_own_gpus_rng_state_on_any_layout() -> None:
    """Saved on 1 node x 8 GPUs, resumed on 2 x 4: global rank 5 ran on cuda:5 and now runs on cuda:1. With
    every visible GPU's state saved and restored, the 4-GPU node raised IndexError."""
    old_node = NodeGenerators(8, seed=100)
    for generator in old_node.generators:
        torch.rand(3, generator=generator)  # some dropout happened before the checkpoint
    saved = [ckpt.rng_state(torch.device("cuda", rank), old_node) for rank in range(8)]
    assert all(set(state) == {"cpu", "device"} for state in saved)
    continued = [torch.rand(4, generator=g) for g in old_node.generators]  # what each rank drew next

    new_nodes = [NodeGenerators(4, seed=0), NodeGenerators(4, seed=50)]
    for rank in range(8):
        node, local = new_nodes[rank // 4], rank % 4
        assert ckpt.set_rng_state(saved[rank], torch.device("cuda", local), node) is None
        assert torch.equal(torch.rand(4, generator=node.generators[local]), continued[rank])

    legacy = {"cpu": torch.get_rng_state(), "cuda": [g.get_state() for g in NodeGenerators(2, seed=7).generators]}
    node = NodeGenerators(4, seed=0)  # a checkpoint from before: every visible GPU's state, in a list
    assert ckpt.set_rng_state(legacy, torch.device("cuda", 1), node) is None
    assert torch.equal(node.generators[1].get_state(), legacy["cuda"][1])
    note = ckpt.set_rng_state(legacy, torch.device("cuda", 3), node)
    assert note is not None and "no GPU RNG state for cuda:3" in note
    assert set(ckpt.rng_state(torch.device("cpu"))) == {"cpu"}  # CPU training has no device generator


def test_background_writes_run_one_at_a_time_and_wait_raises_their_error(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    release = threading.Event()
    real_save = ckpt.save_atomic

    def save(payload: dict, path: Path) -> None:
        events.append(f"start {payload['n']}")
        release.wait(timeout=60)  # the first write holds on until the trainer has gone on and submitted again
        real_save(payload, path)
        events.append(f"end {payload['n']}")

    monkeypatch.setattr(ckpt, "save_atomic", save)
    writer = ckpt.CheckpointWriter()
    live = torch.zeros(3)
    writer.submit({"format_version": ckpt.FORMAT_VERSION, "n": 1, "w": live}, tmp_path / "c.pt")
    live += 1  # training goes on: the write must hold the values at submit time
    assert writer.busy and events == ["start 1"]
    threading.Timer(0.2, release.set).start()
    writer.submit({"format_version": ckpt.FORMAT_VERSION, "n": 2, "w": live}, tmp_path / "d.pt")
    writer.wait()
    assert events == ["start 1", "end 1", "start 2", "end 2"]
    assert torch.equal(ckpt.load(tmp_path / "c.pt")["w"], torch.zeros(3))
    assert torch.equal(ckpt.load(tmp_path / "d.pt")["w"], torch.ones(3))

    writer.submit({"format_version": ckpt.FORMAT_VERSION, "n": 3}, tmp_path / "absent-folder" / "x" / "e.pt")
    monkeypatch.setattr(ckpt, "save_atomic", lambda *_: (_ for _ in ()).throw(OSError("No space left on device")))
    writer.submit({"format_version": ckpt.FORMAT_VERSION, "n": 4}, tmp_path / "f.pt")
    with pytest.raises(OSError, match="No space left"):
        writer.wait()
    writer.wait()  # raised once


def test_a_background_write_finishes_before_the_process_exits(tmp_path: Path) -> None:
    """The script submits a slow write and returns at once; the interpreter still finishes the file."""
    script = (
        "import sys, time; from pathlib import Path; import torch; from training import checkpoint as ckpt\n"
        "save = ckpt.save_atomic\n"
        "def slow(payload, path):\n    time.sleep(1.0); save(payload, path)\n"
        "ckpt.save_atomic = slow\n"
        "ckpt.CheckpointWriter().submit({'format_version': ckpt.FORMAT_VERSION, 'w': torch.arange(5)}, "
        "Path(sys.argv[1]))\n"
        "print('returned', flush=True)\n")
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "c.pt")], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "returned\n", run.stderr
    assert torch.equal(ckpt.load(tmp_path / "c.pt")["w"], torch.arange(5))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_writing_in_the_foreground_gives_the_same_checkpoint(tokens: Path, uninterrupted: Path,
                                                             tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path, optim={"max_steps": 24},
                                      checkpoint={"every": 5, "background": False}))
    train(config, echo=None)
    assert records_without_timing(tmp_path / "metrics.jsonl") == records_without_timing(uninterrupted / "metrics.jsonl")
    ours = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    reference = torch.load(uninterrupted / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(ours["model"][k], v) for k, v in reference["model"].items())
    assert (ours["trainer"], ours["sampler"]) == (reference["trainer"], reference["sampler"])
    assert torch.equal(ours["rng"][0]["cpu"], reference["rng"][0]["cpu"])
