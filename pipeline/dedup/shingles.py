"""64-bit hashes of word n-grams ("shingles") of normalised text, vectorised over a batch of documents.

The hash of a shingle is defined on its bytes, so it can be handed to datasketch as a ``hashfunc``:

* word hash: ``fmix64(sum_k T[c_k] * Q**k + len)`` over the word's UTF-8 bytes ``c_k`` (mod 2**64), with
  ``T`` a fixed table of 256 random 64-bit values and ``Q`` a fixed odd constant;
* shingle hash: ``fmix64(sum_k word_hash[k] * M[k])`` over its ``n`` words, ``M`` fixed odd constants, so the
  order of the words matters.

Why this construction: both sums are prefix sums, so the hashes of every word and every n-gram of a whole
batch come out of a handful of numpy passes (``Q`` is odd, hence invertible mod 2**64, which lets a word's sum
be read off one running prefix sum). ``shingle_hash`` below is the same function one shingle at a time.

A document with fewer than ``n`` words (but at least one) has one shingle: all its words.

Chinese and Japanese: normalisation makes every Han and kana character a word (``normalize.split_cjk``),
so their shingles are character n-grams; Thai, Lao, Khmer, Myanmar and the other scripts written without
spaces: every grapheme cluster (``normalize.CLUSTER_SCRIPTS``), so theirs are cluster n-grams; all with the
same hashes, MinHash, LSH and ledger as every language.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from pipeline.dedup.normalize import NormalizedBatch

MASK64 = (1 << 64) - 1
Q = 0x9E3779B97F4A7C15  # odd: invertible modulo 2**64
Q_INVERSE = pow(Q, -1, 1 << 64)
MAX_NGRAM = 64  # one position multiplier per word of a shingle


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """``BYTE_TABLE`` (T) and ``POSITION_MULTIPLIERS`` (odd), drawn in this order from a fixed seed, so every
    process has the same values. Drawn on first use: every run imports this module (the manifest validates
    the dedup stage's options), and numpy.random's import, ~8 ms of each run's start, is then paid only by
    the runs that hash."""
    rng = np.random.Generator(np.random.PCG64(0x5EED_D0C5))
    byte_table = rng.integers(0, 1 << 64, size=256, dtype=np.uint64, endpoint=False)
    multipliers = rng.integers(0, 1 << 63, size=MAX_NGRAM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return byte_table, multipliers


def __getattr__(name: str) -> Any:
    """``BYTE_TABLE`` and ``POSITION_MULTIPLIERS`` as module attributes, made on first access."""
    if name == "BYTE_TABLE":
        return _tables()[0]
    if name == "POSITION_MULTIPLIERS":
        return _tables()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser (a bijection that spreads every input bit), in place on a copy."""
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    return h ^ (h >> 33)


def word_hash(word: bytes) -> int:
    """Reference hash of one word (bytes)."""
    total, power = 0, 1
    byte_table = _tables()[0]
    for byte in word:
        total = (total + int(byte_table[byte]) * power) & MASK64
        power = (power * Q) & MASK64
    return _fmix64_int((total + len(word)) & MASK64)


def shingle_hash(shingle: bytes) -> int:
    """Reference hash of one shingle: its words separated by single spaces; usable as datasketch hashfunc."""
    total, multipliers = 0, _tables()[1]
    for k, word in enumerate(shingle.split(b" ")):
        total = (total + word_hash(word) * int(multipliers[k])) & MASK64
    return _fmix64_int(total)


def shingles_of(normalized: str, n: int) -> list[bytes]:
    """Reference shingles of one normalised document, as bytes (what datasketch is fed in the tests)."""
    words = normalized.split(" ") if normalized else []
    if not words:
        return []
    return [" ".join(words[i:i + n]).encode() for i in range(max(len(words) - n + 1, 1))]


class _Powers:
    """Q**k and Q**-k for k < length, grown on demand up to ``CACHE_LIMIT`` and kept for the process (pure
    cache); longer requests (a single word longer than a chunk) are computed for that call only."""

    CACHE_LIMIT = 1 << 20

    def __init__(self) -> None:
        self.forward = np.ones(1, dtype=np.uint64)
        self.inverse = np.ones(1, dtype=np.uint64)

    @staticmethod
    def _make(size: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.cumprod(np.full(size, Q, dtype=np.uint64)) * np.uint64(Q_INVERSE),
                np.cumprod(np.full(size, Q_INVERSE, dtype=np.uint64)) * np.uint64(Q))

    def get(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.forward) < length:
            if length > self.CACHE_LIMIT:
                return self._make(length)
            self.forward, self.inverse = self._make(min(max(length, 2 * len(self.forward), 1 << 16),
                                                        self.CACHE_LIMIT))
        return self.forward[:length], self.inverse[:length]


_POWERS = _Powers()
# Normalised bytes hashed at once. Why chunks: the prefix sums and powers are 8 bytes per byte of text, so
# hashing a whole batch at once held ~3 x 8 bytes per text byte, and the powers cache grew to twice the
# largest batch a worker ever saw and stayed (72 MB after one 4.5 MB wiki shard). A word's hash depends only
# on positions relative to its start, so chunks cut at word boundaries give the same hashes.
WORD_HASH_CHUNK = 1 << 18


def _hash_words(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hashes of the words ``data[starts[k]:ends[k]]`` (positions relative to ``data``)."""
    forward, inverse = _POWERS.get(len(data) + 1)
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum(_tables()[0][data] * forward[:len(data)], out=prefix[1:])
    sums = (prefix[ends] - prefix[starts]) * inverse[starts]
    return fmix64(sums + (ends - starts).astype(np.uint64))


def word_hashes(batch: NormalizedBatch) -> np.ndarray:
    """The hash of every word of ``batch`` (uint64), equal to ``word_hash`` on its bytes; hashed in chunks
    of about ``WORD_HASH_CHUNK`` bytes, so memory does not grow with the batch."""
    data, starts, ends = batch.data, batch.word_starts, batch.word_ends
    out = np.empty(len(starts), dtype=np.uint64)
    w = 0
    while w < len(starts):
        lo = int(starts[w])
        w_end = max(w + 1, int(np.searchsorted(starts, lo + WORD_HASH_CHUNK, side="left")))
        hi = int(ends[w_end - 1])
        out[w:w_end] = _hash_words(data[lo:hi], starts[w:w_end] - lo, ends[w:w_end] - lo)
        w = w_end
    return out


def shingle_hashes(batch: NormalizedBatch, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every n-gram of every document, and per-document offsets into them (len = docs + 1)."""
    if not 1 <= n <= MAX_NGRAM:
        raise ValueError(f"n-gram size must be between 1 and {MAX_NGRAM}, got {n}")
    words = word_hashes(batch)
    num_words = len(words)
    doc_words = batch.doc_words
    counts = np.diff(doc_words)
    doc_of_word = np.repeat(np.arange(len(counts)), counts)
    end_of_word = doc_words[1:][doc_of_word]  # first word index after the word's document
    index = np.arange(num_words)
    padded = np.concatenate([words, np.zeros(n, dtype=np.uint64)])
    total = np.zeros(num_words, dtype=np.uint64)
    multipliers = _tables()[1]
    for k in range(n):
        term = padded[k:k + num_words] * multipliers[k]
        term[index + k >= end_of_word] = 0  # words past the document's end do not count
        total += term
    start_of_word = doc_words[:-1][doc_of_word]
    valid = (index + n <= end_of_word) | ((index == start_of_word) & (end_of_word - start_of_word < n))
    per_doc = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offsets[1:])
    return fmix64(total[valid]), offsets
