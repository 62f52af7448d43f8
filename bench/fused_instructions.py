"""Instructions per character of the fused filter task (``run_fused``) on the bench's zhwiki and enwiki shards,
counted by callgrind (issue 13).

    python bench/fused_instructions.py [--repo CHECKOUT]   # needs valgrind; ~6 minutes on one core

Why: CPU time per character on the shared cores moved by 10-30 % between processes, more than a change worth
a few per cent (``multilingual_stage.py``'s zh / en ratio read 0.85-1.12 on one checkout); instruction counts
do not depend on the load. The shards are ``multilingual_stage.py --exact-size``'s (the same 162,910
characters in both languages), written once; each language's figure is the difference of two callgrind runs
of one child process, ``run_fused`` 3 times against once (vocabulary emptied before each, LID's token cache
kept as in a worker), so imports, the model and jieba's dictionary cancel out: two warm shards' instructions.
Besides the whole task, the LID kernel's functions (``pipeline/filters/_lid.c``) are summed from the same
runs. ``--repo`` measures another checkout (its ``pipeline``) on this checkout's shards.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"zh": "zhwiki", "en": "enwiki"}
LID_FUNCTIONS = re.compile(r"_lid\.c:(token_ids|cjk_ids_avx2|Model_predict|add_rows|predict_line)\b")


def child(repo: str, shards: str, lang: str, runs: int) -> None:
    sys.path[:0] = [repo, repo + "/bench"]
    from pipeline.filters import words
    from pipeline.filters.chain import resolve
    from pipeline.stages.filter import ShardTask, run_fused

    name = NAMES[lang]
    task = ShardTask(shards, name, f"extracted/{name}/0.parquet", resolve("wikipedia", {}, None), 1_000_000,
                     f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet", f"removed/{name}/0.parquet")
    for _ in range(runs):
        words.clear_cache()
        run_fused(task)


def prepare(shards: Path) -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import multilingual_bench as mb
    import multilingual_stage as ms

    from pipeline.filters.chain import resolve

    rows = {lang: [d.to_row(name) for d in mb.documents(name)] for lang, name in NAMES.items()}
    chars = sum(len(r["text"]) for r in rows["zh"])
    rows["en"] = ms.cut(rows["en"], 0, chars)
    out = ms.Shards(shards, resolve("wikipedia", {}, None))
    for lang, name in NAMES.items():
        out.task(name, rows[lang])
    return chars


def counted(repo: str, shards: Path, lang: str, runs: int, out: Path) -> tuple[int, int]:
    """(all instructions, LID's) of one child process under callgrind."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                    "--child", repo, str(shards), lang, str(runs)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1))  # type: ignore[union-attr]
    report = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    lid = sum(int(line.split()[0].replace(",", "")) for line in report.splitlines()
              if LID_FUNCTIONS.search(line) and "=>" not in line and line.strip()[:1].isdigit())
    return total, lid


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=str(ROOT), help="checkout whose pipeline is measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shards = Path(tmp) / "run"
        chars = prepare(shards)
        figures = {}
        for lang in NAMES:
            (t1, l1), (t3, l3) = (counted(args.repo, shards, lang, n, Path(tmp) / f"{lang}{n}.out") for n in (1, 3))
            figures[lang] = ((t3 - t1) / 2 / chars, (l3 - l1) / 2 / chars)
    print(f"run_fused, instructions per character of a warm shard ({chars:,} characters; {args.repo}):")
    print("| | zh | en | zh / en |")
    print("|---|---|---|---|")
    for i, what in enumerate(("whole task", "LID (_lid.c)")):
        zh, en = figures["zh"][i], figures["en"][i]
        print(f"| {what} | {zh:.1f} | {en:.1f} | {zh / en:.3f} |")


if __name__ == "__main__":
    main()
