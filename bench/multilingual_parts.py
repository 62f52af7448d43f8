"""CPU time per character of each compiled function of the word filters, zh and en (issue 13).

Usage: ``python bench/multilingual_parts.py [--repo PATH] [--runs 9]`` from the repository root; pin it
(``taskset -c 0``).

Why: cachegrind's simulated misses (``bench/multilingual_misses.py``) rank where the cycles may go, but its
caches are not the machine's (no prefetchers, no overlap of misses, an L3 shared with other work), so the
ranking needs the real time of each part. Every public function of the compiled modules (``_jieba``,
``_chunks``, ``_ngrams``, ``_tokens``, ``_lines``) is replaced by a wrapper that adds its ``process_time_ns``
to a counter (the callers look them up on the module at each call); the chain of
``bench/multilingual_instructions.py`` then runs ``compute_signals`` on zhwiki's and enwiki's documents
with a cold vocabulary, ``--runs`` rounds alternating the languages, and the medians per character are
printed; "rest" is everything else (Python, numpy, the ``ChunkTable`` methods, which a type's methods do
not let us wrap). A wrapper costs ~1 us per call; the wrapped functions are called a few times per document.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import collections, json, statistics, sys, time
sys.path.insert(0, ".")
from pipeline.filters import _chunks, _jieba, _lines, _ngrams, _tokens, words
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import ChainSpec, build
acc, clock = collections.Counter(), time.process_time_ns

def wrap(mod, name):
    f, key = getattr(mod, name), f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"
    def timed(*a, **k):
        started = clock()
        try:
            return f(*a, **k)
        finally:
            acc[key] += clock() - started
    setattr(mod, name, timed)

for mod in (_chunks, _jieba, _ngrams, _tokens, _lines):
    for name in dir(mod):
        if not name.startswith("_") and callable(getattr(mod, name)) and not isinstance(getattr(mod, name), type):
            wrap(mod, name)
chain = build(ChainSpec.model_validate({"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}))
for lang, warm in (("zh", "我们在北京大学学习数学。\n再来一行，数学是研究数量的学科。"), ("en", "The quick brown fox.\nA line.")):
    compute_signals(chain, [warm], [None], 10**9, None, [lang])
corpus, runs = json.load(open(sys.argv[1], encoding="utf-8")), int(sys.argv[2])
res = {lang: collections.defaultdict(list) for lang in corpus}
for _ in range(runs):
    for lang, texts in corpus.items():
        words.clear_cache()
        acc.clear()
        started = clock()
        compute_signals(chain, texts, [None] * len(texts), 10**9, None, [lang] * len(texts))
        total, n = clock() - started, sum(map(len, texts))
        res[lang]["whole call"].append(total / n)
        for k, v in acc.items():
            res[lang][k].append(v / n)
        res[lang]["rest"].append((total - sum(acc.values())) / n)
med = {lang: {k: statistics.median(v) for k, v in r.items()} for lang, r in res.items()}
print("| ns per character | zh | en | zh - en |")
print("|---|---|---|---|")
for k in sorted(set(med["zh"]) | set(med["en"]), key=lambda k: -max(med["zh"].get(k, 0), med["en"].get(k, 0))):
    z, e = med["zh"].get(k, 0.0), med["en"].get(k, 0.0)
    if max(z, e) >= 0.5:
        print(f"| {k} | {z:.1f} | {e:.1f} | {z - e:+.1f} |")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose filters are measured")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import multilingual_bench as mb

    corpus = {lang: [d.text for d in mb.documents(name)] for lang, name in (("zh", "zhwiki"), ("en", "enwiki"))}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.json"
        path.write_text(json.dumps(corpus), encoding="utf-8")
        subprocess.run([sys.executable, "-c", CHILD, str(path), str(args.runs)], cwd=args.repo.resolve(), check=True)


if __name__ == "__main__":
    main()
