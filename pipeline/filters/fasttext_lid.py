"""fastText language identification with a per-token cache: our own inference for lid.176 (C extension).

Why: calling ``fasttext-predict``'s ``model.predict(text, k=1)`` once per document took about 35 % of the
filter chain's time (57 % once the other filters had compiled loops). fastText's loop (fastText 0.9.2, ``Dictionary::getLine`` + ``Model::predict``) looks
up every whitespace token in the vocabulary, hashes each of its character n-grams, looks each hash up in
the prune index and adds the kept rows, for every occurrence of the token. Web text repeats its tokens
heavily (the 344 pages of shared/data/web: 331k tokens, 58k distinct), so ``pipeline.filters._lid``
caches per distinct token the input rows it contributes: a token seen before costs one hash lookup and
its row adds. The cache lives in the model object, so it persists across calls (a Ray worker filters many
shards with one model), and it is bounded: emptied when it holds ``cache_entries`` tokens or
``cache_bytes`` bytes of records (tokens longer than 256 bytes are never cached), so with the defaults it
stays under about 24 MB: 16 MB of records and 8 MB of slots at 262,144 tokens. It was 64 MB and 1,048,576
tokens (up to ~96 MB with the slots), all of it in every filter worker's resident set once the text is
varied enough (issue 19: "peak RSS per worker flat"); emptying the cache only costs recomputing the
tokens met again, and frequent tokens come back at once: on the 10x scale corpus's 1,604 documents (86,000
distinct tokens, ~6 MB of records) caps of 64, 16 and 8 MB take the same CPU time, 4 MB +13 %, 2 MB +26 %
(bench/README.md, worker memory).

Two cache modes:

* ``exact=True`` (default) caches each token's row ids and adds the rows to the hidden vector one by one
  in fastText's order: probabilities are bit-identical to fasttext-predict's (tested on real pages,
  crafted edge cases and synthetic models).
* ``exact=False`` caches each token's row sum (one 16-float add per token), as first planned: faster when
  warm, but float addition in another order changes the last bits: labels agreed on every tested text,
  probabilities differed by up to 2.7e-6 on the real pages, and the difference grows with the length
  (1.2e-5 on a 1 MB line of repeated words), so a score near ``min_score`` could flip.

Measured with ``taskset -c 1 .venv/bin/python bench/lid_bench.py`` (the 344 pages of shared/data/web cut
to 100k characters, 2.1 M characters, one core, median of 5, three invocations on a shared machine):
fasttext-predict's loop 226-256 ms; exact 26 ms with a cold cache (9-10x), 14-16 ms warm (15-18x); sums
24 ms cold (9-10x), 10 ms warm (22-26x). In the whole filter chain's signals (5 filters) language ID went
from 273 of 475 ms to 21 of 217 ms.

Chinese and Japanese gain nothing from the cache (a whitespace token is a whole clause, seldom repeated), so
there every character's 2-, 3- and 4-gram hashes are computed: where the CPU has AVX2 they are computed for
eight character starts at a time (``_lid.simd()``; ``_lid.set_simd(False)`` takes the scalar path, which the
tests compare), and tokens are found sixteen bytes at a time; the same rows either way. Cold, zhwiki's LID went
~21 -> ~17 ns per character, English's unchanged (``bench/lid_languages.py``; bench/README.md, zhrest48).

What it reproduces: ``fasttext.load_model(path).predict(text[:max_chars].replace("\\n", " "), k=1)`` of
fasttext-predict 0.9.2.4 (fastText 0.9.2's C++): the Python binding appends "\\n" to the line, so every
text ends with the end-of-sentence token "</s>" (word 0, whose only row is its own; hence even an empty
text gets a prediction); a literal "</s>" token ends the line early, as in fastText; tokens in the
vocabulary add their own row and their character n-grams' rows, other tokens their n-grams' rows only,
tokens starting with "__label__" nothing; n-gram ids are FNV-1a hashes (with fastText's sign-extension
quirk) modulo ``bucket``, mapped through the prune index of quantized models; the hidden vector is the mean
of the rows; the top label comes from the hierarchical-softmax tree search (lid.176's loss) or from a
softmax, and its probability is exp(score) in float, as fastText returns it (it can exceed 1 by a hair;
callers clamp).

Lone surrogates (which fastText's binding rejects with a TypeError) are encoded with
``errors="replace"``, i.e. as "?"; :func:`clean_surrogates` gives the fallback path the same input.

Supported files: fastText supervised models (format version 11 or 12) with a quantized (``.ftz``,
lid.176.ftz) or dense (``.bin``, lid.176.bin) input matrix, a dense output matrix, hierarchical-softmax or
softmax loss and no word n-grams (``wordNgrams`` 1). Anything else raises :class:`UnsupportedModel`, and
``pipeline.filters.language`` keeps using fasttext-predict for it.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC, VERSION = 793712314, 12
LOSS_HS, LOSS_NS, LOSS_SOFTMAX, LOSS_OVA = 1, 2, 3, 4
MODEL_SUP = 3
KSUB = 256  # ProductQuantizer: 8-bit codes


class UnsupportedModel(ValueError):
    """A valid fastText file that this inference does not reproduce (the caller falls back to fastText)."""


@dataclass
class ModelFile:
    """The parts of a fastText model file that prediction needs (input rows decoded to float32)."""

    version: int
    dim: int
    loss: int
    model: int
    word_ngrams: int
    bucket: int
    minn: int
    maxn: int
    words: list[bytes]
    counts: np.ndarray  # int64, per dictionary entry
    types: np.ndarray  # int8: 0 word, 1 label
    nwords: int
    nlabels: int
    prune_size: int  # -1: not pruned
    prune_keys: np.ndarray  # int32
    prune_values: np.ndarray  # int32
    input: np.ndarray  # float32 (rows, dim)
    output: np.ndarray | None  # float32 (nlabels, dim); None when quantized
    quant_input: bool
    quant_output: bool


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes, path: str):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> int:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"{self.path} is truncated or not a fastText model file")
        start = self.pos
        self.pos += n
        return start

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        return struct.unpack_from(fmt, self.buf, self.take(size))

    def array(self, dtype: str, count: int) -> np.ndarray:
        """A copy (aligned, independent of the mapping) of ``count`` items."""
        itemsize = np.dtype(dtype).itemsize
        start = self.take(count * itemsize)
        return np.frombuffer(self.buf, dtype=dtype, count=count, offset=start).copy()


def _product_quantizer(r: _Reader) -> tuple[int, int, int, int, np.ndarray]:
    dim, nsubq, dsub, lastdsub = r.unpack("<4i")
    if dim <= 0 or nsubq <= 0 or dsub <= 0 or lastdsub <= 0 or (nsubq - 1) * dsub + lastdsub != dim:
        raise ValueError(f"{r.path}: malformed product quantizer")
    return dim, nsubq, dsub, lastdsub, r.array("<f4", dim * KSUB)


def _quant_matrix(r: _Reader) -> np.ndarray:
    """QuantMatrix::load, then every row decoded as QuantMatrix::addRowToVector adds it: x[j] += norm * c[j],
    with each product rounded to float32 as fastText does (no fused multiply-add)."""
    (qnorm,) = r.unpack("<B")
    m, n, codesize = r.unpack("<qqi")
    codes = r.array("u1", codesize)
    dim, nsubq, dsub, lastdsub, centroids = _product_quantizer(r)
    if dim != n or codesize != m * nsubq:
        raise ValueError(f"{r.path}: quantized matrix sizes do not match")
    codes = codes.reshape(m, nsubq).astype(np.int64)
    out = np.empty((m, n), dtype=np.float32)
    for sub in range(nsubq):
        d = lastdsub if sub == nsubq - 1 else dsub
        base = sub * KSUB * dsub
        idx = base + codes[:, sub, None] * d + np.arange(d)  # ProductQuantizer::get_centroids
        out[:, sub * dsub:sub * dsub + d] = centroids[idx]
    if qnorm:
        norm_codes = r.array("u1", m)
        ndim, nnsubq, _, _, ncentroids = _product_quantizer(r)
        if ndim != 1 or nnsubq != 1:
            raise ValueError(f"{r.path}: malformed norm quantizer")
        norms = ncentroids[norm_codes.astype(np.int64)].astype(np.float32)
        out *= norms[:, None]  # float32 * float32 -> float32, as `alpha * c[n]`
    return out


def read_model(path: str | Path) -> ModelFile:
    """Parse a fastText model file (FastText::loadModel of fastText 0.9.2). Raises ValueError for files that
    are not fastText models and :class:`UnsupportedModel` for models this inference does not handle."""
    path = str(path)
    with open(path, "rb") as fh:
        size = Path(path).stat().st_size
        buf: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    try:
        return _parse(_Reader(buf, path))
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()


def _parse(r: _Reader) -> ModelFile:
    magic, version = r.unpack("<ii")
    if magic != MAGIC or version > VERSION:
        raise ValueError(f"{r.path} has wrong file format (not a fastText model)")
    (dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, model, bucket, minn, maxn, _lr_update_rate,
     _t) = r.unpack("<12id")
    if version == 11 and model == MODEL_SUP:
        maxn = 0  # fastText: old supervised models do not use char n-grams
    size, nwords, nlabels, _ntokens, prune_size = r.unpack("<iiiqq")
    if not (0 <= nwords <= size and 0 <= nlabels <= size) or dim <= 0:
        raise ValueError(f"{r.path}: malformed dictionary header")
    words, counts, types = [], np.empty(size, np.int64), np.empty(size, np.int8)
    buf = r.buf
    for i in range(size):
        end = buf.find(b"\0", r.pos)
        if end < 0:
            raise ValueError(f"{r.path} is truncated or not a fastText model file")
        words.append(bytes(buf[r.pos:end]))
        r.pos = end + 1
        counts[i], types[i] = r.unpack("<qb")
    pairs = r.array("<i4", 2 * max(prune_size, 0)).reshape(-1, 2)
    (quant_input,) = r.unpack("<B")
    if quant_input:
        inp = _quant_matrix(r)
    else:
        m, n = r.unpack("<qq")
        inp = r.array("<f4", m * n).reshape(m, n)
    (quant_output,) = r.unpack("<B")
    output = None
    if not (quant_input and quant_output):
        quant_output = 0
        m, n = r.unpack("<qq")
        output = r.array("<f4", m * n).reshape(m, n)
    return ModelFile(version=version, dim=dim, loss=loss, model=model, word_ngrams=word_ngrams, bucket=bucket,
                     minn=minn, maxn=maxn, words=words, counts=counts, types=types, nwords=nwords,
                     nlabels=nlabels, prune_size=prune_size, prune_keys=np.ascontiguousarray(pairs[:, 0]),
                     prune_values=np.ascontiguousarray(pairs[:, 1]), input=inp, output=output,
                     quant_input=bool(quant_input), quant_output=bool(quant_output))


def huffman_tree(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) children of HierarchicalSoftmaxLoss::buildTree's tree over the label counts, in
    dictionary order: leaves 0..osz-1, internal nodes osz..2*osz-2, -1 for no child."""
    osz = len(counts)
    count = [int(c) for c in counts] + [10**15] * (osz - 1)
    left, right = [-1] * (2 * osz - 1), [-1] * (2 * osz - 1)
    leaf, node = osz - 1, osz
    for i in range(osz, 2 * osz - 1):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j], leaf = leaf, leaf - 1
            else:
                mini[j], node = node, node + 1
        left[i], right[i] = mini
        count[i] = count[mini[0]] + count[mini[1]]
    return np.array(left, np.int32), np.array(right, np.int32)


