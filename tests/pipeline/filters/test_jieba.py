"""The compiled jieba cut (pipeline.filters._jieba) gives rjieba's words: rjieba (jieba-rs) is the reference
the Chinese filters were measured with, and the fallback where the extension is not built. The one allowed
difference is a rounding near-tie, decided as pure-Python jieba decides it (``_same_on_runs``)."""

from __future__ import annotations

import math
import struct
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.filters.segment import HAN, JIEBA_RUN, compiled_jieba, rjieba_words
from tests.pipeline.filters.support import require_compiled


@cache
def _cut():
    """The compiled cut, loaded; skips (fails under CI) when the extension was not built."""
    segmenter = compiled_jieba()
    require_compiled(segmenter, "_jieba", "rjieba")
    return segmenter.cut


def _rjieba(text: str) -> list[str]:
    import rjieba

    return rjieba.cut(text, True)  # jieba's default mode: HMM on


def _jieba(text: str) -> list[str]:
    import logging

    import jieba  # test extra: pure-Python jieba 0.42.1, the dictionary and HMM tables the extension loads

    jieba.setLogLevel(logging.ERROR)
    return list(jieba.cut(text, HMM=True))


def _same_on_runs(runs: list[str]) -> None:
    """Both cut the runs joined by newlines alike (each run is cut on its own); a difference names its run.
    Where rjieba differs, the run must be a near-tie that pure-Python jieba decides as we do: rjieba sums the
    same log-probabilities in another order, and two routes ~1e-8 apart can swap (hypothesis found 个归隔若命:
    rjieba 个/归/隔若命, jieba and this cut 个/归/隔/若命, routes 3.3e-8 apart)."""
    cut = _cut()
    joined = "\n".join(runs)
    if cut(joined) != _rjieba(joined):
        for run in runs:
            if cut(run) != _rjieba(run):
                assert cut(run) == _jieba(run), run


def _shared_texts(shared_data: Path) -> dict[str, str]:
    from pipeline.readers import get_reader, reader_module
    from contracts.accounting import Tally
    from pipeline.readers.base import Split

    texts = {"hongloumeng": (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig"),
             "zhwiki": (shared_data / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8"),
             "belle": (shared_data / "finetune" / "zh-belle-dev1K-alpaca.jsonl").read_text(encoding="utf-8"),
             "chnsenticorp": (shared_data / "finetune" / "zh-chnsenticorp-htl-all.csv").read_text(encoding="utf-8")}
    reader, options = get_reader("commoncrawl"), reader_module("commoncrawl").Options()
    warcs = [p for p in sorted((shared_data / "web").glob("*.warc*")) if ".wet" not in p.name and ".wat" not in p.name]
    pages = [doc.text for path in warcs for doc in reader.read(Split(str(path)), options, Tally())]
    texts["warc pages"] = "\n".join(pages)
    return texts


def test_every_han_run_of_the_shared_chinese_texts_is_cut_as_rjieba_cuts_it(shared_data):
    # 1.7 M characters in 220 k distinct runs: the dictionary, its frequencies and the HMM tables
    # must be jieba-rs's for every route and every Viterbi path to agree
    han = re.compile(f"[{HAN}]+")
    for name, text in _shared_texts(shared_data).items():
        runs = list(dict.fromkeys(han.findall(text)))
        assert len(runs) > (1_000 if name == "warc pages" else 10_000), name
        _same_on_runs(runs)


def test_every_dictionary_word_is_cut_as_rjieba_cuts_it():
    # a word whose frequency differed between the two dictionaries would be cut differently on its own or
    # next to its neighbours: every Han word of dict.txt alone, and the words run together in file order
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    words = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()]
    han_words = [w for w in words if re.fullmatch(f"[{HAN}]+", w)]
    assert len(han_words) > 340_000
    _same_on_runs(han_words)
    _same_on_runs(["".join(han_words[i:i + 7]) for i in range(0, len(han_words), 7)])


def test_route_ties_go_to_the_longer_word():
    # "ABA" with two dictionary words "AB" and "BA" of one frequency: [AB][A] and [A][BA] score exactly
    # alike (the same two log probabilities added), and jieba takes the longer first word
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    freq: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, count = line.split()[:2]
        freq[word] = int(count)
    pairs = [w for w, f in freq.items() if len(w) == 2 and re.fullmatch(f"[{HAN}]+", w) and freq.get(w[::-1]) == f
             and w[0] != w[1]]
    assert len(pairs) > 100
    total = math.log(sum(freq.values()) - 3)  # jieba-rs counts the one word listed twice (B超, 3) once
    texts = []
    for w in pairs:
        a, b = w
        one = math.log(freq[a]) - total if a in freq else -total
        if (math.log(freq[w]) - total) + one == one + (math.log(freq[w[::-1]]) - total):
            texts.append(a + b + a)
    assert len(texts) > 100
    _same_on_runs(texts)
    assert _cut()("".join(texts[:1])) == _rjieba(texts[0])


# Characters for generated runs: common ones, ones jieba's HMM has never seen (no emission probability),
# rare ideographs (extension A, B and later, compatibility), the edges of jieba-rs's ideograph ranges and
# of segment.HAN (a character in one and not the other is a word of its own), 々〆〇.
_EDGES = [0x3005, 0x3006, 0x3007, 0x33FF, 0x3400, 0x4DBF, 0x4E00, 0x9FD5, 0x9FD6, 0x9FFF, 0xF900, 0xFAFF, 0x20000,
          0x2A6DF, 0x2A6E0, 0x2A700, 0x2B73F, 0x2B740, 0x2B81F, 0x2B820, 0x2CEAF, 0x2CEB0, 0x2EBEF, 0x2EBF0,
          0x2F800, 0x2FA1F, 0x2FA20, 0x30000, 0x3134F]
@cache
def _common() -> list[str]:
    """The 1,500 most frequent single-character words of jieba's dictionary."""
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    ones = [line.split()[:2] for line in path.read_text(encoding="utf-8").splitlines() if len(line.split()[0]) == 1]
    return [w for w, _ in sorted(ones, key=lambda wf: -int(wf[1]))[:1_500]]


_COMMON = st.deferred(lambda: st.sampled_from(_common()))
_RARE = "㐀㐁㑊䶵䶿鿖鿗鿿豈更﨩𠀀𠀁𠂇𪜀𫝀𫠠𬺰𮯠" + "".join(chr(c) for c in _EDGES)
_ALPHABET = _COMMON | _COMMON | st.sampled_from(list(_RARE)) \
    | st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) \
    | st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF) \
    | st.characters(min_codepoint=0x20000, max_codepoint=0x3134F)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(_ALPHABET, min_size=1, max_size=40), min_size=1, max_size=20))
