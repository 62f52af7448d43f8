"""What both fine-tuning commands share: opening a pretrained checkpoint with its tokenizer, a ledger of
skipped records, seeded splitting, and ``FinetuneLoop``: the optimiser step on the trainer's parts.

``FinetuneLoop`` is built from the pretraining trainer's own pieces, so a fine-tuning run trains, logs and
runs distributed as ``python -m training.train`` does: the process group and device of
``training.distributed`` (``torchrun --nproc_per_node=N -m training.finetune_...`` gives data parallelism:
each rank takes every N-th row of each batch, DDP averages the gradients), AdamW with the trainer's parameter
groups (``model.gpt.adamw``), the trainer's learning-rate schedule (``training.optim.lr_at``: warm-up, cosine
to ``min_lr``; constant by default), gradient clipping, and ``metrics.jsonl`` in the trainer's record format
(``training.metrics.MetricsLog``: start / train / eval records). Checkpoints go through
``model.checkpoint_io`` with their own kind: at every evaluation ``Checkpoints`` writes ``last.pt`` and, on
a better validation score, ``best.pt``; ``--resume`` continues from ``last.pt`` (``open_resume``) with the
optimiser, step, random state and data position, so the run ends with an uninterrupted run's weights.

Both commands take ``--config FILE.yaml`` (``parse_options``): a flat YAML file whose keys are the command's
long options with ``_`` for ``-`` (``batch_size: 16``, ``format: tsv``), validated as the training config is
(``training.config.load_options``: unknown keys and wrong types name the file and key), with flags on the
command line overriding the file. The run records the merged settings (and the file) wherever it records
its config.

Fine-tuning reads hand-made data (TSV exports, scraped JSON), position a few bad records are normal. Each
reader therefore records *why* it skipped a record and position (file:line or file:record), and the run
reports the counts at the end instead of dying on record 3,812 of 5,000.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import typing
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Literal, Sequence, TypeVar

import tiktoken
import torch
from pydantic import BeforeValidator, ConfigDict, create_model
from torch.nn.parallel import DistributedDataParallel

from model.checkpoint_io import (BAD_CHECKPOINT_ERRORS, exit_with_error, load_checkpoint, read_checkpoint,
                                 save_checkpoint)
from model.lora import LoraLinear, merge_lora
from model.gpt import GPT, adamw
from model.tokenizer import END_OF_TEXT, build_tokenizer, end_of_text_id
from training.config import ConfigError, load_options
from training.distributed import Dist, all_gather_objects, all_reduce_sum, setup, teardown
from training.metrics import MetricsLog
from training.optim import lr_at, set_lr

T = TypeVar("T")
METRICS_LOG = "metrics.jsonl"
LAST, BEST = "last.pt", "best.pt"  # the latest state (what --resume reads) and the best by validation
UNDIGESTED = ("out", "resume", "device", "threads", "progress_seconds", "stop_after", "eval_every",
              "generate_examples", "max_new_tokens", "config")
"""Settings that may change between a run and its resume: where it writes, how fast and how often it reports,
not what it learns or in what order (a changed --threads or --device can still change the last bits)."""


@dataclass
class SkipLedger:
    """Counts skipped records by reason and keeps the first few locations of each, for the report."""

    examples_per_reason: int = 3
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, position: str) -> None:
        self.counts[reason] += 1
        seen = self.examples.setdefault(reason, [])
        if len(seen) < self.examples_per_reason:
            seen.append(position)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_reason": dict(self.counts), "examples": self.examples}

    def summary(self) -> str:
        if not self.total:
            return "skipped 0 records"
        parts = [f"{count} {reason} (e.g. {', '.join(self.examples[reason])})"
                 for reason, count in self.counts.most_common()]
        return f"skipped {self.total} records: " + "; ".join(parts)


@dataclass
class Pretrained:
    """A language-model checkpoint opened for fine-tuning."""

    model: GPT
    checkpoint: dict[str, Any]
    encoding: tiktoken.Encoding
    end_of_text: int  # also the padding id: padded positions are never read or scored

    @property
    def tokenizer_spec(self) -> dict[str, Any]:
        return self.checkpoint["tokenizer"]


def open_pretrained(path: str | Path, ranks_path: str | Path | None = None, purpose: str = "fine-tuning"
                    ) -> Pretrained:
    """The model (CPU, train mode), its checkpoint dict and its tokenizer; errors name what is missing.
    A classifier checkpoint is refused by ``load_checkpoint``: fine-tuning starts from a language model."""
    model, checkpoint = load_checkpoint(path, purpose)
    if "tokenizer" not in checkpoint:
        raise KeyError(f"checkpoint {path} has no 'tokenizer' entry, so text cannot be turned into its ids")
    try:
        encoding = build_tokenizer(checkpoint["tokenizer"], ranks_path)
        end_of_text = end_of_text_id(checkpoint["tokenizer"])
    except BAD_CHECKPOINT_ERRORS as exc:  # a malformed spec is the checkpoint's fault, not a bug here
        raise ValueError(f"checkpoint {path}: its tokenizer entry cannot be used ({type(exc).__name__}: {exc})"
                         ) from None
    if end_of_text is None:
        raise KeyError(f"checkpoint {path}'s tokenizer has no {END_OF_TEXT} special token; fine-tuning uses it "
                       "to end responses and to pad batches")
    if end_of_text >= model.config.vocab_size:
        raise ValueError(f"{END_OF_TEXT} id {end_of_text} is outside the model's vocabulary of "
                         f"{model.config.vocab_size}: checkpoint and tokenizer do not match")
    return Pretrained(model=model.train(), checkpoint=checkpoint, encoding=encoding, end_of_text=end_of_text)


def split_indices(n: int, fractions: tuple[float, ...], seed: int) -> list[list[int]]:
    """Shuffle range(n) with `seed` and cut it into consecutive parts of the given fractions; the last
    part takes the remainder, so every index lands in exactly one part."""
    if any(f < 0 for f in fractions) or sum(fractions) > 1.0 + 1e-9:
        raise ValueError(f"split fractions must be >= 0 and sum to at most 1, got {fractions}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    parts, start = [], 0
    for fraction in fractions:
        end = start + round(fraction * n)
        parts.append(order[start:end])
        start = end
    parts.append(order[start:])
    return parts


def limited(items: Sequence[T], limit: int | None, seed: int) -> list[T]:
    """``limit`` items drawn at random (seeded) from all of them, in file order; all when no limit. Not the
    first ``limit``: a file sorted by label would otherwise give one class only."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed)).tolist()
    return [items[i] for i in sorted(order[:limit])]


