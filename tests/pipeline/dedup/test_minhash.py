import os

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash
import datasketch.minhash as ds_minhash

from pipeline.dedup import minhash
from pipeline.dedup.minhash import MinHashParams, lean_minhashes, permutations, sketch_texts
from pipeline.dedup.normalize import normalize_batch, normalize_text
from pipeline.dedup.shingles import shingle_hash, shingle_hashes, shingles_of
from tests.pipeline.dedup.corpus import book_paragraphs, wiki_paragraphs


def _texts(shared_data):
    return list(wiki_paragraphs(shared_data)[:25]) + list(book_paragraphs(shared_data)[:25]) + ["tiny doc"]


def _datasketch(text: str, params: MinHashParams) -> MinHash:
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=shingle_hash, scheme="legacy")
    m.update_batch(shingles_of(normalize_text(text), params.ngram))
    return m


def test_permutations_are_datasketchs():
    a, b = permutations(128, 42)
    ref = MinHash(num_perm=128, seed=42, scheme="legacy").permutations
    assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


@pytest.mark.parametrize("ngram,num_perm,seed", [(5, 112, 1), (13, 128, 7)])
def test_32_bit_signatures_equal_datasketch_bit_for_bit(shared_data, ngram, num_perm, seed):
    params = MinHashParams(num_perm=num_perm, seed=seed, hash_bits=32, ngram=ngram)
    texts = _texts(shared_data)
    sigs = sketch_texts(texts, params, batch_bytes=20_000).signatures  # several batches
    for text, sig in zip(texts, sigs):
        assert np.array_equal(sig, _datasketch(text, params).hashvalues)


def test_64_bit_signatures_equal_datasketch_without_its_truncation(shared_data, monkeypatch):
    monkeypatch.setattr(ds_minhash, "_max_hash", np.uint64((1 << 64) - 1))
    params = MinHashParams(num_perm=112, seed=1, hash_bits=64, ngram=5)
    texts = _texts(shared_data)
    sigs = sketch_texts(texts, params).signatures
    assert int(sigs.max()) >= 1 << 32  # really 61-bit values
    for text, sig in zip(texts, sigs):
        assert np.array_equal(sig, _datasketch(text, params).hashvalues)


def test_signatures_readable_as_lean_minhash(shared_data):
    params = MinHashParams(num_perm=128, seed=1, hash_bits=32, ngram=5)
    texts = _texts(shared_data)[:3]
    lean = list(lean_minhashes(sketch_texts(texts, params).signatures, params))
    assert all(isinstance(m, LeanMinHash) for m in lean)
    assert lean[0].jaccard(LeanMinHash(_datasketch(texts[0], params))) == 1.0
    assert lean[0].jaccard(lean[1]) < 0.5


def test_empty_document_has_empty_signature():
    params = MinHashParams(num_perm=16, hash_bits=32)
    sketch = sketch_texts(["", "...", "words here"], params)
    assert (sketch.signatures[:2] == params.max_value).all()
    assert sketch.num_words.tolist() == [0, 0, 2]
    assert (sketch.exact[:2] == 0).all() and (sketch.exact[2] != 0).any()


