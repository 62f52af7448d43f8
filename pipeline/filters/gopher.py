"""Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher", appendix A.1.1, quality filters in the text and table A1 for repetition).

Words are the shared regex tokens (``pipeline.filters.words``): punctuation marks are tokens of their own,
as with the spaCy tokenizer datatrove uses, because the ratios below count them. Repetition n-grams are
hashed to 64-bit integers in numpy, so counting them costs a few array passes instead of string joins.
"""

from __future__ import annotations

from collections import Counter
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")  # Rae et al. A.1.1


class GopherQualityOptions(FilterOptions):
    """Thresholds from Rae et al. 2021, A.1.1 ("quality filters"); null disables a rule."""

    SIGNAL_FIELDS = ("stop_words",)
    min_words: int | None = Field(50, description="fewest non-symbol words (A.1.1: 50)")
    max_words: int | None = Field(100_000, description="most non-symbol words (A.1.1: 100,000)")
    min_mean_word_length: float | None = Field(3, description="A.1.1: mean word length 3..10")
    max_mean_word_length: float | None = Field(10)
    max_hash_ratio: float | None = Field(0.1, description="'#' per word (A.1.1: 0.1)")
    max_ellipsis_ratio: float | None = Field(0.1, description="'...' or '…' per word (A.1.1: 0.1)")
    max_bullet_lines: float | None = Field(0.9, description="lines starting with a bullet (A.1.1: 90 %)")
    max_ellipsis_lines: float | None = Field(0.3, description="lines ending in an ellipsis (A.1.1: 30 %)")
    min_alpha_words: float | None = Field(0.8, description="words with a letter (A.1.1: 80 %)")
    min_stop_words: int | None = Field(2, description="distinct stop words present (A.1.1: 2)")
    stop_words: tuple[str, ...] = STOP_WORDS


class GopherQualityFilter(Filter):
    name = "gopher_quality"
    Options = GopherQualityOptions
    uses_words = True
    SIGNALS = {k: pa.float64() for k in ("mean_word_length", "hash_ratio", "ellipsis_ratio",
                                         "bullet_lines", "ellipsis_lines", "alpha_words")}
    SIGNALS.update(words=pa.int32(), stop_words=pa.int16())

    def values(self, doc: Doc) -> tuple[Any, ...]:
        """The document's signals in ``SIGNALS`` order (``Filter.values``: a tuple, not a dict)."""
        text, tokens = doc.text, doc.tokens
        n_tokens = len(tokens) or 1
        n_words, word_chars, with_letter = tokens.word_stats()
        stop_words = tokens.count_present(self.options.stop_words)
        if stop_words is None:  # the shared vocabulary was renewed since the split: compare strings
            present = set(doc.words)
            stop_words = sum(1 for w in set(self.options.stop_words) if w in present)
        n_lines, bullets, ellipsis_lines, hashes, dots, ellipses = quality_counts(text)
        return (word_chars / n_words if n_words else 0.0,  # mean_word_length
                hashes / n_tokens,  # hash_ratio
                (dots + ellipses) / n_tokens,  # ellipsis_ratio
                bullets / n_lines,  # bullet_lines
                ellipsis_lines / n_lines,  # ellipsis_lines
                with_letter / n_tokens,  # alpha_words
                n_words,  # words
                stop_words)

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o, out = self.options, []
        for name, signal, limit, below in (
            ("min_words", "words", o.min_words, True), ("max_words", "words", o.max_words, False),
            ("min_mean_word_length", "mean_word_length", o.min_mean_word_length, True),
            ("max_mean_word_length", "mean_word_length", o.max_mean_word_length, False),
            ("max_hash_ratio", "hash_ratio", o.max_hash_ratio, False),
            ("max_ellipsis_ratio", "ellipsis_ratio", o.max_ellipsis_ratio, False),
            ("max_bullet_lines", "bullet_lines", o.max_bullet_lines, False),
            ("max_ellipsis_lines", "ellipsis_lines", o.max_ellipsis_lines, False),
            ("min_alpha_words", "alpha_words", o.min_alpha_words, True),
            ("min_stop_words", "stop_words", o.min_stop_words, True),
        ):
            if limit is not None:
                v = s[signal]
                out.append(Rule(name, v < limit if below else v > limit, v, limit))
        return out


