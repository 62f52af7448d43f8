"""Language-ID CPU per character on Chinese and English documents, compiled builds of `_lid` alternated in one
process (issue 13).

Usage: ``python bench/lid_builds_ab.py A.so B.so ... [--rounds 21] [--langs zhwiki enwiki]`` from the
repository root, pinned (``taskset -c 0``); each ``.so`` is a built ``pipeline/filters/_lid*.so`` copied aside
(e.g. main's and this checkout's).

Why: on a shared machine two processes' timings differ by more than the change; here every build predicts the
same documents in turn (the order reversed every round), each call with an empty token cache and after 8 MiB
written, so that the model's tables are out of the caches as in the stage, where jieba's dictionary and the
other filters evict them between documents. Medians of the rounds, ns per character; it also checks that every
build gives the same labels and probabilities. The documents: zhwiki's 23 articles, enwiki's first 5 (about as
many characters, as ``multilingual_stage.py --equal-size``), jawiki's first 40, dewiki's 18.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from pipeline.filters.fasttext_lid import huffman_tree, read_model  # noqa: E402
from pipeline.filters.language import bundled_model_path  # noqa: E402

LIMITS = {"zhwiki": None, "enwiki": 5, "jawiki": 40, "dewiki": None}


def load(so: str):
    spec = importlib.util.spec_from_file_location("pipeline.filters._lid", so)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--langs", nargs="+", default=["zhwiki", "enwiki"], choices=sorted(LIMITS))
    args = parser.parse_args()
    import multilingual_bench as mb

    mf = read_model(bundled_model_path())
    left, right = huffman_tree(mf.counts[mf.nwords:])
    offsets = np.zeros(len(mf.words) + 1, np.int64)
    offsets[1:] = np.cumsum([len(w) for w in mf.words])
    matrix = np.ascontiguousarray(mf.input, np.float32)
    labels = tuple(w.decode() for w in mf.words[mf.nwords:])
    assert mf.output is not None
    models = [load(so).Model(
        dim=mf.dim, nwords=mf.nwords, minn=mf.minn, maxn=mf.maxn, bucket=mf.bucket, prune_size=mf.prune_size,
        words=b"".join(mf.words), word_offsets=offsets, word_types=mf.types, prune_keys=mf.prune_keys,
        prune_values=mf.prune_values, input=matrix, output=np.ascontiguousarray(mf.output[:mf.nlabels], np.float32),
        loss=mf.loss, tree_left=left, tree_right=right, labels=labels) for so in args.builds]
    corpus = {name: [d.text for d in mb.documents(name)][:LIMITS[name]] for name in args.langs}
    times: dict[tuple[int, str], list[float]] = {(i, n): [] for i in range(len(models)) for n in corpus}
    junk = bytearray(8 << 20)
    for r in range(args.rounds):
        order = range(len(models)) if r % 2 == 0 else reversed(range(len(models)))
        for i in order:
            for name, docs in corpus.items():
                models[i].cache_clear()
                junk[::64] = bytes([r & 255]) * len(junk[::64])
                started = time.process_time()
                models[i].predict(docs, 100_000)
                times[(i, name)].append((time.process_time() - started) * 1e9 / sum(map(len, docs)))
    texts = [t for docs in corpus.values() for t in docs]
    outputs = [m.predict(texts, 100_000) for m in models]
    print(f"same labels and probabilities in every build: {all(o == outputs[0] for o in outputs)}")
    for i, so in enumerate(args.builds):
        print(so, " ".join(f"{n} {statistics.median(times[(i, n)]):.1f}" for n in corpus), "ns/char")


if __name__ == "__main__":
    main()
