"""C4 line rules (rewrite) and document rules (Raffel et al. 2020, section 2.2), FineWeb's punctuation
setting by default."""

from __future__ import annotations

from collections import Counter

from pipeline.filters.c4 import C4Filter, C4Options, count_sentences
from pipeline.filters.words import split_words
from tests.pipeline.filters.support import evaluate, verdict

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
