"""The whole chain against datatrove, one core each (issue 19): read -> extract -> language -> Gopher
repetition -> Gopher quality -> C4 -> FineWeb, no dedup, on the same WARC pages.

The input is ``--copies`` copies (symlinks with distinct names) of the shared HTML WARCs in
../shared/data/web. datatrove (its own virtualenv, bench/make_datatrove_venv.sh) runs FineWeb's chain with
LocalPipelineExecutor(tasks=1, workers=1) through bench/datatrove_e2e.py; refinery runs
``python -m pipeline run`` on a manifest with the stages crawl and filter and only those five filters, twice:
on an embedded Ray with one CPU, and with ``ray.in_process`` (every task in the driver, no Ray: the one-core
configuration); with ``--extractors resiliparse,trafilatura`` each of the two once per extractor (the
commoncrawl source option ``extractor``: trafilatura is FineWeb's extractor with datatrove's settings, so the
end-to-end agreement then compares the filters and readers, not the extractors); with ``--peer`` also another checkout (the main branch: before/after in the same
conditions), on Ray, in process or both (``--peer-modes``). All processes are pinned to one core with ``taskset`` and given the same lid.176
model file. Printed: wall seconds and pages/s end to end (refinery's includes starting Ray and writing the
report), the CPU seconds of each tool's whole process tree (sampled from /proc: Ray's GCS, raylet, agents
and workers included; on a shared machine these move less than wall seconds), per-stage seconds of each,
the load average during each run, and two agreements on which pages survive:

* ``agreement_end_to_end``: each tool's own extraction and filters (over the pages refinery extracted; a
  page datatrove did not read counts as not kept by it). The extractors differ (resiliparse and our rules
  against trafilatura), so this mixes extraction and filtering (bench/e2e_agreement.py separates them).
  Datatrove's first run decides; its extractor gives each page 1 s of wall time, so on a loaded machine it
  drops pages as timeouts (``agreement_run_timeouts``; the agreement moves with them).
* ``agreement_filters``: the filter decisions on the same text: refinery's extracted text of every page
  (its crawl output) through datatrove's filter chain (bench/datatrove_decisions.py: language, Gopher
  repetition, Gopher quality, C4, FineWeb, as in bench/datatrove_e2e.py), against refinery's own decisions.

Bytecode: the refinery runs read their modules' ``.pyc`` files, as an installed refinery and datatrove's
virtualenv do. Without this a checkout in an environment with ``PYTHONDONTWRITEBYTECODE=1`` (these sessions)
compiles its ~80 modules from source on every run, ~0.1 CPU s that neither an installed refinery nor datatrove
pays. Before timing, each refinery variant is run once, untimed, on one copy of the input with
``PYTHONPYCACHEPREFIX`` set to a folder of this bench (after ``compileall`` of the checkout's packages into
it), so every module it imports (the checkout's, the standard library's, the site-packages') has its ``.pyc``
there; the timed runs read them (``PYTHONDONTWRITEBYTECODE=1``: they write nothing). The checkouts are not
written to. ``--source-bytecode`` skips this (every run compiles the checkout, as before 5 December 2026).

Medians of ``--runs`` runs.

    .venv/bin/python bench/e2e_bench.py [--copies 15] [--runs 3] [--core 0] [--peer ../main]
        [--peer-modes ray,in-process] [--extractors resiliparse,trafilatura] [--modes ray,in-process]
        [--json out.json] [--source-bytecode]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "web"
DT_PYTHON = REPO / ".bench-venv-datatrove" / "bin" / "python"
# the shared WARCs of HTML pages (not the WET/WAT derivatives, not the deliberately clipped file)
SKIP = re.compile(r"\.(wet|wat)\.gz$|clipped")
PROGRESS = re.compile(r"^\[([\w.-]+)\] (\d+)/(\d+) shards .*\| ([\d.]+) s$")


class TreeCPU:
    """CPU seconds (user + system) of a child process and all its descendants, sampled every ``every_s``
    from /proc while it runs (a process that ends between two samples loses at most its last interval)."""

    def __init__(self, every_s: float = 0.2):
        self.every_s, self.last = every_s, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.root = 0

    def _run(self) -> None:
        from scale_run import _cpu_ticks, _tree  # bench/scale_run.py's /proc readers

        while not self._stop.is_set():
            if self.root:
                for pid in _tree(self.root):
                    ticks = _cpu_ticks(pid)
                    if ticks:
                        self.last[pid] = ticks
            self._stop.wait(self.every_s)

    @property
    def seconds(self) -> float:
        return sum(self.last.values()) / os.sysconf("SC_CLK_TCK")

    def run(self, command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
        """``subprocess.run(command)`` with its tree sampled; returns the result and the wall seconds."""
        self._thread.start()
        started = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs) as proc:
            self.root = proc.pid
            out, err = proc.communicate()
        wall = time.perf_counter() - started
        self._stop.set()
        self._thread.join()
        return subprocess.CompletedProcess(command, proc.returncode, out, err), wall


def build_input(folder: Path, copies: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    warcs = sorted(p for p in SHARED.glob("*.warc.gz") if not SKIP.search(p.name))
    for copy in range(copies):
        for warc in warcs:
            (folder / f"c{copy:02d}-{warc.name}").symlink_to(warc)
    return warcs


def bytecode_env(prefix: Path | None, write: bool) -> dict[str, str]:
    """The environment of a refinery run: with ``prefix``, its ``.pyc`` files are read from (and, with
    ``write``, written to) that folder; without, the caller's environment as it is."""
    env = dict(os.environ)
    if prefix is None:
        return env
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if write:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def compile_checkout(repo: Path, prefix: Path) -> None:
    """Byte-compile the checkout's top-level packages into ``prefix`` (not into the checkout)."""
    packages = sorted(str(p) for p in repo.iterdir() if (p / "__init__.py").is_file())
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL,
                   env=bytecode_env(prefix, write=True))


