"""Peak memory of the filter stage's signal step on Chinese and English, two checkouts (issue 13, zhb28).

Usage: ``python bench/multilingual_batch_memory.py A_REPO B_REPO`` from the repository root.

Why: ``words.tokenize_many`` makes a language group's tokens together (every document's chunk ids held, all
new chunks cut and interned in one call) where the lazy path made them one document at a time; a Doc keeps its
tokens for the batch either way, so the peak should not grow much. Each corpus runs in a fresh process per
checkout: the word chain (Gopher repetition, Gopher quality, C4, FineWeb) built and warmed, the vocabulary
emptied, then ``compute_signals`` over the stage's batches (``signal_batches`` of ``SIGNAL_BATCH_CHARS``), as
``pipeline.stages.filter._measure`` runs them. Reported: tracemalloc's peak over the measured part (Python
objects, numpy arrays and bytes; not the compiled tables' own malloc) and the process's peak RSS above its
RSS before the measured part (``ru_maxrss``: everything, but only where it exceeds the import-time peak).
Corpora: zhwiki; every Chinese document of ``bench/multilingual_agreement.py`` (zhwiki, the WARCs' Chinese
pages, Hongloumeng's chapters: batches of a full megacharacter); enwiki.
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
import json, resource, sys, tracemalloc
sys.path.insert(0, ".")
texts, lang = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
import numpy as np
from pipeline.filters import words
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import ChainSpec, build
from pipeline.stages.filter import SIGNAL_BATCH_CHARS, signal_batches
chain = build(ChainSpec.model_validate({"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}))
compute_signals(chain, ["我们在北京大学学习数学。\n再来一行。", "The quick brown fox.\nA line."], [None] * 2, 10**9,
                None, ["zh", "en"])
words.clear_cache()
def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
before = rss_kib()
tracemalloc.start()
lengths = np.array([len(t) for t in texts])
for part in signal_batches(lengths, SIGNAL_BATCH_CHARS):
    batch = texts[part.start:part.stop]
    compute_signals(chain, batch, [None] * len(batch), 1_000_000, None, [lang] * len(batch))
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"traced_peak_mib": peak / 2**20,
                  "rss_peak_over_start_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
                  "chars": int(lengths.sum()), "batches": sum(1 for _ in signal_batches(lengths, SIGNAL_BATCH_CHARS))}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import multilingual_agreement as ma
    import multilingual_bench as mb

    corpora = {"zhwiki": ("zh", [d.text for d in mb.documents("zhwiki")]),
               "zh-all": ("zh", [d["text"] for d in ma.documents("zh")]),
               "enwiki": ("en", [d.text for d in mb.documents("enwiki")])}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (lang, texts) in corpora.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(texts), encoding="utf-8")
            for arm, repo in (("A", args.a), ("B", args.b)):
                done = subprocess.run([sys.executable, "-c", CHILD, str(path), lang], cwd=repo.resolve(),
                                      check=True, capture_output=True, text=True)
                r = json.loads(done.stdout.splitlines()[-1])
                print(f"{name} ({r['chars']:,} chars, {r['batches']} batches) {arm} {repo}: tracemalloc peak "
                      f"{r['traced_peak_mib']:.1f} MiB, peak RSS over start {r['rss_peak_over_start_mib']:.1f} MiB",
                      flush=True)


if __name__ == "__main__":
    main()
