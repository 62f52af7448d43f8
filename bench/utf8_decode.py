"""The filter stage's text decode alone: ``column.to_pylist()`` against ``base.decode_texts`` (issue 13).

Usage, from the checkout to measure (its ``pipeline`` is imported from the working directory):

    python bench/utf8_decode.py run pylist|ours LANG K   # decode LANG's column K times (for callgrind)
    python bench/utf8_decode.py cpu LANG...              # CPU ns per character, the two alternated

LANG is one of ``multilingual_bench.FILES`` (zhwiki, jawiki, enwiki, dewiki, ...): its documents' texts as one
Arrow string column. Instructions per character: a ``run`` process with K = 3 minus one with K = 1, over 2,
under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``; ``run`` turns the garbage collector off, since a
collection that falls in one process and not the other moves a small column's figure by a few instructions
per character. ``cpu`` alternates the two decoders in one process, 21 rounds, and prints medians and the
per-round ratio (decode_texts / to_pylist).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "bench")]

import pyarrow as pa  # noqa: E402

from pipeline.filters.base import decode_texts  # noqa: E402


def column(name: str) -> pa.ChunkedArray:
    import multilingual_bench as mb

    return pa.chunked_array([pa.array([d.text for d in mb.documents(name)], pa.string())])


def decoder(mode: str, col: pa.ChunkedArray) -> Callable[[], list]:
    return (lambda: col.to_pylist()) if mode == "pylist" else (lambda: decode_texts(col))


def run(mode: str, name: str, k: int) -> None:
    col = column(name)
    gc.disable()
    f = decoder(mode, col)
    for _ in range(k):
        f()


def cpu(names: list[str]) -> None:
    for name in names:
        col = column(name)
        n_chars = sum(len(t) for t in col.to_pylist())
        reps = max(1, 2_000_000 // n_chars)
        times: dict[str, list[float]] = {"pylist": [], "ours": []}
        for r in range(21):
            for mode in ("pylist", "ours") if r % 2 else ("ours", "pylist"):
                f = decoder(mode, col)
                started = time.process_time()
                for _ in range(reps):
                    f()
                times[mode].append((time.process_time() - started) / reps / n_chars * 1e9)
        ratios = [b / a for a, b in zip(times["pylist"], times["ours"])]
        print(f"{name}: {n_chars:,} chars; ns per character to_pylist {statistics.median(times['pylist']):.2f}, "
              f"decode_texts {statistics.median(times['ours']):.2f}; per-round ratio {statistics.median(ratios):.3f} "
              f"({sum(r < 1 for r in ratios)} of {len(ratios)} faster)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 5:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["cpu"] and len(sys.argv) > 2:
        cpu(sys.argv[2:])
    else:
        sys.exit(__doc__)
