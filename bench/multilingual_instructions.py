"""Instructions per character of the word filters on Chinese and English (issue 13), counted by callgrind.

Usage: ``python bench/multilingual_instructions.py [--repo PATH] [--as documents|text]`` from the
repository root (needs ``valgrind``; about 5 minutes on one core).

Why instruction counts: the project's machine is shared, and CPU time per character moved by 30 % from
one run to the next under the load of other work; callgrind counts the instructions the process executes,
which the load does not change. Each figure is the difference of two runs of one child process under
callgrind: the same setup (imports, the texts read, the chain built, rjieba's dictionary loaded by a
warm-up call, the vocabulary cleared) without and with the measured call, so imports and dictionary
loading cancel out. The measured call is ``compute_signals`` of the full word chain (Gopher repetition,
Gopher quality, C4, FineWeb) with a cold vocabulary on zhwiki (Chinese rules, jieba) and on enwiki
(English rules), either as the documents of each dump in one batch (``--as documents``, what a shard is)
or joined into one text (``--as text``, as ``bench/multilingual_bench.py`` times them).
``OPENBLAS_NUM_THREADS=1``: numpy's BLAS threads otherwise spin-wait under callgrind and add
instructions that depend on timing; ``PYTHONHASHSEED=0``: the same string hashes in both runs.
``--repo`` measures another checkout (e.g. main's) with the texts of this one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHILD = r"""
import json, sys
sys.path.insert(0, ".")
texts, lang, measure = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2], sys.argv[3] == "1"
from pipeline.filters import words
from pipeline.filters.base import compute_signals
from pipeline.filters.chain import ChainSpec, build
chain = build(ChainSpec.model_validate({"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}))
warm = {"zh": "我们在北京大学学习数学。第二行也有几个词。\n再来一行，数学是研究数量的学科。",
        "en": "The quick brown fox jumps over the lazy dog.\nA second line, with words."}[lang]
compute_signals(chain, [warm], [None], 10**9, None, [lang])  # loads rjieba's dictionary, fills caches
words.clear_cache()
if measure:
    compute_signals(chain, texts, [None] * len(texts), 10**9, None, [lang] * len(texts))
"""
FILES = {"zh": "zhwiki", "en": "enwiki"}


def instructions(repo: Path, texts_path: Path, lang: str, measure: bool) -> int:
    """Instructions callgrind counted for one child run (the whole process)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                               sys.executable, "-c", CHILD, str(texts_path), lang, "1" if measure else "0"],
                              cwd=repo, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"callgrind run of {repo} ({lang}, measure={measure}) failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose filters are measured")
    parser.add_argument("--as", dest="shape", choices=("documents", "text"), default="documents")
    args = parser.parse_args()
    import multilingual_bench as mb

    per_char = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in FILES.items():
            docs = [d.text for d in mb.documents(name)]
            texts = docs if args.shape == "documents" else ["\n\n".join(docs)]
            path = Path(tmp) / f"{lang}.json"
            path.write_text(json.dumps(texts), encoding="utf-8")  # ASCII escapes: lone surrogates survive
            n_chars = sum(map(len, texts))
            base, full = (instructions(args.repo.resolve(), path, lang, m) for m in (False, True))
            per_char[lang] = (full - base) / n_chars
            print(f"{name} ({len(texts)} {'documents' if len(texts) > 1 else 'text'}, {n_chars:,} chars): "
                  f"{full - base:,} instructions, {per_char[lang]:,.0f} per character", flush=True)
    print(f"Chinese / English instructions per character: {per_char['zh'] / per_char['en']:.2f}x")


if __name__ == "__main__":
    main()
