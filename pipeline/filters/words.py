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
_CACHE: dict[str, list[str]] = {}  # chunk -> tokens; web text repeats its punctuated chunks


def _split_chunk(chunk: str) -> list[str]:
    head, last = chunk[:-1], chunk[-1]
    if head.isalpha() and head not in _SPLIT_WORDS and (
            last in _TRAILING or (last == "." and head not in ABBREVIATIONS
                                  and not (len(head) == 1 and head.isupper() and head != "I"))):
        return [head, last]  # "world,"  "end."  the regex would give the same two tokens
    if _CJK_PUNCT.search(chunk):
        return [chunk]
    return (_TOKEN_RARE if _RARE.search(chunk) else _TOKEN).findall(chunk)


def split_words(text: str) -> list[str]:
    """Words and punctuation tokens of ``text``, in order (whitespace dropped)."""
    if len(_CACHE) > 200_000:
        _CACHE.clear()
    out: list[str] = []
    append, extend, cache = out.append, out.extend, _CACHE
    for chunk in text.split():  # no token spans whitespace; most chunks are plain words (2.4x faster)
        if chunk.isalpha() and chunk not in _SPLIT_WORDS:
            append(chunk)
        else:
            tokens = cache.get(chunk)
            if tokens is None:
                tokens = cache[chunk] = _split_chunk(chunk)
            extend(tokens)
    return out


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
