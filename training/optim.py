"""The learning-rate schedule: linear warm-up, then cosine decay to a floor.

Warm-up keeps Adam's first updates small while its second-moment estimates are still noise; the cosine
tail spends the last steps at a low rate, where the loss settles. A pure function of the step, so a resumed
run needs nothing but the step to be on the same schedule.

Worked example, lr 1e-3, min_lr 1e-4, warmup 10, max_steps 110: step 0 -> 1e-4 (1/10 of the peak), step 9
-> 1e-3, step 60 (half-way through the decay) -> 5.5e-4, step 110 and after -> 1e-4.
"""

from __future__ import annotations

import math

import torch


def lr_at(step: int, *, lr: float, min_lr: float, warmup_steps: int, max_steps: int) -> float:
    """Learning rate for optimiser step ``step`` (0-based)."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if step >= max_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
