"""training.finetune_common.FinetuneLoop: fine-tuning's optimiser step on the trainer's parts - the trainer's
AdamW groups and learning-rate schedule, clipping, metrics.jsonl records, and data parallelism over
training.distributed's process group (two gloo processes on halves of a batch take the same step as one
process on the whole batch)."""

from __future__ import annotations

import json
import math
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn

from training.distributed import Dist, setup, teardown
from training.finetune_common import FinetuneLoop, OptimSettings, check_schedule, steps_planned
from training.optim import lr_at

ROWS = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
TARGETS = torch.randn(8, 1, generator=torch.Generator().manual_seed(1))
SETTINGS = OptimSettings(lr=0.05, weight_decay=0.1, total_steps=3, grad_clip=0.5)


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def alone() -> Dist:
    return Dist(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))


def train_steps(loop: FinetuneLoop, steps: int) -> None:
    rows = list(range(len(ROWS)))
    for _ in range(steps):
        mine = loop.share(rows)
        loss = nn.functional.mse_loss(loop.train_module(ROWS[mine]), TARGETS[mine])
        loop.update(loss, epoch=1)


def test_schedule_is_the_trainers() -> None:
    constant = OptimSettings(lr=1e-3, weight_decay=0.0, total_steps=10)
    assert [constant.lr_at(s) for s in range(12)] == [1e-3] * 12
    decayed = OptimSettings(lr=1e-3, weight_decay=0.0, total_steps=10, min_lr=1e-4, warmup_steps=2)
    assert [decayed.lr_at(s) for s in range(12)] == [lr_at(s, lr=1e-3, min_lr=1e-4, warmup_steps=2, max_steps=10)
                                                     for s in range(12)]
    assert steps_planned(17, 8, 2, None) == 6 and steps_planned(17, 8, 2, 4) == 4
    with pytest.raises(ValueError, match="min_lr must be between 0 and lr"):
        check_schedule(1e-3, 1e-2, 0)


def test_one_process_updates_logs_and_groups_like_the_trainer(tmp_path: Path) -> None:
    model = small_model()
    before = [p.detach().clone() for p in model.parameters()]
    loop = FinetuneLoop(model, SETTINGS, tmp_path, alone(), {"name": "test"})
    decay = {id(p): g["weight_decay"] for g in loop.optimizer.param_groups for p in g["params"]}
    assert all(decay[id(p)] == (0.1 if p.dim() >= 2 else 0.0) for p in model.parameters())
    train_steps(loop, 3)
    loop.close()
    assert loop.step == 3 and all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["start", "train", "train", "train"]
    assert records[0]["config"] == {"name": "test"} and records[0]["optim"]["grad_clip"] == 0.5
    assert [r["step"] for r in records[1:]] == [1, 2, 3] and all(r["lr"] == 0.05 for r in records[1:])
    assert all(math.isfinite(r["loss"]) and r["grad_norm"] > 0 for r in records[1:])


def ddp_worker(rank: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist = setup("cpu")
    try:
        loop = FinetuneLoop(small_model(), SETTINGS, Path(out), dist, {})
        train_steps(loop, 3)
        loop.close()
        torch.save(loop.module.state_dict(), Path(out) / f"rank{rank}.pt")
    finally:
        teardown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_halves_match_one_on_the_whole_batch(tmp_path: Path) -> None:
    mp.spawn(ddp_worker, args=(free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    single = FinetuneLoop(small_model(), SETTINGS, tmp_path / "one", alone(), {})
    train_steps(single, 3)
    single.close()
    for rank in (0, 1):
        state = torch.load(tmp_path / "ddp" / f"rank{rank}.pt", weights_only=True)
        for name, value in single.module.state_dict().items():
            torch.testing.assert_close(state[name], value, rtol=1e-5, atol=1e-6)
    records = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["world_size"] == 2 and len(records) == 4  # rank 0 alone writes
