"""The training config: one YAML file validated before anything starts, in the manifests' style.

Why pydantic, as for the manifests (``pipeline.manifest``): a typo must be refused, not silently ignored,
and each error must name the key path, the bad value and what is allowed. Relative paths resolve against
the config file's folder, so a config works from any working directory.

Example (``training/configs/demo.yaml`` is a full one)::

    out_dir: ../../runs/demo/train           # checkpoint.pt and metrics.jsonl go here
    seed: 1337
    data: {dataset: ../../runs/demo/tokens}  # weights / max_epochs default to the manifest's
    model: {preset: cpu-small, overrides: {dropout: 0.0}}
    optim: {batch_tokens: 4096, micro_batch: 8, max_steps: 200, lr: 2.0e-3, warmup_steps: 20}

Batch arithmetic, worked: context 256 and ``batch_tokens: 4096`` give a global batch of 16 sequences;
with ``micro_batch: 8`` and 2 processes each process runs one micro-step of 8; alone it accumulates two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts import config_errors  # one layout for every YAML error the user sees
from model.gpt import PRESETS, GPTConfig


class ConfigError(ValueError):
    """A training config that cannot be run; the message lists every problem with its key path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DataSection(Strict):
    dataset: str = Field(description="the tokenize stage's output folder (holds index.json)")
    weights: dict[str, float] | None = Field(None, description="mixture {source: weight}; default: the index's")
    max_epochs: dict[str, float] | None = Field(None, description="{source: epochs}; default: the index's")


class ModelSection(Strict):
    preset: Literal[tuple(PRESETS)] = Field("cpu-small", description="a model.gpt preset")  # type: ignore[valid-type]
    overrides: dict[str, Any] = Field(default_factory=dict, description="GPTConfig fields to change; "
                                      "vocab_size defaults to the tokenizer's, rounded up to a multiple of 64")

    @model_validator(mode="after")
    def _known_fields(self) -> ModelSection:
        GPTConfig.preset(self.preset, **self.overrides)  # raises naming unknown fields or bad values
        return self


class OptimSection(Strict):
    batch_tokens: int = Field(8192, ge=1, description="global batch in tokens (all processes, all micro-steps)")
    micro_batch: int = Field(8, ge=1, description="sequences per process per forward/backward")
    max_steps: int = Field(ge=1, description="optimiser steps; the cosine decay ends here")
    lr: float = Field(1e-3, gt=0, description="peak learning rate, reached after warmup_steps")
    min_lr: float = Field(1e-4, ge=0, description="learning rate at max_steps")
    warmup_steps: int = Field(10, ge=0)
    weight_decay: float = Field(0.1, ge=0, description="applied to matrices and embeddings only")
    beta1: float = Field(0.9, gt=0, lt=1)
    beta2: float = Field(0.95, gt=0, lt=1)
    grad_clip: float = Field(1.0, ge=0, description="max global gradient norm; 0 turns clipping off")

    @model_validator(mode="after")
    def _lr_order(self) -> OptimSection:
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr ({self.min_lr}) must not exceed lr ({self.lr})")
        return self


class EvalSection(Strict):
    every: int = Field(100, ge=0, description="steps between validation passes (and one at the end); 0 = never")
    batches: int = Field(8, ge=1, description="validation batches per source at most (the same ones every time)")
    batch_size: int = Field(8, ge=1, description="sequences per validation batch per process")
    tasks: list[str] = Field(default_factory=list, description="benchmark tasks or groups "
                             "(training/benchmarks/tasks.yaml) scored at every validation pass, e.g. "
                             "[core.copa, core.winogrande]; logged as 'benchmark' records")
    task_limit: int = Field(100, ge=1, description="items per benchmark task at each pass (the first ones)")
    bpb_text: str | None = Field(None, description="a UTF-8 text file whose bits per byte are measured at every "
                                 "validation pass (logged as 'bpb' records): a yardstick comparable across "
                                 "datasets and tokenizers; relative to the config")

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[str]) -> list[str]:
        if tasks:
            from training.benchmarks.tasks import load_registry  # only configs that name tasks read the registry

            load_registry().select(",".join(tasks))  # ValueError naming the unknown task and the known ones
        return tasks


class CheckpointSection(Strict):
    every: int = Field(1000, ge=0, description="steps between checkpoints (one is always written at the end); "
                       "the default suits GPU step times (gpt2-124m: a 1.5 GB write every ~10 min on 8 GPUs)")
    background: bool = Field(True, description="copy the state to CPU memory and write it on a background "
                             "thread while training goes on (still atomic); false writes before the next step")


class SystemSection(Strict):
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda if available, else cpu")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="autocast dtype; auto: bfloat16 on CUDA with bf16 support, float32 on CPU "
        "(bf16 autocast measured ~50x slower than fp32 on CPUs without bf16 matmul units)")
    compile: Literal["auto", True, False] = Field(
        "auto", description="torch.compile the model; auto: on for CUDA, off on CPU (no reliable gain "
        "measured there for ~30 s of compile)")
    threads: int | None = Field(None, ge=1, description="torch intra-op threads; default torch's own choice")
    compile_backend: str = Field("inductor", description="torch.compile backend when compiling; 'aot_eager' or "
                                 "'eager' tell a compiler bug from a model bug")
    tf32: bool = Field(True, description="TF32 tensor cores for fp32 matmuls on CUDA (what autocast leaves in "
                       "fp32); false for an exact fp32 reference")
    peak_flops: float | None = Field(None, gt=0, description="per-device peak FLOP/s for MFU; default the GPU's "
                                     "datasheet dense peak by device name (training.metrics.STATED_PEAK), else a "
                                     "matmul measured at start-up")
    log_every: int = Field(1, ge=1, description="steps between train records in metrics.jsonl; tokens/s and "
                           "MFU cover every step in between")
    prefetch: bool = Field(True, description="assemble the next step's batch on a background thread (into "
                           "pinned memory on CUDA) while the current step trains")


