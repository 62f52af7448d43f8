"""Exact Jaccard similarity of candidate pairs, to drop the false positives LSH lets through.

A candidate pair is kept when the Jaccard similarity of the two documents' shingle sets (their 64-bit shingle
hashes, deduplicated) reaches the threshold. Sets are rebuilt from the documents' text with the same
vectorised shingling the signatures used, only for the documents that appear in candidate pairs.
"""

from __future__ import annotations

import numpy as np

from pipeline.dedup.normalize import normalize_batch
from pipeline.dedup.shingles import shingle_hashes


def shingle_sets(texts: list[str], ngram: int) -> list[np.ndarray]:
    """Sorted unique shingle hashes of each text."""
    hashes, offsets = shingle_hashes(normalize_batch(texts), ngram)
    return [np.unique(hashes[offsets[d]:offsets[d + 1]]) for d in range(len(texts))]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique arrays (1.0 for two empty sets)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def verified(u: np.ndarray, v: np.ndarray, sets: dict[int, np.ndarray], threshold: float) -> np.ndarray:
    """Mask of the pairs ``(u[i], v[i])`` whose exact Jaccard is at least ``threshold``."""
    return np.fromiter((jaccard(sets[int(a)], sets[int(b)]) >= threshold for a, b in zip(u, v)),
                       dtype=bool, count=len(u))
