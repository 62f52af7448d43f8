"""Where one crawl-stage task's CPU time goes, in-process: the task itself against its parts on the same input.

Runs ``pipeline.stages.crawl.run_task`` (read -> extract -> clean -> Parquet) over the demo's web source
(samples/web) and the shared WARCs (../shared/data/web), after one warm-up pass, and reports CPU-time medians of
interleaved repetitions for: the whole task, the reader alone (framing, record parsing, charset decoding,
extraction), the extractor alone on the same HTML pages, the framing alone, and the cleaning alone on the
extracted texts. ``--profile`` prints a cProfile table instead (CPU-time clock), ``--out DIR`` writes the task's
Parquet shards and counts to DIR, so that two revisions' outputs can be compared byte for byte.

``--copies N`` measures on issue 19's whole-chain corpus instead (bench/e2e_bench.py's input: N copies, as
symlinks with distinct names, of the ten shared HTML WARCs): the whole stage as ``ray.in_process`` runs it
(``crawl.run`` with the in-process executor: planning, task digests, completion ledger, statistics files),
the tasks alone, and each kernel alone on the same records: WARC framing, record parsing (FastWARC header
and HTTP parsing of every framed record), charset decoding, HTML extraction, cleaning, the documents' rows
and Parquet writes, and the per-shard statistics (length histogram, hosts, per-file entries).

``--compare REPO ...`` (with ``--copies N``) runs that whole stage in a fresh process of each checkout (its own
``.venv/bin/python``, its own code), the checkouts taking turns ``--reps`` times on one input folder, and prints
each run's CPU seconds (the stage alone, imports excluded; user and system), the medians and their ratio to the
first checkout; then it checks that every output file (documents, statistics) has the same sha256 in every run
and that the completion records are equal once ``task_digest`` (it names the run folder) is set aside.

Usage: .venv/bin/python bench/crawl_stage_profile.py [--reps 5] [--profile N] [--out DIR] [--copies N]
       [--compare REPO ...]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastwarc.warc import WarcRecord, WarcRecordType  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from contracts.accounting import Tally  # noqa: E402
from contracts.corpus_stats import record_in, record_out  # noqa: E402
from pipeline.executors import InProcessExecutor  # noqa: E402
from pipeline.file_accounting import file_entry  # noqa: E402
from pipeline.manifest import parse_manifest  # noqa: E402
from pipeline.stage import RunContext  # noqa: E402
from pipeline.clean import CleanOptions, clean_text  # noqa: E402
from pipeline.extract import html as extract_html  # noqa: E402
from pipeline.readers import commoncrawl, warc_framing, warc_records, warc_splits  # noqa: E402
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

    def spy(page: str, **kwargs: Any) -> extract_html.Extraction:
        pages.append(page)
        return real(page, **kwargs)

    commoncrawl.extract = spy
    try:
        for task in tasks(run_dir):
            for _ in commoncrawl.READER.read(task.split, task.options, Tally()):
                pass
    finally:
        commoncrawl.extract = real
    return pages, [extract_html.extract(p).text for p in pages]


def e2e_input(folder: Path, copies: int) -> list[str]:
    """bench/e2e_bench.py's input: ``copies`` symlinked copies of the ten shared HTML WARCs."""
    folder.mkdir(parents=True, exist_ok=True)
    skip = re.compile(r"\.(wet|wat)\.gz$|clipped")
    warcs = sorted(p for p in (REPO / WEB).resolve().glob("*.warc.gz") if not skip.search(p.name))
    for copy in range(copies):
        for warc in warcs:
            (folder / f"c{copy:02d}-{warc.name}").symlink_to(warc)
    return sorted(str(p) for p in folder.iterdir())


def stage_context(root: Path, inputs: Path) -> RunContext:
    """An in-process run context (``ray.in_process: true``) of a crawl-only manifest over ``inputs``."""
    manifest = {"run": {"name": "crawl", "output_dir": str(root), "seed": 1}, "ray": {"in_process": True},
                "sources": [{"name": "web", "kind": "commoncrawl", "paths": [str(inputs / "*.warc.gz")]}],
                "stages": {"order": ["crawl"]}}
    loaded = parse_manifest(json.dumps(manifest), "crawl_stage_profile")
    loaded.run_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(loaded, InProcessExecutor(), progress_every_s=1e9)


