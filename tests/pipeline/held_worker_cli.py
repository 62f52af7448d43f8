"""``python -m pipeline`` with one task of each named stage held in its Ray worker until the test kills it,
so a kill always lands mid-task: no race between a polling loop and a task or run that may end first.

    python -m tests.pipeline.held_worker_cli MARKER_DIR STAGE[,STAGE...] run MANIFEST

The first task of each named stage to start writes its worker's PID to ``MARKER_DIR/<stage>.pid`` and then
sleeps until it is killed; Ray retries it in a new worker, where the marker exists and the task runs as
usual. The wrapper is defined in ``__main__``, so Ray ships it to the workers by value (cloudpickle): the
workers need nothing from this file.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

from pipeline import runner
from pipeline.cli import main


def held_once(fn: Callable[[Any], Any], marker: str, payload: Any) -> Any:
    """``fn(payload)``, except in the first worker to get here: it publishes its PID and waits to be killed."""
    try:
        os.close(os.open(f"{marker}.claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # stays: one holder ever
    except FileExistsError:  # the retry (or a later task): run as usual
        return fn(payload)
    Path(f"{marker}.tmp").write_text(str(os.getpid()))
    os.rename(f"{marker}.tmp", marker)  # whole: the test never reads half a PID
    while True:
        time.sleep(3600)


def hold(marker_dir: Path, stages: set[str]) -> None:
    run_stage = runner._run_stage  # every stage's run_stage goes through it, whatever name it was imported as

    def holding(run_dir: Path, stage: str, tasks: list, fn: Callable[[Any], Any], *args: Any, **kwargs: Any) -> Any:
        if stage in stages:  # the rest (executor, progress settings ...) passes through untouched
            fn = partial(held_once, fn, str(marker_dir / f"{stage}.pid"))
        return run_stage(run_dir, stage, tasks, fn, *args, **kwargs)

    runner._run_stage = holding  # type: ignore[assignment]


if __name__ == "__main__":
    marker_dir, stages, *argv = sys.argv[1:]
    hold(Path(marker_dir), set(stages.split(",")))
    sys.exit(main(argv))
