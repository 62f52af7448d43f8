"""CPU time per character of the word filters on Chinese and English, two checkouts alternated (issue 13).

Usage: ``python bench/multilingual_cpu_ab.py A_REPO B_REPO [--pairs 7] [--runs 9] [--as documents|text]``
from the repository root; pin it (``taskset -c 0``): both checkouts then share one core's caches and load.

Why: the machine is shared, so one timing of a checkout says little; processes of the two checkouts run in
turn (A B, then B A, ...), each on the same texts, and the medians of their medians are compared. Each
process: the chain of ``bench/multilingual_instructions.py`` (Gopher repetition, Gopher quality, C4,
FineWeb) built and warmed once (rjieba's dictionary loaded), then ``--runs`` rounds of ``compute_signals``
on zhwiki's documents (Chinese rules) and enwiki's (English rules), each with a cold vocabulary, timed with
``process_time``; it also reports the minor page faults of a round (``getrusage``), which no simulator
sees. ``--as text`` joins each dump into one text, as ``bench/multilingual_bench.py`` times them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, ".")
corpus, runs = json.load(open(sys.argv[1], encoding="utf-8")), int(sys.argv[2])
from pipeline.filters import words
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import ChainSpec, build
chain = build(ChainSpec.model_validate({"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}))
for lang, warm in (("zh", "我们在北京大学学习数学。\n再来一行，数学是研究数量的学科。"), ("en", "The quick brown fox.\nA line.")):
    compute_signals(chain, [warm], [None], 10**9, None, [lang])
out = {}
for lang in ("zh", "en"):
    out[lang], out[lang + "_faults"] = [], []
for _ in range(runs):
    for lang, texts in corpus.items():
        words.clear_cache()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        started = time.process_time()
        compute_signals(chain, texts, [None] * len(texts), 10**9, None, [lang] * len(texts))
        out[lang].append((time.process_time() - started) * 1e9 / sum(map(len, texts)))
        out[lang + "_faults"].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) * 1000 / sum(map(len, texts)))
print(json.dumps({k: statistics.median(v) for k, v in out.items()}))
"""


def child(repo: Path, corpus: Path, runs: int) -> dict[str, float]:
    """Medians of one process of ``repo``: ns per character and faults per 1,000 characters, zh and en."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(runs)], cwd=repo, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--as", dest="shape", choices=("documents", "text"), default="documents")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import multilingual_bench as mb

    corpus = {}
    for lang, name in (("zh", "zhwiki"), ("en", "enwiki")):
        docs = [d.text for d in mb.documents(name)]
        corpus[lang] = docs if args.shape == "documents" else ["\n\n".join(docs)]
    results: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.json"
        path.write_text(json.dumps(corpus), encoding="utf-8")
        for pair in range(args.pairs):
            order = ("A", "B") if pair % 2 == 0 else ("B", "A")
            for arm in order:
                r = child((args.a if arm == "A" else args.b).resolve(), path, args.runs)
                results[arm].append(r)
                print(f"pair {pair + 1} {arm}: zh {r['zh']:.1f} ns/char ({r['zh_faults']:.2f} faults/kchar), "
                      f"en {r['en']:.1f} ({r['en_faults']:.2f}), zh/en {r['zh'] / r['en']:.2f}x", flush=True)
    print(f"\nmedians of {args.pairs} processes each ({args.runs} rounds per process, as {args.shape}):")
    for arm, repo in (("A", args.a), ("B", args.b)):
        zh = statistics.median(r["zh"] for r in results[arm])
        en = statistics.median(r["en"] for r in results[arm])
        print(f"{arm} {repo}: zh {zh:.1f} ns/char, en {en:.1f}, zh/en {zh / en:.2f}x")
    wins = sum(b["zh"] < a["zh"] for a, b in zip(results["A"], results["B"]))
    print(f"pairs where B's zh is faster: {wins} of {args.pairs}")


if __name__ == "__main__":
    main()
