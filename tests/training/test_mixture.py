"""Megatron's blending rule: exact to within one sample at every prefix."""

from __future__ import annotations

import numpy as np
import pytest

from training.mixture import blend, normalise, samples_within


def test_worked_example() -> None:
    assert "".join("ABC"[s] for s in blend([0.5, 0.3, 0.2], 10)) == "ABCAABACBA"


def test_every_prefix_within_one_sample() -> None:
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(5))
    sources = blend(list(weights), 20_000)
    counts = np.cumsum(np.eye(5, dtype=np.int64)[sources], axis=0)
    targets = np.outer(np.arange(1, 20_001), weights)
    assert np.abs(counts - targets).max() < 1


def test_capacity_and_weights() -> None:
    sources = blend([0.5, 0.5], 10)
    assert samples_within(sources, [2, 10]) == 4  # the third A is sample 4
    assert normalise({"a": 3, "b": 1, "c": 0}) == {"a": 0.75, "b": 0.25}
    with pytest.raises(ValueError, match="all be zero"):
        normalise({"a": 0})
