"""The prefetcher hands out exactly the batches the sampler gives on demand, whatever order steps are asked
in, and an error fetching a step surfaces at that step only."""

from __future__ import annotations

import threading

import pytest
import torch

from contracts.token_dataset import TokenDataset
from training.prefetch import Prefetcher
from training.sampler import DataExhausted, MixtureSampler


def test_prefetched_batches_equal_the_samplers(dataset: TokenDataset) -> None:
    sampler = MixtureSampler(dataset, context_length=64, global_batch=8, seed=3, rank=1, world_size=2,
                             num_samples=8 * 12)
    threads: set[str] = set()

    def fetch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        threads.add(threading.current_thread().name)
        return sampler.batch(step)

    steps = [0, 1, 2, 3, 7, 8, 2, 11]  # in order, a jump ahead (a resume), a jump back, the last step
    with Prefetcher(fetch, end=12) as prefetcher:
        batches = [prefetcher.get(step) for step in steps]
    for step, (x, y) in zip(steps, batches):
        expected_x, expected_y = sampler.batch(step)
        assert torch.equal(x, expected_x) and torch.equal(y, expected_y)
        assert x.dtype == torch.int64 and x.is_contiguous() and x.shape == (4, 64)
    assert any(name.startswith("prefetch") for name in threads)  # steps 1-3 came from the background thread


def test_an_error_is_raised_by_the_step_that_has_it(dataset: TokenDataset) -> None:
    sampler = MixtureSampler(dataset, context_length=64, global_batch=8, seed=3, num_samples=8 * 3)
    with Prefetcher(sampler.batch, end=4) as prefetcher:  # step 3 is beyond the plan
        for step in range(3):
            assert torch.equal(prefetcher.get(step)[0], sampler.batch(step)[0])
        with pytest.raises(DataExhausted, match="beyond the plan's 24 samples"):
            prefetcher.get(3)
    with Prefetcher(sampler.batch, end=4, enabled=False) as on_demand:
        assert torch.equal(on_demand.get(2)[1], sampler.batch(2)[1])
