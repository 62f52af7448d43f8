"""CPU time of the PII filter's scans (``pii.find``) over a set of texts, for this checkout or another (issue 19).

Usage: ``python bench/pii_scan_bench.py [--repo PATH] [--runs 5] (--shards GLOB | --web)`` from the
repository root. ``--shards``: the ``text`` column of document shards (e.g. a scale run's crawl output,
``runs/scale-10x/docs/**/*.parquet``); ``--web``: every page of the shared WARCs (commoncrawl reader),
which hold e-mails and public addresses. Prints the matches of each kind and a digest of their spans (equal
digests: the same redactions), then ``time.process_time`` per kind over all texts, median of ``--runs``.
Why per kind and in process: the three scans are independent, and the machine is shared (medians of CPU
time, not wall time). ``--repo`` imports ``pipeline`` from another checkout (e.g. main's) with the same texts.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("email", "ipv4", "ipv6")


def texts_of(args: argparse.Namespace) -> list[str]:
    if args.web:
        from contracts.accounting import Tally
        from pipeline.readers import get_reader, reader_module
        from pipeline.readers.base import Split

        reader, options = get_reader("commoncrawl"), reader_module("commoncrawl").Options()
        paths = sorted((ROOT.parent / "shared" / "data" / "web").glob("*.warc.gz"))  # as the tests find it
        return [d.text for p in paths for d in reader.read(Split(str(p)), options, Tally())]
    import pyarrow.parquet as pq

    files = sorted(glob.glob(args.shards, recursive=True))
    if not files:
        raise SystemExit(f"no shards match {args.shards}")
    return [t for f in files for t in pq.read_table(f, columns=["text"])["text"].to_pylist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose pipeline.filters.pii is timed")
    parser.add_argument("--runs", type=int, default=5)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--shards", help="glob of document shards (parquet with a text column)")
    source.add_argument("--web", action="store_true", help="the pages of the shared WARCs")
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo.resolve()))
    from pipeline.filters import pii

    assert Path(pii.__file__).resolve().is_relative_to(args.repo.resolve()), pii.__file__
    texts = texts_of(args)
    spans = {k: [m.span() for t in texts for m in pii.find(t, k)] for k in KINDS}
    print(f"{len(texts)} texts, {sum(map(len, texts)):,} characters; matches "
          + ", ".join(f"{k} {len(v)}" for k, v in spans.items())
          + f"; spans digest {hashlib.sha256(repr(spans).encode()).hexdigest()[:16]}")
    for kind in KINDS:
        seconds = []
        for _ in range(args.runs):
            started = time.process_time()
            for text in texts:
                pii.find(text, kind)
            seconds.append(time.process_time() - started)
        print(f"{kind}: {statistics.median(seconds):.3f} s (median of {args.runs}; "
              f"{', '.join(f'{s:.3f}' for s in seconds)})", flush=True)


if __name__ == "__main__":
    main()
