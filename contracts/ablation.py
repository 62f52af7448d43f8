"""The ablation file: one YAML naming a base manifest, its variants, one model, a token budget and seeds.

Why a file of its own and not a manifest section: an ablation compares several manifests (the variants)
trained the same way, so it sits above them. Why in ``contracts``: two packages read it, ``pipeline``
(``pipeline.ablation`` builds the variants' token datasets and the held-out set) and ``training``
(``training.ablate`` trains and scores them), and neither may import the other; the folder layout they
share is here too (``Layout``). Validated with pydantic in the manifests' style (unknown keys refused,
each error naming its key path); relative paths resolve against the ablation file's folder. What needs a
package of its own is checked there: the manifest of every variant (``pipeline.ablation.plan``), the model
preset and the benchmark task names (``training.ablate``).

Example (``ablations/demo.yaml`` is a full one)::

    name: demo
    manifest: ../manifests/ablation-demo.yaml   # sources and stage options shared by every variant
    output_dir: ../runs/ablations               # everything goes to <output_dir>/<name>/
    variants:
      raw: {stages: {order: [crawl, tokenize]}}  # extracted and cleaned only
      filtered: {stages: {order: [crawl, filter, tokenize]}}
      filtered+dedup: {}                         # the manifest as it is
    held_out: {docs: {wiki: 8, books: 1}, max_bytes: 400000}
    training:
      model: {preset: cpu-small}
      token_budget: 600000
      seeds: [1, 2, 3]
      optim: {batch_tokens: 4096, micro_batch: 8, lr: 1.5e-3}
    benchmarks: {tasks: [core.copa], limit: 100}

A variant overrides the manifest's ``stages`` section (merged key by key; ``order`` and lists replace)
and may change the training mixture (``weights``, ``max_epochs``); the sources stay the same, so every
variant starts from the same crawl and the held-out set is drawn from it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts import config_errors

VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


class AblationError(ValueError):
    """An ablation file that cannot be run; the message names the key path and the problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Variant(Strict):
    stages: dict[str, Any] = Field(default_factory=dict, description="overrides of the manifest's stages "
                                   "section, merged key by key (order and lists replace)")
    weights: dict[str, float] | None = Field(None, description="training mixture {source: weight}; default "
                                             "training.weights, else the token index's")
    max_epochs: dict[str, float] | None = Field(None, description="{source: epochs}; default training.max_epochs")


class HeldOut(Strict):
    docs: dict[str, int] = Field(min_length=1, description="{source: documents held out}: drawn from the "
                                 "shared crawl's documents of that source, lowest hash of their id first")
    max_bytes: int = Field(400_000, ge=1_000, description="UTF-8 bytes of held-out text at most; the last "
                           "document is cut there (it is still removed whole from every variant)")
    near_threshold: float = Field(0.7, gt=0, lt=1, description="a variant's document whose estimated "
                                  "Jaccard similarity (MinHash) with a held-out one reaches this is removed")
    ngram: int = Field(5, ge=1, le=64, description="words per shingle (FineWeb's dedup uses 5)")
    num_perm: int = Field(112, ge=16, le=1024, description="MinHash permutations")


class Optim(Strict):
    batch_tokens: int = Field(4096, ge=1)
    micro_batch: int = Field(8, ge=1)
    lr: float = Field(1.5e-3, gt=0)
    min_lr: float = Field(1.5e-4, ge=0)
    warmup_steps: int = Field(20, ge=0)
    weight_decay: float = Field(0.1, ge=0)
    beta1: float = Field(0.9, gt=0, lt=1)
    beta2: float = Field(0.95, gt=0, lt=1)
    grad_clip: float = Field(1.0, ge=0)


class ModelSpec(Strict):
    preset: str = Field("cpu-small", description="a model.gpt preset (checked by training.ablate)")
    overrides: dict[str, Any] = Field(default_factory=dict, description="GPTConfig fields to change")


class Training(Strict):
    model: ModelSpec = Field(default_factory=ModelSpec)
    token_budget: int = Field(ge=1, description="training tokens per run, the same for every variant; "
                              "steps = token_budget // optim.batch_tokens")
    seeds: list[int] = Field(min_length=1, description="one run per (variant, seed)")
    weights: dict[str, float] | None = None
    max_epochs: dict[str, float] | None = None
    optim: Optim = Field(default_factory=Optim)
    eval_every: int = Field(50, ge=1, description="steps between evaluations (held-out bits per byte, "
                            "benchmarks): the learning curves' points")
    eval_batches: int = Field(4, ge=1, description="validation batches per source at each evaluation")
    checkpoint_every: int | None = Field(None, ge=1, description="default: eval_every")
    system: dict[str, Any] = Field(default_factory=dict, description="the training config's system section")

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat: {seeds}")
        return seeds

    @model_validator(mode="after")
    def _budget(self) -> Training:
        if self.token_budget < self.optim.batch_tokens:
            raise ValueError(f"token_budget {self.token_budget} is less than one step of optim.batch_tokens="
                             f"{self.optim.batch_tokens}")
        return self

    @property
    def max_steps(self) -> int:
        return self.token_budget // self.optim.batch_tokens


class Benchmarks(Strict):
    tasks: list[str] = Field(default_factory=list, description="tasks or groups of training/benchmarks/tasks.yaml")
    limit: int = Field(100, ge=1, description="items per task (the first ones), the same for every run")



