"""Tokenize-stage throughput per core vs raw tiktoken on the same texts, in the same run.

The stage side is one tokenize task (``pipeline.stages.tokenize.tokenize_task``: read Parquet document
shards, hash ids for the validation split, encode, append end-of-text, shuffle, write Arrow IPC shards with
sha256) - exactly what each Ray worker core runs. The baselines get the texts already in memory and only
encode: tiktoken's per-document ``encode_ordinary`` loop and ``encode_ordinary_batch`` with one thread
(``num_threads=8``, its default, is also shown; on a one-core pin it can only be slower). Pinned to one
core, medians of ``--reps`` runs.

    .venv/bin/python bench/tokenize_bench.py --reps 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.stages.tokenize import TokenizeTask, TokenizerRef, tokenize_task  # noqa: E402
from pipeline.tokenizer import TiktokenSpec, load_tiktoken  # noqa: E402
from tests.token_helpers import book_documents, write_doc_shards  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BOOKS = sorted(p.name for p in (SHARED / "books").glob("*.txt"))


def median_time(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--copies", type=int, default=3, help="repeat the books to get more text")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    ranks = SHARED / "tokenizers" / "gpt2.tiktoken"
    tokenizer = load_tiktoken(TiktokenSpec(name="gpt2", ranks_path=str(ranks)))
    encoding = tokenizer.encoding
    work = Path(tempfile.mkdtemp(prefix="tokbench-"))
    try:
        docs = []
        for copy in range(args.copies):
            for doc in book_documents(SHARED, BOOKS):
                doc.key = f"{copy}:{doc.key}"
                docs.append(doc)
        inputs = write_doc_shards(work, "books", docs, per_shard=500)
        texts = [d.text for d in docs]
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        ref = TokenizerRef("tiktoken", "gpt2", str(ranks), tokenizer.info.ranks_sha256)
        task = TokenizeTask(str(work), "books", tuple(inputs), "00000", 7, ref, int(0.005 * 2**64), 50_000_000)
        tokenize_task(task)  # warm the tokenizer cache and the page cache

        stage = median_time(lambda: tokenize_task(task), args.reps)
        loop = median_time(lambda: [encoding.encode_ordinary(t) for t in texts], args.reps)
        batch1 = median_time(lambda: encoding.encode_ordinary_batch(texts, num_threads=1), args.reps)
        batch8 = median_time(lambda: encoding.encode_ordinary_batch(texts), args.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    best = min(loop, batch1)
    print(f"{len(texts):,} documents, {mb:.1f} MB of text, GPT-2 ranks, one core, median of {args.reps} runs")
    print("| what | MB/s |\n|---|---|")
    print(f"| tokenize stage task (read Parquet .. write shards + index parts) | {mb / stage:.2f} |")
    print(f"| tiktoken encode_ordinary loop (encode only) | {mb / loop:.2f} |")
    print(f"| tiktoken encode_ordinary_batch, num_threads=1 (encode only) | {mb / batch1:.2f} |")
    print(f"| tiktoken encode_ordinary_batch, num_threads=8 on one core (encode only) | {mb / batch8:.2f} |")
    print(f"ratio stage / faster baseline: {best / stage:.2f}x")


if __name__ == "__main__":
    main()
