"""The report tests' browser helper leaves nothing behind: no Chromium process, no profile folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from tests.pipeline.browser import check_page, needs_chromium, session_pids, stop_session

# A child that ignores SIGTERM and keeps writing files into a folder, as a Chromium helper process may
# still write to the profile after the browser itself has gone; its parent exits on SIGTERM.
_WRITER = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "folder = sys.argv[1]\n"
    "open(os.path.join(folder, 'ready'), 'w').close()\n"
    "for i in range(100000):\n"
    "    try:\n"
    "        open(os.path.join(folder, f'f{i % 50}'), 'w').close()\n"
    "    except OSError:\n"
    "        pass\n"
    "    time.sleep(0.005)\n"
)
_PARENT = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]])\n"
    "time.sleep(60)\n"
)


def _profile_processes() -> list[str]:
    """Command lines of live processes started with a report-chromium- profile."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "report-chromium-" in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def test_stop_session_returns_only_once_every_process_of_the_session_is_gone(tmp_path):
    folder = tmp_path / "profile"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _PARENT, _WRITER, str(folder)], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (folder / "ready").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        assert len(session_pids(proc.pid)) == 2
        stop_session(proc, timeout=0.5)  # SIGTERM ends the parent only; the writer needs the SIGKILL
        assert proc.returncode is not None and session_pids(proc.pid) == []
        shutil.rmtree(folder)
        time.sleep(0.1)
        assert not folder.exists()  # nothing wrote into it after its removal
    finally:
        for pid in session_pids(proc.pid):
            os.kill(pid, 9)


@needs_chromium
def test_check_page_stops_every_chromium_process_and_removes_its_profile(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><title>t</title><p id=x>hello</p>")
    profiles = set(Path(tempfile.gettempdir()).glob("report-chromium-*"))
    for _ in range(3):
        check = check_page(page, expressions={"text": "document.getElementById('x').textContent"})
        assert check.values == {"text": "hello"} and check.console_errors == []
        assert _profile_processes() == []  # at return, not some time later
    assert set(Path(tempfile.gettempdir()).glob("report-chromium-*")) == profiles
