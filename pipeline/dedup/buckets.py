"""LSH bands -> bucket keys -> candidate pairs, for one partition of the buckets at a time.

Every document with words gets one bucket entry per band (``key`` = a 64-bit hash of the band's ``rows``
signature values, salted with the band number) and one more in the "exact band" (``key`` from the hash of its
normalised text), so exact and near duplicates travel the same path. Entries are partitioned by ``key`` modulo
the partition count: all entries of a bucket meet in one task, and a task holds only its share.

Within a bucket, documents with the same normalised text are first collapsed to their lowest node (the exact
band links them), then the bucket yields a star (every member paired with the first), which is enough for
connected components; when pairs are verified afterwards, a small bucket yields all its pairs instead, so a
member that fails against the first can still join through another.
"""

from __future__ import annotations

import numpy as np

from pipeline.dedup.shingles import fmix64

EXACT, NEAR = 1, 2
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _salt(band: int) -> np.uint64:
    return np.uint64(((band + 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Hash of each band of each signature (docs x bands, uint64), distinct per band number."""
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} signature values; "
                         f"signatures have {signatures.shape[1]}")
    keys = np.empty((signatures.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        key = np.full(signatures.shape[0], _salt(band), dtype=np.uint64)
        for col in range(band * rows, (band + 1) * rows):
            key = fmix64(key ^ signatures[:, col]) + _GOLDEN
        keys[:, band] = key
    return keys


def exact_key(exact_high: np.ndarray, band: int) -> np.ndarray:
    return fmix64(exact_high ^ _salt(band))


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """Partition of a key (or node): a fixed mix of it modulo ``partitions``."""
    return (fmix64(keys.astype(np.uint64) ^ np.uint64(0xA5A5A5A5A5A5A5A5)) % np.uint64(partitions)).astype(np.int64)


def _group_starts(*columns: np.ndarray) -> np.ndarray:
    """Boolean mask of rows where any of the (sorted) ``columns`` changes value."""
    n = len(columns[0])
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for col in columns:
            new[1:] |= col[1:] != col[:-1]
    return new


def unique_pairs(u: np.ndarray, v: np.ndarray, kind: np.ndarray | None = None):
    """Pairs with ``u < v``, each once (sorted); a pair seen as exact and near keeps ``EXACT``."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    kind = np.full(len(lo), NEAR, dtype=np.uint8) if kind is None else kind
    keep = lo != hi
    lo, hi, kind = lo[keep], hi[keep], kind[keep]
    order = np.lexsort((kind, hi, lo))
    lo, hi, kind = lo[order], hi[order], kind[order]
    first = _group_starts(lo, hi)
    return lo[first], hi[first], kind[first]


def candidate_pairs(band: np.ndarray, key: np.ndarray, exact: np.ndarray, node: np.ndarray, exact_band: int,
                    all_pairs_up_to: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(u, v, kind)`` from the bucket entries of one partition.

    ``all_pairs_up_to`` > 1 pairs every two distinct-text members of buckets that small (for verification);
    larger buckets, and every bucket when it is 0, give a star around their first member.
    """
    # most buckets hold one entry: find the shared keys with a fast sort, then order only those entries
    by_key = np.argsort(key)
    sorted_keys = key[by_key]
    shared = np.zeros(len(key), dtype=bool)
    repeat = sorted_keys[1:] == sorted_keys[:-1]
    shared[1:] |= repeat
    shared[:-1] |= repeat
    rows = by_key[shared]
    band, key, exact, node = band[rows], key[rows], exact[rows], node[rows]
    order = np.lexsort((node, exact, key))  # the band is salted into the key, so keys group bands too
    band, key, exact, node = band[order], key[order], exact[order], node[order]
    bucket_start = _group_starts(band, key)
    bucket_id = np.cumsum(bucket_start) - 1
    is_exact_band = band == exact_band

    us, vs, kinds = [], [], []
    # exact band: star around the lowest node of each identical text
    first_node = node[bucket_start][bucket_id]
    e = is_exact_band & ~bucket_start
    us.append(first_node[e]); vs.append(node[e]); kinds.append(np.full(int(e.sum()), EXACT, dtype=np.uint8))

    # LSH bands: one representative per distinct text in each bucket
    rep = _group_starts(band, key, exact) & ~is_exact_band
    r_node, r_bucket = node[rep], bucket_id[rep]
    r_start = _group_starts(r_bucket)
    r_group = np.cumsum(r_start) - 1
    sizes = np.bincount(r_group) if len(r_group) else np.zeros(0, dtype=np.int64)
    size_of = sizes[r_group] if len(r_group) else np.zeros(0, dtype=np.int64)
    small = (size_of <= all_pairs_up_to) if all_pairs_up_to > 1 else np.zeros(len(r_node), dtype=bool)
    star = ~r_start & ~small
    first_rep = r_node[r_start][r_group]
    us.append(first_rep[star]); vs.append(r_node[star])
    kinds.append(np.full(int(star.sum()), NEAR, dtype=np.uint8))
    for d in range(1, max(all_pairs_up_to, 1)):  # every pair (i, i + d) inside the same small bucket
        if d >= len(r_node):
            break
        same = (r_group[d:] == r_group[:-d]) & small[d:]
        us.append(r_node[:-d][same]); vs.append(r_node[d:][same])
        kinds.append(np.full(int(same.sum()), NEAR, dtype=np.uint8))
    return unique_pairs(np.concatenate(us), np.concatenate(vs), np.concatenate(kinds))
