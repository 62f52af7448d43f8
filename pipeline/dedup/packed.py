"""Sorting pairs of node ids as one uint64 each.

Why: ``np.lexsort`` runs one stable merge sort per key, about ten times slower than ``np.sort`` of one
uint64 column (a SIMD quicksort on current x86). Bucketing and every connected-components step sort and
de-duplicate pairs of nodes, so each pair is packed into one integer, sorted once, and unpacked.

Node ids are 64-bit (``shard_rank << 32 | row``), so they are first mapped to order-preserving codes narrow
enough for two to share a word: the ids themselves when they fit in 32 bits, else the rank and row halves
squeezed together, else their rank among the distinct ids (one ``np.unique``). Order-preserving codes make
the result identical to a lexicographic sort of the original ids.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

_LOW32 = 0xFFFFFFFF


def node_codes(*arrays: np.ndarray) -> tuple[list[np.ndarray], int, Callable[[np.ndarray], np.ndarray]]:
    """Order-preserving uint64 codes of the values of ``arrays`` (one code space), their width in bits, and
    the decoder from codes back to values (of the first array's dtype)."""
    dtype = arrays[0].dtype
    filled = [a for a in arrays if len(a)]
    if not filled:
        return [np.zeros(len(a), dtype=np.uint64) for a in arrays], 0, lambda c: c.astype(dtype)
    if dtype.kind in "ui" and all(a.dtype == dtype for a in arrays):
        top = max(int(a.max()) for a in filled)
        if dtype.kind == "u" or min(int(a.min()) for a in filled) >= 0:
            if top <= _LOW32:
                return [a.astype(np.uint64) for a in arrays], top.bit_length(), lambda c: c.astype(dtype)
            low_bits = max(int((a & _LOW32).max()) for a in filled).bit_length()
            high_bits = (top >> 32).bit_length()
            if high_bits + low_bits <= 32:  # rank << 32 | row with few ranks and rows: drop the zero bits between
                def squeeze(a: np.ndarray) -> np.ndarray:
                    a = a.astype(np.uint64)
                    return ((a >> np.uint64(32)) << np.uint64(low_bits)) | (a & np.uint64(_LOW32))

                def unsqueeze(c: np.ndarray) -> np.ndarray:
                    mask = np.uint64((1 << low_bits) - 1)
                    return (((c >> np.uint64(low_bits)) << np.uint64(32)) | (c & mask)).astype(dtype)

                return [squeeze(a) for a in arrays], high_bits + low_bits, unsqueeze
    values, inverse = np.unique(np.concatenate(arrays), return_inverse=True)
    inverse = inverse.astype(np.uint64)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return ([inverse[bounds[i]:bounds[i + 1]] for i in range(len(arrays))], (len(values) - 1).bit_length(),
            lambda c: values[c.astype(np.intp)])


def unique_sorted_pairs(a: np.ndarray, b: np.ndarray, tag: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The distinct pairs ``(a, b)`` sorted by ``a`` then ``b``; with ``tag`` (non-negative integers) each pair
    keeps its lowest tag."""
    if tag is not None and len(tag) and tag.dtype.kind == "i" and int(tag.min()) < 0:
        return _unique_sorted_pairs_lexsort(a, b, tag)
    tag_bits = int(tag.max()).bit_length() if tag is not None and len(tag) else 0
    (packed, low), bits, decode = node_codes(a, b)
    if 2 * bits + tag_bits > 64:  # more than 2**31 distinct ids: no room in one word
        return _unique_sorted_pairs_lexsort(a, b, tag)
    packed <<= np.uint64(bits)
    packed |= low
    if tag_bits:
        packed <<= np.uint64(tag_bits)
        packed |= tag.astype(np.uint64)
    packed.sort()
    pair = packed >> np.uint64(tag_bits)
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    pair = pair[first]
    out_a = decode(pair >> np.uint64(bits))
    out_b = decode(pair & np.uint64((1 << bits) - 1))
    if tag is None:
        return out_a, out_b, None
    return out_a, out_b, (packed[first] & np.uint64((1 << tag_bits) - 1)).astype(tag.dtype)


def _unique_sorted_pairs_lexsort(a: np.ndarray, b: np.ndarray, tag: np.ndarray | None = None
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``unique_sorted_pairs`` by lexsort, for ids or tags that do not pack into one word."""
    keys = (a, b) if tag is None else (a, b, tag)
    order = np.lexsort(keys[::-1])
    a, b = a[order], b[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], None if tag is None else tag[order][first]


def group_starts(*columns: np.ndarray) -> np.ndarray:
    """Boolean mask of rows where any of the (sorted) ``columns`` changes value: the first row of each
    run of equal keys, as bucketing and connected components both need after sorting."""
    n = len(columns[0])
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for col in columns:
            new[1:] |= col[1:] != col[:-1]
    return new
