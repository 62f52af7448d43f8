"""Near-duplicate detection without spaces: Chinese paragraphs of the shared zhwiki sample, edited here.

Each Han or kana character is a word after normalisation, so FineWeb's 5-gram shingles are character
5-grams: an edited copy of a real paragraph shares most of them and lands in a common LSH band, distinct
paragraphs of the same article share almost none.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from pipeline.dedup.buckets import band_keys
from pipeline.dedup.lsh_params import PRESETS
from pipeline.dedup.minhash import MinHashParams, sketch_texts
from pipeline.dedup.normalize import normalize_batch, normalize_text
from pipeline.dedup.verify import jaccard, shingle_sets
from tests.pipeline.filters.support import SHARED_DATA

FINEWEB = PRESETS["fineweb"]
PARAMS = MinHashParams(num_perm=FINEWEB.num_perm, ngram=FINEWEB.ngram)


@functools.cache
def paragraphs() -> list[str]:
    """Long prose paragraphs (over 150 characters, mostly Han) of the shared zhwiki sample's articles."""
    from pipeline.readers import get_reader, reader_module
    from contracts.accounting import Tally
    from pipeline.readers.base import Split

    path = SHARED_DATA / "wiki" / "zhwiki-test-pages.xml"
    if not path.exists():
        pytest.fail(f"real test corpus {path} not found: "
                    "the tests expect the project's shared/ folder beside the "
                    "repository checkout (see shared/data/PROVENANCE.md)")
    docs = get_reader("wikipedia").read(Split(str(path)), reader_module("wikipedia").Options(), Tally())
    out = []
    for doc in docs:
        out += [p for p in doc.text.split("\n") if len(p) > 150 and sum("\u4e00" <= c <= "\u9fff" for c in p) > 100]
    return out


def edit(text: str, every: int) -> str:
    """A near-duplicate: every ``every``-th Han character replaced, and a clause appended."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in han[every // 2::every]:
        chars[i] = "们" if chars[i] != "们" else "的"
    return "".join(chars) + "本段经过编辑。"


def same_bucket(a: np.ndarray, b: np.ndarray) -> bool:
    keys = band_keys(np.stack([a, b]), FINEWEB.bands, FINEWEB.rows)
    return bool((keys[0] == keys[1]).any())


def test_chinese_text_normalises_to_one_word_per_character():
    assert normalize_text("数学（Mathematics）是研究数量的学科。") == "数 学 mathematics 是 研 究 数 量 的 学 科"
    batch = normalize_batch(["数学是学科", "日本の首都"])
    assert [batch.doc_bytes(d).decode() for d in range(2)] == ["数 学 是 学 科", "日 本 の 首 都"]


def test_edited_chinese_paragraphs_are_found_and_distinct_ones_are_not_merged():
    texts = paragraphs()
    assert len(texts) >= 40
    originals = texts[:40]
    copies = [edit(p, 100) for p in originals]  # 1 % of the Han characters changed, a clause added
    sketch = sketch_texts(originals + copies, PARAMS)
    sigs = sketch.signatures
    sets = shingle_sets(originals + copies, PARAMS.ngram)
    n = len(originals)
    for i in range(n):
        assert jaccard(sets[i], sets[n + i]) > 0.8, originals[i][:40]
        assert same_bucket(sigs[i], sigs[n + i]), originals[i][:40]
    # distinct real paragraphs: low character 5-gram overlap, never a common band
    for i in range(n):
        for j in range(i + 1, n):
            assert jaccard(sets[i], sets[j]) < 0.3
            assert not same_bucket(sigs[i], sigs[j]), (originals[i][:30], originals[j][:30])


def test_heavier_edits_fall_below_the_threshold():
    original = paragraphs()[0]
    rewritten = edit(original, 4)  # a quarter of the characters changed: not a near-duplicate any more
    a, b = shingle_sets([original, rewritten], PARAMS.ngram)
    assert jaccard(a, b) < 0.2


def test_mixed_script_documents_are_shingled_the_same_in_any_order_of_processing():
    mixed = "Python是一种广泛使用的高级编程语言，由Guido van Rossum创造，第一版发布于1991年。"
    first = sketch_texts([mixed, "other text entirely here"], PARAMS).signatures[0]
    second = sketch_texts(["另一段完全不同的文字", mixed], PARAMS).signatures[1]
    assert np.array_equal(first, second)
