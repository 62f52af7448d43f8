"""Our fastText inference on long, unrepeated whitespace tokens (Chinese and Japanese text) against
fasttext-predict, the reference, bit for bit.

Why: `_lid.c` computes a token's character n-gram rows in three passes (every bucket id by a multiplication
instead of fastText's `%`, then the pruned model's kept ones compacted, then their rows from the prune
table). Chinese and Japanese whitespace tokens are whole clauses, mostly longer than the cache's 256-byte
limit or seen once, so every prediction there goes through that code; the real dumps and books exercise it
on the bundled model, and synthetic pruned models whose kept n-grams are those of the texts exercise it with
large buckets (the table without its bit index, ids near 2^31). Each runs with the AVX2 hashing of CJK
n-grams (eight character starts at a time, where the CPU has AVX2) and without it (the scalar path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.filters.fasttext_lid import FastTextLID
from pipeline.filters.language import bundled_model_path, fasttext_predict_batch, load_model
from tests.pipeline.filters.support import both_simd_paths
from tests.pipeline.filters.test_lid import CAP, EDGE_CASES, needs_lid, write_model

SOURCES = {"zhwiki": ("wikipedia", "wiki/zhwiki-test-pages.xml"),
           "jawiki": ("wikipedia", "wiki/jawiki-2023-truncated-100k-lines.xml.xz"),
           "dewiki": ("wikipedia", "wiki/dewiki-20170701-sample.xml"),
           "ruwiki": ("wikipedia", "wiki/ruwiki-sample-pages-articles.xml.bz2"),
           "zh-book": ("books", "books/zh-hongloumeng-pg24264.txt"),
           "de-book": ("books", "books/de-goethe-faust1-pg2229.txt")}


def read_texts(shared_data: Path, kind: str, rel: str) -> list[str]:
    from contracts.accounting import Tally
    from pipeline.readers import get_reader, reader_module
    from pipeline.readers.base import Split

    docs = get_reader(kind).read(Split(str(shared_data / rel)), reader_module(kind).Options(), Tally())
    texts = [d.text for d in docs]
    if kind == "books":  # one long text: pieces of 20,000 characters, as many documents
        texts = [t[i:i + 20_000] for t in texts for i in range(0, len(t), 20_000)]
    return texts


@pytest.fixture(scope="module")
def corpora(shared_data: Path) -> dict[str, list[str]]:
    out = {name: read_texts(shared_data, kind, rel) for name, (kind, rel) in SOURCES.items()}
    assert all(len(texts) > 0 for texts in out.values())
    return out


# both ways of hashing CJK n-grams; where the CPU has no AVX2 the "simd" run takes the scalar path too
simd = both_simd_paths("pipeline.filters._lid", ("simd", "scalar"))


def test_set_simd_reports_the_path_in_use():
    from pipeline.filters import _lid

    was = _lid.simd()
    try:
        assert _lid.set_simd(False) is False and _lid.simd() is False
        assert _lid.set_simd(True) is _lid.simd()
    finally:
        _lid.set_simd(was)


def long_tokens(texts: list[str], limit: int = 256) -> int:
    return sum(len(tok.encode()) > limit for t in texts for tok in t[:CAP].split())


@needs_lid
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_shared_texts_match_fasttext_bit_for_bit(corpora, name, simd):
    texts = corpora[name]
    theirs = fasttext_predict_batch(load_model(bundled_model_path()), texts, CAP)
    model = FastTextLID(bundled_model_path())
    assert model.predict_batch(texts, CAP) == theirs
    assert model.predict_batch(texts, CAP) == theirs  # warm cache
    tiny = FastTextLID(bundled_model_path(), cache_entries=1)  # nearly every token computed afresh
    assert tiny.predict_batch(texts, CAP) == theirs
    if name in ("zhwiki", "jawiki"):
        assert long_tokens(texts) > 100  # tokens the cache never holds
        labels = {label for label in theirs[0]}
        assert {"__label__zh", "__label__ja"} & labels


def fnv(data: bytes) -> int:
    """fastText's Dictionary::hash (FNV-1a over sign-extended bytes)."""
    h = 2166136261
    for b in data:
        h = ((h ^ (b - 256 if b > 127 else b)) & 0xFFFFFFFF) * 16777619 & 0xFFFFFFFF
    return h


def ngram_hashes(token: str, minn: int, maxn: int) -> list[int]:
    """The FNV hashes of the character n-grams of "<token>", as Dictionary::computeSubwords takes them."""
    chars = ["<", *token, ">"]
    out = []
    for i in range(len(chars)):
        for n in range(minn, maxn + 1):
            if i + n <= len(chars) and not (n == 1 and (i == 0 or i + n == len(chars))):
                out.append(fnv("".join(chars[i:i + n]).encode(errors="replace")))
    return out


