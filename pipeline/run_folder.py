"""A run folder is made by the pipeline or refused: never write into a user's folder by accident.

A manifest's ``run.output_dir``/``run.name`` can name any folder. If it already holds files and no
``run.json`` (the record every run writes first), it is not a refinery run: the run would overwrite the
user's ``manifest.yaml`` or ``stats/`` and mix its shards with their files. That needs ``--force``.
"""

from __future__ import annotations

from pathlib import Path

from contracts.fsio import TEMP_JOURNAL_DIR
from contracts.run_lock import LOCK_NAME
from pipeline.completion_ledger import has_records
from pipeline.runner import DONE_DIR

RUN_RECORD = "run.json"
OWN_BOOKKEEPING = {LOCK_NAME, TEMP_JOURNAL_DIR}
"""Entries a run creates before ``run.json``: a folder holding only these was started by a killed run."""


def _has_completion_records(run_dir: Path) -> bool:
    """A run's own ``_done/<stage>/`` completion records without ``run.json``: the folder vanished mid-run
    (moved or deleted by an operator) and the run's still-running tasks wrote into it again. That is a run's
    folder."""
    done = run_dir / DONE_DIR
    return done.is_dir() and any(stage.is_dir() and has_records(stage) for stage in done.iterdir())


class RunFolderError(ValueError):
    """The run folder cannot be used as it is; the message says why and what to do."""


def check_run_folder(run_dir: Path, force: bool = False) -> None:
    """Refuse a run folder that exists, is not empty and is not a refinery run, unless ``force``."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"run folder {run_dir} exists and is not a folder; choose another run.name or "
                             "run.output_dir")
    if not run_dir.is_dir() or (run_dir / RUN_RECORD).is_file() or force or _has_completion_records(run_dir):
        return
    foreign = sorted(p.name for p in run_dir.iterdir() if p.name not in OWN_BOOKKEEPING)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise RunFolderError(
            f"run folder {run_dir} is not empty ({shown}) and holds no {RUN_RECORD}, so it is not a refinery "
            "run; the run would overwrite files there. Choose another run.name or run.output_dir, or pass "
            "--force to write into it anyway (files the run does not write are left alone).")
