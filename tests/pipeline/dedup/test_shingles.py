import numpy as np

from pipeline.dedup.normalize import normalize_batch, normalize_text
from pipeline.dedup.shingles import (MAX_NGRAM, POSITION_MULTIPLIERS, shingle_hash, shingle_hashes, shingles_of,
                                      word_hash, word_hashes)
from tests.pipeline.dedup.corpus import wiki_paragraphs


def test_word_hashes_equal_reference(shared_data):
    batch = normalize_batch(list(wiki_paragraphs(shared_data)[:50]))
    hashes = word_hashes(batch)
    for k in range(0, len(hashes), 7):
        assert int(hashes[k]) == word_hash(batch.data[batch.word_starts[k]:batch.word_ends[k]].tobytes())


def test_word_hashes_in_chunks_equal_reference_and_keep_the_powers_cache_bounded(shared_data, monkeypatch):
    """Hashing cut into chunks at word boundaries (tiny chunks here, and a word longer than a chunk) gives
    the reference hashes; the process-wide powers cache never grows past its limit."""
    from pipeline.dedup import shingles

    long_word = "x" * 300
    batch = normalize_batch(list(wiki_paragraphs(shared_data)[:20]) + [f"short {long_word} words", "tail"])
    monkeypatch.setattr(shingles, "WORD_HASH_CHUNK", 64)
    monkeypatch.setattr(shingles._Powers, "CACHE_LIMIT", 128)
    monkeypatch.setattr(shingles, "_POWERS", shingles._Powers())
    hashes = word_hashes(batch)
    assert len(hashes) == len(batch.word_starts)
    for k in range(len(hashes)):
        assert int(hashes[k]) == word_hash(batch.data[batch.word_starts[k]:batch.word_ends[k]].tobytes())
    assert len(shingles._POWERS.forward) <= 128  # the 300-byte word was hashed with powers made for it alone


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


def test_offsets_delimit_each_document_for_any_number_of_documents():
    for texts in (["one two three"], ["one two three", "four", "five six seven eight"]):  # odd counts too
        batch = normalize_batch(texts)
        hashes, offsets = shingle_hashes(batch, 2)
        assert offsets.tolist() == [0, *np.cumsum([len(shingles_of(normalize_text(t), 2)) for t in texts])]
        assert len(hashes) == offsets[-1]


def test_position_multipliers_are_odd_distinct_and_full_width():
    """Odd: invertible modulo 2**64, so no position loses a word's bits; drawn over the whole 64-bit range
    (a handful of small multipliers would leave the weighted sum nearly linear in the word hashes)."""
    m = [int(x) for x in POSITION_MULTIPLIERS]
    assert len(m) == MAX_NGRAM == len(set(m)) and all(x % 2 == 1 for x in m)
    assert sum(x >= 1 << 63 for x in m) >= MAX_NGRAM // 4 and min(m).bit_length() > 40
