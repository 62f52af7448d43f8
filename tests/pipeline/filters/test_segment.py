"""Word segmentation by language: Chinese with jieba, Japanese by character class, scripts of texts."""

from __future__ import annotations

import pytest

from pipeline.filters.segment import GERMAN, JAPANESE, JIEBA, WHITESPACE, script_of
from pipeline.filters.words import split_words, tokenize


def test_chinese_is_split_into_words_not_one_chunk():
    text = "数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科。"
    assert split_words(text, WHITESPACE) == [text]  # the whole sentence is one "word" without segmentation
    words = split_words(text, JIEBA)
    assert "".join(words) == text  # nothing lost, nothing added
    assert words == ["数学", "是", "利用", "符号语言", "研究", "数量", "、", "结构", "、", "变化", "以及", "空间",
                     "等", "概念", "的", "一门", "学科", "。"]  # jieba 0.42.1, default mode


def test_chinese_chunks_without_han_keep_the_regex_splitter():
    assert split_words("Python 3.8 is fine, isn't it?", JIEBA) == split_words("Python 3.8 is fine, isn't it?")


def test_japanese_character_classes():
    words = split_words("日本の首都は東京である。カタカナ語とABCも。", JAPANESE)
    assert words == ["日本", "の", "首都", "は", "東京", "である", "。", "カタカナ", "語", "と", "ABC", "も", "。"]


def test_german_compounds_and_ordinals_are_one_token():
    # as spaCy's German tokenizer (datatrove's for deu_Latn) counts them; English splits every hyphen
    text = "Am 13. Mai 1900 kam die Alt-Starkenberg-Linie mit 25-jährigen E-Mail-Nutzern aus Nord- und Südamerika."
    assert split_words(text, GERMAN) == ["Am", "13.", "Mai", "1900", "kam", "die", "Alt-Starkenberg-Linie", "mit",
                                         "25-jährigen", "E-Mail-Nutzern", "aus", "Nord-", "und", "Südamerika", "."]
    assert split_words(text, WHITESPACE)[:9] == ["Am", "13", ".", "Mai", "1900", "kam", "die", "Alt", "-"]


@pytest.mark.parametrize("text", [
    "ISBN 978-3-540-00674-9",  # digits on both sides of a hyphen split, as in spaCy's German rules
    "3.5-4 Prozent", "siehe Kremer-Test.de oder https://www.alt-starkenberg.de/x-y", "a--b", "(Neu-)Bau",
    "Version 1.2.", "Seite 12345.",
])
def test_german_keeps_the_shared_splitting_elsewhere(text):
    assert split_words(text, GERMAN) == split_words(text, WHITESPACE)


def test_tokens_of_a_segmented_text_match_its_words():
    text = "我们在北京大学学习数学。\n第二行也有几个词。"
    tokens = tokenize(text, JIEBA)
    assert len(tokens) == len(split_words(text, JIEBA))
    assert tokens.chunks_per_line is None or list(tokens.chunks_per_line) == [1, 1]


@pytest.mark.parametrize("text, script", [
    ("数学是研究数量的学科", "Hani"),
    ("紅樓夢是中國古典小說", "Hani"),
    ("日本の首都は東京である", "Jpan"),
    ("Die Tragödie erster Teil", "Latn"),
    ("Литва — государство", "Cyrl"),
    ("한국어 문장입니다", "Kore"),
    ("12345 !!!", "Zyyy"),
])
def test_script_of(text, script):
    assert script_of(text) == script


def test_chinese_words_are_jiebas_on_real_text(shared_data):
    # rjieba (jieba-rs) stands in for pure-Python jieba: on Han runs the words must be jieba's own, and on
    # whole chunks (Han mixed with digits, Latin and symbols) nearly always (bench/README.md, Languages).
    import logging
    import re

    import jieba  # test extra: the reference segmenter

    from pipeline.filters.segment import HAN, jieba_split

    jieba.setLogLevel(logging.WARNING)
    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[30_000:130_000]
    runs = re.findall(f"[{HAN}]+", book)
    assert len(runs) > 5_000
    assert [jieba_split(r, tuple) for r in runs] == [tuple(jieba.cut(r)) for r in runs]
    chunks = [c for c in book.split() if re.search(f"[{HAN}]", c)]
    same = sum(jieba_split(c, tuple) == tuple(w for w in jieba.cut(c) if not w.isspace()) for c in chunks)
    assert same >= 0.99 * len(chunks)
