"""The fused filter stage of zhwiki (or enwiki) run again and again in one process, for ``perf record``
(issue 13, branch zhjieba48).

Usage, from the repository root::

    taskset -c 0 perf record -e cpu-clock -F 10000 -o zh.data python bench/jieba_stage_profile.py [--repo PATH] [--lang zh] [--times 250]
    perf report -i zh.data --no-children --sort sym -F sample,sym

Each run is ``run_fused`` of the shard ``bench/multilingual_stage.py`` builds (its ``Shards``), the vocabulary
emptied first (``words.clear_cache()``: a worker's first shard). Why: on the shared core the stage's CPU time
drifts by more than a change to one kernel moves it, while the samples of one kernel *relative to another in
the same process* (``cut_block`` against ``token_ids`` or ``ZSTD_compressBlock_fast``, code the change does not
touch) do not drift with the machine. ``--repo`` runs another checkout's ``pipeline`` and ``bench``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--times", type=int, default=250)
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path[:0] = [str(repo), str(repo / "bench")]
    import multilingual_bench as mb
    import multilingual_stage as ms

    from pipeline.filters import words
    from pipeline.filters.chain import resolve

    name = ms.FILES[args.lang]
    rows = [d.to_row(name) for d in mb.documents(name)]
    with tempfile.TemporaryDirectory() as tmp:
        task = ms.Shards(Path(tmp), resolve("wikipedia", {}, None)).task(name, rows)
        for _ in range(args.times):
            words.clear_cache()
            ms.run_fused(task)


if __name__ == "__main__":
    main()
