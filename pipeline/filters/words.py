"""A fast regex word splitter shared by the filters that count words (Gopher, FineWeb).

Why not spaCy or nltk: datatrove's Gopher filters spend most of their time in spaCy's English tokenizer
(about 30 documents/s on one core). The rules only need *counts* of words, punctuation tokens and
n-grams, so a single compiled regex that mimics spaCy's splitting of punctuation, hyphens and English
clitics ("do" + "n't", "John" + "'s") gives the same decisions on almost every document at a fraction of
the cost; ``bench/filter_agreement.py`` measures the agreement on real pages (bench/README.md, Filters).
"""

from __future__ import annotations

import operator
import re
import sys
import unicodedata
from functools import lru_cache, partial
from itertools import chain, compress, count
from typing import Any, Callable, Iterable

import numpy as np
import regex

from pipeline.filters.affixes import MatchedTokens, affix_split, special_runs
from pipeline.filters.segment import (AFFIX_SEGMENTERS, JIEBA, SPACED, SUDACHI, WHITESPACE, affix_segment,
                                      affix_rules, affix_spaced_specials,
                                      jieba_entry_token_ids, jieba_split, jieba_split_many, spaced_split,
                                      sudachi_split)
from pipeline.filters.segment_lib import (BURMESE, CHUNK_CUT, CHUNK_KEEP, INDIC, INDIC_URDU, KHMER, KIWI, LAO,
                                          LINE_BREAKS, SPANS_LINES,
                                          THAI, VIETNAMESE, burmese_split, indic_split, khmer_split, kiwi_split, kiwi_split_many,
                                          lao_split, thai_split, urdu_split, vietnamese_split)
from pipeline.filters.spaced_specials import ONE_SPACE, SpacedSpecial, one_space_gaps
from pipeline.memory import clear_after_each_task, clear_between_steps

try:
    from pipeline.filters import _chunks
except ImportError:  # not built (no C compiler at install time): str.split() and a dict do the same job
    _chunks = None
try:
    from pipeline.filters import _tokens
except ImportError:  # not built: numpy fancy indexing and masks give the same arrays and counts
    _tokens = None

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


def _mark_ranges() -> str:
    """Every combining mark (``\\p{M}``: Mn, Mc, Me) as ``re`` character-class ranges, in code point order.
    Found with one ``findall`` over a string of every code point, as ``_sentence_terminals`` does (~10 ms)."""
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    points = [ord(ch) for ch in regex.findall(r"\p{M}", every)]
    ranges, start = [], points[0]
    for prev, cp in zip(points, points[1:] + [-1]):
        if cp != prev + 1:
            ranges.append(chr(start) if start == prev else f"{chr(start)}-{chr(prev)}")
            start = cp
    return "".join(ranges)


# Rare chunks go to a slower pattern: e-mail addresses are one token, and combining marks and stray control
# bytes (mojibake) stay inside their word, as with spaCy. Every script's marks, not a list of blocks: with the
# Indic, Thai and Myanmar blocks only, a Khmer, Tibetan, Thaana, Javanese or Tai Tham word fell apart at each
# vowel sign into "words" of one letter and "words" of one mark without a letter (bench/udhr_languages.py:
# the Khmer declaration's share of words with a letter was 0.50, Maldivian's duplicated 5-grams 0.65).
# The ranges listed before stay (their other characters, e.g. the danda, keep going to the slower pattern).
_RARE = re.compile("[@\x00-\x1f\x7f-\x9f\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a"
                   "\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f"
                   "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f" + _mark_ranges() + "]")
_TOKEN_RARE = regex.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+|"
                            + _ALTERNATIVES.replace("WORD", r"[\w\p{M}\p{Cc}]"), regex.VERBOSE | regex.VERSION0)
# spaCy does not split inside a chunk that holds CJK or full-width punctuation ("送】，中文：测试")
_CJK_PUNCT = regex.compile(r"[\u3000-\u303f\uff00-\uffef]")
_SPECIAL = re.compile(_RARE.pattern[:-1] + "\u3000-\u303f\uff00-\uffef]")  # either of the two


_SPLIT_WORDS = frozenset({"cannot", "Cannot"})  # all-letter chunks that are still two tokens
_TRAILING = frozenset(',;:!?)"')  # marks that always split off a word (unlike "." and "'")


# The Ethiopic wordspace (U+1361) before a letter is the space between two words in Ethiopic text written
# the traditional way ("የሰው፡ልጅ፡ሁሉ፡ሲወለድ"): the words either side are two tokens and the wordspace none, as
# a space. spaCy keeps such a run whole (no infix rule for it, in its Amharic tokenizer too, which datatrove
# counts Amharic with), so a line was one "word" of ~100 characters there; split off as a token of its own
# (before), every other token was punctuation and the Amharic declaration's repeated wordspaces made its
# duplicated 5-grams 0.153 (bench/udhr_languages.py). A wordspace after the last word of a chunk ("ስላለው፡ ")
# stays a token, as in spaCy's Amharic tokenizer.
WORDSPACE = "\u1361"
WORDSPACE_SPLIT = re.compile("(?<=.)\u1361(?=\\w)")


