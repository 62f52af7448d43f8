"""Cache misses, branch mispredictions and CPU time of the compiled jieba cut (``_jieba.cut_runs``) on
zhwiki's chunks (issue 13: the Chinese filter cost, seventh pass).

Usage: ``python bench/jieba_cut_misses.py [--repo PATH] [--cachegrind] [--runs N]`` from the repository root.

Why: the cut runs ~130 instructions per Chinese character yet took ~40 % of the word chain's CPU time;
its dictionary (jieba's 349k words, a trie of ~500k nodes) is megabytes, so a walk's steps miss the
core's caches, which callgrind's instruction counts do not see. ``--cachegrind`` runs one cut under
``valgrind --tool=cachegrind`` with a 32 KiB first level and a 1 MiB last level (the shared machine's
per-core L1d and L2; its 32 MiB L3 is shared with other work) and branch simulation, and prints the
events of ``_jieba.c``'s cutting functions per character (the dictionary's loading is left out); these
counts do not depend on the machine's load. Without it: CPU time per character of ``cut_runs`` of all
chunks (median of ``--runs``), then of a few thousand characters cut again and again with warm caches
and with the caches emptied before each cut (a 64 MiB buffer written), which shows how much of the time
is memory. ``--repo`` measures another checkout (e.g. main's) with the chunks of this one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CUT = ("cut_text", "cut_block", "child", "flush", "cut_runs", "viterbi", "hmm_cut", "is_dict_word")

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from pipeline.filters import segment
chunks = json.load(open(sys.argv[1], encoding="utf-8"))
jieba = segment.compiled_jieba()
jieba.cut_runs(["我们在北京大学学习数学"])  # loads the dictionary
if sys.argv[2] == "once":
    jieba.cut_runs(chunks)
    sys.exit()
import numpy as np

def per_char(texts, runs, before=lambda: None):
    times = []
    for _ in range(runs):
        before()
        started = time.process_time()
        jieba.cut_runs(texts)
        times.append(time.process_time() - started)
    return sorted(times)[runs // 2] * 1e9 / sum(map(len, texts))

runs = int(sys.argv[2])
junk = np.ones(64 << 20, np.uint8)
small = chunks[:60]
print(f"cut_runs of {sum(map(len, chunks)):,} chars: {per_char(chunks, runs):.1f} ns/char; "
      f"{sum(map(len, small)):,} chars again and again: warm {per_char(small, 5 * runs):.1f}, "
      f"caches emptied first {per_char(small, 5 * runs, lambda: junk.__iadd__(1)):.1f} ns/char")
"""


def chunks_file(out: Path) -> int:
    """zhwiki's documents joined as ``multilingual_bench.py`` joins them, split as the chain's chunks."""
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import multilingual_bench as mb

    chunks = "\n\n".join(d.text for d in mb.documents("zhwiki")).split()
    out.write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
    return sum(map(len, chunks))


def cachegrind(repo: Path, chunks: Path, chars: int) -> dict[str, float]:
    """Events of ``_jieba.c``'s cutting functions per character, one cut of every chunk."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"  # a file: a -c script's newlines would break cachegrind's output
        script.write_text(CHILD, encoding="utf-8")
        subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes",
                        "--D1=32768,8,64", "--LL=1048576,16,64", f"--cachegrind-out-file={tmp}/out",
                        sys.executable, str(script), str(chunks), "once"],
                       cwd=repo, env=env, capture_output=True, check=True)
        # cg_annotate exits non-zero when a source file it would annotate is missing; the table comes first
        report = subprocess.run(["cg_annotate", "--auto=no", "--show=Ir,D1mr,DLmr,Bcm", f"{tmp}/out"],
                                capture_output=True, text=True).stdout
    totals = [0, 0, 0, 0]
    for line in report.splitlines():
        if re.search(r"_jieba\.c:(" + "|".join(CUT) + r")$", line):
            numbers = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+)\s+\(", line)]
            totals = [t + n for t, n in zip(totals, numbers)]
    return {name: total / chars for name, total in zip(("Ir", "D1mr", "LLmr", "Bcm"), totals)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--cachegrind", action="store_true")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        chunks = Path(tmp) / "chunks.json"
        chars = chunks_file(chunks)
        if args.cachegrind:
            events = cachegrind(args.repo.resolve(), chunks, chars)
            print(f"{args.repo}: per character " + ", ".join(f"{k} {v:.3f}" for k, v in events.items()))
        else:
            subprocess.run([sys.executable, "-c", CHILD, str(chunks), str(args.runs)], cwd=args.repo, check=True)


if __name__ == "__main__":
    main()