TOP_NGRAMS = {2: 0.20, 3: 0.18, 4: 0.16}  # table A1: top n-gram character fraction
DUP_NGRAMS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}  # table A1: duplicate n-gram chars


def quality_counts(text: str) -> tuple[int, int, int, int, int, int]:
    """(lines of ``text.splitlines() or [""]``, those that start with a bullet and those that end with an
    ellipsis once stripped, "#", "..." and "…" in the text): in one compiled pass where ``_lines`` is built
    (no str per line; issue 13: these str passes cost Chinese, two bytes per character, the most)."""
    if _lines is not None:
        return _lines.quality(text)
    return python_quality_counts(text)


def python_quality_counts(text: str) -> tuple[int, int, int, int, int, int]:
    """``quality_counts`` with str methods (the path without ``_lines``, and the tests' reference)."""
    lines = text.splitlines() or [""]
    stripped = list(map(str.strip, lines))  # strip = lstrip for the start, rstrip for the end
    return (len(lines), sum(map(str.startswith, stripped, repeat(("•", "-")))),
            sum(map(str.endswith, stripped, repeat(("...", "…")))), text.count("#"), text.count("..."),
            text.count("…"))


def repetition_counts(text: str) -> tuple[int, int, int, int, int, int]:
    """(paragraphs, repeated paragraphs, their characters, lines, repeated lines, their characters) of
    ``split_paragraphs(text.strip())`` and ``split_lines(text)`` through ``duplicates``: in one compiled pass
    where ``_lines`` is built (no str per line and no SipHash of every line in a Counter)."""
    if _lines is not None:
        return _lines.repetition(text)
    return python_repetition_counts(text)


def python_repetition_counts(text: str) -> tuple[int, int, int, int, int, int]:
    """``repetition_counts`` with str methods and a Counter (the path without ``_lines``, the reference)."""
    paragraphs, lines = split_paragraphs(text.strip()), split_lines(text)
    return (len(paragraphs), *duplicates(paragraphs), len(lines), *duplicates(lines))


def split_paragraphs(text: str) -> list[str]:
    r"""``re.split(r"\n{2,}", text)`` for a stripped ``text``, with str methods (4x faster): splitting at
    every "\n\n" leaves an empty piece per extra pair and a leading "\n" after an odd run."""
    pieces = text.split("\n\n")
    if len(pieces) == 1:
        return pieces
    return [p[1:] if p[0] == "\n" else p for p in pieces if p]


def split_lines(text: str) -> list[str]:
    r"""``re.split(r"\n+", text)`` with str methods: empty pieces dropped except the first and last."""
    parts = text.split("\n")
    if len(parts) < 3:
        return parts
    return [parts[0], *filter(None, parts[1:-1]), parts[-1]]


class GopherRepetitionOptions(FilterOptions):
    """Maximum fractions from Rae et al. 2021, table A1; null disables a rule."""

    max_dup_para_frac: float | None = Field(0.30, description="duplicate paragraph fraction")
    max_dup_para_char_frac: float | None = Field(0.20, description="duplicate paragraph character fraction")
    max_dup_line_frac: float | None = Field(0.30, description="duplicate line fraction")
    max_dup_line_char_frac: float | None = Field(0.20, description="duplicate line character fraction")
    max_top_ngram_char_frac: dict[int, float] = Field(default_factory=lambda: dict(TOP_NGRAMS))
    max_dup_ngram_char_frac: dict[int, float] = Field(default_factory=lambda: dict(DUP_NGRAMS))

    @field_validator("max_top_ngram_char_frac", "max_dup_ngram_char_frac")
    @classmethod
    def _known_n(cls, value: dict[int, float], info: Any) -> dict[int, float]:
        allowed = TOP_NGRAMS if info.field_name == "max_top_ngram_char_frac" else DUP_NGRAMS
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"n-gram sizes {unknown} are not measured; allowed: {sorted(allowed)}")
        return value


