"""Per-language options: the table replaces defaults only, and a rule without meaning is skipped."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.filters.base import compute_signals, decide, signal_schema
from pipeline.filters.chain import ChainSpec, build
from pipeline.filters.fineweb import FineWebOptions
from pipeline.filters.gopher import STOP_WORDS, GopherQualityOptions, GopherRepetitionOptions
from pipeline.filters.lang_params import FINEWEB2, LANGUAGES, book_language, localize, wiki_language


def verdicts(chain_options: dict, texts: list[str], declared: list[str | None]) -> list[tuple[str, str] | None]:
    chain = build(ChainSpec.model_validate(chain_options))
    columns = compute_signals(chain, texts, [None] * len(texts), 1_000_000, declared=declared)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    decisions = decide(chain, table, 1_000_000, declared)
    return [None if f is None else (f, r) for f, r in zip(decisions.filter, decisions.rule)]


def test_the_table_replaces_defaults_for_the_language():
    zh = localize(GopherQualityOptions(), "gopher_quality", "zh")
    assert zh.stop_words == LANGUAGES["zh"].stop_words == tuple(FINEWEB2["zh"]["stopwords"])
    assert (zh.min_mean_word_length, zh.max_mean_word_length, zh.min_alpha_words) == (1, 5, 0.735)
    assert zh.min_words == 50  # counted in jieba words: the English value keeps its meaning
    assert localize(GopherQualityOptions(), "gopher_quality", "en").stop_words == STOP_WORDS
    assert localize(GopherQualityOptions(), "gopher_quality", None) == GopherQualityOptions()


@pytest.mark.parametrize("language", ["zh", "ja", "de"])
def test_chinese_japanese_and_german_take_fineweb2s_published_values_under_our_option_names(language):
    fw2 = FINEWEB2[language]
    quality = localize(GopherQualityOptions(), "gopher_quality", language)
    assert quality.stop_words == tuple(fw2["stopwords"]) and quality.min_stop_words == 2
    assert (quality.min_mean_word_length, quality.max_mean_word_length) == (fw2["min_avg_word_length"],
                                                                            fw2["max_avg_word_length"])
    assert quality.min_alpha_words == fw2["max_non_alpha_words_ratio"]  # datatrove removes below it
    repetition = localize(GopherRepetitionOptions(), "gopher_repetition", language)
    assert repetition.max_dup_line_frac == fw2["dup_line_frac"]
    assert repetition.max_top_ngram_char_frac == {n: v for n, v in fw2["top_n_grams"]}
    assert repetition.max_dup_ngram_char_frac == {n: v for n, v in fw2["dup_n_grams"]}
    assert repetition.max_dup_para_frac == GopherRepetitionOptions().max_dup_para_frac  # not in FineWeb-2's table
    fineweb = localize(FineWebOptions(), "fineweb", language)
    assert (fineweb.min_line_punct, fineweb.max_newline_words) == (fw2["line_punct_thr"], fw2["new_line_ratio"])
    assert fineweb.max_dup_line_chars == FineWebOptions().max_dup_line_chars


def test_japanese_short_line_is_ours_and_cantonese_shares_mandarins_thresholds():
    # FineWeb-2 runs no short-line rule: Japanese and Chinese keep our 10 characters (about 5 words)
    assert localize(FineWebOptions(), "fineweb", "ja").short_line_length == 10
    assert localize(FineWebOptions(), "fineweb", "zh").short_line_length == 10
    yue = localize(GopherQualityOptions(), "gopher_quality", "yue")
    zh = localize(GopherQualityOptions(), "gopher_quality", "zh")
    assert yue.min_stop_words is None and yue.min_alpha_words == zh.min_alpha_words
    assert localize(FineWebOptions(), "fineweb", "yue") == localize(FineWebOptions(), "fineweb", "zh")


def test_keys_the_manifest_sets_win_over_the_table():
    options = GopherQualityOptions(min_mean_word_length=2, stop_words=("的", "了"))
    zh = localize(options, "gopher_quality", "zh")
    assert zh.min_mean_word_length == 2 and zh.stop_words == ("的", "了")
    assert zh.max_mean_word_length == 5  # not set: the language's value (FineWeb-2's cmn_Hani)


def test_a_language_without_stop_words_skips_that_rule_only():
    sw = localize(GopherQualityOptions(), "gopher_quality", "sw")
    assert sw.min_stop_words is None and sw.min_words == 50
    text = "\n".join(" ".join(f"neno{i}{j} kwa" if j % 2 else f"habari{i}{j}" for j in range(12)) for i in range(8))
    assert verdicts({"gopher_quality": {}}, [text], [None]) == [("gopher_quality", "min_stop_words")]
    assert verdicts({"gopher_quality": {}}, [text], ["sw"]) == [None]


def test_word_rules_are_skipped_for_a_script_without_a_segmenter():
    # Thai separates phrases, not words: a line is a few whitespace "words" of 10-20 characters
    phrases = ["ภาษาไทยเป็นภาษาราชการ", "ของประเทศไทย", "มีผู้พูดประมาณหกสิบล้านคน", "ใช้อักษรไทยในการเขียน"]
    text = "\n".join(" ".join(phrases[(i + k) % 4] + str(i) for k in range(4)) + "।" for i in range(20))
    chain = {"gopher_quality": {}, "c4": {}, "fineweb": {"min_line_punct": None}}
    english = verdicts(chain, [text], [None])[0]
    assert english is not None and english[0] == "gopher_quality"  # English word rules remove it
    assert verdicts(chain, [text], ["th"]) == [None]


def test_declared_language_codes():
    assert [wiki_language(c) for c in ("zh", "ja", "de", "simple", "zh-yue", None)] == ["zh", "ja", "de", "en",
                                                                                        "yue", None]
    assert [book_language(v) for v in ("Chinese", "German", "English", "Klingon", None)] == ["zh", "de", "en",
                                                                                            None, None]
