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

from pipeline.dedup.packed import group_starts, unique_sorted_pairs
from pipeline.dedup.shingles import fmix64

EXACT, NEAR = 1, 2
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _salt(band: int) -> np.uint64:
    return np.uint64(((band + 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))


_BLOCK_DOCS = 2048  # docs x bands x 8 bytes stays in cache across the rows of a band


def _fmix64_in_place(h: np.ndarray, scratch: np.ndarray) -> None:
    """``shingles.fmix64`` without temporaries: ``h`` is overwritten, ``scratch`` (same shape) is clobbered."""
    for multiplier in (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), None):
        np.right_shift(h, np.uint64(33), out=scratch)
        h ^= scratch
        if multiplier is not None:
            h *= multiplier


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Hash of each band of each signature (docs x bands, uint64), distinct per band number.

    Row ``r`` of every band is folded in at once (a docs x bands pass) over blocks of documents that stay in
    cache: the same arithmetic as one band and one document at a time, about 2.5x faster than whole
    columns, whose passes are memory-bound.
    """
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} signature values; "
                         f"signatures have {signatures.shape[1]}")
    salts = np.array([_salt(band) for band in range(bands)], dtype=np.uint64)
    keys = np.empty((signatures.shape[0], bands), dtype=np.uint64)
    scratch = np.empty((min(_BLOCK_DOCS, len(keys)), bands), dtype=np.uint64)
    for first in range(0, len(keys), _BLOCK_DOCS):
        block, sigs = keys[first:first + _BLOCK_DOCS], signatures[first:first + _BLOCK_DOCS]
        block[:] = salts
        for row in range(rows):
            block ^= sigs[:, row:bands * rows:rows]
            _fmix64_in_place(block, scratch[:len(block)])
            block += _GOLDEN
    return keys


def exact_key(exact_high: np.ndarray, band: int) -> np.ndarray:
    return fmix64(exact_high ^ _salt(band))


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """Partition of a key (or node): a fixed mix of it modulo ``partitions``."""
    return (fmix64(keys.astype(np.uint64) ^ np.uint64(0xA5A5A5A5A5A5A5A5)) % np.uint64(partitions)).astype(np.int64)


def unique_pairs(u: np.ndarray, v: np.ndarray, kind: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs with ``u < v``, each once (sorted); a pair seen as exact and near keeps ``EXACT`` (the lower kind)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    kind = np.full(len(lo), NEAR, dtype=np.uint8) if kind is None else kind
    keep = lo != hi
    return unique_sorted_pairs(lo[keep], hi[keep], kind[keep])


def _order_by_text(bucket: np.ndarray, bucket_first: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Permutation of entries sorted by ``bucket`` (ascending ints) that orders each bucket by ``exact``.

    One ``np.sort`` of ``bucket | exact | position in bucket`` packed into a uint64 (``exact`` cut to the bits
    left, which keeps its order); only if the cut makes two different texts of one bucket tie does it fall
    back to a lexsort. Entries of one text keep no particular order.
    """
    if len(bucket) == 0:
        return np.zeros(0, dtype=np.intp)
    size = np.diff(np.append(bucket_first, len(bucket)))
    position = np.arange(len(bucket)) - bucket_first[bucket]
    bucket_bits, position_bits = (len(bucket_first) - 1).bit_length(), (int(size.max()) - 1).bit_length()
    if exact.dtype.kind == "u" or (exact.dtype.kind == "i" and int(exact.min()) >= 0):
        codes = exact.astype(np.uint64)
    else:
        codes = np.unique(exact, return_inverse=True)[1].astype(np.uint64)
    exact_bits = int(codes.max()).bit_length()
    room = 64 - bucket_bits - position_bits
    cut = max(0, exact_bits - room)
    packed = bucket.astype(np.uint64) << np.uint64(room + position_bits)
    packed |= (codes >> np.uint64(cut)) << np.uint64(position_bits)
    packed |= position.astype(np.uint64)
    packed.sort()
    mask = np.uint64((1 << position_bits) - 1)
    order = bucket_first[(packed >> np.uint64(room + position_bits)).astype(np.intp)] + (packed & mask).astype(np.intp)
    if cut:
        text = packed >> np.uint64(position_bits)
        ordered = exact[order]
        if np.any((ordered[1:] != ordered[:-1]) & (text[1:] == text[:-1])):
            order = np.lexsort((exact, bucket))
    return order


