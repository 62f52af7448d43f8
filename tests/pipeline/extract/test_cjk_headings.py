"""Numbered CJK headings: what counts as one where a line opens with it."""

import pytest

from pipeline.extract.cjk_headings import ORDINAL_HEADING, opens_with_heading


@pytest.mark.parametrize("line", ["第七十一回　嫌隙人有心生嫌隙", "第三章", "第1条 定義", "第１２章\t始まり", "제1조 목적",
                                  "第十一回　慶壽辰宁府排家宴"])
def test_headings_that_open_a_line(line: str) -> None:
    assert opens_with_heading(line)


@pytest.mark.parametrize("line", ["第三回合眾人都听見了", "第一次見面", "第2页", "此開卷第一回也", "", "Chapter 1",
                                  "第一章节的内容"])
def test_running_text_is_no_heading(line: str) -> None:
    assert not opens_with_heading(line)


def test_the_line_scorers_pattern_matches_inside_a_line_too() -> None:
    # the HTML scorer asks whether a short line is a heading at all ("第一条" followed by its text in the same line)
    assert ORDINAL_HEADING.match("第一条人人生而自由")
