"""Runs a stage's tasks resumably, on Ray or in this process (``pipeline.executors``).

A stage is a list of ``Task``s (one input shard -> its output shards) and a function that does one task.
The executor keeps a bounded number of tasks in flight and lets Ray retry a task whose worker process
died; the runner writes a completion record per (stage, task) once the task's outputs are in place, as one
line of the stage's ledger (``pipeline.completion_ledger``: one file per stage, not one per task). A
rerun reads those records and only runs what is missing, so a job can be killed at any moment: outputs are written
under temporary names and renamed when complete (``contracts.fsio.atomic_write``), and a task redone after
a crash writes the same bytes under the same names.

The executor is separate from the work: a task function never touches Ray; ``RayExecutor`` runs tasks on
Ray, ``InProcessExecutor`` runs them here (tests, debugging), with the same records and the same outputs.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from contracts.accounting import Tally
from contracts.fsio import (atomic_write, deferred_folder_syncs, remove_temporaries, safe_join, sync_folders,
                           use_temp_journal)
from pipeline.completion_ledger import CompletionLedger
from pipeline.executors import Executor, RayExecutor, StageError, os_error_message

DONE_DIR = "_done"
STATS_DIR = "stats"


@dataclass(frozen=True)
class Task:
    """One unit of work: ``id`` is unique in its stage and filesystem-safe (it names the record).

    ``inputs`` are the files the task reads (relative to the run folder, or absolute); ``key``, when set,
    stands for the payload in the task's identity (for tasks whose payload carries options that do not
    change their outputs, e.g. thresholds carried by a signal-only task). See ``task_digest``.
    """

    id: str
    payload: Any
    size_bytes: int = 0
    inputs: tuple[str, ...] = ()
    key: Any = None


@dataclass
class TaskResult:
    """What a task reports: the files it wrote (relative to the run folder) and its counts; and the folders
    whose fsync it left to the driver (``defers_folder_syncs``), which never enter its record."""

    outputs: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    unsynced_folders: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {"outputs": self.outputs, **self.tally.to_dict()}
        if self.unsynced_folders:
            data[UNSYNCED_KEY] = self.unsynced_folders
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TaskResult":
        return cls(list(data.get("outputs", [])), Tally.from_dict(data))


UNSYNCED_KEY = "unsynced_folders"
# Set by an executor on a result it did not compute in this step but was handed by another (the step's name):
# the progress line counts it as done but leaves it out of the rates.
COMPUTED_BY_KEY = "computed_by"
# A batch of finished tasks whose folders one fsync each covers: records wait at most this many tasks or
# seconds (a kill loses at most these records; their tasks are redone, writing the same bytes).
RECORD_BATCH_TASKS, RECORD_BATCH_S = 32, 2.0


def defers_folder_syncs(fn: Callable[[Any], TaskResult]) -> Callable[[Any], TaskResult]:
    """Decorate a task function so its ``atomic_write``s leave the folder fsyncs to the driver, which does
    them once per folder for a batch of finished tasks, before it writes their completion records
    (``contracts.fsio.deferred_folder_syncs`` states why that is as safe as a folder fsync per file). For
    tasks that write a few small files each: the saving is one journal commit per file."""

    @functools.wraps(fn)
    def wrapper(payload: Any) -> TaskResult:
        with deferred_folder_syncs() as folders:
            result = fn(payload)
        result.unsynced_folders = sorted(folders)
        return result

    return wrapper


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


def connect_ray(address: str | None = None, num_cpus: int | None = None,
                object_store_memory: int | None = None) -> bool:
    """Join the cluster at ``address``, or start an embedded local Ray when there is none.

    Returns whether this call started or joined Ray (False: it was already initialised by the caller).
    The workers get ``pipeline.memory.worker_env`` (Arrow's pool: one that gives freed memory back): on a
    cluster through the job's ``runtime_env``; on the embedded Ray through the environment its processes
    inherit (``_node_environment``), which costs no worker of its own.
    """
    import ray

    from pipeline.memory import worker_env

    if ray.is_initialized():
        return False
    env = worker_env()
    as_runtime_env = {"runtime_env": {"env_vars": env}} if env else {}
    common: dict[str, Any] = dict(log_to_driver=True, configure_logging=False)
    if address:
        ray.init(address=address, **common, **as_runtime_env)
        return True
    # Given no address, ray.init joins the cluster RAY_ADDRESS names, if any: its workers need the runtime_env.
    joins = os.environ.get("RAY_ADDRESS", "local") not in ("", "local")
    for attempt in range(1, LOCAL_RAY_START_ATTEMPTS + 1):
        try:
            with contextlib.nullcontext() if joins else _node_environment(env):
                ray.init(num_cpus=num_cpus, object_store_memory=object_store_memory, include_dashboard=False,
                         **common, **(as_runtime_env if joins else {}))
            return True
        except Exception as exc:  # Ray raises a bare Exception when its raylet misses its 30 s start window
            if "timed out during startup" not in str(exc) or attempt == LOCAL_RAY_START_ATTEMPTS:
                raise
            ray.shutdown()
            print(f"local Ray did not start within Ray's 30 s (machine overloaded?); attempt {attempt + 1} of "
                  f"{LOCAL_RAY_START_ATTEMPTS}", file=sys.stderr, flush=True)
    return True


@contextlib.contextmanager
def _node_environment(env: dict[str, str]) -> Iterator[None]:
    """``env`` in this process's environment while ``ray.init`` starts the local node, as it was after.

    The raylet inherits it and starts every worker with it, so the workers get it without a ``runtime_env``.
    Why not the ``runtime_env`` (issue 19): a job with one runs its tasks only in workers made for that
    environment, so the worker the raylet starts ahead of the job (one per CPU) is never used, and the one
    that runs the tasks starts through Ray's ``setup_worker.py`` (two interpreter starts): `ray.init`, one
    task and `ray.shutdown` on one CPU cost the process tree 6.6 CPU s with it, 5.4 without (bench/README.md,
    "Embedded Ray's fixed cost"). On a cluster the workers are started by other machines' raylets, which
    never see this environment: there it stays the runtime_env.
    """
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# The embedded Ray's raylet must register within a fixed 30 s; on a saturated machine (a load of 10x the
# cores) it sometimes does not, and a retry after shutdown succeeds. A cluster address is never retried.
LOCAL_RAY_START_ATTEMPTS = 3


class Progress:
    """One line per update on stderr: tasks done/total, docs/s and MB/s since the stage started.

    The rates count only the tasks this step ran. A result another step computed and handed back (the
    filter stage's fused tasks: the signal step decides the shard too) is counted as done and named, not
    put in the rates: its documents took no time here, and the rate came out at hundreds of thousands of
    docs/s."""

    def __init__(self, stage: str, total: int, already_done: int, every_s: float = 2.0):
        self.stage, self.total, self.done = stage, total, already_done
        self.start = time.monotonic()
        self.last = 0.0
        self.every_s = every_s
        self.docs = 0
        self.bytes = 0
        self.handed_back: Counter[str] = Counter()  # step that computed them -> results handed back

    def update(self, docs: int, nbytes: int, force: bool = False, computed_by: str | None = None) -> None:
        """A task of this step finished with ``docs`` documents and ``nbytes`` input bytes, or, with
        ``computed_by``, its result came from that step."""
        self.done += 1
        if computed_by is None:
            self.docs += docs
            self.bytes += nbytes
        else:
            self.handed_back[computed_by] += 1
        now = time.monotonic()
        if force or now - self.last >= self.every_s or self.done == self.total:
            self.last = now
            self.print()

    def print(self) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        parts = [f"[{self.stage}] {self.done}/{self.total} shards"]
        parts += [f"{count} computed by {step}" for step, count in sorted(self.handed_back.items())]
        if self.docs or self.bytes or not self.handed_back:
            parts += [f"{self.docs / elapsed:,.0f} docs/s", f"{self.bytes / elapsed / 1e6:,.2f} MB/s"]
        parts.append(f"{elapsed:,.1f} s")
        print(" | ".join(parts), file=sys.stderr, flush=True)


def run_stage(run_dir: Path, stage: str, tasks: list[Task], fn: Callable[[Any], TaskResult], *,
              executor: Executor | None = None, max_in_flight: int | None = None, max_retries: int = 3,
              docs_key: str = "docs_out", num_cpus_per_task: float = 1,
              progress_every_s: float = 2.0) -> StageResult:
    """See ``_run_stage``; the driver's own temporaries are journalled in ``run_dir`` while it runs.

    ``executor`` runs the pending tasks (``pipeline.executors``); without one, a ``RayExecutor`` with
    ``max_in_flight``, ``max_retries`` and ``num_cpus_per_task``.
    """
    if executor is None:
        executor = RayExecutor(max_in_flight, max_retries, num_cpus_per_task)
    try:
        return _run_stage(run_dir, stage, tasks, fn, executor, docs_key, progress_every_s)
    except BaseException:
        # The executor has stopped what was still running; the temporaries its killed tasks (or this process)
        # were writing are listed in the run's journals: remove them now, so that a failed run leaves no
        # half-written file behind (the next run would remove them too, but a user looks at the folder first).
        still_running = getattr(executor, "still_running", lambda: 0)()
        try:
            if still_running:
                print(f"[{stage}] {still_running} stopped task call(s) had not ended; the temporaries they may "
                      "still write are removed when the stage next runs", file=sys.stderr)
            else:
                remove_temporaries(run_dir)
        except OSError as exc:
            print(f"[{stage}] could not remove the run's temporaries after the failure: {exc}", file=sys.stderr)
        raise
    finally:
        use_temp_journal(None)


def _run_stage(run_dir: Path, stage: str, tasks: list[Task], fn: Callable[[Any], TaskResult],
               executor: Executor, docs_key: str, progress_every_s: float) -> StageResult:
    """Run ``fn`` over ``tasks`` with ``executor``, skipping tasks whose completion record matches (same
    options and inputs, outputs still present).

    ``fn`` must be importable by workers (a module-level function) and deterministic: its outputs depend
    only on its payload, so a retried or rerun task rewrites identical files.
    """
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"stage {stage}: task ids are not unique")
    bad = [i for i in ids + [stage] if "/" in i or "\\" in i or i in ("", ".", "..")]
    if bad:
        raise ValueError(f"stage {stage}: task ids and stage names name files, so they cannot be {bad[0]!r}")
    started = time.monotonic()
    done_dir = safe_join(run_dir, DONE_DIR, stage)
    remove_temporaries(run_dir)
    use_temp_journal(run_dir)

    results: dict[str, TaskResult] = {}
    pending: list[Task] = []
    digests = {task.id: task_digest(run_dir, task) for task in tasks}
    ledger = CompletionLedger(done_dir)
    with _naming(stage, "(all shards)", "reading its completion records"):
        records = ledger.load()
    if ledger.unreadable or ledger.torn:
        print(f"[{stage}] {ledger.path}: {ledger.unreadable} unreadable line(s){' and a torn last line' if ledger.torn else ''}"
              " ignored; those shards are redone", file=sys.stderr)
    for task in tasks:
        previous = _record_result(records.get(task.id))
        if (previous is not None and records[task.id].get("task_digest") == digests[task.id]
                and all(safe_join(run_dir, o).exists() for o in previous.outputs)):
            results[task.id] = previous
        else:  # never run, killed before its record, its inputs or options changed, or outputs deleted
            pending.append(task)
    skipped = len(results)
    progress = Progress(stage, len(tasks), skipped, progress_every_s)
    if skipped:
        print(f"[{stage}] {skipped}/{len(tasks)} shards already done, skipping them", file=sys.stderr)

    # Finished tasks wait here until the folders they left unsynced are fsynced; then they are recorded.
    waiting: list[tuple[Task, dict[str, Any]]] = []
    unsynced: set[str] = set()
    first_waiting = 0.0

    def record_waiting() -> None:
        batch, folders = list(waiting), set(unsynced)
        waiting.clear()  # taken once: if syncing fails, these tasks stay unrecorded and are redone
        unsynced.clear()
        if folders:
            with _naming(stage, batch[0][0].id if len(batch) == 1 else f"(one of {len(batch)} shards)",
                         "syncing its output folders"):
                sync_folders(folders)  # before any record that vouches for files in them
        for task, data in batch:
            computed_by = data.pop(COMPUTED_BY_KEY, None)
            result = TaskResult.from_dict(data)
            with _naming(stage, task.id, "writing its completion record"):
                ledger.append(task.id, {**data, "task_digest": digests[task.id]})
            results[task.id] = result
            progress.update(result.tally.counts.get(docs_key, 0), task.size_bytes, computed_by=computed_by)

    try:
        if pending:
            try:
                with contextlib.closing(executor.map(stage, run_dir, pending, fn)) as finished:
                    for task, data in finished:
                        folders = data.pop(UNSYNCED_KEY, None)
                        if folders:
                            unsynced.update(folders)
                            first_waiting = first_waiting if waiting else time.monotonic()
                        waiting.append((task, data))
                        if (not unsynced or len(waiting) >= RECORD_BATCH_TASKS
                                or time.monotonic() - first_waiting >= RECORD_BATCH_S):
                            record_waiting()
            finally:  # also when a later task failed: the finished ones keep their records
                record_waiting()
        with _naming(stage, "(all shards)", "compacting its completion records"):
            ledger.settle(ids)
    finally:
        ledger.close()

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
    with _naming(stage, "(all shards)", "writing the stage statistics"):
        with atomic_write(safe_join(run_dir, STATS_DIR, f"{stage}.json"), "w") as fh:
            json.dump(result.summary(), fh, indent=1, sort_keys=True)
    return result


@contextlib.contextmanager
def _naming(stage: str, shard: str, doing: str) -> Iterator[None]:
    """Turn an OS error of the driver's own bookkeeping into a StageError naming stage, shard and file."""
    try:
        yield
    except OSError as exc:
        raise StageError(os_error_message(stage, shard, exc, doing)) from exc


def task_digest(run_dir: Path, task: Task) -> str:
    """A digest of everything a task depends on, so a completion record only counts for the same work.

    Payloads are dataclasses and pydantic models of plain values (paths, options, shard names), whose
    ``repr`` is a stable, complete description. Input files enter by size and modification time: a file
    rewritten upstream (an earlier stage redone with other options) changes the digest. So a resumed run
    redoes exactly the tasks whose options or inputs changed, and skips the rest.
    """
    text = repr(task.payload if task.key is None else task.key)
    if " object at 0x" in text:
        raise TypeError(f"task payload {type(task.payload).__name__} has no stable repr (it shows a memory "
                        "address); use dataclasses or pydantic models of plain values")
    return hashlib.sha256(f"{text}\n{files_stamp(run_dir, task.inputs)}".encode()).hexdigest()


def files_stamp(run_dir: Path, names: tuple[str, ...] | list[str]) -> str:
    """Size and modification time of each file: changes when an upstream task rewrites it."""
    parts = []
    for name in names:
        path = Path(name) if Path(name).is_absolute() else safe_join(run_dir, name)
        try:
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
        except FileNotFoundError:
            parts.append(f"{name}:missing")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _record_result(record: dict[str, Any] | None) -> TaskResult | None:
    """A completion record's result; None when there is none or it is malformed (the task is then redone)."""
    if record is None:
        return None
    try:
        return TaskResult.from_dict(record)
    except (AttributeError, TypeError, ValueError):
        return None


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