def _repeated(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the entries of a sorted array whose value occurs more than once."""
    shared = np.zeros(len(sorted_values), dtype=bool)
    repeat = sorted_values[1:] == sorted_values[:-1]
    shared[1:] |= repeat
    shared[:-1] |= repeat
    return shared


def _shared_entries(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the entries whose key occurs more than once, equal keys adjacent, and those keys.

    One ``np.sort`` of the keys with their low bits replaced by the row number (a third of an argsort's
    time); if two different keys agree in the bits kept (about 0.1 chance at a million keys), argsort.
    """
    row_bits = max(1, (len(key) - 1).bit_length())
    row_mask = np.uint64((1 << row_bits) - 1)
    packed = key.astype(np.uint64)
    packed &= ~row_mask
    packed |= np.arange(len(key), dtype=np.uint64)
    packed.sort()
    cut = packed >> np.uint64(row_bits)
    shared = _repeated(cut)
    rows = (packed[shared] & row_mask).astype(np.intp)
    shared_keys = key[rows]
    if np.array_equal(group_starts(cut[shared]), group_starts(shared_keys)):
        return rows, shared_keys
    by_key = np.argsort(key)
    sorted_keys = key[by_key]
    shared = _repeated(sorted_keys)
    return by_key[shared], sorted_keys[shared]


def candidate_pairs(band: np.ndarray, key: np.ndarray, exact: np.ndarray, node: np.ndarray, exact_band: int,
                    all_pairs_up_to: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(u, v, kind)`` from the bucket entries of one partition.

    ``all_pairs_up_to`` > 1 pairs every two distinct-text members of buckets that small (for verification);
    larger buckets, and every bucket when it is 0, give a star around their first member: the lowest node
    of the bucket's lowest ``exact`` text.
    """
    # most buckets hold one entry: find the shared keys with one fast sort, then order only those entries
    rows, shared_keys = _shared_entries(key)
    shared_band = band[rows]
    if np.any((shared_band[1:] != shared_band[:-1]) & (shared_keys[1:] == shared_keys[:-1])):
        # the band is salted into the key; only a 64-bit collision puts two bands in one key
        again = np.lexsort((shared_band, shared_keys))
        rows, shared_keys, shared_band = rows[again], shared_keys[again], shared_band[again]
    bucket_start = group_starts(shared_band, shared_keys)
    bucket_first, bucket = np.flatnonzero(bucket_start), np.cumsum(bucket_start) - 1
    exact = exact[rows]
    order = _order_by_text(bucket, bucket_first, exact)
    exact, node = exact[order], node[rows[order]]
    is_exact_bucket = shared_band[bucket_first] == exact_band

    # one representative per distinct text of a bucket: its lowest node; the bucket's first is its centre
    text_start = group_starts(bucket, exact)
    text_first = np.flatnonzero(text_start)
    r_node = np.minimum.reduceat(node, text_first) if len(text_first) else node[:0]
    r_bucket = bucket[text_first]
    r_start = group_starts(r_bucket)
    centre = r_node[r_start]

    us, vs, kinds = [], [], []
    # exact band: star around the lowest node of the text (the pair of the centre with itself is dropped)
    e = is_exact_bucket[bucket]
    us.append(centre[bucket[e]]); vs.append(node[e]); kinds.append(np.full(int(e.sum()), EXACT, dtype=np.uint8))

    # LSH bands: star (or all pairs) over the representatives
    lsh = ~is_exact_bucket[r_bucket]
    r_node, r_bucket, r_start = r_node[lsh], r_bucket[lsh], r_start[lsh]
    r_group = np.cumsum(r_start) - 1
    sizes = np.bincount(r_group) if len(r_group) else np.zeros(0, dtype=np.int64)
    size_of = sizes[r_group] if len(r_group) else np.zeros(0, dtype=np.int64)
    small = (size_of <= all_pairs_up_to) if all_pairs_up_to > 1 else np.zeros(len(r_node), dtype=bool)
    star = ~r_start & ~small
    us.append(centre[r_bucket[star]]); vs.append(r_node[star])
    kinds.append(np.full(int(star.sum()), NEAR, dtype=np.uint8))
    for d in range(1, max(all_pairs_up_to, 1)):  # every pair (i, i + d) inside the same small bucket
        if d >= len(r_node):
            break
        same = (r_group[d:] == r_group[:-d]) & small[d:]
        us.append(r_node[:-d][same]); vs.append(r_node[d:][same])
        kinds.append(np.full(int(same.sum()), NEAR, dtype=np.uint8))
    return unique_pairs(np.concatenate(us), np.concatenate(vs), np.concatenate(kinds))
