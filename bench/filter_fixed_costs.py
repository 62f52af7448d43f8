"""The filter stage's fixed costs per shard and per document, on the default wikipedia chain (issue 13).

Usage: ``python bench/filter_fixed_costs.py DIR [--runs 9] [--dump zhwiki|enwiki]`` from the checkout to
measure (its ``pipeline`` is imported from the working directory), pinned (``taskset -c 0``).

Why: zhwiki's equal-size shard has 23 documents where enwiki's has 5, and fewer characters, so a cost per
shard or per document weighs more per Chinese character. Two measurements, ``process_time`` medians:
a shard of one 300-character document (the cost per shard: Parquet reads and writes, the chain built), and
the same paragraphs of the dump's equal-size shard dealt into 5, 23 and ~115 documents (the same characters:
the difference is the cost per document). Each shape gets its own folder under DIR; the vocabulary is
emptied before each signal step, as in ``multilingual_stage.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "bench")]

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from pipeline.documents import DOC_SCHEMA, write_parquet  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.chain import resolve  # noqa: E402
from pipeline.stages.filter import ShardTask, run_decisions, run_signals  # noqa: E402

LIMITS = {"zhwiki": None, "enwiki": 5}  # --equal-size: enwiki's first 5 articles


def regroup(rows: list[dict], k: int) -> list[dict]:
    """The rows' paragraphs, in order, dealt into about ``k`` documents (each keeps its first row's fields)."""
    paras = [(r, p) for r in rows for p in r["text"].split("\n\n")]
    per = -(-len(paras) // k)
    out = []
    for i in range(0, len(paras), per):
        chunk = paras[i:i + per]
        out.append({**chunk[0][0], "text": "\n\n".join(p for _, p in chunk), "id": f"{chunk[0][0]['id']}-{i}"})
    return out


def shard_task(folder: Path, name: str, rows: list[dict]) -> ShardTask:
    write_parquet(folder / "extracted" / name / "0.parquet", pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
    return ShardTask(str(folder), name, f"extracted/{name}/0.parquet", resolve("wikipedia", {}, None), 1_000_000,
                     f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet", f"removed/{name}/0.parquet")


def timed(task: ShardTask) -> tuple[float, float]:
    words.clear_cache()
    started = time.process_time()
    run_signals(task)
    middle = time.process_time()
    run_decisions(task)
    return middle - started, time.process_time() - middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--dump", choices=sorted(LIMITS), default="zhwiki")
    args = parser.parse_args()
    import multilingual_bench as mb

    rows = [d.to_row(args.dump) for d in mb.documents(args.dump)][:LIMITS[args.dump]]
    one = shard_task(args.dir / "one", args.dump, [{**rows[0], "text": rows[0]["text"][:300]}])
    shapes = {k: shard_task(args.dir / str(k), args.dump, regroup(rows, k)) for k in (5, 23, 115)}
    times: dict[object, list[tuple[float, float]]] = {key: [] for key in ["one", *shapes]}
    for r in range(args.runs + 1):  # the first round warms up (model, dictionary)
        for key, task in [("one", one), *shapes.items()]:
            result = timed(task)
            if r:
                times[key].append(result)
    signals, decisions = (statistics.median(t[i] for t in times["one"]) * 1e3 for i in (0, 1))
    print(f"{args.dump}: one 300-character document: signals {signals:.2f} ms, decisions {decisions:.2f} ms")
    for k, task in shapes.items():
        table = pq.read_table(Path(task.run_dir) / task.shard, columns=["text"])
        n_docs, n_chars = table.num_rows, sum(map(len, table["text"].to_pylist()))
        stage = statistics.median(s + d for s, d in times[k])
        print(f"{args.dump}: {n_docs} documents, {n_chars:,} characters: stage {stage * 1e3:.2f} ms, "
              f"{stage / n_chars * 1e6:.4f} us/char")


if __name__ == "__main__":
    main()
