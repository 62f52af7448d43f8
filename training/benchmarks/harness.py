"""Scoring whole tasks: items -> prompts -> batched scores -> metrics, sharded over ranks.

Under torchrun each rank scores items ``rank, rank + W, ...`` and the per-item outcomes are gathered and
put back in item order before any mean is taken, so the figures are those of one process (the few-shot
draw depends only on the item's index and the seed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import torch

from training.benchmarks.metrics import aggregate, core_score, item_outcome, random_baseline
from training.benchmarks.model_source import LoadedModel
from training.benchmarks.prompts import DEFAULT_SEED, item_requests
from training.benchmarks.scoring import MIN_SHARED_PREFIX, encode_pair, score_groups
from training.benchmarks.tasks import TaskSpec
from training.distributed import Dist, all_gather_objects

ITEMS_PER_CHUNK = 64
"""Items prompted and scored together: large enough to fill batches, small enough for steady progress."""


@dataclass
class TaskResult:
    """What the results JSON holds per task."""

    name: str
    type: str
    metric: str
    value: float
    items: int
    random_baseline: float
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    per_item: list[dict[str, float]] = field(default_factory=list)
    skipped_too_long: int = 0

    def to_json(self) -> dict[str, Any]:
        skipped = {"skipped_too_long": self.skipped_too_long} if self.skipped_too_long else {}
        return {"type": self.type, "metric": self.metric, "value": self.value, "items": self.items, **skipped,
                "random_baseline": self.random_baseline, "seconds": round(self.seconds, 3), **self.metrics}


def evaluate_task(loaded: LoadedModel, spec: TaskSpec, *, limit: int | None = None, seed: int = DEFAULT_SEED,
                  device: torch.device | str = "cpu", batch_tokens: int = 4096, dist: Dist | None = None,
                  progress: TextIO | None = None,
                  min_shared_prefix: int | None = MIN_SHARED_PREFIX) -> TaskResult:
    """Score the first ``limit`` items (all by default) of one task; shots come from the whole file.
    Progress (items/s) goes to ``progress`` on rank 0 when given. An item's choices that share at least
    ``min_shared_prefix`` context tokens read them once (None: one full forward per choice). An item with
    a continuation longer than the model's context cannot be scored: it is left out of the metrics and
    counted (``skipped_too_long``); ``items`` is the number scored."""
    started = time.perf_counter()
    items = spec.load_items()
    count = len(items) if limit is None else min(limit, len(items))
    rank, world = (dist.rank, dist.world_size) if dist is not None else (0, 1)
    mine = list(range(rank, count, world))
    outcomes: dict[int, dict[str, float] | None] = {}  # None: skipped, a continuation too long
    for chunk_start in range(0, len(mine), ITEMS_PER_CHUNK):
        chunk = mine[chunk_start:chunk_start + ITEMS_PER_CHUNK]
        requests = [item_requests(spec.type, items, i, spec.shots, seed, spec.continuation_delimiter,
                                  spec.example_delimiter) for i in chunk]
        groups = [[encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text) for r in item_reqs]
                  for item_reqs in requests]
        fits = [all(len(continuation) <= loaded.context_length for _, continuation in group) for group in groups]
        scores = iter(score_groups(loaded, [g for g, ok in zip(groups, fits) if ok], device=device,
                                   batch_tokens=batch_tokens, min_shared_prefix=min_shared_prefix))
        for i, ok in zip(chunk, fits):
            outcomes[i] = item_outcome(spec.type, items[i], next(scores)) if ok else None
        if progress is not None and rank == 0:
            done = chunk_start + len(chunk)
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.write(f"\r{spec.name}: {done * world}/{count} items, {rate * world:.1f} items/s")
            progress.flush()
    if dist is not None and dist.distributed:
        merged: dict[int, dict[str, float] | None] = {}
        for part in all_gather_objects(outcomes, dist):
            merged.update(part)
        outcomes = merged
    ordered = [o for o in (outcomes[i] for i in range(count)) if o is not None]
    if not ordered:
        raise ValueError(f"none of its {count} items fits the model's context of {loaded.context_length} tokens")
    metrics = aggregate(spec.type, ordered)
    baseline = spec.random_baseline if spec.random_baseline is not None else random_baseline(spec.type, items[:count])
    seconds = time.perf_counter() - started
    if progress is not None and rank == 0:
        skipped = f", {count - len(ordered)} skipped: a continuation longer than the context" \
            if len(ordered) < count else ""
        progress.write(f"\r{spec.name}: {spec.metric} {metrics[spec.metric]:.4f} on {len(ordered)} items "
                       f"({count / max(seconds, 1e-9):.1f} items/s){skipped}\n")
    return TaskResult(name=spec.name, type=spec.type, metric=spec.metric, value=metrics[spec.metric],
                      items=len(ordered), random_baseline=baseline, seconds=seconds, metrics=metrics,
                      per_item=ordered, skipped_too_long=count - len(ordered))


def core_summary(results: list[TaskResult], core_tasks: list[str]) -> dict[str, Any] | None:
    """CORE over the tasks of the ``core`` group that were scored, naming which were and which were not."""
    scored = {r.name: {"value": r.value, "random_baseline": r.random_baseline} for r in results if r.name in core_tasks}
    if not scored:
        return None
    return {"value": core_score(scored), "tasks": sorted(scored),
            "not_scored": sorted(set(core_tasks) - set(scored)),
            "note": "DCLM CORE: mean over tasks of (accuracy - random baseline) / (1 - random baseline); "
                    "squad and coqa are not in the bundle, so at most 20 of its 22 tasks"}