def test_generated_han_runs_are_cut_as_rjieba_cuts_them(runs):
    _same_on_runs(runs)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.integers(2_000, 20_000), st.floats(0.0, 0.3))
def test_long_generated_runs_are_cut_as_rjieba_cuts_them(seed, length, rare_share):
    # one run of thousands of characters, drawn from common words' characters with a share of rare ones
    import random

    rng, common, rare = random.Random(seed), _common(), list(_RARE)
    _same_on_runs(["".join(rng.choice(rare) if rng.random() < rare_share else rng.choice(common)
                           for _ in range(length))])


def test_unseen_characters_tie_in_the_hmm_as_in_rjieba():
    # characters without an emission probability score -3.14e100 in every state, which swallows every
    # other term: Viterbi compares equal sums, and the tie rule decides the words
    from jieba.finalseg.prob_emit import P as emit  # test extra: pure-Python jieba's tables

    seen = set().union(*emit.values())
    unseen = "".join(c for c in map(chr, range(0x4E00, 0x9FD6)) if c not in seen)[::40]
    assert len(unseen) > 100
    runs = [unseen[i:i + n] for n in (2, 3, 5, 8) for i in range(0, len(unseen) - n, n)]
    runs += [a + "的" + b + "是" + a for a, b in zip(unseen, unseen[1:])]
    _same_on_runs(runs)


def test_cut_runs_gives_the_word_lengths_of_every_han_run():
    segmenter = compiled_jieba()
    require_compiled(segmenter, "_jieba", "rjieba")
    chunks = ["《红楼梦》第一回，甄士隐梦幻识通灵", "abc", "", "中々国𰀀文", "ÿé", "小明硕士毕业于中国科学院计算所"]
    # a run: Han and the ASCII jieba puts in a block with it (segment.JIEBA_RUN)
    words = [w for c in chunks for run in re.findall(f"[{JIEBA_RUN}]+", c) for w in rjieba_words(run)]
    assert list(memoryview(segmenter.cut_runs(chunks)).cast("i")) == [len(w) for w in words]
    assert segmenter.cut_runs([]) == b"" and list(memoryview(segmenter.cut_runs(["abc", "！"])).cast("i")) == [3]
    # ASCII with the Han around it, as pure-Python jieba cuts it (its finalseg splits what the route leaves)
    for text in ("中文abc", "使用C++编写", "T恤和U盘", "/dev/md1上的RAID-1", "版本1.2.3", "ab.cd%x_", "AT&T的c#"):
        assert segmenter.cut(text) == _jieba(text), text
    with pytest.raises(TypeError):
        segmenter.cut_runs(["中", 1])
    with pytest.raises(RuntimeError, match="already loaded"):
        segmenter.load(b"", [0.0] * 4, [0.0] * 16, [{}] * 4)


