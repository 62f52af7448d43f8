"""A stage's completion records as one append-only file: ``_done/<stage>/ledger.jsonl``.

Why one file: a record per task as its own file costs a temporary, two fsyncs and a rename per task
(~0.7 ms of driver time) and leaves a file per task: at 100,000 tasks that is 100,000 files and over a
minute of driver time. Appending one JSON line costs a single ``write`` call.

Crash safety without an fsync per line: a line is appended with one ``write`` on an ``O_APPEND``
descriptor, so a killed driver leaves whole lines; a power cut can leave a torn last line, which ``load``
drops (and truncates away, so the next append starts on a fresh line). A lost or dropped line only means
that task is redone, and a redone task rewrites the same bytes (``pipeline.runner``); its outputs were
fsynced by the task before the line was written, so a line never outlives the outputs it vouches for.

Compaction: a rerun appends a newer line for a task whose inputs changed, so ids repeat; ``settle`` (at the
end of a stage) rewrites the ledger atomically with the latest line of each task, in task order, and
fsyncs it. A settled ledger is therefore the same bytes whatever order the tasks finished in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from contracts.fsio import atomic_write

LEDGER_NAME = "ledger.jsonl"
LEGACY_SUFFIX = ".json"  # the per-task record files of earlier versions, imported once by ``load``


class CompletionLedger:
    """The completion records of one stage (one folder under ``_done/``), held by its only writer: the
    driver, which holds the run lock."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LEDGER_NAME
        self.lines: dict[str, bytes] = {}  # task id -> its latest line (with the newline)
        self.unreadable = 0  # whole lines that were not a record: ignored (their tasks are redone)
        self.torn = False  # the file ended in a partial line (a power cut mid-append): dropped
        self._fd: int | None = None
        self._written: list[bytes] = []  # the file's bytes: as loaded, then each appended line

    def load(self) -> dict[str, dict[str, Any]]:
        """Every task's latest record by id. Drops a torn last line from the file; imports legacy records."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = self._import_legacy()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a partial last line: cut it off before anything is appended after it
            self.torn = True
            os.truncate(self.path, end)
            data = data[:end]
        self._written = [data]
        records: dict[str, dict[str, Any]] = {}
        for line in data.splitlines(keepends=True):
            try:
                record = json.loads(line)
                task_id = record["id"]
                if not isinstance(task_id, str):
                    raise TypeError(task_id)
            except (ValueError, KeyError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                self.unreadable += 1
                continue
            records[task_id] = record
            self.lines[task_id] = line
        return records

    def append(self, task_id: str, record: dict[str, Any]) -> None:
        """Add ``record`` as the latest for ``task_id``: one ``write`` of one line. An OS error names the file."""
        line = (json.dumps({**record, "id": task_id}, sort_keys=True) + "\n").encode()
        try:
            if self._fd is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            view = memoryview(line)
            while view:  # a short write (a full disk) continues or raises; a kill leaves a torn line at worst
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            if exc.filename:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc
        self.lines[task_id] = line
        self._written.append(line)

    def settle(self, order: Iterable[str]) -> None:
        """Make the ledger durable and canonical: the latest line per task, tasks of ``order`` first (in
        that order), then any others in the order they were first recorded. Rewrites only if it differs."""
        self.close()
        ordered = list(dict.fromkeys(order))
        known = set(ordered)
        body = b"".join([self.lines[i] for i in ordered if i in self.lines]
                        + [line for i, line in self.lines.items() if i not in known])
        if not body and not self.path.exists():
            return
        if b"".join(self._written) != body or not self.path.exists():
            with atomic_write(self.path) as fh:
                fh.write(body)
        else:  # already canonical (a rerun that skipped everything, or tasks that finished in order)
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._written = [body]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _import_legacy(self) -> bytes:
        """Per-task ``<id>.json`` records (earlier versions) become the ledger, then are removed."""
        if not self.folder.is_dir():
            return b""
        legacy = sorted(p for p in self.folder.iterdir() if p.suffix == LEGACY_SUFFIX and p.is_file())
        if not legacy:
            return b""
        lines = []
        for path in legacy:
            try:
                record = json.loads(path.read_bytes())
            except ValueError:
                continue  # unreadable: as before, that task is redone
            if isinstance(record, dict):
                lines.append((json.dumps({**record, "id": path.stem}, sort_keys=True) + "\n").encode())
        data = b"".join(lines)
        with atomic_write(self.path) as fh:
            fh.write(data)
        for path in legacy:
            path.unlink()
        return data


def has_records(folder: Path) -> bool:
    """Whether a stage folder under ``_done/`` holds any completion record (ledger or legacy file)."""
    ledger = folder / LEDGER_NAME
    if ledger.is_file() and ledger.stat().st_size > 0:
        return True
    return folder.is_dir() and any(folder.glob(f"*{LEGACY_SUFFIX}"))


def read_records(folder: Path) -> dict[str, dict[str, Any]]:
    """The latest record of each task of one stage, read only (for reports, tests and tools)."""
    records: dict[str, dict[str, Any]] = {}
    try:
        data = (folder / LEDGER_NAME).read_bytes()
    except FileNotFoundError:
        return records
    for line in data.splitlines():
        try:
            record = json.loads(line)
            records[record["id"]] = record
        except (ValueError, KeyError, TypeError):
            continue
    return records
