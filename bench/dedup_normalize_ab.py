"""Dedup normalisation, current against a commit, on every document of the shared corpora: same bytes? speed?

Documents: every document the project's readers give for ../shared/data's books, Wikipedia dumps and web
archives (WARC/ARC/WET: the crawl stage's extraction), as the dedup stage sees them. For each, the sha256 of
its normalised bytes (``normalize_batch`` in 1 MiB batches, as ``sketch_texts`` cuts them) under the current
code and under ``pipeline/dedup/normalize.py`` at ``--before`` (loaded from git into a module of its own).
Documents without a character of ``normalize.CLUSTER_SCRIPTS`` must be byte-identical; the others are
listed. Speed: normalisation alone, and normalisation + shingle hashes + FineWeb signatures, both versions
interleaved in one process (rep by rep, so drift hits both), median seconds over ``--reps``.

    taskset -c 0 .venv/bin/python bench/dedup_normalize_ab.py [--before REV] [--reps 7]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from dedup_accuracy_scripts import BEFORE, load_before  # noqa: E402

from contracts.accounting import Tally  # noqa: E402
from pipeline.dedup import normalize as current  # noqa: E402
from pipeline.dedup.lsh_params import PRESETS  # noqa: E402
from pipeline.dedup.minhash import MinHashParams, signatures_of_hashes  # noqa: E402
from pipeline.dedup.shingles import shingle_hashes  # noqa: E402
from pipeline.readers import get_reader, reader_module  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BATCH_BYTES = 1 << 20


def shared_documents() -> list[tuple[str, str]]:
    """(file, text) of every document of the shared books, wiki and web files, through the readers."""
    out = []
    files = ([("books", p) for p in sorted((SHARED / "books").glob("*.txt"))]
             + [("wikipedia", p) for p in sorted((SHARED / "wiki").iterdir())]
             + [("commoncrawl", p) for p in sorted((SHARED / "web").iterdir())
                if ".warc" in p.name or ".arc" in p.name])
    for kind, path in files:
        reader, options = get_reader(kind), reader_module(kind).Options()
        for split in reader.plan(str(path), path.stat().st_size, options):
            out += [(path.name, doc.text) for doc in reader.read(split, options, Tally())]
    return out


def batches(texts: list[str]) -> list[list[str]]:
    out, batch, size = [], [], 0
    for t in texts:
        batch.append(t)
        size += len(t)
        if size >= BATCH_BYTES:
            out.append(batch)
            batch, size = [], 0
    return out + ([batch] if batch else [])


def digests(module, parts: list[list[str]]) -> list[str]:
    out = []
    for batch in parts:
        b = module.normalize_batch(batch)
        out += [hashlib.sha256(b.doc_bytes(d)).hexdigest() for d in range(b.num_docs)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    before = load_before(args.before)
    docs = shared_documents()
    texts = [t for _, t in docs]
    parts = batches(texts)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    old, new = digests(before, parts), digests(current, parts)
    touched = [i for i, t in enumerate(texts) if any(current.in_cluster_script(ch) for ch in t)]
    differ = [i for i in range(len(texts)) if old[i] != new[i]]
    print(f"{len(texts)} documents, {mb:.1f} MB, from {len({f for f, _ in docs})} files")
    print(f"normalised bytes differ: {len(differ)} documents; documents with a cluster-script character: "
          f"{len(touched)}; differing without one: {len(set(differ) - set(touched))}")
    for i in touched:
        chars = sum(current.in_cluster_script(ch) for ch in texts[i])
        print(f"  {docs[i][0]} #{i}: {chars} cluster-script characters of {len(texts[i]):,}, "
              f"{'changed' if i in differ else 'unchanged'}")
    params = MinHashParams(num_perm=PRESETS["fineweb"].num_perm, ngram=PRESETS["fineweb"].ngram)

    def normalise(module):
        for batch in parts:
            module.normalize_batch(batch)

    def sketch(module):
        for batch in parts:
            hashes, offsets = shingle_hashes(module.normalize_batch(batch), params.ngram)
            signatures_of_hashes(hashes, offsets, params)

    for name, fn in (("normalise", normalise), ("normalise + shingle + signatures", sketch)):
        times: dict[str, list[float]] = {"before": [], "current": []}
        fn(before), fn(current)  # warm: code-point tables, permutations
        for _ in range(args.reps):
            for label, module in (("before", before), ("current", current)):
                gc.collect()
                t0 = time.perf_counter()
                fn(module)
                times[label].append(time.perf_counter() - t0)
        b, c = statistics.median(times["before"]), statistics.median(times["current"])
        spread = {k: (max(v) - min(v)) / statistics.median(v) for k, v in times.items()}
        print(f"{name}: before {b:.3f} s ({mb / b:.1f} MB/s), current {c:.3f} s ({mb / c:.1f} MB/s), "
              f"current/before {c / b:.3f}; spread (max-min)/median before {spread['before']:.1%}, "
              f"current {spread['current']:.1%}")


if __name__ == "__main__":
    main()
