"""Where one crawl-stage task's CPU time goes, in-process: the task itself against its parts on the same input.

Runs ``pipeline.stages.crawl.run_task`` (read -> extract -> clean -> Parquet) over the demo's web source
(samples/web) and the shared WARCs (../shared/data/web), after one warm-up pass, and reports CPU-time medians of
interleaved repetitions for: the whole task, the reader alone (framing, record parsing, charset decoding,
extraction), the extractor alone on the same HTML pages, the framing alone, and the cleaning alone on the
extracted texts. ``--profile`` prints a cProfile table instead (CPU-time clock), ``--out DIR`` writes the task's
Parquet shards and counts to DIR, so that two revisions' outputs can be compared byte for byte.

Usage: .venv/bin/python bench/crawl_stage_profile.py [--reps 5] [--profile N] [--out DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.clean import CleanOptions, clean_text  # noqa: E402
from pipeline.extract import html as extract_html  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402
from pipeline.stages import crawl  # noqa: E402

os.chdir(REPO)
# Paths relative to the repository (the script runs there), as a manifest names them: the documents' meta
# records them, so two checkouts' outputs compare byte for byte.
WEB = Path("..", "shared", "data", "web")
FILES = sorted(str(p) for p in Path("samples", "web").glob("*.warc*.gz")) + sorted(
    str(WEB / p.name) for p in (REPO / WEB).iterdir() if p.name.endswith((".warc.gz", ".warc")) and "wat" not in p.name)


def tasks(run_dir: str) -> list[crawl.CrawlTask]:
    out = []
    for i, path in enumerate(FILES):
        options = commoncrawl.Options(format="wet") if ".wet." in path else commoncrawl.Options()
        size = os.path.getsize(path)
        for split in commoncrawl.READER.plan(path, size, options):
            out.append(crawl.CrawlTask(run_dir, "web", "commoncrawl", options, CleanOptions(), split,
                                       f"{i:05d}-{Path(path).name}-s{split.index:04d}", 500, size))
    return out


def pages_and_texts(run_dir: str) -> tuple[list[str], list[str]]:
    """The HTML pages the reader hands to the extractor, and the texts that come back."""
    pages: list[str] = []
    real = commoncrawl.extract

    def spy(page: str) -> extract_html.Extraction:
        pages.append(page)
        return real(page)

    commoncrawl.extract = spy
    try:
        for task in tasks(run_dir):
            for _ in commoncrawl.READER.read(task.split, task.options, Tally()):
                pass
    finally:
        commoncrawl.extract = real
    return pages, [extract_html.extract(p).text for p in pages]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions (cProfile) instead")
    parser.add_argument("--out", type=Path, default=None, help="write the task outputs and counts here and stop")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        counts = {t.name: dict(sorted(crawl.run_task(t).tally.counts.items())) for t in tasks(str(args.out))}
        (args.out / "counts.json").write_text(json.dumps(counts, indent=0, sort_keys=True))
        return
    with tempfile.TemporaryDirectory() as run_dir:
        work = tasks(run_dir)
        pages, texts = pages_and_texts(run_dir)
        for task in work:  # warm-up: imports, compiled regexes, resiliparse's lazily built ones
            crawl.run_task(task)
        if args.profile:
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for task in work:
                crawl.run_task(task)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
            return
        parts = {
            "whole task (read, extract, clean, write)": lambda: [crawl.run_task(t) for t in work],
            "reader alone (framing, records, decoding, extraction)":
                lambda: [sum(1 for _ in commoncrawl.READER.read(t.split, t.options, Tally())) for t in work],
            "extractor alone on the same pages": lambda: [extract_html.extract(p) for p in pages],
            "framing alone": lambda: [sum(1 for _ in commoncrawl._units(t.split, t.options, Tally())) for t in work],
            "cleaning alone on the extracted texts": lambda: [clean_text(x) for x in texts],
        }
        times: dict[str, list[float]] = {k: [] for k in parts}
        for rep in range(args.reps):
            for name in (list(parts) if rep % 2 == 0 else list(parts)[::-1]):
                start = time.process_time()
                parts[name]()
                times[name].append(time.process_time() - start)
    whole = statistics.median(times[next(iter(parts))])
    print(f"{len(FILES)} files, {len(pages)} HTML pages extracted; CPU seconds, medians of {args.reps} interleaved runs")
    print("| part | CPU s | share of the task | pages/s |\n|---|---|---|---|")
    for name, values in times.items():
        t = statistics.median(values)
        print(f"| {name} | {t:.3f} | {t / whole:.0%} | {len(pages) / t:.0f} |")


if __name__ == "__main__":
    main()