def test_a_near_tie_is_decided_as_pure_python_jieba_decides_it():
    # hypothesis's find: rjieba's route differs by a rounding, jieba's own code on the same tables agrees with us
    assert _cut()("个归隔若命") == _jieba("个归隔若命") == ["个", "归", "隔", "若命"]
    _same_on_runs(["个归隔若命", "小明硕士毕业于中国科学院计算所"])


def test_cut_runs_reads_chunks_at_every_offset_and_width():
    # cut_runs copies UCS-2 text eight code units at a time while they are U+4E00-U+9FFF and one at a time
    # otherwise, and cuts a run without cut_text's scan when it holds only jieba-rs ideographs: runs starting at
    # every offset, broken by a non-Han character (also just outside that block: U+4DFF, U+A000) or holding a
    # Han character outside it (々〆〇, extension A, compatibility, astral: a 4-byte chunk; 〆 and 〇 beside
    # extension A, where a block boundary splits words) at every position, give rjieba's words
    segmenter = compiled_jieba()
    require_compiled(segmenter, "_jieba", "rjieba")
    base = "小明硕士毕业于中国科学院计算所后在日本京都大学深造"
    chunks = [lead * "，" + base[:at] + odd + base[at:] for lead in range(9) for at in range(len(base) + 1)
              for odd in ("々", "〆", "〇〇", "㐀〆", "〇㐀", "㐀", "豈", "𠀀", "𰀀㐀", "，", "é", "䷿", "ꀀ", "", "a", "C++", "x.9")]
    # (ASCII letters, digits and +#&._%- join a run: segment.JIEBA_RUN; rjieba_words splits them as jieba does)
    words = [len(w) for c in chunks for run in re.findall(f"[{JIEBA_RUN}]+", c) for w in rjieba_words(run)]
    assert list(memoryview(segmenter.cut_runs(chunks)).cast("i")) == words
    one = "".join(chunks)  # one long chunk: text_buf grown within it
    assert list(memoryview(segmenter.cut_runs([one])).cast("i")) == [
        len(w) for run in re.findall(f"[{JIEBA_RUN}]+", one) for w in rjieba_words(run)]


def test_hmm_runs_end_at_every_character_outside_its_range():
    # Viterbi runs over U+4E00-U+9FD5 only and stops at the first other character of a gathered run (U+9FD6-U+9FFF,
    # extension A, compatibility: each stretch of them one word); runs of 1-12 unseen-as-words characters
    # (transliterations the HMM cuts) broken at every position by such a character
    seen = "".join(ch for ch in "犸犴犷犹狁狃狄狈狍狎狒狨狯狩狲狴" if _cut()(ch) == [ch])
    others = ["鿖", "鿿", "㐀䶵", "豈"]
    runs = [seen[:i] + o + seen[i:j] for j in range(1, 13) for i in range(j + 1) for o in others]
    _same_on_runs(runs)
    _same_on_runs([seen * 40, ("鿖" + seen) * 20])


def test_characters_that_only_begin_words_are_cut_as_rjieba_cuts_them():
    # a first character that is no word on its own (its trie node has no probability: NaN) takes the first
    # longer word found, else stands alone, scored as a character outside the dictionary: each such character
    # alone, before a word it begins, before a character that continues none of its words, the three run
    # together, and after seven dictionary words (whose route depends on that score)
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    words = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()]
    han = [w for w in words if re.fullmatch(f"[{HAN}]+", w)]
    singles = {w for w in han if len(w) == 1}
    begun: dict[str, str] = {}
    for w in han:
        if len(w) > 1 and w[0] not in singles:
            begun.setdefault(w[0], w)
    assert len(begun) > 100
    runs = [r for c, w in begun.items() for r in (c, w, c + "的", w + c + "的" + c, "的" + c)]
    runs += ["".join(han[7 * j:7 * j + 7]) + c + "的" for j, c in enumerate(begun)]
    _same_on_runs(runs)


