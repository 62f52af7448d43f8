"""Test helpers shared by the pipeline's end-to-end tests: manifests over real data, shard comparison."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import threading
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq
import yaml


def write_manifest(folder: Path, sources: list[dict], name: str = "t", **sections) -> Path:
    """A manifest in ``folder`` writing to ``folder/out/<name>``; runs only the crawl stage by default."""
    sections.setdefault("stages", {})
    sections["stages"].setdefault("order", ["crawl"])
    data = {"run": {"name": name, "output_dir": str(folder / "out"), "seed": 7}, "sources": sources,
            **sections}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def done_records(run_dir: Path, stage: str) -> dict[str, dict]:
    """The completion records of one stage of a run, by task id (``pipeline.completion_ledger``)."""
    from pipeline.completion_ledger import read_records

    return read_records(run_dir / "_done" / stage)


def forget_record(run_dir: Path, stage: str, task_id: str) -> None:
    """Drop one task's completion record, as if the run was killed before that task finished."""
    from pipeline.completion_ledger import LEDGER_NAME

    ledger = run_dir / "_done" / stage / LEDGER_NAME
    lines = ledger.read_bytes().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["id"] != task_id]
    assert len(kept) == len(lines) - 1, f"{task_id} has no record in {ledger}"
    ledger.write_bytes(b"".join(kept))


def book_paragraphs_jsonl(shared_data: Path, path: Path, limit: int = 3000) -> Path:
    """A JSONL file of real paragraphs (one document each) from two Gutenberg books."""
    lines = []
    for book in ("gutenberg-14263-katrine.txt", "gutenberg-3261-news-from-nowhere.txt"):
        text = (shared_data / "books" / book).read_text(encoding="utf-8", errors="replace")
        for i, para in enumerate(re.split(r"(?:\r?\n){2,}", text)):
            para = " ".join(para.split())
            if len(para) > 200:
                lines.append(json.dumps({"id": f"{book}:{i}", "text": para}))
    path.write_text("\n".join(lines[:limit]) + "\n")
    return path


def tree_digest(root: Path, folders: tuple[str, ...] = ("docs",)) -> dict[str, str]:
    """sha256 of every file under the given folders of a run, keyed by relative path."""
    digests = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def read_docs(run_dir: Path, outputs: list[str]) -> list[dict]:
    rows: list[dict] = []
    for relative in outputs:
        rows.extend(pq.read_table(run_dir / relative).to_pylist())
    return rows


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that honours single byte-range requests, as Common Crawl's server does."""

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def send_head(self):  # type: ignore[override]
        range_header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not range_header or not os.path.isfile(path):
            return super().send_head()
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header.strip())
        size = os.path.getsize(path)
        if not match:
            self.send_error(416)
            return None
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if start >= size:
            self.send_error(416)
            return None
        fh = open(path, "rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return _Limited(fh, end - start + 1)


class _Limited:
    def __init__(self, fh, n: int):
        self.fh, self.n = fh, n

    def read(self, size: int = -1) -> bytes:
        if self.n <= 0:
            return b""
        size = self.n if size < 0 else min(size, self.n)
        data = self.fh.read(size)
        self.n -= len(data)
        return data

    def close(self) -> None:
        self.fh.close()


class PlainHandler(http.server.SimpleHTTPRequestHandler):
    """The standard library's static server (``python -m http.server``): it ignores Range headers and
    answers 200 with the whole file."""

    def log_message(self, *args) -> None:
        pass


class NoLengthHandler(PlainHandler):
    """A server that sends no Content-Length (HTTP/1.0, the body ends when the connection closes), as
    streaming and dynamic servers do."""

    protocol_version = "HTTP/1.0"

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() != "content-length":
            super().send_header(keyword, value)


SERVERS = {"ranges": RangeRequestHandler, "no_ranges": PlainHandler, "no_length": NoLengthHandler}


@contextmanager
def http_server(root: Path, kind: str = "ranges") -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 with a real HTTP server (``kind``: a key of ``SERVERS``; by default one
    with range support, as Common Crawl's); yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(SERVERS[kind], directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def journal_syncs(monkeypatch, files: bool = False, names: bool = False) -> list[tuple[str, str]]:
    """Records, in order, every folder fsync (and every file fsync when `files`) as (kind, path) and every
    completion record as ("record", task_id): the tests of when outputs are made durable read this order.
    `names` keeps only a synced path's last component."""
    import stat

    from pipeline.completion_ledger import CompletionLedger

    events: list[tuple[str, str]] = []
    real_fsync, real_append = os.fsync, CompletionLedger.append

    def fsync(fd: int) -> None:
        is_folder = stat.S_ISDIR(os.fstat(fd).st_mode)
        if is_folder or files:
            path = os.readlink(f"/proc/self/fd/{fd}")
            events.append(("folder" if is_folder else "file", Path(path).name if names else path))
        real_fsync(fd)

    def append(self: CompletionLedger, task_id: str, record: dict) -> None:
        events.append(("record", task_id))
        real_append(self, task_id, record)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(CompletionLedger, "append", append)
    return events
