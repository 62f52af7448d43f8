"""Word segmentation by language for the filters that count words, and the script of a text.

Whitespace languages keep the shared regex splitter (``pipeline.filters.words``). Languages written
without spaces need a segmenter, else a Chinese paragraph is one "word" and Gopher's word minimum, C4's
words-per-line rule and every n-gram ratio lose their meaning:

* Chinese (``zh`` and the Chinese varieties lid.176 labels ``yue``, ``wuu``): jieba's default mode
  (dictionary DAG + HMM for unknown words), run through rjieba, the Python binding of jieba-rs (jieba's
  algorithm and dictionary in Rust). Why jieba: it is the segmenter datatrove's multilingual word
  tokenizers use for Chinese (spaCy's Chinese tokenizer with ``segmenter: jieba``, which FineWeb-2 ran);
  it needs no model download and is deterministic. Why rjieba: on every run of Han characters of the
  shared Chinese texts (Hongloumeng, zhwiki, BELLE: 105,482 runs) it gives jieba's words exactly, 20x
  faster; pure-Python jieba was 95 % of the Chinese filter time. Between Han runs, a chunk splits as
  jieba does: ASCII letter-digit runs are one word, every other character is one.
* Japanese (``ja``): a character-class segmenter, our choice. A new word starts where the character class
  changes (kanji, hiragana, katakana with the prolonged-sound mark, Latin letters and digits), and each
  punctuation mark is a word. Why not a dictionary segmenter (MeCab, Sudachi, as datatrove uses): they
  need a 50-500 MB dictionary package; character classes need nothing, are fast and deterministic, and
  give word counts close enough for thresholds (a hiragana run such as "である" counts as one word, where
  a morphological analyser finds two or three).
* German (``de``): the whitespace splitter, except that a hyphenated compound ("Alt-Starkenberg",
  "25-jährigen", "E-Mail-Adresse"), a word with a suspended hyphen ("Nord-" in "Nord- und Südamerika") and
  a number with its ordinal period ("am 13. Mai") are one token each. German writes compounds with hyphens
  and dates with ordinals, and spaCy's German tokenizer, which datatrove (FineWeb-2) counts German words
  with, keeps both whole. Split the English way, every such hyphen and period was a "word" without a
  letter, and German prose fell under Gopher's 80 % of words with a letter: 3 of the 18 dewiki articles,
  which datatrove with the same thresholds kept (bench/multilingual_agreement.py).
* Languages written without spaces that neither covers (Thai, Lao, Khmer, Burmese, Tibetan): no
  segmenter; ``pipeline.filters.lang_params`` skips the word-counting rules for them instead of letting
  them remove every document.

A segmenter splits one whitespace-free chunk; the shared vocabulary of ``pipeline.filters.words`` caches
each distinct chunk's split, so a chunk is segmented once per process however often the filters ask.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Callable

import numpy as np

WHITESPACE, JIEBA, JAPANESE, GERMAN = "whitespace", "jieba", "japanese", "german"
SEGMENTERS = (WHITESPACE, JIEBA, JAPANESE, GERMAN)
UNSPACED = (JIEBA, JAPANESE)  # segmenters of scripts written without spaces (C4 counts their words per line)

# Han ideographs (unified, extension A, compatibility, extensions B+), the CJK iteration marks 々 〆 〇.
HAN = "\u3005\u3006\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HIRAGANA, KATAKANA = "\u3041-\u309f", "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN_RE = re.compile(f"[{HAN}]")
# Japanese character classes: one alternative per class, the first that matches at a position wins.
_JAPANESE_WORD = re.compile(
    f"[{HAN}]+|[{HIRAGANA}]+|[{KATAKANA}]+|[^\\W\\d_{HAN}{HIRAGANA}{KATAKANA}]+(?:['’][^\\W\\d_]+)*|\\d+(?:[.,]\\d+)*|\\S")


@lru_cache(maxsize=1)
def _rjieba_cut() -> Callable[[str, bool], list[str]]:
    """rjieba's ``cut`` (its dictionary loads once per process, on first use)."""
    import rjieba

    return rjieba.cut


# What jieba does around Han runs (its ``re_han_default`` blocks, then ``finalseg``'s ``re_skip``): an ASCII
# letter-digit run (with a decimal part and a percent sign) is one word, so is a run of the symbols its
# blocks hold (``+#&._%-``), and any other non-space character is one.
_CHINESE_PIECE = re.compile(f"([{HAN}]+)|[A-Za-z0-9]+(?:\\.\\d+)?%?|[+#&._%\\-]+|\\S")


