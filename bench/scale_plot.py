"""Table and plot of scale runs (``bench/scale_run.py`` JSON files): time per document and peak memory per
stage against corpus size.

    .venv/bin/python bench/scale_plot.py bench/scale_results/scale-*.json --png docs/scaling.png

Prints the Markdown table of bench/README.md's scale section; writes a two-panel PNG: CPU milliseconds per
document (the whole process tree's CPU seconds / documents in) and peak RSS of the process tree and of the largest Ray
worker, one line per stage, against the scale (log axis).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

STAGES = ("crawl", "filter", "dedup", "tokenize")


def load(paths: list[Path]) -> list[dict[str, Any]]:
    return sorted((json.loads(p.read_text()) for p in paths), key=lambda r: r["scale"])


def table(runs: list[dict[str, Any]]) -> str:
    lines = ["| scale | stage | docs in | wall s | tree CPU s | CPU ms/doc | docs/CPU s | MB/CPU s | docs/s/core (wall) "
             "| peak tree RSS MiB | peak worker RSS MiB | files written | MB written | tasks | driver ms/task "
             "| driver % of wall |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        for row in run["stages"]:
            if row["stage"] not in STAGES:
                continue
            docs = row["docs_in"] or row["docs_out"]
            lines.append(
                f"| {run['scale']:g}x | {row['stage']} | {docs:,} | {row['wall_s']:,.1f} | {row['tree_cpu_s']:,.1f} | "
                f"{row['cpu_ms_per_doc']:,.1f} | {row['docs_per_cpu_s']:,.1f} | {row['mb_per_cpu_s']:.2f} | "
                f"{row['docs_per_s_per_core']:,.1f} | {row['peak_tree_rss_mib']:,} | {row['peak_worker_rss_mib']:,} | "
                f"{row['files_written']:,} | {row['mb_written']:,.1f} | {row['tasks']:,} | "
                f"{row['driver_ms_per_task']:.2f} | {100 * row['driver_share_of_wall']:.1f} |")
        extra = {r["stage"]: r["wall_s"] for r in run["stages"] if r["stage"] not in STAGES}
        lines.append(f"| {run['scale']:g}x | whole run | | {run['total_wall_s']:,.1f} | | | | | | | | "
                     f"{run['run_files']:,} | {run['run_mb']:,.1f} | | Ray start {extra.get('ray start', 0):.1f} s, "
                     f"report {extra.get('report', 0):.1f} s | |")
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    scales = [r["scale"] for r in runs]
    for stage in STAGES:
        rows = [next(s for s in r["stages"] if s["stage"] == stage) for r in runs]
        left.plot(scales, [s["cpu_ms_per_doc"] for s in rows], marker="o", label=stage)
        right.plot(scales, [s["peak_tree_rss_mib"] for s in rows], marker="o", label=f"{stage}: process tree")
        right.plot(scales, [s["peak_worker_rss_mib"] for s in rows], marker="x", linestyle="--",
                   label=f"{stage}: largest worker")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xticks(scales, [f"{s:g}x" for s in scales])
        axis.set_xlabel("corpus size (x the demo)")
        axis.grid(alpha=0.3)
    left.set_ylabel("CPU ms per document (whole process tree)")
    left.set_title("CPU time per document")
    right.set_ylabel("peak RSS, MiB")
    right.set_title("memory")
    left.legend(fontsize=8)
    right.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--png", type=Path)
    args = parser.parse_args()
    runs = load(args.results)
    print(table(runs))
    if args.png:
        plot(runs, args.png)


if __name__ == "__main__":
    main()
