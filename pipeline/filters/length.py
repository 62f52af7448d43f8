"""Length bounds: documents with too few or too many characters or words.

No paper fixes these numbers: the defaults only remove documents with nothing to read (empty or
whitespace-only text, which the Gopher and FineWeb rules would also remove but with a less telling
reason). Set real bounds per source in the manifest, e.g. ``books: {length: {min_chars: 2000}}``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

_WORD = re.compile(r"\S+")


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
        text = doc.text
        # str.split is fastest but builds a list; a huge document is counted without one
        words = len(text.split()) if len(text) < 10_000_000 else sum(1 for _ in _WORD.finditer(text))
        return {"chars": len(text), "nonspace_chars": len(text) - sum(map(text.count, " \t\n\r\f\v")),
                "words": words}

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
