import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash
import datasketch.minhash as ds_minhash

from pipeline.dedup.minhash import MinHashParams, lean_minhashes, permutations, sketch_texts
from pipeline.dedup.normalize import normalize_text
from pipeline.dedup.shingles import shingle_hash, shingles_of
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
