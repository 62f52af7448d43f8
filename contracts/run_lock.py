"""One run per folder: an exclusive lock file naming the process (PID and host) that holds the folder.

Why ``flock`` and not only a PID file: the kernel drops the lock when its holder dies in any way (kill -9
included), so a stale lock can never block a folder, and two runs that start at the same moment cannot
both win. The file's content (PID, host, start time) is for people: a refused run says who holds the
folder, and a run that takes over a lock whose holder died says whose it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO

LOCK_NAME = "run.lock"


class FolderLockedError(RuntimeError):
    """Another live run holds the folder; the message names it and says what to do."""


class RunLock:
    """Holds ``<folder>/run.lock`` until ``release`` (or until the process dies)."""

    def __init__(self, folder: str | Path, what: str = "run"):
        self.path = Path(folder) / LOCK_NAME
        self.what = what
        self._fh: IO[str] | None = None

    def acquire(self) -> "RunLock":
        """Take the lock, or raise ``FolderLockedError`` naming the live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fh = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(_read(fh))
                fh.close()
                raise FolderLockedError(
                    f"{self.path.parent} is in use by another {self.what} ({holder}); two runs would write "
                    "the same files. Wait for it to finish (or stop it), or choose another folder. If no such "
                    "process exists (e.g. a filesystem without locks), delete "
                    f"{self.path} and rerun.") from None
            try:
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file its previous holder unlinked while we waited for it
                break
            fh.close()
        previous = _read(fh)
        if previous:
            print(f"note: taking over the stale lock of {self.path.parent} ({_describe(previous)}, no longer "
                  "running)", file=sys.stderr)
        self._fh = fh
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
            fh.flush()
        except OSError as exc:  # a full disk: say which file
            self.release()
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc
        return self

    def release(self) -> None:
        """Remove the lock file and let it go (unlink first, so a waiter re-checks the inode)."""
        if self._fh is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(fh: IO[str]) -> dict:
    fh.seek(0)
    try:
        data = json.loads(fh.read() or "{}")
    except ValueError:
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def _describe(holder: dict) -> str:
    if not holder or "pid" not in holder:
        return "holder unknown"
    started = holder.get("started")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(started)) if isinstance(
        started, (int, float)) else ""
    return f"PID {holder.get('pid')} on host {holder.get('host', '?')}{when}"
