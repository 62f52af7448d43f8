"""The stage runner on a real local Ray: completion records, skip on rerun, retries of dead workers."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from contracts.accounting import Tally
from contracts.fsio import atomic_write
from pipeline.executors import InProcessExecutor
from pipeline.runner import RECORD_BATCH_TASKS, StageError, Task, TaskResult, defers_folder_syncs, run_stage
from tests.pipeline.helpers import done_records, forget_record, journal_syncs


def write_square(payload: dict) -> TaskResult:
    """Writes n*n to a file; optionally kills its own worker process once (a crash, not an exception)."""
    run_dir, n = Path(payload["run_dir"]), payload["n"]
    marker = run_dir / f"crashed-{n}"
    if payload.get("crash_once") and not marker.exists():
        marker.write_text("x")
        os._exit(1)  # the worker process dies: Ray must retry the task elsewhere
    if payload.get("fail"):
        raise ValueError(f"bad input in shard {n}")
    relative = f"out/{n:03d}.txt"
    with atomic_write(run_dir / relative, "w") as fh:
        fh.write(str(n * n))
    with open(run_dir / "calls.log", "a") as fh:
        fh.write(f"{n}\n")
    tally = Tally()
    tally.add("docs_out", n)
    if n % 2:
        tally.skip("odd", f"in/{n}", record=str(n))
    return TaskResult([relative], tally)


def tasks_for(run_dir: Path, ns: range, **extra) -> list[Task]:
    return [Task(f"t{n:03d}", {"run_dir": str(run_dir), "n": n, **extra}) for n in ns]


def calls(run_dir: Path) -> list[int]:
    log = run_dir / "calls.log"
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def test_runs_all_tasks_and_merges_stats(ray_local, tmp_path: Path) -> None:
    result = run_stage(tmp_path, "square", tasks_for(tmp_path, range(6)), write_square, max_in_flight=2)
    assert result.outputs == [f"out/{n:03d}.txt" for n in range(6)]
    assert [(tmp_path / o).read_text() for o in result.outputs] == [str(n * n) for n in range(6)]
    assert result.tally.counts["docs_out"] == 15
    assert result.tally.counts["skipped.odd"] == 3
    assert result.tally.examples["odd"][0] == {"file": "in/1", "record": "1", "detail": ""}
    stats = json.loads((tmp_path / "stats" / "square.json").read_text())
    assert stats["counts"]["docs_out"] == 15 and stats["tasks"] == 6
    assert stats["outputs"] == result.outputs
    assert sorted(calls(tmp_path)) == list(range(6))


def test_rerun_skips_finished_shards_and_redoes_the_rest(ray_local, tmp_path: Path) -> None:
    tasks = tasks_for(tmp_path, range(5))
    run_stage(tmp_path, "square", tasks, write_square)
    forget_record(tmp_path, "square", "t003")  # as if killed before t003 finished
    (tmp_path / "calls.log").unlink()
    result = run_stage(tmp_path, "square", tasks, write_square)
    assert calls(tmp_path) == [3]
    assert result.tasks_run == 1 and result.tasks_skipped == 4
    assert result.tally.counts["docs_out"] == 10


def test_dead_worker_is_retried(ray_local, tmp_path: Path) -> None:
    result = run_stage(tmp_path, "square", tasks_for(tmp_path, range(3), crash_once=True), write_square,
                       max_retries=2)
    assert all((tmp_path / f"crashed-{n}").exists() for n in range(3))
    assert [(tmp_path / o).read_text() for o in result.outputs] == ["0", "1", "4"]


def test_task_error_names_stage_and_shard_and_keeps_finished_work(ray_local, tmp_path: Path) -> None:
    tasks = tasks_for(tmp_path, range(3)) + tasks_for(tmp_path, range(3, 4), fail=True)
    with pytest.raises(StageError, match=r"stage square, shard t003 failed.*bad input in shard 3"):
        run_stage(tmp_path, "square", tasks, write_square, max_in_flight=1)
    assert sorted(done_records(tmp_path, "square")) == ["t000", "t001", "t002"]
    assert [p.name for p in (tmp_path / "_done" / "square").iterdir()] == ["ledger.jsonl"]


def test_leftover_temporaries_are_removed_by_exact_name_only(ray_local, tmp_path: Path) -> None:
    """A killed writer's temporary (listed in its journal) goes; a user's own ``.tmp-*`` file stays."""
    from contracts.fsio import use_temp_journal

    use_temp_journal(tmp_path)  # as a killed worker of this run would have journalled it
    try:
        with pytest.raises(RuntimeError):
            with atomic_write(tmp_path / "out" / "000.txt", "w") as fh:
                fh.write("half")
                stale = Path(fh.name)
                os.link(stale, tmp_path / "out" / "keep-the-bytes")
                raise RuntimeError("killed")
    finally:
        use_temp_journal(None)
    os.link(tmp_path / "out" / "keep-the-bytes", stale)  # the writer died before it could clean up
    precious = tmp_path / ".tmp-precious"
    precious.write_text("the user's")
    (tmp_path / "out" / ".tmp-deadbeef-000.txt").write_text("looks like ours, is not")
    run_stage(tmp_path, "square", tasks_for(tmp_path, range(1)), write_square)
    assert not stale.exists()
    assert precious.read_text() == "the user's"
    assert (tmp_path / "out" / ".tmp-deadbeef-000.txt").exists()


def test_duplicate_task_ids_are_refused(ray_local, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not unique"):
        run_stage(tmp_path, "square", tasks_for(tmp_path, range(2)) * 2, write_square)


def test_changed_payload_or_rewritten_input_redoes_only_that_task(ray_local, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for n in range(3):
        (tmp_path / "in" / f"{n}.txt").write_text(str(n))

    def tasks(extra_for_1: dict) -> list[Task]:
        return [Task(f"t{n:03d}", {"run_dir": str(tmp_path), "n": n, **(extra_for_1 if n == 1 else {})},
                     inputs=(f"in/{n}.txt",)) for n in range(3)]

    run_stage(tmp_path, "square", tasks({}), write_square)
    assert run_stage(tmp_path, "square", tasks({}), write_square).tasks_run == 0
    assert run_stage(tmp_path, "square", tasks({"option": 2}), write_square).tasks_run == 1
    time.sleep(0.01)
    (tmp_path / "in" / "2.txt").write_text("rewritten upstream")
    (tmp_path / "calls.log").unlink()
    assert run_stage(tmp_path, "square", tasks({"option": 2}), write_square).tasks_run == 1
    assert calls(tmp_path) == [2]


def test_payload_without_stable_repr_is_refused(ray_local, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="no stable repr"):
        run_stage(tmp_path, "square", [Task("t", object())], write_square)


@pytest.mark.parametrize("bad", ["a/b", "..", ""])
def test_task_ids_cannot_name_other_files(ray_local, tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be"):
        run_stage(tmp_path, "square", [Task(bad, {"run_dir": str(tmp_path), "n": 1})], write_square)


def test_tasks_in_flight_are_bounded_and_progress_is_printed(ray_local, tmp_path: Path, monkeypatch,
                                                             capsys) -> None:
    """The driver never has more than max_in_flight tasks submitted (seen at every ray.wait, the only
    place it blocks), and prints one progress line per update: shards done/total, docs/s, MB/s."""
    import ray

    from pipeline import runner

    waits: list[int] = []
    wait = ray.wait

    def counting_wait(refs, *args, **kwargs):
        waits.append(len(refs))
        return wait(refs, *args, **kwargs)

    monkeypatch.setattr(ray, "wait", counting_wait)
    monkeypatch.setattr(runner.Progress, "__init__", _progress_every_update(runner.Progress.__init__))
    tasks = [Task(t.id, t.payload, size_bytes=1_000_000) for t in tasks_for(tmp_path, range(7))]
    run_stage(tmp_path, "square", tasks, write_square, max_in_flight=3)
    assert max(waits) == 3 and len(waits) == 7  # filled to the bound, one wait per finished task
    assert waits == [3, 3, 3, 3, 3, 2, 1]
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[square]")]
    assert [line.split(" | ")[0] for line in lines] == [f"[square] {n}/7 shards" for n in range(1, 8)]
    last = lines[-1].split(" | ")
    assert last[1].endswith(" docs/s") and last[2].endswith(" MB/s") and last[3].endswith(" s")
    assert all(float(part.split()[0].replace(",", "")) >= 0 for part in last[1:])


def _progress_every_update(init):
    def every_update(self, stage, total, already_done, every_s=2.0):
        init(self, stage, total, already_done, every_s=0.0)
    return every_update


def test_local_ray_start_is_retried_after_a_startup_timeout_only(tmp_path: Path) -> None:
    """Ray's raylet has a fixed 30 s to register; a saturated machine can miss it once. The first attempt is
    made to fail as Ray fails, the second starts a real local Ray; any other error is raised at once."""
    import subprocess
    import sys

    script = '''
import ray, sys
from pipeline import runner
real, calls = ray.init, []
def flaky(*args, **kwargs):
    calls.append(kwargs)
    if len(calls) == 1:
        raise Exception("The current node timed out during startup. This could happen because ...")
    return real(*args, **kwargs)
ray.init = flaky
assert runner.connect_ray(None, 1, 100 * 1024 * 1024) is True and len(calls) == 2 and ray.is_initialized()
ray.shutdown()
def broken(*args, **kwargs):
    calls.append(kwargs)
    raise ValueError("object_store_memory too small")
ray.init = broken
try:
    runner.connect_ray(None, 1, 1)
except ValueError:
    assert len(calls) == 3
    print("OK")
'''
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().endswith("OK"), done.stderr[-2000:]
    assert "attempt 2 of 3" in done.stderr


@defers_folder_syncs
def write_two(payload: dict) -> TaskResult:
    """Two files into the same two folders for every task; their folders' fsyncs are left to the driver."""
    run_dir, n = Path(payload["run_dir"]), payload["n"]
    if payload.get("fail_at") == n and (run_dir / "poison").exists():
        raise ValueError(f"bad input in shard {n}")
    for folder in ("kept", "removed"):
        with atomic_write(run_dir / folder / f"{n:03d}.txt", "w") as fh:
            fh.write(str(n))
    return TaskResult([f"kept/{n:03d}.txt"])


