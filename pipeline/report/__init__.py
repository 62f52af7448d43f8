"""The corpus statistics report of a run (``python -m pipeline report RUN_DIR [RUN_B]``).

``collect`` gathers the stages' merged counts into ``<run>/report/stats.json``; ``html`` renders
``<run>/report/report.html``, one page that opens offline. With two run folders, ``compare`` writes a side by
side page of every count, of documents one run kept and the other removed, and of benchmark scores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from contracts.eval_results import ResultsError
from contracts.fsio import atomic_write

REPORT_DIR = "report"
STATS_NAME = "stats.json"
PAGE_NAME = "report.html"


def write_report(run_dir: str | Path, train_dir: str | Path | None = None,
                 out_dir: str | Path | None = None) -> tuple[Path, Path, dict[str, Any]]:
    """Write ``stats.json`` and ``report.html`` (default folder ``<run_dir>/report``)."""
    from pipeline.report.collect import collect
    from pipeline.report.html import render

    stats = collect(run_dir, train_dir)
    out = Path(out_dir) if out_dir else Path(run_dir) / REPORT_DIR
    stats_path, page_path = out / STATS_NAME, out / PAGE_NAME
    with atomic_write(stats_path, "w") as fh:
        json.dump(stats, fh, indent=1)
    with atomic_write(page_path, "w") as fh:
        fh.write(render(stats))
    return stats_path, page_path, stats


def report_after_run(run_dir: str | Path) -> None:
    """The report at the end of a pipeline run; a failure here is reported, not raised, since every stage's
    outputs are already complete."""
    started = time.monotonic()
    try:
        _, page, _ = write_report(run_dir)
    except Exception as exc:  # noqa: BLE001 - the run succeeded; say how to retry the report alone
        print(f"warning: the corpus report failed ({type(exc).__name__}: {exc}); the run's outputs are "
              f"complete. Retry with: python -m pipeline report {run_dir}", file=sys.stderr)
        return
    print(f"  report: {page} ({time.monotonic() - started:.1f} s)", file=sys.stderr)


def report_command(runs: list[str], train_dir: str | None = None, out_dir: str | None = None) -> int:
    """The ``report`` subcommand: one run, or two compared side by side."""
    started = time.monotonic()
    try:
        if len(runs) == 1:
            stats_path, page, _ = write_report(runs[0], train_dir, out_dir)
            print(f"wrote {stats_path} and {page} in {time.monotonic() - started:.1f} s")
        elif len(runs) == 2:
            from pipeline.report.compare import write_comparison

            data_path, page = write_comparison(runs[0], runs[1], out_dir)
            print(f"wrote {data_path} and {page} in {time.monotonic() - started:.1f} s")
        else:
            print("error: report takes one run folder, or two to compare", file=sys.stderr)
            return 2
    except (FileNotFoundError, ResultsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
