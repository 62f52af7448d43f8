"""WARC framing time of the commoncrawl reader against another revision of it (default: main), same run.

Why: ARC support tells the format once per split (a read of the file's first bytes); WARC records must not
pay for it. This frames every shared WARC (``_units``: gzip members or plain records, no parsing or
extraction, the part the format check touches) whole and in small byte-range splits, with both modules
alternating, and prints the medians of several runs.

    taskset -c 0 python bench/warc_framing_ab.py [--ref main] [--runs 9] [--arc]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402

WEB = REPO.parent / "shared" / "data" / "web"


def load_ref(ref: str):
    """The commoncrawl reader of ``ref`` with the reader modules it imports (pipeline/readers, one file or
    several), loaded under another package name so that both revisions run in one process."""
    git = ["git", "-C", str(REPO)]
    names = subprocess.run(git + ["ls-tree", "--name-only", ref, "pipeline/readers/"], check=True,
                           capture_output=True, text=True).stdout.split()
    modules = [Path(n).stem for n in names if n.endswith(".py") and not n.endswith("__init__.py")]
    package = Path(tempfile.mkdtemp()) / "readers_ref"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in modules:
        source = subprocess.run(git + ["show", f"{ref}:pipeline/readers/{name}.py"], check=True,
                                capture_output=True, text=True).stdout
        for other in modules:  # the revision's own reader modules, not this checkout's
            source = source.replace(f"pipeline.readers.{other} ", f"readers_ref.{other} ")
            source = source.replace(f"pipeline.readers.{other}\n", f"readers_ref.{other}\n")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("readers_ref.commoncrawl")  # (registered in sys.modules: its dataclasses)


def frame_all(module, files: list[Path], split_bytes: int) -> tuple[float, int]:
    options = module.Options(split_bytes=split_bytes)
    start, units = time.perf_counter(), 0
    for path in files:
        for split in module.plan(str(path), path.stat().st_size, options):
            units += sum(1 for _ in module._units(split, options, Tally()))
    return time.perf_counter() - start, units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref", default="main")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--arc", action="store_true", help="also ARC against WARC of the same responses")
    args = parser.parse_args()
    ref = load_ref(args.ref)
    files = sorted(p for p in WEB.iterdir() if p.name.endswith((".warc.gz", ".warc")))
    size = sum(p.stat().st_size for p in files)
    print(f"{len(files)} WARC files, {size / 1e6:.1f} MB; medians of {args.runs} runs, modules alternating")
    for split_bytes in (64 << 20, 100_000):
        times: dict[str, list[float]] = {"ref": [], "this": []}
        counts = set()
        for _ in range(args.runs):
            for name, module in (("ref", ref), ("this", commoncrawl)):
                seconds, units = frame_all(module, files, split_bytes)
                times[name].append(seconds)
                counts.add(units)
        assert len(counts) == 1, counts  # both frame the same units
        splits = sum(len(commoncrawl.plan(str(p), p.stat().st_size, commoncrawl.Options(split_bytes=split_bytes)))
                     for p in files)
        a, b = statistics.median(times["ref"]), statistics.median(times["this"])
        print(f"split_bytes {split_bytes:>9}: {splits:4d} splits, {counts.pop()} units; {args.ref} {a * 1e3:7.1f} ms, "
              f"this {b * 1e3:7.1f} ms, ratio {b / a:.3f}")
    if args.arc:
        arc_against_warc(max(args.runs // 2, 3))


def arc_against_warc(runs: int) -> None:
    """The same HTTP responses as ARC (made as the tests make them) and as the WARC they came from: framing
    (``_units``, ARC records turned into WARC ones included) and the whole read (parsing, extraction)."""
    from tests.pipeline.readers.test_commoncrawl_arc import arc_file, read_all, responses

    names = ["IAH-20080430204825-00000-blackbook.warc.gz", "dolma-sample-0000.warc.gz", "dolma-sample-0001.warc.gz",
             "pywb-iana.warc.gz"]
    folder = Path(tempfile.mkdtemp())
    warcs = [WEB / name for name in names]
    arcs = [arc_file(folder / (name.split(".")[0] + ".arc.gz"), responses(WEB / name)) for name in names]

    def whole(files: list[Path]) -> tuple[float, int]:
        start = time.perf_counter()
        docs = sum(len(read_all(path)[0]) for path in files)
        return time.perf_counter() - start, docs

    print(f"ARC made from the responses of {len(names)} WARCs ({sum(p.stat().st_size for p in arcs) / 1e6:.1f} MB; "
          f"the WARCs {sum(p.stat().st_size for p in warcs) / 1e6:.1f} MB with their other records)")
    for label, fn in (("framing", lambda files: frame_all(commoncrawl, files, 64 << 20)), ("whole read", whole)):
        times: dict[str, list[float]] = {"arc": [], "warc": []}
        for _ in range(runs):
            a, b = fn(arcs), fn(warcs)
            times["arc"].append(a[0])
            times["warc"].append(b[0])
        print(f"{label:>10}: ARC {statistics.median(times['arc']) * 1e3:7.1f} ms ({a[1]} units/docs), "
              f"WARC {statistics.median(times['warc']) * 1e3:7.1f} ms ({b[1]})")


if __name__ == "__main__":
    main()