def duplicates(items: list[str]) -> tuple[int, int]:
    """(count, characters) of items equal to an earlier item: every occurrence after the first."""
    counts = Counter(items)
    if len(counts) == len(items):
        return 0, 0
    return len(items) - len(counts), sum((c - 1) * len(item) for item, c in counts.items() if c > 1)


def ngram_fractions(words: list[str], n_chars: int) -> dict[str, float]:
    """``hashed_ngram_fractions`` of a list of words."""
    keys = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    return hashed_ngram_fractions(keys, np.fromiter(map(len, words), dtype=np.int64, count=len(words)),
                                  n_chars)


def hashed_ngram_fractions(keys: np.ndarray, lengths: np.ndarray, n_chars: int) -> dict[str, float]:
    """Top 2..4-gram and duplicate 5..10-gram character fractions, with n-grams as 64-bit hashes: the
    compiled ``_ngrams`` extension where it was built (about 4x faster, equal bit for bit), else numpy."""
    if _compiled is None:
        return numpy_ngram_fractions(keys, lengths, n_chars)
    values = _compiled.ngram_fractions(np.ascontiguousarray(keys, dtype=np.uint64),
                                       np.ascontiguousarray(lengths, dtype=np.int64), n_chars)
    return dict(zip(_NGRAM_SIGNALS, values))


def numpy_ngram_fractions(keys: np.ndarray, lengths: np.ndarray, n_chars: int) -> dict[str, float]:
    """Top 2..4-gram and duplicate 5..10-gram character fractions, with n-grams as 64-bit hashes.

    A 64-bit key identifies each word (the vocabulary's ``words.token_keys``, or Python's string hash in
    ``ngram_fractions``; a collision of two n-grams has probability ~1e-19 per pair), and n-gram hashes are built by one multiply-add per n over the array.
    A repeated n-gram starts where a repeated (n-1)-gram starts, so from n = 5 on only those positions
    are examined.
    """
    out = {f"top_{n}_gram": 0.0 for n in TOP_NGRAMS} | {f"dup_{n}_gram": 0.0 for n in DUP_NGRAMS}
    if len(keys) < 2 or not n_chars:
        return out
    cum = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=cum[1:])
    h, candidates = keys, None
    for n in range(2, max(DUP_NGRAMS) + 1):
        if len(keys) < n:
            break
        h = h[:-1] * _MULTIPLIER + keys[n - 1:]
        if n in TOP_NGRAMS:  # the most frequent n-gram (earliest on ties), joined with spaces
            last = n == max(TOP_NGRAMS)  # also needs the positions of every repeated 4-gram
            top, best, order, counts = _top_count(h, positions=last)
            out[f"top_{n}_gram"] = float((cum[best + n] - cum[best] + n - 1) * top) / n_chars
            if last:  # positions of repeated 4-grams: where repeated 5-grams can start
                if top == 1:
                    break  # no 4-gram repeats, so no longer n-gram does
                candidates = np.sort(order[np.repeat(counts > 1, counts)])
            continue
        candidates = candidates[candidates < len(h)]
        candidates = candidates[_repeated(h[candidates])]
        if not len(candidates):
            break
        # Greedy scan as in Rae et al.'s definition: a repeat of an n-gram seen at an earlier visited
        # position counts its characters and skips its n words; an n-gram that occurs once can never
        # be a repeat, and adding it to ``seen`` cannot matter, so only repeated ones are visited.
        seen: set[int] = set()
        add, nxt, repeated = seen.add, 0, 0
        for i, key, chars in zip(candidates.tolist(), h[candidates].tolist(),
                                 (cum[candidates + n] - cum[candidates]).tolist()):
            if i < nxt:
                continue
            if key in seen:
                repeated += chars
                nxt = i + n
            else:
                add(key)
                nxt = i + 1
        out[f"dup_{n}_gram"] = repeated / n_chars
    return out


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # the same constant as in _ngrams.c
_NGRAM_SIGNALS = [f"top_{n}_gram" for n in TOP_NGRAMS] + [f"dup_{n}_gram" for n in DUP_NGRAMS]
try:
    from pipeline.filters import _ngrams as _compiled