@contextlib.contextmanager
def num_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` for the block (None: torch's own choice), then restored.
    On a busy machine fewer threads than cores can be much faster (two threads on a loaded 2-core machine
    ran 5.5x slower than one)."""
    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Progress:
    """A line every ``every_seconds`` within an epoch (step, loss averaged since the last line, examples/s,
    time left in the epoch), so a long epoch is not minutes of silence."""

    def __init__(self, log: Callable[[str], object], every_seconds: float, clock: Callable[[], float]) -> None:
        self.log, self.every, self.clock = log, every_seconds, clock
        self.epoch_start = self.last = clock()
        self.losses: list[float] = []
        self.examples = 0

    def start_epoch(self) -> None:
        self.epoch_start = self.last = self.clock()
        self.losses, self.examples = [], 0

    def step(self, epoch: int, epochs: int, batch: int, batches: int, global_step: int, loss: float,
             examples: int) -> None:
        self.losses.append(loss)
        self.examples += examples
        now = self.clock()
        if now - self.last < self.every and batch < batches:
            return
        elapsed = max(now - self.epoch_start, 1e-9)
        left = elapsed / batch * (batches - batch)
        self.log(f"epoch {epoch}/{epochs} batch {batch}/{batches} (step {global_step}) | loss "
                 f"{sum(self.losses) / len(self.losses):.4f} | {self.examples / elapsed:.1f} examples/s | "
                 f"epoch ends in {left:.0f} s")
        self.losses, self.last = [], now


@dataclass(frozen=True)
class OptimSettings:
    """The trainer's optimiser settings (``training.config``'s ``optim`` section) that fine-tuning uses."""

    lr: float
    weight_decay: float
    total_steps: int  # the schedule's length: the steps this run will take
    min_lr: float | None = None  # None: the schedule ends at lr (a constant rate, after any warm-up)
    warmup_steps: int = 0
    grad_clip: float = 1.0
    betas: tuple[float, float] = (0.9, 0.95)

    def lr_at(self, step: int) -> float:
        return lr_at(step, lr=self.lr, min_lr=self.lr if self.min_lr is None else self.min_lr,
                     warmup_steps=self.warmup_steps, max_steps=self.total_steps)


class FinetuneLoop:
    """One fine-tuning run's optimiser step, metrics and processes, on the trainer's parts (module docstring).

    ``module`` is the bare model (evaluate and save it); ``train_module`` the one to run forward for a
    training loss (DDP-wrapped under torchrun). Only rank 0 writes (``is_main``). Under DDP a step's
    gradient is the mean of the ranks' mean losses: the whole batch's mean when the shares weigh the same
    (rows of a classification batch); for instruction tuning, whose rows hold different numbers of
    response tokens, close to it but not equal.
    """

    def __init__(self, module: torch.nn.Module, settings: OptimSettings, out: Path, dist: Dist,
                 config: dict[str, Any], resume: dict[str, Any] | None = None) -> None:
        """``resume``: the ``resume`` entry of a ``last.pt`` (``open_resume``), whose module weights the
        caller has loaded; the optimiser, step and random state continue from it, and metrics.jsonl loses
        the records written after it (the steps this launch redoes)."""
        self.module, self.settings, self.dist = module.to(dist.device), settings, dist
        self.optimizer = adamw(self.module, settings.weight_decay, settings.lr, settings.betas, dist.device_type)
        self.train_module: torch.nn.Module = self.module
        if dist.distributed:
            self.train_module = DistributedDataParallel(
                self.module, device_ids=[dist.device.index] if dist.device_type == "cuda" else None)
        self.step = 0
        if resume is not None:
            self.optimizer.load_state_dict(resume["optimizer"])
            self.step = int(resume["step"])
            # each rank's own dropout stream (its rows differ in length, so the ranks' streams differ);
            # a launch with more ranks than the saved one gives the extra ranks rank 0's
            ranks = resume["rng"]
            torch.set_rng_state(ranks[dist.rank if dist.rank < len(ranks) else 0]["torch"])
            cuda_rng = ranks[dist.rank if dist.rank < len(ranks) else 0].get("cuda")
            if dist.device_type == "cuda" and cuda_rng is not None:
                torch.cuda.set_rng_state(cuda_rng, dist.device)
        self.metrics = (MetricsLog(out / METRICS_LOG, fresh=resume is None, keep_until_step=self.step)
                        if dist.is_main else None)
        trainable = sum(p.numel() for p in self.module.parameters() if p.requires_grad)
        self.log({"kind": "start", "step": 0, "world_size": dist.world_size, "device": str(dist.device),
                  "trainable_params": trainable, "optim": dataclasses.asdict(settings), "config": config})

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    def share(self, rows: Sequence[T]) -> list[T]:
        """This rank's rows of a batch: every world_size-th, starting at its rank (all of them when alone)."""
        return list(rows[self.dist.rank::self.dist.world_size])

    def log(self, record: dict[str, Any]) -> None:
        if self.metrics is not None:
            self.metrics.write(record)

    def update(self, loss: torch.Tensor, **extra: Any) -> float:
        """One optimiser step on ``loss`` (this rank's; DDP averages the gradients): the schedule's rate,
        backward, clipping, AdamW; logs a ``train`` record and returns the loss averaged over ranks."""
        lr = self.settings.lr_at(self.step)
        set_lr(self.optimizer, lr)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.settings.grad_clip if self.settings.grad_clip > 0 else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(
            [p for p in self.module.parameters() if p.requires_grad], clip)
        self.optimizer.step()
        self.step += 1
        value = all_reduce_sum([loss.item()], self.dist)[0] / self.dist.world_size
        self.log({"kind": "train", "step": self.step, "loss": value, "lr": lr, "grad_norm": float(grad_norm),
                  **extra})
        return value

    def usable(self, batch: Sequence[T]) -> bool:
        """Whether every rank gets a row of ``batch`` (a short last batch may not have one for each)."""
        return len(batch) >= self.dist.world_size

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.close()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(config: dict[str, Any], data_files: Sequence[str | None]) -> dict[str, Any]:
    """What a resumed run must share with the run it continues: every setting that decides the weights or
    the data order (all but ``UNDIGESTED``) and a SHA-256 of each data file."""
    settings = {key: value for key, value in config.items() if key not in UNDIGESTED}
    return {"settings": json.loads(json.dumps(settings, default=str)),
            "data": {str(path): file_sha256(path) for path in data_files if path}}


def fingerprint_differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Each setting or data file that differs between two fingerprints, as a readable line."""
    lines = [f"{key}: {saved['settings'].get(key)!r} then, {now['settings'].get(key)!r} now"
             for key in sorted(set(saved["settings"]) | set(now["settings"]))
             if saved["settings"].get(key) != now["settings"].get(key)]
    for path in sorted(set(saved["data"]) | set(now["data"])):
        then, current = saved["data"].get(path), now["data"].get(path)
        if then != current:
            lines.append(f"data file {path}: sha256 {str(then)[:12]}... then, {str(current)[:12]}... now")
    return lines


def open_resume(out: Path, kind: str, purpose: str, now: dict[str, Any],
                log: Callable[[str], object]) -> dict[str, Any] | None:
    """The ``last.pt`` checkpoint in ``out`` to continue from (None, with a line saying so, when there is
    none yet: a run killed before its first evaluation starts over). Refused, naming each difference, when
    its settings or data are not those of this launch."""
    path = out / LAST
    if not path.is_file():
        log(f"--resume: no {path} yet, starting from the beginning")
        return None
    checkpoint = read_checkpoint(path, (kind,), purpose)
    state = checkpoint.get("resume")
    if not isinstance(state, dict) or not {"fingerprint", "optimizer", "step", "position"} <= set(state):
        raise ValueError(f"cannot resume from {path}: it holds no resume state (not written by a fine-tuning "
                         "run of this version)")
    differs = fingerprint_differences(state["fingerprint"], now)
    if differs:
        raise ValueError(f"cannot resume from {path}: the settings or data changed since it was written: "
                         + "; ".join(differs) + ". Restore them, or start a new run in another --out")
    log(f"resuming from {path} at step {state['step']}")
    return checkpoint


def served_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The weights as the tools open them: LoRA adapters merged into a copy (the training module keeps
    its adapters), otherwise the module's own state_dict. Merging builds new layers, whose initialisation
    draws random numbers: the random state is restored after, or dropout masks would depend on how often
    a run checkpointed."""
    if not any(isinstance(m, LoraLinear) for m in module.modules()):
        return module.state_dict()
    cuda = sorted({p.device.index or 0 for p in module.parameters() if p.is_cuda})
    with torch.random.fork_rng(devices=cuda):
        return merge_lora(copy.deepcopy(module)).state_dict()


class Checkpoints:
    """``last.pt`` (the weights plus all --resume needs) and ``best.pt`` (the weights with the best
    validation score so far), written atomically by rank 0 at every evaluation, both of the run's kind.

    ``score`` maps an eval record to a value to maximise (None: not scored, e.g. no validation split).
    """

    def __init__(self, out: Path, kind: str, score: Callable[[dict[str, Any]], Any], now: dict[str, Any],
                 best: dict[str, Any] | None = None) -> None:
        self.out, self.kind, self.score, self.fingerprint, self.best = out, kind, score, now, best

    def save(self, loop: FinetuneLoop, payload: dict[str, Any], record: dict[str, Any],
             position: dict[str, Any], history: list[dict[str, Any]]) -> None:
        """Write ``best.pt`` if ``record`` beats the best so far, then ``last.pt``. ``position`` is where the
        data order continues (the caller's epoch, next batch start and sampling generator state)."""
        cuda = loop.dist.device_type == "cuda"
        rng = {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(loop.dist.device) if cuda else None}
        # every rank calls save; rank 0 keeps all ranks' random states
        ranks = all_gather_objects(rng, loop.dist)
        if not loop.is_main:
            return
        score = self.score(record)
        improved = score is not None and (self.best is None or score > tuple(self.best["score"]))
        weights = served_state(loop.module)
        if improved:
            self.best = {"step": loop.step, "score": list(score), "record": record}
            save_checkpoint({**payload, "model": weights, "best": self.best}, self.out / BEST, self.kind)
        resume = {"step": loop.step, "optimizer": loop.optimizer.state_dict(), "rng": ranks,
                  "position": position, "history": history, "best": self.best, "fingerprint": self.fingerprint,
                  "module": loop.module.state_dict()}
        save_checkpoint({**payload, "model": weights, "resume": resume}, self.out / LAST, self.kind)


def check_schedule(lr: float, min_lr: float | None, warmup_steps: int) -> None:
    """Refuse a schedule the trainer's ``lr_at`` cannot follow, naming the setting."""
    if min_lr is not None and not 0 <= min_lr <= lr:
        raise ValueError(f"min_lr must be between 0 and lr ({lr}), got {min_lr}")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")


def steps_planned(examples: int, batch_size: int, epochs: int, max_steps: int | None) -> int:
    """Optimiser steps a run of ``epochs`` over ``examples`` takes (at most ``max_steps``): the schedule's length."""
    steps = epochs * -(-examples // batch_size)
    return min(steps, max_steps) if max_steps is not None else steps


PATH_OPTIONS = ("checkpoint", "data", "out", "test_data", "ranks_path")
"""Options naming files or folders: in a --config file they are relative to the file's folder."""
PLAIN_TYPES = (None, int, float, str)


def option_key(action: argparse.Action) -> str:
    """The config-file key of a command-line option: its long name with ``_`` for ``-`` (--test-data: test_data)."""
    long = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
    return long.lstrip("-").replace("-", "_")


def _from_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """A YAML string read as the command line reads it (``trainable_blocks: all``, ``labels: ham,spam``)."""
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except argparse.ArgumentTypeError as error:
            raise ValueError(str(error)) from None
    return BeforeValidator(convert)


def options_schema(parser: argparse.ArgumentParser, config_type: type) -> type:
    """A pydantic model of ``parser``'s options as config-file keys, each typed as ``config_type``'s field
    (a frozen dataclass) it fills, its choices as a Literal; every key optional, unknown keys refused."""
    hints = typing.get_type_hints(config_type)
    fields: dict[str, Any] = {}
    for action in parser._actions:  # argparse's one documented-in-practice way to list its options
        if not action.option_strings or action.dest in ("help", "config") or action.dest not in hints:
            continue
        annotation = hints[action.dest]
        if action.choices:
            annotation = Literal[tuple(action.choices)] | None  # type: ignore[valid-type]
        if action.type not in PLAIN_TYPES:
            annotation = Annotated[annotation, _from_text(action.type)]
        fields[option_key(action)] = (annotation, None)
    return create_model(f"{config_type.__name__}File", __config__=ConfigDict(extra="forbid"), **fields)


def parse_options(parser: argparse.ArgumentParser, argv: Sequence[str] | None, config_type: type
                  ) -> dict[str, Any]:
    """The command line merged over ``--config FILE.yaml``, as ``config_type``'s keyword arguments (plus
    ``config``: the file's path, or None). A bad file ends in ``error: invalid fine-tuning config FILE:``
    with a line per bad key and exit 2; options a file sets are no longer required on the command line."""
    parser.add_argument("--config", default=None, metavar="FILE.yaml",
                        help="options from a YAML file (keys: the long options with _ for -); flags override it")
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--config", default=None)
    path = early.parse_known_args(argv)[0].config
    if path is not None:
        try:
            values = load_options(path, options_schema(parser, config_type), "fine-tuning config", PATH_OPTIONS)
        except ConfigError as error:
            exit_with_error(error)
        by_key = {option_key(a): a for a in parser._actions if a.option_strings}
        for key, value in values.items():
            by_key[key].required = False
            parser.set_defaults(**{by_key[key].dest: value})
    args = vars(parser.parse_args(argv))
    args["config"] = str(Path(path).resolve()) if path is not None else None
    return args


def build_config(parser: argparse.ArgumentParser, config_type: type[T], args: dict[str, Any]) -> T:
    """``config_type(**args)``; a value its checks refuse is a usage error (exit 2), not a traceback."""
    try:
        return config_type(**args)
    except ValueError as error:
        where = f" (settings from {args['config']} and the command line)" if args.get("config") else ""
        parser.error(f"{error}{where}")


def run_cli(work: Callable[[Any], object], config: Any) -> int:
    """Run a fine-tuning entry point; bad data or paths end in one ``error: ...`` line, not a traceback."""
    try:
        work(config)
    except (FileNotFoundError, KeyError, ValueError) as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    return 0


def on_ranks(device: str, body: Callable[[Dist, Callable[[str], object]], T],
             log: Callable[[str], object]) -> T:
    """``body(dist, log)`` in this process's rank (alone, or one of a torchrun launch): only rank 0 logs,
    and the process group is torn down however ``body`` ends."""
    dist = setup(device)
    try:
        return body(dist, log if dist.is_main else (lambda _: None))
    finally:
        teardown()