def jieba_split(chunk: str, fallback: Callable[[str], tuple[str, ...]]) -> tuple[str, ...]:
    """Words of a whitespace-free chunk: jieba's where it holds Han characters, ``fallback`` elsewhere."""
    if not _HAN_RE.search(chunk):
        return fallback(chunk)
    cut = _rjieba_cut()
    words: list[str] = []
    for match in _CHINESE_PIECE.finditer(chunk):
        if match.group(1):
            words.extend(cut(match.group(1), True))  # hmm=True: jieba's default mode
        else:
            words.append(match.group(0))
    return tuple(words)


def japanese_split(chunk: str, fallback: Callable[[str], tuple[str, ...]]) -> tuple[str, ...]:
    """Words of a whitespace-free chunk by character class (see the module docstring)."""
    if chunk.isascii():
        return fallback(chunk)
    return tuple(_JAPANESE_WORD.findall(chunk))


# A compound starts where no word character or number separator precedes (so "3.5-4" stays a number) and
# does not run into a host name ("Kremer-Test.de"); an ordinal is a whole chunk of up to four digits and ".".
_GERMAN_WHOLE = re.compile(r"(?<![\w.,:/])[^\W_]+(?:(?:(?<!\d)-|-(?!\d))[^\W_]+)+(?!\w|\.\w|-\w)|(?<![\w.,:/-])[^\W_]+-$")
_ORDINAL = re.compile(r"\d{1,4}\.")


def german_split(chunk: str, fallback: Callable[[str], tuple[str, ...]]) -> tuple[str, ...]:
    """Words of a whitespace-free chunk: ``fallback``'s, with compounds and ordinals whole (see above)."""
    if _ORDINAL.fullmatch(chunk):
        return (chunk,)
    if "-" not in chunk or "://" in chunk or "@" in chunk or chunk.startswith("www."):
        return fallback(chunk)
    words: list[str] = []
    at = 0
    for match in _GERMAN_WHOLE.finditer(chunk):
        if match.start() > at:
            words.extend(fallback(chunk[at:match.start()]))
        words.append(match.group(0))
        at = match.end()
    if at < len(chunk):
        words.extend(fallback(chunk[at:]))
    return tuple(words)


# Dominant script: the Unicode script of most letters, by code point ranges (letters only; digits,
# punctuation and symbols do not vote). Names are ISO 15924 codes; Japanese kana vote for "Jpan" and pull
# their kanji with them, Hangul votes for "Kore", as FineWeb-2 names its language-script pairs.
_SCRIPT_RANGES: tuple[tuple[str, str], ...] = (
    ("Latn", "A-Za-z\u00c0-\u024f\u1e00-\u1eff"),
    ("Cyrl", "\u0400-\u052f"),
    ("Grek", "\u0370-\u03ff\u1f00-\u1fff"),
    ("Arab", "\u0600-\u06ff\u0750-\u077f"),
    ("Hebr", "\u0590-\u05ff"),
    ("Deva", "\u0900-\u097f"),
    ("Thai", "\u0e00-\u0e7f"),
    ("Hang", "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"),
    ("Kana", HIRAGANA + KATAKANA),
    ("Hani", HAN),
)
_SCRIPT_RES = tuple((name, re.compile(f"[{chars}]")) for name, chars in _SCRIPT_RANGES)
SCRIPT_SAMPLE = 20_000  # characters looked at: the script of a document's start decides, as its language


def script_of(text: str) -> str:
    """ISO 15924 code of the text's dominant script ("Zyyy" when it has no letters of a known script).

    Han with kana is Japanese ("Jpan": any text whose kana are at least a tenth of its Han and kana), Han
    alone is "Hani", Hangul is "Kore".
    """
    sample = text[:SCRIPT_SAMPLE]
    counts = Counter({name: len(pattern.findall(sample)) for name, pattern in _SCRIPT_RES})
    kana, han = counts.pop("Kana"), counts["Hani"]
    if kana and kana * 10 >= han + kana:
        counts["Jpan"] = han + kana
        del counts["Hani"]
    else:
        counts["Hani"] += kana
    if "Hang" in counts:
        counts["Kore"] = counts.pop("Hang")
    name, n = max(sorted(counts.items()), key=lambda kv: kv[1])
    return name if n else "Zyyy"


def scripts_of(texts: list[str]) -> np.ndarray:
    return np.array([script_of(t) for t in texts], dtype=object)
