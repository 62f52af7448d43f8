"""Where sketching's time goes, stage by stage, and the MinHash kernels against each other, one core: the
numpy path (pipeline.dedup.minhash.numpy_signatures_of_hashes) and each compiled kernel this CPU runs
(pipeline/dedup/_minhash.c: avx512, avx2, default), on dedup_speed's documents, all and the non-CJK ones;
with rensa and datasketch on the non-CJK ones (dedup_speed.py measures them on all).

    taskset -c 0 .venv/bin/python bench/minhash_kernels.py --reps 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import documents  # noqa: E402
from dedup_speed import datasketch_signatures, median_time, python_shingles, rensa_signatures  # noqa: E402

from pipeline.dedup import minhash  # noqa: E402
from pipeline.dedup.minhash import MinHashParams, sketch_texts  # noqa: E402
from pipeline.dedup.normalize import normalize_batch, split_cjk  # noqa: E402
from pipeline.dedup.shingles import shingle_hashes  # noqa: E402


def stages(name: str, docs: list[str], params: MinHashParams, reps: int) -> None:
    """Each step over the batches sketch_texts makes (TEXT_BYTES_PER_BATCH of text each)."""
    mb = sum(len(d.encode()) for d in docs) / 1e6
    texts = [docs[lo:hi] for lo, hi in minhash._batches(docs, minhash.TEXT_BYTES_PER_BATCH)]
    batches = [normalize_batch(t) for t in texts]
    shingled = [shingle_hashes(b, params.ngram) for b in batches]
    rows = [("sketch_texts (whole, default path)", lambda: sketch_texts(docs, params)),
            ("normalize_batch", lambda: [normalize_batch(t) for t in texts]),
            ("shingle_hashes", lambda: [shingle_hashes(b, params.ngram) for b in batches]),
            ("signatures: numpy", lambda: [minhash.numpy_signatures_of_hashes(h, o, params) for h, o in shingled])]
    for kernel in minhash._compiled.KERNELS if minhash._compiled else ():
        rows.append((f"signatures: C kernel {kernel}", lambda k=kernel: [
            minhash.compiled_signatures_of_hashes(h, o, params, k) for h, o in shingled]))
    shingles = sum(int(o[-1]) for _, o in shingled)
    print(f"\n{name}: {len(docs)} docs, {mb:.1f} MB, {shingles:,} shingles, {params.num_perm} perms, "
          f"medians of {reps}\n| step | seconds | MB/s |\n|---|---|---|")
    for label, fn in rows:
        t = median_time(fn, reps)
        print(f"| {label} | {t:.3f} | {mb / t:.2f} |")


def competitors(docs: list[str], params: MinHashParams, reps: int) -> None:
    mb = sum(len(d.encode()) for d in docs) / 1e6
    n, k = params.num_perm, params.ngram
    rows = [("ours: sketch_texts", lambda: sketch_texts(docs, params)), ("rensa", lambda: rensa_signatures(docs, n, k)),
            ("datasketch", lambda: datasketch_signatures(docs, n, k)),
            ("python shingling alone", lambda: [python_shingles(d, k) for d in docs])]
    print(f"\nnon-CJK documents against the competitors, medians of {reps}\n| method | MB/s | ours is |\n|---|---|---|")
    times = {label: median_time(fn, reps) for label, fn in rows}
    for label, t in times.items():
        print(f"| {label} | {mb / t:.2f} | {t / times[rows[0][0]]:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    params = MinHashParams(num_perm=128, seed=1, hash_bits=64, ngram=5)
    docs = documents()
    non_cjk = [d for d in docs if split_cjk(d) == d]
    sketch_texts(docs[:10], params)  # warm caches
    stages("all documents", docs, params, args.reps)
    stages("non-CJK documents", non_cjk, params, args.reps)
    competitors(non_cjk, params, args.reps)


if __name__ == "__main__":
    main()
