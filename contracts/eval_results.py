"""The benchmark results JSON: written by ``python -m training.evaluate``, read by ``pipeline report``.

One file per evaluated checkpoint, beside it (``runs/x/train/checkpoint.pt`` ->
``checkpoint.eval.json``; a Hugging Face folder gets ``eval.json`` inside). It holds::

    {"checkpoint": str, "seed": int, "limit": int | null, "world_size": int,
     "tasks": {name: {"type", "metric", "value", "items", "random_baseline", "seconds", <other metrics>,
                      "skipped_too_long" (items not scored: a continuation longer than the context)}},
     "core": {"value", "tasks", "not_scored", "note"}          (when CORE tasks ran)
     "bits_per_byte": [{"file" | "dataset" + "split", "bits_per_byte", "nats", "tokens", "bytes", ...}]}

The format lives here so the pipeline's report can read scores without importing ``training``, and so
the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.fsio import atomic_write

RESULTS_SUFFIX = ".eval.json"
FOLDER_RESULTS = "eval.json"
TASK_FIELDS = ("metric", "value", "items", "random_baseline")


class ResultsError(ValueError):
    """A results file that is not what the evaluator writes; the message names the file and field."""


def default_results_path(checkpoint: Path) -> Path:
    """``runs/x/checkpoint.pt`` -> ``runs/x/checkpoint.eval.json``; a model folder gets ``eval.json`` inside."""
    if checkpoint.is_dir():
        return checkpoint / FOLDER_RESULTS
    return checkpoint.with_name(checkpoint.stem + RESULTS_SUFFIX)


def write_results(path: Path, results: dict[str, Any]) -> Path:
    """Write atomically, after checking the shape the reader expects."""
    check_results(results, str(path))
    with atomic_write(path, "w") as fh:
        fh.write(json.dumps(results, indent=1) + "\n")
    return path


def check_results(results: Any, origin: str) -> dict[str, Any]:
    if not isinstance(results, dict):
        raise ResultsError(f"{origin}: a results file holds a JSON object, not {type(results).__name__}")
    tasks = results.get("tasks")
    if not isinstance(tasks, dict):
        raise ResultsError(f"{origin}: 'tasks' must be an object of task name -> scores")
    for name, task in tasks.items():
        missing = [f for f in TASK_FIELDS if not isinstance(task, dict) or f not in task]
        if missing:
            raise ResultsError(f"{origin}: task {name!r} lacks {missing}")
        for field in ("value", "items", "random_baseline"):
            if not isinstance(task[field], (int, float)) or isinstance(task[field], bool):
                raise ResultsError(f"{origin}: task {name!r} field {field!r} is {task[field]!r}, not a number")
    core = results.get("core")
    if core is not None and not (isinstance(core, dict) and isinstance(core.get("value"), (int, float))):
        raise ResultsError(f"{origin}: 'core' must be an object with a numeric 'value'")
    bpb = results.get("bits_per_byte", [])
    if not isinstance(bpb, list) or not all(isinstance(e, dict) and "bits_per_byte" in e for e in bpb):
        raise ResultsError(f"{origin}: 'bits_per_byte' must be a list of objects with a 'bits_per_byte'")
    return results


def read_results(path: Path) -> dict[str, Any]:
    """A results file, checked; errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    return check_results(data, str(path))


def find_results(run_dir: Path, depth: int = 3) -> list[Path]:
    """Results files in a run folder and up to ``depth`` folders below it (the trainer's out_dir is usually
    ``<run>/train``), sorted by their path relative to the run folder."""
    found: set[Path] = set()
    for level in range(depth + 1):
        prefix = "*/" * level
        found.update(run_dir.glob(f"{prefix}*{RESULTS_SUFFIX}"))
        found.update(run_dir.glob(f"{prefix}{FOLDER_RESULTS}"))
    return sorted(p for p in found if p.is_file())


def bpb_name(entry: dict[str, Any]) -> str:
    """What a bits-per-byte entry measured: a text file, or a token dataset's split."""
    if "file" in entry:
        return str(entry["file"])
    return f"{entry.get('dataset', '?')} [{entry.get('split', '?')}]"
