import numpy as np
import pytest

from pipeline.dedup.packed import _unique_sorted_pairs_lexsort, node_codes, unique_sorted_pairs


@pytest.mark.parametrize("ids", [
    np.array([3, 1, 7, 1], dtype=np.uint64),  # fit in 32 bits: the ids themselves
    np.array([(5 << 32) | 9, (2 << 32) | 70000, 9, (5 << 32) | 8], dtype=np.uint64),  # rank << 32 | row
    np.array([1 << 63, 1 << 40, 17, (1 << 63) + 5], dtype=np.uint64),  # wide: ranks among the ids
    np.array([-4, 9, -4, 2], dtype=np.int64),  # signed
])
def test_node_codes_keep_order_and_decode(ids):
    (codes,), bits, decode = node_codes(ids)
    assert int(codes.max()) < (1 << bits)
    assert np.array_equal(np.argsort(codes, kind="stable"), np.argsort(ids, kind="stable"))
    assert np.array_equal(decode(codes), ids) and decode(codes).dtype == ids.dtype


@pytest.mark.parametrize("wide", [False, True])
def test_unique_sorted_pairs_match_lexsort(wide):
    rng = np.random.default_rng(7)
    ids = rng.choice(1 << (60 if wide else 20), size=50, replace=False).astype(np.uint64)
    a, b = ids[rng.integers(0, 50, 400)], ids[rng.integers(0, 50, 400)]
    tag = rng.integers(1, 3, 400).astype(np.uint8)
    got, expected = unique_sorted_pairs(a, b, tag), _unique_sorted_pairs_lexsort(a, b, tag)
    for x, y in zip(got, expected):
        assert np.array_equal(x, y) and x.dtype == y.dtype


def test_unique_sorted_pairs_of_nothing():
    a, b, tag = unique_sorted_pairs(np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.uint8))
    assert len(a) == len(b) == len(tag) == 0 and a.dtype == np.uint64
