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
  multilingual tokenizers use; the whitespace languages but English: spaCy's tokenizer algorithm with the
  language's rule table from ``pipeline.filters.affixes``, German's among them since de46).
* Chinese (zh, and yue/wuu, which share its thresholds), Japanese, German and 31 more languages (fr, it, ru,
  ar, sv, el, hu, ro, da, sk, sl, et, ca, is, af, eu, hy since 6 December; es, pt, nl, no, pl, fi, cs, uk, bg,
  hr, lt, lv, fa, id since 7 December, whose recomputed configs are stored at another commit, d331bee82ee2,
  than the others'): FineWeb-2's published values (its
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
* Korean, Thai and the Indic languages with a stored recomputed config (hi, pa, si, as, te, ne at 05e6729567a5,
  since 6 December; mr, bn, ta, ur, gu, kn, ml, or, sa at d331bee82ee2, since 7 December): FineWeb-2's values, on
  the words of the libraries FineWeb-2 counted them with (``segment_lib``: Kiwi, PyThaiNLP, the Indic NLP Library).
  mai, new, bpy, sd, ps, and ckb, pnb, mzn (Urdu's punctuation) have FineWeb-2's values since 7 December (fw2cyr45).
* Khmer, Lao and Burmese (since 7 December): the words of khmer-nltk, LaoNLP and pyidaungsu, FineWeb-2's
  tokenizers (``segment_lib``), and FineWeb-2's values: lao_Laoo's (05e6729567a5), khm_Khmr's and mya_Mymr's
  (d331bee82ee2; before these were taken, Khmer and Burmese had the English thresholds and no stop-word
  rule).
  Where the optional library is missing, ``params`` gives the language its no-word entry and warns once per
  process, naming what to install (``segment_lib.missing_library``); the filter stage counts the documents judged
  without those rules per language, rule and cause (``rules_off``), and the report and the run's summary show them.
  Tibetan and Dzongkha keep their word rules
  skipped: botok, FineWeb-2's tokenizer, downloads its dictionary on first use (``segment_lib``).
* 48 Latin-script lid.176 languages that had no entry (since 7 December, fw2lat45): vi, ms, sw, tl, az, uz, sq, ga,
  la, eo, bs, jv, su, lb, so, tk, yo, mg, ht, ceb, war, nn, oc, fy, ast, an, io, ia, wa, li, nds, scn, vec, lmo, pms,
  min, ilo, pam, sco, gn, rm, co, sc, nap, vls, bar, hsb, dsb: FineWeb-2's recomputed values (``FINEWEB2``, stored at
  05e6729567a5 or d331bee82ee2) on the words of the tokenizer datatrove assigns to FineWeb-2's code of each: spaCy's
  rules (``_SPACED_LANGUAGES``: often a related language's, Malay's for Javanese, Spanish's for Occitan), and for
  Vietnamese spaCy's pyvi tokenizer, whose words join syllables (``segment_lib``; without pyvi, Vietnamese's word
  rules are skipped, as Khmer's, Lao's and Burmese's without their libraries). Before, they had the English thresholds
  and no stop-word rule. A few small languages' recomputed limits exceed 1 (top n-grams of ast, sc, dsb; newlines per
  word of nap): the rule never removes there, in datatrove as here. Left out: sh (no hbs_Latn config
  stored), qu (lid.176's one code for FineWeb-2's several Quechua configs, quh_Latn, quz_Latn, ..., whose values
  differ).
* Japanese took FineWeb-2's jpn_Jpan values once its words came from SudachiPy as FineWeb-2's did
  (before, a character-class segmenter gave 0.76x Sudachi's words, and our own thresholds fitted to it
  agreed with datatrove on 77 % of the jawiki sample in FineWeb-2's setting; now 183/183). The wikipedia
  default chain keeps 182 of the 183 jawiki articles with them (181 before, with our values and
  segmenter); the full web word chain 138 (our former values on Sudachi's words: 144), where FineWeb-2's
  setting in datatrove keeps 139 (bench/README.md, Languages). The values are jpn_Jpan.yml's recomputed
  version (stored at d331bee82ee2; since 7 December, before that its earlier baedee44633 values).
* stop words of the other languages: Gopher's rule asks for 2 distinct words of a short list of the
  language's most frequent function words (Rae et al. 2021 list 8 for English); a language without FineWeb-2's
  list here (Turkish: its recomputed config is not stored) skips the rule.
* thresholds of the other languages: the Gopher/C4/FineWeb defaults (what FineWeb-2 starts from).
* word rules of the other whitespace languages: spaCy's for that language, as datatrove counts them
  (``pipeline.filters.affixes``: spaCy's algorithm with our rule table for fr, it, ru, ar, sv, ca, es, pt, nl, pl,
  tr, da, no (spaCy's nb), fi, uk, bg, ro, hu, fa, lt, el, sl, id and its base rules for sk, cs, hr, lv, et, is, af, eu
  (hy: its base rules with spaCy's own letter classes, the xx table, which leave Armenian's letters out),
  and for the Latin-script languages of fw2lat45 the table of the spaCy language datatrove assigns them (ms, lb, lij,
  tn, tl, ga, la, hsb, fw2cyr45's sr and xx, or one of the above); ``pipeline.filters.segment.SPACED``, regex behaviours for
  elisions, apostrophes and hyphen-joined words, for the others), English's for English (West Frisian and Scots,
  which datatrove counts with spaCy's English rules, on spaCy's English table ``spacy-en``).
* non-Latin lid.176 languages (since 7 December, fw2cyr45): FineWeb-2's values for sr, he, mk, ka, am, ky, tg, tt, ba,
  yi, dv, arz, azb, cv, sah, os, ce, av, kv, lez, mhr, mrj, tyv, xmf, rue (spaCy's rules with spaCy's own letter
  classes, as datatrove counts them: the tables sr, mk, am, ky, tt, xx; arz, azb, rue on Arabic's, Persian's and
  Russian's) and for the Indic-library languages above and dty, lrc.
* languages written in several scripts (since 7 December, script45): lid.176 gives one label whatever the script,
  FineWeb-2 a config per language and script. A key "<code>-<Script>" (``analysis_key``: "sr-Latn") is the entry of
  the language's documents in that script, chosen by the language filter's ``script`` signal, or for a source that
  declares its language without a language filter by the script computed for its documents (only where the language
  has such an entry); the ``language`` column keeps lid.176's code. sr-Latn (srp_Latn), uz-Cyrl (uzn_Cyrl),
  az-Cyrl (azj_Cyrl), tk-Cyrl (tuk_Cyrl), ms-Arab (zsm_Arab), each checked on the UDHR in that script. Not taken: the
  romanised Indic and Arabic configs (hin_Latn, urd_Latn, ben_Latn, snd_Latn, arb_Latn: datatrove counts them with
  Stanza's Kurmanji or Maltese model, which downloads on first use), kmr_Cyrl ("ku" is kmr_Latn's since stanza45;
  no Cyrillic Kurmanji text here); tat_Latn, snd_Deva, mal_Latn, tam_Latn, ron_Cyrl (stored
  recomputed; spaCy's xx or the Indic NLP Library): no real text in that script here to check them on, nor that
  lid.176 gives such text the language's label (the UDHR has none of them).
* 18 lid.176 languages datatrove counts with Stanza (since 7 December, stanza45): be, kk, krc, mn, bxr, xal, myv, ug,
  gl, cy, br, kw, gd, gv, mt, ku, diq, hif: FineWeb-2's recomputed values on the words of the closest spaCy table
  (``STANZA_TABLES``; Maltese: ``affixes.MALTESE``, the article with its hyphen a token, as Stanza's are in
  mlt_Latn's stop words). datatrove's words for them are Stanza's, whose models download on first use: they could
  not be counted here, so our words are NOT compared with datatrove's; the candidate tables agree with one another
  on the UDHR's decisions (bench/stanza_languages.py). Before, they had the English thresholds and no stop-word rule.
* ``SKIP`` marks a rule that has no meaning for the language: it is turned off for that language's
  documents instead of removing them (e.g. the word rules for a script without a segmenter).

A key the manifest sets explicitly for a filter (``stages.filter ... gopher_quality.min_words: 40``)
applies to every language: the table only replaces defaults.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from pipeline.filters.segment import JIEBA, SUDACHI, WHITESPACE
from pipeline.filters.segment_lib import (BURMESE, INDIC, INDIC_URDU, KHMER, KIWI, LAO, LIBRARY_MODULES, THAI,
                                          VIETNAMESE, missing_library)

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
# of it. FineWeb-2 sets line_punct_thr to 0.0 (never removes) for tha_Thai and lao_Laoo (their ``FINEWEB2``
# values); C4's sentence count is skipped alike. Khmer (U+17D4) and Burmese (U+104B) have sentence marks and keep
# C4's count (FineWeb-2 sets their line_punct_thr to 0.0 as well).
_NO_SENTENCE_MARKS_C4: dict[str, dict[str, Any]] = {"c4": {"min_sentences": SKIP}}

# FineWeb-2's published per-language values, keyed by our language codes: huggingface/fineweb-2,
# configs/<FINEWEB2_CONFIG[code]>.yml, read from the stored copy of that repository (the hub copy cannot be
# fetched here), each at its latest revision there. The store holds each config in three versions, of three
# generations: c7004ff99c42 (no ``language_score``), baedee44633 (the same values and ``language_score``) and the
# recomputed values (their top 2/3/4-gram limits fall with n, as Gopher's 0.20/0.18/0.16 do, where the earlier
# generations' rise: cmn_Hani 0.111/0.122/0.132, spa_Latn 0.077/0.097/0.112). The recomputed generation of a file
# is stored at one of two commits, 05e6729567a5 (cmn_Hani, fra_Latn, fas_Arab and most of those read before
# 7 December) or d331bee82ee2 (spa_Latn, por_Latn, nld_Latn, pol_Latn and the other languages added on 7 December),
# never both; tests/data/fineweb2/README.md names each file's. Japanese takes its recomputed version (d331bee82ee2)
# since 7 December (baedee44633's values before; bench/README.md, "Japanese on FineWeb-2's recomputed jpn_Jpan
# values").
# Not stored in its recomputed generation: tur_Latn (only c7004ff99c42 and baedee44633 are stored): Turkish
# keeps the English thresholds and no stop-word list rather than values FineWeb-2 has since replaced. The
# Latin-script languages of fw2lat45 take FineWeb-2's code for lid.176's where the two differ as datatrove's
# tokenizer assignment marks it the language's default (Malay zsm_Latn, Swahili swh_Latn, Tagalog fil_Latn,
# Azerbaijani azj_Latn, Uzbek uzn_Latn, Albanian als_Latn, Malagasy plt_Latn, Guarani gug_Latn, Sardinian
# srd_Latn). Which language's words FineWeb-2 counted with which tokenizer: datatrove's tokenizer assignment (spaCy's rules for
# every whitespace language below; jieba, SudachiPy, Kiwi, PyThaiNLP, the Indic NLP Library and LaoNLP for the
# others). FineWeb-2's key names: ``fineweb2_options`` maps them to ours. ``language_score`` (the LID threshold)
# is not copied: the language filter has its own minimum.
FINEWEB2_CONFIG = {"zh": "cmn_Hani", "ja": "jpn_Jpan", "de": "deu_Latn", "fr": "fra_Latn", "it": "ita_Latn",
                   "ru": "rus_Cyrl", "ar": "arb_Arab", "sv": "swe_Latn", "el": "ell_Grek", "hu": "hun_Latn",
                   "ro": "ron_Latn", "da": "dan_Latn", "sk": "slk_Latn", "sl": "slv_Latn", "et": "ekk_Latn",
                   "ca": "cat_Latn", "is": "isl_Latn", "af": "afr_Latn", "eu": "eus_Latn", "hy": "hye_Armn",
                   "ko": "kor_Hang", "th": "tha_Thai", "hi": "hin_Deva", "pa": "pan_Guru", "si": "sin_Sinh",
                   "as": "asm_Beng", "te": "tel_Telu", "ne": "npi_Deva", "lo": "lao_Laoo", "es": "spa_Latn",
                   "pt": "por_Latn", "nl": "nld_Latn", "no": "nob_Latn", "pl": "pol_Latn", "fi": "fin_Latn",
                   "cs": "ces_Latn", "uk": "ukr_Cyrl", "bg": "bul_Cyrl", "hr": "hrv_Latn", "lt": "lit_Latn",
                   "lv": "lvs_Latn", "fa": "fas_Arab", "id": "ind_Latn", "mr": "mar_Deva", "bn": "ben_Beng",
                   "ta": "tam_Taml", "ur": "urd_Arab", "gu": "guj_Gujr", "kn": "kan_Knda", "ml": "mal_Mlym",
                   "or": "ory_Orya", "sa": "san_Deva", "km": "khm_Khmr", "my": "mya_Mymr",
                   # non-Latin lid.176 languages (fw2cyr45)
                   "sr": "srp_Cyrl", "he": "heb_Hebr", "mk": "mkd_Cyrl", "ka": "kat_Geor", "am": "amh_Ethi",
                   "ky": "kir_Cyrl", "tg": "tgk_Cyrl", "tt": "tat_Cyrl", "ba": "bak_Cyrl", "yi": "ydd_Hebr",
                   "dv": "div_Thaa", "arz": "arz_Arab", "azb": "azb_Arab", "cv": "chv_Cyrl", "sah": "sah_Cyrl",
                   "os": "oss_Cyrl", "ce": "che_Cyrl", "ckb": "ckb_Arab", "ps": "pbt_Arab", "sd": "snd_Arab",
                   "pnb": "pnb_Arab", "mzn": "mzn_Arab", "mai": "mai_Deva", "new": "new_Deva", "bpy": "bpy_Beng",
                   "av": "ava_Cyrl", "kv": "kpv_Cyrl", "lez": "lez_Cyrl", "mhr": "mhr_Cyrl", "mrj": "mrj_Cyrl",
                   "tyv": "tyv_Cyrl", "rue": "rue_Cyrl", "xmf": "xmf_Geor", "dty": "dty_Deva", "lrc": "lrc_Arab",
                   # Latin-script lid.176 languages (fw2lat45)
                   "vi": "vie_Latn", "ms": "zsm_Latn", "sw": "swh_Latn", "tl": "fil_Latn", "az": "azj_Latn",
                   "uz": "uzn_Latn", "sq": "als_Latn", "ga": "gle_Latn", "la": "lat_Latn", "eo": "epo_Latn", "bs": "bos_Latn",
                   "jv": "jav_Latn", "su": "sun_Latn", "lb": "ltz_Latn", "so": "som_Latn", "tk": "tuk_Latn",
                   "yo": "yor_Latn", "mg": "plt_Latn", "ht": "hat_Latn", "ceb": "ceb_Latn", "war": "war_Latn",
                   "nn": "nno_Latn", "oc": "oci_Latn", "fy": "fry_Latn", "ast": "ast_Latn", "an": "arg_Latn",
                   "io": "ido_Latn", "ia": "ina_Latn", "wa": "wln_Latn", "li": "lim_Latn", "nds": "nds_Latn",
                   "scn": "scn_Latn", "vec": "vec_Latn", "lmo": "lmo_Latn", "pms": "pms_Latn", "min": "min_Latn",
                   "ilo": "ilo_Latn", "pam": "pam_Latn", "sco": "sco_Latn", "gn": "gug_Latn", "rm": "roh_Latn",
                   "co": "cos_Latn", "sc": "srd_Latn", "nap": "nap_Latn", "vls": "vls_Latn", "bar": "bar_Latn",
                   "hsb": "hsb_Latn", "dsb": "dsb_Latn",
                   # Stanza-counted languages (stanza45): FineWeb-2's default code of each in datatrove's assignment
                   # (Mongolian: khk_Cyrl, Halh; Kurdish: kmr_Latn, Kurmanji; Uyghur: uig_Arab)
                   "be": "bel_Cyrl", "kk": "kaz_Cyrl", "mn": "khk_Cyrl", "ug": "uig_Arab", "myv": "myv_Cyrl",
                   "bxr": "bxr_Cyrl", "krc": "krc_Cyrl", "xal": "xal_Cyrl", "gl": "glg_Latn", "cy": "cym_Latn",
                   "br": "bre_Latn", "kw": "cor_Latn", "gd": "gla_Latn", "gv": "glv_Latn", "mt": "mlt_Latn",
                   "ku": "kmr_Latn", "diq": "diq_Latn", "hif": "hif_Latn"}


def _ngrams(*limits: float, first: int = 2) -> list[list[float]]:
    return [[first + i, v] for i, v in enumerate(limits)]


def _config(dup_line: float, top: tuple[float, float, float], dup: tuple[float, ...], punct: float,
            newline: float, mean_word: tuple[float, float], alpha: float, stopwords: str) -> dict[str, Any]:
    """One config in FineWeb-2's key names (``stopwords`` space-separated, in FineWeb-2's order)."""
    return {"dup_line_frac": dup_line, "top_n_grams": _ngrams(*top), "dup_n_grams": _ngrams(*dup, first=5),
            "line_punct_thr": punct, "new_line_ratio": newline, "min_avg_word_length": mean_word[0],
            "max_avg_word_length": mean_word[1], "max_non_alpha_words_ratio": alpha,
            "stopwords": stopwords.split()}


FINEWEB2: dict[str, dict[str, Any]] = {
    "zh": _config(0.287, (0.256, 0.201, 0.171), (0.198, 0.182, 0.167, 0.154, 0.14, 0.127), 0.106, 0.178, (1, 5),
                  0.735, "的 年 在 月 是 和 日 了 於 · 為 有 被 人 中 为 他 與 後 也 而 由"),
    "ja": _config(0.328, (0.239, 0.196, 0.172), (0.243, 0.225, 0.207, 0.19, 0.175, 0.159), 0.096, 0.13, (1, 6),
                  0.759, "の に を は た て が と で 年 し ・ 月 れ さ"),
    "de": _config(0.263, (0.169, 0.153, 0.137), (0.141, 0.134, 0.126, 0.117, 0.108, 0.098), 0.0, 0.152, (0, 15),
                  0.774, "der und die in von im den des mit das er dem als wurde für"),
    "fr": _config(0.264, (0.161, 0.149, 0.134), (0.15, 0.141, 0.131, 0.121, 0.111, 0.1), 0.1, 0.185, (2, 11),
                  0.812, "de la le et à en l' des du les est d' un une il dans par au"),
    "it": _config(0.246, (0.198, 0.156, 0.133), (0.144, 0.136, 0.127, 0.118, 0.109, 0.1), 0.025, 0.2, (3, 21),
                  0.807, "di e il la in a del che è della un per nel l' con da i una"),
    "ru": _config(0.322, (0.184, 0.164, 0.146), (0.168, 0.156, 0.145, 0.133, 0.121, 0.109), 0.231, 0.139, (3, 11),
                  0.713, "в и на с года по году из был к не от что за для его как а он также до после"),
    "ar": _config(0.304, (0.197, 0.172, 0.146), (0.165, 0.153, 0.142, 0.131, 0.12, 0.109), 0.143, 0.189, (2, 9),
                  0.787, "، في من على إلى عام أن مع أو هو عن التي كان بين ما كانت هي المتحدة بعد"),
    "sv": _config(0.292, (0.242, 0.195, 0.174), (0.156, 0.147, 0.136, 0.125, 0.116, 0.105), 0.2, 0.135, (3, 12),
                  0.841, "i och är av en som den med på till att för"),
    "el": _config(0.31, (0.194, 0.175, 0.156), (0.174, 0.163, 0.153, 0.142, 0.13, 0.119), 0.167, 0.116, (3, 11),
                  0.809, "του και το της η την από ο με τον να που των στην για στο σε είναι τη τα οι"),
    "hu": _config(0.322, (0.226, 0.198, 0.172), (0.169, 0.159, 0.148, 0.136, 0.124, 0.112), 0.067, 0.231, (3, 15),
                  0.766, "a az és is egy volt hogy nem meg de magyar első el között"),
    "ro": _config(0.289, (0.161, 0.146, 0.131), (0.16, 0.149, 0.138, 0.127, 0.117, 0.106), 0.081, 0.207, (1, 14),
                  0.779, "de în a și din la o cu este un pe fost care al"),
    "da": _config(0.305, (0.367, 0.297, 0.232), (0.169, 0.158, 0.147, 0.134, 0.123, 0.112), 0.1, 0.182, (3, 11),
                  0.798, "i og af en til er den at som på for med det blev var der fra de han et"),
    "sk": _config(0.319, (0.316, 0.218, 0.171), (0.176, 0.165, 0.152, 0.14, 0.127, 0.115), 0.0, 0.214, (2, 11),
                  0.752, "v a na sa je z roku s"),
    "sl": _config(0.317, (0.262, 0.225, 0.189), (0.17, 0.158, 0.146, 0.135, 0.123, 0.111), 0.045, 0.273, (2, 12),
                  0.781, "je v in na so se ki za leta z"),
    "et": _config(0.363, (0.345, 0.268, 0.215), (0.172, 0.161, 0.15, 0.139, 0.125, 0.113), 0.143, 0.213, (3, 13),
                  0.722, "ja on oli ta aastal eesti ka ning et mis kui aasta ei või see oma tema"),
    "ca": _config(0.294, (0.216, 0.189, 0.168), (0.159, 0.149, 0.137, 0.126, 0.116, 0.105), 0.154, 0.118, (2, 11),
                  0.832, "de el la a i d l' en d' que va els per un les una amb es"),
    "is": _config(0.292, (0.21, 0.183, 0.163), (0.157, 0.15, 0.143, 0.126, 0.114, 0.104), 0.095, 0.25, (2, 13),
                  0.8, "og í á að sem er var til við en af um hann með"),
    "af": _config(0.412, (0.707, 0.557, 0.418), (0.192, 0.162, 0.149, 0.128, 0.113, 0.101), 0.053, 0.209, (3, 11),
                  0.707, "die van in en is n het wat sy op the word"),
    "eu": _config(0.298, (0.263, 0.227, 0.192), (0.152, 0.14, 0.129, 0.118, 0.108, 0.096), 0.167, 0.25, (4, 11),
                  0.788, "eta da ziren zen bat zuen zeuden izan"),
    "hy": _config(0.285, (0.225, 0.206, 0.184), (0.157, 0.146, 0.133, 0.123, 0.111, 0.099), 0.167, 0.16, (4, 11),
                  0.778, "է և են էր թվականի թվականին որ իր ծրագիր նա նաև որը այն հետ համար ու նրա այդ առաջին մի էին "
                  "իսկ որպես"),
    # The large web languages whose third-generation config is stored at d331bee82ee2 (fas_Arab: 05e6729567a5), since
    # 7 December (issue 13); their words are spaCy's (``pipeline.filters.affixes``), as datatrove counts them.
    "es": _config(0.252, (0.156, 0.14, 0.125), (0.145, 0.136, 0.127, 0.117, 0.108, 0.099), 0.182, 0.138, (3, 14),
                  0.825, "de la en el y a que del los se por un con una las su"),
    "pt": _config(0.287, (0.371, 0.191, 0.163), (0.163, 0.153, 0.141, 0.13, 0.119, 0.108), 0.077, 0.186, (3, 13),
                  0.814, "de a e o em do da que um no uma com para na é foi"),
    "nl": _config(0.296, (0.213, 0.182, 0.158), (0.156, 0.146, 0.136, 0.126, 0.115, 0.104), 0.102, 0.154, (3, 17),
                  0.828, "de van in het een en is op voor met door zijn werd hij uit"),
    "no": _config(0.283, (0.204, 0.175, 0.15), (0.146, 0.139, 0.128, 0.119, 0.11, 0.099), 0.107, 0.167, (3, 12),
                  0.783, "i og av som en er til på for ble med den det var han de å fra"),
    "pl": _config(0.32, (0.222, 0.198, 0.176), (0.172, 0.16, 0.148, 0.136, 0.123, 0.111), 0.087, 0.158, (3, 12),
                  0.726, "w i na z do się roku od a jest przez po jako oraz o został był nie"),
    "fi": _config(0.293, (0.253, 0.202, 0.179), (0.153, 0.143, 0.133, 0.122, 0.112, 0.101), 0.114, 0.161, (3, 14),
                  0.755, "ja on oli hän vuonna myös joka se ei sen ovat sekä mutta että tai vuoden kanssa hänen s. "
                  "jälkeen the"),
    "cs": _config(0.311, (0.206, 0.183, 0.165), (0.168, 0.157, 0.145, 0.133, 0.121, 0.109), 0.06, 0.182, (3, 11),
                  0.781, "v a se na je z s do"),
    "uk": _config(0.3, (0.189, 0.172, 0.153), (0.16, 0.148, 0.136, 0.124, 0.113, 0.102), 0.167, 0.175, (3, 11),
                  0.694, "у в на і з та до року за що"),
    "bg": _config(0.317, (0.173, 0.157, 0.139), (0.17, 0.158, 0.144, 0.131, 0.12, 0.108), 0.154, 0.142, (3, 10),
                  0.756, "на и в е от за се г. с през да по"),
    "hr": _config(0.312, (0.215, 0.19, 0.165), (0.173, 0.162, 0.15, 0.138, 0.126, 0.113), 0.099, 0.198, (2, 11),
                  0.751, "je u i se na su za od s a"),
    "lt": _config(0.32, (0.247, 0.21, 0.174), (0.175, 0.163, 0.15, 0.137, 0.126, 0.114), 0.167, 0.19, (3, 12),
                  0.688, "m ir buvo į nuo iš d su yra lietuvos a iki o kaip kad apie po km"),
    "lv": _config(0.329, (0.526, 0.337, 0.242), (0.173, 0.16, 0.148, 0.135, 0.122, 0.109), 0.125, 0.169, (2, 13),
                  0.727, "un ir no ar gadā gada par bija arī"),
    "fa": _config(0.246, (0.189, 0.164, 0.143), (0.157, 0.147, 0.137, 0.127, 0.117, 0.107), 0.2, 0.15, (2, 9),
                  0.812, "در و ، به از که است این را با یک"),
    "id": _config(0.241, (0.194, 0.166, 0.145), (0.166, 0.155, 0.144, 0.133, 0.122, 0.111), 0.111, 0.157, (3, 12),
                  0.805, "dan yang di pada dari ini dengan adalah untuk dalam"),
    # Korean, Thai and the Indic languages whose 05e6729567a5 config is stored (since 6 December, issue 13): their
    # words are those of the libraries FineWeb-2 counted them with (``pipeline.filters.segment_lib``).
    "ko": _config(0.374, (0.282, 0.228, 0.185), (0.201, 0.184, 0.168, 0.154, 0.14, 0.127), 0.062, 0.196, (1, 6),
                  0.791, "의 다 이 는 에 을 한 년 하 은 를 했 고 에서 가 있 으로 인 월 로 되"),
    "th": _config(0.349, (0.221, 0.197, 0.162), (0.185, 0.168, 0.152, 0.137, 0.124, 0.111), 0.0, 0.153, (2, 10),
                  0.9, "ใน ที่ และ ของ เป็น มี การ ได้"),
    "hi": _config(0.206, (0.208, 0.198, 0.161), (0.135, 0.125, 0.116, 0.108, 0.099, 0.09), 0.091, 0.316, (2, 21),
                  0.837, "के में है की और से का को एक हैं पर"),
    "pa": _config(0.328, (0.191, 0.154, 0.133), (0.153, 0.142, 0.129, 0.119, 0.109, 0.098), 0.153, 0.117, (2, 19),
                  0.83, "ਵਿੱਚ ਦੇ ਹੈ ਅਤੇ ਦੀ ਨੂੰ ਦਾ ਸੀ ਇੱਕ ਤੋਂ ਨੇ ਹਨ ਤੇ ਲਈ ਨਾਲ"),
    "si": _config(0.274, (0.236, 0.216, 0.194), (0.164, 0.156, 0.146, 0.136, 0.125, 0.114), 0.0, 0.226, (2, 58),
                  0.833, "සහ අතර හා වන ලෙස මෙම වූ විය ඇති විසින් කරන සඳහා ද වේ ඇත දී එය හෝ කර ඔහු කළ කිරීම "
                  "ශ්\u200dරී යන නම් බව"),
    "as": _config(0.211, (0.176, 0.153, 0.133), (0.119, 0.108, 0.101, 0.09, 0.082, 0.074), 0.094, 0.125, (3, 19),
                  0.812, "আৰু হয় কৰা কৰে এই তেওঁ পৰা বাবে চনত কৰিছিল আছিল হৈছে কৰি হৈছিল তেওঁৰ বা চনৰ ইয়াৰ হিচাপে "
                  "এক এটা হৈ বুলি লাভ ৰ আছে"),
    "te": _config(0.256, (0.21, 0.18, 0.162), (0.142, 0.133, 0.122, 0.114, 0.105, 0.096), 0.08, 0.18, (4, 68),
                  0.739, "నుండి కి ఉన్నాయి మీ గ్రామం ఉంది దూరంలో ఈ కేంద్రం"),
    "ne": _config(0.155, (0.114, 0.103, 0.091), (0.098, 0.09, 0.083, 0.076, 0.069, 0.062), 0.125, 0.278, (3, 37),
                  0.824, "र छ थियो हो एक पनि मा थिए यो"),
    # The Indic languages whose recomputed config is stored at d331bee82ee2 (since 7 December, issue 13): the Indic NLP
    # Library's words, as for hi/pa/si/as/te/ne (Urdu: its Urdu punctuation, datatrove's assignment). Urdu's third stop
    # word is the Arabic comma (U+060C), a token of its own in the library's output.
    "mr": _config(0.233, (0.156, 0.15, 0.137), (0.145, 0.138, 0.131, 0.122, 0.114, 0.105), 0.008, 0.351, (2, 35),
                  0.798, "आहे आणि हे व या एक ते हा आहेत स असते होते ही येथे मध्ये केले असतो "
                  "महाराष्ट्र हवामान इ गाव राज्यातील जाते केली जिल्ह्यातील म्हणून पर्यंत"),
    "bn": _config(0.203, (0.177, 0.158, 0.147), (0.118, 0.108, 0.099, 0.09, 0.082, 0.073), 0.125, 0.171, (3, 24),
                  0.8, "এবং ও হয় করে একটি তিনি করা থেকে"),
    "ta": _config(0.276, (0.23, 0.212, 0.19), (0.149, 0.14, 0.132, 0.123, 0.114, 0.104), 0.125, 0.195, (4, 37),
                  0.779, "மற்றும் ஒரு இந்த ஆம் இது என்ற இவர் உள்ள ஆகும் ஆண்டு அல்லது என்பது முதல் "
                  "உள்ளது என்று இந்திய மக்கள் ஊராட்சி இல் இருந்து மேலும் பல"),
    "ur": _config(0.204, (0.139, 0.123, 0.107), (0.125, 0.115, 0.107, 0.098, 0.089, 0.081), 0.1, 0.222, (2, 31),
                  0.839, "کے میں ، کی اور ہے سے کا نے اس پر کو ایک"),
    "gu": _config(0.299, (0.204, 0.178, 0.151), (0.132, 0.122, 0.113, 0.102, 0.094, 0.084), 0.2, 0.097, (3, 22),
                  0.812, "છે અને આ જ એક આવેલા તેમ કે ગામમાં પણ માટે ખેતી આવે કરવામાં ભાગમાં તે હતી "
                  "હતા પર મુખ્ય હતો જે ભારત હતું આવેલું ગામ સાથે ગુજરાત કરી રાજ્યના પશ્ચિમ "
                  "દેશના તરીકે દ્વારા મુખ્યત્વે જેવી પ્રાથમિક અન્ય શાળા હોય એ પશુપાલન ગામના "
                  "ખેતમજૂરી આંગણવાડી વ્યવસાય પંચાયતઘર ડેરી કરે પ્રાપ્ય દૂધની સવલતો લોકોનો "
                  "તાલુકામાં જિલ્લામાં"),
    "kn": _config(0.25, (0.214, 0.183, 0.165), (0.135, 0.126, 0.118, 0.11, 0.101, 0.093), 0.095, 0.193, (3, 67),
                  0.783, "ಮತ್ತು ಈ ಒಂದು ಎಂದು ಅಥವಾ ಅವರು ಇದು ಹಾಗೂ ಅವರ ಎಂಬ ಮೇಲೆ ನಂತರ ತನ್ನ ಆದರೆ ತಮ್ಮ ರಲ್ಲಿ "
                  "ಮೂಲಕ ಹೆಚ್ಚು"),
    "ml": _config(0.239, (0.191, 0.18, 0.164), (0.138, 0.132, 0.125, 0.116, 0.108, 0.099), 0.111, 0.174, (4, 37),
                  0.774, "ഒരു ഈ ൽ എന്ന ഇത് അദ്ദേഹം നിന്ന് ചെയ്തു ആണ് അവർ ഓഫ് ഏറ്റവും മുതൽ പ്രധാന"),
    "or": _config(0.225, (0.227, 0.201, 0.184), (0.155, 0.15, 0.137, 0.13, 0.116, 0.106), 0.0, 0.889, (3, 30),
                  0.786, "ଓ ଏହି ସେ ଏକ ଏବଂ କରିଥିଲେ ଏହା ପାଇଁ ମଧ୍ୟ ଭାବରେ ମସିହାରେ ପରେ ଜଣେ ହୁଏ କରି ବା "
                  "ତାଙ୍କ ଥିଲେ ଭାରତୀୟ ଏହାର ଅଟେ ଓଡ଼ିଶା କରିବା"),
    "sa": _config(0.234, (0.367, 0.318, 0.258), (0.133, 0.122, 0.109, 0.102, 0.095, 0.082), 0.034, 0.961, (4, 52),
                  0.732, "च इति अस्ति भवति न आसीत् एव अपि"),
    # Lao (since 7 December): LaoNLP's words. Its first stop word is the zero-width space (U+200B), a word of its
    # own in LaoNLP's output; str.split does not split at it.
    "lo": _config(0.327, (0.198, 0.175, 0.143), (0.187, 0.175, 0.163, 0.149, 0.135, 0.123), 0.0, 0.2, (2, 9),
                  0.85, "\u200b ແລະ ໃນ ຂອງ ເປັນ ທີ່ ໄດ້ ມີ"),
    # Khmer and Burmese (since 7 December; their recomputed configs are stored at d331bee82ee2): khmer-nltk's and
    # pyidaungsu's words. Both set line_punct_thr 0.0 (the rule never removes), as Thai and Lao; Burmese's stop words
    # include its genitive and locative symbols U+104F and U+104C, tokens of their own in pyidaungsu's output.
    # khm_Khmr's limits are loose (duplicated lines 0.917, top 2-gram 0.594): FineWeb-2 derived them from its Khmer
    # reference text.
    "km": _config(0.917, (0.594, 0.523, 0.438), (0.175, 0.16, 0.148, 0.135, 0.121, 0.109), 0.0, 0.361, (2, 13),
                  0.905, "មាន បាន ដែល ជា និង នៅ របស់ ក្នុង ថា នេះ នៃ ហើយ ទៅ ដោយ"),
    "my": _config(0.278, (0.161, 0.152, 0.133), (0.167, 0.155, 0.145, 0.134, 0.124, 0.113), 0.0, 0.07, (2, 21),
                  0.75, "သည် များ ကို တွင် ဖြစ် ၏ သော ခဲ့ နှင့် ရှိ တို့ မှာ ဦး ၌ က မ မှ"),
    # non-Latin lid.176 languages (fw2cyr45; since 7 December, issue 13): the recomputed configs (05e6729567a5 or
    # d331bee82ee2, tests/data/fineweb2/README.md). Words: spaCy's rules, as datatrove counts them (sr, mk, am, ky, tt
    # and Bashkir with Tatar's, arz with Arabic's, azb with Persian's; xx's base rules for he, ka, yi, dv, tg, cv, sah,
    # os, ce), the Indic NLP Library's for ckb, ps, sd, pnb, mzn (Urdu's punctuation), mai, new (Hindi's) and bpy
    # (Bengali's). Amharic's stop words hold the Ethiopic comma, wordspace, semicolon and preface colon (U+1363,
    # U+1361, U+1364, U+1366), tokens of their own where spaCy's Amharic suffix rule splits them off; Punjabi's (pnb)
    # right-to-left marks (U+200F) and Newar's zero-width non-joiner (U+200C) inside words are FineWeb-2's as published.
    "sr": _config(0.257, (0.176, 0.158, 0.141), (0.147, 0.137, 0.126, 0.116, 0.106, 0.096), 0.156, 0.239, (3, 10),
                  0.8, "у је и на се од су године да за из са насеље"),
    "he": _config(0.34, (0.239, 0.202, 0.173), (0.16, 0.151, 0.14, 0.129, 0.118, 0.108), 0.2, 0.126, (2, 9),
                  0.799, "של את על הוא עם בשנת גם היה היא לאחר לא ידי בין או כי"),
    "mk": _config(0.248, (0.199, 0.189, 0.172), (0.138, 0.128, 0.119, 0.109, 0.099, 0.09), 0.133, 0.172, (2, 10),
                  0.781, "на во и од се за со е година да како"),
    "ka": _config(0.332, (0.225, 0.189, 0.167), (0.157, 0.146, 0.134, 0.122, 0.111, 0.1), 0.111, 0.222, (3, 13),
                  0.754, "და წლის წელს იყო რომელიც რომ მისი შემდეგ რესურსები ინტერნეტში ამ იგი არ the როგორც "
                  "საქართველოს"),
    "am": _config(0.672, (0.535, 0.433, 0.388), (0.273, 0.242, 0.228, 0.205, 0.183, 0.157), 0.0, 0.417, (1, 24),
                  0.824, "፣ ነው እና ፡ ምሳሌ ላይ ፤ ነበር ውስጥ ግን ወደ ልጆች እንደ የአማርኛ ወይም ነገር በኋላ ጊዜ ቀን ሲሆን ጋር ዘመን ዓ.ም. እስከ ይህ "
                  "ትርጉሙ የኢትዮጵያ ፦"),
    "ky": _config(0.311, (0.247, 0.189, 0.161), (0.167, 0.16, 0.136, 0.125, 0.119, 0.111), 0.133, 0.17, (4, 12),
                  0.623, "жана менен боюнча кыргыз суу ж. бир мамлекеттик колдонулган адабияттар жылы ал коду isbn "
                  "башкы болгон б шилтемелер б. да болуп энциклопедия үчүн бул же борбору анын а. калкы эле тил"),
    "tg": _config(0.291, (0.217, 0.183, 0.151), (0.151, 0.142, 0.133, 0.122, 0.113, 0.103), 0.111, 0.316, (3, 11),
                  0.71, "дар ва аз ба ки аст соли бо деҳа дорад"),
    "tt": _config(0.356, (0.26, 0.259, 0.243), (0.197, 0.187, 0.168, 0.16, 0.149, 0.136), 0.333, 0.308, (3, 11),
                  0.692, "урнашкан һәм ° климаты географиясе c уртача халык"),
    "ba": _config(0.217, (0.221, 0.171, 0.133), (0.128, 0.12, 0.103, 0.092, 0.084, 0.077), 0.222, 0.134, (3, 11),
                  0.72, "һәм буйынса һыу менән йылға йылда бассейны йылдың рәсәй дәүләт тиклем була коды өсөн бер гө "
                  "км был ул уҡ йыл уның урынлашҡан халыҡ тип"),
    "yi": _config(0.355, (0.321, 0.319, 0.281), (0.189, 0.174, 0.162, 0.15, 0.137, 0.126), 0.083, 0.222, (2, 14),
                  0.83, "די פון אין און איז א דער האט ער צו וואס דעם רבי"),
    "dv": _config(0.281, (0.179, 0.161, 0.146), (0.157, 0.145, 0.135, 0.125, 0.113, 0.104), 0.1, 0.25, (4, 70),
                  0.898, "، އަދި އެވެ. އަކީ ވަނަ އެންމެ ނުވަތަ ވެސް ގެ އާއި ތެރޭގައި މި ވަރަށް މިއީ މީހުން އަށް "
                  "ހުންނަ އަހަރު ފުރަތަމަ ވެއެވެ. ދިވެހި މަހުގެ ގައި ހުރެއެވެ. ގޮތުގައި އެއީ ބައެއް"),
    "arz": _config(0.368, (0.269, 0.249, 0.225), (0.223, 0.207, 0.19, 0.174, 0.158, 0.143), 0.188, 0.308, (3, 8),
                  0.83, "فى و من لينكات هيا اللى برانيه يوم مواليد حياته كان"),
    "azb": _config(0.379, (0.403, 0.33, 0.245), (0.225, 0.2, 0.179, 0.16, 0.144, 0.129), 0.111, 0.25, (3, 14),
                  0.719, "، و اینگیلیسجه بیر قایناق\u200cلار تاریخینده طرفیندن ایشلدنلری مقاله\u200cسیندن "
                  "گؤتورولوبدور ویکی\u200cپدیاسی\u200cنین یوْخلانیلیبدیر). دیر بۇ"),
    "cv": _config(0.243, (0.205, 0.186, 0.169), (0.109, 0.102, 0.091, 0.084, 0.076, 0.062), 0.116, 0.269, (3, 11),
                  0.68, "шыв юханшыв кочĕ кĕрет раççей тата бассейн бассейнĕ патшалăх км хыпарĕпе реестрĕн гт "
                  "юханшывăн юхса чăваш территоринчи и çулта тăршшĕ юхать обь кĕçĕн территорипе çулхи м. хуçалăх в рф "
                  "хатĕрленĕ том федераци номерĕ кăларăм хыпарĕсем системин гидрологи территорин агентстви районĕсен "
                  "ресурсĕсен объекчĕн реестрĕнчи тĕпчевленӳ геоинформаци совет те с а. ял"),
    "sah": _config(0.401, (0.547, 0.521, 0.439), (0.24, 0.228, 0.202, 0.172, 0.157, 0.136), 0.143, 0.299, (1, 13),
                  0.711, "уонна диэн киһи саха бу ол с сыллаахха да сыл дьон буолар улахан суох биир баар эрэ оҕо аан "
                  "сөп"),
    "os": _config(0.266, (0.262, 0.243, 0.225), (0.118, 0.111, 0.097, 0.089, 0.08, 0.072), 0.0, 0.769, (3, 10),
                  0.667, "у æмæ йæ азы сахар ис сты ирыстоны уый сæ иу ирон дæр районы цæгат уыцы административон "
                  "хуссар центр хъæу кодта дзы цаутæ кæнæ амардысты райгуырдысты гæсгæ та уæрæсейы мыггаг чи нæ уыдис "
                  "тыххæй облæсты уыд сæйраг фыццаг"),
    "ce": _config(0.244, (0.262, 0.228, 0.203), (0.101, 0.09, 0.081, 0.073, 0.069, 0.06), 0.333, 0.294, (4, 10),
                  0.679, "а климат йу кхузахь эвла хуьлу шийла аса бахархой сахьтан барамехь географи йовха кӏоштара "
                  "ду уггаре ӏа бахархойн сахьт континенталан"),
    "ckb": _config(0.242, (0.176, 0.164, 0.151), (0.14, 0.133, 0.122, 0.115, 0.103, 0.097), 0.0, 0.246, (3, 36),
                  0.81, "لە ، و بە کە بۆ ساڵی لەگەڵ بوو ئەم ئەو وەک بووە یان کرد دوای لەسەر گوندی"),
    "ps": _config(0.236, (0.167, 0.154, 0.136), (0.119, 0.108, 0.098, 0.088, 0.081, 0.072), 0.029, 0.222, (2, 21),
                  0.867, "د په ، او کې چې له ته سره"),
    "sd": _config(0.248, (0.211, 0.171, 0.127), (0.129, 0.118, 0.107, 0.099, 0.09, 0.08), 0.0, 7.25, (2, 50),
                  0.799, "جي ، ۾ ۽ جو آهي کي تي کان سان"),
    "pnb": _config(0.178, (0.228, 0.151, 0.136), (0.089, 0.082, 0.076, 0.07, 0.064, 0.059), 0.0, 0.333, (2, 21),
                  0.883, "دے ، وچ تے د\u200f\u200fی دا اے نے تو\u200fں اس نو\u200f\u200fں سی اک اُتے"),
    "mzn": _config(0.349, (0.451, 0.387, 0.301), (0.294, 0.268, 0.247, 0.217, 0.195, 0.173), 0.167, 0.182, (2, 12),
                  0.787, "، و دله که ره هسته اتا ونه جه سال این شهر"),
    "mai": _config(0.335, (0.33, 0.295, 0.261), (0.214, 0.207, 0.191, 0.174, 0.144, 0.129), 0.059, 0.481, (3, 28),
                  0.793, "अछि आ छी एक छल ई के मे विकास ओ"),
    "new": _config(0.335, (0.324, 0.273, 0.177), (0.196, 0.189, 0.169, 0.155, 0.162, 0.126), 0.083, 0.655, (2, 43),
                  0.769, "थ्व दु व भाषा थाय्\u200c ख खः कथं भारतया छगू नं खने"),
    "bpy": _config(0.217, (0.173, 0.162, 0.141), (0.099, 0.087, 0.082, 0.077, 0.047, 0.041), 0.111, 0.353, (4, 14),
                  0.612, "বারো ইউনিয়ন হারহান মা গ সাক্ষরতার অতার মানু জনসংখ্যার হান বর্গ ইলাতাই মারির জনসংখ্যা "
                  "বেয়াপা মানুলেহা লোক গননা আসে ভৌগলিক মুনি ইলতাই হারি এহার এগত"),
    # and the smaller ones (Avar, Komi, Lezgian, Meadow and Hill Mari, Tuvan: spaCy's xx; Rusyn: Russian's rules;
    # Mingrelian: xx, as Georgian; Doteli: the Indic NLP Library; Northern Luri: with Urdu's punctuation). As published:
    # dty_Deva's top 2/3/4-gram limits do not fall (0.516, 0.546, 0.529; its first generation's, 0.093/0.201/0.287,
    # differ), lrc_Arab's line_punct_thr is -1 (never removes, as 0.0) and rue_Cyrl's newline limit 1.429 per word.
    "av": _config(0.617, (0.727, 0.71, 0.655), (0.309, 0.289, 0.277, 0.26, 0.238, 0.21), 0.0, 0.4, (3, 13),
                  0.718, "ва буго ккола бугеб гьеб росу соналъ мухъалъул цо дагъистаналъул росдал къо рекъон руго "
                  "авар росаби соналъул"),
    "kv": _config(0.317, (0.378, 0.362, 0.311), (0.208, 0.206, 0.193, 0.167, 0.156, 0.144), 0.097, 0.323, (2, 12),
                  0.64, "коми да сыктывкар тӧлысь лун во воын и тайӧ история с вося кыв на сикт республика км "
                  "республики гижысь ӧшмӧсъяс медводдза вӧлі"),
    "lez": _config(0.15, (0.204, 0.192, 0.17), (0.09, 0.083, 0.08, 0.072, 0.061, 0.052), 0.175, 0.193, (1, 13),
                  0.725, "ва я тир авай йисан йисуз хуьр агьалияр райондин вири са лезги йис пата чӏехи галаз кас и "
                  "хуьруьн хьана тӏвар дагъустан республикадин виш алай хуьре адан юкь ава ам"),
    "mhr": _config(0.239, (0.55, 0.413, 0.253), (0.144, 0.138, 0.121, 0.11, 0.094, 0.083), 0.2, 0.533, (2, 12),
                  0.646, "марий влак ола эл йошкар ял с. ий да республики"),
    "mrj": _config(0.403, (0.994, 0.922, 0.825), (0.267, 0.248, 0.238, 0.219, 0.2, 0.186), 0.0, 0.207, (3, 24),
                  0.685, "дӓ ин пырышы и эдем гӹц вӓшлиӓлтшӹ ӹлен тӹштӹ йишвлӓ якте курымын йыхыш см ижӹ. курымивлӓ "
                  "улы дон доно группыш кого йиш лин кытшы мары попугай кырык ирвел цилӓжӹ йишвлӓн орхидейвлӓ тӹрлӹ "
                  "шоэш сек ти вадывел км² ӹдӹрӓмӓш пӱэргӹ сола турокла ылын турцин кӓдӹ"),
    "tyv": _config(0.285, (0.327, 0.296, 0.263), (0.178, 0.17, 0.15, 0.137, 0.126, 0.115), 0.167, 0.189, (2, 11),
                  0.682, "биле чылда турган деп база болгаш ол турар"),
    "rue": _config(0.658, (0.84, 0.763, 0.698), (0.381, 0.36, 0.326, 0.288, 0.261, 0.231), 0.0, 1.429, (3, 15),
                  0.739, "в и ся на з і року до є"),
    "xmf": _config(0.266, (0.219, 0.216, 0.178), (0.124, 0.123, 0.111, 0.096, 0.091, 0.075), 0.091, 0.333, (2, 16),
                  0.762, "დო რე რესურსეფი ინტერნეტის წანაშ წანას the of რდჷ ნამუთ თაშნეშე ნოღა თე რე. დუნაბადი "
                  "წყარმალუ დ."),
    "dty": _config(0.333, (0.516, 0.546, 0.529), (0.19, 0.175, 0.159, 0.14, 0.126, 0.112), 0.029, 0.455, (2, 25),
                  0.837, "रे हो छ एक मी यो माइ को का यै थ्यो लै र तथा जिल्ला पनि विकास सन् छन् हुन् यक हुन्छ हुन "
                  "नेपाल बठेइ रयाको गाउँ ले"),
    "lrc": _config(0.631, (0.655, 0.437, 0.385), (0.448, 0.436, 0.422, 0.402, 0.386, 0.364), -1, 0.062, (2, 5),
                  0.868, "، و که تو د یه مه بی وا چی سی دل تا در ای اری به مو دلم نه دو او با"),
    # Latin-script lid.176 languages (fw2lat45); Vietnamese on the words of spaCy's pyvi tokenizer (``segment_lib``)
    "vi": _config(0.293, (0.223, 0.197, 0.171), (0.178, 0.163, 0.15, 0.136, 0.124, 0.111), 0.333, 0.103, (3, 11),
                  0.803, "là và của một được trong năm các có loài này đã người"),
    "ms": _config(0.331, (0.264, 0.252, 0.225), (0.185, 0.176, 0.166, 0.156, 0.145, 0.134), 0.125, 0.214, (3, 11),
                  0.808, "dan di yang pada dalam dengan untuk ini"),
    "sw": _config(0.302, (0.396, 0.282, 0.231), (0.193, 0.17, 0.155, 0.14, 0.126, 0.113), 0.143, 0.167, (3, 9),
                  0.802, "ya na wa katika kwa ni la za mwaka"),
    "tl": _config(0.263, (0.286, 0.228, 0.179), (0.15, 0.141, 0.129, 0.119, 0.11, 0.1), 0.091, 0.159, (3, 12),
                  0.821, "ng sa ang na mga ay at isang noong"),
    "az": _config(0.879, (0.514, 0.475, 0.405), (0.3, 0.271, 0.252, 0.227, 0.202, 0.179), 0.188, 0.179, (3, 13),
                  0.725, "və ilə ildə bir bu azərbaycan olan üçün sonra də kimi il isə o görə da tərəfindən çox ki "
                  "onun edir idi"),
    "uz": _config(0.254, (0.871, 0.543, 0.357), (0.15, 0.139, 0.128, 0.12, 0.109, 0.093), 0.25, 0.159, (3, 13),
                  0.691, "va bilan u uchun joylashgan bir bu boʻlgan ham uning aholi birinchi edi eng tomonidan "
                  "boʻlib nafar qiladi km2 yoki sifatida"),
    "sq": _config(0.241, (0.152, 0.136, 0.116), (0.131, 0.122, 0.113, 0.105, 0.096, 0.087), 0.066, 0.273, (1, 14),
                  0.788, "të e në dhe i një me nga për është që më u si"),
    "ga": _config(0.395, (0.533, 0.421, 0.379), (0.203, 0.181, 0.181, 0.155, 0.145, 0.132), 0.0, 0.214, (2, 11),
                  0.816, "an a na agus ar i is le sa go é ag sé bhí de"),
    "la": _config(0.452, (0.15, 0.147, 0.14), (0.457, 0.449, 0.436, 0.42, 0.4, 0.378), 0.1, 0.281, (3, 11),
                  0.762, "et in est anno praefecturae de a ad"),
    "eo": _config(0.218, (0.42, 0.285, 0.207), (0.088, 0.08, 0.071, 0.065, 0.06, 0.052), 0.125, 0.207, (3, 12),
                  0.78, "la de en kaj estas al estis li"),
    "bs": _config(0.262, (0.157, 0.142, 0.128), (0.144, 0.136, 0.127, 0.117, 0.108, 0.098), 0.1, 0.196, (1, 16),
                  0.764, "je i u se na su od za da godine"),
    "jv": _config(0.369, (0.639, 0.506, 0.445), (0.256, 0.236, 0.221, 0.203, 0.176, 0.158), 0.094, 0.222, (1, 12),
                  0.777, "ing lan kang iku sing saka ingkang iki"),
    "su": _config(0.411, (0.604, 0.483, 0.416), (0.271, 0.251, 0.228, 0.206, 0.181, 0.162), 0.25, 0.149, (2, 9),
                  0.789, "di nu astéroid jeung nyaéta anu ieu dina tina jadi kabupatén pikeun indonésia"),
    "lb": _config(0.409, (0.616, 0.509, 0.445), (0.24, 0.218, 0.197, 0.177, 0.161, 0.143), 0.048, 0.26, (1, 16),
                  0.783, "de an der d' vun a vum den am ass déi regie huet eng"),
    "so": _config(0.405, (0.812, 0.846, 0.811), (0.285, 0.27, 0.251, 0.232, 0.211, 0.191), 0.0, 0.29, (2, 74),
                  0.831, "oo iyo ka ah ee ku u waa la waxaa ay soo uu waxay"),
    "tk": _config(0.276, (0.406, 0.337, 0.274), (0.17, 0.151, 0.138, 0.125, 0.117, 0.104), 0.0, 1.0, (1, 24),
                  0.769, "we bilen hem bu üçin bir ol boýunça ýylda da bolsa onuň de bolup bolan öz uly dünýä şol "
                  "ýaly iň ýylyň"),
    "yo": _config(0.433, (0.516, 0.446, 0.387), (0.232, 0.215, 0.19, 0.189, 0.153, 0.14), 0.139, 0.069, (1, 12),
                  0.86, "ní ni ti tí ó jẹ́ àwọn o ibi àti kékeré ástẹ́rọ́ìdì ìgbàjá plánẹ́tì"),
    "mg": _config(0.332, (0.33, 0.293, 0.264), (0.151, 0.137, 0.129, 0.119, 0.109, 0.099), 0.0, 0.317, (2, 10),
                  0.769, "ny dia amin'ny ao ary i taona tanàna kaominina ara koa tamin'ny"),
    "ht": _config(0.476, (0.691, 0.603, 0.529), (0.267, 0.242, 0.221, 0.197, 0.176, 0.159), 0.028, 0.605, (2, 20),
                  0.825, "nan de se li yo vil sa yon ak ayisyen kòm istwa relasyon la te ayiti jewografi kiba"),
    "ceb": _config(0.248, (0.674, 0.553, 0.445), (0.14, 0.124, 0.112, 0.098, 0.088, 0.078), 0.008, 0.194, (3, 11),
                  0.829, "sa ang nga mga ug ni c ° niini palibot nasod km milimetro gi basihan kasarangang bulan"),
    "war": _config(0.394, (0.495, 0.439, 0.364), (0.281, 0.234, 0.222, 0.193, 0.174, 0.155), 0.5, 0.077, (3, 12),
                  0.865, "nga an in ha han ngan nahilalakip uska familia species genus ni hini subspecies ginhulagway "
                  "waray nakalista hadton"),
    "nn": _config(0.281, (0.899, 0.705, 0.375), (0.16, 0.149, 0.135, 0.125, 0.114, 0.102), 0.125, 0.195, (3, 11),
                  0.815, "i og av er som til på ein det med for den han vart frå var dei"),
    "oc": _config(0.521, (0.651, 0.526, 0.411), (0.283, 0.253, 0.222, 0.202, 0.186, 0.164), 0.091, 0.471, (2, 12),
                  0.833, "de la e lo en a es per que un una del dins las"),
    "fy": _config(0.248, (0.243, 0.213, 0.176), (0.12, 0.113, 0.102, 0.093, 0.083, 0.075), 0.056, 0.181, (2, 11),
                  0.811, "de fan yn it en in e op is mei dat"),
    "ast": _config(0.679, (1.597, 1.59, 1.469), (0.412, 0.379, 0.328, 0.313, 0.306, 0.287), 0.195, 0.167, (3, 10),
                  0.824, "de la y a del en los que el les so una un"),
    "an": _config(0.449, (0.527, 0.476, 0.415), (0.272, 0.255, 0.233, 0.209, 0.185, 0.163), 0.167, 0.184, (3, 13),
                  0.811, "de en a y o que ye d'o d'a una la con un se os"),
    "io": _config(0.165, (0.238, 0.217, 0.188), (0.082, 0.075, 0.068, 0.062, 0.056, 0.051), 0.25, 0.143, (2, 10),
                  0.727, "la di e esis en de yari esas por o evante mezvalora per segun"),
    "ia": _config(0.472, (0.924, 0.763, 0.644), (0.301, 0.284, 0.261, 0.24, 0.22, 0.199), 0.0, 0.171, (2, 14),
                  0.858, "le de in un del e es que se provincia"),
    "wa": _config(0.641, (0.457, 0.508, 0.474), (0.485, 0.489, 0.539, 0.292, 0.21, 0.135), 0.05, 0.202, (2, 14),
                  0.73, "l a di li d les des on est e et do c ene ki k del dins i"),
    "li": _config(0.673, (0.546, 0.51, 0.432), (0.261, 0.239, 0.218, 0.196, 0.169, 0.149), 0.136, 0.154, (3, 12),
                  0.803, "de 't in en van vaan is 'n op"),
    "nds": _config(0.568, (0.611, 0.542, 0.472), (0.351, 0.328, 0.292, 0.267, 0.245, 0.218), 0.12, 0.162, (3, 12),
                  0.59, "de in un vun dat is ’n en von to den an hett he"),
    "scn": _config(0.608, (0.447, 0.39, 0.321), (0.24, 0.22, 0.197, 0.177, 0.157, 0.136), 0.0, 0.278, (2, 11),
                  0.833, "di e lu a la l' dâ è li ca na dû nu n pruvincia"),
    "vec": _config(0.706, (0.614, 0.61, 0.531), (0.299, 0.267, 0.237, 0.212, 0.191, 0.167), 0.0, 0.276, (2, 9),
                  0.876, "de el ła del xe che in e departemento altri i a parte on comun fa projeti la evołusion inte "
                  "comuni rejon demogràfega l' abitanti"),
    "lmo": _config(0.735, (0.805, 0.761, 0.802), (0.432, 0.407, 0.376, 0.35, 0.323, 0.296), 0.167, 0.263, (2, 9),
                  0.827, "de la l' del è a el e in che i di na ha l al"),
    "pms": _config(0.455, (0.311, 0.274, 0.266), (0.223, 0.176, 0.168, 0.158, 0.145, 0.134), 0.091, 0.208, (2, 12),
                  0.769, "a ëd l' dël na é e ël la ant comun con dipartiment km² an lenghe abitant për dla region"),
    "min": _config(0.483, (0.616, 0.548, 0.481), (0.361, 0.336, 0.308, 0.28, 0.251, 0.222), 0.667, 0.061, (3, 9),
                  0.818, "dari nan ko adolah dan asteroid langau di spesies marupokan bagian juo famili iko ordo "
                  "filum animalia kingdom arthropoda insecta kelas kumbang kayu untuak matoari diptera biasonyo "
                  "nebula"),
    "ilo": _config(0.304, (0.989, 0.82, 0.699), (0.176, 0.159, 0.144, 0.126, 0.111, 0.097), 0.077, 0.184, (3, 10),
                  0.842, "ti a iti ket nga ken dagiti kadagiti idi maysa daytoy"),
    "pam": _config(0.694, (0.794, 0.702, 0.645), (0.412, 0.39, 0.369, 0.346, 0.307, 0.278), 0.05, 0.295, (1, 23),
                  0.809, "ning ing a king yang ya at metung of deng kareng keng"),
    "sco": _config(0.598, (0.509, 0.446, 0.4), (0.328, 0.302, 0.281, 0.259, 0.232, 0.211), 0.059, 0.164, (3, 10),
                  0.792, "the o an in a is tae wis as"),
    "gn": _config(0.407, (0.887, 0.778, 0.644), (0.252, 0.239, 0.217, 0.203, 0.188, 0.17), 0.083, 0.343, (3, 25),
                  0.74, "ha ary pegua de pe peteĩ umi ha'e"),
    "rm": _config(0.274, (0.408, 0.347, 0.278), (0.177, 0.163, 0.156, 0.132, 0.128, 0.123), 0.1, 0.2, (1, 10),
                  0.857, "da la il en l’ e dal a è ils las che ha per cun ina in d’"),
    "co": _config(0.454, (0.759, 0.742, 0.675), (0.255, 0.242, 0.227, 0.217, 0.201, 0.184), 0.091, 0.441, (2, 11),
                  0.833, "di u a in à è i hè da una chì so un si sò e"),
    "sc": _config(0.271, (1.214, 0.971, 0.813), (0.16, 0.146, 0.13, 0.115, 0.104, 0.093), 0.1, 0.16, (3, 32),
                  0.833, "de su in sa a e est chi sos is dae unu cun pro una"),
    "nap": _config(0.711, (0.497, 0.436, 0.391), (0.405, 0.381, 0.357, 0.322, 0.299, 0.279), 0.0, 1.143, (2, 15),
                  0.781, "e comune a d''a o pruvincia è nu l' italia giugrafia reggione ll' ca"),
    "vls": _config(0.481, (0.756, 0.708, 0.64), (0.278, 0.262, 0.241, 0.22, 0.203, 0.185), 0.027, 0.222, (3, 13),
                  0.792, "de van in en 't e is zyn die"),
    "bar": _config(0.591, (0.681, 0.635, 0.529), (0.38, 0.356, 0.326, 0.301, 0.274, 0.247), 0.0, 0.25, (2, 17),
                  0.772, "da de und in vo a is im des hod"),
    "hsb": _config(0.434, (0.485, 0.432, 0.376), (0.277, 0.259, 0.224, 0.198, 0.174, 0.159), 0.058, 0.381, (2, 11),
                  0.735, "a w je na wot so z do"),
    "dsb": _config(0.61, (1.422, 1.448, 1.351), (0.412, 0.394, 0.375, 0.346, 0.323, 0.298), 0.071, 0.25, (2, 22),
                  0.705, "a jo w na z se wót su"),
    # Stanza-counted languages (stanza45): lid.176 languages whose FineWeb-2 code datatrove's tokenizer assignment gives
    # Stanza's tokenizer (its neural models download on first use, so datatrove's words could not be counted here);
    # the recomputed configs (05e6729567a5 or d331bee82ee2, tests/data/fineweb2/README.md), on the words of the spaCy
    # table ``_SPACED_LANGUAGES`` names (bench/README.md, "The Stanza-counted languages"). As published: myv_Cyrl's
    # and glv_Latn's top n-gram limits exceed 1 (the rule never removes), xal_Cyrl's 3-gram limit is above its
    # 2-gram one, krc_Cyrl's newline limit is 1.6 per word; Maltese's stop words are Stanza's tokens "il-", "l-",
    # "tal-" (the article with its hyphen), Welsh's, Cornish's, Gaelic's and Manx's hold "'r", "'n", "'s", "'sy".
    "be": _config(0.261, (0.196, 0.153, 0.135), (0.124, 0.116, 0.103, 0.094, 0.084, 0.075), 0.143, 0.216, (3, 11),
                  0.72, "і у ў з на года да годзе па ад за быў не што г. для таксама а яго як вобласці пасля"),
    "kk": _config(0.304, (0.172, 0.147, 0.127), (0.159, 0.148, 0.136, 0.126, 0.115, 0.104), 0.176, 0.186, (3, 12),
                  0.694, "және су бойынша мен жылы коды өзен орналасқан мәліметтер жер бұл саны тұрғындарының адамды "
                  "оның болып алып мемлекеттік құрайды жаңа ол гз бар жатқан"),
    "mn": _config(0.324, (0.184, 0.165, 0.143), (0.181, 0.169, 0.156, 0.144, 0.132, 0.12), 0.077, 0.222, (2, 11),
                  0.781, "нь онд оны юм улсын байна сарын болон байсан энэ бөгөөд их монгол ба олон улс гэж хүн нэг "
                  "байдаг"),
    "ug": _config(0.293, (0.2, 0.159, 0.134), (0.136, 0.123, 0.108, 0.097, 0.087, 0.079), 0.0, 0.394, (2, 15),
                  0.782, "، ۋە بىر بىلەن بۇ بولۇپ بولغان ياكى ئۇيغۇر ئۇ دەپ ئۈچۈن بولىدۇ ئۇنىڭ قىلىپ بار"),
    "myv": _config(0.439, (1.062, 1.063, 0.964), (0.352, 0.327, 0.296, 0.271, 0.252, 0.227), 0.1, 0.432, (3, 12),
                  0.662, "ды те и иестэ ульнесь в велеть т ие с. эрзянь веленть чи веле с а иень эрицятне раськень "
                  "буе чистэ марто ош содавикс ломанть а. ашти сон буень истяжо о на"),
    "bxr": _config(0.382, (0.516, 0.471, 0.409), (0.207, 0.194, 0.178, 0.16, 0.148, 0.132), 0.111, 0.25, (3, 9),
                  0.725, "ба юм энэ ондо болон байна оной улас үдэр гэжэ хүн уласай һарын ехэ байһан байгаа газар "
                  "олон жэлэй али урда мүн байдаг хойто хото гү болоод"),
    "krc": _config(0.498, (0.578, 0.524, 0.439), (0.344, 0.315, 0.273, 0.235, 0.211, 0.19), 0.0, 1.6, (2, 11),
                  0.743, "бла эмда да джылны эм болгъан ол болгъанды бу бир аны уллу джыл алай а дери ючюн туугъанла "
                  "ёлгенле ишле кёре кърал джылда баш сора болады уа"),
    "xal": _config(0.473, (0.577, 0.599, 0.463), (0.209, 0.194, 0.179, 0.159, 0.148, 0.132), 0.083, 0.364, (2, 9),
                  0.742, "болҗана әмтн җил җилд билә заал өдр җилин бәәдг т балһсн сарин шин орсин болхла олн нь "
                  "ниицәнә күртл лит төрсн григорин немсн йовдлмуд өңгрсн литд өдрмүд байруд километр улдв "
                  "болн и то күүнә келн -күмн үзг район хотл бәәнә орн бәәдег эн в һ лав домен төгәлң ң төгәл "
                  "sv балhсн заалһуд сайт официальный хальмг цаһан әмтын администрации"),
    "gl": _config(0.906, (0.629, 0.399, 0.354), (0.266, 0.242, 0.221, 0.2, 0.18, 0.159), 0.136, 0.182, (1, 10),
                  0.824, "de a e o en que do da un no os na é unha como"),
    "cy": _config(0.269, (0.258, 0.196, 0.165), (0.144, 0.131, 0.12, 0.108, 0.097, 0.088), 0.25, 0.167, (3, 9),
                  0.828, "yn y a ffilm o gan 'r ar mae yw cyfarwyddwr ei i oedd wedi"),
    "br": _config(0.196, (0.242, 0.181, 0.157), (0.114, 0.099, 0.083, 0.075, 0.068, 0.062), 0.062, 0.253, (3, 12),
                  0.805, "e ar a an ha gant da en ur hag eus zo oa eo"),
    "kw": _config(0.249, (0.459, 0.38, 0.334), (0.148, 0.143, 0.133, 0.124, 0.113, 0.105), 0.1, 0.226, (2, 12),
                  0.757, "a an yn ha yw 'n y dhe gans o"),
    "gd": _config(0.276, (0.487, 0.363, 0.267), (0.148, 0.138, 0.127, 0.118, 0.107, 0.097), 0.0, 0.364, (2, 12),
                  0.788, "an a ann na e tha agus air a' am 's bha"),
    "gv": _config(0.351, (0.981, 1.047, 1.094), (0.159, 0.142, 0.129, 0.114, 0.103, 0.09), 0.0, 0.246, (3, 11),
                  0.815, "as ny y er ayns ta yn 'sy dy she"),
    "mt": _config(0.395, (0.949, 0.746, 0.548), (0.212, 0.193, 0.175, 0.159, 0.142, 0.125), 0.111, 0.162, (3, 13),
                  0.823, "l- tal- u ta' il- li fl- fil- mill-"),
    "ku": _config(0.236, (0.253, 0.201, 0.14), (0.112, 0.103, 0.097, 0.089, 0.081, 0.073), 0.222, 0.167, (2, 10),
                  0.783, "û li bi ji de di ye ku ya jî xwe e ser"),
    "diq": _config(0.268, (0.401, 0.351, 0.296), (0.147, 0.135, 0.124, 0.117, 0.11, 0.093), 0.012, 0.462, (2, 10),
                  0.821, "de i ra yew u bıvênên komunê lista û e ca dewleta wılayetê ke"),
    "hif": _config(0.437, (0.513, 0.475, 0.414), (0.278, 0.259, 0.239, 0.22, 0.202, 0.182), 0.167, 0.179, (1, 15),
                  0.83, "ke hae me mein ek aur rahaa se the film fiji"),
}


def fineweb2_options(language: str, config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """FineWeb-2's thresholds for ``language`` as our filters' options. Each pair has the same rule in
    datatrove and here: ``max_non_alpha_words_ratio`` is, despite its name, the least share of words with
    a letter (datatrove removes below it), our ``min_alpha_words``; ``line_punct_thr`` the least share of
    lines ending in terminal punctuation (0 never removes); ``new_line_ratio`` the most newlines per word;
    ``top_n_grams``/``dup_n_grams`` the most characters in the top 2..4-gram and in duplicated 5..10-grams
    per n; ``dup_line_frac`` the most duplicated lines. Stop words: ``FINEWEB2[language]["stopwords"]``.
    ``config``: another config in FineWeb-2's key names instead of ``FINEWEB2[language]``."""
    c = FINEWEB2[language] if config is None else config
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

def _fineweb2(code: str, segmenter: str) -> LanguageParams:
    """A language with FineWeb-2's stop words and thresholds, its words split by ``segmenter``: spaCy's rules for a
    whitespace language (``pipeline.filters.segment.SPACED``), else the library FineWeb-2 counted them with
    (``segment_lib``); datatrove's tokenizer for it either way."""
    return LanguageParams(segmenter, tuple(FINEWEB2[code]["stopwords"]), fineweb2_options(code))


# Whitespace languages by how their spaCy tokenizer treats apostrophes and hyphens (checked on the same test
# string in datatrove's tokenizer for each: bench/README.md, "FineWeb-2's values beyond Chinese, Japanese and
# German"); English keeps the English rules. "spacy-<table>": spaCy's algorithm itself with a
# rule table of ``pipeline.filters.affixes`` (the language's own, or "base" where spaCy has only its base rules),
# which also keeps URLs, paths and options as spaCy does (bench/README.md, "spaCy's tokenizer algorithm").
# Stanza-counted languages (stanza45): datatrove's tokenizer assignment gives FineWeb-2's codes of these Stanza's
# neural tokenizer (be, kk, gl, cy, gd, gv, ug, kmr, myv, bxr models; krc on Kazakh's, mn/xal on Buryat's, br/kw on
# Welsh's, diq/hif on Kurmanji's). Its models download on first use and no package registry ships them, so
# datatrove's words for these languages could NOT be counted here and our words are not compared with them: ours are
# the closest spaCy table's. Measured on the UDHR declarations of the 11 languages that have one
# (bench/stanza_languages.py; bench/README.md, "The Stanza-counted languages"): the candidate tables (spaCy's xx and
# related languages') share 92-100 % of the tokens and give the same keep/drop decision under FineWeb-2's values on
# every part at 8 and 30 parts but one (Galician, 29/30 between Portuguese's and xx); the table taken is the related
# language's where it gives a token Stanza's published stop words show (Scottish Gaelic "'s": English's special case)
# or splits what UD tokenization splits (Galician "1ª." as "1ª", "."; Portuguese's), else xx. Breton stays on xx:
# French's elision rule splits its trigraph "c'h". The languages without a UDHR text take the table of the language
# whose Stanza model datatrove runs for them.
STANZA_TABLES = {"be": "spacy-uk", "kk": "spacy-ky", "krc": "spacy-ky", "mn": "spacy-xx", "bxr": "spacy-xx",
                 "xal": "spacy-xx", "myv": "spacy-xx", "ug": "spacy-xx", "gl": "spacy-pt", "cy": "spacy-xx",
                 "br": "spacy-xx", "kw": "spacy-xx", "gd": "spacy-en", "gv": "spacy-xx", "mt": "spacy-mt",
                 "ku": "spacy-xx", "diq": "spacy-xx", "hif": "spacy-xx"}

_SPACED_LANGUAGES = {"fr": "spacy-fr", "ca": "spacy-ca", "it": "spacy-it", "ru": "spacy-ru", "ar": "spacy-ar",
                     "sv": "spacy-sv", "el": "spacy-el", "hu": "spacy-hu", "ro": "spacy-ro", "da": "spacy-da",
                     "sk": "spacy-base", "sl": "spacy-sl", "et": "spacy-base", "es": "spacy-es", "pt": "spacy-pt",
                     "nl": "spacy-nl", "no": "spacy-nb", "fi": "spacy-fi", "tr": "spacy-tr", "cs": "spacy-base",
                     "uk": "spacy-uk", "bg": "spacy-bg", "hr": "spacy-base", "lt": "spacy-lt", "lv": "spacy-base",
                     "is": "spacy-base", "af": "spacy-base", "eu": "spacy-base", "hy": "spacy-xx", "pl": "spacy-pl",
                     "fa": "spacy-fa", "id": "spacy-id",
                     # non-Latin lid.176 languages (fw2cyr45): datatrove's spaCy language for each (Bashkir: Tatar's;
                     # Egyptian Arabic: Arabic's; South Azerbaijani: Persian's; its WhitespaceTokenizer for Georgian,
                     # Yiddish and Dhivehi, and Tajik, Chuvash, Yakut, Ossetian, Chechen: spaCy's xx, as Hebrew's is)
                     "sr": "spacy-sr", "mk": "spacy-mk", "am": "spacy-am", "ky": "spacy-ky", "tt": "spacy-tt",
                     "ba": "spacy-tt", "arz": "spacy-ar", "azb": "spacy-fa", "he": "spacy-xx", "ka": "spacy-xx",
                     "yi": "spacy-xx", "dv": "spacy-xx", "tg": "spacy-xx", "cv": "spacy-xx", "sah": "spacy-xx",
                     "os": "spacy-xx", "ce": "spacy-xx", "av": "spacy-xx", "kv": "spacy-xx", "lez": "spacy-xx",
                     "mhr": "spacy-xx", "mrj": "spacy-xx", "tyv": "spacy-xx", "xmf": "spacy-xx", "rue": "spacy-ru",
                     # Latin-script lid.176 languages (fw2lat45): the table of the spaCy language datatrove assigns
                     # to FineWeb-2's code (Javanese, Sundanese, Malagasy, Minangkabau, Iloko, Pampanga: Malay's;
                     # Swahili: Setswana's; Cebuano, Waray: Tagalog's; Bosnian: Serbian's; Venetian, Lombard,
                     # Piedmontese: Ligurian's; Turkmen: Turkish's; Nynorsk: Bokmål's; Occitan, Asturian, Aragonese,
                     # Corsican, Sardinian: Spanish's; Walloon, Romansh: French's; Limburgish, Low German, West Flemish:
                     # Dutch's; Sicilian, Neapolitan: Italian's; Bavarian: German's; West Frisian, Scots: English's)
                     **{code: "spacy-ms" for code in ("ms", "jv", "su", "mg", "min", "ilo", "pam")},
                     "sw": "spacy-tn", "tl": "spacy-tl", "ceb": "spacy-tl", "war": "spacy-tl", "ga": "spacy-ga",
                     "la": "spacy-la", "hsb": "spacy-hsb", "bs": "spacy-sr", "lb": "spacy-lb", "vec": "spacy-lij",
                     "lmo": "spacy-lij", "pms": "spacy-lij", "tk": "spacy-tr", "nn": "spacy-nb",
                     **{code: "spacy-es" for code in ("oc", "ast", "an", "co", "sc")}, "wa": "spacy-fr", "rm": "spacy-fr",
                     "li": "spacy-nl", "nds": "spacy-nl", "vls": "spacy-nl", "scn": "spacy-it", "nap": "spacy-it",
                     "bar": "spacy-de", "fy": "spacy-en", "sco": "spacy-en",
                     # spaCy's xx (datatrove's "xx", or a spaCy language without rules of its own: the same)
                     **{code: "spacy-xx" for code in ("az", "uz", "sq", "eo", "so", "yo", "ht", "io", "ia", "gn",
                                                        "dsb")},
                     # Stanza-counted languages (stanza45): datatrove counts their words with Stanza's tokenizer, which
                     # could not be run here (its models download on first use); the closest spaCy table, measured on
                     # the UDHR against the other candidates (bench/README.md, "The Stanza-counted languages")
                     **STANZA_TABLES}

# The Indic languages datatrove splits with the Indic NLP Library's trivial tokenizer (its tokenizer assignment:
# Urdu's punctuation for those written in Arabic script); those without FineWeb-2's values here keep the English
# thresholds and no stop-word list (the rule is skipped), as before, with the library's words.
_INDIC_LANGUAGES = {**{code: INDIC for code in ("hi", "mr", "ne", "sa", "mai", "new", "bn", "as", "bpy", "pa", "gu",
                                                "or", "ta", "te", "kn", "ml", "si")},
                    **{code: INDIC_URDU for code in ("ur", "sd", "ps")},
                    # non-Latin lid.176 languages (fw2cyr45): Central Kurdish, Western Panjabi, Mazanderani, Northern
                    # Luri; Doteli (datatrove: Nepali's, the same tokenizer as Hindi's)
                    **{code: INDIC_URDU for code in ("ckb", "pnb", "mzn", "lrc")}, "dty": INDIC}

LANGUAGES: dict[str, LanguageParams] = {
    # English: spaCy's English rules, as datatrove counts English words (``pipeline.filters.segment``), Gopher's stop
    # words (A.1.1)
    "en": LanguageParams("spacy-en", ("the", "be", "to", "of", "and", "that", "have", "with")),
    "de": _fineweb2("de", "spacy-de"),  # spaCy's German table (de46; it was a compound rule of our own)
    # the other whitespace languages: spaCy's word rules, and FineWeb-2's values, else (Turkish: its third-generation
    # config is not stored) the English thresholds and no stop-word list (the rule is skipped)
    **{code: _fineweb2(code, segmenter) if code in FINEWEB2 else LanguageParams(segmenter)
       for code, segmenter in _SPACED_LANGUAGES.items()},
    "zh": LanguageParams(JIEBA, tuple(FINEWEB2["zh"]["stopwords"]), _ZH),
    "yue": LanguageParams(JIEBA, None, _ZH),
    "wuu": LanguageParams(JIEBA, None, _ZH),
    "ja": LanguageParams(SUDACHI, tuple(FINEWEB2["ja"]["stopwords"]), _JA),
    # Korean (Kiwi's morphemes), Thai (PyThaiNLP's words) and the Indic languages (the Indic NLP Library's tokens):
    # FineWeb-2's tokenizers and values; Thai ends sentences with a space, so C4's sentence count stays off
    "ko": _fineweb2("ko", KIWI),
    "th": LanguageParams(THAI, tuple(FINEWEB2["th"]["stopwords"]), {**fineweb2_options("th"), **_NO_SENTENCE_MARKS_C4}),
    **{code: _fineweb2(code, segmenter) if code in FINEWEB2 else LanguageParams(segmenter)
       for code, segmenter in _INDIC_LANGUAGES.items()},
    # Khmer, Lao and Burmese: the words of FineWeb-2's tokenizers and FineWeb-2's values; Lao ends sentences with a
    # space, as Thai (C4's sentence count stays off); Khmer (U+17D4) and Burmese (U+104B) have sentence marks
    "km": _fineweb2("km", KHMER),
    "lo": LanguageParams(LAO, tuple(FINEWEB2["lo"]["stopwords"]), {**fineweb2_options("lo"), **_NO_SENTENCE_MARKS_C4}),
    "my": _fineweb2("my", BURMESE),
    # Vietnamese: the words of spaCy's pyvi tokenizer, datatrove's for vie_Latn (syllables joined into words)
    "vi": _fineweb2("vi", VIETNAMESE),
    **{code: LanguageParams(options=_NO_WORDS) for code in ("bo", "dz")},
}

# per-script entries (script45): a language's documents in another script than its main entry's, keyed
# "<code>-<Script>" (``analysis_key``), with FineWeb-2's config of the language in that script (recomputed generation,
# tests/data/fineweb2/README.md) and the words of datatrove's tokenizer for that code: spaCy's Serbian rules for
# srp_Latn (as for srp_Cyrl), spaCy's xx for uzn_Cyrl, azj_Cyrl, tuk_Cyrl and, through its WhitespaceTokenizer,
# zsm_Arab (Jawi). Each checked on the UDHR's declaration in that script (bench/README.md, "Languages written in
# several scripts"). lid.176 labels Latin-script Serbian "sr" (the UDHR's srp_latn; other Latin Serbian "sh"); it
# labelled the UDHR's Cyrillic Uzbek, Azerbaijani and Turkmen "tg", "tt", "tt" and its Jawi Malay "ar", so those
# entries serve mainly sources that declare the language (a wiki, a book). As published: azj_Cyrl's top 2/3/4-gram
# limits do not fall, zsm_Arab's duplicated 9-gram limit rises, tuk_Cyrl's top limits exceed 1 (never remove).
# Not taken: tat_Latn and snd_Deva (recomputed, stored at d331bee82ee2), for want of real text in those scripts here.
_SCRIPT_CONFIGS = {"sr-Latn": "srp_Latn", "uz-Cyrl": "uzn_Cyrl", "az-Cyrl": "azj_Cyrl", "tk-Cyrl": "tuk_Cyrl",
                   "ms-Arab": "zsm_Arab"}
FINEWEB2_CONFIG.update(_SCRIPT_CONFIGS)
FINEWEB2.update({
    "sr-Latn": _config(0.197, (0.189, 0.184, 0.17), (0.131, 0.126, 0.12, 0.113, 0.105, 0.096), -1, 0.167, (2, 10),
                       0.788, "i je da u se na a su ne od koji za"),
    "uz-Cyrl": _config(0.202, (0.166, 0.151, 0.135), (0.12, 0.112, 0.104, 0.096, 0.088, 0.079), -1, 0.091, (3, 11),
                       0.719, "ва билан ҳам у мен учун бу деб улар бир эди"),
    "az-Cyrl": _config(0.297, (0.257, 0.266, 0.231), (0.15, 0.144, 0.137, 0.13, 0.12, 0.111), -1, 0.1, (3, 12),
                       0.714, "вә о бу бир ки дә јеһова үчүн"),
    "tk-Cyrl": _config(0.531, (1.365, 1.325, 1.197), (0.386, 0.354, 0.345, 0.307, 0.295, 0.255), -1, 0.125, (3, 11),
                       0.727, "ве билен үчин ол де бу нәме да шейле биз хем"),
    "ms-Arab": _config(0.211, (0.826, 0.722, 0.51), (0.238, 0.219, 0.21, 0.196, 0.197, 0.171), -1, 0.2, (2, 8),
                       0.778, "ساي توم يڠ تيدق كامو ايت دي تق ماري اڤ اين بوليه دڠن کامو تاهو بوات ، دان اداكه اكو "
                              "اكن اورڠ تله اداله اکو ماهو اد سامي كاو راس لايلا"),
})
LANGUAGES.update({key: _fineweb2(key, segmenter) for key, segmenter in {
    "sr-Latn": "spacy-sr", "uz-Cyrl": "spacy-xx", "az-Cyrl": "spacy-xx", "tk-Cyrl": "spacy-xx",
    "ms-Arab": "spacy-xx"}.items()})


def _without_words(code: str, skipped: Mapping[str, Mapping[str, Any]]) -> LanguageParams:
    """``code``'s entry where its segmenter's library is not installed: the rules ``skipped`` names (those that
    count words) off, FineWeb-2's values for the rest (the duplicated lines' share, line punctuation), which need
    no words: without them a Khmer page would meet English's line punctuation, which FineWeb-2 turns off."""
    fw2 = fineweb2_options(code)
    return LanguageParams(options={name: {**fw2.get(name, {}), **skipped.get(name, {})}
                                   for name in sorted({*fw2, *skipped})})


# What a language falls back to where its segmenter's library is not installed: its word rules skipped, as before
# the library was used, its other FineWeb-2 values kept (Lao's line punctuation FineWeb-2's 0.0, never removing, and
# C4's sentence count off, as with the library)
_NO_WORDS_NO_C4_MARKS = {**_NO_WORDS, "c4": {**_NO_WORDS["c4"], **_NO_SENTENCE_MARKS_C4["c4"]}}
_WITHOUT_LIBRARY = {"km": _without_words("km", _NO_WORDS), "lo": _without_words("lo", _NO_WORDS_NO_C4_MARKS),
                    "my": _without_words("my", _NO_WORDS), "vi": _without_words("vi", _NO_WORDS)}
_missing_warned: dict[str, str] = {}  # language -> why its word rules are skipped in this process

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


# Languages written in several scripts: lid.176 gives one label whatever the script ("sr" for Serbian in Cyrillic and
# in Latin letters), FineWeb-2 a config per language and script (srp_Cyrl, srp_Latn), whose stop words are written in
# that script. A key "<code>-<Script>" (ISO 15924, as ``segment.script_of`` names it) is the entry of the language's
# documents in that script; the plain code stays the entry of the others (its main script's config). Without it a
# Latin-script Serbian page met srp_Cyrl's Cyrillic stop words and Gopher's stop-word rule removed every one.
SCRIPT_SEPARATOR = "-"


def script_entries() -> dict[str, tuple[str, ...]]:
    """Language -> the scripts that have an entry of their own (``"sr": ("Latn",)``), in name order."""
    out: dict[str, list[str]] = {}
    for key in sorted(LANGUAGES):
        language, _, script = key.partition(SCRIPT_SEPARATOR)
        if script:
            out.setdefault(language, []).append(script)
    return {language: tuple(scripts) for language, scripts in out.items()}


_SCRIPT_ENTRIES = script_entries()


def has_script_entries(language: str | None) -> bool:
    """True where ``language`` has an entry for some script (its documents' script then picks the entry)."""
    return language in _SCRIPT_ENTRIES


def analysis_key(language: str | None, script: str | None) -> str | None:
    """The table key a document of ``language`` written in ``script`` is judged with: ``"sr-Latn"`` where the table
    has that entry, else ``language`` (a Cyrillic "sr" document, and every language with one entry, as before)."""
    if not script or language not in _SCRIPT_ENTRIES or script not in _SCRIPT_ENTRIES[language]:
        return language
    return f"{language}{SCRIPT_SEPARATOR}{script}"


def params(language: str | None) -> LanguageParams | None:
    """The table's entry for ``language``; for a language whose segmenter's library is missing (Khmer, Lao,
    Burmese, Vietnamese), its no-word entry, with a warning the first time in the process that names what to install."""
    if not language:
        return None
    p = LANGUAGES.get(language)
    if language in _WITHOUT_LIBRARY and p is not None and (why := _missing(p.segmenter)):
        if language not in _missing_warned:
            _missing_warned[language] = why
            logging.getLogger(__name__).warning("%s documents: word rules skipped (no word segmenter): %s",
                                                language, why)
        return _WITHOUT_LIBRARY[language]
    return p


_missing_cache: dict[str, str | None] = {}


def _missing(segmenter: str) -> str | None:
    """``segment_lib.missing_library``, looked up once per process and segmenter."""
    if segmenter not in _missing_cache:
        _missing_cache[segmenter] = missing_library(segmenter)
    return _missing_cache[segmenter]


def skipped_for_missing_library() -> dict[str, str]:
    """Languages whose word rules this process skipped because their segmenter's library is missing, and why."""
    return dict(_missing_warned)


# Why a rule a filter's options hold is off for a language's documents, as the filter stage counts it
# (``rules_off``; statistics ``rules_off.<source>.<language>.<cause>.<filter>.<rule>``, the report and the run's
# summary show them). Rules a language's entry turns off by design (C4's sentence count for Thai and Lao, which end
# sentences with a space) are not causes: they are the language's settings, as its thresholds are.
LIBRARY_MISSING, NO_SEGMENTER, NO_STOP_WORDS = "library_missing", "no_segmenter", "no_stop_words"
CAUSES = (LIBRARY_MISSING, NO_SEGMENTER, NO_STOP_WORDS)
NO_SEGMENTER_LANGUAGES = tuple(sorted(code for code, p in LANGUAGES.items() if p.options is _NO_WORDS))  # bo, dz


def _is_off(before: Any, after: Any) -> bool:
    """A rule's option set in ``before`` and off in ``after`` (None, or an empty table of n-gram limits)."""
    if before is None or (isinstance(before, Mapping) and not before):
        return False
    return after is None or (isinstance(after, Mapping) and not after)


def rules_off(options: Any, local: Any, filter_name: str, language: str | None) -> dict[str, str]:
    """The rules (option names) that ``options``, a filter's options as the manifest set them, holds and ``local``,
    ``localize(options, filter_name, language)``, turns off, each with its cause (``CAUSES``); rules off by the
    language's design are left out. Why: a document judged without a rule is kept unjudged by it, and where the
    reason is a library the user can install, a run must say so rather than keep those documents silently."""
    if not language or local is options:
        return {}
    off = [key for key in type(options).model_fields if _is_off(getattr(options, key), getattr(local, key))]
    if not off:
        return {}
    out: dict[str, str] = {}
    installed = LANGUAGES.get(language)
    if language in _WITHOUT_LIBRARY and installed is not None and _missing(installed.segmenter):
        with_library = _localized(options, filter_name, language, installed)
        out = {key: LIBRARY_MISSING for key in off if not _is_off(getattr(options, key), getattr(with_library, key))}
    for key in off:
        if key in out:
            continue
        if language in NO_SEGMENTER_LANGUAGES:
            out[key] = NO_SEGMENTER
        elif filter_name == "gopher_quality" and key == "min_stop_words":
            out[key] = NO_STOP_WORDS
    return dict(sorted(out.items()))


def skip_reason(language: str, cause: str) -> tuple[str, str | None]:
    """What a user reads for rules off with ``cause`` in ``language``: the reason, and the command that installs
    the missing library (None where nothing can be installed)."""
    if cause == LIBRARY_MISSING:
        module, install = LIBRARY_MODULES[LANGUAGES[language].segmenter]
        return f"{module} is not installed: no word segmenter, its word rules were skipped", install
    if cause == NO_SEGMENTER:
        return ("no word segmenter for this script: botok, FineWeb-2's tokenizer, downloads its dictionary on first "
                "use, so its word rules are always skipped"), None
    if cause == NO_STOP_WORDS:
        return "no stop-word list for this language: Gopher's stop-word rule is skipped", None
    raise ValueError(f"unknown cause {cause!r}; causes are {CAUSES}")


def segmenter_of(language: str | None) -> str:
    p = params(language)
    return p.segmenter if p is not None else WHITESPACE


def localize(options: Any, filter_name: str, language: str | None) -> Any:
    """``options`` of ``filter_name`` for documents in ``language``: the table's stop words and values
    replace every key the manifest did not set. Unknown or absent languages keep the options as they are
    (the English defaults), and so does a language without a table entry apart from its stop words: a
    language with no stop-word list skips Gopher's stop-word rule."""
    return _localized(options, filter_name, language, params(language))


def _localized(options: Any, filter_name: str, language: str | None, p: LanguageParams | None) -> Any:
    """``localize`` with ``p`` as ``language``'s entry."""
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
    data = {code: [p.segmenter, p.stop_words, p.options] for code in sorted(LANGUAGES) if (p := params(code))}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
