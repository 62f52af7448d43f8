"""Run accounting: every skip is counted with a reason and a few examples; tallies merge exactly."""

from __future__ import annotations

import json
from collections import Counter

from contracts.accounting import MAX_EXAMPLES_PER_REASON, Tally, merge_file_entry


def test_skips_are_counted_and_a_few_examples_kept() -> None:
    tally = Tally()
    for i in range(MAX_EXAMPLES_PER_REASON + 3):
        tally.skip("empty_text", "a.jsonl", f"line {i + 1}", "x" * 500)
    tally.add("docs_out", 2)
    assert tally.counts == Counter({"skipped.empty_text": MAX_EXAMPLES_PER_REASON + 3, "docs_out": 2})
    examples = tally.examples["empty_text"]
    assert len(examples) == MAX_EXAMPLES_PER_REASON
    assert examples[0] == {"file": "a.jsonl", "record": "line 1", "detail": "x" * 300}


def test_merging_adds_counts_and_survives_json() -> None:
    first, second = Tally(), Tally()
    first.add("docs_in", 3)
    second.add("docs_in", 4)
    second.skip("invalid_json", "b.jsonl", "line 9")
    first.merge(second)
    assert first.counts == Counter({"docs_in": 7, "skipped.invalid_json": 1})
    again = Tally.from_dict(json.loads(json.dumps(first.to_dict())))
    assert (again.counts, again.examples, again.files) == (first.counts, first.examples, first.files)


def test_a_large_source_cannot_crowd_out_another_source_s_examples() -> None:
    """Merged in task order, the first source used to take all five examples of a shared reason."""
    merged = Tally()
    for source, n in (("big", 40), ("small", 1)):
        task = Tally()
        for i in range(n):
            task.skip("empty_text", f"{source}.warc.gz", f"record {i}")
        for item in task.examples["empty_text"]:
            item["source"] = source
        merged.merge(task)
    by_source = [e["source"] for e in merged.examples["empty_text"]]
    assert by_source.count("big") == MAX_EXAMPLES_PER_REASON and by_source.count("small") == 1


def test_a_file_read_as_several_splits_is_one_entry() -> None:
    into = {"source": "web", "kind": "commoncrawl", "bytes": 1000, "docs_out": 2, "chars_held": 900,
            "chars_out": 50, "records": 10, "skipped": {"not_html": 3}, "ignored": {"request": 5}}
    merge_file_entry(into, {"bytes": 1000, "docs_out": 1, "chars_held": 100, "chars_out": 20, "records": 2,
                            "skipped": {"not_html": 1, "empty_text": 1}, "ignored": {}})
    assert into == {"source": "web", "kind": "commoncrawl", "bytes": 1000, "docs_out": 3, "chars_held": 1000,
                    "chars_out": 70, "records": 12, "skipped": {"empty_text": 1, "not_html": 4},
                    "ignored": {"request": 5}}
