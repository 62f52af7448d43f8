"""What the commoncrawl reader costs per kind of record outside extraction, on one copy of issue 19's corpus.

Frames the shared HTML WARCs once (bench/e2e_bench.py's input, one copy), groups the framed records by WARC type
and, for the responses, by what ``_document`` makes of them (a document, ``not_html``, ``http_status``, ...),
then times the framing alone and ``_document`` over each group with resiliparse's extraction stubbed out (a
fixed text), so what is left is the Python and FastWARC work between the kernels: record parsing, HTTP and
payload decoding, charset decoding, checks and tallies. CPU-time medians of ``--reps`` interleaved passes.

Why: the whole chain's target (>= 15x datatrove's pages per CPU second, issue 19) leaves the glue around the
kernels as the place to look; this says which records pay for it (bench/README.md, "The crawl stage's glue").

Usage: .venv/bin/python bench/crawl_record_kinds.py [--reps 7]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402
from pipeline.readers.warc_framing import _Damage  # noqa: E402
from pipeline.readers.warc_records import _parsed  # noqa: E402
from pipeline.readers.warc_splits import _units  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from e2e_bench import SHARED, SKIP  # noqa: E402


class _Stub:
    """What ``extract`` returns, without extracting."""

    text = "x" * 100
    fallback = False
    main_content = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    options = commoncrawl.Options()
    warcs = sorted(p for p in SHARED.glob("*.warc.gz") if not SKIP.search(p.name))
    splits = [s for p in warcs for s in commoncrawl.plan(str(p), p.stat().st_size, options)]

    def frame() -> list:
        tally, units = Tally(), []
        for split in splits:
            units.extend(_units(split, options, tally))
        return units

    units = [u for u in frame() if not isinstance(u, _Damage)]
    commoncrawl.extract = lambda page, max_tags=None: _Stub  # the rest of _document runs as it is

    def outcome(unit: tuple) -> str:
        kind = str(_parsed(unit[1]).record_type)
        if kind != "response":
            return kind
        tally = Tally()
        if commoncrawl._document(unit[1], unit[0], "p", options, tally) is not None:
            return "response: document"
        reasons = sorted(k for k in tally.counts if k.startswith("skipped.") or k == "http_decode_fallback")
        return "response: " + ", ".join(reasons)

    groups: dict[str, list] = collections.defaultdict(list)
    for unit in units:
        groups[outcome(unit)].append(unit)

    def documents(group: list) -> float:
        tally = Tally()
        start = time.process_time()
        for offset, raw in group:
            commoncrawl._document(raw, offset, "p", options, tally)
        return time.process_time() - start

    times: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(args.reps):
        start = time.process_time()
        frame()
        times["framing (all records)"].append(time.process_time() - start)
        for name, group in groups.items():
            times[name].append(documents(group))
    print(f"{len(warcs)} WARCs, {len(units)} records; CPU ms, medians of {args.reps} interleaved passes\n")
    print("| records | n | CPU ms | us a record |\n|---|---|---|---|")
    for name, values in sorted(times.items(), key=lambda kv: -statistics.median(kv[1])):
        n = len(groups.get(name, units))
        ms = statistics.median(values) * 1000
        print(f"| {name} | {n} | {ms:.2f} | {ms * 1000 / n:.1f} |")


if __name__ == "__main__":
    main()
