"""Benchmark scores during training: the config's ``eval.tasks`` on their first ``eval.task_limit`` items,
at every validation pass, logged to metrics.jsonl as ``{"kind": "benchmark", "step", "tasks", "core"}``.

The tasks and their data are resolved when training starts, so a misspelt task or a missing file stops
the run before the first step rather than at the first evaluation hours later.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from training.benchmarks.harness import core_summary, evaluate_task
from training.benchmarks.model_source import from_trained
from training.benchmarks.tasks import load_registry
from training.distributed import Dist


class TrainingBenchmarks:
    """The tasks named in the training config, loaded once, scored on demand."""

    def __init__(self, names: list[str], limit: int, tokenizer_spec: dict[str, Any]) -> None:
        registry = load_registry()
        self.specs = registry.select(",".join(names))
        self.core_tasks = registry.groups.get("core", [])
        self.limit = limit
        self.tokenizer_spec = tokenizer_spec
        for spec in self.specs:
            spec.load_items()  # fail now on a missing or bad file

    @torch.no_grad()
    def run(self, model: torch.nn.Module, dist: Dist, autocast: Any = None) -> dict[str, Any]:
        """{"tasks": {name: {"metric", "value", "items", "random_baseline"}}, "core": value or None}."""
        loaded = from_trained(model, self.tokenizer_spec)
        was_training = model.training
        model.eval()
        try:
            with autocast or contextlib.nullcontext():
                results = [evaluate_task(loaded, spec, limit=self.limit, device=dist.device, dist=dist)
                           for spec in self.specs]
        finally:
            model.train(was_training)
        core = core_summary(results, self.core_tasks)
        return {"tasks": {r.name: {"metric": r.metric, "value": r.value, "items": r.items,
                                   "random_baseline": r.random_baseline} for r in results},
                "core": core["value"] if core else None}
