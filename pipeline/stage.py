"""What a stage is: its name, options, what it consumes and produces, where its outputs lie, and its run.

Each stage module (``pipeline.stages.*``) defines one ``Stage`` as ``DEFINITION``. The run driver chains
stages by what they declare (the first consumes nothing, each next one consumes what the previous
produces), the manifest model takes each stage's ``options``, and the report finds a stage's files
through ``outputs`` instead of importing the stage's internals.

A stage runs with a ``RunContext``: the run folder, the validated manifest, the seed and the executor
every task of the run goes through (``pipeline.executors``: Ray for runs, in-process for tests and
debugging). Ray's task settings are read once, where the context is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from pydantic import BaseModel

from pipeline.executors import Executor, InProcessExecutor, RayExecutor
from pipeline.runner import StageResult, Task, TaskResult, run_stage

if TYPE_CHECKING:  # the manifest module builds its model from the stages, so only types come from it
    from pipeline.manifest import LoadedManifest

DOCUMENTS = "documents"  # Parquet document shards (``pipeline.documents.DOC_SCHEMA``), one source each
TOKENS = "tokens"  # the token dataset (``tokens/index.json`` and its shards): nothing reads it after


@dataclass(frozen=True)
class RunContext:
    """What a stage's run needs besides its inputs; one per run, shared by its stages."""

    manifest: "LoadedManifest"
    executor: Executor = field(default_factory=InProcessExecutor)
    progress_every_s: float = 2.0  # seconds between progress lines on stderr (the last one always prints)

    @classmethod
    def on_ray(cls, manifest: "LoadedManifest") -> "RunContext":
        """The context of a run: tasks on Ray with the manifest's ``ray`` settings."""
        return cls(manifest, RayExecutor.from_settings(manifest.ray))

    @property
    def run_dir(self) -> Path:
        return self.manifest.run_dir

    @property
    def seed(self) -> int:
        return self.manifest.run.seed

    @property
    def sources(self) -> list[Any]:
        """The manifest's sources (pydantic models, one per ``sources:`` entry), in manifest order."""
        return list(self.manifest.sources)

    def options(self, stage: str) -> Any:
        """The validated ``stages.<stage>`` section of the manifest."""
        return getattr(self.manifest.stages, stage)

    def run_tasks(self, step: str, tasks: list[Task], fn: Callable[[Any], TaskResult],
                  docs_key: str = "docs_out") -> StageResult:
        """Run one step's tasks resumably (``pipeline.runner.run_stage``) with this run's executor."""
        return run_stage(self.run_dir, step, tasks, fn, executor=self.executor, docs_key=docs_key,
                         progress_every_s=self.progress_every_s)


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline, declared.

    ``consumes``/``produces`` name what flows between stages (``DOCUMENTS``, ``TOKENS``; ``None``: the
    stage reads the sources). ``outputs`` maps a name to a folder or file relative to the run folder
    (``<hash>``, ``<source>`` stand for parts filled in at run time); readers of a run (the report)
    look files up here. ``run(context, inputs)`` gets the previous stage's recorded outputs.
    """

    name: str
    options: type[BaseModel]
    run: Callable[[RunContext, list[str]], StageResult]
    consumes: str | None
    produces: str
    outputs: Mapping[str, str]

    def output(self, name: str, **parts: str) -> str:
        """A declared output's location relative to the run folder, with the placeholders given in ``parts``
        filled in (``"*"`` makes a glob pattern); an undeclared name is an error naming the declared ones."""
        if name not in self.outputs:
            raise KeyError(f"stage {self.name!r} declares no output {name!r}; it declares {sorted(self.outputs)}")
        location = self.outputs[name]
        for key, value in parts.items():
            location = location.replace(f"<{key}>", value)
        return location

    def match(self, name: str, path: str) -> dict[str, str] | None:
        """The placeholder values of ``path`` if it lies in declared output ``name`` (``file``: the part below
        a declared folder), else None."""
        pattern = re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", re.escape(self.output(name)).replace(r"\<", "<").replace(
            r"\>", ">"))
        found = re.fullmatch(pattern + ("(?P<file>.+)" if self.outputs[name].endswith("/") else ""), path)
        return found.groupdict() if found else None


def check_order(stages: list[Stage]) -> None:
    """Refuse an order whose stages cannot feed each other, naming the pair and what each declares."""
    for i, stage in enumerate(stages):
        if i == 0:
            if stage.consumes is not None:
                raise ValueError(f"stages.order must start with crawl (the stage that reads the sources); "
                                 f"{stage.name} consumes {stage.consumes}")
            continue
        before = stages[i - 1]
        if stage.consumes is None:
            raise ValueError(f"stages.order: {stage.name} reads the sources, so it must come first")
        if stage.consumes != before.produces:
            raise ValueError(f"stages.order: {before.name} must be the last stage (it produces {before.produces}, "
                             f"{stage.name} after it consumes {stage.consumes}); got {[s.name for s in stages]}")
