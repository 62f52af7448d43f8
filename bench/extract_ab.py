"""Old extractor vs new in one process: byte-identical output on every page of the shared extraction sets,
and the CPU-time ratio (medians of runs that alternate old and new, so both see the same load).

The old one is ``pipeline/extract/html.py`` at a git revision (``--old``, default HEAD~1), loaded as its own
module; the new one is the working tree's. Speed work on the extractor must not change its output: every
page that differs is listed with both texts' lengths and whether the full-page fallback produced them.

Usage: .venv/bin/python bench/extract_ab.py [--old REV] [--reps 5] [--sets articles,cleanportaleval]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import extract_bench  # noqa: E402
from pipeline.extract import html as new  # noqa: E402


def module_at(rev: str, folder: Path) -> ModuleType:
    """``pipeline/extract/html.py`` as it was at ``rev``, imported under its own name."""
    source = subprocess.run(["git", "show", f"{rev}:pipeline/extract/html.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    path = folder / "html_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("html_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["html_old"] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    if getattr(module, "_compiled_lines", None) is not None:
        try:  # the working tree's compiled _lines may take other arguments than the old revision passes it
            module._trimmed_text("a line", False)
        except TypeError as exc:
            print(f"{rev}'s html.py does not fit the built pipeline.extract._lines ({exc}): the old extractor runs its "
                  "Python line path (the same texts by that revision's tests; its times are not comparable)",
                  file=sys.stderr)
            module._compiled_lines = None
    return module


def fields(extraction: object) -> tuple[str, bool]:
    """What an extraction holds (the two modules' ``Extraction`` classes are distinct, so never equal)."""
    return extraction.text, extraction.fallback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", default="HEAD~1", help="git revision of the old extractor")
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each extractor per set (median)")
    parser.add_argument("--sets", default=",".join(extract_bench.SETS))
    args = parser.parse_args()
    chosen = [s for s in args.sets.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        old = module_at(args.old, Path(tmp))
        sets = {}
        if "articles" in chosen:
            sets["articles"] = extract_bench.load_articles()[0]
        if set(chosen) & set(extract_bench.CLEANING_SETS):
            cleaning, _ = extract_bench.load_cleaning_sets()
            sets.update({k: v[0] for k, v in cleaning.items() if k in chosen})
        print(f"old: pipeline/extract/html.py at {args.old}; new: working tree; CPU seconds, medians of {args.reps}")
        print("| set (pages) | pages differing | old pages/s | new pages/s | new speed / old |\n|---|---|---|---|---|")
        for name, pages in sets.items():
            texts = list(pages.values())
            differ = [k for k, page in pages.items() if fields(old.extract(page)) != fields(new.extract(page))]
            times: dict[str, list[float]] = {"old": [], "new": []}
            for rep in range(args.reps):
                order = [("old", old), ("new", new)][::1 if rep % 2 == 0 else -1]
                for label, module in order:
                    start = time.process_time()
                    for page in texts:
                        module.extract(page)
                    times[label].append(time.process_time() - start)
            t_old, t_new = statistics.median(times["old"]), statistics.median(times["new"])
            print(f"| {name} ({len(texts)}) | {len(differ)} | {len(texts) / t_old:.0f} | {len(texts) / t_new:.0f} "
                  f"| {t_old / t_new:.3f} |", flush=True)
            for key in differ:
                a, b = old.extract(pages[key]), new.extract(pages[key])
                print(f"  differs: {key}: old {len(a.text)} chars (fallback {a.fallback}), "
                      f"new {len(b.text)} chars (fallback {b.fallback})")


if __name__ == "__main__":
    main()
