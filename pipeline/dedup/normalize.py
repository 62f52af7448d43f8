"""Text normalisation for deduplication, once as a readable reference and once vectorised over a shard.

Normalised text is the text lowercased (``str.lower``), with every character that is not a letter, mark or
number replaced by a space (punctuation, symbols, controls, separators), every decimal digit (Unicode
category Nd, any script) replaced by ``0``, and runs of spaces collapsed to one, without leading or trailing
space. Its words are what exact and near dedup compare: "Page 12, Chapter IV." and "page 97 chapter iv" are
the same normalised text, ``page 00 chapter iv``.

Scripts written without spaces: every Han, hiragana and katakana character is a word of its own
(``split_cjk``), so "数学是研究数量的学科" has ten words and a shingle of n words is a character n-gram,
the usual unit of near-duplicate detection for Chinese and Japanese. Without this a whole clause between two
punctuation marks is one word and a paragraph has a handful of shingles. Why characters and not segmented
words: the rule depends only on the characters, never on a detected language or a segmenter's dictionary,
so a mixed Chinese-English document, or the same paragraph in two sources whose language ID disagrees,
gives the same shingles everywhere (deterministic and comparable across sources); Latin, Cyrillic and
other spaced scripts keep their words, so mixed text is shingled over both kinds of word at once.

Why a vectorised version: calling Python per word or per character is the slow part of MinHash dedup.
``normalize_batch`` works on the UTF-8 bytes of a whole batch of documents with numpy and classifies
non-ASCII characters through a table over all code points, so the only Python calls are per document.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

SEP, WORD, DIGIT = 0, 1, 2
# Han (unified, extension A, compatibility, extensions B+, iteration marks), hiragana, katakana
_CJK = re.compile("([\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f])")


def split_cjk(text: str) -> str:
    """``text`` with a space on both sides of every CJK character: each becomes a word of its own."""
    return _CJK.sub(r" \1 ", text)


_DELETE = 3  # continuation byte of a non-ASCII digit, which becomes the single byte "0"
SPACE, ZERO = 0x20, 0x30


def char_class(ch: str) -> int:
    """SEP, WORD or DIGIT for one (already lowercased) character."""
    category = unicodedata.category(ch)
    if category == "Nd":
        return DIGIT
    if category[0] in "LMN":
        return WORD
    return SEP


@functools.cache
def codepoint_classes() -> np.ndarray:
    """The class of every code point (1.1 MB, built once per process in about half a second)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for cp in range(0x110000):
        category = unicodedata.category(chr(cp))
        if category == "Nd":
            table[cp] = DIGIT
        elif category[0] in "LMN":
            table[cp] = WORD
    return table


def normalize_text(text: str) -> str:
    """Reference normalisation of one document (readable; ``normalize_batch`` must agree with it)."""
    mapped = []
    for ch in split_cjk(text).lower():
        cls = char_class(ch)
        mapped.append(ch if cls == WORD else "0" if cls == DIGIT else " ")
    return " ".join(w for w in "".join(mapped).split(" ") if w)


@dataclass
class NormalizedBatch:
    """Normalised text of several documents in one buffer.

    ``data`` holds each document's words separated by single spaces; word ``k`` is
    ``data[word_starts[k]:word_ends[k]]`` and document ``d`` owns words
    ``doc_words[d]:doc_words[d + 1]``.
    """

    data: np.ndarray  # uint8
    word_starts: np.ndarray  # int64
    word_ends: np.ndarray  # int64
    doc_words: np.ndarray  # int64, len = docs + 1

    @property
    def num_docs(self) -> int:
        return len(self.doc_words) - 1

    def doc_bytes(self, d: int) -> bytes:
        """The normalised UTF-8 text of document ``d`` (``b""`` when it has no words)."""
        lo, hi = self.doc_words[d], self.doc_words[d + 1]
        if lo == hi:
            return b""
        return self.data[self.word_starts[lo]:self.word_ends[hi - 1]].tobytes()


