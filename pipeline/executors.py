"""Where a stage's tasks run: on Ray for runs, or one by one in this process for tests and debugging.

An executor only dispatches: it calls a task function on each pending task's payload and hands back each
result as it finishes. Everything around that (completion records, skipping finished tasks on a rerun,
progress lines, the merged statistics) is ``pipeline.runner.run_stage``'s, so both executors keep the same
records and write the same bytes; only where and in which order the functions run differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from contracts.fsio import io_error_hint, use_temp_journal

RETRY_ADVICE = "Fix the cause and rerun the same command: finished shards are kept and skipped."


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


def _execute(fn: TaskFn, payload: Any, run_dir: str | None = None) -> dict[str, Any]:
    use_temp_journal(run_dir)  # the worker's temporaries are listed, so a rerun removes exactly those
    try:
        return fn(payload).to_dict()
    finally:
        use_temp_journal(None)


@dataclass(frozen=True)
class RayExecutor:
    """Per-task Ray remote calls, at most ``max_in_flight`` submitted at once (default: 2x the cluster's
    CPUs); a task whose worker process died is retried up to ``max_retries`` times. An exception raised
    by the task itself is not retried: the same payload would fail the same way.
    """

    max_in_flight: int | None = None
    max_retries: int = 3
    num_cpus_per_task: float = 1

    @classmethod
    def from_settings(cls, ray_settings: Any) -> "RayExecutor":
        """From the manifest's ``ray`` section: the one place its task settings are read."""
        return cls(max_in_flight=ray_settings.max_in_flight, max_retries=ray_settings.max_retries)

    def map(self, stage: str, run_dir: Path, tasks: list[Any], fn: TaskFn) -> Iterator[tuple[Any, dict[str, Any]]]:
        import ray

        limit = self.max_in_flight or max(2, 2 * int(ray.available_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=self.num_cpus_per_task, max_retries=self.max_retries,
                            retry_exceptions=False)(_execute)
        queue = list(reversed(tasks))
        in_flight: dict[Any, Any] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    task = queue.pop()
                    in_flight[remote.remote(fn, task.payload, str(run_dir))] = task
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in ready:
                    task = in_flight.pop(ref)
                    try:
                        data = ray.get(ref)
                    except Exception as exc:  # RayTaskError wraps the worker's exception
                        raise task_failed(stage, task.id, getattr(exc, "cause", None) or exc) from exc
                    yield task, data
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)


@dataclass(frozen=True)
class InProcessExecutor:
    """Every task in this process, in task order: for unit tests, debugging (a breakpoint in a task
    function stops there) and profiling. No retries: a failure here is the task's own exception."""

    def map(self, stage: str, run_dir: Path, tasks: list[Any], fn: TaskFn) -> Iterator[tuple[Any, dict[str, Any]]]:
        for task in tasks:
            try:
                # The driver's temporaries journal is already this run's (run_stage sets it), so the
                # task's temporaries are listed there, as a Ray worker's are in its own.
                data = fn(task.payload).to_dict()
            except Exception as exc:
                raise task_failed(stage, task.id, exc) from exc
            yield task, data
