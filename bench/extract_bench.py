"""Crawl + extract benchmark: our commoncrawl reader vs warcio + trafilatura (the datatrove path).

Two measurements, both pinned to one CPU core and repeated (medians reported, because the machine is
shared and single runs are noisy; compare the ratios):

1. the real WARCs in ../shared/data/web: pages/s and MB/s (compressed input) of reading + extracting
   every HTTP 200 HTML response, ours vs warcio.ArchiveIterator + trafilatura.extract(favor_precision)
   on the same records in the same run;
2. the article-extraction benchmark (181 pages with ground truth): precision / recall / F1 over 4-token
   shingles of ``\\w+`` tokens, averaged per page as the benchmark's evaluate.py does, and pages/s.

Usage: .venv/bin/python bench/extract_bench.py [--reps 5]
"""

from __future__ import annotations

import argparse
import gzip
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

from pipeline.extract.html import decode_html, extract_text  # noqa: E402
from pipeline.readers.base import Split, Tally  # noqa: E402
from pipeline.readers.commoncrawl import READER, Options  # noqa: E402

WEB = REPO.parent / "shared" / "data" / "web"
WARCS = sorted(p for p in WEB.iterdir() if p.name.endswith((".warc.gz", ".warc")) and "wet" not in p.name
               and "wat" not in p.name)
TAR = WEB / "article-extraction-benchmark-html.tar"


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
                    page, _ = decode_html(rec.content_stream().read())
                    if trafilatura.extract(page, favor_precision=True):
                        pages += 1
            except Exception:  # warcio stops at damage (the clipped file); count what it read
                pass
    return pages


_TOKEN = re.compile(r"\w+")


def _shingles(text: str) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)) if tokens[i:i + 4])


def score(truth: dict[str, str], pred: dict[str, str]) -> tuple[float, float, float]:
    """Mean per-page shingle precision and recall, and the F1 of those means (evaluate.py's definition)."""
    precisions, recalls = [], []
    for key, want_text in truth.items():
        want, got = _shingles(want_text), _shingles(pred[key])
        tp = sum((want & got).values())
        fp = sum((got - want).values())
        fn = sum((want - got).values())
        if fp == fn == 0:
            precisions.append(1.0), recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return p, r, 2 * p * r / (p + r)


def load_articles() -> tuple[dict[str, str], dict[str, str]]:
    prefix = "article-extraction-benchmark/"
    with tarfile.open(TAR) as tar:
        gt = json.load(tar.extractfile(prefix + "ground-truth.json"))
        pages = {k: gzip.decompress(tar.extractfile(f"{prefix}html/{k}.html.gz").read()).decode("utf-8")
                 for k in sorted(gt)}
    return pages, {k: gt[k]["articleBody"] for k in pages}


def timed(fn: Callable[[], object], reps: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    import trafilatura

    mb = sum(p.stat().st_size for p in WARCS) / 1e6
    print(f"## shared WARCs ({len(WARCS)} files, {mb:.1f} MB), median of {args.reps} runs, one core")
    t_ours, n_ours = timed(ours_crawl, args.reps)
    t_base, n_base = timed(warcio_trafilatura_crawl, args.reps)
    print("| pipeline | pages | pages/s | MB/s |\n|---|---|---|---|")
    print(f"| ours: commoncrawl reader (own framing + FastWARC + resiliparse) | {n_ours} | {n_ours / t_ours:.0f} | {mb / t_ours:.2f} |")
    print(f"| warcio + trafilatura (favor_precision) | {n_base} | {n_base / t_base:.0f} | {mb / t_base:.2f} |")
    print(f"speed ratio (MB/s ours / baseline): {t_base / t_ours:.1f}x")

    pages, truth = load_articles()
    print(f"\n## article-extraction benchmark ({len(pages)} pages), median of {args.reps} runs, one core")
    print("| extractor | precision | recall | F1 | pages/s |\n|---|---|---|---|---|")
    extractors = {
        "ours (pipeline.extract.html)": extract_text,
        "trafilatura (favor_precision)": lambda h: trafilatura.extract(h, favor_precision=True) or "",
    }
    rates = {}
    for name, fn in extractors.items():
        t, pred = timed(lambda: {k: fn(h) for k, h in pages.items()}, args.reps)
        p, r, f1 = score(truth, pred)
        rates[name] = len(pages) / t
        print(f"| {name} | {p:.3f} | {r:.3f} | {f1:.3f} | {rates[name]:.0f} |")
    ours, base = rates.values()
    print(f"speed ratio (pages/s ours / trafilatura): {ours / base:.1f}x")


if __name__ == "__main__":
    main()
