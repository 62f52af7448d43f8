"""Length bounds: documents with too few or too many characters or words.

No paper fixes these numbers: the defaults only remove documents with nothing to read (empty or
whitespace-only text, which the Gopher and FineWeb rules would also remove but with a less telling
reason). Set real bounds per source in the manifest, e.g. ``books: {length: {min_chars: 2000}}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

try:
    from pipeline.filters import _lines
except ImportError:  # not built: str.split() and str.count give the same counts
    _lines = None


def count_words(text: str) -> int:
    """Whitespace-separated words of a huge text without building a list of them (ASCII whitespace)."""
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    space = np.isin(data, np.frombuffer(b" \t\n\r\f\v", dtype=np.uint8))
    return int(np.count_nonzero(~space[1:] & space[:-1]) + (len(space) > 0 and not space[0]))


def length_counts(text: str) -> tuple[int, int]:
    """(characters outside the six ASCII spaces, words): ``python_length_counts`` in one compiled pass where
    ``_lines`` is built (no str per word; issue 19)."""
    if _lines is not None:
        return _lines.length_counts(text, len(text) < 1_000_000)
    return python_length_counts(text)


def python_length_counts(text: str) -> tuple[int, int]:
    """``length_counts`` with str methods (the path without ``_lines``, the tests' reference): words are
    ``str.split()``'s, or ``count_words``'s above a million characters."""
    words = len(text.split()) if len(text) < 1_000_000 else count_words(text)
    return len(text) - sum(map(text.count, " \t\n\r\f\v")), words


class LengthOptions(FilterOptions):
    min_chars: int | None = Field(1, ge=0, description="fewest non-whitespace characters")
    max_chars: int | None = Field(None, ge=1, description="most characters of the whole text")
    min_words: int | None = Field(None, ge=0, description="fewest whitespace-separated words")
    max_words: int | None = Field(None, ge=1, description="most whitespace-separated words")


class LengthFilter(Filter):
    name = "length"
    Options = LengthOptions
    SIGNALS = {"chars": pa.int64(), "nonspace_chars": pa.int64(), "words": pa.int64()}

    def signal(self, doc: Doc) -> dict[str, Any]:
        nonspace, words = length_counts(doc.text)
        return {"chars": len(doc.text), "nonspace_chars": nonspace, "words": words}

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        out = []
        if o.min_chars is not None:
            out.append(Rule("min_chars", s["nonspace_chars"] < o.min_chars, s["nonspace_chars"], o.min_chars))
        if o.max_chars is not None:
            out.append(Rule("max_chars", s["chars"] > o.max_chars, s["chars"], o.max_chars))
        if o.min_words is not None:
            out.append(Rule("min_words", s["words"] < o.min_words, s["words"], o.min_words))
        if o.max_words is not None:
            out.append(Rule("max_words", s["words"] > o.max_words, s["words"], o.max_words))
        return out
