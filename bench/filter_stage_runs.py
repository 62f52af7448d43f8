"""The filter stage's two steps alone on one equal-size shard, for profilers and instruction counts (issue 13).

Usage, from the checkout to measure (its ``pipeline`` is imported from the working directory):

    python bench/filter_stage_runs.py prep DIR            # zhwiki's shard and enwiki's first articles as big
    python bench/filter_stage_runs.py run DIR zh|en RUNS  # filter-signals + filter RUNS times, CPU us/char

Why: ``multilingual_stage.py`` reads and parses the wiki dumps in the same process, which dominates a profile
or a callgrind count of it; here the shards are written once, and ``run`` does only what the stage does per
shard (the vocabulary emptied before each run, as there). Instructions per character of a run: a process with
RUNS = 3 minus one with RUNS = 1, over 2 runs (the first run also loads jieba's dictionary and the model).
Give each ``run`` process its own copy of DIR: the steps write their outputs there.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "bench")]

import pyarrow as pa  # noqa: E402

from pipeline.documents import DOC_SCHEMA, write_parquet  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.chain import resolve  # noqa: E402
from pipeline.stages.filter import ShardTask, run_decisions, run_signals  # noqa: E402

FILES = {"zh": "zhwiki", "en": "enwiki"}


def prep(folder: Path) -> None:
    import multilingual_bench as mb

    n_chars: dict[str, int] = {}
    for lang, name in FILES.items():
        rows = [d.to_row(name) for d in mb.documents(name)]
        if lang == "en":  # the first articles up to the Chinese shard's characters (--equal-size)
            ends = [sum(len(r["text"]) for r in rows[:i + 1]) for i in range(len(rows))]
            rows = rows[:next((i + 1 for i, end in enumerate(ends) if end >= n_chars["zh"]), len(rows))]
        n_chars[lang] = sum(len(r["text"]) for r in rows)
        write_parquet(folder / "extracted" / name / "0.parquet", pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
    (folder / "n.txt").write_text(f"{n_chars['zh']} {n_chars['en']}")


def run(folder: Path, lang: str, runs: int) -> None:
    n_zh, n_en = map(int, (folder / "n.txt").read_text().split())
    name = FILES[lang]
    task = ShardTask(str(folder), name, f"extracted/{name}/0.parquet", resolve("wikipedia", {}, None), 1_000_000,
                     f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet", f"removed/{name}/0.parquet")
    seconds = []
    for _ in range(runs):
        words.clear_cache()
        started = time.process_time()
        run_signals(task)
        run_decisions(task)
        seconds.append(time.process_time() - started)
    print(f"{lang} stage {statistics.median(seconds) / (n_zh if lang == 'zh' else n_en) * 1e6:.3f} us/char")


if __name__ == "__main__":
    if sys.argv[1] == "prep":
        prep(Path(sys.argv[2]))
    else:
        run(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
