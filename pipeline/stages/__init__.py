"""The stages a manifest can run, in their default order: the one registry of stages.

Each stage module defines ``DEFINITION``, a ``pipeline.stage.Stage`` (name, ``Options`` for its manifest
section under ``stages:``, what it consumes and produces, its declared outputs, and
``run(context, inputs) -> StageResult``). ``inputs`` are the document shards the previous stage recorded
(relative to the run folder; empty for ``crawl``). Every task of every stage goes through the context's
executor (``RunContext.run_tasks``); a multi-step stage (filter, dedup) runs one step after another.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.stage import Stage

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


def get_stage(name: str) -> Stage:
    """The declared stage ``name`` (imported on first use: stages pull in heavy libraries)."""
    definition = stage_module(name).DEFINITION
    assert definition.name == name, f"{STAGE_MODULES[name]} declares stage {definition.name!r}, not {name!r}"
    return definition
