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

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "metric": self.metric, "value": self.value, "items": self.items,
                "random_baseline": self.random_baseline, "seconds": round(self.seconds, 3), **self.metrics}


def evaluate_task(loaded: LoadedModel, spec: TaskSpec, *, limit: int | None = None, seed: int = DEFAULT_SEED,
                  device: torch.device | str = "cpu", batch_tokens: int = 4096, dist: Dist | None = None,
                  progress: TextIO | None = None,
                  min_shared_prefix: int | None = MIN_SHARED_PREFIX) -> TaskResult:
    """Score the first ``limit`` items (all by default) of one task; shots come from the whole file.
    Progress (items/s) goes to ``progress`` on rank 0 when given. An item's choices that share at least
    ``min_shared_prefix`` context tokens read them once (None: one full forward per choice)."""
    started = time.perf_counter()
    items = spec.load_items()
    count = len(items) if limit is None else min(limit, len(items))
    rank, world = (dist.rank, dist.world_size) if dist is not None else (0, 1)
    mine = list(range(rank, count, world))
    outcomes: dict[int, dict[str, float]] = {}
    for chunk_start in range(0, len(mine), ITEMS_PER_CHUNK):
        chunk = mine[chunk_start:chunk_start + ITEMS_PER_CHUNK]
        requests = [item_requests(spec.type, items, i, spec.shots, seed, spec.continuation_delimiter,
                                  spec.example_delimiter) for i in chunk]
        groups = [[encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text) for r in item_reqs]
                  for item_reqs in requests]
        scores = score_groups(loaded, groups, device=device, batch_tokens=batch_tokens,
                              min_shared_prefix=min_shared_prefix)
        for i, item_scores in zip(chunk, scores):
            outcomes[i] = item_outcome(spec.type, items[i], item_scores)
        if progress is not None and rank == 0:
            done = chunk_start + len(chunk)
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.write(f"\r{spec.name}: {done * world}/{count} items, {rate * world:.1f} items/s")
            progress.flush()
    if dist is not None and dist.distributed:
        merged: dict[int, dict[str, float]] = {}
        for part in all_gather_objects(outcomes, dist):
            merged.update(part)
        outcomes = merged
    ordered = [outcomes[i] for i in range(count)]
    metrics = aggregate(spec.type, ordered)
    baseline = spec.random_baseline if spec.random_baseline is not None else random_baseline(spec.type, items[:count])
    seconds = time.perf_counter() - started
    if progress is not None and rank == 0:
        progress.write(f"\r{spec.name}: {spec.metric} {metrics[spec.metric]:.4f} on {count} items "
                       f"({count / max(seconds, 1e-9):.1f} items/s)\n")
    return TaskResult(name=spec.name, type=spec.type, metric=spec.metric, value=metrics[spec.metric], items=count,
                      random_baseline=baseline, seconds=seconds, metrics=metrics, per_item=ordered)


def core_summary(results: list[TaskResult], core_tasks: list[str]) -> dict[str, Any] | None:
    """CORE over the tasks of the ``core`` group that were scored, naming which were and which were not."""
    scored = {r.name: {"value": r.value, "random_baseline": r.random_baseline} for r in results if r.name in core_tasks}
    if not scored:
        return None
    return {"value": core_score(scored), "tasks": sorted(scored),
            "not_scored": sorted(set(core_tasks) - set(scored)),
            "note": "DCLM CORE: mean over tasks of (accuracy - random baseline) / (1 - random baseline); "
                    "squad and coqa are not in the bundle, so at most 20 of its 22 tasks"}