except ImportError:  # not built (no C compiler at install time): the numpy path gives the same values
    _compiled = None
try:
    from pipeline.filters import _lines
except ImportError:  # not built: str methods and a Counter give the same counts
    _lines = None


def _top_count(h: np.ndarray, positions: bool) -> tuple[int, int, np.ndarray | None, np.ndarray]:
    """(count of the most frequent value, its earliest position, the sort order, the run lengths of
    the sorted values). Sorting values is ~4x faster than sorting positions (``argsort``), so without
    ``positions`` the earliest position of the few most frequent values is found by comparison."""
    order = h.argsort() if positions else None  # equal values adjacent, in any order
    ordered = h[order] if positions else np.sort(h)
    first = np.empty(len(h), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=len(h))
    top = int(counts.max())
    if top == 1:
        return top, 0, order, counts
    if order is None:
        tops = ordered[starts[counts == top]]
        if len(tops) <= 8:
            return top, min(int(np.argmax(h == value)) for value in tops), order, counts
        order = h.argsort()
    return top, int(np.minimum.reduceat(order, starts)[counts == top].min()), order, counts


def _repeated(values: np.ndarray) -> np.ndarray:
    """Mask of the values that occur more than once (one sort, no counting of each value)."""
    order = values.argsort()
    ordered = values[order]
    equal_next = ordered[1:] == ordered[:-1]
    in_sorted = np.zeros(len(values), dtype=bool)
    in_sorted[1:] = equal_next
    in_sorted[:-1] |= equal_next
    mask = np.empty(len(values), dtype=bool)
    mask[order] = in_sorted
    return mask


class GopherRepetitionFilter(Filter):
    name = "gopher_repetition"
    Options = GopherRepetitionOptions
    uses_words = True
    SIGNALS = {k: pa.float64() for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac",
                                         "dup_line_char_frac")}
    SIGNALS.update({f"top_{n}_gram": pa.float64() for n in TOP_NGRAMS})
    SIGNALS.update({f"dup_{n}_gram": pa.float64() for n in DUP_NGRAMS})

    def signal(self, doc: Doc) -> dict[str, Any]:
        text = doc.text
        size = len(text) or 1
        n_paragraphs, para_dups, para_chars, n_lines, line_dups, line_chars = repetition_counts(text)
        return {"dup_para_frac": para_dups / n_paragraphs, "dup_para_char_frac": para_chars / size,
                "dup_line_frac": line_dups / n_lines, "dup_line_char_frac": line_chars / size,
                **hashed_ngram_fractions(doc.tokens.key, doc.tokens.length, len(text))}

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        limits = [("dup_para_frac", o.max_dup_para_frac), ("dup_para_char_frac", o.max_dup_para_char_frac),
                  ("dup_line_frac", o.max_dup_line_frac), ("dup_line_char_frac", o.max_dup_line_char_frac)]
        limits += [(f"top_{n}_gram", o.max_top_ngram_char_frac.get(n)) for n in TOP_NGRAMS]
        limits += [(f"dup_{n}_gram", o.max_dup_ngram_char_frac.get(n)) for n in DUP_NGRAMS]
        return [Rule(f"max_{sig}", s[sig] > lim, s[sig], lim) for sig, lim in limits if lim is not None]
