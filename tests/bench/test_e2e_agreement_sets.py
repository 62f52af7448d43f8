"""bench/e2e_agreement_sets.py: the per-set figures from the four decisions per page, and the rule a disagreement
is put down to (the datatrove side runs in its own virtualenv and is not exercised here)."""

from __future__ import annotations

import pytest

from bench.e2e_agreement_sets import dropping_rule, page_f1, summarise


def _row(a: str, d: str, b: str = "kept", c: str = "kept") -> dict:
    return {"A": a, "B": b, "C": c, "D": d, "D_simulated": d, "datatrove_reads": True}


def test_dropping_rule_names_the_side_that_dropped() -> None:
    assert dropping_rule(_row("kept", "fineweb:line_punct_ratio")) == "D fineweb:line_punct_ratio"
    assert dropping_rule(_row("gopher_quality:min_alpha_words", "kept")) == "A gopher_quality:min_alpha_words"
    assert dropping_rule(_row("kept", "no text")) == "D no text"


def test_summary_counts_agreements_causes_and_rules() -> None:
    rows = [
        _row("kept", "kept"),
        _row("c4:too_few_sentences", "no text", b="c4:x", c="no text"),  # both drop: agreement
        _row("kept", "fineweb:line_punct_ratio", b="kept", c="fineweb:min_line_punct"),  # extraction
        _row("kept", "gopher_quality:gopher_below_alpha_threshold", b="gopher_quality:x",
             c="gopher_quality:min_alpha_words"),  # B drops our text where A keeps it: the filters
    ]
    s = summarise(rows)
    assert (s["pages"], s["kept_A"], s["kept_D"]) == (4, 3, 1)
    assert s["A_vs_D"] == pytest.approx(0.5)
    assert s["A_vs_B"] == pytest.approx(0.75)  # the fourth page: same text, different decisions
    assert s["C_vs_D"] == pytest.approx(1.0)
    assert s["by_cause"] == {"extraction": 1, "filters": 1}
    assert s["by_rule"] == {"D fineweb:line_punct_ratio": 1, "D gopher_quality:gopher_below_alpha_threshold": 1}


def test_page_f1_of_an_empty_extraction_is_zero_and_of_the_gold_is_one() -> None:
    gold = "one two three four five six seven eight nine ten"
    assert page_f1(gold, gold) == 1.0
    assert page_f1(gold, "") == 0.0


def test_disagreement_f1_by_the_side_that_dropped() -> None:
    rows = [dict(_row("kept", "no text"), f1_A=0.9, f1_D=0.0), dict(_row("kept", "kept"), f1_A=1.0, f1_D=1.0),
            dict(_row("c4:min_sentences", "kept", b="c4:x"), f1_A=0.5, f1_D=0.7)]
    s = summarise(rows)["disagreement_f1"]
    assert s["D"] == {"pages": 1, "f1_A": 0.9, "f1_D": 0.0}
    assert s["A"] == {"pages": 1, "f1_A": 0.5, "f1_D": 0.7}
    assert summarise(rows[1:2])["disagreement_f1"] == {"A": None, "D": None}
