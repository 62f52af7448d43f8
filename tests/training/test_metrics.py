"""MFU's denominators and the throughput clock: the datasheet peak by GPU name, tokens/s over every step
between synchronised log points, and a peak measurement whose sizing waits for the device."""

from __future__ import annotations

import pytest
import torch

from training.metrics import Throughput, measure_peak_flops, stated_peak_flops, time_batches


@pytest.mark.parametrize("name, bf16, tf32", [
    ("NVIDIA H100 80GB HBM3", 989e12, 494.5e12),  # SXM5
    ("NVIDIA H100 PCIe", 756e12, 378e12),
    ("NVIDIA H100 NVL", 835e12, 417.5e12),
    ("NVIDIA H200", 989e12, 494.5e12),
    ("NVIDIA H200 NVL", 835e12, 417.5e12),  # was matched by "H200": 989
    ("NVIDIA A100-SXM4-80GB", 312e12, 156e12),
    ("NVIDIA A100 80GB PCIe", 312e12, 156e12),
    ("NVIDIA L40S", 362e12, 183e12),
    ("NVIDIA L40", 181e12, 90.5e12),  # was matched by "L4": 121
    ("NVIDIA L4", 121e12, 60e12),
])
def test_datasheet_peak_by_device_name(name: str, bf16: float, tf32: float) -> None:
    assert stated_peak_flops(name, "bfloat16") == bf16
    assert stated_peak_flops(name, "float32") == tf32


def test_unknown_devices_have_no_datasheet_peak() -> None:
    assert stated_peak_flops("NVIDIA GeForce RTX 4090", "bfloat16") is None
    assert stated_peak_flops("cpu", "float32") is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throughput_counts_every_step_between_log_points_and_leaves_pauses_out() -> None:
    """Three steps of 1000 tokens in 3 s, logged once: 1000 tokens/s, not the last step's share."""
    clock = Clock()
    timer = Throughput(clock)
    for _ in range(3):
        clock.now += 1.0
        timer.add(1000)
    assert timer.read() == (1000.0, 3.0, 3)
    clock.now += 2.0
    timer.add(1000)
    timer.pause()
    clock.now += 50.0  # an evaluation and a checkpoint copy
    timer.resume()
    clock.now += 2.0
    timer.add(1000)
    assert timer.read() == (500.0, 4.0, 2)


def test_peak_sizing_waits_for_the_device_after_every_call() -> None:
    """A CUDA call only queues work: the sizing loop must synchronise each call, or it counts launches."""
    queued: list[int] = []
    depth: list[int] = []

    def call() -> None:
        queued.append(1)
        depth.append(len(queued))

    rates = time_batches(call, queued.clear, seconds=0.01, batches=3)
    assert len(rates) == 3 and all(r > 0 for r in rates)
    # Queue depth at each call: a warm-up and k sizing calls each alone in the queue, then 3 timed batches of
    # max(1, k // 2) calls each, synchronised only at their end. Without a sync in the sizing loop the depth
    # grew there too, and no k fits.
    fits = [k for k in range(2, len(depth)) if depth == [1] * (1 + k) + list(range(1, max(1, k // 2) + 1)) * 3]
    assert len(fits) == 1, depth[:40]


def test_measured_peak_is_a_positive_rate_on_cpu() -> None:
    assert measure_peak_flops(torch.device("cpu"), torch.float32, seconds=0.05) > 1e6
