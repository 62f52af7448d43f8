"""Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher", appendix A.1.1, quality filters in the text and table A1 for repetition).

Words are the shared regex tokens (``pipeline.filters.words``): punctuation marks are tokens of their own,
as with the spaCy tokenizer datatrove uses, because the ratios below count them. Repetition n-grams are
hashed to 64-bit integers in numpy, so counting them costs a few array passes instead of string joins.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule
from pipeline.filters.words import has_alpha, is_symbol

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

    def signal(self, doc: Doc) -> dict[str, Any]:
        text, tokens = doc.text, Counter(doc.words)
        n_tokens = sum(tokens.values()) or 1
        words = {w: c for w, c in tokens.items() if not is_symbol(w)}
        n_words = sum(words.values())
        lines = text.splitlines() or [""]
        return {
            "words": n_words,
            "mean_word_length": sum(len(w) * c for w, c in words.items()) / n_words if n_words else 0.0,
            "hash_ratio": text.count("#") / n_tokens,
            "ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens,
            "bullet_lines": sum(ln.lstrip().startswith(("•", "-")) for ln in lines) / len(lines),
            "ellipsis_lines": sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / len(lines),
            "alpha_words": sum(c for w, c in tokens.items() if has_alpha(w)) / n_tokens,
            "stop_words": sum(1 for w in set(self.options.stop_words) if w in tokens),
        }

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
_PARAGRAPH = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")


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
    """(count, characters) of items equal to an earlier item."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        else:
            seen.add(item)
    return count, chars


def ngram_fractions(words: list[str], n_chars: int) -> dict[str, float]:
    """Top 2..4-gram and duplicate 5..10-gram character fractions, with n-grams as 64-bit hashes.

    Python's string hash identifies words (within one process; a collision of two n-grams has
    probability ~1e-19 per pair), and n-gram hashes are built by one multiply-add per n over the array.
    A repeated n-gram starts where a repeated (n-1)-gram starts, so from n = 5 on only those positions
    are examined.
    """
    out = {f"top_{n}_gram": 0.0 for n in TOP_NGRAMS} | {f"dup_{n}_gram": 0.0 for n in DUP_NGRAMS}
    if len(words) < 2 or not n_chars:
        return out
    keys = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    cum = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=cum[1:])
    h, candidates = keys, None
    for n in range(2, max(DUP_NGRAMS) + 1):
        if len(words) < n:
            break
        h = h[:-1] * np.uint64(0x9E3779B97F4A7C15) + keys[n - 1:]
        if n in TOP_NGRAMS:  # the most frequent n-gram (earliest on ties), joined with spaces
            order = np.argsort(h, kind="stable")  # equal n-grams adjacent, earliest first
            ordered = h[order]
            starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
            counts = np.diff(np.append(starts, len(h)))
            top = counts.max()
            best = order[starts[counts == top]].min()
            out[f"top_{n}_gram"] = float((cum[best + n] - cum[best] + n - 1) * top) / n_chars
            if n == max(TOP_NGRAMS):  # positions of repeated 4-grams: where repeated 5-grams can start
                candidates = np.sort(order[np.repeat(counts > 1, counts)])
            continue
        candidates = candidates[candidates < len(h)]
        _, inverse, counts = np.unique(h[candidates], return_inverse=True, return_counts=True)
        candidates = candidates[counts[inverse] > 1]
        if not len(candidates):
            break
        # Greedy scan as in Rae et al.'s definition: a repeat of an n-gram seen at an earlier visited
        # position counts its characters and skips its n words; an n-gram that occurs once can never
        # be a repeat, and adding it to ``seen`` cannot matter, so only repeated ones are visited.
        seen, nxt, repeated = set(), 0, 0
        for i, key in zip(candidates.tolist(), h[candidates].tolist()):
            if i < nxt:
                continue
            if key in seen:
                repeated += int(cum[i + n] - cum[i])
                nxt = i + n
            else:
                seen.add(key)
                nxt = i + 1
        out[f"dup_{n}_gram"] = repeated / n_chars
    return out


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
        paragraphs = _PARAGRAPH.split(text.strip())
        lines = _LINES.split(text)
        para_dups, para_chars = duplicates(paragraphs)
        line_dups, line_chars = duplicates(lines)
        return {"dup_para_frac": para_dups / len(paragraphs), "dup_para_char_frac": para_chars / size,
                "dup_line_frac": line_dups / len(lines), "dup_line_char_frac": line_chars / size,
                **ngram_fractions(doc.words, len(text))}

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        limits = [("dup_para_frac", o.max_dup_para_frac), ("dup_para_char_frac", o.max_dup_para_char_frac),
                  ("dup_line_frac", o.max_dup_line_frac), ("dup_line_char_frac", o.max_dup_line_char_frac)]
        limits += [(f"top_{n}_gram", o.max_top_ngram_char_frac.get(n)) for n in TOP_NGRAMS]
        limits += [(f"dup_{n}_gram", o.max_dup_ngram_char_frac.get(n)) for n in DUP_NGRAMS]
        return [Rule(f"max_{sig}", s[sig] > lim, s[sig], lim) for sig, lim in limits if lim is not None]
