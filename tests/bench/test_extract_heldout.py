"""The held-out extraction bench's own parts, on pages and test sources built here (nothing downloaded): how it
pairs pages with expected texts, reads string assertions from a test module's syntax tree, and counts leaks,
wipe-outs and comment strings, so its figures cannot drift unnoticed."""

from __future__ import annotations

import ast

from bench.extract_heldout import (GoldSet, _string_checks, comment_strings, html_text_set, leaks, newspaper_set,
                                   score_string_set, score_text_set, token_recall, trafilatura_110_set)
from bench.extract_bench import REFERENCE

ARTICLE = "<html><body><article>" + "<p>The river rose over the old stone bridge during the night storm.</p>" * 8


def test_newspaper_pages_pair_with_their_text_and_the_rest_is_accounted_for() -> None:
    files = {
        "tests/data/html/a.html": b"<p>one</p>", "tests/data/txt/a.txt": "one".encode(),
        "tests/data/html/b.html": b"<p>one</p>", "tests/data/txt/b.txt": b"older run",  # same bytes as a
        "tests/data/html/front.html": b"<p>front page</p>",  # no expected text
        "tests/data/txt/only.txt": b"text without a page",
        "tests/data/html/chinese_article.html": "<p>中文</p>".encode(), "tests/data/txt/chinese_article.txt": "中文".encode(),
        "tests/data/metadata/a.json": b'{"language": "de"}',
    }
    gs = newspaper_set(files)
    assert sorted(gs.pages) == ["a", "chinese_article"]
    assert gs.gold["chinese_article"] == "中文"
    assert gs.language == {"a": "de", "chinese_article": "zh"}
    assert sorted(gs.left_out) == ["html/b.html", "html/front.html", "txt/only.txt"]
    assert "same bytes as a.html" in gs.left_out["html/b.html"]


def test_html_text_pages_pair_by_name() -> None:
    files = {"tests/test_webpages/P.html": b"<p>x</p>", "tests/test_webpages/P.txt": b"x",
             "tests/test_webpages/Q.html": b"<p>y</p>"}
    gs = html_text_set(files)
    assert gs.kind == "whole" and gs.gold == {"P": "x"} and list(gs.left_out) == ["Q"]


REALWORLD = '''
MOCK_PAGES = {"http://a": "a.html", "http://b": "b.html", "http://gone": "gone.html"}

def test_extract(xmloutput):
    result = load_mock_page("http://a", xmloutput)
    assert "keep me" in result and "drop me" not in result  # and "commented out" in result
    result = load_mock_page("http://b", xmloutput)
    if xmloutput is False:
        assert "only in text" in result
    assert result is not None
    result = load_mock_page("http://a", xmloutput)
    assert "also kept" in result
    result = load_mock_page("http://gone", xmloutput)
    assert "x" in result
'''


def test_string_assertions_are_read_from_the_syntax_tree() -> None:
    test = [n for n in ast.parse(REALWORLD).body if isinstance(n, ast.FunctionDef)][0]
    assert _string_checks(test) == [("http://a", ["keep me"], ["drop me"]), ("http://b", ["only in text"], []),
                                    ("http://a", ["also kept"], []), ("http://gone", ["x"], [])]
    files = {"tests/realworld_tests.py": REALWORLD.encode(), "tests/cache/a.html": b"<p>a</p>",
             "tests/cache/b.html": b"<p>b</p>", "tests/cache/spare.html": b"<p>c</p>"}
    gs = trafilatura_110_set(files)
    assert gs.must == {"a.html": ["also kept", "keep me"], "b.html": ["only in text"]}
    assert gs.must_not == {"a.html": ["drop me"], "b.html": []}
    assert gs.left_out == {"http://gone": "no cached page", "spare.html": "no text assertion in realworld_tests.py"}


def test_leaks_count_only_what_the_gold_lacks() -> None:
    gold = "A long paragraph about bridges.\nHome"
    got = "\n".join(["A long paragraph about bridges.", "<div class=x>", "var x = 1;", "We use cookies here",
                     "Home", "News", "Sport", "Weather"])
    found = leaks(got, gold)
    assert found["markup"] == 1 and found["script"] == 1 and found["cookie"] == 1
    assert found["nav"] == 6  # every short line the gold lacks: "Home" is in it, the other six are not
    assert leaks("Home\nNews", gold)["nav"] == 0  # under three unknown short lines: not navigation


def test_token_recall_and_wipe_outs() -> None:
    assert token_recall("a b c d", "a b") == 0.5
    assert token_recall("", "anything") == 1.0
    gold = {"p": "The river rose over the old stone bridge during the night storm. " * 4}
    texts = {"ours (crawl stage)": {"p": "The river"}, REFERENCE: {"p": gold["p"]}}
    gs = GoldSet("t", "main", {"p": b""}, gold=gold, language={"p": "en"})
    scored = score_text_set(gs, texts)
    assert scored["extractors"]["ours (crawl stage)"]["wipe_outs"] == ["p"]
    assert scored["extractors"]["ours (crawl stage)"]["lost"] == ["p"]
    assert scored["extractors"][REFERENCE]["f1"] == 1.0
    assert scored["extractors"][REFERENCE]["by_language"]["en"]["pages"] == 1


def test_comment_strings_and_string_scores() -> None:
    page = ARTICLE + ('</article><div class="comments"><p>Great post, I like your blog and the bridge photos a lot'
                      '</p></div></body></html>')
    gs = GoldSet("t", "strings", {"p": page.encode()}, must={"p": ["old stone bridge", "Great post, I like"]},
                 must_not={"p": ["Sponsored"]})
    comments = comment_strings(gs, {"p": page})
    assert comments == {"p": {"Great post, I like"}}
    scored = score_string_set(gs, {"ours": {"p": "the old stone\nbridge"}}, comments)
    row = scored["extractors"]["ours"]
    assert (row["must_found"], row["must_missed_comments"], row["pages_passed"],
            row["pages_passed_without_comments"]) == (1, 1, 0, 1)


def test_missed_strings_are_told_apart_by_where_they_went() -> None:
    from bench.extract_heldout import where_lost

    page = (ARTICLE + "<p>x Anna</p></article><aside><p>In the sidebar: a note about the bridge and the river "
            "that is long enough.</p></aside></body></html>")
    gs = GoldSet("t", "strings", {"p": b""}, must={"p": ["x Anna", "In the sidebar", "old stone bridge"]},
                 must_not={"p": []})
    ours_text = {"p": "The river rose over the old stone bridge during the night storm."}
    assert where_lost(gs, {"p": page}, ours_text, {"p": set()}) == {
        "cut by the line span": 1, "not in the main-content pass": 1}
