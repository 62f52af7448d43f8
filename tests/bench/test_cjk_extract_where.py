"""The CJK bench's own parts on pages written here (nothing downloaded): its steps end in the crawl stage's text,
and its rule-off / rule-on run finds the page the ideographic-full-stop rule changes and leaves the extractor as
it found it."""

from __future__ import annotations

import pytest

from bench import cjk_extract_where as bench
from pipeline.extract import html as html_module

PROSE = ("\u4eca\u5929\u7684\u4f1a\u8bae\u8ba8\u8bba\u4e86\u5f88\u591a\u95ee\u9898\uff0c" * 3
         + "\u5927\u5bb6\u90fd\u540c\u610f\u4e86\u3002")  # 46 characters, a sentence
CLOSING = "\u4ed6\u8bf4\uff0c\u8fd9\u662f\u4e00\u4e2a\u597d\u6d88\u606f\u3002"


def _page(closing: str) -> str:
    paragraphs = "".join(f"<p>{PROSE}</p>" for _ in range(3))
    return (f"<html><body><ul><li><a href='/'>\u9996\u9875</a></li></ul><article>{paragraphs}<p>{closing}</p>"
            f"</article><ul><li><a href='/x'>\u76f8\u5173\u65b0\u95fb</a></li></ul></body></html>")


def test_steps_end_in_the_crawl_stage_text() -> None:
    page = _page(CLOSING)
    steps = bench.stages(page)
    assert list(steps) == ["mc_noskip", "mc", "trim", "final", "full", "trafilatura"]
    assert steps["final"] == html_module.extract(page, max_tags=bench.MAX_TAGS).text
    assert CLOSING in steps["trim"]


def test_rule_off_and_on(capsys: pytest.CaptureFixture[str]) -> None:
    pages = {"closing sentence": _page(CLOSING), "no full stop": _page(CLOSING[:-1])}
    gold = {k: "\n\n".join([PROSE] * 3 + [CLOSING if k == "closing sentence" else CLOSING[:-1]]) for k in pages}
    compiled, end = html_module._compiled_lines, html_module.SENTENCE_END
    bench.ab({"written here": (pages, gold)})
    out = capsys.readouterr().out
    assert "written here: 2 pages, 1 changed" in out
    assert "closing sentence: P 1.000 -> 1.000, R" in out and "no full stop:" not in out
    assert (html_module._compiled_lines, html_module.SENTENCE_END) == (compiled, end)