class Runner(Strict):
    kind: Literal["local", "ray"] = Field("local", description="local: runs one after another in this "
                                          "process; ray: one Ray task per run (one GPU each with gpus_per_run)")
    ray_address: str | None = Field(None, description="join this cluster; default an embedded local Ray")
    cpus_per_run: float = Field(1, gt=0)
    gpus_per_run: float = Field(0, ge=0)
    pipeline: Literal["ray", "in-process"] = Field("ray", description="executor of the pipeline stages")


class AblationModel(Strict):
    name: str
    manifest: str = Field(description="the base manifest: sources and stage options")
    output_dir: str = Field(description="the ablation folder is <output_dir>/<name>")
    variants: dict[str, Variant] = Field(min_length=1)
    held_out: HeldOut
    training: Training
    benchmarks: Benchmarks = Field(default_factory=Benchmarks)
    runner: Runner = Field(default_factory=Runner)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not VARIANT_NAME.match(name):
            raise ValueError(f"{name!r} must be 1-64 letters, digits or _.+- (it names a folder)")
        return name

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, variants: dict[str, Variant]) -> dict[str, Variant]:
        for name in variants:
            if not VARIANT_NAME.match(name):
                raise ValueError(f"variant name {name!r} must be 1-64 letters, digits or _.+- (it names a folder)")
        return variants


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged into ``base``: mappings key by key, anything else (lists included) replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)



class Layout:
    """Where everything of an ablation lies under its folder: the contract between the data side and the
    training side (and the report)."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def stages(self) -> Path:
        """One folder per stage node (``stages/<stage>-<key>``), shared by the variants that reach it."""
        return self.root / "stages"

    @property
    def held_out(self) -> Path:
        return self.root / "held_out"

    @property
    def held_out_text(self) -> Path:
        """The yardstick: UTF-8 text no variant trains on."""
        return self.held_out / "held_out.txt"

    @property
    def data_record(self) -> Path:
        """Written last by the data side: each variant's token dataset, its stage nodes and data funnel."""
        return self.root / "data.json"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_dir(self, variant: str, seed: int, config_tag: str) -> Path:
        """A run's folder, named by its training config's digest too: a changed recipe trains new runs
        beside the old ones instead of being refused by (or resuming) their checkpoints."""
        return self.runs / variant / f"seed-{seed}-{config_tag}"

    @property
    def report(self) -> Path:
        return self.root / "report"


@dataclass
class Ablation:
    """A validated ablation file, its folder and its base manifest's text (still unvalidated YAML data)."""

    model: AblationModel
    path: Path
    layout: Layout
    manifest_path: Path
    manifest_data: dict[str, Any]

    @property
    def variants(self) -> list[str]:
        return list(self.model.variants)

    def variant_data(self, variant: str) -> dict[str, Any]:
        """The base manifest's data with the variant's ``stages`` merged in."""
        data = copy.deepcopy(self.manifest_data)
        data["stages"] = deep_merge(data.get("stages") or {}, self.model.variants[variant].stages)
        return data


def _resolve(path: str, base: Path) -> Path:
    return Path(path) if Path(path).is_absolute() else (base / path).resolve()


def parse_ablation(data: Any, origin: str, base: Path) -> Ablation:
    """Validate an ablation mapping; relative paths resolve against ``base``."""
    if not isinstance(data, dict):
        raise AblationError(f"ablation file {origin} must be a mapping with keys name, manifest, output_dir, "
                            f"variants, held_out, training; got {type(data).__name__}")
    try:
        model = AblationModel.model_validate(data)
    except ValidationError as exc:
        raise AblationError(config_errors.format_errors(exc, f"invalid ablation file {origin}", AblationModel)) \
            from None
    manifest_path = _resolve(model.manifest, base)
    if not manifest_path.is_file():
        raise AblationError(f"ablation file {origin}: manifest {manifest_path} not found")
    try:
        manifest_data = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AblationError(f"manifest {manifest_path} is not valid YAML: {exc}") from None
    if not isinstance(manifest_data, dict):
        raise AblationError(f"manifest {manifest_path} must be a mapping")
    sources = sorted(s.get("name") for s in manifest_data.get("sources") or [] if isinstance(s, dict))
    problems = [f"held_out.docs: {name!r} is not a source of {manifest_path} ({sources})"
                for name in model.held_out.docs if name not in sources]
    for variant, spec in model.variants.items():
        for key in ("weights", "max_epochs"):
            problems += [f"variants.{variant}.{key}: {source!r} is not a source of the manifest ({sources})"
                         for source in (getattr(spec, key) or {}) if source not in sources]
    for key in ("weights", "max_epochs"):
        problems += [f"training.{key}: {source!r} is not a source of the manifest ({sources})"
                     for source in (getattr(model.training, key) or {}) if source not in sources]
    if problems:
        raise AblationError(f"invalid ablation file {origin}:\n  - " + "\n  - ".join(problems))
    return Ablation(model, Path(origin), Layout(_resolve(model.output_dir, base) / model.name), manifest_path,
                    manifest_data)


def load_ablation(path: str | Path) -> Ablation:
    path = Path(path)
    if not path.is_file():
        raise AblationError(f"ablation file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AblationError(f"ablation file {path} is not valid YAML: {exc}") from None
    return parse_ablation(data, str(path), path.resolve().parent)
