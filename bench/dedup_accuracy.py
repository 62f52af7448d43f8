"""Dedup accuracy on a labelled set built from real documents: edited copies and unrelated pairs.

Each real document (3 consecutive paragraphs from ../shared/data books and Wikipedia) gets at most one
copy, edited in one controlled way: 1-50 % of its words inserted, deleted or substituted, its paragraphs
reordered, or boilerplate added. Labelled pairs are (document, its copy) plus random unrelated document
pairs; their true Jaccard over 5-gram sets of normalised words is computed exactly with Python sets. A pair
is a predicted duplicate when both documents land in one cluster of our dedup stage (run on real Ray, with
and without verification), or when datasketch's MinHashLSH returns it as a candidate for the same
signatures and bands. Positives: true Jaccard >= 0.85 (the goal's cut).

    .venv/bin/python bench/dedup_accuracy.py
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import documents  # noqa: E402

from pipeline.dedup.normalize import normalize_text  # noqa: E402
from pipeline.dedup.shingles import shingles_of  # noqa: E402

CUT = 0.85
BOILERPLATE = ("Accept all cookies We use cookies to improve your experience Home About Contact Privacy "
               "policy Terms of use Subscribe to our newsletter Share on Facebook Share on Twitter Copyright "
               "all rights reserved")
EDITS = [(kind, rate) for kind in ("insert", "delete", "substitute")
         for rate in (0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)] + [("reorder", 0), ("boilerplate", 1),
                                                                      ("boilerplate", 3)]


def edit(text: str, kind: str, rate: float, rng: random.Random, vocabulary: list[str]) -> str:
    if kind == "reorder":
        paras = text.split("\n")
        rng.shuffle(paras)
        return "\n".join(paras)
    if kind == "boilerplate":
        return "\n".join([BOILERPLATE] * int(rate) + [text])
    words = text.split()
    count = max(1, round(len(words) * rate))
    for _ in range(count):
        i = rng.randrange(len(words))
        if kind == "insert":
            words.insert(i, rng.choice(vocabulary))
        elif kind == "delete" and len(words) > 1:
            del words[i]
        else:
            words[i] = rng.choice(vocabulary)
    return " ".join(words)


def true_jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = set(shingles_of(normalize_text(a), n)), set(shingles_of(normalize_text(b), n))
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def labelled_set(seed: int = 0):
    rng = random.Random(seed)
    docs = documents()
    vocabulary = sorted({w for d in docs[:300] for w in d.split()})
    rng.shuffle(docs)
    half = len(docs) // 2
    originals, spares = docs[:half], docs[half:]
    texts = list(originals) + list(spares)
    labels = []  # (i, j, kind, true jaccard)
    for i, original in enumerate(originals):
        kind, rate = EDITS[i % len(EDITS)]
        texts.append(edit(original, kind, rate, rng, vocabulary))
        labels.append((i, len(texts) - 1, f"{kind} {rate:g}", true_jaccard(original, texts[-1])))
    for _ in range(len(originals)):
        i, j = rng.sample(range(len(originals) + len(spares)), 2)
        labels.append((i, j, "unrelated", true_jaccard(texts[i], texts[j])))
    return texts, labels


def run_ours(texts: list[str], verify: bool) -> dict[int, int]:
    """Cluster of every document index (only duplicates listed), via the real stage on Ray."""
    from types import SimpleNamespace

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.documents import DOC_SCHEMA, doc_id
    from pipeline.executors import RayExecutor
    from pipeline.stage import RunContext
    from pipeline.stages.dedup import Options, run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ids = [doc_id("web", str(i)) for i in range(len(texts))]
        inputs = []
        for s in range(0, len(texts), 1000):
            rows = [{"id": ids[i], "source": "web", "url": None, "title": None, "text": texts[i], "meta": None}
                    for i in range(s, min(s + 1000, len(texts)))]
            rel = f"docs/web/{s // 1000:04d}.parquet"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=DOC_SCHEMA), root / rel)
            inputs.append(rel)
        manifest = SimpleNamespace(run_dir=root, sources=[SimpleNamespace(name="web")],
                                   stages=SimpleNamespace(dedup=Options(verify=verify, verify_threshold=CUT)),
                                   run=SimpleNamespace(seed=0))
        run(RunContext(manifest, RayExecutor(max_retries=0)), inputs)
        index = {d: i for i, d in enumerate(ids)}
        cluster: dict[int, int] = {}
        for path in (root / "removed").rglob("*.parquet"):
            for row in pq.read_table(path, columns=["id", "kept_id"]).to_pylist():
                cluster[index[row["id"]]] = index[row["kept_id"]]
                cluster[index[row["kept_id"]]] = index[row["kept_id"]]
        return cluster


def run_datasketch(texts: list[str]) -> set[tuple[int, int]]:
    from datasketch import LeanMinHash, MinHashLSH

    from pipeline.dedup.minhash import MinHashParams, sketch_texts

    sigs = sketch_texts(texts, MinHashParams(num_perm=112, seed=1, hash_bits=64, ngram=5)).signatures
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    lean = [LeanMinHash(seed=1, hashvalues=s, scheme="legacy") for s in sigs]
    for i, m in enumerate(lean):
        lsh.insert(i, m, check_duplication=False)
    pairs = set()
    for i, m in enumerate(lean):
        pairs.update((min(i, j), max(i, j)) for j in lsh.query(m) if j != i)
    return pairs


def score(labels, predicted) -> tuple[float, float, int, int]:
    tp = sum(1 for i, j, _, jac in labels if jac >= CUT and predicted(i, j))
    pos = sum(1 for *_, jac in labels if jac >= CUT)
    pred = sum(1 for i, j, _, _ in labels if predicted(i, j))
    return tp / max(pos, 1), tp / max(pred, 1), pos, pred


def main() -> None:
    import ray

    texts, labels = labelled_set()
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    ours = run_ours(texts, verify=False)
    ours_v = run_ours(texts, verify=True)
    ray.shutdown()
    ds = run_datasketch(texts)

    def same(cluster):
        return lambda i, j: i in cluster and cluster.get(i) == cluster.get(j)

    methods = {"ours (FineWeb 14x8, no verification)": same(ours),
               f"ours + verification (Jaccard >= {CUT})": same(ours_v),
               "datasketch MinHashLSH (14x8, same signatures)": lambda i, j: (min(i, j), max(i, j)) in ds}
    print(f"{len(texts):,} documents, {len(labels):,} labelled pairs "
          f"({sum(1 for *_, j in labels if j >= CUT)} with true Jaccard >= {CUT})\n")
    print("| method | recall (J >= 0.85) | precision | predicted pairs |\n|---|---|---|---|")
    for name, fn in methods.items():
        recall, precision, pos, pred = score(labels, fn)
        print(f"| {name} | {recall:.3f} | {precision:.3f} | {pred} |")
    print("\nby edit (mean true Jaccard; share of pairs found: ours / ours+verify / datasketch):")
    print("| edit | pairs | mean J | ours | +verify | datasketch |\n|---|---|---|---|---|---|")
    groups = defaultdict(list)
    for lab in labels:
        groups[lab[2]].append(lab)
    for kind, items in groups.items():
        rates = [np.mean([fn(i, j) for i, j, *_ in items]) for fn in methods.values()]
        print(f"| {kind} | {len(items)} | {np.mean([x[3] for x in items]):.3f} | "
              + " | ".join(f"{r:.2f}" for r in rates) + " |")


if __name__ == "__main__":
    main()