def _journal(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every folder fsync (by folder name) and completion record, in order."""
    return journal_syncs(monkeypatch, names=True)


def test_deferred_folder_syncs_come_once_per_batch_before_the_records(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    events = _journal(monkeypatch)
    n = RECORD_BATCH_TASKS + 3
    run_stage(tmp_path, "two", tasks_for(tmp_path, range(n)), write_two, executor=InProcessExecutor())
    records = [i for i, (kind, _) in enumerate(events) if kind == "record"]
    assert len(records) == n
    for i in records:  # every record comes after a sync of both folders its task wrote into
        before = {name for kind, name in events[:i] if kind == "folder"}
        assert {"kept", "removed"} <= before
    folder_syncs = [name for kind, name in events[:records[-1]] if kind == "folder"]
    assert len(folder_syncs) == 4  # two batches (32 tasks, then 3) x two folders, not 2 x 35
    ledger = (tmp_path / "_done" / "two" / "ledger.jsonl").read_text()
    assert "unsynced" not in ledger and (tmp_path / "stats" / "two.json").is_file()


def test_a_failed_task_keeps_the_records_of_those_before_it_and_their_folders_synced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _journal(monkeypatch)
    tasks = tasks_for(tmp_path, range(8), fail_at=4)
    (tmp_path / "poison").write_text("")
    with pytest.raises(StageError, match="t004"):
        run_stage(tmp_path, "two", tasks, write_two, executor=InProcessExecutor())
    assert [name for kind, name in events if kind == "record"] == [f"t{n:03d}" for n in range(4)]
    assert [kind for kind, _ in events][:3] == ["folder", "folder", "record"]
    (tmp_path / "poison").unlink()
    result = run_stage(tmp_path, "two", tasks, write_two, executor=InProcessExecutor())
    assert result.tasks_skipped == 4 and result.tasks_run == 4


def test_ray_workers_get_the_arrow_pool_that_gives_memory_back() -> None:
    """``connect_ray`` starts the workers with ``pipeline.memory.worker_env``: their Arrow allocates from
    jemalloc at 0 ms decay (set in a worker's own code it would come too late for Arrow's C++ default pool,
    chosen once per process). On the embedded Ray they get it from the node's inherited environment, not a
    ``runtime_env`` (which costs a worker start of its own), and the driver's environment is left as it was."""
    import subprocess
    import sys

    from pipeline.memory import worker_env

    if not worker_env({}):
        # pyarrow's Linux wheels carry jemalloc: under CI its absence is a packaging change to look at
        assert not os.environ.get("CI"), "this pyarrow build has no jemalloc pool: workers keep Arrow's default pool"
        pytest.skip("this pyarrow build has no jemalloc pool (e.g. a conda or Windows build): workers keep "
                    "Arrow's default pool and there is no worker setting to test")
    script = '''
import os, ray
from pipeline import runner
assert runner.connect_ray(None, 1, 100 * 1024 * 1024) is True
assert "JE_ARROW_MALLOC_CONF" not in os.environ and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ

@ray.remote
def pool():
    import pyarrow as pa
    return (pa.default_memory_pool().backend_name, os.environ.get("JE_ARROW_MALLOC_CONF"),
            ray.get_runtime_context().get_runtime_env_string())

*backend, runtime_env = ray.get(pool.remote())
assert runtime_env == "{}", runtime_env
print(tuple(backend))
ray.shutdown()
'''
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().endswith("('jemalloc', 'dirty_decay_ms:0,muzzy_decay_ms:0')"), done.stderr[-2000:]


class _FakeRay:
    """``ray.init`` and ``ray.is_initialized`` as ``connect_ray`` calls them: each call's arguments and the
    worker variables in this process's environment during the call."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict, dict]] = []

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs) -> None:
        self.calls.append((kwargs, {k: os.environ.get(k) for k in WORKER_ENV}))


WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc", "JE_ARROW_MALLOC_CONF": "dirty_decay_ms:0"}


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> _FakeRay:
    import ray

    from pipeline import memory

    fake = _FakeRay()
    monkeypatch.setattr(ray, "init", fake.init)
    monkeypatch.setattr(ray, "is_initialized", fake.is_initialized)
    monkeypatch.setattr(memory, "worker_env", lambda: dict(WORKER_ENV))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    for name in WORKER_ENV:
        monkeypatch.delenv(name, raising=False)
    return fake


def test_the_embedded_ray_gets_the_worker_env_through_its_environment_not_a_runtime_env(
        fake_ray: _FakeRay, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local node's processes inherit the variables while ``ray.init`` starts them; afterwards the
    driver's environment is as it was (a variable the caller had keeps its value)."""
    from pipeline.runner import connect_ray

    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "the caller's")
    assert connect_ray(None, 1, None) is True
    (kwargs, during), = fake_ray.calls
    assert "runtime_env" not in kwargs and kwargs["num_cpus"] == 1 and kwargs["include_dashboard"] is False
    assert during == WORKER_ENV
    assert os.environ["JE_ARROW_MALLOC_CONF"] == "the caller's" and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ


