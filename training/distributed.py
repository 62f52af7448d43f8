"""Rank, world size and device for one process, the same code with or without torchrun.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; a plain ``python -m training.train`` sets none of them and
runs as rank 0 of 1 without a process group, so the CPU and GPU, single and multi-process paths share the
training loop. The backend follows the device: NCCL for CUDA, gloo for CPU.

Why the CPU collectives here wait for their tensors to come back (``_settled``): gloo runs each collective on
a worker thread of its own, which drops its reference to the tensors only after the caller's ``wait`` has
returned. A tensor that Python also holds needs the GIL for that (torch 2.13 hands the Python object's
reference back), so when the rank's last collective is followed quickly by the end of the process, the
worker asks for the GIL while the interpreter finalizes, CPython ends the thread (``pthread_exit``), the
unwind meets a ``noexcept`` C++ frame and the rank aborts: "terminate called without an active exception"
(SIGABRT; the 2-process DDP tests, now and then, on a loaded machine). ``destroy_process_group`` cannot
join those threads: a DDP-wrapped model keeps the process group alive inside torch for the life of the
process. So each CPU collective returns only once gloo has let go of its tensors; the object collectives
are built on such tensor collectives rather than on torch's, whose tensors are out of reach.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.distributed as torch_dist


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


def pick_device(requested: str, local_rank: int) -> torch.device:
    """``auto`` means CUDA when present; asking for CUDA on a machine without it is an error, not a fallback."""
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("system.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device("cuda", cuda_index(local_rank, torch.cuda.device_count(),
                                           os.environ.get("CUDA_VISIBLE_DEVICES")))


def cuda_index(local_rank: int, device_count: int, visible: str | None) -> int:
    """The GPU of node-local rank ``local_rank`` among the ``device_count`` this process sees.

    GPU ``local_rank``; or GPU 0 when ``CUDA_VISIBLE_DEVICES`` (``visible``) gives the process a single
    GPU of its own, as some launchers do. A rank without a GPU of its own is refused: the modulo used
    before put two ranks on one GPU, and handed DDP an ordinal the process could not see.
    """
    if device_count == 1 and visible is not None and len([d for d in visible.split(",") if d.strip()]) == 1:
        return 0
    if local_rank >= device_count:
        raise RuntimeError(
            f"local rank {local_rank} has no GPU of its own: this process sees {device_count} GPU(s)"
            f"{f' (CUDA_VISIBLE_DEVICES={visible})' if visible is not None else ''}. Start at most "
            f"{device_count} processes per node (torchrun --nproc_per_node={device_count}), or give each "
            "process one GPU of its own with CUDA_VISIBLE_DEVICES")
    return local_rank


def setup(requested_device: str = "auto") -> Dist:
    """Join the process group if torchrun started us (gloo on CPU, NCCL on CUDA) and pick the device."""
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = pick_device(requested_device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not torch_dist.is_initialized():
        torch_dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                      **({"device_id": device} if device.type == "cuda" else {}))
    return Dist(rank, local_rank, world_size, device)


def teardown() -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


SETTLE_TIMEOUT_S = 10.0


def _settled(collective: Callable[[], object], *tensors: torch.Tensor) -> None:
    """Run ``collective`` (a blocking collective on ``tensors``), then wait, without the GIL, until the
    backend's worker thread holds none of them (module docstring): their Python reference counts are back
    to what they were before. Bounded, so a backend that never lets go only costs the timeout."""
    # indexing, not a loop variable or zip (whose reused result tuple holds a reference of its own), so
    # both counts see the same references: the ``tensors`` tuple's and getrefcount's argument
    before = [sys.getrefcount(tensors[i]) for i in range(len(tensors))]
    collective()
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    for i, count in enumerate(before):
        while sys.getrefcount(tensors[i]) > count and time.monotonic() < deadline:
            time.sleep(0.0002)  # releases the GIL, which the worker needs to drop its reference


def _bytes_tensor(value: Any) -> torch.Tensor:
    return torch.frombuffer(bytearray(pickle.dumps(value)), dtype=torch.uint8)


def _unpickle(tensor: torch.Tensor, size: int) -> Any:
    return pickle.loads(tensor[:size].numpy().tobytes())


def all_reduce_sum(values: list[float], dist: Dist) -> list[float]:
    """Element-wise sum over ranks of a few float64 numbers (losses, counts); identity when alone."""
    if not dist.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=dist.device)
    if dist.device_type == "cpu":
        _settled(lambda: torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM), tensor)
    else:
        torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
    return tensor.tolist()


def all_gather_objects(value: Any, dist: Dist) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order; ``[value]`` when alone."""
    if not dist.distributed:
        return [value]
    if dist.device_type != "cpu":
        gathered: list[Any] = [None] * dist.world_size
        torch_dist.all_gather_object(gathered, value)
        return gathered
    payload = _bytes_tensor(value)
    size = torch.tensor([payload.numel()], dtype=torch.int64)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(dist.world_size)]
    _settled(lambda: torch_dist.all_gather(sizes, size), size, *sizes)
    longest = max(int(s) for s in sizes)
    padded = torch.zeros(longest, dtype=torch.uint8)
    padded[:payload.numel()] = payload
    parts = [torch.empty(longest, dtype=torch.uint8) for _ in range(dist.world_size)]
    _settled(lambda: torch_dist.all_gather(parts, padded), padded, *parts)
    return [_unpickle(part, int(s)) for part, s in zip(parts, sizes)]


def broadcast_object(value: Any, dist: Dist) -> Any:
    """Rank 0's ``value`` (picklable) on every rank; ``value`` itself when alone."""
    if not dist.distributed:
        return value
    if dist.device_type != "cpu":
        box = [value if dist.is_main else None]
        torch_dist.broadcast_object_list(box, src=0)
        return box[0]
    payload = _bytes_tensor(value) if dist.is_main else None
    size = torch.tensor([payload.numel() if payload is not None else 0], dtype=torch.int64)
    _settled(lambda: torch_dist.broadcast(size, src=0), size)
    buffer = payload if payload is not None else torch.empty(int(size), dtype=torch.uint8)
    _settled(lambda: torch_dist.broadcast(buffer, src=0), buffer)
    return value if dist.is_main else _unpickle(buffer, int(size))


def any_rank(flag: bool, dist: Dist) -> bool:
    """True on every rank when ``flag`` is true on at least one."""
    return bool(all_reduce_sum([float(flag)], dist)[0]) if dist.distributed else flag


def barrier(dist: Dist) -> None:
    if dist.distributed:
        torch_dist.barrier()
