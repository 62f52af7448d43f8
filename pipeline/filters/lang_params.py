"""Per-language settings of the word-counting filters: segmenter, stop words, thresholds, skipped rules.

Why per language: Gopher, C4 and FineWeb were tuned on English. With English settings a Chinese
Wikipedia article has no English stop words, a mean "word" length of a whole clause and lines of one
whitespace "word", so every rule that counts words removes it. FineWeb-2 (Penedo et al. 2025, "FineWeb2:
One Pipeline to Scale Them All") keeps the rules and changes, per language, the word tokenizer, the stop
words and the thresholds; it derives each language's values from the distribution of the signal on
reference text in that language (Wikipedia and other curated text), so that the rule removes about the
share it removes in English.

What this table holds, and where each value comes from:

* segmenter: ``pipeline.filters.segment`` (jieba for Chinese, as datatrove's multilingual tokenizers use;
  character classes for Japanese; German keeps hyphenated compounds and ordinals whole, as spaCy's German
  tokenizer does).
* stop words: Gopher's rule asks for 2 distinct words of a short list of the language's most frequent
  function words (Rae et al. 2021 list 8 for English). The lists below are the most frequent function
  words of each language (our lists, in the spirit of FineWeb-2's per-language stop words, which are the
  language's most frequent words in its reference text); Chinese lists both simplified and traditional
  forms because both occur (the shared Hongloumeng is traditional, zhwiki mixes).
* thresholds: the Gopher/C4/FineWeb defaults stay (they are what FineWeb-2 starts from and keeps for most
  Latin-script languages) except where the signal has another scale in the language. Those values were
  set here the FineWeb-2 way, from the signal's distribution on the shared zhwiki, jawiki and dewiki
  samples (tests/pipeline/filters/test_multilingual.py shows the result); they are not copied from
  FineWeb-2's published tables, which this project could not consult.
* ``SKIP`` marks a rule that has no meaning for the language: it is turned off for that language's
  documents instead of removing them (e.g. the word rules for a script without a segmenter).

A key the manifest sets explicitly for a filter (``stages.filter ... gopher_quality.min_words: 40``)
applies to every language: the table only replaces defaults.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from pipeline.filters.segment import GERMAN, JAPANESE, JIEBA, WHITESPACE

SKIP = None  # a threshold of None turns the rule off


@dataclass(frozen=True)
class LanguageParams:
    segmenter: str = WHITESPACE
    stop_words: tuple[str, ...] | None = None  # None: Gopher's stop-word rule is skipped
    # filter name -> {option: value}, applied over the options the manifest did not set
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# Word rules that mean nothing without words: for scripts written without spaces and without a segmenter
# here, a "word" is a whole clause, so these rules are skipped rather than removing every document.
_NO_WORDS: dict[str, dict[str, Any]] = {
    "gopher_quality": {"min_words": SKIP, "max_words": SKIP, "min_mean_word_length": SKIP,
                       "max_mean_word_length": SKIP, "min_stop_words": SKIP},
    "gopher_repetition": {"max_top_ngram_char_frac": {}, "max_dup_ngram_char_frac": {}},
    "c4": {"min_words_per_line": SKIP, "max_word_length": SKIP},
    "fineweb": {"max_newline_words": SKIP},
}

# CJK thresholds, scaled from the English default by the ratio of the signal's medians on the language's
# Wikipedia sample and enwiki (shared/data; value = English threshold x median(lang) / median(en)):
# mean word length (medians en 5.05, zh 1.86 under jieba, ja 2.53 by character class) gives 1.1..3.7
# for Chinese and 1.5..5 for Japanese instead of 3..10; the share of tokens with a letter (medians en
# 0.844, zh 0.832, ja 0.775: CJK punctuation marks are separate tokens and words are short) gives 0.79
# and 0.73 instead of 0.8; FineWeb's short line of 30 characters (about 5 English words) is 10 Chinese
# and 13 Japanese characters.
_ZH: dict[str, dict[str, Any]] = {
    "gopher_quality": {"min_mean_word_length": 1.1, "max_mean_word_length": 3.7, "min_alpha_words": 0.79},
    "fineweb": {"short_line_length": 10},
}
_JA: dict[str, dict[str, Any]] = {
    "gopher_quality": {"min_mean_word_length": 1.5, "max_mean_word_length": 5, "min_alpha_words": 0.73},
    "fineweb": {"short_line_length": 13},
}

_ZH_STOP = ("的", "了", "是", "在", "和", "有", "也", "不", "这", "這", "个", "個", "为", "為", "与", "與",
            "之", "他", "我", "就", "都", "而", "中", "人")
LANGUAGES: dict[str, LanguageParams] = {
    "en": LanguageParams(stop_words=("the", "be", "to", "of", "and", "that", "have", "with")),  # Gopher A.1.1
    "de": LanguageParams(GERMAN, stop_words=("der", "die", "und", "in", "den", "von", "zu", "das", "mit", "ist")),
    "fr": LanguageParams(stop_words=("de", "la", "le", "et", "les", "des", "en", "un", "du", "une")),
    "es": LanguageParams(stop_words=("de", "la", "que", "el", "en", "y", "a", "los", "se", "del")),
    "it": LanguageParams(stop_words=("di", "e", "il", "la", "che", "in", "a", "per", "un", "è")),
    "pt": LanguageParams(stop_words=("de", "a", "o", "que", "e", "do", "da", "em", "um", "para")),
    "nl": LanguageParams(stop_words=("de", "van", "het", "een", "en", "in", "is", "dat", "op", "te")),
    "ru": LanguageParams(stop_words=("и", "в", "не", "на", "что", "с", "он", "как", "по", "к")),
    "zh": LanguageParams(JIEBA, _ZH_STOP, _ZH),
    "yue": LanguageParams(JIEBA, None, _ZH),
    "wuu": LanguageParams(JIEBA, None, _ZH),
    "ja": LanguageParams(JAPANESE, ("の", "に", "は", "を", "た", "が", "で", "て", "と", "し", "も", "な",
                                    "から", "ある", "する", "いる", "こと"), _JA),
    **{code: LanguageParams(options=_NO_WORDS) for code in ("th", "lo", "km", "my", "bo", "dz")},
}

# Wikipedia's language codes (``<mediawiki xml:lang>``) that lid.176 labels differently.
WIKI_TO_LID = {"simple": "en", "zh-yue": "yue", "zh-classical": "lzh", "zh-min-nan": "nan", "nb": "no",
               "be-tarask": "be", "als": "gsw", "bat-smg": "sgs", "fiu-vro": "vro", "roa-rup": "rup"}
# Project Gutenberg's "Language:" header values, to the codes lid.176 uses.
LANGUAGE_NAMES = {"english": "en", "chinese": "zh", "german": "de", "french": "fr", "spanish": "es",
                  "italian": "it", "portuguese": "pt", "dutch": "nl", "russian": "ru", "japanese": "ja",
                  "korean": "ko", "latin": "la", "greek": "el", "finnish": "fi", "swedish": "sv",
                  "danish": "da", "norwegian": "no", "polish": "pl", "hungarian": "hu", "czech": "cs"}


def wiki_language(code: str | None) -> str | None:
    """The lid.176 code of a wiki's ``xml:lang`` (``zh`` -> ``zh``, ``simple`` -> ``en``)."""
    if not code:
        return None
    code = code.strip().lower()
    return WIKI_TO_LID.get(code, code.split("-")[0])


