"""MinHash signatures of whole batches of documents, bit-compatible with datasketch.

Permutation ``k`` maps a 64-bit shingle hash ``h`` to ``((a_k * h + b_k) mod 2**64) mod (2**61 - 1)``: the
product wraps modulo 2**64 because that is what numpy's uint64 arithmetic does in datasketch and in
datatrove (FineWeb), and matching them bit for bit is worth more than the textbook formula. ``a_k, b_k`` are
drawn exactly as datasketch's ``MinHash(seed=..., scheme="legacy")`` draws them (``RandomState(seed)``,
interleaved ``randint(1, p)``, ``randint(0, p)``), so with ``hash_bits=32`` our signature of a document equals
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash, scheme="legacy")`` fed the same shingles, and
with ``hash_bits=64`` (FineWeb's precision) it equals the same computation without datasketch's final
truncation to 32 bits.

A document without shingles has the "empty" signature (all values ``max_value``); dedup never compares it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from pipeline.dedup.normalize import normalize_batch
from pipeline.dedup.shingles import shingle_hashes

MERSENNE_61 = (1 << 61) - 1
_P = np.uint64(MERSENNE_61)
_SHIFT = np.uint64(61)
_LOW32 = np.uint64((1 << 32) - 1)
ROWS_PER_BLOCK = 2048  # shingles per numpy block: num_perm x block uint64 stays near the L2 cache
TEXT_BYTES_PER_BATCH = 1 << 20  # documents are normalised and shingled in batches of about this size (~30
# bytes of temporaries per text byte: 1 MiB keeps a task near 190 MiB; 4 MiB peaked at 290, same CPU)


@dataclass(frozen=True)
class MinHashParams:
    num_perm: int = 112
    seed: int = 1
    hash_bits: int = 64  # 64: values mod 2**61-1 (FineWeb); 32: also & 0xFFFFFFFF (datasketch legacy)
    ngram: int = 5

    def __post_init__(self) -> None:
        if self.hash_bits not in (32, 64):
            raise ValueError(f"hash_bits must be 32 or 64, got {self.hash_bits}")
        if self.num_perm < 1:
            raise ValueError("num_perm must be positive")

    @property
    def max_value(self) -> int:
        return (1 << 32) - 1 if self.hash_bits == 32 else (1 << 64) - 1


@functools.cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` as datasketch's legacy scheme draws them for ``seed``."""
    gen = np.random.RandomState(seed)
    pairs = [(gen.randint(1, _P, dtype=np.uint64), gen.randint(0, _P, dtype=np.uint64)) for _ in range(num_perm)]
    a, b = map(np.ascontiguousarray, np.array(pairs, dtype=np.uint64).T)  # contiguous: the C kernel reads them
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


try:
    from pipeline.dedup import _minhash as _compiled
except ImportError:  # not built (no C compiler at install time): the numpy path gives the same signatures
    _compiled = None


def signatures_of_hashes(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams) -> np.ndarray:
    """Signatures (docs x num_perm, uint64) of documents whose shingle hashes are ``hashes[offsets[d]:...]``:
    the compiled ``_minhash`` kernel where it was built (one pass per document, equal bit for bit), else numpy."""
    if _compiled is None:
        return numpy_signatures_of_hashes(hashes, offsets, params)
    return compiled_signatures_of_hashes(hashes, offsets, params)


def compiled_signatures_of_hashes(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams,
                                  kernel: str | None = None) -> np.ndarray:
    """``signatures_of_hashes`` by the C kernel (``kernel``: one of ``_minhash.KERNELS``, the best by default)."""
    a, b = permutations(params.num_perm, params.seed)
    out = np.empty((len(offsets) - 1, params.num_perm), dtype=np.uint64)
    args = (np.ascontiguousarray(hashes, dtype=np.uint64), np.ascontiguousarray(offsets, dtype=np.int64), a, b,
            out, params.hash_bits == 32)
    if kernel is None:
        _compiled.signatures(*args)
    else:
        _compiled.signatures(*args, kernel)
    return out


