"""The compiled jieba cut (pipeline.filters._jieba) against rjieba and pure-Python jieba (issue 13).

Usage: ``python bench/multilingual_jieba.py [--runs 7]`` from the repository root.

1. Segmentation speed on the same text: the Han runs of the shared zhwiki sample and of Hongloumeng, each
   joined by newlines (what the filters hand the segmenter), cut by ``_jieba.cut_runs`` (word lengths,
   what the filters use), ``_jieba.cut`` (a list of str, as rjieba returns), ``rjieba.cut(text, True)`` and
   pure-Python ``jieba.lcut(text)`` (HMM on). CPU time (``time.process_time``: the machine is shared),
   medians of ``--runs`` runs, the four alternated within each run.
2. Instructions (``--only none|lengths|list|rjieba`` under ``valgrind --tool=callgrind``): the same setup
   (both segmenters loaded, zhwiki's Han runs joined) and then nothing or one cut of them; the
   difference of two runs is the cut's instructions, which the load of the machine does not change.
3. Loading: wall time and resident memory added by the first use in a fresh process (``compiled_jieba()``
   reading jieba's dict.txt and HMM tables and building the trie; ``import rjieba`` plus a first cut,
   which builds jieba-rs's embedded dictionary), medians of ``--runs`` fresh processes each.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

LOAD = r"""
import sys, time
sys.path.insert(0, ".")
def rss():  # resident set size now, in bytes
    return int(open("/proc/self/statm").read().split()[1]) * 4096
import pipeline.filters.segment as segment  # imported first: not part of either figure
before, started = rss(), time.perf_counter()
if sys.argv[1] == "compiled":
    segment.compiled_jieba().cut("中文")
else:
    import rjieba
    rjieba.cut("中文", True)
print(time.perf_counter() - started, rss() - before)
"""


def load(which: str) -> tuple[float, float]:
    """(seconds, MiB) of the first use of ``which`` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", LOAD, which], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, added = out.stdout.split()
    return float(seconds), int(added) / 2**20


def only(which: str) -> None:
    """The setup of the speed comparison and one cut of zhwiki's Han runs (``which``), nothing else."""
    import rjieba

    from pipeline.filters.segment import HAN, compiled_jieba

    ours = compiled_jieba()
    ours.cut("中文"), rjieba.cut("中文", True)  # both dictionaries loaded
    text = "\n".join(re.findall(f"[{HAN}]+", (DATA / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8")))
    if which == "lengths":
        ours.cut_runs([text])
    elif which == "list":
        ours.cut(text)
    elif which == "rjieba":
        rjieba.cut(text, True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=("none", "lengths", "list", "rjieba"),
                        help="set up, make one cut of zhwiki's Han runs (or none) and exit: for callgrind")
    args = parser.parse_args()
    if args.only:
        only(args.only)
        return
    import logging

    import jieba
    import rjieba

    from pipeline.filters.segment import HAN, compiled_jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    ours = compiled_jieba()
    han = re.compile(f"[{HAN}]+")
    texts = {"zhwiki": "\n".join(han.findall((DATA / "wiki" / "zhwiki-test-pages.xml").read_text(encoding="utf-8"))),
             "hongloumeng": "\n".join(han.findall((DATA / "books" / "zh-hongloumeng-pg24264.txt")
                                                  .read_text(encoding="utf-8-sig")))}
    cuts = {"_jieba.cut_runs (lengths)": lambda t: ours.cut_runs([t]), "_jieba.cut (str list)": ours.cut,
            "rjieba.cut": lambda t: rjieba.cut(t, True), "jieba.lcut (pure Python)": jieba.lcut}
    for name, text in texts.items():
        assert ours.cut(text) == rjieba.cut(text, True)
        n_han = len(text) - text.count("\n")
        times: dict[str, list[float]] = {k: [] for k in cuts}
        for _ in range(args.runs):
            for label, cut in cuts.items():
                started = time.process_time()
                cut(text)
                times[label].append(time.process_time() - started)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\n{name}: {n_han:,} Han characters; CPU us per character, median of {args.runs}")
        print("| cut | us/char | speed, rjieba.cut = 1 |\n|---|---|---|")
        for label, seconds in med.items():
            print(f"| {label} | {seconds / n_han * 1e6:.4f} | {med['rjieba.cut'] / seconds:.2f}x |")
    print(f"\nfirst use in a fresh process, median of {args.runs}:\n| segmenter | seconds | MiB added |\n|---|---|---|")
    for which in ("compiled", "rjieba"):
        runs = [load(which) for _ in range(args.runs)]
        seconds, mib = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"| {which} | {seconds:.3f} | {mib:.1f} |")


if __name__ == "__main__":
    main()
