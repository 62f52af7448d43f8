"""bench/e2e_agreement.py: how an end-to-end disagreement is put down to datatrove's reader, extraction or the
filters, and the refinery chain it runs on another extractor's text (the e2e manifest's filters)."""

from __future__ import annotations

from bench.e2e_agreement import cause, refinery_filters
from pipeline.filters.language import bundled_model_path


def _row(a: str, d: str, b: str = "kept", c: str = "kept", reads: bool = True, simulated: str | None = None) -> dict:
    return {"A": a, "D": d, "B": b, "C": c, "datatrove_reads": reads, "D_simulated": simulated or d}


def test_agreeing_pages_have_no_cause() -> None:
    assert cause(_row("kept", "kept")) is None
    assert cause(_row("gopher_quality:min_words", "dropped", b="x", c="y")) is None


def test_a_record_datatrove_never_read_is_its_reader() -> None:
    assert cause(_row("kept", "dropped", reads=False)) == "reader"


def test_a_page_datatrove_keeps_without_its_sandbox_but_dropped_is_a_timeout() -> None:
    assert cause(_row("kept", "dropped", simulated="kept")) == "timeout"


def test_extraction_when_each_side_filters_the_same_text_alike() -> None:
    # refinery keeps its own text and datatrove's filters keep it too (B); on trafilatura's text refinery's
    # filters drop it as datatrove does (C): the texts differ, not the rules
    assert cause(_row("kept", "dropped", b="kept", c="gopher_quality:min_alpha_words")) == "extraction"
    assert cause(_row("language:low_score", "kept", b="language:dropped", c="kept")) == "extraction"


def test_filters_when_the_same_text_is_judged_differently() -> None:
    assert cause(_row("kept", "dropped", b="c4:too_few_sentences", c="kept")) == "filters"
    assert cause(_row("kept", "dropped", b="kept", c="kept")) == "filters"


PROSE = """The committee met on Tuesday to review the annual budget of the town library.
Members discussed the cost of a new roof, which had leaked during the winter storms.
The treasurer explained that the repairs could be paid for from the reserve fund without raising fees.
Several residents asked whether the reading room would stay open while the builders were working.
The chair said that the room would close for two weeks in the spring and that notices would be posted.
After a short debate the members agreed to publish a full report on the project next month.
They also thanked the volunteers who had catalogued the donated books over the past year.
The next meeting will be held in the hall of the primary school at seven in the evening."""


def test_refinery_chain_on_given_texts() -> None:
    decisions = refinery_filters([PROSE, PROSE.replace("\n", "\n" + PROSE.splitlines()[0] + "\n"),
                                  "这是一个中文网页，不是英文。" * 30], [None, None, None], bundled_model_path())
    assert decisions[0] is None  # English prose passes language, Gopher, C4 and FineWeb
    assert decisions[1] == "gopher_repetition:max_dup_line_frac"  # the same line eight times in fifteen
    assert decisions[2].startswith("language:")
