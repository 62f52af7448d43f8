"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets: Decanting the Web for the Finest
Text Data at Scale", "Developing additional heuristic filters"), measured on the text that the
C4 line rules left.

The duplicated-line threshold is pinned at **0.01** (fraction of characters in lines that repeat an
earlier line): the paper's text gives 0.1, but FineWeb itself was produced with 0.01 (the
default of the released FineWeb pipeline in datatrove, ``FineWebQualityFilter(char_duplicates_ratio=
0.01)``); we reproduce the dataset, and a test pins the value so it cannot drift. The newline-per-word
ratio (0.3) is not in the paper either; it comes from the same released pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule
from pipeline.filters.gopher import duplicates
from pipeline.filters.words import TERMINAL_PUNCTUATION


_TERMINAL = frozenset(TERMINAL_PUNCTUATION)
assert all(len(mark) == 1 for mark in _TERMINAL)
_TERMINAL_SORTED = "".join(sorted(_TERMINAL))  # as ``_lines.fineweb`` takes them
try:
    from pipeline.filters import _lines
except ImportError:  # not built: str methods and a Counter give the same counts
    _lines = None


def line_counts(text: str, short: int) -> tuple[int, int, int, int, int]:
    """(lines of ``text.split("\n")`` that are not blank, those ending in a terminal mark, those of at most
    ``short`` characters, characters of the lines repeating an earlier one, "\n" in the text): in one
    compiled pass where ``_lines`` is built (no str per line, no SipHash of every line; issue 13)."""
    if _lines is not None:
        return _lines.fineweb(text, _TERMINAL_SORTED, short)
    return python_line_counts(text, short)


def python_line_counts(text: str, short: int) -> tuple[int, int, int, int, int]:
    """``line_counts`` with str methods and a Counter (the path without ``_lines``, the tests' reference)."""
    lines = [line for line in text.split("\n") if line.strip()]
    # every terminal mark is one character: the last one's membership is str.endswith of the tuple (which
    # tried all 172 suffixes on every line that ends otherwise)
    return (len(lines), sum(map(_TERMINAL.__contains__, [line[-1] for line in lines])),
            sum(1 for line in lines if len(line) <= short), duplicates(lines)[1], text.count("\n"))


class FineWebOptions(FilterOptions):
    SIGNAL_FIELDS = ("short_line_length",)
    min_line_punct: float | None = Field(0.12, description="lines ending in terminal punctuation (paper: 0.12)")
    max_short_lines: float | None = Field(0.67, description="lines of <= short_line_length chars (paper: 0.67)")
    short_line_length: int = Field(30, ge=1, description="paper: 30 characters")
    max_dup_line_chars: float | None = Field(0.01, description="characters in duplicated lines; pinned "
                                             "at the released pipeline's 0.01 (the paper text says 0.1)")
    max_newline_words: float | None = Field(0.3, description="newlines per word (released pipeline: 0.3)")


class FineWebFilter(Filter):
    name = "fineweb"
    Options = FineWebOptions
    uses_words = True
    SIGNALS = {"lines": pa.int32(), "line_punct": pa.float64(), "short_lines": pa.float64(),
               "dup_line_chars": pa.float64(), "newline_words": pa.float64()}

    def signal(self, doc: Doc) -> dict[str, Any]:
        text = doc.text
        n_lines, punct, short, dup_chars, newlines = line_counts(text, self.options.short_line_length)
        n = n_lines or 1
        return {
            "lines": n_lines,
            "line_punct": punct / n,
            "short_lines": short / n,
            "dup_line_chars": dup_chars / ((len(text) - newlines) or 1),
            "newline_words": newlines / (len(doc.tokens) or 1),
        }

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        out = [Rule("empty", s["lines"] == 0, s["lines"], 0)]
        if o.min_line_punct is not None:
            out.append(Rule("min_line_punct", s["line_punct"] < o.min_line_punct, s["line_punct"],
                            o.min_line_punct))
        for name, signal, limit in (("max_short_lines", "short_lines", o.max_short_lines),
                                    ("max_dup_line_chars", "dup_line_chars", o.max_dup_line_chars),
                                    ("max_newline_words", "newline_words", o.max_newline_words)):
            if limit is not None:
                out.append(Rule(name, s[signal] > limit, s[signal], limit))
        return out