def test_sketch_memory_is_set_by_the_batch_not_by_the_input(shared_data):
    """Peak traced allocation (numpy reports its buffers to tracemalloc) of sketching 8 MB of text is about
    that of 2 MB: texts are normalised and hashed in batches of ``TEXT_BYTES_PER_BATCH`` and words in chunks,
    and the process-wide powers cache stays under its limit. (Whole-batch hashing held ~30 bytes per text
    byte, and the cache kept twice the largest batch ever seen.)"""
    import tracemalloc

    from pipeline.dedup import shingles

    paragraphs = list(wiki_paragraphs(shared_data))
    size = sum(map(len, paragraphs))

    def peak(total: int) -> int:
        texts = (paragraphs * (total // size + 1))[:total * len(paragraphs) // size]
        tracemalloc.start()
        try:
            sketch_texts(texts, MinHashParams())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2_000_000), peak(8_000_000)
    assert large < 1.5 * small, (small, large)
    assert len(shingles._POWERS.forward) <= shingles._Powers.CACHE_LIMIT


# The compiled kernel (pipeline/dedup/_minhash.c) against the numpy path, which is its reference and fallback.

def _compiled_kernels() -> tuple[str, ...]:
    """Every kernel this CPU runs (avx512, avx2, default). Under CI (`make test` builds the extensions) a
    missing extension fails: CI must not silently test only the numpy fallback; elsewhere the tests skip."""
    if minhash._compiled is None:
        assert not os.environ.get("CI"), "pipeline.dedup._minhash was not built: is a C compiler installed?"
        pytest.skip("pipeline.dedup._minhash not built (no C compiler): the numpy path is in use")
    assert minhash._compiled.KERNELS[-1] == "default"
    return minhash._compiled.KERNELS


def _assert_paths_agree(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams) -> np.ndarray:
    expected = minhash.numpy_signatures_of_hashes(hashes, offsets, params)
    for kernel in _compiled_kernels():
        got = minhash.compiled_signatures_of_hashes(hashes, offsets, params, kernel)
        assert got.dtype == np.uint64 and got.shape == expected.shape
        assert np.array_equal(got, expected), kernel
    return expected


@pytest.mark.parametrize("hash_bits,num_perm", [(64, 128), (32, 112), (64, 13), (32, 1), (64, 40)])
def test_compiled_signatures_equal_numpy_on_real_documents(shared_data, hash_bits, num_perm):
    params = MinHashParams(num_perm=num_perm, seed=3, hash_bits=hash_bits, ngram=5)
    texts = _texts(shared_data) + ["", "...", "one"]  # two without words, one with a single shingle
    batch = normalize_batch(texts)
    hashes, offsets = shingle_hashes(batch, params.ngram)
    assert offsets[-1] > 3 * minhash.ROWS_PER_BLOCK  # the numpy path's blocks split documents
    sigs = _assert_paths_agree(hashes, offsets, params)
    assert (sigs[-3:-1] == params.max_value).all() and (sigs[-1] != params.max_value).all()
    assert np.array_equal(minhash.signatures_of_hashes(hashes, offsets, params), sigs)  # the default path


@pytest.mark.parametrize("hash_bits", [64, 32])
def test_compiled_signatures_equal_numpy_on_edge_cases(hash_bits):
    rng = np.random.default_rng(5)
    top = np.array([2**64 - 1, 2**64 - 2, 2**63, 2**61 - 1, 2**61, 2**61 + 1, 0, 1], dtype=np.uint64)
    random = rng.integers(0, 2**64 - 1, size=3000, dtype=np.uint64, endpoint=True)
    near_top = np.uint64(2**64 - 1) - rng.integers(0, 1000, size=200, dtype=np.uint64)
    hashes = np.concatenate([top, random, near_top])
    # empty documents first, between and last, one-shingle documents, one long document
    sizes = [0, 1, 1, 0, 0, len(top) - 2, 2500, 0, 500, 1, len(near_top) - 1, 0]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    assert offsets[-1] == len(hashes)
    for num_perm in (1, 7, 31, 32, 33, 64, 100, 128, 129):
        params = MinHashParams(num_perm=num_perm, seed=num_perm, hash_bits=hash_bits)
        sigs = _assert_paths_agree(hashes, offsets, params)
        assert (sigs[np.array(sizes) == 0] == params.max_value).all()
    params = MinHashParams(num_perm=16, hash_bits=hash_bits)
    assert _assert_paths_agree(hashes[:0], np.zeros(1, dtype=np.int64), params).shape == (0, 16)  # no documents
    assert (_assert_paths_agree(hashes[:0], np.zeros(3, dtype=np.int64), params) == params.max_value).all()


def test_compiled_kernel_rejects_inconsistent_arrays():
    _compiled_kernels()
    a, b = permutations(8, 1)
    hashes = np.arange(10, dtype=np.uint64)
    out = np.empty((2, 8), dtype=np.uint64)
    sign = minhash._compiled.signatures
    with pytest.raises(ValueError, match="outside"):
        sign(hashes, np.array([0, 5, 11], dtype=np.int64), a, b, out, False)
    with pytest.raises(ValueError, match="decrease"):
        sign(hashes, np.array([0, 6, 5], dtype=np.int64), a, b, out, False)
    with pytest.raises(ValueError, match="out must hold"):
        sign(hashes, np.array([0, 5, 10], dtype=np.int64), a, b, out[:1], False)
    with pytest.raises(ValueError, match="same positive number"):
        sign(hashes, np.array([0, 5, 10], dtype=np.int64), a, b[:4], out, False)
    with pytest.raises(ValueError, match="no kernel"):
        sign(hashes, np.array([0, 5, 10], dtype=np.int64), a, b, out, False, "sse9")
    with pytest.raises(TypeError):  # read-only output
        sign(hashes, np.array([0, 5, 10], dtype=np.int64), a, b, a, False)
