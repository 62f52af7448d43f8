"""Runs a stage as per-shard Ray tasks, resumably.

A stage is a list of ``Task``s (one input shard -> its output shards) and a function that does one task.
The runner keeps a bounded number of tasks in flight, lets Ray retry a task whose worker process died,
and writes a completion record per (stage, task) once the task's outputs are in place. A rerun reads
those records and only runs what is missing, so a job can be killed at any moment: outputs are written
under temporary names and renamed when complete (``pipeline.fsio.atomic_write``), and a task redone after
a crash writes the same bytes under the same names.

The executor is separate from the work: a task function never touches Ray, and can be called directly in
tests.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline.fsio import atomic_write, io_error_hint, remove_temporaries, safe_join
from pipeline.readers.base import Tally

DONE_DIR = "_done"
STATS_DIR = "stats"


@dataclass(frozen=True)
class Task:
    """One unit of work: ``id`` is unique in its stage and filesystem-safe (it names the record)."""

    id: str
    payload: Any
    size_bytes: int = 0


@dataclass
class TaskResult:
    """What a task reports: the files it wrote (relative to the run folder) and its counts."""

    outputs: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def to_dict(self) -> dict[str, Any]:
        return {"outputs": self.outputs, **self.tally.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TaskResult":
        return cls(list(data.get("outputs", [])), Tally.from_dict(data))


@dataclass
class StageResult:
    stage: str
    outputs: list[str]
    tally: Tally
    tasks_run: int
    tasks_skipped: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "tasks": self.tasks_run + self.tasks_skipped,
            "tasks_run": self.tasks_run,
            "tasks_skipped_as_done": self.tasks_skipped,
            "outputs": self.outputs,
            **self.tally.to_dict(),
        }


class StageError(RuntimeError):
    """A task failed for a reason retries cannot fix; names the stage and task."""


def connect_ray(address: str | None = None, num_cpus: int | None = None,
                object_store_memory: int | None = None) -> None:
    """Join the cluster at ``address``, or start an embedded local Ray when there is none."""
    import ray

    if ray.is_initialized():
        return
    common = dict(log_to_driver=True, configure_logging=False)
    if address:
        ray.init(address=address, **common)
    else:
        ray.init(num_cpus=num_cpus, object_store_memory=object_store_memory, include_dashboard=False,
                 **common)


class Progress:
    """One line per update on stderr: tasks done/total, docs/s and MB/s since the stage started."""

    def __init__(self, stage: str, total: int, already_done: int, every_s: float = 2.0):
        self.stage, self.total, self.done = stage, total, already_done
        self.start = time.monotonic()
        self.last = 0.0
        self.every_s = every_s
        self.docs = 0
        self.bytes = 0

    def update(self, docs: int, nbytes: int, force: bool = False) -> None:
        self.done += 1
        self.docs += docs
        self.bytes += nbytes
        now = time.monotonic()
        if force or now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            self.print()

    def print(self) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        print(f"[{self.stage}] {self.done}/{self.total} shards | {self.docs / elapsed:,.0f} docs/s | "
              f"{self.bytes / elapsed / 1e6:,.2f} MB/s | {elapsed:,.1f} s", file=sys.stderr, flush=True)


def _execute(fn: Callable[[Any], TaskResult], payload: Any) -> dict[str, Any]:
    return fn(payload).to_dict()


def run_stage(run_dir: Path, stage: str, tasks: list[Task], fn: Callable[[Any], TaskResult], *,
              max_in_flight: int | None = None, max_retries: int = 3, docs_key: str = "docs_out",
              num_cpus_per_task: float = 1) -> StageResult:
    """Run ``fn`` over ``tasks`` on Ray, skipping tasks whose completion record exists.

    ``fn`` must be importable by workers (a module-level function) and deterministic: its outputs depend
    only on its payload, so a retried or rerun task rewrites identical files.
    """
    import ray

    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"stage {stage}: task ids are not unique")
    started = time.monotonic()
    done_dir = safe_join(run_dir, DONE_DIR, stage)
    remove_temporaries(run_dir)

    results: dict[str, TaskResult] = {}
    pending: list[Task] = []
    for task in tasks:
        record = safe_join(done_dir, f"{task.id}.json")
        previous = _read_record(record)
        if previous is not None and all(safe_join(run_dir, o).exists() for o in previous.outputs):
            results[task.id] = previous
        else:  # never run, killed before its record, or its outputs were deleted since: redo it
            pending.append(task)
    skipped = len(results)
    progress = Progress(stage, len(tasks), skipped)
    if skipped:
        print(f"[{stage}] {skipped}/{len(tasks)} shards already done, skipping them", file=sys.stderr)

    if pending:
        limit = max_in_flight or max(2, 2 * int(ray.available_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=num_cpus_per_task, max_retries=max_retries,
                            retry_exceptions=False)(_execute)
        queue = list(reversed(pending))
        in_flight: dict[Any, Task] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    task = queue.pop()
                    in_flight[remote.remote(fn, task.payload)] = task
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in ready:
                    task = in_flight.pop(ref)
                    try:
                        data = ray.get(ref)
                    except Exception as exc:  # RayTaskError wraps the worker's exception
                        cause = getattr(exc, "cause", None) or exc
                        raise StageError(f"stage {stage}, shard {task.id} failed: "
                                         f"{type(cause).__name__}: {cause}\n{io_error_hint(cause)}"
                                         "Fix the cause and rerun the same command: finished shards are "
                                         "kept and skipped.") from exc
                    result = TaskResult.from_dict(data)
                    with atomic_write(safe_join(done_dir, f"{task.id}.json"), "w") as fh:
                        json.dump(data, fh, sort_keys=True)
                    results[task.id] = result
                    progress.update(result.tally.counts.get(docs_key, 0), task.size_bytes)
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)

    missing = [o for t in tasks for o in results[t.id].outputs if not safe_join(run_dir, o).exists()]
    if missing:
        raise StageError(f"stage {stage}: {len(missing)} finished outputs disappeared during the run "
                         f"(first: {run_dir / missing[0]}); was the output folder moved or deleted? Rerun "
                         "the same command: shards whose outputs are missing are redone.")
    tally = Tally()
    outputs: list[str] = []
    for task in tasks:
        tally.merge(results[task.id].tally)
        outputs.extend(results[task.id].outputs)
    result = StageResult(stage, outputs, tally, len(pending), skipped, time.monotonic() - started)
    with atomic_write(safe_join(run_dir, STATS_DIR, f"{stage}.json"), "w") as fh:
        json.dump(result.summary(), fh, indent=1, sort_keys=True)
    return result


def _read_record(path: Path) -> TaskResult | None:
    """A completion record, or None when there is none (or it is unreadable: then the task is redone)."""
    try:
        return TaskResult.from_dict(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def completed_outputs(run_dir: Path, stage: str) -> list[str]:
    """The outputs a finished stage recorded, in task order; the contract later stages read from."""
    stats = safe_join(run_dir, STATS_DIR, f"{stage}.json")
    if not stats.exists():
        raise FileNotFoundError(f"stage {stage!r} has not finished in {run_dir}; run it first")
    return list(json.loads(stats.read_text())["outputs"])


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

