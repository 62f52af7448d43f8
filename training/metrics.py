"""What the trainer reports: a JSONL file beside the checkpoint, and the peak FLOP/s MFU is measured against.

``metrics.jsonl`` holds one JSON object per line, each with a ``kind``:

* ``start`` - the resolved config, device, dtype, world size, parameter count, FLOPs per token and the
  peak FLOP/s MFU divides by (``peak_flops_source``: ``config``, ``datasheet`` - the GPU's stated dense
  peak from ``STATED_PEAK``, as nanoGPT, llm.c and torchtitan count MFU - or ``measured`` where no
  datasheet figure is known, e.g. CPUs), with ``measured_peak_flops`` (a large matmul timed at start-up)
  beside it; one per launch, so a resumed run has two;
* ``train`` - after optimiser step ``step`` (1-based: steps completed): loss, lr, grad_norm (before
  clipping), tokens_seen, and ``mixture``, the realised share of each source in every sample consumed so
  far; tokens_per_s (all ranks), mfu (and ``mfu_measured`` against the measured peak) and step_ms over the
  ``timed_steps`` steps since the previous train record, timed between two device synchronisations;
* ``eval`` - validation loss per source and overall after ``step`` steps.

On resume the lines after the checkpoint's step are dropped, so the file always reads as one run.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable

import torch

from contracts.fsio import atomic_write

METRICS_NAME = "metrics.jsonl"


class MetricsLog:
    """Append-only JSONL, flushed per line, so a killed run leaves every completed record."""

    def __init__(self, path: Path, *, fresh: bool, keep_until_step: int = 0):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.write_text("")
        elif path.exists():
            self._truncate_after(keep_until_step)
        self._fh = open(path, "a", encoding="utf-8")

    def _truncate_after(self, step: int) -> None:
        """Drop records written after ``step``: the killed run's steps the resume is about to redo."""
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by the kill
            if record.get("step", 0) <= step:
                kept.append(line + "\n")
        with atomic_write(self.path, "w") as fh:
            fh.write("".join(kept))

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_metrics(path: str | Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of a metrics file, optionally only one kind."""
    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
    return [r for r in records if kind is None or r.get("kind") == kind]


STATED_PEAK: list[tuple[str, float, float]] = [
    # (device name pattern, dense bf16 tensor FLOP/s, dense TF32 tensor FLOP/s) from NVIDIA's datasheets: the
    # "with sparsity" figures halved. Most specific first: "H200 NVL" before "H200"; \b keeps "L4" off "L40".
    (r"\bH200 NVL\b", 835e12, 417.5e12),
    (r"\bH200\b", 989e12, 494.5e12),  # H200 SXM
    (r"\bH100 NVL\b", 835e12, 417.5e12),
    (r"\bH100 PCIe\b", 756e12, 378e12),
    (r"\bH100\b", 989e12, 494.5e12),  # H100 SXM5 ("NVIDIA H100 80GB HBM3")
    (r"\bA100\b", 312e12, 156e12),  # SXM4 and PCIe, 40 and 80 GB
    (r"\bL40S\b", 362e12, 183e12),
    (r"\bL40\b", 181e12, 90.5e12),
    (r"\bL4\b", 121e12, 60e12),
]


def stated_peak_flops(device_name: str, dtype: str) -> float | None:
    """The datasheet's dense peak for ``device_name`` (``torch.cuda.get_device_name``) in ``dtype``
    (``bfloat16``; ``float32`` means TF32 tensor cores, as the trainer enables them); None if unknown."""
    for pattern, bf16, tf32 in STATED_PEAK:
        if re.search(pattern, device_name):
            return bf16 if dtype == "bfloat16" else tf32
    return None


class Throughput:
    """Tokens per second between synchronised log points.

    CUDA runs ahead of Python, so timing only the step that logs charges it with the earlier steps'
    queued work and leaves theirs out: tokens/s read up to ~2x low with ``log_every > 1``. Here the clock
    runs from one synchronised point to the next and every token trained in between is counted;
    ``pause``/``resume`` keep evaluation and checkpoint copies out of the window. ``clock`` is for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.started = clock()
        self.excluded = 0.0
        self.paused_at: float | None = None
        self.tokens = 0
        self.steps = 0

    def add(self, tokens: int) -> None:
        self.tokens += tokens
        self.steps += 1

    def pause(self) -> None:
        self.paused_at = self.clock()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.excluded += self.clock() - self.paused_at
            self.paused_at = None

    def read(self) -> tuple[float, float, int]:
        """(tokens/s, seconds, steps) since the last read, then start a new window; call after a sync."""
        now = self.clock()
        seconds = max(now - self.started - self.excluded, 1e-9)
        result = (self.tokens / seconds, seconds, self.steps)
        self.started, self.excluded, self.tokens, self.steps = now, 0.0, 0, 0
        return result


def measure_peak_flops(device: torch.device, dtype: torch.dtype, seconds: float = 1.0) -> float:
    """Achieved FLOP/s of a large square matmul on this device, with the current thread count.

    A practical peak, not the datasheet's: logged beside MFU's datasheet peak on GPUs, and MFU's
    denominator where no datasheet figure applies (CPUs). CPU: 1024^2 fp32 (fits the caches' sweet spot on
    small machines); GPU: 8192^2 in ``dtype``. The best of five timed batches after a warm-up.
    """
    n = 8192 if device.type == "cuda" else 1024
    generator = torch.Generator(device=device).manual_seed(0)  # leave the training RNG streams untouched
    a = torch.randn(n, n, device=device, dtype=dtype, generator=generator)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=generator)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    rates = time_batches(lambda: torch.mm(a, b), sync, seconds)
    return 2 * n**3 * max(rates)  # a peak: other load on a shared machine only ever makes a batch slower


def time_batches(call: Callable[[], Any], sync: Callable[[], None], seconds: float, batches: int = 5) -> list[float]:
    """Calls per second of ``call`` in ``batches`` timed batches, each sized to ~1/8 of ``seconds``.

    The sizing loop synchronises after every call: on a GPU a call only queues work, and counting queued
    launches against the clock made batches far larger than the budget.
    """
    call()
    sync()
    started = time.perf_counter()
    calls = 0
    while time.perf_counter() - started < seconds / 4 or calls < 2:
        call()
        sync()
        calls += 1
    per_batch = max(1, calls // 2)
    rates = []
    for _ in range(batches):
        sync()
        t0 = time.perf_counter()
        for _ in range(per_batch):
            call()
        sync()
        rates.append(per_batch / (time.perf_counter() - t0))
    return rates
