"""Language-ID speed: fasttext-predict's per-document loop vs our compiled inference (pipeline.filters._lid).

Texts: the real web pages of bench/filter_agreement.py's ``web_texts()`` (344 pages of shared/data/web),
cut to the language filter's ``max_chars`` (100,000) with newlines as spaces, as ``LanguageFilter`` does.
Each variant runs ``--runs`` times over all texts in one batch; the median is printed. "cold" empties
the token cache before each run (as in a fresh worker), "warm" reuses the cache of the previous run (as
in a worker on its next shard). Pin it to one core for per-core figures:

    taskset -c 1 .venv/bin/python bench/lid_bench.py [--runs 5] [--model PATH]

Also checks that every variant gives fastText's labels, and prints the largest probability difference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from filter_agreement import web_texts  # noqa: E402

from pipeline.filters.fasttext_lid import FastTextLID  # noqa: E402
from pipeline.filters.language import (LanguageOptions, bundled_model_path, fasttext_predict_batch,  # noqa: E402
                                       load_model)


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default=None, help="fastText model file (default: bundled lid.176.ftz)")
    args = parser.parse_args()
    path = args.model or bundled_model_path()
    texts = [row["text"] for row in web_texts()]
    cap = LanguageOptions().max_chars
    n_chars = sum(len(t[:cap]) for t in texts)
    print(f"{len(texts)} texts, {n_chars:,} characters (each cut to {cap:,}); model {Path(path).name}")

    reference = load_model(path)
    base, times, expected = timed(lambda: fasttext_predict_batch(reference, texts, cap), args.runs)
    print(f"fasttext-predict loop      {base * 1e3:8.1f} ms   runs {[round(t * 1e3, 1) for t in times]}")
    for exact in (True, False):
        model = FastTextLID(path, exact=exact)

        def cold():
            model.cache_clear()
            return model.predict_batch(texts, cap)

        for name, fn in (("cold", cold), ("warm", lambda: model.predict_batch(texts, cap))):
            median, times, out = timed(fn, args.runs)
            labels_ok = out[0] == expected[0]  # type: ignore[index]
            diff = max(abs(a - b) for a, b in zip(out[1], expected[1]))  # type: ignore[index]
            print(f"ours {'exact' if exact else 'sums '} {name}           {median * 1e3:8.1f} ms   "
                  f"{base / median:5.1f}x   labels {'same' if labels_ok else 'DIFFER'}, max |dp| {diff:.1e}"
                  f"   runs {[round(t * 1e3, 1) for t in times]}")
        info = model.cache_info()
        total = n_tokens(texts, cap)
        print(f"  cache: {info['entries']:,} distinct tokens of {total:,} ({info['entries'] / total:.0%}), "
              f"{info['allocated_bytes'] / 2**20:.1f} MiB allocated")


def n_tokens(texts: list[str], cap: int) -> int:
    """fastText's token count (its separators only) plus one end-of-line token per text."""
    import re

    sep = re.compile(r"[ \n\r\t\v\f\0]+")
    return sum(len([t for t in sep.split(text[:cap]) if t]) + 1 for text in texts)


if __name__ == "__main__":
    main()
