"""Ray started by the pipeline ends with it, agents included, also when the driver is killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.ray_watchdog import _start_time
from tests.process_helpers import descendants, wait_until
from tests.pipeline.helpers import book_paragraphs_jsonl, write_manifest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the watchdog reads /proc")


def alive(processes: dict[int, str]) -> dict[int, str]:
    """The processes still running (same PID and start time), with their command lines; one that exits while
    it is being read is not running."""
    found = {}
    for pid, started in processes.items():
        if _start_time(pid) != started:
            continue
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:80].decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):  # exited between the two reads
            continue
    return found


def manifest(tmp_path: Path, shared_data: Path) -> Path:
    jsonl = book_paragraphs_jsonl(shared_data, tmp_path / "paras.jsonl")
    return write_manifest(tmp_path, [{"name": "paras", "kind": "jsonl", "paths": [str(jsonl)],
                                      "options": {"split_bytes": 2048}}],
                          ray={"num_cpus": 1, "max_in_flight": 1})


def test_killing_the_driver_stops_every_process_of_its_ray(shared_data: Path, tmp_path: Path) -> None:
    flag = tmp_path / "halted"  # the driver halts for good after its third crawl record: it cannot finish first
    proc = subprocess.Popen([sys.executable, "-m", "tests.pipeline.gated_cli", "crawl", "3", str(flag), "run",
                             str(manifest(tmp_path, shared_data))],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    seen: dict[int, str] = {}
    try:
        def running() -> bool:  # tasks finished, so Ray's agents and workers are all up
            seen.update(descendants(proc.pid))
            return flag.exists()

        assert wait_until(running, 240), "the run never got going"
        seen.update(descendants(proc.pid))
        assert proc.poll() is None, "the driver waits at its gate until it is killed"
        names = " ".join(alive(seen).values())
        assert "DashboardAgent" in names and "RuntimeEnvAgent" in names and "raylet" in names
        os.kill(proc.pid, signal.SIGKILL)  # the driver alone, as the OOM killer or a user would
        proc.wait()
        # Without the watchdog the agents outlived the driver by 20 s to minutes on this machine.
        assert wait_until(lambda: not alive(seen), 15), f"still running: {alive(seen)}"
    finally:
        for pid in alive(seen):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_finished_run_leaves_no_ray_process(shared_data: Path, tmp_path: Path) -> None:
    path = write_manifest(tmp_path, [{"name": "books", "kind": "books",
                                      "paths": [str(shared_data / "books/the-verdict.txt")]}],
                          ray={"num_cpus": 1})
    proc = subprocess.Popen([sys.executable, "-c", "import sys, time; from pipeline.cli import main; "
                             "code = main(['run', sys.argv[1]]); print('ran', code, flush=True); time.sleep(60)",
                             str(path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    seen: dict[int, str] = {}
    stop = threading.Event()

    def watch() -> None:  # every process the run starts, also those re-parented to init later
        while not stop.is_set():
            seen.update(descendants(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert proc.stdout.readline().strip() == "ran 0"
        stop.set()
        watcher.join()
        assert len(seen) >= 4, "the watcher saw the run start Ray (GCS, raylet, agents, workers)"
        # The driver lives on (as a notebook or a service would) and its Ray is gone.
        assert not alive(seen), f"still running after the run returned: {alive(seen)}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_one_scan_finds_children_and_grandchildren_with_their_start_times() -> None:
    """``_scan`` reads every /proc/PID/stat once (``_processes``): parents and start times as ``_start_time``
    reads them, so a tracked process's descendants are found, and a PID reused by a newer process is not."""
    from pipeline.ray_watchdog import _processes, _scan

    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                              "p = subprocess.Popen(['sleep', '30']); print(p.pid, flush=True); time.sleep(30)"],
                             stdout=subprocess.PIPE, text=True)
    grandchild = 0
    try:
        grandchild = int(child.stdout.readline())
        processes = _processes()
        assert processes[child.pid] == (os.getpid(), _start_time(child.pid))
        assert processes[grandchild] == (child.pid, _start_time(grandchild))
        tracked = {child.pid: _start_time(child.pid)}
        _scan(tracked)
        assert tracked == {child.pid: _start_time(child.pid), grandchild: _start_time(grandchild)}
        stale = {child.pid: "1"}  # the same PID with another start time: not ours, so nothing below it is
        _scan(stale)
        assert stale == {child.pid: "1"}
    finally:
        child.kill()
        child.wait()
        if grandchild and _start_time(grandchild) is not None:
            os.kill(grandchild, signal.SIGKILL)
