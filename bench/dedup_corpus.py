"""Real documents for the dedup benchmarks: paragraphs of the shared books and Wikipedia dump."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WIKI = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def paragraphs(min_chars: int = 300) -> list[str]:
    """Every paragraph of at least ``min_chars`` characters: books first, then Wikipedia."""
    out: list[str] = []
    for path in sorted((SHARED / "books").glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        out += [" ".join(p.split()) for p in re.split(r"(?:\r?\n){2,}", text)]
    xml = bz2.decompress((SHARED / WIKI).read_bytes()).decode("utf-8")
    for body in re.findall(r"<text[^>]*>(.*?)</text>", xml, flags=re.S):
        if not body.lstrip().lower().startswith("#redirect"):
            out += [" ".join(p.split()) for p in body.split("\n\n")]
    return [p for p in out if len(p) >= min_chars]


def documents(group: int = 3, min_chars: int = 300) -> list[str]:
    """Documents of ``group`` consecutive paragraphs (newline-separated), about 2-5 kB each."""
    paras = paragraphs(min_chars)
    return ["\n".join(paras[i:i + group]) for i in range(0, len(paras) - group + 1, group)]


def windows(count: int, words: int = 120, step: int = 15) -> list[str]:
    """``count`` overlapping word windows over the whole text (a corpus with many near duplicates)."""
    all_words = " ".join(paragraphs(0)).split()
    out = []
    start = 0
    while len(out) < count:
        out.append(" ".join(all_words[start:start + words]))
        start = (start + step) % max(1, len(all_words) - words)
    return out
