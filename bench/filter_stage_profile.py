"""The filter stage (filter-signals + filter) and the report as they run in one process, on e2e_bench's corpus.

``prepare BASE`` runs ``python -m pipeline run`` once on e2e_bench's input (``--copies`` copies of the shared
HTML WARCs, the same manifest: crawl then filter with language, Gopher x2, C4 and FineWeb, ``ray.in_process``)
and keeps that run folder. ``measure BASE`` then, ``--reps`` times, copies it, deletes the filter stage's
outputs and records, and runs the filter stage alone (``pipeline.stages.filter.run`` on the crawl's recorded
shards, ``InProcessExecutor``: the in-process run's code path) and then the report, in a fresh subprocess of
each checkout given with ``--repo`` (this one and, say, ``--repo /work/main``), the checkouts alternating within
each repetition. Printed: CPU seconds (``time.process_time``) and wall seconds of the filter stage and of the
report, medians per checkout, and the sha256 of every file of the filter's outputs (they must agree).
``--profile`` runs one repetition under py-spy (sampling) and prints where the filter stage's time went, by kind
(kernels, Parquet reads, writes, fsyncs, Arrow conversions, statistics, completion ledger, task digests).

    .venv/bin/python bench/filter_stage_profile.py prepare /tmp/fbase [--copies 15]
    .venv/bin/python bench/filter_stage_profile.py measure /tmp/fbase --repo . --repo /work/main [--reps 3]
    .venv/bin/python bench/filter_stage_profile.py measure /tmp/fbase --repo . --profile
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FILTER_OUTPUTS = ("signals", "filtered", "removed", "report", "_done/filter", "_done/filter-signals",
                  "stats/filter.json", "stats/filter-signals.json")


def prepare(base: Path, copies: int) -> None:
    """Crawl (and filter) once with this checkout; the run folder is ``base/e2e``."""
    sys.path.insert(0, str(REPO / "bench"))
    from e2e_bench import build_input

    from pipeline.filters.language import bundled_model_path

    build_input(base / "input", copies)
    write_manifest(base, base / "input", bundled_model_path())
    subprocess.run([sys.executable, "-m", "pipeline", "run", str(base / "e2e.yaml")], cwd=REPO, check=True)


def write_manifest(out: Path, input_dir: Path, lid_model: str) -> Path:
    """e2e_bench's in-process manifest, its run folder ``out/e2e``."""
    manifest = {
        "run": {"name": "e2e", "output_dir": str(out), "seed": 1},
        "ray": {"num_cpus": 1, "in_process": True},
        "sources": [{"name": "web", "kind": "commoncrawl", "paths": [str(input_dir / "*.warc.gz")]}],
        "stages": {"order": ["crawl", "filter"],
                   "filter": {"per_source": {"web": {"url": None, "length": None, "pii": None,
                                                      "language": {"model_path": lid_model}}}}},
    }
    path = out / "e2e.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


# Run in a subprocess of the checkout being measured (its code first on sys.path).
CHILD = r"""
import json, sys, time
from pathlib import Path
repo, manifest_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
from pipeline.report import write_report
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
import pipeline, pyarrow.parquet, pipeline.filters.language  # imports paid before the clock starts
assert Path(pipeline.__file__).resolve().is_relative_to(Path(repo).resolve()), pipeline.__file__
manifest = load_manifest(manifest_path)
inputs = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())["outputs"]
context = RunContext(manifest, InProcessExecutor(), progress_every_s=1e9)
cpu, wall = time.process_time(), time.perf_counter()
filter_stage.run(context, inputs)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
rcpu, rwall = time.process_time(), time.perf_counter()
write_report(manifest.run_dir)
rcpu, rwall = time.process_time() - rcpu, time.perf_counter() - rwall
print(json.dumps({"filter_cpu": cpu, "filter_wall": wall, "report_cpu": rcpu, "report_wall": rwall,
                  "shards": len(inputs)}))
"""


