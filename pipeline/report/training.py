"""Training metrics for the report: loss curves overall and per source, tokens/s, lr, realised mixture.

Reads the trainer's ``metrics.jsonl`` (``training.metrics``: one object per line with ``kind`` ``start``,
``train`` or ``eval``; train records hold ``loss``, ``lr``, ``tokens_per_s``, ``mixture.{source}``; eval
records hold ``val_loss.{source}`` and ``val_loss_overall``). The reader is deliberately tolerant, since
the trainer's format may grow: nested objects are flattened with dots, any numeric field becomes a series
named ``<kind>/<field>``, and series are sorted into plots by their names (``loss``, a source name,
``tok…/s``, ``lr``, ``accuracy``), so a new field shows up instead of breaking the report. Fine-tuning runs
write the same format (``training.finetune_common.FinetuneLoop``), so ``--train-dir`` pointed at one draws
its train and validation loss, learning rate and (classification) validation accuracy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_POINTS = 2000  # per series in stats.json: evenly thinned, the last point always kept
X_KEYS = ("step", "iter", "iteration", "global_step")
THROUGHPUT = re.compile(r"tok(en)?s?[_/ -]?(per[_ -]?s(ec(ond)?)?$|/s$|ps$)")
SKIP_KINDS = {"start", "config", "meta"}


def find_metrics(run_dir: Path, train_dir: str | Path | None) -> list[Path]:
    """``metrics*.jsonl`` in ``train_dir`` (if given) or at most two folders deep in the run folder."""
    if train_dir is not None:
        base = Path(train_dir)
        if base.is_file():
            return [base]
        if not base.is_dir():
            raise FileNotFoundError(f"--train-dir {base}: no such file or folder")
        return sorted(base.glob("metrics*.jsonl")) + sorted(base.glob("*/metrics*.jsonl"))
    found: list[Path] = []
    for pattern in ("metrics*.jsonl", "*/metrics*.jsonl", "*/*/metrics*.jsonl"):
        found.extend(sorted(run_dir.glob(pattern)))
    return found


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            out[name] = float(value)
    return out


def read_series(path: Path) -> tuple[str, dict[str, tuple[list[float], list[float]]]]:
    """``(x name, {series: (x, y)})`` of one metrics file; torn or non-JSON lines are skipped."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    x_name = "record"
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("kind") or record.get("type") or record.get("split")
        if kind in SKIP_KINDS:
            continue
        values = _flatten(record)
        x_key = next((k for k in X_KEYS if k in values), None)
        if x_key is not None:
            x_name = x_key
        x = values.pop(x_key) if x_key else float(number)
        for key, y in values.items():
            name = f"{kind}/{key}" if isinstance(kind, str) else key
            xs, ys = series.setdefault(name, ([], []))
            xs.append(x)
            ys.append(y)
    return x_name, series


def _thin(xs: list[float], ys: list[float]) -> dict[str, list[float]]:
    if len(xs) > MAX_POINTS:
        step = len(xs) / MAX_POINTS
        keep = sorted({int(i * step) for i in range(MAX_POINTS)} | {len(xs) - 1})
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    return {"x": xs, "y": ys}


def classify(name: str, sources: list[str]) -> tuple[str, str | None]:
    """Which plot a series belongs to: ``loss``, ``source_loss``, ``accuracy`` (a fine-tuned classifier's
    validation accuracy), ``throughput``, ``lr``, ``mixture``, ``benchmark`` or ``other``; and its source,
    when one of the name's dotted parts is a source name."""
    field = name.split("/", 1)[-1]
    if name.startswith("benchmark/") and (field == "core" or field.endswith(".value")):
        return "benchmark", None  # in-training benchmark scores (training.benchmarks.in_training)
    source = next((s for s in sorted(sources, key=len, reverse=True)
                   if field.endswith("." + s) or f".{s}." in field), None)
    last = field.rsplit(".", 1)[-1] if source is None else field[: -len(source) - 1]
    if "mixture" in field and source:
        return "mixture", source
    if "loss" in field:
        return ("source_loss", source) if source else ("loss", None)
    if name.startswith("eval/") and "accuracy" in last.lower():
        return "accuracy", None
    if THROUGHPUT.search(last.lower()):
        return "throughput", None
    if last.lower() in ("lr", "learning_rate"):
        return "lr", None
    return "other", source


def collect_training(run_dir: Path, train_dir: str | Path | None, sources: list[str]) -> dict[str, Any] | None:
    files = find_metrics(run_dir, train_dir)
    if not files:
        return None
    out: dict[str, Any] = {"files": [], "x": "step", "series": {}, "last": {}, "realised_mixture": {}}
    for path in files:
        x_name, series = read_series(path)
        if not series:
            continue
        label = str(path.relative_to(run_dir)) if path.is_relative_to(run_dir) else str(path)
        out["files"].append(label)
        out["x"] = x_name
        prefix = "" if len(files) == 1 else f"{path.parent.name}:"
        for name, (xs, ys) in sorted(series.items()):
            group, source = classify(name, sources)
            out["series"][prefix + name] = {"group": group, "source": source, **_thin(xs, ys)}
            out["last"][prefix + name] = ys[-1]
            if group == "mixture" and source:
                out["realised_mixture"][source] = ys[-1]
    return out if out["files"] else None