def book_language(value: str | None) -> str | None:
    """The code of a Gutenberg ``Language:`` header ("Chinese" -> ``zh``); None when unknown or mixed."""
    if not value:
        return None
    name = value.strip().lower()
    return LANGUAGE_NAMES.get(name) or (name if name in LANGUAGES else None)


def params(language: str | None) -> LanguageParams | None:
    return LANGUAGES.get(language) if language else None


def segmenter_of(language: str | None) -> str:
    p = params(language)
    return p.segmenter if p is not None else WHITESPACE


def localize(options: Any, filter_name: str, language: str | None) -> Any:
    """``options`` of ``filter_name`` for documents in ``language``: the table's stop words and values
    replace every key the manifest did not set. Unknown or absent languages keep the options as they are
    (the English defaults), and so does a language without a table entry apart from its stop words: a
    language with no stop-word list skips Gopher's stop-word rule."""
    p = params(language)
    if p is None:
        if language and filter_name == "gopher_quality" and "min_stop_words" not in options.model_fields_set:
            return options.model_copy(update={"min_stop_words": SKIP})
        return options
    updates = dict(p.options.get(filter_name, {}))
    if filter_name == "gopher_quality":
        if p.stop_words is None:
            updates.setdefault("min_stop_words", SKIP)
        else:
            updates["stop_words"] = p.stop_words
    updates = {k: v for k, v in updates.items()
               if k in type(options).model_fields and k not in options.model_fields_set}
    return options.model_copy(update=updates) if updates else options


def signature() -> str:
    """Hash of the table: stored signals depend on it (segmenters, stop words, signal options)."""
    data = {code: [p.segmenter, p.stop_words, p.options] for code, p in sorted(LANGUAGES.items())}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
