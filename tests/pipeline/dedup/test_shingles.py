import numpy as np

from pipeline.dedup.normalize import normalize_batch, normalize_text
from pipeline.dedup.shingles import shingle_hash, shingle_hashes, shingles_of, word_hash, word_hashes
from tests.pipeline.dedup.corpus import wiki_paragraphs


def test_word_hashes_equal_reference(shared_data):
    batch = normalize_batch(list(wiki_paragraphs(shared_data)[:50]))
    hashes = word_hashes(batch)
    for k in range(0, len(hashes), 7):
        assert int(hashes[k]) == word_hash(batch.data[batch.word_starts[k]:batch.word_ends[k]].tobytes())


def test_shingle_hashes_equal_reference_for_short_and_long_documents(shared_data):
    texts = list(wiki_paragraphs(shared_data)[:30]) + ["", "one", "two words", "one two three four five"]
    batch = normalize_batch(texts)
    for n in (1, 5, 13):
        hashes, offsets = shingle_hashes(batch, n)
        for d, text in enumerate(texts):
            expected = [shingle_hash(s) for s in shingles_of(normalize_text(text), n)]
            assert hashes[offsets[d]:offsets[d + 1]].tolist() == expected


def test_word_order_matters():
    batch = normalize_batch(["a b c d e", "e d c b a"])
    hashes, _ = shingle_hashes(batch, 5)
    assert hashes[0] != hashes[1]
    assert len(np.unique(hashes)) == 2
