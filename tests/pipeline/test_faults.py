"""Fault injection on whole runs of the pipeline CLI over real data: a Ray worker killed mid-task, the
driver killed during a later stage and the run restarted.

Each run must end with outputs byte-identical to a clean run of the same manifest (docs, filtered,
removed, dedup, tokens) and with documents in = kept + removed at every stage. The manifest uses small
splits and shards and one task in flight, so every stage has many tasks. No kill races the run: a killed
worker is held inside its task until the kill (``tests.pipeline.held_worker_cli``), a killed driver waits at
a gate (``tests.pipeline.gated_cli``).

Kills only reach processes of the run the test started: its CLI runs in a new session, and Ray's
processes are found by that session id, never by name alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.helpers import book_paragraphs_jsonl, done_records, tree_digest, write_manifest
from tests.pipeline.invariants import assert_in_equals_kept_plus_removed

REPO = Path(__file__).resolve().parents[2]
COMPARED = ("docs", "filtered", "removed", "dedup", "tokens")
STAGES = ["crawl", "filter", "dedup", "tokenize"]

pytestmark = pytest.mark.slow


def fault_manifest(folder: Path, shared: Path, jsonl: Path) -> Path:
    sources = [
        {"name": "paras", "kind": "jsonl", "paths": [str(jsonl)], "options": {"split_bytes": 32768}},
        {"name": "web", "kind": "commoncrawl", "paths": [str(shared / "web/dolma-sample-0000.warc.gz")],
         "options": {"split_bytes": 65536}},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(shared / "wiki/enwiki-table-markup.xml.bz2")]},
    ]
    stages = {"order": STAGES, "crawl": {"shard_docs": 25},
              "tokenize": {"shard_tokens": 20_000, "validation": {"fraction": 0.05},
                           "tokenizer": {"kind": "tiktoken", "name": "gpt2",
                                         "ranks_path": str(shared / "tokenizers/gpt2.tiktoken")}}}
    return write_manifest(folder, sources, name="f", ray={"num_cpus": 1, "max_in_flight": 1}, stages=stages)


def start(manifest: Path, halt_at: tuple[str, int, Path] | None = None,
          hold: tuple[Path, tuple[str, ...]] | None = None) -> subprocess.Popen:
    """The CLI in a new session; with ``halt_at`` = (stage, records, flag file) the driver stops for good
    after writing that many completion records of that stage (``tests.pipeline.gated_cli``); with ``hold``
    = (marker folder, stages) one task of each stage waits in its worker to be killed
    (``tests.pipeline.held_worker_cli``)."""
    command = ["-m", "pipeline"]
    if halt_at is not None:
        command = ["-m", "tests.pipeline.gated_cli", halt_at[0], str(halt_at[1]), str(halt_at[2])]
    elif hold is not None:
        command = ["-m", "tests.pipeline.held_worker_cli", str(hold[0]), ",".join(hold[1])]
    return subprocess.Popen([sys.executable, *command, "run", str(manifest)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    output = proc.communicate(timeout=timeout)[0].decode(errors="replace")
    assert proc.returncode == 0, output[-4000:]
    return output


def records(run_dir: Path, step: str) -> int:
    return len(done_records(run_dir, step))


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError("the run ended before the fault could be injected: "
                                 + proc.stdout.read().decode(errors="replace")[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the moment to inject the fault")
        time.sleep(0.01)


def session_processes(session: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process in ``session`` (the CLI's own session: ours alone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")))
        except (OSError, ProcessLookupError):
            continue  # exited while we looked
    return found


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the CLI's process group and any process of its session outside that group (Ray's)."""
    for pid, _ in [(proc.pid, "")] + session_processes(proc.pid):
        try:
            os.killpg(pid, signal.SIGKILL) if pid == proc.pid else os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def executing_workers(session: int) -> list[int]:
    """Ray worker processes of this session that are running a task (title ``ray::_execute``)."""
    return [pid for pid, title in session_processes(session) if title.startswith("ray::_execute")]