def _split_chunk(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-free chunk (the reference rules; called once per distinct chunk)."""
    if WORDSPACE in chunk and WORDSPACE_SPLIT.search(chunk):
        return tuple(chain.from_iterable(_split_chunk(part) for part in WORDSPACE_SPLIT.split(chunk)))
    if chunk.isalpha() and chunk not in _SPLIT_WORDS:
        return (chunk,)
    head, last = chunk[:-1], chunk[-1]
    if head.isalpha() and head not in _SPLIT_WORDS and (
            last in _TRAILING or (last == "." and head not in ABBREVIATIONS
                                  and not (len(head) == 1 and head.isupper() and head != "I"))):
        return (head, last)  # "world,"  "end."  the regex would give the same two tokens
    if not _SPECIAL.search(chunk):  # most chunks: neither CJK punctuation nor a rare character
        return tuple(_TOKEN.findall(chunk))
    if _CJK_PUNCT.search(chunk):
        return (chunk,)
    return tuple((_TOKEN_RARE if _RARE.search(chunk) else _TOKEN).findall(chunk))


# What Gopher quality counts as a symbol, not a word: a token whose every character is in datatrove's punctuation list
# (``PUNCTUATION_SET`` of datatrove 0.10.1's ``datatrove/utils/text.py``: its ``PUNCTUATION`` string, i.e. ASCII
# punctuation, the C0 and C1 controls, a few CJK, fullwidth and typographic marks and "１", and its
# ``TERMINAL_PUNCTUATION``, sentence ends of many scripts), copied here as data, code point ranges (281 characters);
# ``bench/word_marks.py`` prints the difference from datatrove's own (none). FineWeb-2 counted its words with it, so
# any other character makes a token a word there: "؛", "¿", "‐", "™", "●", "→", "°", "×", "·", Myanmar's "၏", Ethiopic's
# "፤", Tibetan's shad, emoji, unassigned code points. Until issue 13's punct46 a symbol here was a token of Unicode's
# categories P, S and C, which differ from the list on 8,508 assigned characters (punctuation, symbols, format
# characters; 969,348 unassigned, private and surrogate code points; and "１" the other way): first the Arabic comma
# (U+060C) was made a word (UDHR in 30 parts, FineWeb-2's setting fa 147 -> 151/151, dv 28 -> 30/30), then the list
# replaced the categories: held-out text writes many of the others as tokens of their own (the Arabic semicolon in ar,
# fa, dv, ug; Spanish's "¿" and "¡"; Myanmar's "၏", "၍", "၌"; Ethiopic's "፤", "፡"; U+2010; the handbook's "™", "●",
# "→", "�" and box drawings in every translation), and no subset of the categories separates them. With the list,
# Gopher's words equal datatrove's own values in 2,443 of 2,728 held-out documents (2,219 before; UDHR in 8 parts and
# the handbook, every FineWeb-2 language here; in 30 parts 905 -> 964 of 990) and no keep/drop decision moved
# (bench/README.md, "Which characters are words"). Stored as datatrove's ``PUNCTUATION`` beyond its sentence ends (the
# ranges here) and its sentence ends (``DATATROVE_TERMINAL_RANGES`` below, which FineWeb and C4 read too), so no
# character is written twice; ``GOPHER_PUNCTUATION``, after them, is the union.
DATATROVE_PUNCTUATION_RANGES = (
    (0x0000, 0x0008), (0x000B, 0x001F), (0x0022, 0x002D), (0x002F, 0x002F), (0x003A, 0x003E), (0x0040, 0x0040),
    (0x005B, 0x0060), (0x007B, 0x009F), (0x00AB, 0x00AB), (0x00B4, 0x00B4), (0x00BB, 0x00BB), (0x2013, 0x2014),
    (0x2019, 0x2019), (0x201C, 0x201E), (0x2026, 0x2026), (0x2236, 0x2236), (0x2501, 0x2501), (0x25BA, 0x25BA),
    (0x3001, 0x3001), (0x3008, 0x300D), (0x3010, 0x3011), (0xFF05, 0xFF05), (0xFF08, 0xFF09), (0xFF0C, 0xFF0C),
    (0xFF11, 0xFF11), (0xFF1A, 0xFF1B), (0xFF5E, 0xFF5E)
)


# What ends a sentence for FineWeb's line-punctuation rule, C4's sentence count and the TERMINAL class: datatrove's
# ``TERMINAL_PUNCTUATION`` (datatrove 0.10.1, ``datatrove/utils/text.py``; its FineWeb quality filter's default
# ``stop_chars``), copied here as data, code point ranges (159 characters; ``tests/data/datatrove/
# terminal_punctuation.json`` is the stored copy a test compares with), and the Tibetan shads below. Until issue 13's
# term47 it was Unicode's Sentence_Terminal property as the ``regex`` package read it: 16 characters more (U+2024 ONE DOT
# LEADER, which Armenian text types for its full stop "։", the vertical CJK forms, Coptic Old Nubian, Balinese and
# newer scripts' marks) and 3 Khmer signs fewer (៖ ៙ ៚), and it moved with the ``regex`` release installed. FineWeb-2's
# thresholds were set on datatrove's list: with Unicode's, an Armenian UDHR part whose lines end in U+2024 passed
# FineWeb's line-punctuation rule that datatrove's FineWeb-2 setting drops it by (bench/README.md, "Sentence ends as
# datatrove counts them").
DATATROVE_TERMINAL_RANGES = (
    (0x0021, 0x0021), (0x002E, 0x002E), (0x003F, 0x003F), (0x0589, 0x0589), (0x061D, 0x061F), (0x06D4, 0x06D4),
    (0x0700, 0x0702), (0x07F9, 0x07F9), (0x0837, 0x0837), (0x0839, 0x0839), (0x083D, 0x083E), (0x0964, 0x0965),
    (0x104A, 0x104B), (0x1362, 0x1362), (0x1367, 0x1368), (0x166E, 0x166E), (0x1735, 0x1736), (0x17D4, 0x17D6),
    (0x17D9, 0x17DA), (0x1803, 0x1803), (0x1809, 0x1809), (0x1944, 0x1945), (0x1AA8, 0x1AAB), (0x1B5A, 0x1B5B),
    (0x1B5E, 0x1B5F), (0x1B7D, 0x1B7E), (0x1C3B, 0x1C3C), (0x1C7E, 0x1C7F), (0x203C, 0x203D), (0x2047, 0x2049),
    (0x2E2E, 0x2E2E), (0x2E3C, 0x2E3C), (0x2E53, 0x2E54), (0x3002, 0x3002), (0xA4FF, 0xA4FF), (0xA60E, 0xA60F),
    (0xA6F3, 0xA6F3), (0xA6F7, 0xA6F7), (0xA876, 0xA877), (0xA8CE, 0xA8CF), (0xA92F, 0xA92F), (0xA9C8, 0xA9C9),
    (0xAA5D, 0xAA5F), (0xAAF0, 0xAAF1), (0xABEB, 0xABEB), (0xFE52, 0xFE52), (0xFE56, 0xFE57), (0xFF01, 0xFF01),
    (0xFF0E, 0xFF0E), (0xFF1F, 0xFF1F), (0xFF61, 0xFF61), (0x10A56, 0x10A57), (0x10F55, 0x10F59), (0x10F86, 0x10F89),
    (0x11047, 0x11048), (0x110BE, 0x110C1), (0x11141, 0x11143), (0x111C5, 0x111C6), (0x111CD, 0x111CD),
    (0x111DE, 0x111DF), (0x11238, 0x11239), (0x1123B, 0x1123C), (0x112A9, 0x112A9), (0x1144B, 0x1144C),
    (0x115C2, 0x115C3), (0x115C9, 0x115D7), (0x11641, 0x11642), (0x1173C, 0x1173E), (0x11944, 0x11944),
    (0x11946, 0x11946), (0x11A42, 0x11A43), (0x11A9B, 0x11A9C), (0x11C41, 0x11C42), (0x11EF7, 0x11EF8),
    (0x11F43, 0x11F44), (0x16A6E, 0x16A6F), (0x16AF5, 0x16AF5), (0x16B37, 0x16B38), (0x16B44, 0x16B44),
    (0x16E98, 0x16E98), (0x1BC9F, 0x1BC9F), (0x1DA88, 0x1DA88)
)
DATATROVE_TERMINALS = "".join(chr(cp) for first, last in DATATROVE_TERMINAL_RANGES for cp in range(first, last + 1))

GOPHER_PUNCTUATION = frozenset(chr(cp) for first, last in DATATROVE_PUNCTUATION_RANGES
                               for cp in range(first, last + 1)) | frozenset(DATATROVE_TERMINALS)


# Small caches: the vocabulary classifies each distinct token once, so these only save work for tokens met
# again after it was renewed (and for the punctuation every text has); at 65,536 entries each they held ~20
# MiB of tokens that were never asked for again.
@lru_cache(maxsize=4096)
def is_symbol(token: str) -> bool:
    """True when every character is in ``GOPHER_PUNCTUATION`` (not a "word" for Gopher's counts)."""
    return GOPHER_PUNCTUATION.issuperset(token)


def is_mark(token: str) -> bool:
    """True when every character is Unicode punctuation, a symbol or a control character (``MARK``)."""
    return all(unicodedata.category(ch)[0] in "PSC" for ch in token)


@lru_cache(maxsize=4096)
def has_alpha(token: str) -> bool:
    return any(ch.isalpha() for ch in token)


# Sentence ends that datatrove's list (and Unicode's Sentence_Terminal) leave out because they end a clause as well:
# the Tibetan shad family (U+0F0D-U+0F12, Terminal_Punctuation in Unicode). Tibetan ends its sentences with a shad
# and has no other mark, so without them FineWeb's line-punctuation rule and C4's sentence count found no sentence
# in Tibetan or Dzongkha prose (bench/udhr_languages.py: 0 of the Tibetan declaration's lines "ended" one). No
# FineWeb-2 setting is compared on them: datatrove's Tibetan words need botok's dictionary, not available here.
CLAUSE_TERMINALS = "\u0f0d\u0f0e\u0f0f\u0f10\u0f11\u0f12"
TERMINAL_PUNCTUATION: tuple[str, ...] = tuple(sorted(DATATROVE_TERMINALS + CLAUSE_TERMINALS))
_SENTENCE_END = frozenset(TERMINAL_PUNCTUATION)

# Token classes, one bit each, computed once per distinct token when it enters the vocabulary.
SYMBOL = 1  # is_symbol: not a "word" for Gopher quality's counts (every character in datatrove's list)
ALPHA = 2  # has_alpha
TERMINAL = 4  # a sentence-terminal mark on its own ("." "!" "?" "。")
PUNCT = 8  # every character is punctuation (does not start a sentence)
# is_mark: every character is Unicode punctuation, a symbol or a control (P*, S*, C*), not a word of an unspaced
# line for C4's words per line. Why not SYMBOL: datatrove's C4 counts whitespace words, so C4's words of a Chinese or
# Japanese line are ours to define, and datatrove's list would make "・", "『", "』" words there (a line "・項目" of
# three; jawiki: 67 of 183 articles rewritten otherwise), which SYMBOL was before punct46 and MARK still is
MARK = 16


def token_keys(ids: np.ndarray) -> np.ndarray:
    """The n-gram key of each token id (int64): a bijective mix of the id (splitmix64's finalizer), so equal
    keys are equal tokens of one vocabulary, spread over 64 bits for the n-gram hashes. Why not the token's
    string hash (as until issue 13's sixth pass): SipHash of every new token was about 2 % of the Chinese
    word chain, and every Tokens indexes one vocabulary (``generation``), whose ids identify its tokens."""
    z = (ids.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))).view(np.int64)


# dtype objects made once, passed by position: ``np.frombuffer(b, dtype=np.int64)`` parses its keyword and
# converts the type on every call, ~0.4 us against ~0.2 (numpy 2.4); ``_expand`` makes up to six arrays per
# document (issue 13, doc33: the per-document fixed cost).
_I64, _U64, _U8 = np.dtype(np.int64), np.dtype(np.uint64), np.dtype(np.uint8)