def e2e_parts(copies: int, reps: int, profile: int) -> None:
    """The whole stage against its kernels on e2e_bench's corpus (module docstring)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        e2e_input(root / "input", copies)
        runs = iter(range(1 << 30))

        def whole_stage() -> None:
            context = stage_context(root / f"run{next(runs)}", root / "input")
            with contextlib.redirect_stderr(io.StringIO()):
                crawl.run(context, [])

        work = crawl.plan(stage_context(root / "plan", root / "input"))
        payloads = [t.payload for t in work]
        whole_stage()  # warm-up: imports, compiled regexes, resiliparse's lazily built ones
        if profile:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            whole_stage()
            prof.disable()
            pstats.Stats(prof).sort_stats(os.environ.get("SORT", "tottime")).print_stats(profile)
            return
        # the kernels' inputs, as the stage hands them over
        records = [raw for t in payloads for unit in warc_splits._units(t.split, t.options, Tally())
                   if not isinstance(unit, warc_framing._Damage) for raw in [unit[1]]]
        responses: list[tuple[bytes, str | None]] = []  # (body, declared charset) of every page decoded
        pages: list[str] = []  # every page extracted, as the reader hands them over
        real_decode, real_extract = commoncrawl.decode_html, commoncrawl.extract

        def spy_decode(body: bytes, declared: str | None = None) -> tuple[str, str]:
            responses.append((body, declared))
            return real_decode(body, declared)

        def spy_extract(page: str, **kwargs: Any) -> extract_html.Extraction:
            pages.append(page)
            return real_extract(page, **kwargs)

        commoncrawl.decode_html, commoncrawl.extract = spy_decode, spy_extract
        try:
            docs = [d for t in payloads for d in commoncrawl.READER.read(t.split, t.options, Tally())]
        finally:
            commoncrawl.decode_html, commoncrawl.extract = real_decode, real_extract
        texts = [d.text for d in docs]
        cleaned = [clean_text(x) for x in texts]
        for doc, text in zip(docs, cleaned):
            doc.text = text
        per_task: list[list[Any]] = []
        at = 0
        for t in payloads:  # documents per task, to write them shard by shard as the stage does
            n = sum(1 for _ in commoncrawl.READER.read(t.split, t.options, Tally()))
            per_task.append(docs[at:at + n])
            at += n
        out = root / "rows"

        def rows_and_parquet() -> None:
            for i, group in enumerate(per_task):
                if group:
                    crawl._write_shard(out, f"s{i}.parquet", [d.to_row("web") for d in group])

        def statistics_only() -> None:
            for group, t in zip(per_task, payloads):
                tally = Tally()
                record_out(tally.counts, "web", [len(d.text) for d in group], urls=[d.url for d in group])
                record_in(tally.counts, "web", len(group), sum(len(d.text) for d in group))
                file_entry(tally.counts, "web", t.kind, t.size)

        def record_parsing() -> None:
            for raw in records:
                record = WarcRecord.from_bytes(raw)
                if record.record_type == WarcRecordType.response:
                    with contextlib.suppress(OSError, ValueError):
                        warc_records._http(record)

        # the extractor's parts: resiliparse's parse and its two passes (main content; the full page where the
        # main text is short), the rest is our Python (furniture scan, line scoring, joins)
        trees = [HTMLTree.parse(p) for p in pages]
        furniture = [extract_html._page_furniture(p) for p in pages]
        skips = [extract_html.SKIP_SELECTORS + f + (extract_html._MEDIAWIKI if mw else []) for f, mw in furniture]
        main_options = dict(main_content=True, comments=False, post_meta=extract_html.POST_META, alt_texts=False,
                            list_bullets=False)
        mains = [extract_html._lines(extract_plain_text(t, skip_elements=k, **main_options)) for t, k in zip(trees, skips)]
        second = [i for i, lines in enumerate(mains)
                  if sum(map(len, extract_html._trim(lines))) < extract_html.FALLBACK_CHECK_CHARS]
        largest = sorted(range(len(pages)), key=lambda i: -len(pages[i]))[:4 * copies]

        def main_pass(which: list[int]) -> None:
            for i in which:
                extract_plain_text(trees[i], skip_elements=skips[i], **main_options)

        def full_pass() -> None:
            for i in second:
                extract_plain_text(trees[i], main_content=False, comments=False, alt_texts=False, list_bullets=False,
                                   skip_elements=extract_html._FALLBACK_SKIP + furniture[i][0])

        parts = {
            "whole stage, in process (crawl.run: plan, tasks, ledger, statistics)": whole_stage,
            "tasks alone (crawl.run_task)": lambda: [crawl.run_task(t) for t in payloads],
            "reader alone (framing, records, decoding, extraction)":
                lambda: [sum(1 for _ in commoncrawl.READER.read(t.split, t.options, Tally())) for t in payloads],
            "WARC framing (gzip members, record boundaries)":
                lambda: [sum(1 for _ in warc_splits._units(t.split, t.options, Tally())) for t in payloads],
            "record parsing (FastWARC headers, HTTP of responses)": record_parsing,
            "charset decoding of the HTML bodies": lambda: [commoncrawl.decode_html(b, d) for b, d in responses],
            "HTML extraction": lambda: [extract_html.extract(p) for p in pages],
            "  of which HTML parsing (resiliparse)": lambda: [HTMLTree.parse(p) for p in pages],
            "  of which the main-content pass (resiliparse)": lambda: main_pass(list(range(len(pages)))),
            f"  of which the main-content pass on the {len(largest)} largest pages (4 a copy)": lambda: main_pass(largest),
            f"  of which the full-page second pass ({len(second)} pages)": full_pass,
            "cleaning": lambda: [clean_text(x) for x in texts],
            "rows, Arrow tables, Parquet writes": rows_and_parquet,
            "per-shard statistics (histogram, hosts, file entries)": statistics_only,
        }
        times: dict[str, list[float]] = {k: [] for k in parts}
        for rep in range(reps):
            for name in (list(parts) if rep % 2 == 0 else list(parts)[::-1]):
                start = time.process_time()
                parts[name]()
                times[name].append(time.process_time() - start)
    whole = statistics.median(times[next(iter(parts))])
    print(f"{len(payloads)} files ({copies} copies), {len(records)} records, {len(pages)} HTML pages, {len(docs)} "
          f"documents; CPU seconds, medians of {reps} interleaved runs")
    print("| part | CPU s | share of the stage | ms per document |\n|---|---|---|---|")
    for name, values in times.items():
        t = statistics.median(values)
        print(f"| {name} | {t:.3f} | {t / whole:.0%} | {1000 * t / max(1, len(docs)):.2f} |")


# One stage run in a checkout's own process: its code, the same input folder; prints CPU seconds as JSON.
_RUN_STAGE = """
import contextlib, io, json, resource, sys, time
from pathlib import Path
sys.path.insert(0, "bench")
import crawl_stage_profile as profile
from pipeline.stages import crawl
before, start = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
with contextlib.redirect_stderr(io.StringIO()):
    crawl.run(profile.stage_context(Path(sys.argv[2]), Path(sys.argv[1])), [])
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu": time.process_time() - start, "user": after.ru_utime - before.ru_utime,
                  "system": after.ru_stime - before.ru_stime}))
