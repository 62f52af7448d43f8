"""Rank, world size and device for one process, the same code with or without torchrun.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; a plain ``python -m training.train`` sets none of them and
runs as rank 0 of 1 without a process group, so the CPU and GPU, single and multi-process paths share the
training loop. The backend follows the device: NCCL for CUDA, gloo for CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    """Where this process sits: ``rank`` of ``world_size``, on ``device``."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints and metrics and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def device_type(self) -> str:
        return self.device.type


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def pick_device(requested: str, local_rank: int) -> torch.device:
    """``auto`` means CUDA when present; asking for CUDA on a machine without it is an error, not a fallback."""
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("system.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def setup(requested_device: str = "auto") -> Dist:
    """Join the process group if torchrun started us (gloo on CPU, NCCL on CUDA) and pick the device."""
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = pick_device(requested_device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                **({"device_id": device} if device.type == "cuda" else {}))
    return Dist(rank, local_rank, world_size, device)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], where: Dist) -> list[float]:
    """Element-wise sum over ranks of a few float64 numbers (losses, counts); identity when alone."""
    if not where.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=where.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def all_gather_objects(value: Any, where: Dist) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order; ``[value]`` when alone."""
    if not where.distributed:
        return [value]
    gathered: list[Any] = [None] * where.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def barrier(where: Dist) -> None:
    if where.distributed:
        dist.barrier()
