"""Where the filter stage's CPU time goes per character on Chinese and English (issue 13), part by part.

Usage: ``python bench/filter_stage_parts.py [REPO] [--reps 20]`` (REPO: the checkout whose code runs,
default this one). The shards are bench/multilingual_stage.py's ``--equal-size`` ones (zhwiki's 23
articles, enwiki's first articles up to as many characters) and the chain the wikipedia kind's default.
Each part of ``run_signals`` and ``run_decisions`` is timed alone on the same shard (``process_time``,
median of ``--reps``), then both steps whole: Parquet reads and writes (``write_parquet``: encode, file
write, fsync), the UTF-8 -> str conversion of the texts and back, each filter's signals (the kernels, a
cold vocabulary; their CPU time split as compute_signals' wall-clock seconds split), the decisions, the kept-text rewrite and the statistics. A part of main's decision path
that a checkout skips still shows (it is timed directly); the steps' own figures show what they run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("repo", nargs="?", type=Path, default=Path(__file__).resolve().parents[1])
parser.add_argument("--reps", type=int, default=20)
args = parser.parse_args()
sys.path.insert(0, str(args.repo.resolve()))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

import multilingual_bench as mb  # noqa: E402
from contracts.corpus_stats import record_table  # noqa: E402
from pipeline.documents import DOC_SCHEMA, write_parquet  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.base import analysis_languages, compute_signals, decide, rewrite_kept  # noqa: E402
from pipeline.filters.chain import build, resolve  # noqa: E402
from pipeline.stages.filter import (KEPT_SCHEMA, ShardTask, _read, declared_languages, run_decisions,  # noqa: E402
                                    run_signals)


def timed(fn, reps: int) -> float:
    runs = []
    for _ in range(reps):
        started = time.process_time()
        fn()
        runs.append(time.process_time() - started)
    return statistics.median(runs)


def parts(run_dir: Path, task: ShardTask, spec, reps: int) -> dict[str, float]:
    chain, out = build(spec), {}
    docs = _read(run_dir, task.shard, ["id", "text", "url", "meta"])
    signals = _read(run_dir, task.signals)
    texts, urls, declared = docs["text"].to_pylist(), docs["url"].to_pylist(), declared_languages(docs)
    out["signals: read the shard (4 columns)"] = timed(lambda: _read(run_dir, task.shard, ["id", "text", "url", "meta"]), reps)
    out["signals: texts to str (to_pylist)"] = timed(lambda: docs["text"].to_pylist(), reps)
    seconds: Counter = Counter()

    def measure():
        words.clear_cache()
        compute_signals(chain, texts, urls, 1_000_000, seconds, declared)
    measure()
    seconds.clear()
    total = timed(measure, reps)  # CPU time; each filter's share from compute_signals' wall-clock split
    for name, s in seconds.items():
        out[f"signals: kernel {name}"] = total * s / sum(seconds.values())
    out["signals: write the signals"] = timed(lambda: write_parquet(run_dir / "x.parquet", signals), reps)
    out["decisions: read the shard"] = timed(lambda: _read(run_dir, task.shard), reps)
    out["decisions: read the signals"] = timed(lambda: _read(run_dir, task.signals), reps)
    out["decisions: decide"] = timed(lambda: decide(chain, signals, 1_000_000, declared), reps)
    kept = decide(chain, signals, 1_000_000, declared).kept
    full = _read(run_dir, task.shard).select(DOC_SCHEMA.names).cast(DOC_SCHEMA)
    kept_docs = full.filter(pa.array(kept))
    kept_texts = kept_docs["text"].to_pylist()
    languages = [lang for lang, k in zip(analysis_languages(signals["language"].to_pylist(), declared, len(kept)), kept) if k]
    out["decisions: kept texts to str (to_pylist)"] = timed(lambda: kept_docs["text"].to_pylist(), reps)
    out["decisions: rewrite_kept (PII) of every kept text"] = timed(
        lambda: rewrite_kept(chain, kept_texts, Counter(), "s", languages), reps)
    out["decisions: kept texts back to Arrow (pa.array)"] = timed(lambda: pa.array(kept_texts, pa.string()), reps)
    mask = pa.array(kept)
    kept_table = pa.Table.from_arrays(kept_docs.columns + [pc.filter(signals[c], mask) for c in
                                                           ("language", "language_score", "script")], schema=KEPT_SCHEMA)
    out["decisions: statistics (record_table)"] = timed(lambda: record_table(Counter(), kept_table, "out"), reps)
    out["decisions: write the kept documents"] = timed(lambda: write_parquet(run_dir / "y.parquet", kept_table), reps)
    ledger = _read(run_dir, task.removed)
    out["decisions: write the removal ledger"] = timed(
        lambda: write_parquet(run_dir / "z.parquet", ledger), reps)

    def signal_step():
        words.clear_cache()
        run_signals(task)
    out["run_signals (the step, cold vocabulary)"] = timed(signal_step, reps)
    out["run_decisions (the step)"] = timed(lambda: run_decisions(task), reps)
    return out


def main() -> None:
    spec = resolve("wikipedia", {}, None)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir, n_chars, figures = Path(tmp), {}, {}
        for lang, name in (("zh", "zhwiki"), ("en", "enwiki")):
            rows = [d.to_row(name) for d in mb.documents(name)]
            if lang == "en":
                ends = [sum(len(r["text"]) for r in rows[:i + 1]) for i in range(len(rows))]
                rows = rows[:next((i + 1 for i, end in enumerate(ends) if end >= n_chars["zh"]), len(rows))]
            write_parquet(run_dir / "extracted" / name / "0.parquet", pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
            n_chars[lang] = sum(len(r["text"]) for r in rows)
            task = ShardTask(str(run_dir), name, f"extracted/{name}/0.parquet", spec, 1_000_000,
                             f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet", f"removed/{name}/0.parquet")
            run_signals(task)
            run_decisions(task)
            figures[lang] = parts(run_dir, task, spec, args.reps)
    print(f"{args.repo}: CPU us per character, median of {args.reps} (zhwiki {n_chars['zh']:,} chars, "
          f"enwiki {n_chars['en']:,})")
    print("| part | zh | en | zh - en |\n|---|---|---|---|")
    for key in figures["zh"]:
        zh, en = (figures[lang].get(key, float("nan")) / n_chars[lang] * 1e6 for lang in ("zh", "en"))
        print(f"| {key} | {zh:.4f} | {en:.4f} | {zh - en:+.4f} |")


if __name__ == "__main__":
    main()
