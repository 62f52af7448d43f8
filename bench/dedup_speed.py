"""Dedup speed, one core: signatures/s against datasketch, rensa and datatrove (its own virtualenv,
bench/make_datatrove_venv.sh); bucketing + components against
datasketch MinHashLSH; end-to-end docs/s for 1 and 2 Ray workers; peak memory per task against corpus size.

    taskset -c 0 .venv/bin/python bench/dedup_speed.py --reps 5            # signatures, LSH, memory
    .venv/bin/python bench/dedup_speed.py --reps 3 --only e2e               # Ray, 1 and 2 workers
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import documents, windows  # noqa: E402

from pipeline.dedup import buckets as bk  # noqa: E402
from pipeline.dedup import components as cc  # noqa: E402
from pipeline.dedup.minhash import MinHashParams, sketch_texts  # noqa: E402
from pipeline.dedup.normalize import codepoint_classes, split_cjk  # noqa: E402


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


_NON_WORD = re.compile(r"[\W_]+")
_DIGIT = re.compile(r"\d")


def python_shingles(text: str, n: int) -> list[str]:
    """The competitors' shingling, as fast as plain Python gets it: CJK characters spaced apart (as ours
    does: each a word, one regex pass), lowercase, regex punctuation and digits, split, join n-grams (close to
    our normalisation; per-character Python would be 3x slower). Without the CJK split the Chinese book's
    clauses were single words and the competitors made 1.39 M shingles of the corpus to our 1.98 M."""
    words = _DIGIT.sub("0", _NON_WORD.sub(" ", split_cjk(text).lower())).split()
    if len(words) < n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def datasketch_signatures(docs: list[str], num_perm: int, ngram: int) -> None:
    """datasketch's MinHash of each document over the competitors' shingles (``python_shingles``)."""
    from datasketch import MinHash

    for d in docs:
        MinHash(num_perm=num_perm, seed=1).update_batch([s.encode() for s in python_shingles(d, ngram)])


def rensa_signatures(docs: list[str], num_perm: int, ngram: int) -> None:
    """rensa's RMinHash of each document over the same shingles (rensa: the ``bench`` extra)."""
    import rensa

    for d in docs:
        m = rensa.RMinHash(num_perm=num_perm, seed=1)
        m.update(python_shingles(d, ngram))
        m.digest()


