"""A training run owns its out_dir, and its ranks die with their launcher.

Two hazards this closes: ``torchrun`` starts each rank in a session of its own (its process handler uses
``start_new_session`` so it can signal a rank's whole group), so killing the launcher left the ranks
training as orphans of PID 1, still writing ``checkpoint.pt`` and ``metrics.jsonl``; and a second run (a
``--resume`` started meanwhile) wrote the same files. Each rank therefore asks the kernel for SIGKILL when
its parent dies (``PR_SET_PDEATHSIG``; checkpoints are atomic, so a kill at any moment is safe), and rank 0
holds ``<out_dir>/run.lock`` (``contracts.run_lock``: flock, with PID and host) for the whole run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from contracts.fsio import remove_temporaries, use_temp_journal
from contracts.run_lock import FolderLockedError, RunLock
from training.checkpoint import CheckpointError
from training.distributed import Dist, all_gather_objects

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_held: dict[Path, RunLock] = {}


class OutDirLockedError(CheckpointError):
    """Another live run holds the out_dir (a CheckpointError: the trainer reports it as one line)."""


def die_with_launcher() -> bool:
    """Under a launcher (torchrun), have the kernel SIGKILL this process when its parent dies.

    Returns whether the request was made (Linux only; elsewhere there is no equivalent as cheap, and the
    launcher's own signal handling is all there is). If the parent is already gone, exit now.
    """
    if not sys.platform.startswith("linux") or "TORCHELASTIC_RUN_ID" not in os.environ:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return False
    if os.getppid() == 1:  # the launcher died before the request was in place
        os._exit(1)
    return True


def lock_out_dir(out_dir: str | Path, dist: Dist) -> None:
    """Rank 0 takes ``<out_dir>/run.lock``; every rank raises ``OutDirLockedError`` if it could not.

    Also removes temporaries a killed run of this folder left (by exact name, from its journal) and
    journals this run's own, so a later run can do the same.
    """
    folder = Path(out_dir).resolve()
    refusal = None
    if dist.is_main:
        try:
            _held[folder] = RunLock(folder, "training run").acquire()
            remove_temporaries(folder)
            use_temp_journal(folder)
        except FolderLockedError as exc:
            refusal = str(exc)
    refusals = [r for r in all_gather_objects(refusal, dist) if r]
    if refusals:
        raise OutDirLockedError(refusals[0])


def release_out_dir(out_dir: str | Path) -> None:
    """Let the out_dir go (no-op where this process holds no lock on it)."""
    lock = _held.pop(Path(out_dir).resolve(), None)
    if lock is not None:
        use_temp_journal(None)
        lock.release()
