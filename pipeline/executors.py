"""Where a stage's tasks run: on Ray for runs, or one by one in this process for tests and debugging.

An executor only dispatches: it calls a task function on each pending task's payload and hands back each
result as it finishes. Everything around that (completion records, skipping finished tasks on a rerun,
progress lines, the merged statistics) is ``pipeline.runner.run_stage``'s, so both executors keep the same
records and write the same bytes; only where and in which order the functions run differs.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from contracts.fsio import io_error_hint, use_temp_journal
from pipeline.memory import finished_task, release_after_task, starting_step

RETRY_ADVICE = "Fix the cause and rerun the same command: finished shards are kept and skipped."
CANCEL_WAIT_S = 60.0  # how long a failed stage waits for the calls it cancelled to end


class StageError(RuntimeError):
    """A task failed for a reason retries cannot fix; names the stage and task."""


def os_error_message(stage: str, shard: str, exc: OSError, doing: str = "") -> str:
    """``stage S, shard T failed [while ...]: <error naming the file>`` and what to do next."""
    hint = io_error_hint(exc)
    file_part = "" if exc.filename else " (no file named by the OS)"
    return (f"stage {stage}, shard {shard} failed{' ' + doing if doing else ''}: {type(exc).__name__}: "
            f"{exc}{file_part}\n{hint + chr(10) if hint else ''}{RETRY_ADVICE}")


def task_failed(stage: str, task_id: str, cause: BaseException) -> StageError:
    """The error a failed task becomes, whichever executor ran it."""
    if isinstance(cause, OSError):
        return StageError(os_error_message(stage, task_id, cause))
    hint = io_error_hint(cause)
    return StageError(f"stage {stage}, shard {task_id} failed: {type(cause).__name__}: {cause}\n"
                      f"{hint + chr(10) if hint else ''}{RETRY_ADVICE}")


TaskFn = Callable[[Any], Any]  # payload -> pipeline.runner.TaskResult


class Executor(Protocol):
    """Runs ``fn`` over the payloads of ``tasks`` (objects with ``id`` and ``payload``).

    Yields ``(task, result dict)`` as each task finishes, in any order; raises ``StageError`` naming the
    stage and task when one fails. Closing the iterator early cancels what is still running.
    """

    def map(self, stage: str, run_dir: Path, tasks: list[Any], fn: TaskFn) -> Iterator[tuple[Any, dict[str, Any]]]:
        ...


def run_task(fn: TaskFn, payload: Any, step: str) -> dict[str, Any]:
    """One task of ``step``, as every executor runs it: ``fn(payload)`` as a record, then the memory the task
    freed goes back to the OS, also when it fails (``pipeline.memory``: without that a long-lived worker
    keeps the high-water mark of every task it ran, of every stage, and grows with the number of tasks),
    once the resident set is ``RELEASE_ABOVE_BYTES`` above where the last release left it. The caches of
    what a task's input held are trimmed to a fixed cap when it ends (``clear_after_each_task``), and the first task of
    another step drops the per-process caches the earlier steps filled (``clear_between_steps``)."""
    starting_step(step)
    try:
        return fn(payload).to_dict()
    finally:
        finished_task()
        release_after_task()


class BatchTaskFailed(Exception):
    """Task ``index`` of a batch raised ``cause``; ``done`` holds the results of the tasks before it, so the
    driver records them before it reports the failure (a rerun then redoes only the failed task onward)."""

    def __init__(self, index: int, done: list[dict[str, Any]], cause: BaseException):
        super().__init__(f"task {index} of its batch failed: {type(cause).__name__}: {cause}")
        self.index, self.done, self.cause = index, done, cause

    def __reduce__(self) -> tuple[Any, ...]:  # Ray pickles it back to the driver with its fields
        return (BatchTaskFailed, (self.index, self.done, self.cause))


def _execute_batch(fn: TaskFn, payloads: list[Any], run_dir: str | None = None,
                   step: str = "") -> list[dict[str, Any]]:
    """Several tasks in one Ray call, one after another, as consecutive calls in one worker would run them."""
    use_temp_journal(run_dir)
    done: list[dict[str, Any]] = []
    try:
        for index, payload in enumerate(payloads):
            try:
                done.append(run_task(fn, payload, step))
            except Exception as exc:
                raise BatchTaskFailed(index, done, _picklable(exc)) from exc
    finally:
        use_temp_journal(None)
    return done


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives pickling (Ray sends it to the driver), else its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # an exception holding a lock, a file handle, a lambda...
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def plan_batches(tasks: list[Any], slots: int, batch_bytes: int, max_batch: int,
                 batches_per_slot: int = 4) -> list[list[Any]]:
    """Consecutive tasks grouped into Ray calls, in task order.

    Why: on a local Ray a task round trip costs the driver ~1-7 ms of CPU and the worker about as much
    (submission, ``ray.wait``, result transfer), a few per cent of a task over a small shard; one call per
    group of small tasks pays that once. A group holds at most ``max_batch`` tasks and ``batch_bytes`` of
    input (a task at least that big runs alone), and groups are small enough that there are at least
    ``batches_per_slot`` per slot when there are that many tasks, so every CPU has work until the step ends.
    """
    per = max(1, min(max_batch, len(tasks) // (batches_per_slot * max(1, slots))))
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for task in tasks:
        if current and (len(current) >= per or size + task.size_bytes > batch_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(task)
        size += task.size_bytes
    if current:
        batches.append(current)
    return batches


@dataclass(frozen=True)
class RayExecutor:
    """Ray remote calls, at most ``max_in_flight`` submitted at once (default: 2x the cluster's CPUs); a
    call whose worker process died is retried up to ``max_retries`` times. An exception raised by a task
    itself is not retried: the same payload would fail the same way.

    Small tasks share a call (``plan_batches``: at most ``max_batch`` tasks and ``batch_bytes`` of input
    each); results are still handed back, recorded and counted per task. ``max_batch=1``: one call per task.
    """

    max_in_flight: int | None = None
    max_retries: int = 3
    num_cpus_per_task: float = 1
    batch_bytes: int = 16 << 20
    max_batch: int = 32
    batches_per_slot: int = 4
    # What the last stopped ``map`` left running (``still_running``): state, not a setting.
    _stopping: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_settings(cls, ray_settings: Any) -> "RayExecutor":
        """From the manifest's ``ray`` section: the one place its task settings are read."""
        return cls(max_in_flight=ray_settings.max_in_flight, max_retries=ray_settings.max_retries)

    def map(self, stage: str, run_dir: Path, tasks: list[Any], fn: TaskFn) -> Iterator[tuple[Any, dict[str, Any]]]:
        import ray

        cpus = int(ray.available_resources().get("CPU", 1))
        limit = self.max_in_flight or max(2, 2 * cpus)
        slots = max(1, int(max(cpus, 1) / self.num_cpus_per_task))
        remote = ray.remote(num_cpus=self.num_cpus_per_task, max_retries=self.max_retries,
                            retry_exceptions=False)(_execute_batch)
        batches = plan_batches(tasks, slots, self.batch_bytes, self.max_batch, self.batches_per_slot)
        queue = list(reversed(batches))
        in_flight: dict[Any, list[Any]] = {}
        run_dir_text = str(run_dir)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    batch = queue.pop()
                    in_flight[remote.remote(fn, [task.payload for task in batch], run_dir_text, stage)] = batch
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in ready:
                    batch = in_flight.pop(ref)
                    try:
                        results = ray.get(ref)
                    except Exception as exc:  # RayTaskError wraps the worker's exception
                        cause = getattr(exc, "cause", None) or exc
                        if isinstance(cause, BatchTaskFailed):
                            yield from zip(batch, cause.done)
                            raise task_failed(stage, batch[cause.index].id, cause.cause) from exc
                        raise task_failed(stage, _batch_name(batch), cause) from exc
                    yield from zip(batch, results)
        finally:
            self._stopping["still_running"] = stop_calls(stage, list(in_flight)) if in_flight else 0

    def still_running(self) -> int:
        """How many calls the last stopped ``map`` cancelled that had not ended when it gave up waiting: while
        any may still be writing, the caller must leave the run's temporaries to the next run."""
        return self._stopping.get("still_running", 0)


def stop_calls(stage: str, refs: list[Any]) -> int:
    """Force-cancel ``refs`` (their workers killed) and wait until they have ended, so that the caller can
    remove the temporaries they were writing now (``runner.run_stage``), not only the next run: a failed run
    must not leave a half-written shard behind. Returns how many had not ended. It never raises: it runs while
    the stage's own error propagates, which must reach the user, not an error of the clean-up."""
    import ray

    try:
        for ref in refs:
            ray.cancel(ref, force=True)
        _, not_ended = ray.wait(refs, num_returns=len(refs), timeout=CANCEL_WAIT_S)
    except Exception as exc:  # Ray itself failing (its node gone, say): assume every call may still run
        print(f"[{stage}] could not stop the {len(refs)} running task call(s): {exc!r}", file=sys.stderr)
        return len(refs)
    return len(not_ended)


def _batch_name(batch: list[Any]) -> str:
    """The shard a failure names: the task, or the tasks of a call that failed as a whole (its worker died)."""
    if len(batch) == 1:
        return batch[0].id
    return f"{batch[0].id} (or one of the {len(batch) - 1} run with it in one call, up to {batch[-1].id})"


@dataclass(frozen=True)
class InProcessExecutor:
    """Every task in this process, in task order: for unit tests, debugging (a breakpoint in a task
    function stops there) and profiling. No retries: a failure here is the task's own exception."""

    def map(self, stage: str, run_dir: Path, tasks: list[Any], fn: TaskFn) -> Iterator[tuple[Any, dict[str, Any]]]:
        for task in tasks:
            try:
                # The driver's temporaries journal is already this run's (run_stage sets it), so the
                # task's temporaries are listed there, as a Ray worker's are in its own.
                data = run_task(fn, task.payload, stage)
            except Exception as exc:
                raise task_failed(stage, task.id, exc) from exc
            yield task, data
