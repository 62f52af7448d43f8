"""Crawl + extract benchmark: our commoncrawl reader and extractor vs warcio + trafilatura (the datatrove path).

Two measurements, both pinned to one CPU core (medians of several runs for speed, the extractors taking
turns in every run, because the machine is shared and single runs are noisy; compare the ratios; ``--cpu``
times with the process's CPU seconds, which a loaded machine moves less than the wall clock):

1. the real WARCs in ../shared/data/web: pages/s and MB/s (compressed input) of reading + extracting
   every HTTP 200 HTML response, ours vs warcio.ArchiveIterator + trafilatura.extract(favor_precision)
   on the same records in the same run;
2. every shared extraction set with human ground truth, each in its own table: the article-extraction
   benchmark (181 pages), CleanEval dev and final and CleanPortalEval (web/html-cleaning-sets.tar.zst,
   read in memory, nothing unpacked). Precision / recall over 4-token shingles of ``\\w+`` tokens,
   averaged per page, F1 of the averages (the article benchmark's evaluate.py), wipe-outs and pages/s for
   ours, trafilatura (favor_precision and default) and resiliparse alone.

A wipe-out is a page where one extractor keeps < 20 % of the gold text (shingle recall) while the
reference, trafilatura(favor_precision), keeps >= 50 %; the "reverse" column counts the pages the
reference wipes out where the row's extractor keeps >= 50 %. The goal for ours is lost <= reverse.

Usage: .venv/bin/python bench/extract_bench.py [--reps 3] [--limit N] [--sets articles,cleaneval-dev,...]
       [--no-crawl] [--cpu] [--worst N] [--cache DIR]
(--limit and --cache are for iteration; the figures in bench/README.md come from full runs without them.)
"""

from __future__ import annotations

import argparse
import gzip
import html as htmllib
import json
import os
import re
import statistics
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.extract.html import decode_html, extract_text  # noqa: E402
from pipeline.readers.base import Split  # noqa: E402
from pipeline.readers.commoncrawl import READER, Options  # noqa: E402

WEB = REPO.parent / "shared" / "data" / "web"
WARCS = sorted(p for p in WEB.iterdir() if p.name.endswith((".warc.gz", ".warc")) and "wet" not in p.name
               and "wat" not in p.name)
TAR = WEB / "article-extraction-benchmark-html.tar"
CLEANING = WEB / "html-cleaning-sets.tar.zst"
CLEANING_SETS = {"cleaneval-dev": "cleaneval-dev", "cleaneval-final": "cleaneval-final",
                 "cleanportaleval": "CleanPortalEval-master"}
SETS = ["articles", *CLEANING_SETS]
REFERENCE = "trafilatura (favor_precision)"
WIPE_LOW, WIPE_HIGH = 0.2, 0.5


def ours_crawl() -> int:
    pages = 0
    for path in WARCS:
        pages += sum(1 for _ in READER.read(Split(str(path)), Options(), Tally()))
    return pages


def warcio_trafilatura_crawl() -> int:
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    pages = 0
    for path in WARCS:
        with open(path, "rb") as fh:
            try:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type != "response" or not rec.http_headers:
                        continue
                    if rec.http_headers.get_statuscode() != "200":
                        continue
                    ctype = (rec.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                    if ctype not in ("text/html", "application/xhtml+xml"):
                        continue
                    page = decode_html(rec.content_stream().read()).text
                    if trafilatura.extract(page, favor_precision=True):
                        pages += 1
            except Exception:  # warcio stops at damage (the clipped file); count what it read
                pass
    return pages


_TOKEN = re.compile(r"\w+")


def _shingles(text: str) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)) if tokens[i:i + 4])


