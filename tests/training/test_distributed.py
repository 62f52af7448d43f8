"""DDP on CPU: `torchrun --nproc_per_node=2` (gloo) trains the same model as one process with the same
global batch, up to float summation order; only rank 0 writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from tests.training.trainer_helpers import bpe_dataset, config_dict, train_losses, write_config
from training.config import parse_config
from training.distributed import Dist, pick_device, setup
from training.metrics import read_metrics
from training import checkpoint as ckpt
from training.train import train

REPO = Path(__file__).resolve().parents[2]


def test_two_processes_match_one_with_the_same_global_batch(tmp_path_factory: pytest.TempPathFactory,
                                                            tmp_path: Path) -> None:
    tokens = bpe_dataset(tmp_path_factory)
    sections = dict(optim={"max_steps": 8}, eval={"every": 4}, checkpoint={"every": 4})
    path = write_config(tmp_path / "ddp.yaml", config_dict(tokens, tmp_path / "ddp", **sections))
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    run = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "training.train", str(path)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("checkpoint:") == 1  # rank 0 alone reports (and writes)

    single = train(parse_config(config_dict(tokens, tmp_path / "one", **sections)), echo=None)
    start = read_metrics(tmp_path / "ddp" / "metrics.jsonl", "start")[0]
    assert (start["world_size"], start["device"], start["micro_steps"]) == (2, "cpu", 2)
    assert read_metrics(single.metrics, "start")[0]["micro_steps"] == 4

    ddp_losses = train_losses(tmp_path / "ddp" / "metrics.jsonl")
    one_losses = train_losses(single.metrics)
    assert [s for s, _ in ddp_losses] == [s for s, _ in one_losses] == list(range(1, 9))
    assert [loss for _, loss in ddp_losses] == pytest.approx([loss for _, loss in one_losses], rel=1e-5)
    ddp_evals = read_metrics(tmp_path / "ddp" / "metrics.jsonl", "eval")
    one_evals = read_metrics(single.metrics, "eval")
    assert [e["val_tokens"] for e in ddp_evals] == [e["val_tokens"] for e in one_evals]  # the same windows
    assert [e["val_loss_overall"] for e in ddp_evals] == pytest.approx([e["val_loss_overall"] for e in one_evals],
                                                                       rel=1e-5)
    ddp_state = torch.load(tmp_path / "ddp" / "checkpoint.pt", weights_only=True)
    one_state = torch.load(single.checkpoint, weights_only=True)
    assert len(ddp_state["rng"]) == 2 and len(one_state["rng"]) == 1
    assert ddp_state["model"].keys() == one_state["model"].keys()  # no "module." prefix from DDP
    for key, value in one_state["model"].items():
        torch.testing.assert_close(ddp_state["model"][key], value, rtol=1e-4, atol=1e-5)


def test_single_process_needs_no_process_group(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    where = setup("auto" if not torch.cuda.is_available() else "cpu")
    assert where == Dist(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    assert where.is_main and not where.distributed
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device; use 'auto' or 'cpu'"):
            pick_device("cuda", 0)


def _rank_with_slow_save(rank: int, port: int, config: dict, out: str) -> None:
    """One rank of a 2-process gloo run whose rank 0 takes a second to write each checkpoint."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank))
    saves: list[float] = []
    save_atomic = ckpt.save_atomic

    def slow_save(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a pass-through wrapper
        time.sleep(1.0)
        save_atomic(*args, **kwargs)
        saves.append(time.time())

    ckpt.save_atomic = slow_save
    train(parse_config(config), echo=None)
    Path(out, f"rank{rank}.json").write_text(json.dumps({"returned": time.time(), "saves": saves}))


def test_no_rank_leaves_before_rank_0_has_written_the_final_checkpoint(tmp_path_factory: pytest.TempPathFactory,
                                                                       tmp_path: Path) -> None:
    """A rank that tore down gloo while rank 0 still wrote the last checkpoint aborted at exit now and then
    (SIGABRT, "terminate called without an active exception"); the ranks must leave together."""
    tokens = bpe_dataset(tmp_path_factory)
    config = config_dict(tokens, tmp_path / "run", optim={"max_steps": 2}, eval={"every": 0},
                         checkpoint={"every": 0})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_rank_with_slow_save, args=(port, config, str(tmp_path)), nprocs=2, join=True)
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    rank1 = json.loads((tmp_path / "rank1.json").read_text())
    assert len(rank0["saves"]) == 1 and rank1["saves"] == []  # only rank 0 writes, once, at the end
    assert rank1["returned"] >= rank0["saves"][0]
