"""The extractor's compiled line trimming (pipeline/extract/_lines.c) against the Python code it replaces: the same
text and character count on resiliparse's output for real pages, and on generated texts built from what the
trimming reacts to (whitespace kinds, boilerplate words in every case and fold, lengths at the caps)."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType
from hypothesis import given, settings
from hypothesis import strategies as st
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from pipeline.extract import html as html_module
from pipeline.extract.html import decode_html

WARCS = ["pywb-iana.warc.gz", "dolma-sample-0000.warc.gz", "servo-zh-sina-homepage-2018.warc.gz",
         "servo-ru-vk-homepage-cp1251-2018.warc.gz", "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz"]


def _require_lines() -> None:
    """`make test` builds pipeline.extract._lines: under CI a missing build fails; elsewhere the test skips."""
    if html_module._compiled_lines is None:
        assert not os.environ.get("CI"), "pipeline.extract._lines was not built: is a C compiler installed?"
        pytest.skip("pipeline.extract._lines not built (no C compiler): the Python trimming is in use")


def _both(raw: str, keep_whole: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    compiled = html_module._trimmed_text(raw, keep_whole)
    with monkeypatch.context() as m:
        m.setattr(html_module, "_compiled_lines", None)
        python = html_module._trimmed_text(raw, keep_whole)
    return compiled, python


@pytest.fixture(scope="module")
def pages(shared_data: Path) -> list[str]:
    """Real pages: 60 benchmark articles and the HTML responses of five shared WARCs (portal homepages in Chinese
    and Russian, a CommonCrawl excerpt, IANA's site)."""
    out = []
    with tarfile.open(shared_data / "web" / "article-extraction-benchmark-html.tar") as tar:
        keys = sorted(json.load(tar.extractfile("article-extraction-benchmark/ground-truth.json")))[:60]
        out += [gzip.decompress(tar.extractfile(f"article-extraction-benchmark/html/{k}.html.gz").read()).decode()
                for k in keys]
    for name in WARCS:
        with open(shared_data / "web" / name, "rb") as fh:
            for record in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                if "html" in (record.http_content_type or ""):
                    out.append(decode_html(record.reader.read(), record.http_charset).text)
    return out


def test_the_compiled_trimming_is_built_under_ci() -> None:
    _require_lines()


def test_compiled_trimming_equals_python_on_real_pages(pages: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Both passes' raw texts (main content and full page) of every page, with and without the keep-whole rule,
    then ``extract`` itself."""
    _require_lines()
    kinds = set()
    for page in pages:
        tree = HTMLTree.parse(page)
        for main_content in (True, False):
            raw = extract_plain_text(tree, main_content=main_content, comments=False, alt_texts=False,
                                     list_bullets=False, skip_elements=html_module.SKIP_SELECTORS)
            kinds.add(max(map(ord, raw), default=0) > 0xFF)
            for keep_whole in (True, False):
                compiled, python = _both(raw, keep_whole, monkeypatch)
                assert compiled == python
    assert kinds == {True, False}  # one-byte and wider strings both went through
    compiled = [html_module.extract(page) for page in pages]
    monkeypatch.setattr(html_module, "_compiled_lines", None)
    assert [html_module.extract(page) for page in pages] == compiled
    assert any(e.fallback for e in compiled) and len({e.text for e in compiled}) > len(pages) // 2


# What a line is made of: words the boilerplate regex knows (in other cases and with the characters re folds onto
# their letters), prose, digits, and every kind of whitespace str.strip() removes or keeps.
_WORDS = ["Advertisement", "SHARE this story", "share on", "sign up", "Log in", "login", "read more", "Related",
          "more from", "recommended", "Follow us", "cookie", "We use cookies", "click here", "Comments",
          "leave a reply", "Photo:", "image 3 of", "caption", "close", "Loading", "print", "email", "tweet",
          "skip to", "\u0130mage 2 of", "\u017fhare", "\u017fponsored", "closed", "printer", "emails", "the", "x",
          # other languages' labels, copyright lines and numbered CJK headings (and a page number, which is none)
          "Werbung", "\u0427\u0438\u0442\u0430\u0442\u044c \u0434\u0430\u043b\u0435\u0435", "\u5e7f\u544a",
          "\u76f8\u5173\u6587\u7ae0", "\u00a9 2024", "\u4eacICP\u5907", "\u7b2c\u4e00\u6761", "\u7b2c3\u7ae0",
          "\uc81c1\uc870", "\u7b2c2\u9875"]
_PIECES = st.one_of(
    st.sampled_from(_WORDS),
    st.text(st.sampled_from("abcXYZ \t\u00a0\u3000\u2003\x1c\x85\u2028é中ж\U0001F600.,:\u3002"), max_size=12),
    st.builds(lambda n: "word " * n, st.integers(0, 60)),
    st.sampled_from([" ", "\t", "\n", "\n\n", "  \n", "\r", "\x0b", "\u00a0", "\u200b"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40), st.booleans())
def test_compiled_trimming_equals_python_on_generated_texts(pieces: list[str], keep_whole: bool) -> None:
    _require_lines()
    raw = "".join(pieces)
    compiled = html_module._trimmed_text(raw, keep_whole)
    saved = html_module._compiled_lines
    html_module._compiled_lines = None
    try:
        python = html_module._trimmed_text(raw, keep_whole)
    finally:
        html_module._compiled_lines = saved
    assert compiled == python


def test_compiled_trimming_at_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines at the length caps, a text that is all boilerplate, one whose span is a small part of a long text
    (the keep-whole rule), and the empty text."""
    _require_lines()
    long_line = "x" * (html_module.LINE_CAP + 5)
    texts = [
        "", "\n\n  \n", "Advertisement", "Advertisement\nShare this",
        "Share this" + "x" * (html_module._BOILERPLATE_MAX_LEN - 10) + "\n" + long_line,
        "Share this" + "x" * (html_module._BOILERPLATE_MAX_LEN - 11) + "\n" + long_line,
        "\n".join(["a" * (html_module.LINE_THRESHOLD - 1)] * 5),
        "\n".join(["a" * html_module.LINE_THRESHOLD] * 5 + ["Read more"]),
        "\n".join(["short line"] * 400 + [long_line] + ["short line"] * 400),
        "\n".join(["Menu item"] * 50 + ["y" * 300, "Comments", "z" * 300] + ["Menu item"] * 50),
        " \u3000Related\u2003\n\tnews of the day and more words to make it long enough\u00a0\n",
        # sentences ending in the ideographic full stop (SENTENCE_END), short and at the threshold, after prose
        "\n".join(["z" * 40, "\u4e2d" * 5 + "\u3002", "\u4e2d" * 5, "\u4e2d" * 29 + "\u3002", "\u3002",
                   "\u4e2d" * 30 + "\u3002"]),
        # numbered headings (ORDINAL_HEADING) between short sentences, one at the threshold's length, and a page number
        "\n".join(["z" * 40, "第一条", "中" * 9 + "。", "제 2 조", "第三章" + "中" * 27, "第2页", "中" * 9 + "。", "z" * 40]),
    ]
    # the keep-whole rule's bounds: lines holding exactly TRIM_MIN_RAW characters (and two fewer) around one
    # long line, the span's share just under and exactly at TRIM_KEEP_RATIO
    assert (html_module.TRIM_MIN_RAW, html_module.TRIM_KEEP_RATIO) == (2000, 0.3)
    for long, shorts in ((250, 175), (600, 140)):
        lines = ["short line"] * (shorts // 2) + ["x" * long] + ["short line"] * (shorts - shorts // 2)
        texts += ["\n".join(lines), "\n".join(["short li"] + lines[1:])]
    for text in texts:
        for keep_whole in (True, False):
            compiled, python = _both(text, keep_whole, monkeypatch)
            assert compiled == python, (text[:60], keep_whole)
    # the keep-whole rule decided one of these: its span alone keeps less
    for text, whole in ((texts[8], True), (texts[-4], True), (texts[-3], False), (texts[-2], False)):
        assert (html_module._trimmed_text(text, True)[1] > html_module._trimmed_text(text, False)[1]) == whole