def run_refinery(folder: Path, work: Path, core: int, lid_model: str, repo: Path = REPO,
                 in_process: bool = False, env: dict[str, str] | None = None, extractor: str = "resiliparse") -> dict:
    """``python -m pipeline run`` of the checkout at ``repo`` (another one: a before/after peer in the same
    run), on an embedded Ray with one CPU or, with ``in_process``, with every task in the driver process;
    ``env``: its environment (``bytecode_env``); ``extractor``: the commoncrawl source option (left out of the
    manifest for the default, so a peer checkout that predates the option runs too)."""
    no = None
    source = {"name": "web", "kind": "commoncrawl", "paths": [str(folder / "*.warc.gz")]}
    if extractor != "resiliparse":
        source["options"] = {"extractor": extractor}
    manifest = {
        "run": {"name": "e2e", "output_dir": str(work), "seed": 1},
        "ray": {"num_cpus": 1, **({"in_process": True} if in_process else {})},
        "sources": [source],
        "stages": {"order": ["crawl", "filter"],
                   "filter": {"per_source": {"web": {"url": no, "length": no, "pii": no,
                                                      "language": {"model_path": lid_model}}}}},
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "e2e.yaml"
    path.write_text(yaml.safe_dump(manifest))
    cpu = TreeCPU()
    done, wall = cpu.run(["taskset", "-c", str(core), sys.executable, "-m", "pipeline", "run", str(path)], cwd=repo,
                         env=env)
    if done.returncode:
        raise SystemExit(f"refinery failed:\n{done.stderr[-3000:]}")
    stages: dict[str, float] = {}
    for line in (done.stdout + done.stderr).splitlines():
        match = PROGRESS.match(line.strip())
        if match:
            stages[match.group(1)] = float(match.group(4))
    run = work / "e2e"
    pages = [tuple(r) for t in (pq.read_table(p, columns=["meta"]) for p in sorted((run / "docs").rglob("*.parquet")))
             for r in ((Path(m["origin"]).name, m["record"]) for m in t.column("meta").to_pylist())]
    kept = [(Path(m["origin"]).name, m["record"]) for p in sorted((run / "filtered").rglob("*.parquet"))
            for m in pq.read_table(p, columns=["meta"]).column("meta").to_pylist()]
    return {"wall_seconds": wall, "cpu_seconds": cpu.seconds, "load": os.getloadavg()[0], "stages": stages,
            "pages": pages, "kept": kept, "run_dir": run}


def run_datatrove(folder: Path, work: Path, core: int, lid_model: str) -> dict:
    cpu = TreeCPU()
    done, wall = cpu.run(["taskset", "-c", str(core), str(DT_PYTHON), str(REPO / "bench" / "datatrove_e2e.py"),
                          str(folder), str(work), "--lid-model", lid_model])
    if done.returncode:
        raise SystemExit(f"datatrove failed:\n{done.stderr[-3000:]}")
    result = json.loads((work / "result.json").read_text())
    read = next((s["stats"].get("documents", {}).get("total") for n, s in result["steps"].items() if "READER" in n), None)
    # pages its extractor's sandbox gave up on (1 s of wall time each): on a loaded machine these change
    # which pages datatrove keeps, so the agreement is only comparable between runs without them
    timeouts = sum(s["stats"].get("timeout", 0) for s in result["steps"].values())
    return {"wall_seconds": wall, "cpu_seconds": cpu.seconds, "load": os.getloadavg()[0],
            "stages": {n: s["seconds"] for n, s in result["steps"].items()},
            "pages_read": read, "kept": [tuple(k) for k in result["kept"]], "timeouts": timeouts}


def filter_agreement(run_dir: Path, kept: set[tuple[str, str]], lid_model: str, work: Path) -> dict:
    """Datatrove's filter chain on refinery's extracted texts (its crawl output), against refinery's own
    keep/drop decisions on the same texts: the filters compared without the extractors."""
    rows, keys = [], {}
    for path in sorted((run_dir / "docs").rglob("*.parquet")):
        table = pq.read_table(path, columns=["id", "text", "meta"])
        for doc_id, text, meta in zip(*(table.column(c).to_pylist() for c in ("id", "text", "meta"))):
            if doc_id in keys:  # a copy of a page already listed (--copies: same records, same id)
                continue
            rows.append({"id": doc_id, "text": text})
            keys[doc_id] = (Path(meta["origin"]).name, meta["record"])
    work.mkdir(parents=True, exist_ok=True)
    texts, out = work / "texts.jsonl", work / "decisions.json"
    texts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_decisions.py"), str(texts), str(out),
                    "--lid-model", lid_model], check=True, capture_output=True)
    decisions = json.loads(out.read_text())["docs"]
    theirs = {keys[i] for i, d in decisions.items() if d["chain"] is None}
    both = sum((k in kept) == (k in theirs) for k in keys.values())
    first_reasons: dict[str, int] = {}
    for i, d in decisions.items():
        if (keys[i] in kept) != (d["chain"] is None):
            label = f"refinery {'keeps' if keys[i] in kept else 'drops'}, datatrove {d['chain'] or 'keeps'}"
            first_reasons[label] = first_reasons.get(label, 0) + 1
    return {"pages": len(keys), "agreement_filters": both / max(1, len(keys)),
            "kept_refinery": len(kept & set(keys.values())), "kept_datatrove": len(theirs),
            "disagreements": dict(sorted(first_reasons.items(), key=lambda kv: -kv[1]))}


