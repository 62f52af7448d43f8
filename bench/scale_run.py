"""A scale run: the full default manifest (``manifests/demo.yaml``'s stages and options) on a local Ray over
the scale corpus of ``bench/scale_corpus.py`` at a given size, measured stage by stage.

Per stage: wall seconds, documents and input MB per second per core (``--num-cpus`` cores), the CPU
seconds of the whole process tree and documents and MB per CPU second (robust to a shared machine's load,
unlike wall time), peak RSS of
the whole process tree (this driver, Ray's GCS/raylet/agents and every worker; summed, sampled every
``--every`` seconds), the largest worker's and the driver's own peak RSS, files and bytes the stage added
to the run folder, its tasks (all its steps: dedup's are many) and the driver's CPU seconds per task.
Ray starts once, before the first stage; its start-up and the report are rows of their own.

    .venv/bin/python bench/scale_run.py --scale 1 --work /tmp/scale --json bench/results/scale-1x.json
    .venv/bin/python bench/scale_run.py --scale 10 --work /tmp/scale --json bench/results/scale-10x.json

The corpus is built under ``<work>/corpus-<S>x`` when missing (its build time is not part of the run); the
run folder is ``<work>/runs/scale-<S>x`` (emptied first). The sources are the demo's web, wiki and books
(the demo's one-record WET source has no counterpart in the corpus).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_corpus import Options as CorpusOptions, build  # noqa: E402
from pipeline.completion_ledger import read_records  # noqa: E402
from pipeline.manifest import load_manifest  # noqa: E402
from pipeline.ray_watchdog import _children  # noqa: E402
from pipeline.report import report_after_run  # noqa: E402
from pipeline.run import record_run  # noqa: E402
from pipeline.runner import DONE_DIR, connect_ray  # noqa: E402
from pipeline.stage import RunContext  # noqa: E402
from pipeline.stages import get_stage  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SOURCES = {"web": ("commoncrawl", "web/*.warc.gz"), "wiki": ("wikipedia", "wiki/*.xml.bz2"),
           "books": ("books", "books/*.txt")}


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_worker(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::")
    except OSError:
        return False


def _cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _tree(root: int) -> list[int]:
    children, stack, found = _children(), [root], []
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


class TreeSampler:
    """Peak RSS (KiB) of the process tree under this process, of the largest Ray worker and of the driver,
    and the CPU seconds the tree used meanwhile (user + system of every process, sampled: a process that
    ends between two samples loses at most its last ``every_s``). CPU seconds, unlike wall time x cores,
    hardly move with the load other work puts on a shared machine."""

    def __init__(self, every_s: float):
        self.every_s = every_s
        self.tree = self.worker = self.driver = 0
        self.own_cpu_s = 0.0  # this sampler thread's CPU: part of the driver process's, not the driver's work
        self._start: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me, total, worker = os.getpid(), 0, 0
        for pid in _tree(me):
            rss = _rss_kib(pid)
            total += rss
            if pid != me and _is_worker(pid):
                worker = max(worker, rss)
            ticks = _cpu_ticks(pid)
            if ticks:
                self._last[pid] = ticks
        self.tree, self.worker = max(self.tree, total), max(self.worker, worker)
        self.driver = max(self.driver, _rss_kib(me))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self.own_cpu_s = time.thread_time()
            self._stop.wait(self.every_s)

    @property
    def cpu_s(self) -> float:
        ticks = sum(last - self._start.get(pid, 0) for pid, last in self._last.items())
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "TreeSampler":
        self._start = {pid: _cpu_ticks(pid) for pid in _tree(os.getpid())}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def folder_usage(root: Path) -> tuple[int, int]:
    """(files, bytes) under ``root``."""
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                size += os.stat(os.path.join(folder, name)).st_size
                files += 1
            except FileNotFoundError:
                pass
    return files, size


def ledger_tasks(run_dir: Path) -> dict[str, int]:
    """Completion records per step folder under ``_done/``."""
    done = run_dir / DONE_DIR
    return {p.name: len(read_records(p)) for p in sorted(done.iterdir())} if done.is_dir() else {}


def write_manifest(corpus: Path, runs: Path, name: str, num_cpus: int, only: tuple[str, ...] = tuple(SOURCES)) -> Path:
    """The demo manifest with the corpus as its sources (those in ``only``) and ``runs/<name>`` as its run
    folder."""
    demo = yaml.safe_load((REPO / "manifests" / "demo.yaml").read_text())
    by_name = {s["name"]: s for s in demo["sources"]}
    sources = []
    for source, (kind, pattern) in SOURCES.items():
        if source not in only:
            continue
        entry = {**by_name[source], "kind": kind, "paths": [str(corpus / pattern)]}
        sources.append(entry)
    demo["sources"] = sources
    demo["run"] = {**demo["run"], "name": name, "output_dir": str(runs)}
    demo["ray"] = {**(demo.get("ray") or {}), "num_cpus": num_cpus}
    path = runs / f"{name}.yaml"
    runs.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(demo, sort_keys=False))
    return path


def stage_input_bytes(run_dir: Path, inputs: list[str], corpus: Path, first: bool, only: tuple[str, ...]) -> int:
    if first:
        return sum(p.stat().st_size for name in only for p in corpus.glob(SOURCES[name][1]))
    return sum((run_dir / rel).stat().st_size for rel in inputs)


def run(scale: float, work: Path, num_cpus: int, every_s: float,
        only: tuple[str, ...] = tuple(SOURCES)) -> dict[str, Any]:
    corpus = work / f"corpus-{scale:g}x"
    label = f"{scale:g}x" + ("" if set(only) == set(SOURCES) else "-" + "-".join(only))
    if not (corpus / "corpus.json").is_file():
        started = time.monotonic()
        build(corpus, CorpusOptions(scale))
        print(f"corpus {corpus} built in {time.monotonic() - started:,.1f} s", file=sys.stderr)
    summary = json.loads((corpus / "corpus.json").read_text())
    runs = work / "runs"
    shutil.rmtree(runs / f"scale-{label}", ignore_errors=True)
    manifest = load_manifest(write_manifest(corpus, runs, f"scale-{label}", num_cpus, only))
    run_dir = manifest.run_dir
    record_run(manifest)
    rows: list[dict[str, Any]] = []
    began = time.monotonic()
    with TreeSampler(every_s) as sample:
        connect_ray(None, num_cpus, manifest.ray.object_store_memory)
        context = RunContext.on_ray(manifest)
    rows.append({"stage": "ray start", "wall_s": round(time.monotonic() - began, 2),
                 "peak_tree_rss_mib": round(sample.tree / 1024)})
    inputs: list[str] = []
    for i, name in enumerate(manifest.stages.order):
        files0, bytes0 = folder_usage(run_dir)
        tasks0 = ledger_tasks(run_dir)
        in_bytes = stage_input_bytes(run_dir, inputs, corpus, i == 0, only)
        cpu0, started = time.process_time(), time.monotonic()
        with TreeSampler(every_s) as sample:
            result = get_stage(name).run(context, inputs)
        # the sampler thread reading /proc costs ~24 ms of CPU per second (measured): not the driver's work
        wall, cpu = time.monotonic() - started, time.process_time() - cpu0 - sample.own_cpu_s
        files1, bytes1 = folder_usage(run_dir)
        tasks1 = ledger_tasks(run_dir)
        tasks = sum(n - tasks0.get(step, 0) for step, n in tasks1.items())
        counts = result.tally.counts
        docs_in = counts.get("docs_in", 0) or counts.get("docs_out", 0)
        rows.append({
            "stage": name, "wall_s": round(wall, 2), "docs_in": counts.get("docs_in", 0),
            "docs_out": counts.get("docs_out", 0), "input_mb": round(in_bytes / 1e6, 2),
            "docs_per_s_per_core": round(docs_in / wall / num_cpus, 1),
            "mb_per_s_per_core": round(in_bytes / 1e6 / wall / num_cpus, 3),
            "ms_per_doc": round(wall * 1e3 / max(1, docs_in), 2),
            "tree_cpu_s": round(sample.cpu_s, 2), "cpu_ms_per_doc": round(sample.cpu_s * 1e3 / max(1, docs_in), 2),
            "docs_per_cpu_s": round(docs_in / max(sample.cpu_s, 1e-9), 1),
            "mb_per_cpu_s": round(in_bytes / 1e6 / max(sample.cpu_s, 1e-9), 3),
            "peak_tree_rss_mib": round(sample.tree / 1024), "peak_worker_rss_mib": round(sample.worker / 1024),
            "peak_driver_rss_mib": round(sample.driver / 1024),
            "files_written": files1 - files0, "mb_written": round((bytes1 - bytes0) / 1e6, 2),
            "tasks": tasks, "steps": sum(1 for step in tasks1 if tasks1[step] != tasks0.get(step, 0)),
            "driver_cpu_s": round(cpu, 2), "driver_ms_per_task": round(cpu * 1e3 / max(1, tasks), 2),
            "driver_share_of_wall": round(cpu / wall, 4), "driver_share_of_tree_cpu": round(cpu / max(sample.cpu_s, 1e-9), 4),
            "sampler_cpu_s": round(sample.own_cpu_s, 2), "load_avg_1m": round(os.getloadavg()[0], 1),
        })
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        inputs = result.outputs
    started = time.monotonic()
    with TreeSampler(every_s) as sample:
        report_after_run(run_dir)
    rows.append({"stage": "report", "wall_s": round(time.monotonic() - started, 2),
                 "peak_tree_rss_mib": round(sample.tree / 1024)})
    import ray

    ray.shutdown()
    files, size = folder_usage(run_dir)
    return {"scale": scale, "sources": list(only), "num_cpus": num_cpus, "corpus": summary, "run_dir": str(run_dir),
            "total_wall_s": round(time.monotonic() - began, 1), "run_files": files, "run_mb": round(size / 1e6, 1),
            "load_avg_1m_at_end": os.getloadavg()[0], "stages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--work", type=Path, required=True, help="corpus and run folders go here")
    parser.add_argument("--num-cpus", type=int, default=2)
    parser.add_argument("--every", type=float, default=0.25, help="RSS sampling period, seconds")
    parser.add_argument("--sources", default=",".join(SOURCES), help="a subset of web,wiki,books (e.g. web: the "
                        "per-page cost of a crawl)")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args()
    only = tuple(s for s in SOURCES if s in args.sources.split(","))
    result = run(args.scale, args.work, args.num_cpus, args.every, only)
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