class _Column:
    """A numpy array that grows by doubling its capacity, appended to in batches. Only the first ``size`` items
    are ever read: the room after them is left unset (``np.empty``; zeroing it was ~9 instructions per
    Chinese character of a cold vocabulary, counted by callgrind, issue 13, eleventh pass)."""

    def __init__(self, dtype: type) -> None:
        self.data, self.size = np.empty(4096, dtype), 0
        self._memory = memoryview(self.data)

    def reserve(self, more: int) -> None:
        """Make room for ``more`` items after the filled ones (what the compiled ``_tokens.add_*`` write into)."""
        end = self.size + more
        if end > len(self.data):
            grown = np.empty(max(end, 2 * len(self.data)), self.data.dtype)
            grown[:self.size] = self.data[:self.size]
            self.data, self._memory = grown, memoryview(grown)

    def extend(self, values: np.ndarray) -> None:
        self.reserve(len(values))
        end = self.size + len(values)
        self.data[self.size:end] = values
        self.size = end

    def filled(self) -> memoryview:
        """The filled items as a buffer for the compiled passes: a memoryview slice costs a few hundred
        instructions, a numpy slice a few thousand (issue 13, eleventh pass: seven per document)."""
        return self._memory[:self.size]


# General categories whose characters make a token a mark (``is_mark``: P*, S*, C*) and punctuation (P*)
_MARK_CATEGORIES = frozenset("Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Cc Cf Cs Co Cn".split())
_PUNCT_CATEGORIES = frozenset(c for c in _MARK_CATEGORIES if c[0] == "P")


def _flags(token: str) -> int:
    """Class bits of one token (``_reference_flags`` in tests/pipeline/filters/test_words.py)."""
    if token.isalpha():  # most tokens: a word of letters only
        return ALPHA
    if token.isdigit():  # digits (categories Nd, No): no letter, not punctuation, a symbol only as datatrove's "１"
        return SYMBOL * GOPHER_PUNCTUATION.issuperset(token)
    if any(map(str.isalpha, token)):  # a letter (str.isalpha: L*) is not punctuation (datatrove's list has none)
        # (issue 13, tenth pass: is_symbol's and the punctuation test's unicodedata calls were ~22 instructions
        # per Chinese character of zhwiki, for its new tokens that mix letters and punctuation)
        return ALPHA | TERMINAL * (token in _SENTENCE_END)
    # the set of the characters' categories once (``is_symbol`` and the punctuation test were a generator each,
    # and their lru_caches a miss for nearly every new token; issue 13, eleventh pass)
    categories = set(map(unicodedata.category, token))
    return (SYMBOL * GOPHER_PUNCTUATION.issuperset(token) | TERMINAL * (token in _SENTENCE_END)
            | MARK * (categories <= _MARK_CATEGORIES) | PUNCT * (categories <= _PUNCT_CATEGORIES))


