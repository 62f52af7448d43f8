"""The completion ledger: one append-only file per stage, crash-safe, compacted, and what the runner does
with it (in process: the ledger is the driver's, whichever executor ran the tasks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.accounting import Tally
from contracts.fsio import atomic_write
from pipeline.completion_ledger import LEDGER_NAME, CompletionLedger, has_records, read_records
from pipeline.executors import InProcessExecutor
from pipeline.runner import Task, TaskResult, run_stage


def test_records_round_trip_and_the_latest_line_of_a_task_wins(tmp_path: Path) -> None:
    ledger = CompletionLedger(tmp_path / "s")
    assert ledger.load() == {}
    ledger.append("a", {"outputs": ["x"], "task_digest": "1"})
    ledger.append("b", {"outputs": [], "task_digest": "2"})
    ledger.append("a", {"outputs": ["y"], "task_digest": "3"})
    ledger.close()
    records = CompletionLedger(tmp_path / "s").load()
    assert records == {"a": {"id": "a", "outputs": ["y"], "task_digest": "3"},
                       "b": {"id": "b", "outputs": [], "task_digest": "2"}}
    assert len((tmp_path / "s" / LEDGER_NAME).read_bytes().splitlines()) == 3  # appended, not rewritten


def test_settle_compacts_to_one_line_per_task_in_task_order(tmp_path: Path) -> None:
    ledger = CompletionLedger(tmp_path)
    ledger.load()
    for task_id, digest in (("c", "1"), ("a", "1"), ("c", "2"), ("old", "1"), ("b", "1")):
        ledger.append(task_id, {"task_digest": digest})
    ledger.settle(["a", "b", "c"])
    lines = [json.loads(line) for line in (tmp_path / LEDGER_NAME).read_bytes().splitlines()]
    # the tasks of this run in their order, then one no longer listed (kept: an earlier manifest's task)
    assert [(r["id"], r["task_digest"]) for r in lines] == [("a", "1"), ("b", "1"), ("c", "2"), ("old", "1")]
    before = (tmp_path / LEDGER_NAME).stat().st_mtime_ns
    again = CompletionLedger(tmp_path)
    again.load()
    again.settle(["a", "b", "c"])  # already canonical: not rewritten
    assert (tmp_path / LEDGER_NAME).stat().st_mtime_ns == before


def test_a_torn_last_line_is_dropped_and_cut_off_before_the_next_append(tmp_path: Path) -> None:
    ledger = CompletionLedger(tmp_path)
    ledger.load()
    ledger.append("a", {"task_digest": "1"})
    ledger.close()
    with open(tmp_path / LEDGER_NAME, "ab") as fh:
        fh.write(b'{"id": "b", "task_dig')  # a power cut in the middle of an append
    again = CompletionLedger(tmp_path)
    assert list(again.load()) == ["a"]
    assert again.torn and again.unreadable == 0
    again.append("c", {"task_digest": "1"})
    again.close()
    assert [json.loads(line)["id"] for line in (tmp_path / LEDGER_NAME).read_bytes().splitlines()] == ["a", "c"]


def test_unreadable_lines_are_counted_and_ignored(tmp_path: Path) -> None:
    (tmp_path / LEDGER_NAME).write_bytes(b'{"id": "a"}\nnot json\n{"no_id": 1}\n\xff\xfe\n{"id": 7}\n{"id": "b"}\n')
    ledger = CompletionLedger(tmp_path)
    assert sorted(ledger.load()) == ["a", "b"]
    assert ledger.unreadable == 4 and not ledger.torn
    ledger.settle(["a", "b"])  # compaction drops them
    assert (tmp_path / LEDGER_NAME).read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'


def test_legacy_per_task_records_are_imported_once(tmp_path: Path) -> None:
    (tmp_path / "t1.json").write_text(json.dumps({"outputs": ["o1"], "task_digest": "d1"}))
    (tmp_path / "t0.json").write_text(json.dumps({"outputs": [], "task_digest": "d0"}))
    (tmp_path / "t2.json").write_text("{half")  # unreadable, as the runner always treated it: redone
    assert has_records(tmp_path)
    records = CompletionLedger(tmp_path).load()
    assert records == {"t0": {"id": "t0", "outputs": [], "task_digest": "d0"},
                       "t1": {"id": "t1", "outputs": ["o1"], "task_digest": "d1"}}
    assert sorted(p.name for p in tmp_path.iterdir()) == [LEDGER_NAME]
    assert read_records(tmp_path) == records


def test_an_append_on_a_full_disk_names_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    ledger = CompletionLedger(tmp_path)
    ledger.load()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match=rf"No space left on device: '{tmp_path}/{LEDGER_NAME}'"):
        ledger.append("a", {})
    ledger.close()


def _write_one(payload: dict) -> TaskResult:
    relative = f"out/{payload['n']}.txt"
    with atomic_write(Path(payload["run_dir"]) / relative, "w") as fh:
        fh.write(str(payload["n"]))
    tally = Tally()
    tally.add("docs_out", 1)
    return TaskResult([relative], tally)


def test_the_runner_keeps_one_file_per_stage_and_resumes_from_it(tmp_path: Path) -> None:
    tasks = [Task(f"t{n:04d}", {"run_dir": str(tmp_path), "n": n}) for n in range(300)]
    first = run_stage(tmp_path, "many", tasks, _write_one, executor=InProcessExecutor())
    assert first.tasks_run == 300
    assert [p.name for p in (tmp_path / "_done" / "many").iterdir()] == [LEDGER_NAME]
    assert list(read_records(tmp_path / "_done" / "many")) == [t.id for t in tasks]
    with open(tmp_path / "_done" / "many" / LEDGER_NAME, "ab") as fh:
        fh.write(b'{"id": "t0299", "outp')  # torn: t0299's whole line is still there before it
    (tmp_path / "out" / "7.txt").unlink()  # a deleted output: that task is redone
    tasks[3] = Task("t0003", {"run_dir": str(tmp_path), "n": 3, "option": 1})  # changed options: redone
    again = run_stage(tmp_path, "many", tasks, _write_one, executor=InProcessExecutor())
    assert (again.tasks_run, again.tasks_skipped) == (2, 298)
    assert again.tally.counts["docs_out"] == 300
    lines = (tmp_path / "_done" / "many" / LEDGER_NAME).read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [t.id for t in tasks]  # compacted, in order
