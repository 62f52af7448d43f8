"""Reading a large .warc.zst whole against in byte-range splits (CPU seconds of this process).

The file: every shared WARC's records (``../shared/data/web/*.warc.gz``), ``--copies`` times over, one zstd frame
per record (IIPC's WARC zstd format), with a dictionary frame trained on them (``--no-dict``: without). Framing
(``_units``: records found, no parsing or extraction) is timed over every split of the plan, medians of ``--runs``;
the same records as a record-per-member ``.warc.gz``, and the same bytes as one zstd frame (the zstd CLI's way: its
later splits only scan for a frame start), are timed alongside. ``--docs`` also times one whole read (extraction
included) per plan. Run pinned to one core: ``taskset -c 0 python bench/warc_zstd_splits.py``.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import zstandard

# --code DIR: the checkout whose reader is timed (main's, to compare reading whole; it has no zstd splits)
CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, CODE)

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers.commoncrawl import READER, Options  # noqa: E402
from pipeline.readers.warc_splits import _units  # noqa: E402

try:
    from pipeline.readers.warc_zstd import _Walk  # noqa: E402
except ImportError:  # a checkout before zstd splits
    _Walk = None

WEB = Path(__file__).resolve().parents[1] / "../shared/data/web"


def records_of(gz: bytes) -> list[bytes]:
    out = []
    while gz:
        inflate = zlib.decompressobj(31)
        out.append(inflate.decompress(gz))
        gz = inflate.unused_data
    return out


def build(folder: Path, copies: int, with_dict: bool) -> dict[str, Path]:
    records = [r for p in sorted(WEB.glob("*.warc.gz")) for r in records_of(p.read_bytes())] * copies
    head, dictionary = b"", None
    if with_dict:
        dictionary = zstandard.train_dictionary(1 << 17, records[:2000])
        payload = dictionary.as_bytes()
        head = b"\x5d\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload
    compress = zstandard.ZstdCompressor(level=3, dict_data=dictionary).compress
    files = {"per-record .warc.zst": folder / "frames.warc.zst", "one-frame .warc.zst": folder / "one.warc.zst",
             "per-member .warc.gz": folder / "members.warc.gz"}
    files["per-record .warc.zst"].write_bytes(head + b"".join(compress(r) for r in records))
    files["one-frame .warc.zst"].write_bytes(zstandard.ZstdCompressor(level=3).compress(b"".join(records)))
    files["per-member .warc.gz"].write_bytes(b"".join(gzip.compress(r, 6, mtime=0) for r in records))
    return files


def frame(path: Path, split_bytes: int) -> tuple[float, int, int]:
    """(CPU seconds, splits, units) of framing every split of ``path``."""
    options, tally = Options(split_bytes=split_bytes), Tally()
    plan = READER.plan(str(path), path.stat().st_size, options)
    began, units = time.process_time(), 0
    for split in plan:
        units += sum(1 for _ in _units(split, options, tally))
    return time.process_time() - began, len(plan), units


def starts(path: Path, split_bytes: int) -> float:
    """CPU seconds per split of finding where it starts (the dictionary loaded, the first vouched frame)."""
    options = Options(split_bytes=split_bytes)
    plan = READER.plan(str(path), path.stat().st_size, options)[1:]
    began = time.process_time()
    with open(path, "rb") as raw:
        for split in plan:
            _Walk(raw, split, options.max_record_bytes).start()
    return (time.process_time() - began) / max(len(plan), 1)


def docs(path: Path, split_bytes: int) -> tuple[float, int]:
    options, tally = Options(split_bytes=split_bytes), Tally()
    began = time.process_time()
    n = sum(1 for s in READER.plan(str(path), path.stat().st_size, options) for _ in READER.read(s, options, tally))
    return time.process_time() - began, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-dict", action="store_true")
    parser.add_argument("--docs", action="store_true")
    parser.add_argument("--code", help="the checkout to import the reader from (default: this one)")
    args = parser.parse_args()
    sizes = [1 << 40, 16 << 20, 4 << 20, 1 << 20] if _Walk is not None else [1 << 40]
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), args.copies, not args.no_dict)
        print("| file | size | split_bytes | splits | units | framing CPU s (median) | vs whole |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, path in files.items():
            whole = None
            for size in sizes:
                runs = [frame(path, size) for _ in range(args.runs)]
                median = statistics.median(r[0] for r in runs)
                whole = whole or median
                name = "whole" if size == sizes[0] else f"{size >> 20} MiB"
                print(f"| {label} | {path.stat().st_size / 1e6:.1f} MB | {name} | {runs[0][1]} | {runs[0][2]} | "
                      f"{median:.3f} | {median / whole:.3f} |")
        for size in sizes[1:] if _Walk is not None else []:
            per = statistics.median(starts(files["per-record .warc.zst"], size) for _ in range(args.runs))
            one = statistics.median(starts(files["one-frame .warc.zst"], size) for _ in range(args.runs))
            print(f"split start, {size >> 20} MiB splits: per-record {per * 1e3:.2f} ms/split, "
                  f"one-frame {one * 1e3:.2f} ms/split")
        if args.docs:
            for label in ("per-record .warc.zst", "per-member .warc.gz"):
                for size in (sizes[0], sizes[2]):
                    seconds, n = docs(files[label], size)
                    print(f"read {label}, split_bytes {size}: {seconds:.2f} CPU s, {n} documents")


if __name__ == "__main__":
    main()
