from pipeline.dedup.normalize import normalize_batch, normalize_text
from tests.pipeline.dedup.corpus import book_paragraphs, wiki_paragraphs


def test_reference_rules():
    assert normalize_text("Page 12, Chapter IV.") == "page 00 chapter iv"
    assert normalize_text("  Ça   va? «Très» bien—merci! ٣٤ x²") == "ça va très bien merci 00 x²"
    assert normalize_text("snake_case\tand\u00a0nbsp") == "snake case and nbsp"
    assert normalize_text("...") == ""


def test_batch_equals_reference_on_real_text(shared_data):
    texts = list(book_paragraphs(shared_data)[:200]) + list(wiki_paragraphs(shared_data)[:200])
    texts += ["", "!!!", "İstanbul é\u0301 ١٢٣ 𝟘𝟙 😀 end", "word"]
    batch = normalize_batch(texts)
    assert batch.num_docs == len(texts)
    for d, text in enumerate(texts):
        assert batch.doc_bytes(d).decode() == normalize_text(text), d


def test_batch_decodes_every_utf8_length_like_the_reference():
    """Three-byte characters led by 0xE0 (Devanagari, U+0800-U+0FFF) and four-byte ones led by 0xF1-0xF4
    (planes 4-16: private use U+F0000 is not a letter) take their true class, not a mis-decoded one."""
    texts = ["नमस्ते दुनिया १२३", "a\U000F0000b \U00100001c d\U000E0100e", "ࠀ \u0fff\u0800z"]
    assert normalize_text(texts[0]) == "नमस्ते दुनिया 000"
    assert normalize_text(texts[1]) == "a b c d\U000E0100e"  # private use separates; a variation selector is a mark
    batch = normalize_batch(texts)
    for d, text in enumerate(texts):
        assert batch.doc_bytes(d).decode() == normalize_text(text), d


# Both implementations of normalize_batch (the compiled one, _normalize.c, and numpy, its fallback) against
# the pure-Python reference, with CJK text: Han and kana are a word per character in the one pass of each.

import os  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.dedup import normalize  # noqa: E402
from pipeline.dedup.normalize import NormalizedBatch  # noqa: E402


def _compiled() -> bool:
    """Whether the extension is built. Under CI (`make test` builds the extensions) a missing one fails, so
    CI never tests only the numpy fallback; elsewhere the tests check the numpy path alone."""
    if normalize._compiled is None:
        assert not os.environ.get("CI"), "pipeline.dedup._normalize was not built: is a C compiler installed?"
        return False
    return True


def _both(texts: list[str]) -> list[NormalizedBatch]:
    """The numpy batch and, where built, the compiled one, asserted equal array by array (the buffer too,
    not only each document's words)."""
    numpy_batch = normalize.numpy_normalize_batch(texts)
    if not _compiled():
        return [numpy_batch]
    compiled = normalize.compiled_normalize_batch(texts)
    for field in ("data", "word_starts", "word_ends", "doc_words"):
        assert np.array_equal(getattr(numpy_batch, field), getattr(compiled, field)), field
    return [numpy_batch, compiled]


def _words(batch: NormalizedBatch) -> list[str]:
    return [batch.doc_bytes(d).decode("utf-8", "surrogatepass") for d in range(batch.num_docs)]


def test_cjk_characters_are_separated_by_both_paths():
    texts = ["数学（Mathematics）是研究数量的学科。", "日本の首都はトウキョウ", "ｶﾀｶﾅﾞ and ＦＵＬＬ width",
             "한국어 문장 abc", "𠀀𠀁x𱍊", "数\u0301x", "A数", "数1"]
    expected = ["数 学 mathematics 是 研 究 数 量 的 学 科", "日 本 の 首 都 は ト ウ キ ョ ウ",
                # halfwidth katakana and its sound mark are CJK; fullwidth Latin and Hangul keep their words
                "ｶ ﾀ ｶ ﾅ ﾞ and ｆｕｌｌ width", "한국어 문장 abc",
                "𠀀 𠀁 x 𱍊",  # extension B's first and extension H's last (U+3134A) characters
                "数 \u0301x",  # a combining mark after a Han character starts the next word, as in the reference
                "a 数", "数 0"]
    assert [normalize.normalize_text(t) for t in texts] == expected
    for batch in _both(texts):
        assert _words(batch) == expected


