"""LSH banding parameters: published presets, and bands/rows chosen for a target Jaccard threshold.

With ``b`` bands of ``r`` rows, two documents of Jaccard similarity ``s`` share at least one band with
probability ``1 - (1 - s**r)**b`` (the S-curve). ``optimal_bands_rows`` picks the ``(b, r)`` with
``b * r <= num_perm`` that minimises the weighted area under the S-curve below the threshold (false
positives) plus the area above the curve beyond it (false negatives) -- the criterion datasketch's
``MinHashLSH`` uses, here integrated on a fixed grid with numpy for every ``(b, r)`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Preset:
    ngram: int
    num_perm: int
    bands: int | None
    rows: int | None
    threshold: float | None
    source: str


PRESETS: dict[str, Preset] = {
    # FineWeb (Penedo et al. 2024, sec. 3.3 "MinHash deduplication"): 5-grams, 112 hashes, 14 buckets x 8
    "fineweb": Preset(5, 112, 14, 8, None, "FineWeb: 5-grams, 112 hashes in 14 bands of 8 rows"),
    # RedPajama-v2 (Together 2023, dataset card "Quality annotations"/"Dedup"): 13-grams, 128 permutations;
    # bands/rows follow from the Jaccard threshold it was run at (0.8 here; the card lists 0.7-1.0)
    "redpajama-v2": Preset(13, 128, None, None, 0.8, "RedPajama-v2: 13-grams, 128 permutations, threshold 0.8"),
}


def collision_probability(similarity: np.ndarray | float, bands: int, rows: int) -> np.ndarray:
    """Probability that two documents of Jaccard ``similarity`` share a band."""
    return 1.0 - (1.0 - np.asarray(similarity, dtype=float) ** rows) ** bands


def optimal_bands_rows(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
                       false_negative_weight: float = 0.5, grid: int = 2001) -> tuple[int, int]:
    """The ``(bands, rows)`` minimising weighted false-positive + false-negative area around ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if abs(false_positive_weight + false_negative_weight - 1.0) > 1e-9:
        raise ValueError("false_positive_weight + false_negative_weight must be 1")
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    b, r = pairs[:, :1].astype(float), pairs[:, 1:].astype(float)
    below = np.linspace(0.0, threshold, grid)[None, :]
    above = np.linspace(threshold, 1.0, grid)[None, :]
    fp = np.trapezoid(1.0 - (1.0 - below ** r) ** b, below, axis=1)
    fn = np.trapezoid((1.0 - above ** r) ** b, above, axis=1)
    error = false_positive_weight * fp + false_negative_weight * fn
    best = int(np.argmin(error))  # first minimum: same tie-break as scanning b, then r, upwards
    return int(pairs[best, 0]), int(pairs[best, 1])
