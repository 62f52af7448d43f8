"""CPU time per character of the whole filter stage on Chinese and English shards (issue 13).

Usage: ``python bench/multilingual_stage.py [--runs 5] [--chain default|words] [--equal-size]`` from the
repository root.

What the stage does per shard, in this process: the zhwiki and enwiki documents (wikipedia reader), each
dump written as one Parquet shard of the extract stage's schema, then ``filter-signals``
(``pipeline.stages.filter.run_signals``: read the shard, measure the chain, write the signals) and
``filter`` (``run_decisions``: read documents and signals, decide, rewrite the kept texts, write kept
documents and the removal ledger). The chain is the wikipedia kind's default chain (``--chain default``)
or the full web word chain (``--chain words``) in the documents' declared language. CPU time
(``time.process_time``, the machine is shared), medians of ``--runs`` runs, Chinese and English alternated
within each run. A shard costs a fixed part (Parquet reads and writes, an fsync per file written, the
chain built) that is spread over its characters; zhwiki's 23 articles are 17x fewer characters than
enwiki's 98, so ``--equal-size`` also cuts the English shard to its first articles up to as many
characters as the Chinese one. The decision step runs twice: with the vocabulary the signal step left (``warm``: both
steps in one worker process, as a Ray worker that ran the shard's signal task) and with an empty one
(``cold``: a fresh worker process). The vocabulary is emptied before each signal step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline.documents import DOC_SCHEMA, write_parquet  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.chain import ChainSpec, resolve  # noqa: E402
from pipeline.stages.filter import ShardTask, run_decisions, run_signals  # noqa: E402

FILES = {"zh": "zhwiki", "en": "enwiki"}
WORD_CHAIN = {"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chain", choices=("default", "words"), default="default")
    parser.add_argument("--equal-size", action="store_true", help="English shard cut to the Chinese one's size")
    args = parser.parse_args()
    import multilingual_bench as mb

    spec = resolve("wikipedia", {}, None) if args.chain == "default" else ChainSpec.model_validate(WORD_CHAIN)
    figures: dict[str, dict[str, list[float]]] = {lang: {} for lang in FILES}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        tasks, n_chars = {}, {}
        for lang, name in FILES.items():
            rows = [d.to_row(name) for d in mb.documents(name)]
            if args.equal_size and lang == "en":  # the first articles up to the Chinese shard's characters
                ends = [sum(len(r["text"]) for r in rows[:i + 1]) for i in range(len(rows))]
                rows = rows[:next((i + 1 for i, end in enumerate(ends) if end >= n_chars["zh"]), len(rows))]
            write_parquet(run_dir / "extracted" / name / "0.parquet", pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
            n_chars[lang] = sum(len(r["text"]) for r in rows)
            tasks[lang] = ShardTask(str(run_dir), name, f"extracted/{name}/0.parquet", spec, 1_000_000,
                                    f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet",
                                    f"removed/{name}/0.parquet")
        for _ in range(args.runs):
            for lang, task in tasks.items():
                words.clear_cache()
                started = time.process_time()
                run_signals(task)
                signals = time.process_time() - started
                started = time.process_time()
                run_decisions(task)
                warm = time.process_time() - started
                words.clear_cache()
                started = time.process_time()
                run_decisions(task)
                cold = time.process_time() - started
                for key, seconds in (("signals", signals), ("decisions warm", warm), ("decisions cold", cold),
                                     ("stage warm", signals + warm), ("stage cold", signals + cold)):
                    figures[lang].setdefault(key, []).append(seconds / n_chars[lang] * 1e6)
    print(f"filter stage, {args.chain} chain, CPU us per character, median of {args.runs} "
          f"(zhwiki {n_chars['zh']:,} chars, enwiki {n_chars['en']:,}{' (its first articles)' if args.equal_size else ''}):")
    print("| step | zh | en | zh / en |")
    print("|---|---|---|---|")
    for key in figures["zh"]:
        zh, en = (statistics.median(figures[lang][key]) for lang in FILES)
        print(f"| {key} | {zh:.3f} | {en:.3f} | {zh / en:.2f} |")


if __name__ == "__main__":
    main()
