import numpy as np
import pytest

from pipeline.dedup.buckets import EXACT, NEAR, band_keys, candidate_pairs, unique_pairs


def _u64(values):
    return np.array(values, dtype=np.uint64)


def test_band_keys_differ_per_band_and_match_equal_bands():
    sig = _u64([[1, 2, 1, 2], [1, 2, 9, 9]])
    keys = band_keys(sig, 2, 2)
    assert keys[0, 0] == keys[1, 0] and keys[0, 0] != keys[0, 1] and keys[0, 1] != keys[1, 1]


@pytest.mark.parametrize("bands, rows", [(5, 4), (3, 6), (17, 1)])
def test_band_keys_refuse_more_values_than_the_signatures_hold(bands, rows):
    sig = _u64(np.arange(32).reshape(2, 16))
    with pytest.raises(ValueError, match=f"need {bands * rows} signature values"):
        band_keys(sig, bands, rows)
    assert band_keys(sig, 16 // rows, rows).shape == (2, 16 // rows)


def test_candidate_pairs_collapse_identical_texts_and_mark_exact():
    # band 0 bucket 7 holds nodes 5, 3, 9 (3 and 9 share a text); exact band (2) links 3 and 9
    band = np.array([0, 0, 0, 2, 2], dtype=np.uint32)
    key = _u64([7, 7, 7, 100, 100])
    exact = _u64([11, 22, 22, 22, 22])
    node = _u64([5, 3, 9, 3, 9])
    u, v, kind = candidate_pairs(band, key, exact, node, exact_band=2)
    assert list(zip(u.tolist(), v.tolist(), kind.tolist())) == [(3, 5, NEAR), (3, 9, EXACT)]


def test_all_pairs_for_small_buckets():
    band = np.zeros(3, dtype=np.uint32)
    u, v, _ = candidate_pairs(band, _u64([1, 1, 1]), _u64([1, 2, 3]), _u64([10, 20, 30]), exact_band=5,
                              all_pairs_up_to=3)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 20), (10, 30), (20, 30)]
    u, v, _ = candidate_pairs(band, _u64([1, 1, 1]), _u64([1, 2, 3]), _u64([10, 20, 30]), exact_band=5)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 20), (10, 30)]


def test_unique_pairs_prefers_exact():
    u, v, kind = unique_pairs(_u64([2, 1, 1, 4]), _u64([1, 2, 2, 4]), np.array([NEAR, EXACT, NEAR, EXACT], np.uint8))
    assert (u.tolist(), v.tolist(), kind.tolist()) == ([1], [2], [EXACT])


def test_keys_that_agree_in_their_high_bits_stay_apart():
    # 4 entries: the row number takes the 2 low bits of each key in the fast sort, so 5, 6 and 7 tie there
    band = np.zeros(4, dtype=np.uint32)
    u, v, _ = candidate_pairs(band, _u64([5, 6, 5, 7]), _u64([1, 2, 3, 4]), _u64([10, 20, 30, 40]), exact_band=1)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 30)]


def test_texts_that_agree_in_their_high_bits_stay_apart():
    # 64-bit text hashes lose their low bit in the packed sort: 2**63 + 2 and 2**63 + 3 tie there
    band = np.zeros(3, dtype=np.uint32)
    exact = _u64([2**63 + 3, 2**63 + 2, 2**63 + 3])
    u, v, _ = candidate_pairs(band, _u64([9, 9, 9]), exact, _u64([10, 20, 30]), exact_band=1)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 20)]  # centre: lowest node of the lowest text (20)


def test_one_key_in_two_bands_makes_two_buckets():
    band = np.array([0, 1, 0, 1], dtype=np.uint32)
    u, v, _ = candidate_pairs(band, _u64([9, 9, 9, 9]), _u64([1, 2, 3, 4]), _u64([10, 20, 30, 40]), exact_band=2)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 30), (20, 40)]


def test_band_keys_match_one_band_at_a_time_across_blocks():
    from pipeline.dedup.buckets import _GOLDEN, _salt
    from pipeline.dedup.shingles import fmix64

    sig = np.random.default_rng(3).integers(0, 1 << 63, size=(5000, 12), dtype=np.int64).astype(np.uint64)
    keys = band_keys(sig, 3, 4)
    for band in range(3):
        expected = np.full(len(sig), _salt(band), dtype=np.uint64)
        for col in range(band * 4, band * 4 + 4):
            expected = fmix64(expected ^ sig[:, col]) + _GOLDEN
        assert np.array_equal(keys[:, band], expected)


def _reference_pairs(band, key, exact, node, exact_band):
    """Candidate pairs by definition, one bucket at a time: exact band -> every node to the centre; LSH band ->
    each distinct text's lowest node to the centre; the centre is the lowest node of the lowest text."""
    found = {}
    for bucket in sorted({(int(b), int(k)) for b, k in zip(band, key)}):
        rows = [i for i in range(len(key)) if (int(band[i]), int(key[i])) == bucket]
        reps = {}
        for i in rows:
            reps[int(exact[i])] = min(reps.get(int(exact[i]), int(node[i])), int(node[i]))
        centre = reps[min(reps)]
        members = [int(node[i]) for i in rows] if bucket[0] == exact_band else list(reps.values())
        for n in members:
            if n != centre:
                pair, kind = (min(centre, n), max(centre, n)), EXACT if bucket[0] == exact_band else NEAR
                found[pair] = min(found.get(pair, kind), kind)
    return sorted((u, v, k) for (u, v), k in found.items())


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("signed", [False, True])
def test_candidate_pairs_match_the_definition_on_random_buckets(seed, signed):
    # few keys and texts, so buckets of 1-5 entries in 1-4 bands; signed text ids take the remapping path
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    band = rng.integers(0, 4, n).astype(np.uint32)
    key = _u64(rng.integers(0, max(2, n // 3), n))
    exact = rng.integers(-3 if signed else 0, 5, n).astype(np.int64 if signed else np.uint64)
    node = _u64(rng.permutation(1000)[:n])
    u, v, kind = candidate_pairs(band, key, exact, node, exact_band=3)
    assert list(zip(u.tolist(), v.tolist(), kind.tolist())) == _reference_pairs(band, key, exact, node, 3)
