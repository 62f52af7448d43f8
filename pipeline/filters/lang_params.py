"""Per-language settings of the word-counting filters: segmenter, stop words, thresholds, skipped rules.

Why per language: Gopher, C4 and FineWeb were tuned on English. With English settings a Chinese
Wikipedia article has no English stop words, a mean "word" length of a whole clause and lines of one
whitespace "word", so every rule that counts words removes it. FineWeb-2 (Penedo et al. 2025, "FineWeb2:
One Pipeline to Scale Them All") keeps the rules and changes, per language, the word tokenizer, the stop
words and the thresholds; it derives each language's values from the distribution of the signal on
reference text in that language (Wikipedia and other curated text), so that the rule removes about the
share it removes in English.

What this table holds, and where each value comes from:

* segmenter: ``pipeline.filters.segment`` (jieba for Chinese and SudachiPy for Japanese, as datatrove's
  multilingual tokenizers use; German keeps hyphenated compounds and ordinals whole, as spaCy's German
  tokenizer does).
* Chinese (zh, and yue/wuu, which share its thresholds), Japanese and German: FineWeb-2's published values (its
  per-language configs, table ``FINEWEB2`` below, read from huggingface/fineweb-2 at the commits named there):
  stop words and the thresholds our filters have an option for (Gopher quality's mean word length bounds
  and share of words with a letter, Gopher repetition's duplicated-line fraction and top/duplicated n-gram
  character fractions, FineWeb's line-punctuation and newline-per-word thresholds; ``fineweb2_options``
  maps FineWeb-2's keys to our option names). FineWeb-2 derived them from the signal's distribution on
  large reference corpora of the language; ours had been fitted on the 23-article zhwiki sample and were
  replaced ("generalise, don't fit"): our ``min_alpha_words`` 0.79 removed 96 of Hongloumeng's 120
  chapters (share 0.77, classical prose dense in punctuation) that FineWeb-2's 0.735 keeps. With these
  values on both sides our filters agree with datatrove's on 155/155 Chinese, 183/183 Japanese and 45/45
  German documents (bench/multilingual_agreement.py). The chain's composition stays ours (C4 runs, FineWeb's short-line
  rule and 0.01 duplicated-line characters stay, Gopher's paragraph rules stay): only the per-language
  values FineWeb-2 publishes are taken. FineWeb-2 runs no short-line rule, so Chinese keeps our short line
  of 10 characters (FineWeb's 30 characters are about 5 English words; zhwiki's median word lengths give
  10 Chinese characters). FineWeb-2 publishes yue_Hani and wuu_Hani tables too, not taken: the stored
  copy holds yue_Hani only in two versions that differ from each other and none at the commit read for
  cmn_Hani, and wuu_Hani's top n-gram limits exceed 1 (the rule is off); Cantonese and Wu keep Mandarin's
  thresholds and, as before, no stop-word list (the rule is skipped: Mandarin's function words are not
  theirs).
* Japanese took FineWeb-2's jpn_Jpan values once its words came from SudachiPy as FineWeb-2's did
  (before, a character-class segmenter gave 0.76x Sudachi's words, and our own thresholds fitted to it
  agreed with datatrove on 77 % of the jawiki sample in FineWeb-2's setting; now 183/183). The wikipedia
  default chain keeps 182 of the 183 jawiki articles with them (181 before, with our values and
  segmenter); the full web word chain 137 (our former values on Sudachi's words: 144), where FineWeb-2's
  setting in datatrove keeps 134 (bench/README.md, Languages).
* stop words of the other languages: Gopher's rule asks for 2 distinct words of a short list of the
  language's most frequent function words (Rae et al. 2021 list 8 for English); the lists below are the
  most frequent function words of each language (our lists, in the spirit of FineWeb-2's).
* thresholds of the other languages: the Gopher/C4/FineWeb defaults (what FineWeb-2 starts from).
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

from pipeline.filters.segment import GERMAN, JIEBA, SUDACHI, WHITESPACE

SKIP = None  # a threshold of None turns the rule off


@dataclass(frozen=True)
class LanguageParams:
    segmenter: str = WHITESPACE
    stop_words: tuple[str, ...] | None = None  # None: Gopher's stop-word rule is skipped
    # filter name -> {option: value}, applied over the options the manifest did not set
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# Word rules that mean nothing without words: for scripts written without spaces and without a segmenter
# here, a "word" is a whole clause, so these rules are skipped rather than removing every document. The
# share of "words" with a letter too: with a clause per "word" it counts punctuation marks per clause, not
# words without letters (bench/udhr_languages.py: the Lao, Burmese and Tibetan declarations had 0.70, 0.77
# and 0.49 against Gopher's 0.8; English's 0.89), so it removed normal prose.
_NO_WORDS: dict[str, dict[str, Any]] = {
    "gopher_quality": {"min_words": SKIP, "max_words": SKIP, "min_mean_word_length": SKIP,
                       "max_mean_word_length": SKIP, "min_stop_words": SKIP, "min_alpha_words": SKIP},
    "gopher_repetition": {"max_top_ngram_char_frac": {}, "max_dup_ngram_char_frac": {}},
    "c4": {"min_words_per_line": SKIP, "max_word_length": SKIP},
    "fineweb": {"max_newline_words": SKIP},
}
# Rules that count sentence-ending marks, for scripts that end sentences with a space, not a mark (Thai, Lao):
# a normal paragraph has no line "ending in punctuation" and no C4 "sentence", so both rules would remove all
# of it. FineWeb-2 sets line_punct_thr to 0.0 (never removes) for tha_Thai and lao_Laoo; C4's sentence count
# is skipped alike. Khmer (U+17D4) and Burmese (U+104B) have sentence marks and keep both rules.
_NO_SENTENCE_MARKS: dict[str, dict[str, Any]] = {"c4": {"min_sentences": SKIP}, "fineweb": {"min_line_punct": SKIP}}
_NO_WORDS_NO_MARKS = {name: {**_NO_WORDS.get(name, {}), **_NO_SENTENCE_MARKS.get(name, {})}
                      for name in sorted({**_NO_WORDS, **_NO_SENTENCE_MARKS})}
# Korean: a whitespace word is an eojeol (a stem with its particles), written in Hangul syllable blocks of
# two or three letters each, so a normal paragraph's mean "word length" is about 3 characters (2.99 on the
# test paragraph of tests/pipeline/filters/test_lang_params.py) and Gopher's English lower bound of 3 removes
# it. FineWeb-2's kor_Hang sets 1 (min_avg_word_length); its upper bound (6) and stop words were measured on
# morphemes from a Korean tokenizer, which whitespace does not give, so the English upper bound stays and
# the stop-word rule is skipped (no list), as before.
_KO: dict[str, dict[str, Any]] = {"gopher_quality": {"min_mean_word_length": 1.0}}

# FineWeb-2's published per-language values, keyed by our language codes: huggingface/fineweb-2,
# configs/<FINEWEB2_CONFIG[code]>.yml, read at commit 05e6729567a5 (cmn_Hani, deu_Latn) and baedee44633
# (jpn_Jpan) from the stored copy of that repository (the hub copy
# cannot be fetched here). That copy also holds cmn_Hani at commits c7004ff99c42 and baedee44633 with other
# values (dup_line_frac 0.314, line_punct_thr 0.19, new_line_ratio 0.233, top n-grams 0.111/0.122/0.132,
# dup n-grams 0.221..0.139; the same stop words, word lengths and alpha share); the ones below are what
# bench/multilingual_agreement.py measured. FineWeb-2's key names: ``fineweb2_options`` maps them to ours.
# ``language_score`` (the LID threshold) is not copied: the language filter has its own minimum.
FINEWEB2_CONFIG = {"zh": "cmn_Hani", "ja": "jpn_Jpan", "de": "deu_Latn"}
FINEWEB2: dict[str, dict[str, Any]] = {
    "zh": {"dup_line_frac": 0.287, "top_n_grams": [[2, 0.256], [3, 0.201], [4, 0.171]],
           "dup_n_grams": [[5, 0.198], [6, 0.182], [7, 0.167], [8, 0.154], [9, 0.14], [10, 0.127]],
           "line_punct_thr": 0.106, "new_line_ratio": 0.178, "min_avg_word_length": 1,
           "max_avg_word_length": 5, "max_non_alpha_words_ratio": 0.735,
           "stopwords": ["的", "年", "在", "月", "是", "和", "日", "了", "於", "·", "為", "有", "被", "人",
                         "中", "为", "他", "與", "後", "也", "而", "由"]},
    "ja": {"dup_line_frac": 0.375, "top_n_grams": [[2, 0.121], [3, 0.129], [4, 0.145]],
           "dup_n_grams": [[5, 0.307], [6, 0.283], [7, 0.264], [8, 0.248], [9, 0.234], [10, 0.223]],
           "line_punct_thr": 0.167, "new_line_ratio": 0.162, "min_avg_word_length": 1,
           "max_avg_word_length": 5, "max_non_alpha_words_ratio": 0.759,
           "stopwords": ["の", "に", "を", "は", "た", "て", "が", "と", "で", "年", "し", "・", "月", "れ", "さ"]},
    "de": {"dup_line_frac": 0.263, "top_n_grams": [[2, 0.169], [3, 0.153], [4, 0.137]],
           "dup_n_grams": [[5, 0.141], [6, 0.134], [7, 0.126], [8, 0.117], [9, 0.108], [10, 0.098]],
           "line_punct_thr": 0.0, "new_line_ratio": 0.152, "min_avg_word_length": 0,
           "max_avg_word_length": 15, "max_non_alpha_words_ratio": 0.774,
           "stopwords": ["der", "und", "die", "in", "von", "im", "den", "des", "mit", "das", "er", "dem",
                         "als", "wurde", "für"]},
}


def fineweb2_options(language: str) -> dict[str, dict[str, Any]]:
    """FineWeb-2's thresholds for ``language`` as our filters' options. Each pair has the same rule in
    datatrove and here: ``max_non_alpha_words_ratio`` is, despite its name, the least share of words with
    a letter (datatrove removes below it), our ``min_alpha_words``; ``line_punct_thr`` the least share of
    lines ending in terminal punctuation (0 never removes); ``new_line_ratio`` the most newlines per word;
    ``top_n_grams``/``dup_n_grams`` the most characters in the top 2..4-gram and in duplicated 5..10-grams
    per n; ``dup_line_frac`` the most duplicated lines. Stop words: ``FINEWEB2[language]["stopwords"]``."""
    c = FINEWEB2[language]
    return {
        "gopher_repetition": {"max_dup_line_frac": float(c["dup_line_frac"]),
                              "max_top_ngram_char_frac": {int(n): float(v) for n, v in c["top_n_grams"]},
                              "max_dup_ngram_char_frac": {int(n): float(v) for n, v in c["dup_n_grams"]}},
        "gopher_quality": {"min_mean_word_length": float(c["min_avg_word_length"]),
                           "max_mean_word_length": float(c["max_avg_word_length"]),
                           "min_alpha_words": float(c["max_non_alpha_words_ratio"])},
        "fineweb": {"min_line_punct": float(c["line_punct_thr"]), "max_newline_words": float(c["new_line_ratio"])},
    }


# Chinese: FineWeb-2's cmn_Hani values, and our short line (FineWeb-2 runs no short-line rule): FineWeb's
# 30 characters are about 5 English words; 5 jieba words of the zhwiki sample's median length (1.86) and
# their punctuation are about 10 characters.
_FW2_ZH = fineweb2_options("zh")
_ZH: dict[str, dict[str, Any]] = {**_FW2_ZH, "fineweb": {**_FW2_ZH["fineweb"], "short_line_length": 10}}
# Japanese: FineWeb-2's jpn_Jpan values, and our short line (FineWeb-2 runs no short-line rule), derived as for
# Chinese: 5 Sudachi words of the jawiki sample's median mean length (1.82) and their punctuation are about
# 10 characters.
_FW2_JA = fineweb2_options("ja")
_JA: dict[str, dict[str, Any]] = {**_FW2_JA, "fineweb": {**_FW2_JA["fineweb"], "short_line_length": 10}}

LANGUAGES: dict[str, LanguageParams] = {
    "en": LanguageParams(stop_words=("the", "be", "to", "of", "and", "that", "have", "with")),  # Gopher A.1.1
    "de": LanguageParams(GERMAN, tuple(FINEWEB2["de"]["stopwords"]), fineweb2_options("de")),
    "fr": LanguageParams(stop_words=("de", "la", "le", "et", "les", "des", "en", "un", "du", "une")),
    "es": LanguageParams(stop_words=("de", "la", "que", "el", "en", "y", "a", "los", "se", "del")),
    "it": LanguageParams(stop_words=("di", "e", "il", "la", "che", "in", "a", "per", "un", "è")),
    "pt": LanguageParams(stop_words=("de", "a", "o", "que", "e", "do", "da", "em", "um", "para")),
    "nl": LanguageParams(stop_words=("de", "van", "het", "een", "en", "in", "is", "dat", "op", "te")),
    "ru": LanguageParams(stop_words=("и", "в", "не", "на", "что", "с", "он", "как", "по", "к")),
    "zh": LanguageParams(JIEBA, tuple(FINEWEB2["zh"]["stopwords"]), _ZH),
    "yue": LanguageParams(JIEBA, None, _ZH),
    "wuu": LanguageParams(JIEBA, None, _ZH),
    "ja": LanguageParams(SUDACHI, tuple(FINEWEB2["ja"]["stopwords"]), _JA),
    "ko": LanguageParams(options=_KO),
    **{code: LanguageParams(options=_NO_WORDS_NO_MARKS) for code in ("th", "lo")},
    **{code: LanguageParams(options=_NO_WORDS) for code in ("km", "my", "bo", "dz")},
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