class TrainConfig(Strict):
    out_dir: str = Field(description="folder for checkpoint.pt and metrics.jsonl; relative to the config")
    seed: int = 0
    init_from: str | None = Field(None, description="start from these weights (continued pretraining): a "
                                  "refinery language-model checkpoint or a Hugging Face GPT-2 folder; relative "
                                  "to the config. The architecture is the source's: leave model.preset out "
                                  "(model.overrides may set dropout only). See training/init_from.py")
    data: DataSection
    model: ModelSection = Field(default_factory=ModelSection)
    optim: OptimSection
    eval: EvalSection = Field(default_factory=EvalSection)
    checkpoint: CheckpointSection = Field(default_factory=CheckpointSection)
    system: SystemSection = Field(default_factory=SystemSection)

    @model_validator(mode="after")
    def _init_from_sets_the_architecture(self) -> TrainConfig:
        if self.init_from is None:
            return self
        if "preset" in self.model.model_fields_set:
            raise ValueError("init_from takes the architecture from its source: leave model.preset out")
        other = sorted(set(self.model.overrides) - INIT_FROM_OVERRIDES)
        if other:
            raise ValueError(f"init_from takes the architecture from its source: model.overrides may set only "
                             f"{sorted(INIT_FROM_OVERRIDES)}, not {other}")
        return self


INIT_FROM_OVERRIDES = {"dropout"}
"""What a run started from another model's weights may change of its architecture (as nanoGPT allows)."""
RESUME_MUST_MATCH = ("seed", "init_from", "data", "model", "optim")
"""Sections that decide the weights and the data order: a resume with any of them changed is refused."""
RESUME_MAY_DIFFER = ("data.dataset",)
"""The dataset may move: its identity (index hash, tokenizer) is checked instead of its path."""


def format_errors(error: ValidationError, origin: str) -> str:
    """One line per problem, in the same layout as the manifests' errors."""
    return config_errors.format_errors(error, f"invalid training config {origin}", TrainConfig)


def _resolve(path: str, base: Path) -> str:
    return path if Path(path).is_absolute() else str((base / path).resolve())


def parse_config(data: Any, origin: str = "<dict>", base: Path | None = None) -> TrainConfig:
    """Validate a config mapping; relative paths resolve against ``base`` (default: the working directory)."""
    if not isinstance(data, dict):
        raise ConfigError(f"training config {origin} must be a mapping with keys out_dir, seed, data, model, "
                          f"optim, eval, checkpoint, system; got {type(data).__name__}")
    try:
        config = TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, origin)) from None
    base = base or Path.cwd()
    config.out_dir = _resolve(config.out_dir, base)
    config.data.dataset = _resolve(config.data.dataset, base)
    if config.eval.bpb_text is not None:
        config.eval.bpb_text = _resolve(config.eval.bpb_text, base)
    if config.init_from is not None:
        config.init_from = _resolve(config.init_from, base)
    return config


def read_yaml(path: str | Path, what: str) -> Any:
    """A YAML file's data for ``what`` ("training config", "fine-tuning config"); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))  # safe_load: no Python objects from YAML
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    return parse_config(read_yaml(path, "training config"), str(path), path.resolve().parent)


def load_options(path: str | Path, schema: type[BaseModel], what: str,
                 path_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """A flat YAML file of a command's options (the fine-tuning commands' ``--config``), validated against
    ``schema`` as the training config is: an unknown key or a wrong type is a ConfigError naming the file
    and the key, in the same layout. Returns only the keys the file sets, ``path_keys`` resolved against
    the file's folder (as the training config's paths are), so the caller can lay them under its flags."""
    path = Path(path)
    data = read_yaml(path, what)
    if data is None:  # an empty file (or only comments) sets nothing
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a mapping of option names to values; got {type(data).__name__}")
    try:
        options = schema.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(config_errors.format_errors(exc, f"invalid {what} {path}", schema)) from None
    values = {key: getattr(options, key) for key in options.model_fields_set}
    base = path.resolve().parent
    return {key: _resolve(value, base) if key in path_keys and isinstance(value, str) else value
            for key, value in values.items()}


def resume_differences(saved: dict[str, Any], current: TrainConfig) -> list[str]:
    """Key paths, within RESUME_MUST_MATCH, whose values differ between a checkpoint's config and now."""
    now = current.model_dump(mode="json")

    def walk(a: Any, b: Any, path: str) -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            return [d for k in sorted(set(a) | set(b)) for d in walk(a.get(k), b.get(k), f"{path}.{k}")]
        if path in RESUME_MAY_DIFFER:
            return []
        return [] if a == b else [f"{path}: checkpoint {a!r}, config {b!r}"]

    return [d for key in RESUME_MUST_MATCH for d in walk(saved.get(key), now.get(key), key)]