@needs_lid
@pytest.mark.parametrize("bucket", [2_000_003, 200_000_033, 2_147_483_647])
def test_pruned_models_with_large_buckets_match_fasttext(tmp_path, corpora, bucket, simd):
    """Kept n-grams: a third of the texts' own (so many rows are found), the rest of the buckets dropped;
    buckets above 2^27 have no bit index, and 2^31 - 1 gives ids whose remainder needs all 32 bits."""
    import fasttext

    texts = [t[:3_000] for t in corpora["zhwiki"][:8] + corpora["jawiki"][:8] + corpora["dewiki"][:4]]
    texts += EDGE_CASES
    ids = sorted({h % bucket for t in texts for tok in t.split() for h in ngram_hashes(tok, 2, 4)})
    rng = np.random.default_rng(bucket % 1000)
    kept = rng.choice(ids, size=len(ids) // 3, replace=False).tolist()
    path = tmp_path / "pruned.bin"
    write_model(path, quant=True, prune=True, bucket=bucket, seed=bucket % 97, kept=kept)
    theirs = fasttext_predict_batch(fasttext.load_model(str(path)), texts, CAP)
    assert len(set(theirs[0])) > 1
    for cache_entries in (1, 1 << 18):
        model = FastTextLID(path, cache_entries=cache_entries)
        assert model.predict_batch(texts, CAP) == theirs


def cjk_noise(rng: np.random.Generator, n: int) -> bytes:
    """Runs of 3-byte characters of every length around the vector path's blocks (8, 64), cut by ASCII, 2- and
    4-byte characters, spaces and malformed bytes (a stray continuation or lead byte inside or after a run)."""
    out = bytearray()
    while len(out) < n:
        run = int(rng.choice([1, 3, 4, 7, 8, 9, 11, 12, 15, 16, 63, 64, 65, 67, 72, 130]))
        out += "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FFF, run)).encode()
        out += [b" ", b"a", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\x80", b"\xe4", b"\xe4\xb8", b"<>", b"\n"][
            int(rng.integers(0, 9))]
    return bytes(out)


@needs_lid
def test_vector_and_scalar_hashing_agree_on_malformed_and_edge_runs():
    """Bytes read as they are (no UTF-8 check), so malformed runs reach the n-gram code: the AVX2 path must
    give the scalar path's rows (checked against fastText on valid text above) bit for bit."""
    from pipeline.filters import _lid

    rng = np.random.default_rng(48)
    texts = [cjk_noise(rng, int(rng.integers(1, 3_000))) for _ in range(300)]
    was = _lid.simd()
    try:
        results = []
        for on in (True, False):
            _lid.set_simd(on)
            results.append(FastTextLID(bundled_model_path(), cache_entries=1).predict_batch(texts, CAP))
    finally:
        _lid.set_simd(was)
    assert results[0] == results[1]
    assert len(set(results[0][0])) > 1


@needs_lid
def test_an_ngram_hash_that_is_a_multiple_of_the_bucket_count_gets_bucket_zero(tmp_path, simd):
    """The vector path's remainder floor(h * (1 / bucket)) falls one short where h is an exact multiple of the
    bucket count and the product rounds down; its correction must give bucket 0, as h % bucket does. The bucket
    count is chosen as such an n-gram's own hash, and the pruned model keeps bucket 0."""
    import fasttext

    rng = np.random.default_rng(13)
    found = None
    while found is None:
        token = "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FFF, 40))
        for i in range(1, 30):  # starts inside the vector path's first block of eight-start groups
            for n in (2, 3, 4):
                h = fnv(token[i:i + n].encode())
                if 1 << 16 < h < 1 << 27 and h * (1.0 / h) < 1.0:
                    found = token, h
    token, bucket = found
    texts = [token, f"{token} {token[::-1]}", f"abc {token[5:]} def"]
    kept = [0] + sorted({h % bucket for t in texts for tok in t.split() for h in ngram_hashes(tok, 2, 4)} - {0})[:50]
    path = tmp_path / "multiple.bin"
    write_model(path, quant=True, prune=True, bucket=bucket, seed=5, kept=kept)
    theirs = fasttext_predict_batch(fasttext.load_model(str(path)), texts, CAP)
    assert FastTextLID(path, cache_entries=1).predict_batch(texts, CAP) == theirs


@needs_lid
def test_tokens_of_every_length_between_every_separator_match_fasttext():
    """Tokens are found sixteen bytes at a time (SSE2): tokens of 1 to 70 characters (1- and 3-byte), so a
    separator falls at every place in a 16-byte step and in the byte loop's tail, each of fastText's separators."""
    rng = np.random.default_rng(7)
    texts = []
    for _ in range(200):
        parts = []
        for _ in range(int(rng.integers(1, 12))):
            size = int(rng.integers(1, 71))
            parts.append("".join(chr(int(c)) for c in (rng.integers(0x4E00, 0x9FFF, size) if rng.random() < 0.5
                                                        else rng.integers(0x61, 0x7B, size))))
            parts.append("".join(rng.choice(list(" \t\v\f\r\n"), int(rng.integers(1, 3)))))
        texts.append("".join(parts[:-1] if rng.random() < 0.5 else parts))
    theirs = fasttext_predict_batch(load_model(bundled_model_path()), texts, CAP)
    assert FastTextLID(bundled_model_path(), cache_entries=1).predict_batch(texts, CAP) == theirs
    assert FastTextLID(bundled_model_path()).predict_batch(texts, CAP) == theirs
