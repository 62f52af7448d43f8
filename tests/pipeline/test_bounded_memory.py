"""Bounded memory whatever the input: a real zstd bomb (one 2 GiB JSONL line in a small .jsonl.zst) and a
gzip bomb of a book are skipped with their reason, and the peak RSS of the whole process tree (driver,
Ray and its workers) is measured while the real CLI runs them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from pipeline.ray_watchdog import _children
from tests.pipeline.helpers import write_manifest

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
BOMB_LINE = 2048 * MiB  # what the 64 KB file expanded to


def zstd_bomb(path: Path) -> Path:
    """``{"text": "aaaa...`` for BOMB_LINE bytes with no newline, then one good record; streamed, so the
    test itself never holds more than a MiB of it."""
    with open(path, "wb") as raw, zstandard.ZstdCompressor(level=1).stream_writer(raw) as out:
        out.write(b'{"text": "')
        block = b"a" * MiB
        for _ in range(BOMB_LINE // MiB):
            out.write(block)
        out.write(b'"}\n' + json.dumps({"id": "good", "text": "A real document after the bomb."}).encode() + b"\n")
    return path


def gzip_book_bomb(path: Path, size: int = 256 * MiB) -> Path:
    with gzip.open(path, "wb", compresslevel=1) as out:
        block = b"all work and no play " * (MiB // 21)
        for _ in range(size // len(block) + 1):
            out.write(block)
    return path


def rss_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid: int) -> list[int]:
    children, found, stack = _children(), [pid], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS is read from /proc")
def test_bombs_are_skipped_with_their_reason_in_bounded_memory(tmp_path: Path) -> None:
    bomb = zstd_bomb(tmp_path / "bomb.jsonl.zst")
    book = gzip_book_bomb(tmp_path / "endless-book.txt.gz")
    assert bomb.stat().st_size < 2 * MiB and book.stat().st_size < 8 * MiB
    manifest = write_manifest(tmp_path, [
        {"name": "dump", "kind": "jsonl", "paths": [str(bomb)]},
        {"name": "books", "kind": "books", "paths": [str(book)]},
    ], ray={"num_cpus": 2})
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tree_peak = process_peak = 0
    while proc.poll() is None:
        pids = tree(proc.pid)
        tree_peak = max(tree_peak, sum(rss_kib(p, "VmRSS") for p in pids))
        process_peak = max([process_peak] + [rss_kib(p, "VmHWM") for p in pids])
        time.sleep(0.5)
    err = proc.stderr.read()
    assert proc.returncode == 0, err[-3000:]
    stats = json.loads((tmp_path / "out" / "t" / "stats" / "crawl.json").read_text())
    counts = stats["counts"]
    assert counts["skipped.line_too_long"] == 1 and counts["skipped.too_large"] == 1, counts
    assert counts["docs_out"] == 1, "the record after the bomb is read"
    example = stats["examples"]["line_too_long"][0]
    assert example["record"] == "line 1" and f"{BOMB_LINE + 13:,} bytes" in example["detail"]
    print(f"\npeak RSS: whole process tree {tree_peak / 1024:.0f} MiB, largest process {process_peak / 1024:.0f} "
          f"MiB, for a {BOMB_LINE // MiB} MiB line")
    # Reading the line whole took one worker to 4.15 GiB; bounded by max_line_bytes (64 MiB) it stays near
    # a Ray worker's own footprint, and the whole tree (driver, GCS, raylet, agents, workers) below the line.
    assert process_peak < 512 * 1024, f"a process peaked at {process_peak / 1024:.0f} MiB"
    assert tree_peak < BOMB_LINE // 1024, f"the process tree peaked at {tree_peak / 1024:.0f} MiB"


def test_long_lines_are_skipped_in_every_split_layout_and_the_rest_read(tmp_path: Path) -> None:
    from pipeline.readers import jsonl
    from contracts.accounting import Tally

    lines = [json.dumps({"id": f"d{i}", "text": ("x" * 5000 if i % 3 == 1 else f"doc {i}")}) for i in range(9)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for split_bytes in (100_000, 4096, 777):  # splits that start inside a long line, too
        options = jsonl.Options(max_line_bytes=1024, split_bytes=split_bytes)
        tally, ids = Tally(), []
        for split in jsonl.plan(str(path), path.stat().st_size, options):
            ids += [doc.key for doc in jsonl.read(split, options, tally)]
        assert ids == [f"d{i}" for i in range(9) if i % 3 != 1], split_bytes
        assert tally.counts["skipped.line_too_long"] == 3, split_bytes
