"""What a Ray worker's memory does task by task, over a whole scale run (issue 19: "peak RSS per worker flat").

``bench/scale_run.py`` samples the process tree from outside, so it shows that the largest worker grows
with the corpus but not why. This probe runs the same scale run with every task function wrapped: inside
the worker, before and after each task, it records the resident set, the task's own peak (the kernel's
high-water mark ``VmHWM``, reset before the task through ``/proc/self/clear_refs``), the bytes Arrow's
memory pool holds, and the number of live Python objects, one JSON line per task in ``<out>/<pid>.jsonl``.
After the task it also logs glibc's ``mallinfo2`` totals and the thread count, and after a worker's first
task of each step and every tenth after it, its anonymous resident memory by kind of mapping (``smaps``):
which allocator keeps what a worker holds between tasks (this found Arrow's mimalloc arena, issue 19).
A climb of ``rss_after`` over a worker's tasks is memory kept between tasks (caches, pools, fragments); a
high ``task_peak`` on a few tasks is the work of those tasks.

    nice .venv/bin/python bench/worker_memory_probe.py --scale 10 --work /tmp/scale --out /tmp/probe-10x

Then ``--summary /tmp/probe-10x`` prints, per step, the largest task peak split into what its worker kept
before the task and the task's own rise (with that task's id and input size), the largest RSS kept after
a task, the busiest worker's first and last kept RSS, and the per-process word caches' largest sizes.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _caches() -> dict[str, int]:
    """Sizes of the per-process caches that fill with the text a worker has seen (only those already
    imported: the probe must not load anything itself)."""
    found: dict[str, int] = {}
    words = sys.modules.get("pipeline.filters.words")
    if words is not None:
        for name, vocabulary in words._vocabularies.items():
            found[f"vocab_chunks.{name}"] = len(vocabulary)
            found[f"vocab_chars.{name}"] = vocabulary.chars
            found[f"vocab_tokens.{name}"] = vocabulary.n_tokens
            found[f"vocab_bytes.{name}"] = vocabulary.nbytes()
        found["lru.is_symbol"] = words.is_symbol.cache_info().currsize
        found["lru.has_alpha"] = words.has_alpha.cache_info().currsize
    language = sys.modules.get("pipeline.filters.language")
    if language is not None:
        for path, predict in language._PREDICTORS.items():
            owner = getattr(predict, "__self__", None)  # ours (FastTextLID) keeps a token cache
            if owner is not None and hasattr(owner, "cache_info"):
                info = owner.cache_info()
                found["lid_cache_entries"] = found.get("lid_cache_entries", 0) + info["entries"]
                found["lid_cache_bytes"] = found.get("lid_cache_bytes", 0) + info["allocated_bytes"]
    return found


def _mallinfo() -> dict[str, int]:
    """glibc's totals over every arena (KiB): ``arena`` bytes from sbrk/arena heaps, ``hblkhd`` in mmapped
    blocks, ``uordblks`` in use, ``fordblks`` free (pages of trimmed free chunks included). (The structure is
    made here, in the worker: this module's classes are pickled by value and ctypes' are not picklable.)"""

    class _MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _MallInfo2
    info = fn()
    return {name: getattr(info, name) // 1024 for name in ("arena", "hblkhd", "uordblks", "fordblks")}


def _smaps() -> dict[str, Any]:
    """Resident KiB of this process's anonymous memory by kind of mapping (``/proc/self/smaps``, a few ms):
    the brk heap, mappings of exactly 1 MiB (CPython's object arenas), 64 MiB-reserved glibc arena heaps
    and other large reservations (>= 32 MiB of address space: mimalloc's arenas, Ray's), the rest; and the
    eight largest anonymous mappings (MiB of address space, resident MiB)."""
    kinds: dict[str, int] = defaultdict(int)
    largest: list[tuple[int, int, str]] = []
    name, size_kib, anon = "", 0, False
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return {}

    def close() -> None:
        if not anon:
            return
        if name == "[heap]":
            kind = "heap"
        elif name == "[stack]":
            kind = "stack"
        elif size_kib == 1024:
            kind = "py_arenas"
        elif size_kib >= 32 * 1024:
            kind = "large"
        else:
            kind = "other"
        kinds[kind] += rss
        largest.append((rss, size_kib, name or "anon"))

    rss = 0
    for line in lines:
        head = line.split(None, 1)[0]
        if "-" in head and not head.endswith(":"):
            close()
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            size_kib, name, rss = (hi - lo) // 1024, parts[5] if len(parts) > 5 else "", 0
            anon = not name or name in ("[heap]", "[stack]")
        elif head == "Rss:":
            rss = int(line.split()[1])
    close()
    largest.sort(reverse=True)
    return {"kinds_kib": dict(kinds), "largest": [[s // 1024, r // 1024, n] for r, s, n in largest[:8]]}


_seen: dict[str, int] = defaultdict(int)  # tasks of each step this worker has run


class Probed:
    """A task function wrapped to log its worker's memory around each call (pickled by value: defined in
    ``__main__``). Its payload is ``(task id, task size in bytes, the task's own payload)``."""

    def __init__(self, fn: Callable[[Any], Any], step: str, out: str):
        self.fn, self.step, self.out = fn, step, out

    def __call__(self, wrapped: tuple[str, int, Any]) -> Any:
        import pyarrow as pa

        from pipeline import memory

        task_id, size_bytes, payload = wrapped
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        before = _status_kib("VmRSS")
        # what the kept RSS is: anonymous memory (heaps, pools) or mapped files (modules, models)
        anon_before, file_before = _status_kib("RssAnon"), _status_kib("RssFile")
        started = time.process_time()
        result = self.fn(payload)
        cpu_s = time.process_time() - started
        at_end = _status_kib("VmRSS")
        peak = _status_kib("VmHWM")
        # as the executor does next (whose own call then finds nothing new); gated where the code has the gate
        release = getattr(memory, "release_after_task", None)
        release_started = time.thread_time()
        released = release() if release is not None else (memory.release_freed_memory() or True)
        release_ms = (time.thread_time() - release_started) * 1000
        record = {"step": self.step, "task": task_id, "size_bytes": size_bytes, "pid": os.getpid(),
                  "rss_before": before, "anon_before": anon_before, "file_before": file_before, "rss_end": at_end, "rss_after": _status_kib("VmRSS"),
                  "task_peak": peak, "cpu_s": round(cpu_s, 3), "released": released,
                  "release_ms": round(release_ms, 3),
                  "arrow_bytes": pa.total_allocated_bytes(), "arrow_pool": pa.default_memory_pool().backend_name,
                  "py_objects": len(gc.get_objects()), "caches": _caches(), "threads": _status_kib("Threads"),
                  "anon_after": _status_kib("RssAnon"), "mallinfo_after": _mallinfo()}
        _seen[self.step] += 1
        if _seen[self.step] % 10 == 1:  # the first task of a step in this worker, then every tenth
            record["smaps_after"] = {**_smaps(), "pipeline": sys.modules["pipeline"].__file__}
        with open(Path(self.out) / f"{os.getpid()}.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")
        return result


def read_logs(out: Path) -> list[dict[str, Any]]:
    """Every task record of the per-worker logs in ``out``, each worker's in the order it ran them."""
    return [json.loads(line) for path in sorted(out.glob("*.jsonl")) for line in path.read_text().splitlines()]


def summary(out: Path) -> list[dict[str, Any]]:
    """Per step (MiB): the largest task peak, split into the RSS its worker kept before it (what earlier
    tasks left: modules, models, caches) and the task's own rise above that, with that task's id and input
    size; the largest rise of any task; the largest RSS kept after a task; the busiest worker's first and
    last kept RSS; and the largest cache sizes seen."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in read_logs(out):
        rows[record["step"]].append(record)
    table = []
    for step, records in rows.items():
        by_pid: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in records:
            by_pid[r["pid"]].append(r)
        busiest = max(by_pid.values(), key=len)
        top = max(records, key=lambda r: r["task_peak"])
        rise = max(records, key=lambda r: r["task_peak"] - r["rss_before"])
        caches: dict[str, int] = {}
        for r in records:
            for name, value in r.get("caches", {}).items():
                caches[name] = max(caches.get(name, 0), value)
        table.append({
            "step": step, "tasks": len(records), "workers": len(by_pid),
            "max_task_peak_mib": round(top["task_peak"] / 1024),
            "its_kept_before_mib": round(top["rss_before"] / 1024),
            "its_rise_mib": round((top["task_peak"] - top["rss_before"]) / 1024),
            "its_task": top.get("task"), "its_size_mb": round(top.get("size_bytes", 0) / 1e6, 2),
            "its_kept_anon_file_mib": [round(top.get("anon_before", 0) / 1024), round(top.get("file_before", 0) / 1024)],
            "max_rise_mib": round((rise["task_peak"] - rise["rss_before"]) / 1024),
            "max_rise_task": rise.get("task"), "max_rise_size_mb": round(rise.get("size_bytes", 0) / 1e6, 2),
            "max_rss_after_mib": round(max(r["rss_after"] for r in records) / 1024),
            "busiest_first_last_rss_after_mib": [round(busiest[0]["rss_after"] / 1024),
                                                 round(busiest[-1]["rss_after"] / 1024)],
            "max_arrow_mib": round(max(r["arrow_bytes"] for r in records) / 2**20, 1),
            "py_objects_first_last": [busiest[0]["py_objects"], busiest[-1]["py_objects"]],
            "task_cpu_s": round(sum(r["cpu_s"] for r in records), 3),
            "releases": sum(bool(r.get("released", True)) for r in records),
            "release_cpu_ms": round(sum(r.get("release_ms", 0) for r in records), 1),
            "caches_max": caches,
            "busiest_last_anon_mib": round(busiest[-1].get("anon_after", 0) / 1024),
            "busiest_last_mallinfo_kib": busiest[-1].get("mallinfo_after"),
            "busiest_last_threads": busiest[-1].get("threads"),
            "busiest_last_smaps": next((r["smaps_after"] for r in reversed(busiest) if "smaps_after" in r), None)})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--out", type=Path, help="per-worker logs go here (emptied first)")
    parser.add_argument("--summary", type=Path, help="only summarise the logs in this folder")
    args = parser.parse_args()
    if args.summary:
        for row in summary(args.summary):
            print(json.dumps(row))
        return
    from bench import scale_run
    from pipeline.stage import RunContext

    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.jsonl"):
        old.unlink()
    original = RunContext.run_tasks

    def run_tasks(self: RunContext, step: str, tasks: list, fn: Callable, docs_key: str = "docs_out") -> Any:
        # the same tasks and identities (``key``), with the id and size passed along for the log
        probed = [replace(t, payload=(t.id, t.size_bytes, t.payload), key=t.payload if t.key is None else t.key)
                  for t in tasks]
        return original(self, step, probed, Probed(fn, step, str(args.out.resolve())), docs_key=docs_key)

    RunContext.run_tasks = run_tasks  # type: ignore[method-assign]
    result = scale_run.run(args.scale, args.work, 2, 0.25)
    (args.out / "scale_run.json").write_text(json.dumps(result, indent=1) + "\n")
    for row in result["stages"]:
        print(json.dumps({k: row.get(k) for k in ("stage", "wall_s", "peak_worker_rss_mib", "peak_tree_rss_mib")}))
    for row in summary(args.out):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
