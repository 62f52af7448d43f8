"""Sampler batches/s (global batch 32 x context 1024) vs nanoGPT's get_batch and a plain memcpy.

Same tokens for all three: a GPT-2 token dataset of the shared books (three sources, weights 0.5/0.3/0.2),
exported to ``train.bin`` for the baselines.

* sampler: ``MixtureSampler.batch(step)`` for consecutive steps - mixture plan lookup, shard lookup,
  uint16 -> int64 conversion, contiguous x and y tensors; the provenance tables are in place (one
  ``provenance`` call is made per run to prove it);
* get_batch: nanoGPT's loader - ``np.memmap`` opened per batch, random offsets, ``astype(np.int64)`` per
  row, ``torch.stack`` for x and y;
* memcpy: copying the same number of bytes (32 x 1025 uint16) from random offsets of the flat file into a
  preallocated buffer - the floor for any loader that moves the bytes; and copying as many bytes as the
  loaders hand back (x and y in int64, 8x more), the floor for any loader with that output.

Then 100,000 sampler batches, with RSS (anonymous and file-backed, from /proc/self/status) every 10,000:
file-backed pages are the mapped shards in the page cache and are reclaimable; anonymous memory is what
would leak. Pinned to one core, medians of ``--reps`` runs.

    .venv/bin/python bench/sampler_bench.py --reps 5
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

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.token_dataset import TokenDataset  # noqa: E402
from tests.token_helpers import build_token_dataset, gpt2_tokenizer  # noqa: E402
from training.export_bin import export_bin  # noqa: E402
from training.sampler import MixtureSampler  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BATCH, CONTEXT = 32, 1024


def rss() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) // 1024  # MiB
    return fields


def rate(fn, n: int, reps: int) -> float:
    rates = []
    for _ in range(reps):
        started = time.perf_counter()
        fn(n)
        rates.append(n / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batches", type=int, default=5000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    work = Path(tempfile.mkdtemp(prefix="sampbench-"))
    try:
        manifest, _, _ = build_token_dataset(work, SHARED, gpt2_tokenizer(SHARED, validation={"fraction": 0.01}),
                                             weights={"books": 0.5, "plays": 0.3, "dictionary": 0.2},
                                             max_epochs=1e6)
        dataset = TokenDataset.open(manifest.run_dir / "tokens")
        export_bin(dataset, work / "bin")
        train_bin = str(work / "bin" / "train.bin")
        started = time.perf_counter()
        sampler = MixtureSampler(dataset, context_length=CONTEXT, global_batch=BATCH, seed=0,
                                 num_samples=(100_000 + args.batches) * BATCH)
        plan_s = time.perf_counter() - started
        sampler.provenance(10, 3, 100)
        tokens = sum(s.tokens for s in dataset.all_shards if s.split == "train")

        def ours(n: int) -> None:
            for step in range(n):
                sampler.batch(step)

        rng = np.random.default_rng(0)

        def get_batch(n: int) -> None:  # nanoGPT train.py, CPU branch
            for _ in range(n):
                data = np.memmap(train_bin, dtype=np.uint16, mode="r")
                ix = torch.randint(len(data) - CONTEXT, (BATCH,))
                x = torch.stack([torch.from_numpy((data[i:i + CONTEXT]).astype(np.int64)) for i in ix])
                y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + CONTEXT]).astype(np.int64)) for i in ix])
                del x, y

        flat = np.fromfile(train_bin, dtype=np.uint16)
        out = np.empty(BATCH * (CONTEXT + 1), dtype=np.uint16)

        def memcpy(n: int) -> None:
            starts = rng.integers(0, len(flat) - len(out), size=n)
            for start in starts:
                np.copyto(out, flat[start:start + len(out)])

        wide = np.frombuffer(np.resize(flat, 2 * BATCH * CONTEXT * 4).tobytes(), dtype=np.int64)
        wide_out = np.empty_like(wide)

        def memcpy_out(n: int) -> None:
            for _ in range(n):
                np.copyto(wide_out, wide)

        ours(200), get_batch(50), memcpy(200)  # warm up
        r_ours = rate(ours, args.batches, args.reps)
        r_get = rate(get_batch, max(args.batches // 10, 200), args.reps)
        r_copy = rate(memcpy, args.batches * 4, args.reps)
        r_copy_out = rate(memcpy_out, args.batches, args.reps)

        samples = []
        before = rss()
        for step in range(100_000):
            sampler.batch(step)
            if step % 10_000 == 0:
                samples.append((step, rss()))
        after = rss()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{tokens:,} training tokens, 3 sources; plan for {sampler.num_samples:,} samples built in "
          f"{plan_s:.2f} s; one core, median of {args.reps} runs")
    print("| loader | batches/s (32 x 1024) |\n|---|---|")
    print(f"| MixtureSampler.batch | {r_ours:,.0f} |")
    print(f"| nanoGPT get_batch | {r_get:,.0f} |")
    print(f"| memcpy of the same bytes (32 x 1025 uint16, one copy, no conversion) | {r_copy:,.0f} |")
    print(f"| memcpy of the output bytes (x and y: 2 x 32 x 1024 int64) | {r_copy_out:,.0f} |")
    print(f"sampler / get_batch: {r_ours / r_get:.1f}x; sampler / memcpy of input bytes: {r_ours / r_copy:.3f}x; "
          f"sampler / memcpy of output bytes: {r_ours / r_copy_out:.2f}x")
    print(f"RSS over 100,000 batches (MiB): before {before}, after {after}")
    print("  every 10,000:", ", ".join(f"{s}: anon {r['RssAnon']} file {r['RssFile']}" for s, r in samples))


if __name__ == "__main__":
    main()
