"""Instructions per page of an extractor under callgrind: the speed figure that load from other work does not move.

On the shared 2-core machine wall time and even CPU time swing with the load; instruction counts do not.
For each extractor two callgrind runs (``valgrind --tool=callgrind``) both extract the first page once
(warm-up: lazy imports, regex compilation), and the second then makes one pass over all the pages; the
difference of the two totals is that pass alone, without interpreter start-up, imports or warm-up. Ratios of these counts (trafilatura's per page / ours per page) stand in for the pages/s ratio; they
ignore cache misses and branch mispredictions, which callgrind does not model, so they are a steady
estimate, not a replacement for an unloaded timing run.

Extractors: ``ours`` (the working tree's pipeline.extract.html), ``ours@REV`` (that file at a git revision),
``trafilatura`` (``favor_precision=True``), ``resiliparse`` (``extract_plain_text(main_content=True)``).

Usage: .venv/bin/python bench/extract_callgrind.py [--sets articles,cleanportaleval] [--pages 40]
       [--extractors ours,trafilatura]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _inner(pages_file: str, extractor: str, passes: int, folder: str) -> None:
    """Run inside valgrind: ``passes`` passes of ``extractor`` over the pages in ``pages_file``."""
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "bench"))
    pages = json.loads(Path(pages_file).read_text())
    if extractor == "ours":
        from pipeline.extract.html import extract_text as fn
    elif extractor.startswith("ours@"):
        import importlib.util
        spec = importlib.util.spec_from_file_location("html_old", Path(folder) / "html_old.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["html_old"] = module
        spec.loader.exec_module(module)
        fn = module.extract_text
    elif extractor == "trafilatura":
        import trafilatura

        def fn(h: str) -> str:
            return trafilatura.extract(h, favor_precision=True) or ""
    elif extractor == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        def fn(h: str) -> str:
            return extract_plain_text(h, main_content=True)
    else:
        raise SystemExit(f"unknown extractor {extractor!r}: ours, ours@REV, trafilatura or resiliparse")
    fn(pages[0])
    for _ in range(passes):
        for page in pages:
            fn(page)


def _count(pages_file: str, extractor: str, passes: int, folder: str) -> int:
    out = Path(folder) / f"callgrind.{passes}.out"
    if extractor.startswith("ours@"):
        source = subprocess.run(["git", "show", f"{extractor.split('@', 1)[1]}:pipeline/extract/html.py"], cwd=REPO,
                                check=True, capture_output=True, text=True).stdout
        (Path(folder) / "html_old.py").write_text(source)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, "--inner",
         pages_file, extractor, str(passes), folder], capture_output=True, text=True, cwd=REPO)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"callgrind run of {extractor} ({passes} passes) failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        _inner(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="articles,cleanportaleval")
    parser.add_argument("--pages", type=int, default=40, help="first N pages of each set")
    parser.add_argument("--extractors", default="ours,trafilatura")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    import extract_bench

    chosen = [s for s in args.sets.split(",") if s]
    sets: dict[str, dict[str, str]] = {}
    if "articles" in chosen:
        sets["articles"] = extract_bench.load_articles()[0]
    if set(chosen) & set(extract_bench.CLEANING_SETS):
        cleaning, _ = extract_bench.load_cleaning_sets()
        sets.update({k: v[0] for k, v in cleaning.items() if k in chosen})
    extractors = [e for e in args.extractors.split(",") if e]
    print(f"instructions per page under callgrind (one pass = run with a pass - run without), first {args.pages} pages")
    print("| set | " + " | ".join(extractors) + " | " + " | ".join(f"{e} / {extractors[0]}" for e in extractors[1:]) + " |")
    print("|---" * (2 * len(extractors)) + "|")
    for name, pages in sets.items():
        chosen_pages = list(pages.values())[:args.pages]
        counts = []
        with tempfile.TemporaryDirectory() as folder:
            pages_file = str(Path(folder) / "pages.json")
            Path(pages_file).write_text(json.dumps(chosen_pages))
            for extractor in extractors:
                warm = _count(pages_file, extractor, 0, folder)
                one = _count(pages_file, extractor, 1, folder)
                counts.append((one - warm) / len(chosen_pages))
        print(f"| {name} ({len(chosen_pages)}) | " + " | ".join(f"{c / 1e6:.2f} M" for c in counts) + " | "
              + " | ".join(f"{c / counts[0]:.2f}x" for c in counts[1:]) + " |", flush=True)


if __name__ == "__main__":
    main()