@pytest.mark.parametrize("how", ["address", "RAY_ADDRESS"])
def test_a_cluster_gets_the_worker_env_as_a_runtime_env(fake_ray: _FakeRay, monkeypatch: pytest.MonkeyPatch,
                                                        how: str) -> None:
    """Other machines' raylets never see this process's environment: joining a cluster (an address, or
    ``RAY_ADDRESS``, which ``ray.init`` joins when given none) keeps the job's ``runtime_env``."""
    from pipeline.runner import connect_ray

    if how == "RAY_ADDRESS":
        monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert connect_ray("10.0.0.1:6379" if how == "address" else None, 4, None) is True
    (kwargs, during), = fake_ray.calls
    assert kwargs["runtime_env"] == {"env_vars": WORKER_ENV}
    assert ("num_cpus" in kwargs) == (how == "RAY_ADDRESS")  # the call as it was before: only the env moved
    assert during == {name: None for name in WORKER_ENV}


def test_ray_address_local_starts_the_embedded_ray(fake_ray: _FakeRay, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.runner import connect_ray

    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert connect_ray(None, 1, None) is True
    (kwargs, during), = fake_ray.calls
    assert "runtime_env" not in kwargs and during == WORKER_ENV


def test_progress_rates_count_only_the_tasks_this_step_ran(monkeypatch, capsys) -> None:
    """A result another step computed and handed back (the filter stage's fused tasks) is counted as done and
    named, not put in the rates: the filter step printed ~400,000 docs/s for documents it never touched."""
    from pipeline import runner

    clock = iter([100.0, 102.0, 104.0, 106.0, 108.0, 110.0, 112.0])
    monkeypatch.setattr(runner.time, "monotonic", lambda: next(clock))
    progress = runner.Progress("filter", 3, 0, every_s=0.0)  # starts at 100 s
    progress.update(5_000_000, 10_000_000, computed_by="filter-signals")  # printed at 104 s
    progress.update(5_000_000, 10_000_000, computed_by="filter-signals")  # 108 s
    progress.update(400, 4_000_000)  # 112 s: 400 docs and 4 MB in the 12 s since the start
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "[filter] 1/3 shards | 1 computed by filter-signals | 4.0 s"
    assert lines[1] == "[filter] 2/3 shards | 2 computed by filter-signals | 8.0 s"
    assert lines[2] == "[filter] 3/3 shards | 2 computed by filter-signals | 33 docs/s | 0.33 MB/s | 12.0 s"
