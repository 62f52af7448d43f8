"""Tokenizing speed of the segmenters whose chunks keep some whitespace inside (``segment_lib.CHUNK_CUT``: the Indic
languages, Khmer, Burmese) in two or more checkouts, on the UDHR declarations (bench/multilingual_agreement.py's
``--udhr-cache``), as the linefuse43 section of bench/README.md measured them.

Per language and checkout: ``words.tokenize`` of the declaration, cold (a new vocabulary each call) and warm (every
chunk seen), and ``words.tokenize_by_line`` warm (C4's per-line tokens) where the checkout has it; the best of
``--repeats`` calls in one process, then the median over ``--pairs`` processes per checkout, the checkouts' processes
alternated so that load on the core hits them alike. Each checkout's own ``pipeline`` is imported (its compiled
extensions must be built in place).

    taskset -c 0 python bench/joined_chunks_speed.py --udhr-cache /work/cache/udhr40 --language hi ne km my \\
        --root /work/wt/before --root /work/wt/main --root .
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
from pipeline.filters import words
from pipeline.filters.lang_params import segmenter_of
texts, repeats = json.load(open(sys.argv[1])), int(sys.argv[2])
out = {}
def best(fn):
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times) * 1e3
for lang, text in texts.items():
    seg = segmenter_of(lang)
    def cold():
        words.clear_cache(); words.tokenize(text, seg)
    row = {"chars": len(text), "tokens": len(words.tokenize(text, seg)), "cold_ms": best(cold)}
    words.clear_cache(); words.tokenize(text, seg)
    row["warm_ms"] = best(lambda: words.tokenize(text, seg))
    if hasattr(words, "tokenize_by_line"):
        words.tokenize_by_line(text, seg)
        row["warm_by_line_ms"] = best(lambda: words.tokenize_by_line(text, seg))
    out[lang] = row
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--udhr-cache", type=Path, required=True)
    parser.add_argument("--language", nargs="+", default=["hi", "ne", "km", "my"])
    parser.add_argument("--root", type=Path, action="append", required=True, help="a checkout (repeat)")
    parser.add_argument("--pairs", type=int, default=3, help="processes per checkout, alternated")
    parser.add_argument("--repeats", type=int, default=5, help="calls per process, the best kept")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    from multilingual_agreement import udhr_declarations

    texts = {lang: udhr_declarations(lang, args.udhr_cache)[0][1] for lang in args.language}
    results: dict[str, list[dict]] = {str(root): [] for root in args.root}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(texts, f)
    try:
        for i in range(args.pairs):
            for root in (args.root if i % 2 == 0 else args.root[::-1]):
                env = dict(os.environ, PYTHONPATH=str(root.resolve()))
                done = subprocess.run([sys.executable, "-c", CHILD, f.name, str(args.repeats)], cwd=root, env=env,
                                      capture_output=True, text=True, check=True)
                results[str(root)].append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        os.unlink(f.name)
    table = {}
    print(f"{'language':8} {'checkout':40} {'chars':>6} {'tokens':>6} {'cold ms':>9} {'warm ms':>9} "
          f"{'warm by line':>12}")
    for lang in args.language:
        for root, runs in results.items():
            row = {key: statistics.median(run[lang][key] for run in runs) for key in runs[0][lang]}
            table.setdefault(lang, {})[root] = row
            by_line = f"{row['warm_by_line_ms']:12.3f}" if "warm_by_line_ms" in row else f"{'-':>12}"
            print(f"{lang:8} {root[-40:]:40} {row['chars']:6.0f} {row['tokens']:6.0f} {row['cold_ms']:9.3f} "
                  f"{row['warm_ms']:9.3f} {by_line}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "medians": table}, indent=1))


if __name__ == "__main__":
    main()