def bench_signatures(docs: list[str], reps: int, num_perm: int = 128, ngram: int = 5) -> None:
    try:
        import rensa
    except ImportError:  # a bench-only package, not a project dependency
        rensa = None
        print("(rensa row skipped: not installed; the `bench` extra, which `make` installs, has it)")

    mb = sum(len(d.encode()) for d in docs) / 1e6
    params = MinHashParams(num_perm=num_perm, seed=1, hash_bits=64, ngram=ngram)
    codepoint_classes()
    sketch_texts(docs[:10], params)  # warm caches

    def ours():
        sketch_texts(docs, params)

    def datasketch_run():
        datasketch_signatures(docs, num_perm, ngram)

    def rensa_run():
        rensa_signatures(docs, num_perm, ngram)

    def shingling_only():
        for d in docs:
            python_shingles(d, ngram)

    rows = [("ours: pipeline.dedup.minhash.sketch_texts (vectorised)", ours),
            *([("rensa RMinHash.update(python shingles)", rensa_run)] if rensa else []),
            ("datasketch MinHash.update_batch(python shingles), affine32", datasketch_run),
            ("python shingling alone (regex normalise + 5-grams)", shingling_only)]
    print(f"\nsignatures: {len(docs)} docs, {mb:.1f} MB, {num_perm} perms, {ngram}-grams, medians of {reps}")
    print("| method | docs/s | MB/s | ours is |\n|---|---|---|---|")
    results = {}
    for name, fn in rows:
        results[name] = median_time(fn, reps if name.startswith("ours") else max(1, reps // 2 + 1))
    results.update(datatrove_signatures(docs, max(1, reps // 2 + 1), num_perm, ngram))
    ours_t = results[rows[0][0]]
    for name, t in results.items():
        print(f"| {name} | {len(docs) / t:,.0f} | {mb / t:.2f} | {t / ours_t:.1f}x |")


def datatrove_signatures(docs: list[str], reps: int, num_perm: int, ngram: int) -> dict[str, float]:
    """Datatrove 0.10.1's MinHash stage 1 on the same texts, from its own virtualenv (a subprocess, so it
    inherits this process's CPU pinning); empty when that virtualenv was not made."""
    dt_python = Path(__file__).resolve().parents[1] / ".bench-venv-datatrove" / "bin" / "python"
    if not dt_python.exists():
        print("(datatrove rows skipped: run `bash bench/make_datatrove_venv.sh` to include them)")
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        texts, out = Path(tmp) / "texts.jsonl", Path(tmp) / "out.json"
        texts.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
        subprocess.run([str(dt_python), str(Path(__file__).parent / "datatrove_minhash.py"), str(texts),
                        str(out), "--repeats", str(reps), "--bands", str(num_perm // 8), "--rows", "8",
                        "--ngram", str(ngram)], check=True)
        result = json.loads(out.read_text())
    return {"datatrove MinhashDedupSignature.run (whole stage 1: spaCy words, sign, write, sort)":
            result["stage_seconds"],
            "datatrove get_shingles + get_signature alone": result["signature_seconds"]}


def bench_lsh(count: int, reps: int, words: int, step: int) -> None:
    from datasketch import LeanMinHash, MinHashLSH

    texts = windows(count, words=words, step=step)
    params = MinHashParams(num_perm=112, seed=1, hash_bits=64, ngram=5)
    sigs = sketch_texts(texts, params).signatures
    nodes = np.arange(len(sigs), dtype=np.uint64)

    def ours():
        keys = bk.band_keys(sigs, 14, 8)
        band = np.tile(np.arange(14, dtype=np.uint32), len(sigs))
        # every document its own text (no exact band), so buckets are not collapsed
        u, v, _ = bk.candidate_pairs(band, keys.ravel(), np.repeat(nodes, 14), np.repeat(nodes, 14),
                                     exact_band=14)
        src, dst = cc.both_directions(u, v)
        while True:
            a, b, violations = cc.large_star(src, dst)
            src, dst = cc.both_directions(a, b)
            if violations == 0:
                break
            a, b = cc.small_star(src, dst)
            src, dst = cc.both_directions(a, b)
        return cc.star_members(src, dst)

    lean = [LeanMinHash(seed=1, hashvalues=s, scheme="legacy") for s in sigs]

    def datasketch_run():
        lsh = MinHashLSH(num_perm=112, params=(14, 8))
        for i, m in enumerate(lean):
            lsh.insert(i, m, check_duplication=False)
        return [lsh.query(m) for m in lean]

    t_ours = median_time(ours, reps)
    t_ds = median_time(datasketch_run, max(1, reps // 2))
    roots, members = ours()
    print(f"\nbucketing + components over {len(sigs):,} signatures of {words}-word windows every {step} words "
          f"(14x8), medians: ours {t_ours:.3f} s "
          f"(to clusters: {len(np.unique(roots)):,} clusters, {len(members):,} duplicates); datasketch MinHashLSH "
          f"insert+query {t_ds:.2f} s (candidates only, {sum(len(r) - 1 for r in datasketch_run()):,} "
          f"candidate hits) -> ours is {t_ds / t_ours:.1f}x")


class _PeakHeapExecutor:
    """The in-process executor, recording each step's largest per-task peak heap (tracemalloc)."""

    def __init__(self, peaks: dict):
        self.peaks = peaks

    def map(self, stage, run_dir, tasks, fn):  # noqa: ANN001 - pipeline.executors.Executor
        for task in tasks:
            tracemalloc.start()
            result = fn(task.payload)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            name = stage.split(".")[1] if stage.count(".") == 1 else "cc"
            self.peaks[name] = max(self.peaks.get(name, 0), peak)
            yield task, result.to_dict()


def _corpus(root: Path, docs: list[str], shard_docs: int) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.documents import DOC_SCHEMA, doc_id

    inputs = []
    for s in range(0, len(docs), shard_docs):
        rows = [{"id": doc_id("web", str(i)), "source": "web", "url": None, "title": None, "text": t,
                 "meta": None} for i, t in enumerate(docs[s:s + shard_docs], s)]
        rel = f"docs/web/{s // shard_docs:05d}.parquet"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=DOC_SCHEMA), root / rel)
        inputs.append(rel)
    return inputs


def _context(root: Path, executor):  # noqa: ANN001 - a pipeline.executors executor
    from types import SimpleNamespace

    from pipeline.stage import RunContext
    from pipeline.stages.dedup import Options

    manifest = SimpleNamespace(run_dir=root, sources=[SimpleNamespace(name="web")],
                               stages=SimpleNamespace(dedup=Options()), run=SimpleNamespace(seed=0))
    return RunContext(manifest, executor)


def bench_memory(shard_docs: int, multiples: list[int]) -> None:
    import pipeline.stages.dedup as stage

    base = windows(shard_docs * max(multiples), words=200, step=40)
    print(f"\npeak heap per task (tracemalloc, numpy included), shards of {shard_docs:,} docs, 4 shards "
          "per partition:")
    print("| corpus docs | shards | signatures | buckets | edges | components | clusters | removal |")
    print("|---|---|---|---|---|---|---|---|")
    for k in multiples:
        peaks: dict[str, int] = {}
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            inputs = _corpus(root, base[:shard_docs * k], shard_docs)
            stage.run(_context(root, _PeakHeapExecutor(peaks)), inputs)
        cols = [f"{peaks.get(n, 0) / 1e6:.1f} MB" for n in
                ("signatures", "buckets", "edges", "cc", "clusters", "removal")]
        print(f"| {shard_docs * k:,} | {len(inputs)} | " + " | ".join(cols) + " |")


def bench_e2e(docs_count: int, shard_docs: int, reps: int) -> None:
    import ray

    import pipeline.stages.dedup as stage
    from pipeline.executors import RayExecutor

    docs = windows(docs_count, words=200, step=40)
    mb = sum(len(d.encode()) for d in docs) / 1e6
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    print(f"\nend to end (real Ray, all dedup steps), {docs_count:,} docs ({mb:.0f} MB) in shards of "
          f"{shard_docs:,}, medians of {reps}:")
    print("| workers | seconds | docs/s | MB/s |\n|---|---|---|---|")
    for workers in (1, 2):
        times = []
        for _ in range(reps):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                inputs = _corpus(root, docs, shard_docs)
                t = time.perf_counter()
                stage.run(_context(root, RayExecutor(max_in_flight=workers, max_retries=0)), inputs)
                times.append(time.perf_counter() - t)
        t = statistics.median(times)
        print(f"| {workers} | {t:.1f} | {docs_count / t:,.0f} | {mb / t:.2f} |")
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", choices=["signatures", "lsh", "memory", "e2e"], default=None)
    parser.add_argument("--lsh-signatures", type=int, default=100_000)
    args = parser.parse_args()
    if args.only in (None, "signatures"):
        bench_signatures(documents(), args.reps)
    if args.only in (None, "lsh"):
        bench_lsh(args.lsh_signatures, args.reps, words=120, step=15)  # most documents near duplicates
        bench_lsh(args.lsh_signatures, args.reps, words=30, step=13)  # few near duplicates
    if args.only in (None, "memory"):
        bench_memory(2_000, [1, 4, 16])
    if args.only == "e2e":
        bench_e2e(40_000, 5_000, args.reps)


if __name__ == "__main__":
    main()