def test_cut_ucs4_gives_cut_runs_words_of_a_chunk_table_s_runs():
    from pipeline.filters import _chunks

    segmenter = compiled_jieba()
    require_compiled(segmenter, "_jieba", "rjieba")
    chunks = ["《红楼梦》第一回，甄士隐梦幻识通灵", "abc", "中々国𰀀文", "ÿé", "小明硕士毕业于中国科学院计算所", "a中b文c"]
    table = _chunks.ChunkTable()
    table.lookup("x " + " ".join(chunks), False, False)
    text, runs = table.han_ucs4(1)
    assert list(memoryview(runs).cast("i")) == [len(r) for c in chunks for r in re.findall(f"[{JIEBA_RUN}]+", c)]
    assert text.decode("utf-32-le") == "".join(re.findall(f"[{JIEBA_RUN}]+", "".join(chunks)))
    assert segmenter.cut_ucs4(text, runs) == segmenter.cut_runs(chunks)
    assert table.han_ucs4(len(table)) == (b"", b"") and segmenter.cut_ucs4(b"", b"") == b""
    with pytest.raises(ValueError, match="UCS4"):
        segmenter.cut_ucs4(text[:-1], runs)
    with pytest.raises(ValueError, match="past the text's end"):
        segmenter.cut_ucs4(text[:8], runs)
    with pytest.raises(ValueError, match="the runs hold"):
        segmenter.cut_ucs4(text + text, runs)


def test_the_route_s_first_two_steps_are_cut_as_rjieba_cuts_them():
    # the route's first two steps (the first character's node, then the filter and lookup of the second; a
    # denser layout of them was tried on branch zh30, commit 66d1c4d, and kept only in history): characters
    # of the other ideograph ranges and the range edges around words (dict.txt has no Han word starting
    # outside U+4E00-U+9FFF); every two-character word of the 40 most prolific first characters between
    # common characters; and the words that rjieba cuts into single characters (a gathered run that is itself
    # a dictionary word: is_dict_word walks the trie again), alone and in context. Three mutations of the
    # tried layout (is_dict_word's first step, a child missing from the filter, the record's probability)
    # each failed this test.
    import importlib.util

    import rjieba

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    words = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()]
    han = [w for w in words if re.fullmatch(f"[{HAN}]+", w)]
    assert all("\u4e00" <= w[0] <= "\u9fff" for w in han)
    edges = ["\u3400", "\u4dbf", "\u4dff", "\u4e00", "\u9fff", "\uf900", "\U00020000", "\U0002a700", "\u9fd5"]
    runs = [r for c in edges for w in han[:2000:7] for r in (c + w, w + c, c + c + w[0], w[0] + c + w)]
    children: dict[str, list[str]] = {}
    for w in han:
        if len(w) == 2:
            children.setdefault(w[0], []).append(w)
    prolific = sorted(children, key=lambda c: -len(children[c]))[:40]
    assert len(children[prolific[-1]]) > 100
    runs += ["是" + w + "了" for c in prolific for w in children[c]]
    gathered = [w for w in han if 2 <= len(w) <= 4 and len(rjieba.cut(w, True)) == len(w)]
    assert len(gathered) > 50
    runs += [r for w in gathered for r in (w, "的" + w, w + "的", "㐀" + w)]
    _same_on_runs(runs)


def test_a_run_s_last_character_never_joins_the_next_run_s_first():
    # cut_ucs4 cuts runs that lie side by side in one buffer, each on its own: no step of the route may look
    # past a block's last character into the next run's first (main's route given has_next at the last
    # position did, and so did a first pass over a block's positions tried on branch zhcut32, 8f2ac55, when
    # run to the block's end; each failed only this test). Every dictionary word of two to four characters
    # among dict.txt's first 40,000, split at each point into two runs (and with a one-character run between
    # them), is cut as rjieba cuts each run.
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    words = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()[:40000]]
    han = [w for w in words if re.fullmatch(f"[{HAN}]+", w) and 2 <= len(w) <= 4]
    assert len(han) > 20000
    segmenter = compiled_jieba()
    require_compiled(segmenter, "_jieba", "rjieba")
    runs = [r for w in han for k in range(1, len(w)) for r in (w[:k], w[k:], w[:k], "的", w[k:])]
    text = "".join(runs).encode("utf-32-le")
    lengths = struct.pack(f"{len(runs)}i", *map(len, runs))
    got = list(memoryview(segmenter.cut_ucs4(text, lengths)).cast("i"))
    assert got == [len(word) for r in runs for word in _rjieba(r)]
