"""CPU seconds of a command's whole process tree, by process: what an embedded Ray's own processes cost.

``python bench/tree_cpu.py CMD ARGS...`` runs CMD as a child of this process, made a child subreaper so that
descendants whose parent dies stay in the tree, samples every descendant's user + system CPU from
/proc/PID/stat every 50 ms (e2e_bench's ``TreeCPU`` at a finer interval: a process that ends between two
samples loses at most its last 50 ms), waits until every descendant has ended, and prints one JSON line:
``sampled`` (the tree's CPU s), ``by`` (CPU s by process name: ``raylet``, ``ray::DashboardAgent``,
``python log_monitor.py``...), ``pids``, ``wall`` (s until CMD ended) and ``rusage`` (RUSAGE_CHILDREN: an
undercount on Ray, whose raylet reaps its workers without their CPU reaching this process; for reference).
Pin the tree by pinning this process: ``taskset -c 0 python bench/tree_cpu.py ...``. Linux only.

``--ray-init-task`` instead of CMD: this Python in the current directory, ``pipeline.runner.connect_ray(None,
1)``, one trivial task, ``ray.shutdown()`` (the fixed cost of an embedded Ray; issue 19).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_CHILD_SUBREAPER = 36
RAY_INIT_TASK = """import os, sys
sys.path.insert(0, os.getcwd())
import ray
from pipeline.runner import connect_ray
connect_ray(None, 1, None)
assert ray.get(ray.remote(lambda: 1).remote()) == 1
ray.shutdown()
"""


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent, utime + stime in ticks), or None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _name(pid: int) -> str | None:
    """``raylet``, ``ray::IDLE``, ``python log_monitor.py``, ``python -m``: the program and its script."""
    try:
        argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return None
    if not argv:
        return None
    if argv[0].startswith("ray::"):
        return argv[0].split()[0]
    name = os.path.basename(argv[0])
    script = next((a for a in argv[1:4] if a.endswith(".py") or a.startswith("-m")), None)
    return f"{name} {os.path.basename(script)}" if script else name


def measure(command: list[str], every_s: float = 0.05) -> dict:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    me, last, names = os.getpid(), {}, {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            stats = {int(e.name): s for e in os.scandir("/proc") if e.name.isdigit() and (s := _stat(int(e.name)))}
            children: dict[int, list[int]] = {}
            for pid, (parent, _) in stats.items():
                children.setdefault(parent, []).append(pid)
            stack = list(children.get(me, []))
            while stack:
                pid = stack.pop()
                last[pid] = stats[pid][1]
                names[pid] = _name(pid) or names.get(pid, "?")
                stack.extend(children.get(pid, []))
            stop.wait(every_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    rc = subprocess.call(command)
    wall = time.perf_counter() - started
    deadline = time.monotonic() + 60  # what outlives the command (Ray's agents) is waited for, then killed
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0]:
                continue
        except ChildProcessError:
            break
        if time.monotonic() > deadline:
            for pid in list(last):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.02)
    stop.set()
    thread.join()
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    by: dict[str, float] = {}
    for pid, ticks in last.items():
        by[names.get(pid, "?")] = by.get(names.get(pid, "?"), 0.0) + ticks / TICKS
    return {"rc": rc, "sampled": sum(last.values()) / TICKS, "wall": wall,
            "rusage": usage.ru_utime + usage.ru_stime, "nproc": len(last),
            "by": dict(sorted(by.items(), key=lambda kv: -kv[1])),
            "pids": {str(pid): [names.get(pid, "?"), ticks / TICKS] for pid, ticks in last.items()}}


def main() -> None:
    args = sys.argv[1:]
    if args == ["--ray-init-task"]:
        args = [sys.executable, "-c", RAY_INIT_TASK]
    if not args:
        raise SystemExit(__doc__)
    print(json.dumps(measure(args)))


if __name__ == "__main__":
    main()
