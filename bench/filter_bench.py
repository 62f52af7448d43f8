"""Speed of the FineWeb filter chain (language, Gopher repetition, Gopher quality, C4, FineWeb) per core:
ours against datatrove's filters, on the same documents in the same run, with the agreement rate.

    .venv/bin/python bench/filter_bench.py [--repeats 5] [--ours-per-pair 3] [--warm-vocabulary] [--core N]

Documents: the real pages of shared/data/web (bench/filter_agreement.py). Both sides run pinned to the
same single core, alternating, ``--repeats`` pairs; figures are medians. Ours takes about a tenth of
datatrove's time, so a burst of load from other work on a shared machine can hit a single run of ours
and swing its pair's ratio; each pair therefore times ours ``--ours-per-pair`` times back to back and
uses their median. Ours: signals of the whole chain for every document (the word vocabulary is cleared
before each run, so every run starts cold; the model is loaded once), then the vectorised decisions.
Datatrove: its five filters in FineWeb's order, each document stopping at its first removal (so later
filters see fewer documents than ours do), with its LanguageFilter given the same lid.176.ftz file.
Needs ``bash bench/make_datatrove_venv.sh``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from filter_agreement import FILTERS, run_datatrove, web_texts  # noqa: E402

from pipeline.filters import words  # noqa: E402
from pipeline.filters.base import compute_signals, decide, signal_schema  # noqa: E402
from pipeline.filters.chain import ChainSpec, build  # noqa: E402


DECIDE_SECONDS: list[float] = []  # the decision step alone: what a threshold-only rerun costs
FILTER_SECONDS: Counter = Counter()  # signals step per filter, over all runs of ours


def run_ours(texts: list[str], repeats: int, warm: bool = False) -> tuple[list[float], list[str | None]]:
    chain = build(ChainSpec.model_validate({name: {} for name in FILTERS}))
    compute_signals(chain, texts[:2], [None, None], 1_000_000)  # load the language model
    seconds, verdicts = [], []
    for _ in range(repeats):
        if not warm:
            words.clear_cache()
        started = time.perf_counter()
        columns = compute_signals(chain, texts, [None] * len(texts), 1_000_000, FILTER_SECONDS)
        table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
        decided = time.perf_counter()
        decisions = decide(chain, table, 1_000_000)
        seconds.append(time.perf_counter() - started)
        DECIDE_SECONDS.append(time.perf_counter() - decided)
        verdicts = [None if f is None else f"{f}:{r}" for f, r in zip(decisions.filter, decisions.rule)]
    return seconds, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ours-per-pair", type=int, default=3, help="runs of ours per pair (median)")
    parser.add_argument("--warm-vocabulary", action="store_true", help="keep the word vocabulary between "
                        "runs, as a long-lived worker does after its first shard (default: every run cold)")
    parser.add_argument("--core", type=int, default=None, help="CPU to pin to (default: the last allowed)")
    args = parser.parse_args()
    core = args.core if args.core is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})  # the datatrove subprocess inherits the affinity
    rows = web_texts()
    texts = [r["text"] for r in rows]
    n, chars = len(texts), sum(map(len, texts))

    theirs = run_datatrove(rows)  # decisions (its timing pass is a warm-up)
    theirs_v = [theirs["docs"][r["id"]]["chain"] for r in rows]
    ours_s, theirs_s, ours_v = [], [], []
    for _ in range(args.repeats):
        seconds, ours_v = run_ours(texts, args.ours_per_pair, args.warm_vocabulary)
        ours_s.append(statistics.median(seconds))
        theirs_s.append(run_datatrove(rows, timing_only=True)["chain_seconds"])
    agree = sum((a is None) == (b is None) for a, b in zip(ours_v, theirs_v))
    ratios = [t / o for o, t in zip(ours_s, theirs_s)]

    print(f"{n} documents, {chars / 1e6:.2f} M characters, pinned to CPU {core}, "
          f"{args.repeats} alternating pairs, ours the median of {args.ours_per_pair} runs per pair, "
          f"{'warm' if args.warm_vocabulary else 'cold'} word vocabulary")
    print(f"ours:      {n / statistics.median(ours_s):8.1f} docs/s  "
          f"(runs: {', '.join(f'{n / s:.0f}' for s in ours_s)})")
    print(f"datatrove: {n / statistics.median(theirs_s):8.1f} docs/s  (runs: "
          f"{', '.join(f'{n / s:.1f}' for s in theirs_s)})")
    print(f"speed-up:  {statistics.median(ratios):8.1f}x median of the per-pair ratios "
          f"({', '.join(f'{r:.1f}' for r in ratios)})")
    print(f"keep/drop agreement: {agree}/{n} = {agree / n:.2%}")
    print(f"decisions alone (a threshold-only rerun): {n / statistics.median(DECIDE_SECONDS):,.0f} docs/s")
    total = sum(FILTER_SECONDS.values())
    print("our signals step by filter: "
          + ", ".join(f"{name} {s / total:.0%}" for name, s in FILTER_SECONDS.items()))

if __name__ == "__main__":
    main()
