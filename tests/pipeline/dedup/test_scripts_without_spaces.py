"""Near-duplicate detection in the other scripts written without spaces: real paragraphs, edited here.

Thai, Lao, Khmer and Burmese have no spaces between words, so normalisation makes every grapheme cluster a
word (``normalize.CLUSTER_SCRIPTS``) and FineWeb's 5-gram shingles are cluster 5-grams: an edited copy of
a real paragraph shares most of them and lands in a common LSH band, two distinct paragraphs share almost
none. Before, a run of text between two spaces was one word and a paragraph had a handful of shingles.

The paragraphs: the first two paragraphs of the preamble of the Universal Declaration of Human Rights in each
language (tests/udhr_preambles.py says where they come from).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dedup.buckets import band_keys
from pipeline.dedup.lsh_params import PRESETS
from pipeline.dedup.minhash import MinHashParams, sketch_texts
from pipeline.dedup.normalize import CLUSTER_SCRIPTS, normalize_batch, normalize_text, numpy_normalize_batch
from pipeline.dedup.verify import jaccard, shingle_sets
from tests.udhr_preambles import PREAMBLE

FINEWEB = PRESETS["fineweb"]
PARAMS = MinHashParams(num_perm=FINEWEB.num_perm, ngram=FINEWEB.ngram)

# the first two paragraphs of each language's preamble ([174, 296], [191, 318], [199, 315], [206, 484] characters)
PARAGRAPHS = {name: PREAMBLE[code][:2] for name, code in (("Thai", "th"), ("Lao", "lo"), ("Khmer", "km"),
                                                           ("Burmese", "my"))}


def clusters(text: str) -> list[str]:
    """Extended grapheme clusters (UAX #29) as the ``regex`` package finds them: an implementation of the
    standard independent of ours."""
    return regex.findall(r"\X", text)


def edit(text: str, every: int) -> str:
    """A near-duplicate: every ``every``-th non-space grapheme cluster replaced by another cluster of the
    text, and the last one deleted."""
    units = clusters(text)
    spots = [i for i, u in enumerate(units) if not u.isspace()]
    rng = random.Random(every)
    pool = [units[i] for i in spots]
    for i in spots[every // 2::every]:
        units[i] = rng.choice([u for u in pool if u != units[i]])
    del units[spots[-1]]
    return "".join(units)


def same_bucket(a: np.ndarray, b: np.ndarray) -> bool:
    keys = band_keys(np.stack([a, b]), FINEWEB.bands, FINEWEB.rows)
    return bool((keys[0] == keys[1]).any())


def test_grapheme_clusters_are_words():
    # a tone mark and the vowel AM stay with their letter; a Khmer subscript after COENG and a Myanmar
    # medial stay with their base
    assert normalize_text("น้ำ ภาษาไทย") == "น้ำ ภ า ษ า ไ ท ย"
    assert normalize_text("ភាសាខ្មែរ") == "ភា សា ខ្មែ រ"
    assert normalize_text("မြန်မာစာ") == "မြ န် မ ာ စ ာ"
    assert normalize_text("ພາສາລາວ") == "ພ າ ສ າ ລ າ ວ"
    # Thai spaces mark phrases, inconsistently: where one falls no longer changes the normalised text
    assert normalize_text("ภาษา ไทย") == normalize_text("ภาษาไทย")
    # a digit run stays one number whatever its digits; punctuation of these scripts separates
    assert normalize_text("ปี๒๕๖๐ ปี 2560។") == "ปี 0000 ปี 0000"
    # Tibetan needed no rule: the tsheg is punctuation, so syllables are words
    assert normalize_text("བོད་ཡིག་") == "བོད ཡིག"


@pytest.mark.parametrize("script", sorted(PARAGRAPHS))
def test_words_are_the_unicode_grapheme_clusters(script):
    for text in PARAGRAPHS[script]:
        expected = [c for c in clusters(text) if regex.fullmatch(r"[\p{L}\p{M}]+", c)]
        assert normalize_text(text).split(" ") == expected


@pytest.mark.parametrize("script", sorted(PARAGRAPHS))
def test_edited_paragraphs_are_found_and_distinct_ones_are_not_merged(script):
    first, second = PARAGRAPHS[script]
    copies = [edit(first, 100), edit(second, 100)]  # 1 % of the clusters
    texts = [first, second, *copies]
    sigs = sketch_texts(texts, PARAMS).signatures
    sets = shingle_sets(texts, PARAMS.ngram)
    for original, copy in ((0, 2), (1, 3)):
        assert texts[copy] != texts[original]
        assert jaccard(sets[original], sets[copy]) >= 0.85
        assert same_bucket(sigs[original], sigs[copy])
    # two real paragraphs of one text, both opening with "Whereas": low overlap, never a common band
    for i, j in ((0, 1), (0, 3), (1, 2), (2, 3)):
        assert jaccard(sets[i], sets[j]) < 0.3
        assert not same_bucket(sigs[i], sigs[j])


def test_before_a_paragraph_had_a_handful_of_words():
    """What the rule fixes: splitting at spaces only, a Thai paragraph is a handful of clause-long words."""
    text = PARAGRAPHS["Thai"][0]
    assert len(text.split()) <= 10
    assert len(normalize_text(text).split(" ")) > 120


def test_mixed_thai_english_is_deterministic():
    mixed = ("ภาษาไทย (Thai language) is written without spaces: " + PARAGRAPHS["Thai"][0][:40]
             + " ... COVID-19 ไทยEnglish123ไทย")
    words = normalize_text(mixed).split(" ")
    assert words[:11] == ["ภ", "า", "ษ", "า", "ไ", "ท", "ย", "thai", "language", "is", "written"]
    # a Latin word and its digits after Thai letters: one word of its own, not glued to a cluster
    assert words[-9:] == ["covid", "00", "ไ", "ท", "ย", "english000", "ไ", "ท", "ย"]
    # the same bytes and signature whatever else is in the batch and wherever the document sits in it
    others = [PARAGRAPHS["Khmer"][0], "plain English text", "数学是研究数量的学科"]
    alone = normalize_batch([mixed]).doc_bytes(0)
    assert alone.decode() == normalize_text(mixed)
    assert normalize_batch([*others, mixed]).doc_bytes(3) == alone
    assert normalize_batch([mixed, *others]).doc_bytes(0) == alone
    sig = sketch_texts([mixed], PARAMS).signatures[0]
    assert np.array_equal(sketch_texts([*others, mixed], PARAMS).signatures[3], sig)


_SCRIPT_CHARS = [chr(cp) for lo, hi in CLUSTER_SCRIPTS.values() for cp in range(lo, hi + 1)]
_OTHER_CHARS = list("aZé1 .,-\n") + ["\u0301", "\u0663", "数", "カ", "İ", "\u200b", "\U0001d7d8", "\U000e0100"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(_SCRIPT_CHARS + _OTHER_CHARS), max_size=40), min_size=1, max_size=6))
def test_batch_equals_reference_on_every_cluster_script(texts):
    for batch in (normalize_batch(texts), numpy_normalize_batch(texts)):  # the compiled path where built, numpy
        for d, text in enumerate(texts):
            assert batch.doc_bytes(d).decode() == normalize_text(text)


def test_batch_with_empty_last_documents():
    """An empty document at the end of a batch starts after the last byte (it used to index past it)."""
    for texts in (["a", ""], ["", ""], ["ไทย", "", ""], [""]):
        batch = normalize_batch(texts)
        assert [batch.doc_bytes(d).decode() for d in range(len(texts))] == [normalize_text(t) for t in texts]


def test_batch_equals_reference_on_real_paragraphs():
    texts = [p for pair in PARAGRAPHS.values() for p in pair]
    texts += [edit(p, 7) for p in texts] + ["", "ไทย", "abc ไทย", "ไทย abc"]
    batch = normalize_batch(texts)
    for d, text in enumerate(texts):
        assert batch.doc_bytes(d).decode() == normalize_text(text), d
