"""The driver's cost per task at >= 100,000 tiny tasks: bookkeeping, not work.

Runs ``pipeline.runner.run_stage`` over N tasks that each do nearly nothing (one counter, no file), in
this process (``InProcessExecutor``), so what is measured is the runner's own work per task: digests,
completion records, progress, merging the statistics. The time spent inside the task functions is
measured and subtracted. Three runs:

* ``ledger``: the runner as it is (one ``_done/<stage>/ledger.jsonl`` per stage);
* ``rerun``: the same stage again: every task skipped from its record;
* ``per-file``: the peer, in the same process: the earlier bookkeeping (one ``_done/<stage>/<id>.json``
  per task written with ``contracts.fsio.atomic_write``: a temporary, fsync, rename, fsync of the folder),
  substituted for the ledger's append. ``--peer-tasks`` of them (fewer: it is ~30x slower).

``--ray N`` adds runs of N tasks on a local Ray (2 CPUs): the driver's CPU seconds per task there,
scheduling included, with small tasks sharing Ray calls as the runner does (``RayExecutor``'s batches) and,
as the peer in the same Ray session, one call per task (``max_batch=1``, the runner before batching).

    .venv/bin/python bench/driver_overhead.py --tasks 100000 --peer-tasks 20000 --json /tmp/driver.json
    .venv/bin/python bench/driver_overhead.py --tasks 1000 --peer-tasks 0 --ray 20000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.accounting import Tally  # noqa: E402
from contracts.fsio import atomic_write  # noqa: E402
from pipeline import completion_ledger  # noqa: E402
from pipeline.executors import InProcessExecutor  # noqa: E402
from pipeline.runner import Task, TaskResult, run_stage  # noqa: E402

_inside = [0.0]  # seconds spent inside the task functions (subtracted from the stage's time)


def tiny(payload: dict[str, Any]) -> TaskResult:
    """A task with no work: one counter."""
    started = time.perf_counter()
    tally = Tally()
    tally.add("docs_out", 1)
    result = TaskResult([], tally)
    _inside[0] += time.perf_counter() - started
    return result


def ray_tiny(payload: dict[str, Any]) -> TaskResult:
    tally = Tally()
    tally.add("docs_out", 1)
    return TaskResult([], tally)


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def measure(run_dir: Path, n: int, label: str) -> dict[str, Any]:
    tasks = [Task(f"t{i:07d}", {"shard": i, "source": "bench"}) for i in range(n)]
    _inside[0] = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_stage(run_dir, "tiny", tasks, tiny, executor=InProcessExecutor(), progress_every_s=3600)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    driver = wall - _inside[0]
    row = {"run": label, "tasks": n, "tasks_run": result.tasks_run, "tasks_skipped": result.tasks_skipped,
           "wall_s": round(wall, 3), "inside_tasks_s": round(_inside[0], 3), "driver_s": round(driver, 3),
           "driver_ms_per_task": round(driver / n * 1e3, 4), "driver_cpu_ms_per_task": round(cpu / n * 1e3, 4),
           "files": count_files(run_dir), "done_files": count_files(run_dir / "_done"),
           "done_bytes": sum(p.stat().st_size for p in (run_dir / "_done").rglob("*") if p.is_file())}
    print(json.dumps(row), flush=True)
    return row


class PerFileRecords(completion_ledger.CompletionLedger):
    """The earlier bookkeeping: each record its own atomically written file (the peer)."""

    def append(self, task_id: str, record: dict[str, Any]) -> None:
        with atomic_write(self.folder / f"{task_id}.json", "w") as fh:
            json.dump(record, fh, sort_keys=True)

    def settle(self, order: Any) -> None:
        pass


def measure_ray(run_dir: Path, n: int) -> list[dict[str, Any]]:
    import ray

    from pipeline.executors import RayExecutor
    from pipeline.runner import connect_ray

    connect_ray(num_cpus=2)
    rows = []
    for label, executor in (("ray", RayExecutor()), ("ray, one call per task", RayExecutor(max_batch=1))):
        tasks = [Task(f"t{i:07d}", {"shard": i}) for i in range(n)]
        folder = run_dir / label.replace(" ", "_").replace(",", "")
        wall, cpu = time.perf_counter(), time.process_time()
        run_stage(folder, "tiny-ray", tasks, ray_tiny, executor=executor, progress_every_s=3600)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        row = {"run": label, "tasks": n, "wall_s": round(wall, 3), "wall_ms_per_task": round(wall / n * 1e3, 4),
               "driver_cpu_ms_per_task": round(cpu / n * 1e3, 4), "done_files": count_files(folder / "_done")}
        print(json.dumps(row), flush=True)
        rows.append(row)
    ray.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--peer-tasks", type=int, default=20_000, help="tasks of the per-file peer (0: none)")
    parser.add_argument("--ray", type=int, default=0, help="tasks of a run on local Ray (0: none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="driver-overhead-") as tmp:
        root = Path(tmp)
        rows.append(measure(root / "ledger", args.tasks, "ledger"))
        rows.append(measure(root / "ledger", args.tasks, "rerun"))
        shutil.rmtree(root / "ledger")
        if args.peer_tasks:
            real = completion_ledger.CompletionLedger
            import pipeline.runner as runner

            runner.CompletionLedger = PerFileRecords  # type: ignore[misc]
            try:
                rows.append(measure(root / "per-file", args.peer_tasks, "per-file"))
            finally:
                runner.CompletionLedger = real  # type: ignore[misc]
            shutil.rmtree(root / "per-file")
        if args.ray:
            rows.extend(measure_ray(root / "ray", args.ray))
    by = {r["run"]: r for r in rows}
    if "per-file" in by:
        print(f"per task: ledger {by['ledger']['driver_ms_per_task']:.4f} ms, per-file "
              f"{by['per-file']['driver_ms_per_task']:.4f} ms "
              f"({by['per-file']['driver_ms_per_task'] / by['ledger']['driver_ms_per_task']:.1f}x); "
              f"files under _done: {by['ledger']['done_files']} for {args.tasks:,} tasks vs "
              f"{by['per-file']['done_files']} for {args.peer_tasks:,}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