def check_supported(mf: ModelFile) -> None:
    """Raise :class:`UnsupportedModel` unless predictions of ``mf`` are reproduced here."""
    why = []
    if mf.model != MODEL_SUP:
        why.append("not a supervised model")
    if mf.loss not in (LOSS_HS, LOSS_SOFTMAX):
        why.append(f"loss {mf.loss} (only hierarchical softmax 1 and softmax 3)")
    if mf.word_ngrams > 1:
        why.append(f"wordNgrams {mf.word_ngrams} (only 1)")
    if mf.quant_output:
        why.append("quantized output matrix")
    if not mf.quant_input and mf.prune_size >= 0:
        why.append("dense input matrix with a pruned dictionary (fastText rejects it too)")
    if mf.nlabels < 1 or mf.output is None or mf.output.shape[0] < mf.nlabels or mf.output.shape[1] != mf.dim:
        why.append("output matrix does not match the labels")
    if mf.bucket < 0 or (mf.bucket == 0 and mf.maxn > 0):
        why.append(f"bucket {mf.bucket} with maxn {mf.maxn}")
    if mf.input.shape[1] != mf.dim:
        why.append("input matrix does not match dim")
    if mf.nwords + mf.nlabels != len(mf.words) or np.any(mf.types[:mf.nwords] != 0) or np.any(
            mf.types[mf.nwords:] != 1):
        why.append("dictionary is not words followed by labels")
    if why:
        raise UnsupportedModel("; ".join(why))


