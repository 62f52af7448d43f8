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

# Order matters: the first alternative that matches at a position wins. Each one mirrors a spaCy English
# tokenizer behaviour that changes counts on real pages (measured with bench/filter_agreement.py).
_ALTERNATIVES = r"""
    (?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]   # URLs are one token
  | (?:[^\W\d_]\.){2,}(?![^\W\d_])    # abbreviations with inner dots: U.S., e.g., i.e.
  | (?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Ltd|Co|Corp|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec
      |Mt|Prof|Gov|Gen|Sen|Rep|Rev|Ave|Blvd|Dept|Univ|Fig|Vol)\.(?!\w)     # common abbreviations
  | [A-HJ-Z]\.(?!\w)                    # initials: "J. Smith" (not the pronoun I)
  | \d+(?=(?:am|pm|AM|PM|[kKMGT]B?|km|kg|cm|mm|m)\b)   # a number before its unit: 5 pm, 10 GB
  | \.[A-Z]{2,}\b                      # upper-case suffixes: WEBSITE .COM
  | \d+(?:[.,:/–]\d+)+[^\W\d_]*         # numbers with separators: 3.5  1,000  10:30pm  2–3
  | [cC]an(?=not\b)                     # "can" + "not"
  | \w+?(?=[nN]['’][tT]\b)              # "do" of "don't"
  | [nN]['’][tT]\b                       # "n't"
  | ['’](?:[sSdDmM]|re|RE|ve|VE|ll|LL)\b(?!['’]\w)   # clitics 's 'd 'm 're 've 'll
  | \w+(?:\.(?=[a-z0-9])\w+)*            # words, also host names and versions: archive.org, v1.2
  | \.{2,} | -{2,} | …                  # ellipses and dashes stay one token
  | [^\w\s]                             # any other symbol: one token per character
"""
_TOKEN = re.compile(_ALTERNATIVES, re.VERBOSE)
# e-mail addresses are one token; the alternative is costly, so it is used only when a text has an "@"
_TOKEN_WITH_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+|" + _ALTERNATIVES, re.VERBOSE)


_SPLIT_WORDS = frozenset({"cannot", "Cannot"})  # all-letter chunks that are still two tokens


def split_words(text: str) -> list[str]:
    """Words and punctuation tokens of ``text``, in order (whitespace dropped)."""
    findall = (_TOKEN_WITH_EMAIL if "@" in text else _TOKEN).findall
    out: list[str] = []
    append, extend = out.append, out.extend
    for chunk in text.split():  # no token spans whitespace; most chunks are plain words (2.4x faster)
        if chunk.isalpha() and chunk not in _SPLIT_WORDS:
            append(chunk)
        else:
            extend(findall(chunk))
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
    import regex

    pattern = regex.compile(r"\p{Sentence_Terminal}")
    return "".join(ch for ch in map(chr, range(0x110000)) if pattern.match(ch))


TERMINAL_PUNCTUATION: tuple[str, ...] = tuple(_sentence_terminals())
