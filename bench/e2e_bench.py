"""The whole chain against datatrove, one core each (issue 19): read -> extract -> language -> Gopher
repetition -> Gopher quality -> C4 -> FineWeb, no dedup, on the same WARC pages.

The input is ``--copies`` copies (symlinks with distinct names) of the shared HTML WARCs in
../shared/data/web. datatrove (its own virtualenv, bench/make_datatrove_venv.sh) runs FineWeb's chain with
LocalPipelineExecutor(tasks=1, workers=1) through bench/datatrove_e2e.py; refinery runs
``python -m pipeline run`` on a manifest with the stages crawl and filter and only those five filters, on an
embedded Ray with one CPU. Both processes are pinned to one core with ``taskset`` and given the same lid.176
model file. Printed: wall seconds and pages/s end to end (refinery's includes starting Ray and writing the
report), per-stage seconds of each, and the agreement on which pages survive (over the pages refinery
extracted; a page datatrove did not read counts as not kept by it). Medians of ``--runs`` runs.

    .venv/bin/python bench/e2e_bench.py [--copies 15] [--runs 3] [--core 0]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def build_input(folder: Path, copies: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    warcs = sorted(p for p in SHARED.glob("*.warc.gz") if not SKIP.search(p.name))
    for copy in range(copies):
        for warc in warcs:
            (folder / f"c{copy:02d}-{warc.name}").symlink_to(warc)
    return warcs


def run_refinery(folder: Path, work: Path, core: int, lid_model: str) -> dict:
    no = None
    manifest = {
        "run": {"name": "e2e", "output_dir": str(work), "seed": 1},
        "ray": {"num_cpus": 1},
        "sources": [{"name": "web", "kind": "commoncrawl", "paths": [str(folder / "*.warc.gz")]}],
        "stages": {"order": ["crawl", "filter"],
                   "filter": {"per_source": {"web": {"url": no, "length": no, "pii": no,
                                                      "language": {"model_path": lid_model}}}}},
    }
    work.mkdir(parents=True, exist_ok=True)
    path = work / "e2e.yaml"
    path.write_text(yaml.safe_dump(manifest))
    started = time.perf_counter()
    done = subprocess.run(["taskset", "-c", str(core), sys.executable, "-m", "pipeline", "run", str(path)],
                          cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
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
    return {"wall_seconds": wall, "stages": stages, "pages": pages, "kept": kept}


def run_datatrove(folder: Path, work: Path, core: int, lid_model: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run(["taskset", "-c", str(core), str(DT_PYTHON), str(REPO / "bench" / "datatrove_e2e.py"),
                           str(folder), str(work), "--lid-model", lid_model], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"datatrove failed:\n{done.stderr[-3000:]}")
    result = json.loads((work / "result.json").read_text())
    read = next((s["stats"].get("documents", {}).get("total") for n, s in result["steps"].items() if "READER" in n), None)
    return {"wall_seconds": wall, "stages": {n: s["seconds"] for n, s in result["steps"].items()},
            "pages_read": read, "kept": [tuple(k) for k in result["kept"]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    if not DT_PYTHON.exists():
        raise SystemExit("datatrove's virtualenv is missing: run bash bench/make_datatrove_venv.sh first")
    sys.path.insert(0, str(REPO))
    from pipeline.filters.language import bundled_model_path

    lid_model = bundled_model_path()
    root = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    try:
        warcs = build_input(root / "input", args.copies)
        ours, theirs = [], []
        for i in range(args.runs):
            ours.append(run_refinery(root / "input", root / f"ours-{i}", args.core, lid_model))
            theirs.append(run_datatrove(root / "input", root / f"datatrove-{i}", args.core, lid_model))
            print(f"run {i + 1}: refinery {ours[-1]['wall_seconds']:.1f} s, datatrove {theirs[-1]['wall_seconds']:.1f} s",
                  file=sys.stderr)
        pages = len(ours[0]["pages"])
        o_wall = statistics.median(r["wall_seconds"] for r in ours)
        t_wall = statistics.median(r["wall_seconds"] for r in theirs)
        o_stage = statistics.median(sum(r["stages"].values()) for r in ours)
        ours_kept, their_kept, seen = set(ours[0]["kept"]), set(theirs[0]["kept"]), set(ours[0]["pages"])
        agree = sum((p in ours_kept) == (p in their_kept) for p in seen) / max(1, len(seen))
        report = {
            "input": {"warcs": [w.name for w in warcs], "copies": args.copies, "pages_refinery": pages,
                      "pages_datatrove": theirs[0]["pages_read"]},
            "refinery": {"wall_seconds": o_wall, "stage_seconds": o_stage, "pages_per_s_wall": pages / o_wall,
                         "pages_per_s_stages": pages / o_stage,
                         "stages": {k: statistics.median(r["stages"].get(k, 0) for r in ours) for k in ours[0]["stages"]},
                         "kept": len(ours_kept)},
            "datatrove": {"wall_seconds": t_wall, "pages_per_s_wall": (theirs[0]["pages_read"] or 0) / t_wall,
                          "stages": {k: statistics.median(r["stages"].get(k, 0) for r in theirs)
                                     for k in theirs[0]["stages"]},
                          "kept": len(their_kept)},
            "ratio_wall": t_wall / o_wall, "ratio_pages_per_s_wall":
                (pages / o_wall) / max(1e-9, (theirs[0]["pages_read"] or 0) / t_wall),
            "agreement": agree, "kept_by_both": len(ours_kept & their_kept),
            "only_refinery": len(ours_kept - their_kept), "only_datatrove": len(their_kept - ours_kept),
            "runs": args.runs,
        }
        print(json.dumps(report, indent=1, ensure_ascii=False))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
