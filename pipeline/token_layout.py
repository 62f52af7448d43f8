"""How the tokenize stage lays a source's documents out in token shards: where to cut, in which order.

Both depend only on their arguments (token counts, the run seed, the shard's name), so a task retried
after a crash cuts and orders the same documents the same way. The shard file itself is written by
``contracts.token_dataset``.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_int(*parts: object) -> int:
    """A 64-bit integer from any values, stable across processes (Python's hash() is salted)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def shuffle_order(n: int, seed: int, name: str) -> np.ndarray:
    """A permutation of ``n`` documents that depends only on the run seed and the shard's name."""
    return np.random.default_rng([seed, stable_int(name)]).permutation(n)


def split_evenly(lengths: np.ndarray, target_tokens: int) -> list[tuple[int, int]]:
    """Cut documents (in order) into ceil(total / target) runs of nearly equal token counts."""
    total = int(lengths.sum())
    parts = max(1, -(-total // target_tokens))
    if len(lengths) == 0:
        return []
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, [total * k / parts for k in range(1, parts)], side="left") + 1
    bounds = [0, *sorted(set(int(c) for c in cuts if 0 < c < len(lengths))), len(lengths)]
    return list(zip(bounds[:-1], bounds[1:]))
