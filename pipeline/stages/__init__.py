"""The stages a manifest can run, in their default order.

Each stage module defines ``STAGE`` (its name and manifest section under ``stages:``), ``Options`` (a
pydantic model of that section) and ``run(manifest, inputs) -> StageResult``, where ``inputs`` are the
document shards the previous stage recorded (relative to the run folder; empty for ``crawl``). A stage that
is one map over shards calls ``pipeline.runner.run_stage``; a multi-step stage (dedup) runs several.
"""

from __future__ import annotations

import importlib
from types import ModuleType

STAGE_MODULES: dict[str, str] = {
    "crawl": "pipeline.stages.crawl",
    "filter": "pipeline.stages.filter",
    "dedup": "pipeline.stages.dedup",
    "tokenize": "pipeline.stages.tokenize",
}
DEFAULT_ORDER = list(STAGE_MODULES)


def stage_module(name: str) -> ModuleType:
    if name not in STAGE_MODULES:
        raise ValueError(f"unknown stage {name!r}; allowed: {list(STAGE_MODULES)}")
    return importlib.import_module(STAGE_MODULES[name])