def summarise(runs: list[dict], pages: int, datatrove_wall: float, datatrove_cpu: float) -> dict:
    """Medians over the runs of one refinery variant, and its ratios to datatrove's medians."""
    wall = statistics.median(r["wall_seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    stage = statistics.median(sum(r["stages"].values()) for r in runs)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "stage_seconds": stage, "pages_per_s_wall": pages / wall,
            "pages_per_cpu_s": pages / cpu, "pages_per_s_stages": pages / stage,
            "stages": {k: statistics.median(r["stages"].get(k, 0) for r in runs) for k in runs[0]["stages"]},
            "kept": len(runs[0]["kept"]), "ratio_wall": datatrove_wall / wall, "ratio_cpu": datatrove_cpu / cpu,
            "per_run": [{k: r[k] for k in ("wall_seconds", "cpu_seconds", "load", "stages")} for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--peer", type=Path, help="another refinery checkout (e.g. the main branch) run the same "
                        "way in each run: a before/after in the same conditions")
    parser.add_argument("--peer-modes", default="ray", help="how the peer runs: 'ray', 'in-process' or both "
                        "('ray,in-process'); in process is the before/after of the one-core configuration")
    parser.add_argument("--extractors", default="resiliparse", help="the commoncrawl extractor(s) this checkout "
                        "runs with, comma-separated: 'resiliparse' (ours, the default), 'trafilatura' (FineWeb's) "
                        "or both; each gets its own variants, agreement and ratios against the same datatrove runs")
    parser.add_argument("--modes", default="ray,in-process", help="how this checkout runs: 'ray', 'in-process' or "
                        "both")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--source-bytecode", action="store_true", help="no untimed first run filling a "
                        "bytecode folder: every refinery run compiles the checkout's modules (see above)")
    args = parser.parse_args()
    if not DT_PYTHON.exists():
        raise SystemExit("datatrove's virtualenv is missing: run bash bench/make_datatrove_venv.sh first")
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "bench"))
    from pipeline.filters.language import bundled_model_path

    lid_model = bundled_model_path()
    extractors = [e.strip() for e in args.extractors.split(",") if e.strip()]
    if set(extractors) - {"resiliparse", "trafilatura"} or not extractors:
        raise SystemExit(f"--extractors: resiliparse and/or trafilatura, got {args.extractors!r}")
    own_modes = {m.strip() for m in args.modes.split(",") if m.strip()}
    if own_modes - {"ray", "in-process"} or not own_modes:
        raise SystemExit(f"--modes: 'ray' and/or 'in-process', got {args.modes!r}")
    variants: dict[str, dict] = {}
    for extractor in extractors:
        suffix = "" if extractor == "resiliparse" else f", {extractor}"
        if "ray" in own_modes:
            variants[f"refinery (Ray, 1 CPU{suffix})"] = dict(repo=REPO, extractor=extractor)
        if "in-process" in own_modes:
            variants[f"refinery (in process{suffix})"] = dict(repo=REPO, in_process=True, extractor=extractor)
    modes = {m.strip() for m in args.peer_modes.split(",") if m.strip()}
    if modes - {"ray", "in-process"}:
        raise SystemExit(f"--peer-modes: unknown {sorted(modes - {'ray', 'in-process'})}")
    if args.peer and "ray" in modes:
        variants[f"peer {args.peer} (Ray, 1 CPU)"] = dict(repo=args.peer.resolve())
    if args.peer and "in-process" in modes:
        variants[f"peer {args.peer} (in process)"] = dict(repo=args.peer.resolve(), in_process=True)
    root = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    try:
        warcs = build_input(root / "input", args.copies)
        prefix = None if args.source_bytecode else root / "pycache"
        if prefix is not None:  # each variant's modules compiled once, before any timing
            build_input(root / "warm-input", 1)
            for j, how in enumerate(variants.values()):
                if how["repo"] not in {v["repo"] for v in list(variants.values())[:j]}:
                    compile_checkout(how["repo"], prefix)
                run_refinery(root / "warm-input", root / f"warm-{j}", args.core, lid_model,
                             env=bytecode_env(prefix, write=True), **how)
        timed_env = bytecode_env(prefix, write=False)
        ours: dict[str, list[dict]] = {name: [] for name in variants}
        theirs = []
        for i in range(args.runs):
            line = []
            for j, (name, how) in enumerate(variants.items()):
                ours[name].append(run_refinery(root / "input", root / f"ours-{j}-{i}", args.core, lid_model,
                                               env=timed_env, **how))
                line.append(f"{name} {ours[name][-1]['wall_seconds']:.1f} s ({ours[name][-1]['cpu_seconds']:.1f} CPU s, "
                            f"load {ours[name][-1]['load']:.1f})")
            theirs.append(run_datatrove(root / "input", root / f"datatrove-{i}", args.core, lid_model))
            line.append(f"datatrove {theirs[-1]['wall_seconds']:.1f} s ({theirs[-1]['cpu_seconds']:.1f} CPU s, "
                        f"load {theirs[-1]['load']:.1f})")
            print(f"run {i + 1}: " + "; ".join(line), file=sys.stderr)
        # every variant of one extractor decides the same (same outputs, whatever runs them)
        firsts: dict[str, tuple[str, dict]] = {}
        for name, runs in ours.items():
            extractor = variants[name].get("extractor", "resiliparse")
            first_name, first_run = firsts.setdefault(extractor, (name, runs[0]))
            if set(runs[0]["kept"]) != set(first_run["kept"]):
                raise SystemExit(f"{name} kept other pages than {first_name}: outputs differ")
        first = next(iter(firsts.values()))[1]
        pages = len(first["pages"])
        t_wall = statistics.median(r["wall_seconds"] for r in theirs)
        t_cpu = statistics.median(r["cpu_seconds"] for r in theirs)
        their_kept = set(theirs[0]["kept"])
        # over the pages any extractor of this bench gave text: a page trafilatura returns nothing for is one
        # refinery read and did not keep, so both extractors are measured over the same pages
        seen = set().union(*(set(run["pages"]) for _, run in firsts.values()))
        by_extractor = {}
        for extractor, (_, run) in firsts.items():
            kept = set(run["kept"])
            by_extractor[extractor] = {
                "pages": len(seen), "pages_with_text": len(set(run["pages"])), "kept_refinery": len(kept),
                "agreement_end_to_end": sum((p in kept) == (p in their_kept) for p in seen) / max(1, len(seen)),
                "kept_by_both": len(kept & their_kept), "only_refinery": len(kept - their_kept),
                "only_datatrove": len(their_kept - kept),
                "filters_on_the_same_text": filter_agreement(run["run_dir"], kept, lid_model,
                                                             root / f"filter-agreement-{extractor}")}
        main_extractor = next(iter(firsts))
        ours_kept = set(first["kept"])
        agree = by_extractor[main_extractor]["agreement_end_to_end"]
        filters = by_extractor[main_extractor]["filters_on_the_same_text"]
        report = {
            "input": {"warcs": [w.name for w in warcs], "copies": args.copies, "pages_refinery": pages,
                      "pages_datatrove": theirs[0]["pages_read"]},
            "refinery": {name: summarise(runs, pages, t_wall, t_cpu) for name, runs in ours.items()},
            "datatrove": {"wall_seconds": t_wall, "cpu_seconds": t_cpu,
                          "pages_per_s_wall": (theirs[0]["pages_read"] or 0) / t_wall,
                          "pages_per_cpu_s": (theirs[0]["pages_read"] or 0) / t_cpu,
                          "stages": {k: statistics.median(r["stages"].get(k, 0) for r in theirs)
                                     for k in theirs[0]["stages"]},
                          "kept": len(their_kept),
                          "per_run": [{k: r[k] for k in ("wall_seconds", "cpu_seconds", "load", "timeouts")}
                                      for r in theirs]},
            "agreement_end_to_end": agree, "agreement_run_timeouts": theirs[0]["timeouts"],
            "kept_by_both": len(ours_kept & their_kept),
            "only_refinery": len(ours_kept - their_kept), "only_datatrove": len(their_kept - ours_kept),
            "filters_on_the_same_text": filters,
            "extractor_of_the_agreement_above": main_extractor,
            "by_extractor": by_extractor,
            "runs": args.runs,
            "bytecode": ("compiled from source in every run" if prefix is None else
                         f"read from PYTHONPYCACHEPREFIX ({sum(1 for _ in prefix.rglob('*.pyc'))} .pyc files, "
                         "written by an untimed first run of each variant)"),
        }
        print(json.dumps(report, indent=1, ensure_ascii=False))
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