def measure_once(base: Path, repo: Path, work: Path, profile: bool) -> dict:
    """Copy the prepared run, drop the filter stage's outputs, run filter + report with ``repo``'s code."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(base / "e2e", work / "e2e", symlinks=True)
    for name in FILTER_OUTPUTS:
        path = work / "e2e" / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    from pipeline.filters.language import bundled_model_path

    manifest = write_manifest(work, base / "input", bundled_model_path())
    command = [sys.executable, "-c", CHILD, str(repo), str(manifest), "0"]
    if profile:  # a sampling profiler: cProfile's per-call cost inflates small Python calls ~10x
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "--nonblocking", "-r", "250", "-f", "raw", "-o", str(work / "stacks.txt"),
                   "--"] + command
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"filter run with {repo} failed:\n{done.stderr[-3000:]}")
    result = json.loads(next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{")))
    result["digest"] = outputs_digest(work / "e2e")
    return result


def outputs_digest(run_dir: Path) -> dict[str, str]:
    """sha256 of every file the filter steps wrote (documents, ledgers, signals), by relative path."""
    out = {}
    for folder in ("signals", "filtered", "removed"):
        for path in sorted((run_dir / folder).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(run_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# Kinds of work, by the frames of a sampled stack: the first rule with a frame whose function (and file, when
# given) matches names the sample. Order matters: a Parquet write inside a task is "Parquet encode", not "task".
KINDS = [
    ("report", [("write_report", "")]),
    ("kernels: dominant script (script_of)", [("script_of", "")]),
    ("kernels: signals (compute_signals)", [("compute_signals", "")]),
    ("kernels: decisions (decide)", [("decide", "filters/base.py")]),
    ("kernels: kept-text rewrites (rewrite_kept)", [("rewrite_kept", "")]),
    ("statistics (record_in, record_table, count_removals)",
     [("record_in", ""), ("record_table", ""), ("count_removals", "")]),
    ("Parquet reads (tasks, and the plan's source column)", [("_read", "stages/filter.py"), ("_read_shard", ""),
                                                            ("shard_source", "")]),
    ("Parquet encode (pq.write_table)", [("write_table", "")]),
    ("atomic_write: file write, fsync, rename, folder fsync", [("atomic_write", ""), ("_fsync_folder", "")]),
    ("completion ledger", [("", "completion_ledger.py")]),
    ("task digests (input stat, repr, sha256)", [("task_digest", "")]),
    ("safe_join elsewhere (output checks, plan)", [("safe_join", "")]),
    ("rest of the task functions (Arrow conversions, masks, tables)",
     [("run_signals", ""), ("run_decisions", ""), ("run_fused", ""), ("_decide_shard", ""), ("_measure", "")]),
    ("plan (chains, hashes)", [("plan", "stages/filter.py")]),
]


def breakdown(stacks: Path, wall: float, cpu: float) -> None:
    """Samples per kind of work (py-spy raw format: ``frame;frame;... count``, frames ``name (file:line)``)."""
    counts: dict[str, int] = {}
    total = 0
    for line in stacks.read_text().splitlines():
        trace, _, n = line.rpartition(" ")
        frames = [f.rpartition(" (") for f in trace.split(";")]
        frames = [(name, where) for name, _, where in frames]
        if not any(name == "run" and "stages/filter.py" in where for name, where in frames) and not any(
                name == "write_report" for name, _ in frames):
            continue  # imports, manifest loading, the child's own lines
        total += int(n)
        kind = next((label for label, rules in KINDS
                     if any((not fn or name == fn) and wherein in where for fn, wherein in rules
                            for name, where in frames)), "other (runner, executor, progress)")
        counts[kind] = counts.get(kind, 0) + int(n)
    # py-spy's samples are of the process on CPU or blocked in a system call (an fsync counts), not idle
    report = counts.pop("report", 0)
    stage = total - report
    print(f"filter stage: {wall:.2f} s wall, {cpu:.2f} CPU s (under py-spy); {stage} samples, each kind's share "
          f"and its share of the wall seconds (report: {report} samples more)")
    for label, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {label:62s} {100 * n / stage:5.1f} %  {wall * n / stage:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("prepare", "measure"))
    parser.add_argument("base", type=Path)
    parser.add_argument("--copies", type=int, default=15)
    parser.add_argument("--repo", type=Path, action="append", help="checkout(s) to measure (default: this one)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one run of the first --repo under py-spy")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    base = args.base.resolve()
    if args.action == "prepare":
        prepare(base, args.copies)
        return
    repos = [r.resolve() for r in (args.repo or [REPO])]
    work = Path(tempfile.mkdtemp(prefix="filter-profile-"))
    try:
        if args.profile:
            result = measure_once(base, repos[0], work / "p", profile=True)
            breakdown(work / "p" / "stacks.txt", result["filter_wall"], result["filter_cpu"])
            shutil.copy(work / "p" / "stacks.txt", base / f"stacks-{repos[0].name}.txt")
            return
        runs: dict[str, list[dict]] = {str(r): [] for r in repos}
        for rep in range(args.reps):
            for i, repo in enumerate(repos if rep % 2 == 0 else repos[::-1]):
                result = measure_once(base, repo, work / f"{rep}-{i}", profile=False)
                runs[str(repo)].append(result)
                print(f"rep {rep + 1} {repo}: filter {result['filter_cpu']:.2f} CPU s ({result['filter_wall']:.2f} "
                      f"wall), report {result['report_cpu']:.2f} CPU s ({result['report_wall']:.2f} wall), load "
                      f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
        digests = {json.dumps(r["digest"], sort_keys=True) for rs in runs.values() for r in rs}
        summary = {repo: {k: statistics.median(r[k] for r in rs)
                          for k in ("filter_cpu", "filter_wall", "report_cpu", "report_wall")}
                   for repo, rs in runs.items()}
        report = {"medians": summary, "outputs_identical": len(digests) == 1,
                  "files": len(next(iter(runs.values()))[0]["digest"]),
                  "per_run": {repo: [{k: v for k, v in r.items() if k != "digest"} for r in rs]
                              for repo, rs in runs.items()}}
        print(json.dumps(report, indent=1))
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