def test_lowercasing_never_moves_a_character_into_or_out_of_cjk():
    """normalize_batch lowercases before finding CJK characters, the reference after split_cjk: the same
    breaks only because no character's lowercase crosses CJK_RANGES (checked over every code point)."""
    table = normalize.codepoint_classes()
    for cp in range(0x110000):
        ch = chr(cp)
        lowered = ch.lower()
        if lowered == ch:
            continue
        assert not table[cp] & normalize._CJK, hex(cp)
        assert not any(table[ord(c)] & normalize._CJK for c in lowered), hex(cp)


def test_cjk_table_flags_are_the_reference_regex():
    table = normalize.codepoint_classes()
    flagged = np.flatnonzero(table & normalize._CJK)
    near = {cp for lo, hi in normalize.CJK_RANGES for cp in range(lo - 1, hi + 2)}  # each range and beside it
    by_regex = sorted(cp for cp in near if normalize._CJK_RUN.fullmatch(chr(cp)))
    assert flagged.tolist() == by_regex
    assert len(flagged) == sum(hi - lo + 1 for lo, hi in normalize.CJK_RANGES)


def _edges() -> list[str]:
    """Characters at and beside every CJK range's ends, and the neighbours that matter to the rules."""
    cps = {cp + k for lo, hi in normalize.CJK_RANGES for cp in (lo, hi) for k in (-1, 0, 1)}
    cps |= {0x3000, 0x3001, 0x3002, 0x30FB, 0x30FC, 0x3099, 0x309A, 0x4E00, 0x6570, 0x3042, 0x30AB,  # CJK
            0xAC00, 0xD7A3, 0x1100, 0x3131,  # Hangul syllables, jamo, compatibility jamo (spaced: not CJK)
            0xFF10, 0xFF21, 0xFF41, 0xFF65, 0xFFA0, 0xFFDC,  # fullwidth digit and letters, halfwidth Hangul
            0xD7FF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFD,  # around and in the surrogate range
            0x0E01, 0x0E49, 0x17D2, 0x1780, 0x1039, 0x1000}  # Thai, a tone mark, Khmer COENG, Myanmar VIRAMA
    return [chr(cp) for cp in sorted(cps)] + list("aZé1 .,-\n") + ["\u0301", "\u20dd", "\u0663", "İ",
                                                                   "\u200b", "\U0001d7d8", "\U000e0100"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(st.sampled_from(_edges()), max_size=40), min_size=1, max_size=6))
def test_both_batch_paths_equal_the_reference_on_cjk_mixes(texts):
    expected = [normalize.normalize_text(t) for t in texts]
    for batch in _both(texts):
        assert _words(batch) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=5))
def test_both_batch_paths_equal_the_reference_on_any_text(texts):
    expected = [normalize.normalize_text(t) for t in texts]
    for batch in _both(texts):
        assert _words(batch) == expected


def test_both_batch_paths_equal_the_reference_on_real_chinese_and_english(shared_data):
    from tests.pipeline.dedup.test_cjk import paragraphs

    texts = list(paragraphs()[:100]) + list(book_paragraphs(shared_data)[:100]) + ["", "数", "", "a"]
    expected = [normalize.normalize_text(t) for t in texts]
    for batch in _both(texts):
        assert _words(batch) == expected


def test_compiled_normalize_rejects_what_it_cannot_read():
    if not _compiled():
        pytest.skip("pipeline.dedup._normalize not built (no C compiler): the numpy path is in use and tested; "
                    "install a C compiler and rerun `make test` to test the compiled one (under CI this fails)")
    table = normalize.codepoint_classes()
    with pytest.raises(TypeError, match="document 1: expected bytes"):
        normalize._compiled.normalize([b"a", "b"], table)
    with pytest.raises(ValueError, match="document 0: not UTF-8 at byte 1"):
        normalize._compiled.normalize([b"a\xe6\x95"], table)
    with pytest.raises(ValueError, match="table must have"):
        normalize._compiled.normalize([b"a"], table[:10])