def numpy_signatures_of_hashes(hashes: np.ndarray, offsets: np.ndarray, params: MinHashParams) -> np.ndarray:
    """``signatures_of_hashes`` in numpy: the fallback, and the reference the compiled kernel is tested on."""
    a, b = permutations(params.num_perm, params.seed)
    docs = len(offsets) - 1
    out = np.full((docs, params.num_perm), params.max_value, dtype=np.uint64)
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    if len(nonempty) == 0:
        return out
    starts, ends = offsets[nonempty], offsets[nonempty + 1]
    total = int(offsets[-1])
    # permutations along the first axis: the per-document minimum then runs over contiguous memory
    block = np.empty((params.num_perm, ROWS_PER_BLOCK), dtype=np.uint64)
    scratch = np.empty_like(block)
    a_col, b_col = a[:, None], b[:, None]
    for lo in range(0, total, ROWS_PER_BLOCK):
        hi = min(lo + ROWS_PER_BLOCK, total)
        rows = hi - lo
        x, t = block[:, :rows], scratch[:, :rows]
        np.multiply(a_col, hashes[None, lo:hi], out=x)
        x += b_col  # wraps modulo 2**64, as in datasketch
        # x mod (2**61 - 1) without division: fold the top 3 bits, then subtract p once if needed
        np.right_shift(x, _SHIFT, out=t)
        x &= _P
        x += t
        np.subtract(x, _P, out=t)
        np.minimum(x, t, out=x)  # x - p wrapped around when x < p, so the minimum picks the right one
        if params.hash_bits == 32:
            x &= _LOW32
        first = np.searchsorted(ends, lo, side="right")  # documents overlapping [lo, hi)
        last = np.searchsorted(starts, hi, side="left")
        docs_here = nonempty[first:last]
        cuts = np.maximum(starts[first:last], lo) - lo
        mins = np.minimum.reduceat(x, cuts, axis=1).T
        mins = np.minimum(out[docs_here], mins)
        out[docs_here] = mins
    return out


def _batches(texts: list[str], limit: int) -> Iterator[tuple[int, int]]:
    lo, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= limit:
            yield lo, i + 1
            lo, size = i + 1, 0
    if lo < len(texts):
        yield lo, len(texts)


@dataclass
class ShardSketch:
    """What dedup needs of a batch of documents: normalised-text hashes and MinHash signatures."""

    exact: np.ndarray  # docs x 2 uint64: blake2b-128 of the normalised text (0, 0 when it is empty)
    num_words: np.ndarray  # int64
    signatures: np.ndarray  # docs x num_perm uint64


def sketch_texts(texts: list[str], params: MinHashParams, batch_bytes: int = TEXT_BYTES_PER_BATCH) -> ShardSketch:
    """Normalise, hash and sign ``texts`` in batches of about ``batch_bytes`` (memory stays bounded)."""
    import hashlib

    exact = np.zeros((len(texts), 2), dtype=np.uint64)
    num_words = np.zeros(len(texts), dtype=np.int64)
    sigs = np.empty((len(texts), params.num_perm), dtype=np.uint64)
    for lo, hi in _batches(texts, batch_bytes):
        batch = normalize_batch(texts[lo:hi])
        counts = np.diff(batch.doc_words)
        num_words[lo:hi] = counts
        for d in np.flatnonzero(counts):
            digest = hashlib.blake2b(batch.doc_bytes(int(d)), digest_size=16).digest()
            exact[lo + d] = np.frombuffer(digest, dtype="<u8")
        hashes, offsets = shingle_hashes(batch, params.ngram)
        sigs[lo:hi] = signatures_of_hashes(hashes, offsets, params)
    return ShardSketch(exact, num_words, sigs)


def lean_minhashes(signatures: np.ndarray, params: MinHashParams) -> Iterable:
    """The signatures as ``datasketch.LeanMinHash`` objects (scheme "legacy"), for users of datasketch.

    With ``hash_bits=64`` the values exceed 32 bits: ``jaccard`` and ``MinHashLSH`` work, datasketch's
    ``serialize`` (32-bit for legacy) does not.
    """
    from datasketch import LeanMinHash

    for row in signatures:
        yield LeanMinHash(seed=params.seed, hashvalues=row, scheme="legacy")
