"""Numbered headings of Chinese, Japanese and Korean texts ("第三章" chapter three, "第七十一回", "제1조").

One pattern for the two places that must recognise them: the HTML line scorer (``pipeline.extract.html``:
such a heading is neutral, not a short boilerplate line) and the book unwrapper
(``pipeline.extract.gutenberg``: a line that opens with one starts a new line, never continues the last).
Pages ("第2页") and counts of times ("第一次") are not among the counters.
"""

from __future__ import annotations

import re

ORDINAL_HEADING = re.compile(r"第[〇零一二三四五六七八九十百千两0-9０-９]+[条條章节節回篇部卷款]|제 ?[0-9]+ ?[조장]")
HEADING_FIRST = "第제"  # the characters a heading can start with: a cheap test before the regex
# ...as the whole line or followed by a space (an ideographic one in most books: "第七十一回　嫌隙人有心生嫌隙"):
# "第三回合" (a round of a fight) or "第一章节" inside a sentence is no heading
LINE_HEADING = re.compile(f"(?:{ORDINAL_HEADING.pattern})(?:[ \u3000\t]|$)")


def opens_with_heading(line: str) -> bool:
    """Whether ``line`` starts with a numbered CJK heading followed by a space or nothing."""
    return line[:1] in HEADING_FIRST and LINE_HEADING.match(line) is not None
