"""A fast regex word splitter shared by the filters that count words (Gopher, FineWeb).

Why not spaCy or nltk: datatrove's Gopher filters spend most of their time in spaCy's English tokenizer
(about 30 documents/s on one core). The rules only need *counts* of words, punctuation tokens and
n-grams, so a single compiled regex that mimics spaCy's splitting of punctuation, hyphens and English
clitics ("do" + "n't", "John" + "'s") gives the same decisions on almost every document at a fraction of
the cost; ``bench/filter_agreement.py`` measures the agreement on real pages (bench/README.md, Filters).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import chain
from typing import Iterable

import numpy as np
import regex

# Order matters: the first alternative that matches at a position wins. Each one mirrors a spaCy English
# tokenizer behaviour that changes counts on real pages (measured with bench/filter_agreement.py).
_ALTERNATIVES = r"""
    (?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]   # URLs are one token
  | (?:[^\W\d_]\.){2,}(?![^\W\d_])    # abbreviations with inner dots: U.S., e.g., i.e.
  | (?:ABBREVIATIONS)\.(?!\w)           # common abbreviations keep their period
  | [A-HJ-Z]\.(?!\w)                    # initials: "J. Smith" (not the pronoun I)
  | \d+(?=(?:am|pm|AM|PM|[kKMGT]B?|km|kg|cm|mm|m)\b)   # a number before its unit: 5 pm, 10 GB
  | \.[A-Z]{2,}\b                      # upper-case suffixes: WEBSITE .COM
  | \d+(?:[.,:/–]\d+)+[^\W\d_]*         # numbers with separators: 3.5  1,000  10:30pm  2–3
  | [cC]an(?=not\b)                     # "can" + "not"
  | \w+?(?=[nN]['’][tT]\b)              # "do" of "don't"
  | [nN]['’][tT]\b                       # "n't"
  | ['’](?:[sSdDmM]|re|RE|ve|VE|ll|LL)\b(?!['’]\w)   # clitics 's 'd 'm 're 've 'll
  | WORD+(?:\.(?=[a-z0-9])WORD+)*      # words, also host names and versions: archive.org, v1.2
  | \.{2,} | -{2,} | …                  # ellipses and dashes stay one token
  | [^\w\s]                             # any other symbol: one token per character
"""
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Jr Sr Inc Ltd Co Corp vs Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mt Prof Gov "
    "Gen Sen Rep Rev Ave Blvd Dept Univ Fig Vol".split())
_ALTERNATIVES = _ALTERNATIVES.replace("ABBREVIATIONS", "|".join(sorted(ABBREVIATIONS)))
_TOKEN = re.compile(_ALTERNATIVES.replace("WORD", r"\w"), re.VERBOSE)
# Rare chunks go to a slower pattern: e-mail addresses are one token, and combining marks (Devanagari
# vowel signs) and stray control bytes (mojibake) stay inside their word, as with spaCy.
_RARE = re.compile("[@\x00-\x1f\x7f-\x9f\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a"
                   "\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f"
                   "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_TOKEN_RARE = regex.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+|"
                            + _ALTERNATIVES.replace("WORD", r"[\w\p{M}\p{Cc}]"), regex.VERBOSE | regex.VERSION0)
# spaCy does not split inside a chunk that holds CJK or full-width punctuation ("送】，中文：测试")
_CJK_PUNCT = regex.compile(r"[\u3000-\u303f\uff00-\uffef]")


_SPLIT_WORDS = frozenset({"cannot", "Cannot"})  # all-letter chunks that are still two tokens
_TRAILING = frozenset(',;:!?)"')  # marks that always split off a word (unlike "." and "'")


def _split_chunk(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-free chunk (the reference rules; called once per distinct chunk)."""
    if chunk.isalpha() and chunk not in _SPLIT_WORDS:
        return (chunk,)
    head, last = chunk[:-1], chunk[-1]
    if head.isalpha() and head not in _SPLIT_WORDS and (
            last in _TRAILING or (last == "." and head not in ABBREVIATIONS
                                  and not (len(head) == 1 and head.isupper() and head != "I"))):
        return (head, last)  # "world,"  "end."  the regex would give the same two tokens
    if _CJK_PUNCT.search(chunk):
        return (chunk,)
    return tuple((_TOKEN_RARE if _RARE.search(chunk) else _TOKEN).findall(chunk))


@lru_cache(maxsize=65536)
def is_symbol(token: str) -> bool:
    """True when every character is punctuation, a symbol or a control character (not a "word")."""
    return all(unicodedata.category(ch)[0] in "PSC" for ch in token)


@lru_cache(maxsize=65536)
def has_alpha(token: str) -> bool:
    return any(ch.isalpha() for ch in token)


def _sentence_terminals() -> str:
    """Characters with the Unicode Sentence_Terminal property (plus the fullwidth and CJK forms)."""
    pattern = regex.compile(r"\p{Sentence_Terminal}")
    return "".join(ch for ch in map(chr, range(0x110000)) if pattern.match(ch))


TERMINAL_PUNCTUATION: tuple[str, ...] = tuple(_sentence_terminals())
_SENTENCE_END = frozenset(TERMINAL_PUNCTUATION)

# Token classes, one bit each, computed once per distinct token when it enters the vocabulary.
SYMBOL = 1  # is_symbol: not a "word" for Gopher's counts
ALPHA = 2  # has_alpha
TERMINAL = 4  # a sentence-terminal mark on its own ("." "!" "?" "。")
PUNCT = 8  # every character is punctuation (does not start a sentence)


class _Column:
    """A numpy array that grows by doubling its capacity, appended to in batches."""

    def __init__(self, dtype: type) -> None:
        self.data, self.size = np.zeros(4096, dtype), 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros(max(end, 2 * len(self.data)), self.data.dtype)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:end] = values
        self.size = end


def _flags(token: str) -> int:
    if token.isalpha():  # most tokens: a word of letters only
        return ALPHA
    return (SYMBOL * is_symbol(token) | ALPHA * has_alpha(token) | TERMINAL * (token in _SENTENCE_END)
            | PUNCT * all(unicodedata.category(ch)[0] == "P" for ch in token))


class _Vocabulary(dict):
    """Whitespace chunk -> chunk id, with each distinct chunk split once and its tokens interned.

    Why: web text repeats its words and punctuated chunks, so splitting, hashing and classifying every
    *occurrence* in Python is most of the cost of the word filters. Here a document's chunks are mapped
    to ids by C-level dict lookups (``map(vocabulary.__getitem__, chunks)``); only a chunk never seen
    before reaches ``__missing__``, which queues it in plain lists; ``flush`` then moves the queue into
    numpy tables (token hash, length, class bits), from which per-token arrays come by fancy indexing.
    """

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation
        self.chunk_tokens: list[tuple[str, ...]] = []  # chunk id -> its tokens
        self.token_ids: dict[str, int] = {}
        self.chunk_first, self.chunk_count = _Column(np.int64), _Column(np.int64)  # into ``flat``
        self.flat = _Column(np.int64)  # token ids of every chunk, concatenated
        self.key = _Column(np.int64)  # Python's string hash: identifies a token within this process
        self.length, self.flags = _Column(np.int64), _Column(np.uint8)
        self.n_flat = 0
        self.new_first: list[int] = []
        self.new_count: list[int] = []
        self.new_flat: list[int] = []
        self.new_tokens: list[str] = []

    def __missing__(self, chunk: str) -> int:
        chunk_id = self[chunk] = len(self.chunk_tokens)
        tokens = (chunk,) if chunk.isalpha() and chunk not in _SPLIT_WORDS else _split_chunk(chunk)
        self.chunk_tokens.append(tokens)
        self.new_first.append(self.n_flat)
        self.new_count.append(len(tokens))
        self.n_flat += len(tokens)
        token_ids = self.token_ids
        for token in tokens:
            token_id = token_ids.get(token)
            if token_id is None:
                token_id = token_ids[token] = len(token_ids)
                self.new_tokens.append(token)
            self.new_flat.append(token_id)
        return chunk_id

    def flush(self) -> None:
        """Move the chunks and tokens queued by ``__missing__`` into the numpy tables."""
        if self.new_first:
            self.chunk_first.extend(np.array(self.new_first, dtype=np.int64))
            self.chunk_count.extend(np.array(self.new_count, dtype=np.int64))
            self.flat.extend(np.array(self.new_flat, dtype=np.int64))
            self.new_first, self.new_count, self.new_flat = [], [], []
        if self.new_tokens:
            new, n = self.new_tokens, len(self.new_tokens)
            self.key.extend(np.fromiter(map(hash, new), dtype=np.int64, count=n))
            self.length.extend(np.fromiter(map(len, new), dtype=np.int64, count=n))
            self.flags.extend(np.fromiter(map(_flags, new), dtype=np.uint8, count=n))
            self.new_tokens = []


MAX_CHUNKS = 500_000  # the vocabulary starts afresh beyond this many distinct chunks (bounded memory)
_vocabulary = _Vocabulary(0)


def _current() -> _Vocabulary:
    """The vocabulary, started afresh when full; only called between documents, never during one."""
    global _vocabulary
    if len(_vocabulary) > MAX_CHUNKS:
        _vocabulary = _Vocabulary(_vocabulary.generation + 1)
    return _vocabulary


def clear_cache() -> None:
    """Forget every chunk seen (benchmarks measure a cold start with it)."""
    global _vocabulary
    _vocabulary = _Vocabulary(_vocabulary.generation + 1)


def split_words(text: str) -> list[str]:
    """Words and punctuation tokens of ``text``, in order (whitespace dropped)."""
    vocabulary = _current()
    # no token spans whitespace, so a text's tokens are its chunks' tokens, concatenated
    return list(chain.from_iterable(map(vocabulary.chunk_tokens.__getitem__,
                                        map(vocabulary.__getitem__, text.split()))))


class Tokens:
    """The tokens of one text as parallel numpy arrays: what the word filters count, without strings.

    ``key`` is the token's string hash (equal tokens, equal keys; n-grams hash these), ``length`` its
    characters, ``flags`` its class bits (SYMBOL, ALPHA, TERMINAL, PUNCT), ``line`` the index of its line
    in ``text.splitlines()``; ``ids`` index the vocabulary of ``generation``.
    """

    __slots__ = ("key", "length", "flags", "line", "ids", "n_lines", "generation")

    def __init__(self, key: np.ndarray, length: np.ndarray, flags: np.ndarray, line: np.ndarray,
                 ids: np.ndarray, n_lines: int, generation: int) -> None:
        self.key, self.length, self.flags, self.line = key, length, flags, line
        self.ids, self.n_lines, self.generation = ids, n_lines, generation

    def __len__(self) -> int:
        return len(self.key)

    def select(self, mask: np.ndarray, line: np.ndarray, n_lines: int) -> Tokens:
        """The tokens where ``mask`` holds, renumbered onto ``n_lines`` lines by ``line``."""
        return Tokens(self.key[mask], self.length[mask], self.flags[mask], line, self.ids[mask], n_lines,
                      self.generation)

    def count_present(self, words: Iterable[str]) -> int | None:
        """How many of the distinct ``words`` occur as tokens (exact: compares vocabulary ids); None when
        the vocabulary was renewed since these tokens were made (the caller then compares strings)."""
        vocabulary = _vocabulary
        if vocabulary.generation != self.generation:
            return None
        wanted = [vocabulary.token_ids.get(w, -1) for w in set(words)]
        return int(np.isin(np.array(wanted, dtype=np.int64), self.ids).sum())


def tokenize(text: str) -> Tokens:
    """``split_words`` of every line of ``text``, as arrays (same tokens, same order)."""
    vocabulary = _current()
    lines = text.splitlines()
    per_line = [line.split() for line in lines]
    chunks_per_line = np.fromiter(map(len, per_line), np.int64, len(lines))
    n_chunks = int(chunks_per_line.sum())
    chunk_ids = np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(per_line)), np.int64, n_chunks)
    vocabulary.flush()
    counts = vocabulary.chunk_count.data[chunk_ids]
    first = vocabulary.chunk_first.data[chunk_ids]
    chunk_line = np.repeat(np.arange(len(lines)), chunks_per_line)
    if n_chunks and counts.min() == counts.max() == 1:
        ids, line = vocabulary.flat.data[first], chunk_line
    else:  # expand each chunk to its tokens: positions first[c], first[c] + 1, ...
        ends = np.cumsum(counts)
        ids = vocabulary.flat.data[np.repeat(first - ends + counts, counts) + np.arange(int(ends[-1]) if
                                                                                          n_chunks else 0)]
        line = np.repeat(chunk_line, counts)
    return Tokens(vocabulary.key.data[ids].view(np.uint64), vocabulary.length.data[ids],
                  vocabulary.flags.data[ids], line, ids, len(lines), vocabulary.generation)


def sentences_per_line(tokens: Tokens) -> np.ndarray:
    """``c4.count_sentences`` of each line's tokens, for all lines at once.

    A line has one sentence plus one per non-punctuation token that follows a terminal mark seen since
    the line's previous non-punctuation token (or its start).
    """
    flags = tokens.flags
    terminal = (flags & TERMINAL) != 0
    starts = np.flatnonzero(~terminal & ((flags & PUNCT) == 0))  # tokens that can start a sentence
    before = np.zeros(len(flags) + 1, dtype=np.int64)
    np.cumsum(terminal, out=before[1:])  # before[i]: terminal marks among tokens[:i]
    line = tokens.line[starts]
    line_first = np.searchsorted(tokens.line, np.arange(tokens.n_lines))  # first token of each line
    since = line_first[line]  # where to look back to: the line's start ...
    follows = np.flatnonzero(line[1:] == line[:-1]) + 1  # not the first such token of its line
    since[follows] = starts[follows - 1] + 1  # ... or just after the previous such token
    new = before[starts] > before[since]
    return 1 + np.bincount(line[new], minlength=tokens.n_lines)
