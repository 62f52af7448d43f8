"""spaCy's special cases that hold a space ("и др.", "в т.ч.", "EE. UU.", "1 Kor."), merged across chunks.

Why: datatrove counts the words of these languages with spaCy's tokenizer, which splits the text at whitespace,
splits each chunk by its affix rules, and then runs a matcher over the whole token sequence that merges a run of
tokens whose text, the single spaces between them included, is a special case. Russian lists 91 such cases,
Macedonian 4, Serbian 5, Spanish 2, Indonesian 6, Malay 24, Arabic 3, Greek 1 that spaCy can merge: "Пушкин и
др. писатели" is three tokens to datatrove's Gopher and FineWeb filters ("и др." one) and five split chunk by chunk.
Our vocabulary (``pipeline.filters.words``) splits each distinct chunk once and never sees two chunks together,
so the matcher runs again per text where it matters (``words._spaced_merged``): where some case's first two
tokens stand side by side and the text holds its text, and around the chunks in which the matcher, run on the
chunk alone, found a run (``affixes.MatchedTokens``). Its rules are ``affixes.special_runs``, spaCy 3.8's
``Tokenizer`` (``add_special_case``, ``_apply_special_cases``, ``_filter_special_spans``,
``_retokenize_special_spans``):

* a case is looked for as the tokens its text splits into *without* special cases ("и др." is "и", "др", ".");
* the tokens must be consecutive in spaCy's token sequence, where any whitespace between two chunks other than
  one " " is a token of its own: so two chunks join only across exactly one space;
* of overlapping matches the longest wins, of equal length the earliest; a match whose first or last token an
  earlier-chosen one covers is dropped, and a dropped match still covers its tokens;
* a chosen match is replaced only if its text (tokens joined, " " where they were separate chunks) is a special
  case, by that case's tokens.

This module holds the cases and the whitespace between chunks. A case whose text starts or ends with whitespace or
holds any other than single spaces (Persian's ".ق ") can never equal a span's text, in spaCy as here, so it is not
looked for. Left out: a chain of overlapping matches longer than the window the matcher runs again over (a run's
most tokens on each side of the place), which spaCy resolves over the whole text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

ONE_SPACE = " "  # what joins two chunks' tokens into one special case: exactly one space, nothing else
# the code points ``str.split()`` splits at (``str.isspace``, Unicode 15; the tests check the list against it)
WHITESPACE = np.array([*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                       0x2029, 0x202F, 0x205F, 0x3000], dtype=np.uint32)
_IS_SPACE = np.zeros(int(WHITESPACE.max()) + 2, dtype=np.int8)  # by code point; the last item for all above
_IS_SPACE[WHITESPACE] = 1


@dataclass(frozen=True)
class SpacedSpecial:
    """A special case that holds a space: its text, the tokens the rules without special cases split it into
    (what the matcher looks for), and what joins each pair of them in the text ("" or ``ONE_SPACE``)."""

    key: str
    pattern: tuple[str, ...]
    glue: tuple[str, ...]


def spaced_specials(special: Mapping[str, tuple[str, ...]], pattern: Callable[[str], tuple[str, ...]]
                    ) -> tuple[SpacedSpecial, ...]:
    """The cases of ``special`` whose text holds whitespace and that a span's text can equal (parts joined by
    single spaces), each with its ``pattern`` (the affix rules' split without special cases, part by part)."""
    out = []
    for key in special:
        if not any(c.isspace() for c in key):
            continue
        parts = key.split(ONE_SPACE)
        if any(not part or any(c.isspace() for c in part) for part in parts):
            continue
        tokens: list[str] = []
        glue: list[str] = []
        for part in parts:
            split = pattern(part)
            if tokens:
                glue.append(ONE_SPACE)
            glue += [""] * (len(split) - 1)
            tokens += split
        out.append(SpacedSpecial(key, tuple(tokens), tuple(glue)))
    return tuple(out)


def one_space_gaps(text: str) -> np.ndarray:
    """For each two consecutive chunks of ``text.split()``: True where exactly one space (U+0020) lies between
    them. In numpy over the text's code points (a regex match per chunk cost ~25 ns a character)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = np.zeros(len(points) + 2, dtype=np.int8)
    space[1:-1] = _IS_SPACE[np.minimum(points, len(_IS_SPACE) - 1)]
    edges = np.diff(space)
    run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # whitespace runs [start, end)
    inside = (run_start > 0) & (run_end < len(points))  # between two chunks, not before the first or after the last
    run_start, run_end = run_start[inside], run_end[inside]
    return (run_end - run_start == 1) & (points[np.minimum(run_start, max(len(points) - 1, 0))] == ord(ONE_SPACE))