@pytest.fixture(scope="module")
def jsonl(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return book_paragraphs_jsonl(shared_data, tmp_path_factory.mktemp("faults-input") / "paras.jsonl", limit=1200)


@pytest.fixture(scope="module")
def clean_run(ray_local, shared_data: Path, jsonl: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the same manifest run once without faults, in this process on the session's Ray (no
    CLI and no Ray start of its own; the outputs depend on the manifest alone, not on the Ray they ran on)."""
    folder = tmp_path_factory.mktemp("faults-clean")
    run_manifest(load_manifest(fault_manifest(folder, shared_data, jsonl)))
    run_dir = folder / "out" / "f"
    assert records(run_dir, "crawl") >= 10 and records(run_dir, "filter") >= 10
    return run_dir


def assert_same_as_clean(run_dir: Path, clean: Path) -> None:
    assert tree_digest(run_dir, COMPARED) == tree_digest(clean, COMPARED)
    assert not list(run_dir.rglob(".tmp-*"))
    assert_in_equals_kept_plus_removed(run_dir)


def test_worker_killed_mid_task_is_retried(shared_data: Path, jsonl: Path, clean_run: Path,
                                           tmp_path: Path) -> None:
    run_dir, markers = tmp_path / "out" / "f", tmp_path / "held"
    markers.mkdir()
    # One worker in each of three stages; the filter stage's tasks run in its signal step (a shard's signals
    # and decisions in one task when both are pending), so that is where its worker is held.
    steps = ("crawl", "filter-signals", "dedup.signatures")
    proc = start(fault_manifest(tmp_path, shared_data, jsonl), hold=(markers, steps))
    try:
        killed = []
        for step in steps:
            marker = markers / f"{step}.pid"
            wait_for(marker.exists, proc, timeout=600)  # its worker is inside the task and stays there
            pid = int(marker.read_text())
            assert pid in executing_workers(proc.pid)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        output = finish(proc, timeout=600)
    finally:
        if proc.poll() is None:
            kill_session(proc)
    assert len(set(killed)) == 3
    assert "already done" not in output  # one run: the retries happened inside it
    assert "will be retried" in output  # Ray's own report of a task whose worker died (log lines may lag)
    assert_same_as_clean(run_dir, clean_run)


def test_driver_killed_in_a_later_stage_then_rerun(shared_data: Path, jsonl: Path, clean_run: Path,
                                                   tmp_path: Path) -> None:
    """The driver killed after the first record of dedup's signature step (a stage reading an earlier one's
    outputs), the rerun killed in turn after tokenize's first record, then a rerun to the end. Each kill
    leaves exactly the records written before it; the last run skips what is done and ends with the clean
    run's outputs. One chain of runs instead of two from scratch (one killed in each stage): the last rerun
    meets what a run killed in tokenize leaves (earlier stages done, one tokenize record), and the dedup
    outputs the middle run finished after its resume are compared with the clean run's too."""
    run_dir = tmp_path / "out" / "f"
    manifest = fault_manifest(tmp_path, shared_data, jsonl)
    for stage_step in ("dedup.signatures", "tokenize"):
        flag = tmp_path / f"halted-{stage_step}"
        proc = start(manifest, halt_at=(stage_step, 1, flag))  # the driver halts after the stage's first record
        try:
            wait_for(flag.exists, proc, timeout=600)
        finally:
            kill_session(proc)  # the driver and its embedded Ray, mid-stage
        total = records(clean_run, stage_step)
        assert total > 1
        assert records(run_dir, stage_step) == 1, stage_step  # exactly where the driver halted
        assert not (run_dir / "stats" / "tokenize.json").exists()

    output = finish(start(manifest))
    assert "already done, skipping them" in output
    assert_same_as_clean(run_dir, clean_run)
