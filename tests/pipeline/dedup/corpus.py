"""Real paragraphs from the shared books and Wikipedia dump, for dedup tests (no other pipeline code)."""

from __future__ import annotations

import bz2
import functools
import re
from pathlib import Path

WIKI = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
BOOKS = ("books/gutenberg-14263-katrine.txt", "books/gutenberg-3261-news-from-nowhere.txt",
         "books/gutenberg-972-the-devils-dictionary.txt")


@functools.cache
def book_paragraphs(shared_data: Path, min_chars: int = 400) -> tuple[str, ...]:
    out = []
    for name in BOOKS:
        text = (shared_data / name).read_text(encoding="utf-8", errors="replace")
        out += [" ".join(p.split()) for p in re.split(r"(?:\r?\n){2,}", text)]
    return tuple(p for p in out if len(p) >= min_chars)


@functools.cache
def wiki_paragraphs(shared_data: Path, min_chars: int = 400) -> tuple[str, ...]:
    xml = bz2.decompress((shared_data / WIKI).read_bytes()).decode("utf-8")
    out = []
    for body in re.findall(r"<text[^>]*>(.*?)</text>", xml, flags=re.S):
        if body.lstrip().lower().startswith("#redirect"):
            continue
        out += [" ".join(p.split()) for p in body.split("\n\n")]
    return tuple(p for p in out if len(p) >= min_chars)


def edit_words(text: str, fraction: float, seed: int) -> str:
    """Substitute about ``fraction`` of the words with a fixed replacement, deterministically."""
    import random

    rng = random.Random(seed)
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, int(len(words) * fraction))):
        words[i] = "zyzzyva"
    return " ".join(words)
