"""Ray started by the pipeline dies with the pipeline, agents included, also when the driver is killed.

Why a watchdog: an embedded Ray's GCS and raylet die with the driver (Ray sets a parent-death signal on
them), but the raylet's children (dashboard agent, runtime-env agent, idle workers) only notice that the
raylet is gone by polling, then try to report to the dead GCS and linger for tens of seconds to minutes
(about 210 MB). This small process watches the driver through a pipe: when the pipe closes (the driver
exited or was killed, even with -9) or the driver writes ``reap``, it stops every process of that Ray
node: the node's own processes and every descendant seen while it ran.

``python pipeline/ray_watchdog.py ROOT_PID...`` with the pipe's read end as stdin (stdlib only, so it
starts fast and needs no import path).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

SCAN_EVERY_S = 0.5
GRACE_S = 3.0


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (field 22 of /proc/PID/stat): tells a PID reused apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _children(processes: dict[int, tuple[int, str]] | None = None) -> dict[int, list[int]]:
    """Every process's children, by parent PID (of ``processes``, default a fresh ``_processes()``)."""
    tree: dict[int, list[int]] = {}
    for pid, (ppid, _) in (_processes() if processes is None else processes).items():
        tree.setdefault(ppid, []).append(pid)
    return tree


def _processes() -> dict[int, tuple[int, str]]:
    """Every process's parent and start time (as ``_start_time``), from one raw read of each /proc/PID/stat.

    Why one pass of ``os.read``s: the watchdog scans every ``SCAN_EVERY_S`` for the whole run, and reading each
    file twice through ``Path.read_text`` (for the parent, then ``_start_time``) cost ~2.5 ms a scan on this
    machine's ~95 processes, ~0.4 CPU s of a 77 s run (issue 19); this costs ~1 ms."""
    found: dict[int, tuple[int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{entry.name}/stat", os.O_RDONLY)
            try:
                stat = os.read(fd, 4096)
            finally:
                os.close(fd)
            fields = stat[stat.rindex(b")") + 2:].split(b" ", 20)
            found[int(entry.name)] = (int(fields[1]), fields[19].decode())
        except (OSError, ValueError, IndexError):
            continue
    return found


def _scan(tracked: dict[int, str]) -> None:
    """Add every live descendant of a tracked process (with its start time) to ``tracked``."""
    processes = _processes()
    tree = _children(processes)
    stack = [pid for pid, started in tracked.items() if pid in processes and processes[pid][1] == started]
    me = os.getpid()
    while stack:
        for child in tree.get(stack.pop(), []):
            if child not in tracked and child != me:
                tracked[child] = processes[child][1]
                stack.append(child)


def _stop(tracked: dict[int, str]) -> None:
    """SIGTERM every tracked process still alive (same PID and start time), SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid, started in tracked.items() if _start_time(pid) == started]
        for pid in alive:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + GRACE_S
        while sig == signal.SIGTERM and time.monotonic() < deadline:
            if all(_start_time(pid) != started for pid, started in tracked.items()):
                return
            time.sleep(0.1)


def watch(roots: list[int]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver; the pipe tells us the rest
    tracked = {pid: started for pid in roots if (started := _start_time(pid)) is not None}
    stdin = sys.stdin.buffer
    while True:
        _scan(tracked)
        ready, _, _ = select.select([stdin], [], [], SCAN_EVERY_S)
        if ready:
            line = stdin.readline()  # b"" when the driver is gone; b"reap\n" after a clean shutdown
            if not line or line.strip() == b"reap":
                break
    _scan(tracked)
    _stop(tracked)


class Watchdog:
    """The driver's end: start the watchdog over a Ray node's processes; ``reap`` after ``ray.shutdown``."""

    def __init__(self, roots: list[int]):
        read_end, self._write_end = os.pipe()
        os.set_inheritable(self._write_end, False)
        self.process = subprocess.Popen([sys.executable, __file__, *map(str, roots)],
                                        stdin=read_end, close_fds=True)
        os.close(read_end)

    def reap(self, timeout_s: float = 30.0) -> None:
        """Stop what is left of the node now and wait for the watchdog to finish."""
        try:
            os.write(self._write_end, b"reap\n")
        except OSError:
            pass
        os.close(self._write_end)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def node_process_ids() -> list[int]:
    """PIDs of the processes of the Ray node this driver started (GCS, raylet, dashboard, monitors)."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    pids = []
    for infos in getattr(node, "all_processes", {}).values():
        pids.extend(info.process.pid for info in infos if getattr(info, "process", None) is not None)
    return pids


if __name__ == "__main__":
    watch([int(arg) for arg in sys.argv[1:]])