def clean_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by "?", the bytes the C path reads (errors="replace")."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


class FastTextLID:
    """A fastText supervised model whose ``predict_batch`` runs in ``pipeline.filters._lid``.

    ``exact``: cache row ids (bit-identical to fastText) or row sums (faster warm; last-bit differences),
    see the module docstring. ``cache_entries`` / ``cache_bytes``: the cache is emptied when it reaches
    either (its table takes 16-32 bytes per entry on top of the records). Raises ImportError when the
    extension was not built, ValueError (:class:`UnsupportedModel` among them) or OSError for the file.
    One model may be shared by threads: calls on it run one at a time, without the GIL.
    """

    def __init__(self, path: str | Path, exact: bool = True, cache_entries: int = 1 << 18,
                 cache_bytes: int = 16 << 20):
        from pipeline.filters import _lid  # ImportError when the extension was not built

        mf = read_model(path)
        check_supported(mf)
        self.path = str(path)
        label_words = mf.words[mf.nwords:]
        self.labels = tuple(w.decode("utf-8") for w in label_words)
        left, right = huffman_tree(mf.counts[mf.nwords:])
        offsets = np.zeros(len(mf.words) + 1, np.int64)
        offsets[1:] = np.cumsum([len(w) for w in mf.words])
        assert mf.output is not None
        self._input = np.ascontiguousarray(mf.input, np.float32)
        self._model = _lid.Model(
            dim=mf.dim, nwords=mf.nwords, minn=mf.minn, maxn=mf.maxn, bucket=mf.bucket,
            prune_size=mf.prune_size, words=b"".join(mf.words), word_offsets=offsets, word_types=mf.types,
            prune_keys=mf.prune_keys, prune_values=mf.prune_values, input=self._input,
            output=np.ascontiguousarray(mf.output[:mf.nlabels], np.float32), loss=mf.loss,
            tree_left=left, tree_right=right, labels=self.labels, exact=exact, cache_entries=cache_entries,
            cache_bytes=cache_bytes)

    def predict_batch(self, texts: Sequence[str | bytes | memoryview], max_chars: int | None = None
                      ) -> tuple[list[str | None], list[float]]:
        """Top label (e.g. "__label__en"; None when the text has no features, where fastText returns no
        prediction) and its probability for each of ``texts``, as fastText's
        ``predict(text[:max_chars].replace("\\n", " "), k=1)``. Releases the GIL while it computes.

        A text may be a str or its UTF-8 bytes (any bytes-like object, e.g. a view of an Arrow column's
        data): bytes are read in place, their first ``max_chars`` characters counted as lead bytes, so
        valid UTF-8 gives the str's result without the str's encoding copy; other bytes are read as
        fastText reads a file's bytes (no "?" for what is not UTF-8)."""
        return self._model.predict(texts, max_chars)

    def cache_info(self) -> dict[str, int]:
        return self._model.cache_info()

    def cache_clear(self) -> None:
        self._model.cache_clear()