_ASCII = np.zeros(128, dtype=np.uint8)
for _cp in range(128):
    _ASCII[_cp] = char_class(chr(_cp))


def _byte_classes(raw: np.ndarray) -> np.ndarray:
    """Class of every byte: SEP, WORD, DIGIT (the byte becomes ``0``) or _DELETE."""
    classes = np.empty(len(raw), dtype=np.uint8)
    ascii_mask = raw < 0x80
    classes[ascii_mask] = _ASCII[raw[ascii_mask]]
    high = np.flatnonzero(~ascii_mask)
    if len(high) == 0:
        return classes
    padded = np.concatenate([raw, np.zeros(3, dtype=np.uint8)]).astype(np.uint32)
    b0 = padded[high]
    lead = b0 >= 0xC0
    starts = high[lead]
    c0, c1, c2, c3 = (padded[starts + k] for k in range(4))
    two, three = c0 < 0xE0, (c0 >= 0xE0) & (c0 < 0xF0)
    cp = np.where(two, ((c0 & 0x1F) << 6) | (c1 & 0x3F),
                  np.where(three, ((c0 & 0x0F) << 12) | ((c1 & 0x3F) << 6) | (c2 & 0x3F),
                           ((c0 & 0x07) << 18) | ((c1 & 0x3F) << 12) | ((c2 & 0x3F) << 6) | (c3 & 0x3F)))
    lead_class = codepoint_classes()[np.minimum(cp, 0x10FFFF)]
    # every high byte takes the class of the lead byte before it; digit continuations are deleted
    lead_of = np.maximum.accumulate(np.where(lead, np.arange(len(high)), 0))
    cont_class = np.where(lead_class == DIGIT, _DELETE, lead_class).astype(np.uint8)
    per_high = np.empty(len(high), dtype=np.uint8)
    lead_rank = np.cumsum(lead) - 1  # index into lead_class of the lead each high byte belongs to
    per_high[:] = cont_class[lead_rank[lead_of]]
    per_high[lead] = lead_class
    classes[high] = per_high
    return classes


def normalize_batch(texts: list[str]) -> NormalizedBatch:
    """Normalise ``texts`` together; equals ``normalize_text`` document by document."""
    parts = [split_cjk(t).lower().encode("utf-8", "surrogatepass") for t in texts]
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    raw = np.frombuffer(b" ".join(parts), dtype=np.uint8)  # a space between documents keeps words apart
    doc_starts = np.concatenate([[0], np.cumsum(lengths[:-1] + 1)]) if len(parts) else np.zeros(0, np.int64)

    classes = _byte_classes(raw)
    # uint8 throughout (Python-int fill values made two int64 temporaries, 16 bytes per text byte)
    mapped = np.where(classes == WORD, raw, np.where(classes == SEP, np.uint8(SPACE), np.uint8(ZERO)))
    keep = classes != _DELETE
    is_word = mapped != SPACE
    # collapse: keep word bytes and the first space after a word
    prev_word = np.concatenate([[False], is_word[:-1]])
    keep &= is_word | prev_word
    data = mapped[keep]
    word = data != SPACE
    before = np.empty_like(word)
    before[:1], before[1:] = False, word[:-1]
    after = np.empty_like(word)
    after[-1:], after[:-1] = False, word[1:]
    word_starts = np.flatnonzero(word & ~before).astype(np.int64)
    word_ends = np.flatnonzero(word & ~after).astype(np.int64) + 1
    # new index of each document's first byte: the kept bytes before it (no per-byte position array)
    new_doc_starts = ((np.cumsum(keep, dtype=np.int64)[doc_starts] - keep[doc_starts]) if len(raw)
                      else np.zeros(len(parts), np.int64))
    doc_words = np.searchsorted(word_starts, new_doc_starts, side="left").astype(np.int64)
    doc_words = np.concatenate([doc_words, [len(word_starts)]]).astype(np.int64)
    return NormalizedBatch(data, word_starts, word_ends, doc_words)
