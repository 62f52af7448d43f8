"""Executors: small tasks share a Ray call, yet results, records and errors stay per task."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.executors import InProcessExecutor, RayExecutor, plan_batches
from contracts.accounting import Tally
from pipeline.runner import StageError, Task, TaskResult, run_stage
from tests.pipeline.helpers import done_records
from tests.pipeline.test_runner import calls, tasks_for, write_square


def sized(sizes: list[int]) -> list[Task]:
    return [Task(f"t{i:03d}", i, size_bytes=size) for i, size in enumerate(sizes)]


def ids(batches: list[list[Task]]) -> list[list[int]]:
    return [[task.payload for task in batch] for batch in batches]


def test_batches_keep_task_order_and_respect_count_bytes_and_spread() -> None:
    # 40 small tasks, 2 slots, 4 calls per slot: at most 40 // 8 = 5 tasks per call
    assert ids(plan_batches(sized([1] * 40), 2, 100, 32)) == [list(range(i, i + 5)) for i in range(0, 40, 5)]
    # the cap on tasks per call
    assert [len(b) for b in plan_batches(sized([1] * 40), 1, 100, 3)] == [3] * 13 + [1]
    # the byte cap: a call is closed before it would pass 10 bytes; a task of 10 bytes or more runs alone
    assert ids(plan_batches(sized([4, 4, 4, 12, 1, 1, 9, 1]), 1, 10, 8, batches_per_slot=1)) == [
        [0, 1], [2], [3], [4, 5], [6, 7]]
    # few tasks: one per call, so every slot gets work
    assert ids(plan_batches(sized([1] * 7), 2, 100, 32)) == [[i] for i in range(7)]
    assert plan_batches([], 2, 100, 32) == []


def test_batched_ray_run_matches_in_process_run(ray_local, tmp_path: Path) -> None:
    """Same outputs, records and statistics whether tasks share calls or not; fewer calls than tasks."""
    import ray

    waits: list[int] = []
    real_wait = ray.wait

    def counting_wait(refs, *args, **kwargs):
        waits.append(len(refs))
        return real_wait(refs, *args, **kwargs)

    ray.wait = counting_wait
    try:
        batched = run_stage(tmp_path / "a", "square", tasks_for(tmp_path / "a", range(24)), write_square,
                            executor=RayExecutor(max_batch=8, batches_per_slot=1))
    finally:
        ray.wait = real_wait
    alone = run_stage(tmp_path / "b", "square", tasks_for(tmp_path / "b", range(24)), write_square,
                      executor=InProcessExecutor())
    assert len(waits) <= 12 < 24  # 24 tasks in at most 12 calls (8 a call on 2 CPUs: 3 calls)
    assert batched.outputs == alone.outputs and batched.tally.to_dict() == alone.tally.to_dict()
    assert sorted(calls(tmp_path / "a")) == list(range(24))
    a, b = done_records(tmp_path / "a", "square"), done_records(tmp_path / "b", "square")
    assert sorted(a) == sorted(b) == [f"t{n:03d}" for n in range(24)]
    assert [{k: v for k, v in a[t].items() if k != "task_digest"} for t in sorted(a)] == \
        [{k: v for k, v in b[t].items() if k != "task_digest"} for t in sorted(b)]
    ledger = (tmp_path / "a" / "_done" / "square" / "ledger.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in ledger] == [f"t{n:03d}" for n in range(24)]  # settled in task order


def test_failure_inside_a_call_names_its_task_and_keeps_the_tasks_before_it(ray_local, tmp_path: Path) -> None:
    tasks = tasks_for(tmp_path, range(3)) + tasks_for(tmp_path, range(3, 4), fail=True) \
        + tasks_for(tmp_path, range(4, 6))
    with pytest.raises(StageError, match=r"stage square, shard t003 failed.*bad input in shard 3"):
        run_stage(tmp_path, "square", tasks, write_square,
                  executor=RayExecutor(max_in_flight=1, max_batch=6, batches_per_slot=1))
    assert sorted(done_records(tmp_path, "square")) == ["t000", "t001", "t002"]  # all in the failed call
    assert sorted(calls(tmp_path)) == [0, 1, 2]  # the call stopped at the failure


def test_a_call_whose_worker_died_is_retried_whole(ray_local, tmp_path: Path) -> None:
    tasks = tasks_for(tmp_path, range(4)) + tasks_for(tmp_path, range(4, 5), crash_once=True) \
        + tasks_for(tmp_path, range(5, 10))
    result = run_stage(tmp_path, "square", tasks, write_square,  # 2 CPUs: calls of 0-4 and 5-9
                       executor=RayExecutor(max_retries=1, max_batch=5, batches_per_slot=1))
    assert (tmp_path / "crashed-4").exists()
    assert [(tmp_path / o).read_text() for o in result.outputs] == [str(n * n) for n in range(10)]
    assert sorted(calls(tmp_path)) == sorted([*range(10), 0, 1, 2, 3])  # 0-3 ran again in the retried call
    assert os.path.exists(tmp_path / "stats" / "square.json")


def test_every_executor_releases_freed_memory_after_each_task_also_on_failure(monkeypatch, tmp_path: Path) -> None:
    """``run_task`` is the one wrapper both executors (and a shared Ray call, task by task) go through."""
    from pipeline import executors

    released: list[int] = []
    monkeypatch.setattr(executors, "release_after_task", lambda: released.append(len(calls(tmp_path))))
    run_stage(tmp_path, "square", tasks_for(tmp_path, range(3)), write_square, executor=InProcessExecutor())
    assert released == [1, 2, 3]  # after each task, not once at the end
    released.clear()
    payloads = [task.payload for task in tasks_for(tmp_path, range(3, 5)) + tasks_for(tmp_path, range(5, 6), fail=True)]
    with pytest.raises(executors.BatchTaskFailed):
        executors._execute_batch(write_square, payloads, str(tmp_path))
    assert released == [4, 5, 5]  # the failed task's memory too


_pinned: list = []


def fragment_heap(payload: dict) -> TaskResult:
    """Leaves ~100 MiB of freed heap behind (100 KiB blocks, every 50th kept alive in this worker) and
    reports the worker's RSS at its end, before the executor's release."""
    import numpy as np

    _pinned.clear()
    blocks = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(1000)]
    _pinned.extend(blocks[::50])
    del blocks
    tally = Tally()
    tally.add("rss_kib", _rss_kib())
    return TaskResult([], tally)


def report_rss(payload: dict) -> TaskResult:
    tally = Tally()
    tally.add("rss_kib", _rss_kib())
    return TaskResult([], tally)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def either(payload: dict) -> TaskResult:
    return fragment_heap(payload) if payload["fragment"] else report_rss(payload)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_a_ray_worker_gives_back_what_a_task_freed_before_its_next_task(ray_local, tmp_path: Path) -> None:
    """The worker's resident set when the next task starts is what is live, not the last task's peak."""
    from pipeline import memory

    if memory._malloc_trim() is None:
        pytest.skip("needs glibc's malloc_trim")
    # 2 CPUs, one call per CPU: each call runs fragment then report in one worker
    tasks = [Task(f"t{i}", {"fragment": i % 2 == 0}) for i in range(4)]
    results = {task.id: data for task, data in
               RayExecutor(max_batch=2, batches_per_slot=1).map("rss", tmp_path, tasks, either)}
    for first, second in (("t0", "t1"), ("t2", "t3")):
        at_end, next_start = results[first]["counts"]["rss_kib"], results[second]["counts"]["rss_kib"]
        assert at_end - next_start > 50 * 1024, (at_end, next_start)


def test_executors_tell_the_process_which_step_each_task_belongs_to(monkeypatch, tmp_path: Path) -> None:
    """So caches registered with ``pipeline.memory.clear_between_steps`` are dropped between steps only."""
    from pipeline import executors

    steps: list[str] = []
    monkeypatch.setattr(executors, "starting_step", steps.append)
    run_stage(tmp_path, "square", tasks_for(tmp_path, range(2)), write_square, executor=InProcessExecutor())
    executors._execute_batch(write_square, [t.payload for t in tasks_for(tmp_path, range(2, 4))], str(tmp_path),
                             "cube")
    assert steps == ["square", "square", "cube", "cube"]


def slow_or_failing(payload: dict) -> TaskResult:
    """Task 0 holds a temporary output open (until killed); task 1 fails once task 0's temporary exists."""
    import time

    from contracts.fsio import TMP_PREFIX, atomic_write

    run_dir = Path(payload["run_dir"])
    if payload["n"] == 0:
        with atomic_write(run_dir / "out" / "slow.txt", "w") as fh:
            fh.write("half")
            fh.flush()
            time.sleep(120)  # killed by the cancellation long before
        return TaskResult(["out/slow.txt"], Tally())
    deadline = time.monotonic() + 60
    while not list((run_dir / "out").glob(f"{TMP_PREFIX}*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    raise ValueError("bad input in shard 1")


def test_a_failed_ray_stage_leaves_no_temporary_of_the_tasks_it_killed(ray_local, tmp_path: Path) -> None:
    """A task fails while another is writing: the stage stops the other (killing its worker) and removes the
    temporary it was writing before it raises, so a failed run leaves no half-written file behind."""
    from contracts.fsio import TMP_PREFIX

    tasks = [Task(f"t{n:03d}", {"run_dir": str(tmp_path), "n": n}) for n in range(2)]
    with pytest.raises(StageError, match="bad input in shard 1"):
        run_stage(tmp_path, "slow", tasks, slow_or_failing, executor=RayExecutor(max_batch=1, batches_per_slot=1))
    assert not list(tmp_path.rglob(f"{TMP_PREFIX}*"))
    assert not (tmp_path / "out" / "slow.txt").exists()


@pytest.mark.parametrize("waiting", ["times out", "fails"])
def test_a_stage_whose_stopped_calls_may_still_run_keeps_its_error_and_leaves_their_temporaries(
        ray_local, tmp_path: Path, monkeypatch, capsys, waiting: str) -> None:
    """When the wait for the cancelled calls times out or Ray itself fails in it, the stage's own error
    still reaches the user (not the wait's), and the temporaries are left to the next run instead of being
    removed under a writer that may still be running; the next run removes them."""
    import ray

    from contracts.fsio import TMP_PREFIX

    real_wait = ray.wait

    def wait(refs, *, num_returns=1, timeout=None, **kwargs):
        if timeout is None:  # the stage's own loop
            return real_wait(refs, num_returns=num_returns, **kwargs)
        if waiting == "fails":
            raise RuntimeError("the Ray node is gone")
        return [], list(refs)

    monkeypatch.setattr(ray, "wait", wait)
    tasks = [Task(f"t{n:03d}", {"run_dir": str(tmp_path), "n": n}) for n in range(2)]
    with pytest.raises(StageError, match="bad input in shard 1"):
        run_stage(tmp_path, "slow", tasks, slow_or_failing, executor=RayExecutor(max_batch=1, batches_per_slot=1))
    err = capsys.readouterr().err
    assert "1 stopped task call(s) had not ended" in err
    assert ("the Ray node is gone" in err) == (waiting == "fails")
    assert list((tmp_path / "out").glob(f"{TMP_PREFIX}*"))
    monkeypatch.setattr(ray, "wait", real_wait)
    run_stage(tmp_path, "square", tasks_for(tmp_path, range(1)), write_square,
              executor=RayExecutor(max_batch=1))
    assert not list(tmp_path.rglob(f"{TMP_PREFIX}*"))