def page_scores(want_text: str, got_text: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page over 4-token shingles; None where evaluate.py skips the term."""
    want, got = _shingles(want_text), _shingles(got_text)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    if fp == fn == 0:
        return 1.0, 1.0
    return (tp / (tp + fp) if tp + fp else None), (tp / (tp + fn) if tp + fn else None)


def score(truth: dict[str, str], pred: dict[str, str]) -> tuple[float, float, float]:
    """Mean per-page shingle precision and recall, and the F1 of those means (evaluate.py's definition)."""
    precisions, recalls = [], []
    for key, want_text in truth.items():
        p, r = page_scores(want_text, pred[key])
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return p, r, 2 * p * r / (p + r)


def recalls(truth: dict[str, str], pred: dict[str, str]) -> dict[str, float]:
    """Per page: the share of the gold text's shingles kept (1.0 where the gold text is empty)."""
    out = {}
    for key, want_text in truth.items():
        _, r = page_scores(want_text, pred[key])
        out[key] = 1.0 if r is None else r
    return out


def load_article_bytes() -> tuple[dict[str, bytes], dict[str, str]]:
    """The article benchmark's pages as the files' bytes (gunzipped), and their gold article bodies."""
    prefix = "article-extraction-benchmark/"
    with tarfile.open(TAR) as tar:
        gt = json.load(tar.extractfile(prefix + "ground-truth.json"))
        pages = {k: gzip.decompress(tar.extractfile(f"{prefix}html/{k}.html.gz").read()) for k in sorted(gt)}
    return pages, {k: gt[k]["articleBody"] for k in pages}


def load_articles() -> tuple[dict[str, str], dict[str, str]]:
    pages, gold = load_article_bytes()
    return {k: raw.decode("utf-8") for k, raw in pages.items()}, gold


_GOLD_TAG = re.compile(r"<(p|h|l)>", re.IGNORECASE)


def gold_text(raw: bytes) -> str:
    """A CleanEval-format gold file as plain text: the ``URL:`` line and the ``<p>``/``<h>``/``<l>`` block
    marks removed, entities decoded (CleanPortalEval's gold keeps ``&#039;``)."""
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith("URL:"):
        lines.pop(0)
    return htmllib.unescape(_GOLD_TAG.sub("\n", "\n".join(lines)))


def load_cleaning_sets() -> tuple[dict[str, tuple[dict[str, str], dict[str, str]]], dict[str, int]]:
    """{set: (pages, gold)} from the zstd tar, read in memory; pages are decoded with our decode_html so
    every extractor sees the same text. Returns also, per set, how many inputs have no gold file."""
    raw, missing = load_cleaning_bytes()
    return {name: ({k: decode_html(b).text for k, b in pages.items()}, gold)
            for name, (pages, gold) in raw.items()}, missing


def load_cleaning_bytes() -> tuple[dict[str, tuple[dict[str, bytes], dict[str, str]]], dict[str, int]]:
    """{set: (the input files' bytes, gold text)} from the zstd tar, read in memory, inputs without a gold file
    left out (and counted per set)."""
    import zstandard

    raw: dict[str, dict[str, dict[str, bytes]]] = {name: {"input": {}, "GoldStandard": {}} for name in CLEANING_SETS}
    folders = {v: k for k, v in CLEANING_SETS.items()}
    with open(CLEANING, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as stream, \
            tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) < 4 or parts[1] not in folders:
                continue
            kind, stem = parts[2], parts[3].rsplit(".", 1)[0]
            if kind in ("input", "GoldStandard"):
                raw[folders[parts[1]]][kind][stem] = tar.extractfile(member).read()
    out, missing = {}, {}
    for name, kinds in raw.items():
        keys = sorted(k for k in kinds["input"] if k in kinds["GoldStandard"])
        missing[name] = len(kinds["input"]) - len(keys)
        out[name] = ({k: kinds["input"][k] for k in keys}, {k: gold_text(kinds["GoldStandard"][k]) for k in keys})
    return out, missing


CLOCK: Callable[[], float] = time.perf_counter  # --cpu: time.process_time (this process's CPU seconds)


def _clock_name() -> str:
    return "CPU time" if CLOCK is time.process_time else "wall time"


def interleaved(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, tuple[float, object]]:
    """Median time and last result of each function, the functions taking turns in every repetition (in
    alternating order), so that a change of load from other work falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, object] = {}
    for rep in range(reps):
        for name in (list(fns) if rep % 2 == 0 else list(fns)[::-1]):
            start = CLOCK()
            results[name] = fns[name]()
            times[name].append(CLOCK() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in fns}


OLD: dict[str, Callable[[str], str]] = {}  # --old REV: our extractor at that revision, as one more row


def extractors() -> dict[str, Callable[[str], str]]:
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text

    return {
        "ours (pipeline.extract.html)": extract_text,
        **OLD,
        REFERENCE: lambda h: trafilatura.extract(h, favor_precision=True) or "",
        "trafilatura (default)": lambda h: trafilatura.extract(h) or "",
        "resiliparse (main_content=True)": lambda h: extract_plain_text(h, main_content=True),
    }


def bench_set(name: str, pages: dict[str, str], truth: dict[str, str], reps: int, worst: int,
              note: str = "", cache: Path | None = None) -> None:
    print(f"\n## {name} ({len(pages)} pages{note}), pages/s median of {reps} interleaved runs ({_clock_name()}), one core")
    print("| extractor | precision | recall | F1 | wipe-outs (lost / reverse) | pages/s |\n|---|---|---|---|---|---|")
    results, rates = {}, {}
    to_time: dict[str, Callable[[], object]] = {}
    for ext_name, fn in extractors().items():
        slug = re.sub(r"\W+", "-", ext_name).strip("-")
        cached = cache / f"{name.split()[0]}-{len(pages)}-{slug}.json" if cache and not ext_name.startswith("ours") else None
        if cached and cached.exists():  # iteration only: peers' texts from an earlier run, no speed figure
            results[ext_name], rates[ext_name] = json.loads(cached.read_text()), float("nan")
            continue
        to_time[ext_name] = lambda fn=fn: {k: fn(h) for k, h in pages.items()}
    for ext_name, (t, pred) in interleaved(to_time, reps).items():
        results[ext_name], rates[ext_name] = pred, len(pages) / t
        slug = re.sub(r"\W+", "-", ext_name).strip("-")
        if cache and not ext_name.startswith("ours"):
            cache.mkdir(parents=True, exist_ok=True)
            (cache / f"{name.split()[0]}-{len(pages)}-{slug}.json").write_text(json.dumps(pred))
    results = {ext_name: results[ext_name] for ext_name in extractors()}  # the table's row order
    ref = recalls(truth, results[REFERENCE])
    for ext_name, pred in results.items():
        p, r, f1 = score(truth, pred)
        mine = recalls(truth, pred)
        lost = sorted(k for k in truth if mine[k] < WIPE_LOW and ref[k] >= WIPE_HIGH)
        reverse = sorted(k for k in truth if ref[k] < WIPE_LOW and mine[k] >= WIPE_HIGH)
        wipe = "-" if ext_name == REFERENCE else f"{len(lost)} / {len(reverse)}"
        print(f"| {ext_name} | {p:.3f} | {r:.3f} | {f1:.3f} | {wipe} | {rates[ext_name]:.0f} |")
        if worst and ext_name.startswith("ours"):
            ours_lost = lost
    ours_name = next(iter(results))
    print(f"speed ratio (pages/s ours / {REFERENCE}): {rates[ours_name] / rates[REFERENCE]:.1f}x")
    for old_name in OLD:
        print(f"speed ratio ({old_name} / {REFERENCE}): {rates[old_name] / rates[REFERENCE]:.1f}x")
    if worst:
        mine = recalls(truth, results[ours_name])
        f1s = {}
        for k in truth:
            p, r = page_scores(truth[k], results[ours_name][k])
            p, r = p or 0.0, r or 0.0
            f1s[k] = 2 * p * r / (p + r) if p + r else 0.0
        print(f"ours wiped out: {', '.join(ours_lost) or 'none'}")
        print(f"ours worst {worst} by page F1: " + ", ".join(
            f"{k} (F1 {f1s[k]:.2f}, R {mine[k]:.2f}, ref R {ref[k]:.2f})"
            for k in sorted(f1s, key=f1s.get)[:worst]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3, help="timed runs per extractor and set (median)")
    parser.add_argument("--limit", type=int, default=0, help="first N pages per set (iteration only)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {SETS}")
    parser.add_argument("--no-crawl", action="store_true", help="skip the WARC crawl comparison")
    parser.add_argument("--old", default=None, help="add our extractor at this git revision as a row (same run)")
    parser.add_argument("--cpu", action="store_true",
                        help="time with this process's CPU seconds instead of the wall clock (a loaded machine)")
    parser.add_argument("--worst", type=int, default=0, help="list ours' N worst pages per set")
    parser.add_argument("--cache", type=Path, default=None,
                        help="iteration only: keep the peers' texts here and reuse them (their speed is not measured)")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SETS))
    if unknown:
        parser.error(f"unknown set(s) {unknown}; choose from {SETS}")
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    if args.old:
        import tempfile

        sys.path.insert(0, str(REPO / "bench"))
        from extract_ab import module_at

        module = module_at(args.old, Path(tempfile.mkdtemp(prefix="extract-old-")))
        OLD[f"ours at {args.old}"] = module.extract_text
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    if not args.no_crawl:
        mb = sum(p.stat().st_size for p in WARCS) / 1e6
        print(f"## shared WARCs ({len(WARCS)} files, {mb:.1f} MB), median of {args.reps} interleaved runs ({_clock_name()}), one core")
        both = interleaved({"ours": ours_crawl, "base": warcio_trafilatura_crawl}, args.reps)
        (t_ours, n_ours), (t_base, n_base) = both["ours"], both["base"]
        print("| pipeline | pages | pages/s | MB/s |\n|---|---|---|---|")
        print(f"| ours: commoncrawl reader (own framing + FastWARC + resiliparse) | {n_ours} | {n_ours / t_ours:.0f} | {mb / t_ours:.2f} |")
        print(f"| warcio + trafilatura (favor_precision) | {n_base} | {n_base / t_base:.0f} | {mb / t_base:.2f} |")
        print(f"speed ratio (MB/s ours / baseline): {t_base / t_ours:.1f}x")

    def cut(d: dict[str, str]) -> dict[str, str]:
        return dict(list(d.items())[:args.limit]) if args.limit else d

    if "articles" in chosen:
        pages, truth = load_articles()
        bench_set("article-extraction benchmark", cut(pages), cut(truth), args.reps, args.worst, cache=args.cache)
    wanted = [s for s in chosen if s in CLEANING_SETS]
    if wanted:
        sets, missing = load_cleaning_sets()
        for name in wanted:
            pages, truth = sets[name]
            note = f"; {missing[name]} inputs without a gold file left out" if missing[name] else ""
            bench_set(name, cut(pages), cut(truth), args.reps, args.worst, note, args.cache)


if __name__ == "__main__":
    main()
