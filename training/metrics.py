"""What the trainer reports: a JSONL file beside the checkpoint, and the peak FLOP/s MFU is measured against.

``metrics.jsonl`` holds one JSON object per line, each with a ``kind``:

* ``start`` - the resolved config, device, dtype, world size, parameter count, FLOPs per token and the
  peak FLOP/s (``peak_flops_source``: ``config`` or ``measured``); one per launch, so a resumed run has two;
* ``train`` - after optimiser step ``step`` (1-based: steps completed): loss, lr, grad_norm (before
  clipping), tokens_seen, tokens_per_s (all ranks), mfu, and ``mixture``, the realised share of each
  source in every sample consumed so far;
* ``eval`` - validation loss per source and overall after ``step`` steps.

On resume the lines after the checkpoint's step are dropped, so the file always reads as one run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch

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
        tmp = self.path.with_name(f".tmp-{self.path.name}")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, self.path)

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_metrics(path: str | Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of a metrics file, optionally only one kind."""
    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
    return [r for r in records if kind is None or r.get("kind") == kind]


def measure_peak_flops(device: torch.device, dtype: torch.dtype, seconds: float = 1.0) -> float:
    """Achieved FLOP/s of a large square matmul on this device, with the current thread count.

    A practical peak, not the datasheet's: MFU against it says how much of what this machine can really
    do in one matmul the training step gets. CPU: 1024^2 fp32 (fits the caches' sweet spot on small
    machines); GPU: 8192^2 in ``dtype``. The best of five timed batches after a warm-up.
    """
    n = 8192 if device.type == "cuda" else 1024
    generator = torch.Generator(device=device).manual_seed(0)  # leave the training RNG streams untouched
    a = torch.randn(n, n, device=device, dtype=dtype, generator=generator)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=generator)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    torch.mm(a, b)
    sync()
    started = time.perf_counter()
    calls = 0
    while time.perf_counter() - started < seconds / 4 or calls < 2:  # size a batch to ~1/8 of the budget
        torch.mm(a, b)
        calls += 1
    sync()
    per_batch = max(1, calls // 2)
    rates = []
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        for _ in range(per_batch):
            torch.mm(a, b)
        sync()
        rates.append(2 * n**3 * per_batch / (time.perf_counter() - t0))
    return max(rates)  # a peak: other load on a shared machine only ever makes a batch slower