"""


def _output_digests(run_dir: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """sha256 of every document shard and statistics file, and the completion records without task_digest."""
    digests = {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
               for folder in ("docs", "stats") for p in sorted((run_dir / folder).rglob("*")) if p.is_file()}
    records = [json.loads(line) for line in (run_dir / "_done" / "crawl" / "ledger.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("task_digest", None)
    return digests, records


def compare(repos: list[Path], copies: int, reps: int) -> None:
    """The whole crawl stage in each checkout's own process, taking turns (module docstring)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        inputs = root / "input"
        e2e_input(inputs, copies)
        cpu: dict[Path, list[dict[str, float]]] = {repo: [] for repo in repos}
        outputs: list[tuple[Path, Any]] = []
        for rep in range(reps):
            for repo in (repos if rep % 2 == 0 else repos[::-1]):
                run_dir = root / f"run-{rep}-{repos.index(repo)}"
                python = repo / ".venv" / "bin" / "python"  # the checkout's own, else this one (a worktree has none)
                done = subprocess.run([str(python if python.exists() else sys.executable), "-c", _RUN_STAGE, str(inputs),
                                       str(run_dir)], cwd=repo, check=True, capture_output=True, text=True)
                cpu[repo].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(f"run {rep + 1} {repo}: {cpu[repo][-1]['cpu']:.3f} CPU s", flush=True)
                outputs.append((repo, _output_digests(run_dir / "crawl")))
                shutil.rmtree(run_dir)
        first = statistics.median(r["cpu"] for r in cpu[repos[0]])
        print(f"{copies} copies, CPU seconds of the stage, medians of {reps} runs taking turns")
        print("| checkout | CPU s (user, system) | ratio to the first |\n|---|---|---|")
        for repo, runs in cpu.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("cpu", "user", "system")}
            print(f"| {repo} | {med['cpu']:.3f} ({med['user']:.3f}, {med['system']:.3f}) | {med['cpu'] / first:.3f} |")
        reference = outputs[0][1]
        differing = [str(repo) for repo, digests in outputs if digests != reference]
        print(f"outputs: {len(reference[0])} files and {len(reference[1])} completion records per run; runs whose "
              f"outputs differ from the first: {differing or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--copies", type=int, default=0, help="measure on e2e_bench's corpus of this many copies")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions (cProfile) instead")
    parser.add_argument("--out", type=Path, default=None, help="write the task outputs and counts here and stop")
    parser.add_argument("--compare", type=Path, nargs="+", default=None,
                        help="with --copies: the whole stage in each of these checkouts' own processes, taking turns")
    args = parser.parse_args()
    if args.compare:
        compare([repo.resolve() for repo in args.compare], args.copies or 15, args.reps)
        return
    if args.copies:
        e2e_parts(args.copies, args.reps, args.profile)
        return
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
            "framing alone": lambda: [sum(1 for _ in warc_splits._units(t.split, t.options, Tally())) for t in work],
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