class _Ids(dict):
    """A string -> consecutive id map whose misses queue the new string in ``new``."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, item: str) -> int:
        item_id = self[item] = len(self)
        self.new.append(item)
        return item_id


def joined_chunks(text: str, cut: Callable[[str], list[str]]) -> list[str]:
    """``text.split()``, but a run of whitespace between two chunks that ``cut`` does not cut at stays inside one
    chunk (``segment_lib.CHUNK_CUT``: how the segmenter's library cuts a text at whitespace). The pieces
    stripped: what is left of a run that was cut is at a piece's ends, a run that was not is inside one (one cut
    and a strip per chunk: a loop over the whitespace runs in Python cost more than the rest of the Indic
    vocabulary's work)."""
    return [chunk for piece in cut(text) if (chunk := piece.strip())]


def _split_each(split: Callable[[str], tuple[str, ...]], chunks: list[str]) -> list[tuple[str, ...]]:
    """``split`` of each chunk: the batch splitter of segmenters that have no faster one."""
    return list(map(split, chunks))


class _SpacedPairs:
    """Which two token ids side by side start a spaced special case (``spaced_specials``), as index tables: a
    text is looked at in Python only where some case's first two tokens follow each other, and then only if the
    text holds such a case's text (a merge replaces a run by the case whose text the run spells)."""

    def __init__(self, cases: tuple[SpacedSpecial, ...]) -> None:
        self.cases: dict[tuple[str, str], list[SpacedSpecial]] = {}
        for case in cases:
            self.cases.setdefault(case.pattern[:2], []).append(case)
        firsts = sorted({first for first, _ in self.cases})
        seconds = sorted({second for _, second in self.cases})
        # token -> its index among the first (second) tokens, from 1; 0 in the tables means "neither"
        self._index = {("first", t): i for i, t in enumerate(firsts, 1)}
        self._index.update({("second", t): i for i, t in enumerate(seconds, 1)})
        self.missing = dict(self._index)  # those not in the vocabulary yet (``look_up``)
        self.found: dict[str, dict[int, int]] = {"first": {}, "second": {}}
        self.seen = -1
        self.first = self.second = self.table = None
        self.by_index: dict[tuple[int, int], list[SpacedSpecial]] = {
            (self._index[("first", f)], self._index[("second", s)]): c for (f, s), c in self.cases.items()}

    def look_up(self, token_id: Callable[[str], int], n_tokens: int) -> None:
        for (role, token), index in list(self.missing.items()):
            i = token_id(token)
            if i >= 0:
                self.found[role][i] = index
                del self.missing[(role, token)]
        self.seen = n_tokens
        if not self.found["first"] or not self.found["second"]:
            return
        self.first, self.second = (np.zeros(max(self.found[r]) + 2, dtype=np.int32) for r in ("first", "second"))
        for role, column in (("first", self.first), ("second", self.second)):
            for i, index in self.found[role].items():
                column[i] = index
        size = (max(self._index.values()) + 1,) * 2
        self.table = np.zeros(size, dtype=np.uint8)
        for first, second in self.by_index:
            self.table[first, second] = 1

    def starts(self, ids: np.ndarray) -> np.ndarray:
        """Positions in ``ids`` where some case's first two tokens follow each other."""
        assert self.first is not None and self.second is not None and self.table is not None
        if _tokens is not None and ids.dtype == np.int64 and ids.flags.c_contiguous:  # the numpy below in one pass
            return np.frombuffer(_tokens.pair_starts(ids, self.first, self.second, self.table, self.table.shape[1]),
                                 dtype=np.int64)
        first = self.first[np.minimum(ids[:-1], len(self.first) - 1)]
        second = self.second[np.minimum(ids[1:], len(self.second) - 1)]
        return np.flatnonzero(self.table[first, second])

    def cases_at(self, ids: np.ndarray, starts: np.ndarray) -> list[SpacedSpecial]:
        """The cases whose first two tokens stand at ``starts``."""
        assert self.first is not None and self.second is not None
        firsts = self.first[np.minimum(ids[starts], len(self.first) - 1)].tolist()
        seconds = self.second[np.minimum(ids[starts + 1], len(self.second) - 1)].tolist()
        return [case for pair in set(zip(firsts, seconds)) for case in self.by_index[pair]]


class _Vocabulary:
    """Whitespace chunk -> chunk id, with each distinct chunk split once and its tokens interned.

    Why: web text repeats its words and punctuated chunks, so splitting, hashing and classifying every
    *occurrence* in Python is most of the cost of the word filters. Here a document's chunks are mapped
    to ids in one compiled scan (``_chunks.ChunkTable``, about 4x faster than ``str.split()`` and a dict
    lookup per chunk, which remain as the fallback); a chunk never seen before is only queued, and
    ``flush`` splits the queued chunks and moves them into numpy tables (token hash, length, class
    bits), from which per-token arrays come by fancy indexing.

    Where ``_chunks`` is built, the tokens are held in a second compiled table, not as str keys of a dict
    and a list by id: ~400 bytes per distinct chunk before, ~130 now (``nbytes``), which is what a filter
    worker keeps between tasks at up to ``MAX_CHUNKS`` chunks (issue 19). Jieba's compiled interning also
    uses the table alone (it filled a dict beside it until issue 13's fifth pass; nothing read it).
    """

    def __init__(self, generation: int, segmenter: str = WHITESPACE) -> None:
        self.generation, self.segmenter = generation, segmenter
        self.split = _SPLITTERS[segmenter]
        # no closure over self: a vocabulary must be freed by reference counting alone when a task ends
        # (``pipeline.memory.clear_after_each_task``), without waiting for the cycle collector
        self.split_many = _MANY_SPLITTERS.get(segmenter) or partial(_split_each, self.split)
        self.chunk_ids = _Ids()
        # the compiled chunk table (``_chunks.c``) replaces ``chunk_ids`` where it was built; it splits at every
        # whitespace but, for the segmenters whose chunks keep some whitespace inside (``CHUNK_CUT``), the
        # whitespace of ``CHUNK_KEEP`` (``keep``; ``keep_in_line`` without the line breaks, for ``tokenize_by_line``)
        self.cut = CHUNK_CUT.get(segmenter)
        self.keep = CHUNK_KEEP.get(segmenter, "")
        self.keep_in_line = "".join(c for c in self.keep if c not in LINE_BREAKS)
        self.table = _chunks.ChunkTable() if _chunks is not None else None
        # token -> id (ids in first-seen order) and id -> token: the compiled token table where it was built,
        # else a dict and a list
        self.token_table = _chunks.ChunkTable() if _chunks is not None else None
        self.token_ids: dict[str, int] | None = {} if self.token_table is None else None
        self.tokens: list[str] | None = [] if self.token_table is None else None
        # int32: positions in ``flat``, token counts and ids are all below the characters held, which
        # ``MAX_CHUNK_CHARS`` bounds (``flush`` checks); half the bytes of int64 per chunk and per token
        self.chunk_first, self.chunk_count = _Column(np.int32), _Column(np.int32)  # into ``flat``
        self.flat = _Column(np.int32)  # token ids of every chunk, concatenated
        self.chars = 0  # characters of the distinct chunks held (the chunk table keeps 4 bytes each)
        self.key = _Column(np.int64)  # token_keys of the ids: identifies a token of this vocabulary
        self.length, self.flags = _Column(np.int64), _Column(np.uint8)
        # per word list (Gopher's stop words): [tokens seen when last looked up, words found -> id, words not
        # yet seen, id -> position among the found (-1 elsewhere), for ids up to the largest found]
        self._wanted: dict[tuple[str, ...], list[Any]] = {}
        # spaCy's special cases that hold a space, merged across chunks per text (``_spaced_merged``): the tables
        # of the spaCy languages that have them, else empty; their first two tokens' lookup (``spaced_pairs``)
        self.spaced = affix_spaced_specials(segmenter)
        self._spaced_ids: _SpacedPairs | None = None
        self.chunk_matched = _Column(np.uint8)  # per chunk id, where ``spaced``: ``_spaced_edges``
        self.open_chunks = 0  # chunks a spaced case can cross (``_spaced_edges`` bits 1, 2)

    def wanted_positions(self, words: tuple[str, ...]) -> np.ndarray:
        """For each token id below the largest id of a word of ``words``: that word's position among the
        found ones, else -1. Why: Gopher's stop-word count looked every word of the list up and built a
        presence table over the document's id range for each document (~190,000 instructions per zhwiki
        article); the words are looked up again only while some are unseen and the vocabulary has grown."""
        entry = self._wanted.get(words)
        if entry is None:
            entry = self._wanted[words] = [-1, {}, sorted(set(words)), np.empty(0, dtype=np.int32)]
        seen, found, missing, positions = entry
        if missing and seen != self.n_tokens:
            still = []
            for word in missing:
                i = self.token_id(word)
                if i >= 0:
                    found[word] = i
                else:
                    still.append(word)
            if len(still) < len(missing):
                ids = np.fromiter(found.values(), dtype=np.int64, count=len(found))
                positions = np.full(int(ids.max()) + 1, -1, dtype=np.int32)
                positions[ids] = np.arange(len(ids), dtype=np.int32)
            entry[:] = [self.n_tokens, found, still, positions]
        return positions

    def intern(self, tokens: tuple[str, ...]) -> np.ndarray:
        """The ids of ``tokens``, those not seen before added to the token columns (tokens no chunk split into:
        spaCy's special cases that hold a space, ``_spaced_merged``)."""
        first_new = self.key.size
        new: list[str] = []
        if self.token_table is not None:
            flat_ids, _, _ = _chunks.intern_split([tokens], self.token_table)
            ids = np.frombuffer(flat_ids, dtype=np.int64)
        else:
            assert self.token_ids is not None
            new = [t for t in dict.fromkeys(tokens) if t not in self.token_ids]
            self.token_ids.update(zip(new, range(len(self.token_ids), len(self.token_ids) + len(new))))
            ids = np.fromiter(map(self.token_ids.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        if self.token_table is not None and len(self.token_table) == first_new:
            return ids
        self._add_token_columns(first_new, new)
        return ids

    def _spaced_edges(self, chunks: list[str], split: list[tuple[str, ...]]) -> np.ndarray:
        """Per new chunk: where the matcher found a run in it (``affixes.MatchedTokens``), ``MATCHED`` and the
        ``_Compiled.spaced_edges`` of its tokens before the merge; else 0 (its tokens are those spaCy's matcher sees,
        and the ids test of ``_spaced_merged`` finds any case that crosses it)."""
        matched = np.fromiter(map(_is_matched, map(type, split)), dtype=bool, count=len(split))
        edges = matched.astype(np.uint8) * np.uint8(MATCHED)
        if matched.any():
            rules = affix_rules(self.segmenter)
            starts, ends = rules.spaced_edge_texts()
            for i in np.flatnonzero(matched).tolist():
                if chunks[i].endswith(starts) or chunks[i].startswith(ends):  # (else no case's tokens can cross it)
                    edges[i] |= rules.spaced_edges(affix_split(chunks[i], rules, merge=False))
            self.open_chunks += int(np.count_nonzero(edges & 3))
        return edges

    def spaced_pairs(self) -> _SpacedPairs | None:
        """The lookup of the spaced special cases' first two tokens (``self.spaced``) by token id, None while no
        case has both seen. Built again only while some of those tokens are unseen and the vocabulary has grown
        (a text holding them has added them to it before this is asked)."""
        if self._spaced_ids is None:
            self._spaced_ids = _SpacedPairs(self.spaced)
        pairs = self._spaced_ids
        if pairs.missing and pairs.seen != self.n_tokens:
            pairs.look_up(self.token_id, self.n_tokens)
        return pairs if pairs.table is not None else None

    def __len__(self) -> int:
        """Distinct chunks seen."""
        return len(self.table) if self.table is not None else len(self.chunk_ids)

    @property
    def n_tokens(self) -> int:
        """Distinct tokens seen."""
        return len(self.token_table) if self.token_table is not None else len(self.tokens or ())

    def token_id(self, token: str) -> int:
        """The id of ``token``, or -1 when no chunk seen so far had it."""
        if self.token_table is not None:
            return self.token_table.find(token)
        return self.token_ids.get(token, -1) if self.token_ids is not None else -1

    def token_strings(self, ids: np.ndarray) -> list[str]:
        """The tokens of these ids, in order."""
        if self.token_table is not None:
            return self.token_table.strings(np.ascontiguousarray(ids, dtype=np.int64))
        return list(map((self.tokens or []).__getitem__, ids.tolist()))

    def nbytes(self) -> int:
        """Bytes held by the compiled tables and numpy columns (not the dict and list of the fallback or of
        jieba's token dict): what the probe and the memory test watch. The chunk dict of the segmenters that keep
        whitespace inside a chunk (``CHUNK_CUT``), where no compiled table holds them, is estimated (its table, a
        str header and two bytes a character per chunk: their scripts are in the BMP), so that ``trim_cache`` bounds
        what a worker keeps of them too."""
        tables = sum(t.nbytes for t in (self.table, self.token_table) if t is not None)
        if self.cut is not None and self.table is None:
            tables += sys.getsizeof(self.chunk_ids) + 76 * len(self.chunk_ids) + 2 * self.chars
        tables += sum(entry[3].nbytes for entry in self._wanted.values())
        return tables + sum(c.data.nbytes for c in (self.chunk_first, self.chunk_count, self.flat, self.key,
                                                    self.length, self.flags))

    def chunk_ids_of(self, text: str, lines: bool = False, by_line: bool = False
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """Ids of ``text``'s whitespace chunks (``str.split()``; ``joined_chunks`` for the segmenters of
        ``CHUNK_CUT``), with the tables updated for new ones, and with ``lines`` and the chunk table also the
        number of chunks on each line of ``text.splitlines()`` (else None)."""
        ids, per_line = self._chunk_ids(text, lines, by_line)
        return (np.frombuffer(ids, _I64) if isinstance(ids, bytes) else ids,
                None if per_line is None else np.frombuffer(per_line, _I64))

    def _chunk_ids(self, text: str, lines: bool, by_line: bool = False) -> tuple[bytes | np.ndarray, bytes | None]:
        """``chunk_ids_of`` with the chunk table's int64 bytes as they come (``_tokenize`` hands them to
        ``_tokens.expand`` without a numpy array). ``by_line``: no chunk spans two lines (``tokenize_by_line``)."""
        if self.cut is not None:
            if self.table is None:
                return self._joined_chunk_ids(text, lines, by_line)
            # the same chunks in one compiled scan (issue 13: the dict path cost Hindi ~4x its warm time); counts
            # per line where no chunk can span a line, as ``_joined_chunk_ids`` gives them
            ids, new, per_line = self.table.lookup(text, lines and (by_line or self.segmenter not in SPANS_LINES),
                                                   True, self.keep_in_line if by_line else self.keep)
            self.chunk_ids.new = new
            self.flush()
            return ids, per_line
        if self.table is not None:
            # where the segmenter interns from the chunk table's stored code points, new chunks never become str
            entries = self.token_table is not None and self.segmenter in _ENTRY_INTERNING
            ids, new, per_line = self.table.lookup(text, lines, not entries)
            if entries:
                self._flush_entries(len(self.table) - new)
            else:
                self.chunk_ids.new = new
                self.flush()
            return ids, per_line
        chunks = text.split()
        ids = np.fromiter(map(self.chunk_ids.__getitem__, chunks), np.int64, len(chunks))
        self.flush()
        return ids, None  # line counts only where they come for free (C4 counts them itself)

    def _joined_chunk_ids(self, text: str, lines: bool, by_line: bool) -> tuple[np.ndarray, bytes | None]:
        """Ids of ``text``'s chunks where some whitespace joins two chunks (``CHUNK_CUT``), with the number of
        chunks on each line of ``text.splitlines()`` when ``lines`` and no chunk can span a line: the fallback
        where ``_chunks`` is not built, and the reference the compiled cut (``CHUNK_KEEP``) is tested against."""
        per_line = None
        if by_line or self.segmenter not in SPANS_LINES:
            chunks, counts = [], []
            for line in text.splitlines():
                line_chunks = joined_chunks(line, self.cut)
                chunks += line_chunks
                counts.append(len(line_chunks))
            per_line = np.array(counts, dtype=np.int64).tobytes() if lines else None
        else:
            chunks = joined_chunks(text, self.cut)
        ids = np.fromiter(map(self.chunk_ids.__getitem__, chunks), np.int64, len(chunks))
        self.flush()
        return ids, per_line

    def _check_int32(self, more_tokens: int) -> None:
        if self.flat.size + more_tokens >= 2**31:  # a single text of over 2**31 tokens: not met in practice
            raise OverflowError(f"the word vocabulary would hold {self.flat.size + more_tokens:,} token ids")

    def _flush_entries(self, first: int) -> None:
        """Segment and intern the chunks the chunk table added from id ``first`` on, read from its stored code
        points (``_ENTRY_INTERNING``): no str per new chunk, none per new token (issue 13, eighth pass)."""
        if first == len(self.table):
            return
        self.chars += self.table.chars(first)
        first_new = self.key.size  # tokens held before: the new ones get the next ids
        flat_ids, per_chunk, _ = _ENTRY_INTERNING[self.segmenter](self.table, first, self.token_table)
        self._add_interned(flat_ids, per_chunk, first_new)

    def _add_interned(self, flat_ids: bytes, per_chunk: bytes, first_new: int) -> None:
        """Add the compiled interning's token ids and tokens per chunk (int64 bytes) of a batch of new chunks,
        and the columns of the tokens the token table added from id ``first_new`` on."""
        self._check_int32(len(flat_ids) // 8)
        if _tokens is None:
            self.flat.extend(np.frombuffer(flat_ids, dtype=np.int64))
            self._add_chunks(np.frombuffer(per_chunk, dtype=np.int64), first_new, [])
            return
        # the same in two compiled calls (issue 13, eleventh pass: the numpy steps here were ~25 calls per
        # document, ~10,000 instructions each on arrays of a few hundred items)
        n_ids, n_chunks = len(flat_ids) // 8, len(per_chunk) // 8
        for column, more in ((self.flat, n_ids), (self.chunk_first, n_chunks), (self.chunk_count, n_chunks)):
            column.reserve(more)
        _tokens.add_chunks(self.flat.data, self.chunk_first.data, self.chunk_count.data, self.flat.size,
                           self.chunk_first.size, flat_ids, per_chunk)
        self.flat.size += n_ids
        self.chunk_first.size += n_chunks
        self.chunk_count.size += n_chunks
        n = len(self.token_table) - first_new
        if not n:
            return
        if self.length.size != first_new:
            raise AssertionError(f"token columns hold {self.length.size} tokens, the table {first_new}")
        lengths, is_alpha = self.token_table.columns(first_new)
        for column in (self.key, self.length, self.flags):
            column.reserve(n)
        # keys, lengths and letter bits in one call (``token_keys`` of each document's new ids was a dozen numpy
        # calls, ~95,000 instructions per zhwiki article)
        others = _tokens.add_tokens(self.key.data, self.length.data, self.flags.data, first_new, lengths, is_alpha,
                                    ALPHA)
        for column in (self.key, self.length, self.flags):
            column.size += n
        if others:  # the tokens that are not letters only, classified one by one as str (``_add_chunks``)
            flags = self.flags._memory
            for i, token in zip(memoryview(others).cast("q"), self.token_table.strings(others)):
                flags[i] = _flags(token)

    def flush(self) -> None:
        """Split the chunks queued since the last flush and add them and their new tokens to the tables."""
        chunks = self.chunk_ids.new
        if not chunks:
            return
        self.chunk_ids.new = []
        self.chars += sum(map(len, chunks))
        token_ids = self.token_ids
        first_new = self.key.size  # tokens held before this flush: the new ones get the next ids
        split = self.split_many(chunks)
        if self.spaced:  # the new chunks a spaced case may cross, hidden by the matcher's merge inside them
            self.chunk_matched.extend(self._spaced_edges(chunks, split))
        if self.token_table is not None:  # one table probe per token, in C (Chinese: ``_flush_entries``)
            flat_ids, per_chunk, _ = _chunks.intern_split(split, self.token_table)
            self._add_interned(flat_ids, per_chunk, first_new)
            return
        counts = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        flat = list(chain.from_iterable(split))
        self._check_int32(len(flat))
        # the tokens not seen before, in first-seen order, get the next ids in one update
        new = [t for t in dict.fromkeys(flat) if t not in token_ids]
        token_ids.update(zip(new, range(len(token_ids), len(token_ids) + len(new))))
        self.flat.extend(np.fromiter(map(token_ids.__getitem__, flat), dtype=np.int64, count=len(flat)))
        self._add_chunks(counts, first_new, new)

    def _add_chunks(self, counts: np.ndarray, first_new: int, new: list[str]) -> None:
        """Add the new chunks' places in ``flat`` (their tokens per chunk, ``counts``: the last ones there) and the
        columns of the new tokens (ids from ``first_new`` on; ``new``: their str, where no token table holds them)."""
        self.chunk_first.extend(self.flat.size - counts.sum() + np.cumsum(counts) - counts)
        self.chunk_count.extend(counts)
        self._add_token_columns(first_new, new)

    def _add_token_columns(self, first_new: int, new: list[str]) -> None:
        """The key, length and class columns of the tokens added from id ``first_new`` on (``new``: their str,
        where no token table holds them)."""
        n = len(self.token_table) - first_new if self.token_table is not None else len(new)
        if n:
            if self.tokens is not None:
                self.tokens += new
            self.key.extend(token_keys(np.arange(first_new, first_new + n, dtype=np.int64)))
            if self.token_table is not None:  # length and str.isalpha of each new token from the table's copy
                lengths, is_alpha = self.token_table.columns(first_new)
                self.length.extend(np.frombuffer(lengths, dtype=np.int64))
                alpha = np.frombuffer(is_alpha, dtype=bool)
            else:
                self.length.extend(np.fromiter(map(len, new), dtype=np.int64, count=n))
                alpha = np.fromiter(map(str.isalpha, new), dtype=bool, count=n)
            # most new tokens are letters only (``_flags``' first case): classify the others one by one, as str
            flags = np.where(alpha, np.uint8(ALPHA), np.uint8(0))
            others = np.flatnonzero(~alpha)
            if len(others):
                odd = (self.token_table.strings(others + first_new) if self.token_table is not None
                       else compress(new, (~alpha).tolist()))
                flags[others] = np.fromiter(map(_flags, odd), dtype=np.uint8, count=len(others))
            self.flags.extend(flags)


# The vocabulary starts afresh beyond this many distinct chunks, or characters in them (bounded memory:
# documents full of long unique chunks, such as base64 or minified code, would otherwise grow it fast).
MAX_CHUNKS = 500_000
MAX_CHUNK_CHARS = 32_000_000
# How each segmenter splits one whitespace-free chunk (``pipeline.filters.segment``): one vocabulary per
# segmenter, because the same chunk has different tokens in a whitespace language and in Chinese.
_SPLITTERS = {WHITESPACE: _split_chunk, JIEBA: jieba_split,
              SUDACHI: sudachi_split,
              **{name: partial(spaced_split, fallback=_split_chunk, segmenter=name) for name in SPACED},
              **{name: partial(affix_segment, segmenter=name) for name in AFFIX_SEGMENTERS}}
# Korean, Thai, the Indic languages, Khmer, Lao and Burmese: the libraries FineWeb-2 counted their words with
# (``segment_lib``)
_SPLITTERS.update({KIWI: kiwi_split, THAI: thai_split, INDIC: indic_split, INDIC_URDU: urdu_split,
                   KHMER: khmer_split, LAO: lao_split, BURMESE: burmese_split, VIETNAMESE: vietnamese_split})
# Segmenters that split a batch of chunks faster than one by one (one call into rjieba for all of them).
_MANY_SPLITTERS = {JIEBA: jieba_split_many, KIWI: kiwi_split_many}
# Segmenters that split and intern a batch of new chunks in compiled code (where ``_chunks`` is built), read
# from the chunk table's entries (``_Vocabulary._flush_entries``), ids from a compiled token table: the token
# ids, tokens per chunk and number of new tokens that ``_chunks.intern_split`` of their split would give, for
# the chunks ``chunk_table[first:]``, which never became str.
_ENTRY_INTERNING = {JIEBA: jieba_entry_token_ids}
_is_matched = partial(operator.is_, MatchedTokens)  # of a split's type: the matcher found a run in the chunk
MATCHED = 4  # ``_Vocabulary.chunk_matched``: the matcher found a run in the chunk (bits 1, 2: ``spaced_edges``)
_ARRAYS = ("key", "length", "flags", "ids", "line")  # what a deferred Tokens makes on first use
_generations = count(1)  # unique over all vocabularies, so tokens name the one they index
_vocabularies: dict[str, _Vocabulary] = {}


def _full(vocabulary: _Vocabulary, pending_chars: int = 0) -> bool:
    """True when ``vocabulary`` (with ``pending_chars`` characters of looked-up chunks not yet flushed) is
    renewed before the next document."""
    return len(vocabulary) > MAX_CHUNKS or vocabulary.chars + pending_chars > MAX_CHUNK_CHARS


def _current(segmenter: str = WHITESPACE) -> _Vocabulary:
    """The segmenter's vocabulary, started afresh when full; only called between documents."""
    vocabulary = _vocabularies.get(segmenter)
    if vocabulary is None or _full(vocabulary):
        if segmenter not in _SPLITTERS:
            raise ValueError(f"unknown segmenter {segmenter!r}; known: {sorted(_SPLITTERS)}")
        vocabulary = _vocabularies[segmenter] = _Vocabulary(next(_generations), segmenter)
    return vocabulary


# What a worker keeps of the vocabularies between tasks: at most this many bytes together
# (``_Vocabulary.nbytes``), so that what it keeps does not grow with the number of tasks it ran (issue 19: kept
# up to ``MAX_CHUNKS``, ~60 MB, a filter worker's heap under its largest task at 100x the demo was 72-86 MiB
# against ~40 at 1x). Why not empty them after every task: each task then splits again the frequent chunks
# every shard has, and the filter stage took 1.08x main's CPU; with 8 MiB kept 1.045x, 16 MiB 1.00x, 4 MiB
# 1.08x (10x corpus, medians of 6 alternating runs, bench/README.md, worker memory). Why 8 MiB and not 16:
# it is about what a worker of the 1x run holds anyway (57,650 chunks, ~7 MB, ~120 bytes each), so a 1x
# and a 100x worker keep the same; 16 MiB would hold a 100x worker's whole vocabulary, as before.
KEEP_BYTES = 8 << 20


@clear_after_each_task
def trim_cache() -> None:
    """Drop vocabularies, the largest first, until they hold at most ``KEEP_BYTES`` together (called when a
    task ends, by ``pipeline.memory.finished_task``): a worker keeps at most that much of them between tasks,
    and one task's new chunks on top of it while a task runs."""
    held = sorted(((vocabulary.nbytes(), segmenter) for segmenter, vocabulary in _vocabularies.items()),
                  reverse=True)
    total = sum(size for size, _ in held)
    for size, segmenter in held:
        if total <= KEEP_BYTES:
            break
        del _vocabularies[segmenter]
        total -= size


def clear_cache() -> None:
    """Forget every chunk seen (benchmarks measure a cold start with it)."""
    _vocabularies.clear()


# The token lru_caches are bounded by their size whatever the number of tasks: kept for the step's tasks,
# dropped when the worker moves on to another step (``pipeline.memory.clear_between_steps``), as is the
# vocabulary.
for _clear in (clear_cache, is_symbol.cache_clear, has_alpha.cache_clear):
    clear_between_steps(_clear)


def split_words(text: str, segmenter: str = WHITESPACE) -> list[str]:
    """Words and punctuation tokens of ``text``, in order (whitespace dropped), as ``segmenter`` splits
    them (``pipeline.filters.segment``)."""
    vocabulary = _current(segmenter)  # the one these ids index, even if this text fills it
    return vocabulary.token_strings(_tokenize(vocabulary, text).ids)


class Tokens:
    """The tokens of one text as parallel numpy arrays: what the word filters count, without strings.

    ``key`` identifies the token in its vocabulary (``token_keys`` of its id: equal tokens, equal keys;
    n-grams hash these), ``length`` its characters, ``flags`` its class bits (SYMBOL, ALPHA, TERMINAL, PUNCT, MARK); ``ids`` index the vocabulary of
    ``generation``. Line numbers are made only for the filter that needs them (C4), from the tokens per
    whitespace chunk (``chunk_count``) and the chunks per line, unless ``line`` is already known.

    Tokens that C4 hands on (``select``, ``with_lines``) are *deferred*: their length is known, their arrays
    are made on first use. In the default chains the filter after C4 (FineWeb) only asks how many there are,
    and making the arrays was four masked copies per token (issue 13: Chinese has 2.7x English's tokens per
    character, so such per-token copies cost it most).
    """

    __slots__ = ("key", "length", "flags", "ids", "generation", "chunk_count", "line", "chunks_per_line",
                 "_size", "_make", "_word_stats", "_line_stats")

    def __init__(self, key: np.ndarray, length: np.ndarray, flags: np.ndarray, ids: np.ndarray,
                 generation: int, chunk_count: np.ndarray | None, line: np.ndarray | None = None,
                 chunks_per_line: np.ndarray | None = None) -> None:
        self.key, self.length, self.flags, self.ids, self.generation = key, length, flags, ids, generation
        self.chunk_count, self.line = chunk_count, line
        self.chunks_per_line = chunks_per_line  # per line of the text's splitlines(), when known
        self._size, self._make, self._word_stats, self._line_stats = len(key), None, None, None

    @classmethod
    def deferred(cls, size: int, generation: int, make: Callable[[], Tokens]) -> Tokens:
        """``size`` tokens of vocabulary ``generation`` whose arrays ``make()`` returns when first used."""
        tokens = cls.__new__(cls)
        tokens.generation, tokens.chunk_count, tokens.chunks_per_line = generation, None, None
        tokens._size, tokens._make, tokens._word_stats, tokens._line_stats = size, make, None, None
        return tokens

    def __getattr__(self, name: str) -> Any:
        """Only called for an unset slot: the arrays of deferred tokens, made now."""
        make = self._make if name in _ARRAYS else None
        if make is None:
            raise AttributeError(name)
        made = make()
        if len(made) != self._size:
            raise AssertionError(f"deferred tokens: {len(made)} made, {self._size} announced")
        for attribute in _ARRAYS:
            setattr(self, attribute, getattr(made, attribute))
        self._make = None
        return getattr(self, name)

    def __len__(self) -> int:
        return self._size

    def lines(self, chunks_per_line: list[int]) -> np.ndarray:
        """Line number of each token, given how many whitespace chunks each line of the text holds."""
        if self.line is None:
            chunk_line = np.repeat(np.arange(len(chunks_per_line)), chunks_per_line)
            self.line = chunk_line if self.chunk_count is None else np.repeat(chunk_line, self.chunk_count)
        return self.line

    def word_stats(self) -> tuple[int, int, int]:
        """(tokens that are words (not SYMBOL), their characters, tokens with a letter (ALPHA)): Gopher
        quality's counts, in one compiled pass where ``_tokens`` is built."""
        if self._word_stats is None:
            flags = self.flags
            if _tokens is not None:
                self._word_stats = _tokens.word_stats(flags, np.ascontiguousarray(self.length, dtype=np.int64),
                                                      SYMBOL, ALPHA)
            else:
                is_word = (flags & SYMBOL) == 0
                self._word_stats = (int(np.count_nonzero(is_word)), int(self.length[is_word].sum()),
                                    int(np.count_nonzero(flags & ALPHA)))
        return self._word_stats

    def line_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(words (tokens without MARK: C4's words of an unspaced line), tokens, sentences) of each line of the text's
        splitlines(), counted from the tokens in
        one compiled pass (``sentences_per_line`` and a ``bincount`` of words, without each token's line
        number); None where that cannot be done (no ``_tokens``, chunks per line unknown, or line numbers
        already given, as for tokens C4 handed on): the caller then counts with numpy."""
        if self._line_stats is None:
            if _tokens is None or self.chunks_per_line is None or self.line is not None:
                return None
            chunk_count = None if self.chunk_count is None else np.ascontiguousarray(self.chunk_count, np.int64)
            raw = _tokens.line_stats(np.ascontiguousarray(self.flags, np.uint8), chunk_count,
                                     np.ascontiguousarray(self.chunks_per_line, np.int64), MARK, TERMINAL, PUNCT)
            self._line_stats = tuple(np.frombuffer(r, _I64) for r in raw)
        return self._line_stats

    def select(self, mask: np.ndarray, line: np.ndarray) -> Tokens:
        """The tokens where ``mask`` holds, with their (new) line numbers."""
        return Tokens(self.key[mask], self.length[mask], self.flags[mask], self.ids[mask], self.generation,
                      None, line)

    def select_lines(self, new_number: np.ndarray, chunks_per_line: list[int], size: int) -> Tokens:
        """The tokens of the lines whose ``new_number`` is not -1, renumbered so, deferred: ``size`` is how
        many they are (the caller counted them per line)."""
        def make() -> Tokens:
            new_line = new_number[self.lines(chunks_per_line)]
            keep = new_line >= 0
            return self.select(keep, new_line[keep])
        return Tokens.deferred(size, self.generation, make)

    def with_lines(self, lines: list[tuple[int, Tokens]]) -> Tokens | None:
        """These tokens (with line numbers) and the tokens of more lines, each given with its line number,
        in line order: the tokens of a text some of whose lines were rewritten. None when a line's tokens
        index another vocabulary (renewed in between): the caller then splits the whole text again. The
        result is deferred (its arrays made on first use)."""
        if not lines:
            return self
        if any(t.generation != self.generation for _, t in lines):
            return None

        def make() -> Tokens:
            parts = [self] + [t for _, t in lines]
            line = np.concatenate([self.line] + [np.full(len(t), n, dtype=np.int64) for n, t in lines])
            order = np.argsort(line, kind="stable")  # a line's tokens keep their order
            key, length, flags, ids = (np.concatenate([getattr(p, name) for p in parts])[order]
                                       for name in ("key", "length", "flags", "ids"))
            return Tokens(key, length, flags, ids, self.generation, None, line[order])
        return Tokens.deferred(len(self) + sum(len(t) for _, t in lines), self.generation, make)

    def count_present(self, words: Iterable[str]) -> int | None:
        """How many of the distinct ``words`` occur as tokens (exact: compares vocabulary ids); None when
        the vocabulary was renewed since these tokens were made (the caller then compares strings)."""
        vocabulary = next((v for v in _vocabularies.values() if v.generation == self.generation), None)
        if vocabulary is None:
            return None
        positions = vocabulary.wanted_positions(words if isinstance(words, tuple) else tuple(words))
        if not len(positions) or not len(self.ids):  # no word of the list seen yet, or no tokens
            return 0
        ids = self.ids
        if _tokens is not None and ids.dtype == np.int64 and ids.flags.c_contiguous:  # the numpy below in one pass
            return _tokens.count_present(ids, positions)
        hit = positions[ids[ids < len(positions)]]
        return int(np.count_nonzero(np.bincount(hit[hit >= 0], minlength=1)))


def tokenize(text: str, segmenter: str = WHITESPACE) -> Tokens:
    """``split_words(text, segmenter)`` as arrays (same tokens, same order)."""
    return _tokenize(_current(segmenter), text)


def tokenize_many(texts: list[str], segmenter: str = WHITESPACE) -> list[Tokens]:
    """``[tokenize(text, segmenter) for text in texts]``, the same tokens and ids, made together: every text's
    chunks looked up first, then the new chunks of all of them segmented and interned in one call (jieba; the
    whitespace segmenters every ``_FLUSH_CHUNKS`` new chunks), then each text's tokens expanded. Why: between documents the rest of the filter chain (n-grams, interning, other
    filters) evicted jieba's dictionary from the core's L2, and the cut cost ~37 ns per Chinese character in
    the chain against ~8 with warm caches (bench/README.md, issue 13, zh28); one cut over a batch's new chunks
    keeps it hot. The new chunks get their ids in the same order as one text at a time, and the vocabulary is
    renewed before the same text (``_full``)."""
    if _chunks is None or _tokens is None:  # the fallbacks split and intern one text at a time
        return [tokenize(text, segmenter) for text in texts]
    out: list[Tokens] = []
    while len(out) < len(texts):
        out += _tokenize_run(_current(segmenter), texts, len(out))
    return out


# Where new chunks come as str (the whitespace segmenters: no compiled cut to keep hot), they are split and
# interned every this many: all of a megacharacter batch's at once kept ~10^5 str and tuples alive, which the
# cycle collector traversed (+4 % of English's tokenizing instructions, callgrind).
_FLUSH_CHUNKS = 4096


def _tokenize_run(vocabulary: _Vocabulary, texts: list[str], start: int) -> list[Tokens]:
    """The tokens of ``texts[start:]`` up to the text before which ``vocabulary`` is full (at least one)."""
    v, looked = vocabulary, []
    entries = v.token_table is not None and v.segmenter in _ENTRY_INTERNING
    first, pending_chars, new_chunks = len(v.table), 0, []
    lines = v.segmenter not in SPANS_LINES  # counts per line where no chunk can span two (``_Vocabulary._chunk_ids``)
    try:
        for text in texts[start:]:
            if looked and _full(v, pending_chars):  # one text at a time would renew it before this one
                break
            held = len(v.table)
            chunk_ids, new, per_line = v.table.lookup(text, lines, not entries, v.keep)
            looked.append((chunk_ids, per_line))
            if new:  # a count (entries) or a list of str
                pending_chars += v.table.chars(held)
                if not entries:
                    new_chunks += new
                    if len(new_chunks) >= _FLUSH_CHUNKS:
                        v.chunk_ids.new, new_chunks, pending_chars = new_chunks, [], 0
                        v.flush()
        if entries:
            v._flush_entries(first)
        else:
            v.chunk_ids.new = new_chunks
            v.flush()
    except BaseException:  # as in ``_tokenize``: a vocabulary updated part way is not used again
        if _vocabularies.get(v.segmenter) is v:
            del _vocabularies[v.segmenter]
        raise
    out = [_expand(v, chunk_ids, per_line) for chunk_ids, per_line in looked]
    if v.spaced:
        out = [_spaced_merged(v, text, tokens, chunk_ids)
               for text, tokens, (chunk_ids, _) in zip(texts[start:], out, looked)]
    return out


def _expand(v: _Vocabulary, chunk_ids: bytes, per_line: bytes | None) -> Tokens:
    """The Tokens of a text's chunk ids (the chunk table's int64 bytes) in one compiled pass (``_tokens``)."""
    ids, key, length, flags, chunk_count = _tokens.expand(
        chunk_ids, v.chunk_first.filled(), v.chunk_count.filled(), v.flat.filled(), v.key.filled(),
        v.length.filled(), v.flags.filled())
    return Tokens(np.frombuffer(key, _U64), np.frombuffer(length, _I64), np.frombuffer(flags, _U8),
                  np.frombuffer(ids, _I64), v.generation,
                  None if chunk_count is None else np.frombuffer(chunk_count, _I64),
                  chunks_per_line=None if per_line is None else np.frombuffer(per_line, _I64))


def tokenize_by_line(text: str, segmenter: str = WHITESPACE) -> Tokens:
    """``tokenize(text, segmenter)``, but with no chunk spanning two lines, and with the chunks per line: the
    words of each line on its own, as datatrove's C4 filter tokenizes each line. The same as ``tokenize`` but
    for the segmenters whose chunks can hold a line break (``segment_lib.SPANS_LINES``: Indic, Khmer)."""
    return _tokenize(_current(segmenter), text, segmenter in SPANS_LINES)


def _tokenize(vocabulary: _Vocabulary, text: str, by_line: bool = False) -> Tokens:
    try:
        if _tokens is not None:  # the chunk table's int64 bytes as they come, handed to ``_tokens.expand``
            chunk_ids, per_line = vocabulary._chunk_ids(text, True, by_line)
        else:
            chunk_ids, chunks_per_line = vocabulary.chunk_ids_of(text, lines=True, by_line=by_line)
    except BaseException:  # the update may have stopped part way, the chunk table ahead of the columns:
        # dropped, not kept for later documents with wrong ids (a try costs nothing when nothing is raised)
        if _vocabularies.get(vocabulary.segmenter) is vocabulary:
            del _vocabularies[vocabulary.segmenter]
        raise
    if _tokens is not None:  # the numpy path below in one compiled pass, without its temporary arrays
        tokens = _expand(vocabulary, chunk_ids, per_line)
        return _spaced_merged(vocabulary, text, tokens, chunk_ids) if vocabulary.spaced else tokens
    # the columns are int32 (``_Vocabulary``): the arrays handed on are int64, as they always were
    counts = vocabulary.chunk_count.data[chunk_ids].astype(np.int64)
    first = vocabulary.chunk_first.data[chunk_ids].astype(np.int64)
    if len(chunk_ids) and counts.min() == counts.max() == 1:
        ids, chunk_count = vocabulary.flat.data[first].astype(np.int64), None  # None: one token per chunk
    else:  # expand each chunk to its tokens: positions first[c], first[c] + 1, ...
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(chunk_ids) else 0
        ids = vocabulary.flat.data[np.repeat(first - ends + counts, counts) + np.arange(total)].astype(np.int64)
        chunk_count = counts
    tokens = Tokens(vocabulary.key.data[ids].view(np.uint64), vocabulary.length.data[ids],
                    vocabulary.flags.data[ids], ids, vocabulary.generation, chunk_count,
                    chunks_per_line=chunks_per_line)
    return _spaced_merged(vocabulary, text, tokens, chunk_ids) if vocabulary.spaced else tokens


def _spaced_merged(v: _Vocabulary, text: str, tokens: Tokens, chunk_ids: bytes | np.ndarray) -> Tokens:
    """``tokens`` with spaCy's special cases that hold a space merged across chunks ("и", "др", "." is "и др.",
    ``pipeline.filters.spaced_specials``), and spaCy's matcher run across the chunks where it matters.

    spaCy's matcher runs once over the whole text's tokens as the affix rules left them; the vocabulary keeps each
    chunk's tokens after the matcher ran on that chunk alone. The two differ only near a case that holds a space
    (whose first two tokens stand side by side, the text holding its text) or near a chunk in which the matcher
    found a run (``affixes.MatchedTokens``: its tokens before the merge are what spaCy's matcher sees). Most texts
    have neither (one compiled pass over the ids, one look-up of the chunks); at each such place the matcher runs
    again over a window of whole chunks (``affixes.special_runs``), the marked chunks split afresh without their
    merge, and the window's tokens are replaced where the result differs. A merged token counts as its first
    chunk's, so the chunks per line stay the text's."""
    ids = tokens.ids
    if len(ids) < 2:
        return tokens
    chunk_ids = np.frombuffer(chunk_ids, dtype=np.int64) if isinstance(chunk_ids, bytes) else chunk_ids
    edges = v.chunk_matched.data[chunk_ids] if v.open_chunks else None
    # (a chunk a case can cross holds MATCHED and an edge bit: above MATCHED)
    marked = np.flatnonzero(edges & 3) if edges is not None and len(edges) and edges.max() > MATCHED else ids[:0]
    pairs = v.spaced_pairs()
    starts = pairs.starts(ids) if pairs is not None else ids[:0]
    if len(starts) and not any(case.key in text for case in pairs.cases_at(ids, starts)):  # type: ignore[union-attr]
        starts = ids[:0]  # (a merge across chunks spells a case: its text is in the text)
    if not len(starts) and not len(marked):
        return tokens
    n_chunks = len(chunk_ids)
    chunk_count = (np.ones(len(ids), dtype=np.int64) if tokens.chunk_count is None
                   else np.array(tokens.chunk_count, dtype=np.int64))
    one_space = one_space_gaps(text)
    if len(one_space) + 1 != n_chunks or len(chunk_count) != n_chunks or int(chunk_count.sum()) != len(ids):
        return tokens  # not ``str.split()``'s chunks (no affix segmenter cuts otherwise)
    if len(marked):  # a marked chunk matters where a case can cross into its neighbour, one space away
        left = (edges[marked] & 1).astype(bool) & (marked > 0)
        left[left] = one_space[marked[left] - 1]
        right = (edges[marked] & 2).astype(bool) & (marked < n_chunks - 1)
        right[right] = one_space[marked[right]]
        marked = marked[left | right]
        if not len(starts) and not len(marked):
            return tokens
    first = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(chunk_count, out=first[1:])  # first[c]: chunk c's first token
    chunk_of = np.repeat(np.arange(n_chunks), chunk_count)
    rules = affix_rules(v.segmenter)
    reach = max(max(len(case.pattern) for case in v.spaced), rules.max_special_chars)  # a run's most tokens
    # windows of whole chunks around each place, overlapping ones joined
    spans = sorted([(int(s), int(s) + reach) for s in starts.tolist()]
                   + [(int(first[c]) - reach, int(first[c + 1]) + reach) for c in marked.tolist()])
    windows: list[list[int]] = []
    for a, b in spans:
        lo, hi = int(chunk_of[max(a, 0)]), int(chunk_of[min(b, len(ids)) - 1])
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    chunks: list[str] | None = None  # the text's, for the chunks the matcher found runs in (split again)
    changes = []  # (first token, end token, new token strings, their chunks)
    for lo, hi in windows:  # chunks lo..hi
        a, b = int(first[lo]), int(first[hi + 1])
        seen = v.token_strings(ids[a:b])
        before, owner, glue = [], [], []
        for c in range(lo, hi + 1):
            if edges is not None and edges[c] & MATCHED:  # what spaCy's matcher sees of it: its tokens before the merge
                chunks = text.split() if chunks is None else chunks
                split = affix_split(chunks[c], rules, merge=False)
            else:
                split = seen[first[c] - a:first[c + 1] - a]
            if before:
                glue.append(ONE_SPACE if one_space[c - 1] else None)
            glue += [""] * (len(split) - 1)
            before += split
            owner += [c] * len(split)
        runs, _ = special_runs(before, rules, glue)
        after, after_owner, at = [], [], 0
        for start, end, new in runs:
            after += before[at:start] + list(new)
            after_owner += owner[at:start] + [owner[start]] * len(new)
            at = end
        after += before[at:]
        after_owner += owner[at:]
        if after != seen or after_owner != chunk_of[a:b].tolist():
            changes.append((a, b, after, after_owner))
    if not changes:
        return tokens
    pieces, at = [], 0
    for a, b, after, after_owner in changes:
        pieces += [ids[at:a], v.intern(tuple(after))]
        np.subtract.at(chunk_count, chunk_of[a:b], 1)
        np.add.at(chunk_count, after_owner, 1)
        at = b
    merged = np.concatenate(pieces + [ids[at:]])
    return Tokens(v.key.data[merged].view(np.uint64), v.length.data[merged], v.flags.data[merged], merged,
                  v.generation, chunk_count, chunks_per_line=tokens.chunks_per_line)


def sentences_per_line(tokens: Tokens, line: np.ndarray, n_lines: int) -> np.ndarray:
    """``c4.count_sentences`` of each line's tokens (``line``: each token's line number), all at once.

    A line has one sentence plus one per non-punctuation token that follows a terminal mark seen since
    the line's previous non-punctuation token (or its start).
    """
    flags = tokens.flags
    terminal = (flags & TERMINAL) != 0
    starts = np.flatnonzero(~terminal & ((flags & PUNCT) == 0))  # tokens that can start a sentence
    before = np.zeros(len(flags) + 1, dtype=np.int64)
    np.cumsum(terminal, out=before[1:])  # before[i]: terminal marks among tokens[:i]
    start_line = line[starts]
    # where to look back to: the line's first token (``line`` is sorted: the tokens of earlier lines come
    # first; counting them is one pass, where ``np.searchsorted`` was a binary search per token) ...
    line_first = np.zeros(n_lines + 1, dtype=np.int64)
    np.cumsum(np.bincount(line, minlength=n_lines), out=line_first[1:])
    since = line_first[start_line]
    follows = np.flatnonzero(start_line[1:] == start_line[:-1]) + 1  # not the line's first such token
    since[follows] = starts[follows - 1] + 1  # ... or just after the previous such token
    new = before[starts] > before[since]
    return 1 + np.bincount(start_line[new], minlength=n_lines)
