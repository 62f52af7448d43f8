"""Train a GPT on a token dataset: ``python -m training.train CONFIG [--resume]``, or under
``torchrun --nproc_per_node=N -m training.train CONFIG`` for data parallelism (gloo on CPU, NCCL on CUDA).

``train(config)`` is the whole trainer as a function, so tests drive it directly. One optimiser step:

1. the learning rate for this step (``training.optim``);
2. this rank's rows of global batch ``step`` (``MixtureSampler.batch``: a pure function of the step, so a
   resume needs only the step count; assembled on a background thread during the previous step,
   ``training.prefetch``), split into micro-batches; forward/backward each with the loss divided by their
   number, gradients synchronised across ranks on the last one only (DDP ``no_sync``);
3. clip the global gradient norm, AdamW step;
4. log (tokens/s and MFU over every step since the last log, between synchronised points), every
   ``eval.every`` steps evaluate (through the uncompiled model: a second batch shape must not turn the
   compiled training graph's batch dimension symbolic), every ``checkpoint.every`` steps checkpoint (copied
   to CPU memory and written on a background thread, ``training.checkpoint.CheckpointWriter``).

A run starts from random weights (``model.preset``), or from another model's with ``init_from``
(``training.init_from``: a refinery checkpoint or a Hugging Face GPT-2 folder, recorded in the run).

Exactness: the gradient of a step is the mean over the global batch however it is split between ranks
and micro-steps, so N processes match one process up to float summation order; on CPU a killed run
resumed from its checkpoint repeats the uninterrupted run's losses bit for bit.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from contracts.token_dataset import DatasetError, TokenDataset
from model.gpt import GPT, GPTConfig
from training import checkpoint as ckpt
from training.benchmarks.in_training import TrainingBenchmarks
from training.config import ConfigError, TrainConfig, load_config, resume_differences
from training.distributed import Dist, all_gather_objects, all_reduce_sum, barrier, setup, teardown
from training.evaluate import evaluate, sources_with_validation
from training.init_from import InitFromError, InitSource, check_tokenizer, load_init_source
from training.metrics import METRICS_NAME, MetricsLog, Throughput, measure_peak_flops, stated_peak_flops
from training.optim import lr_at, set_lr
from training.prefetch import Prefetcher
from training.run_lock import die_with_launcher, lock_out_dir, release_out_dir
from training.sampler import DataExhausted, MixtureSampler, SamplerStateError

USER_ERRORS = (ConfigError, DatasetError, ckpt.CheckpointError, DataExhausted, SamplerStateError, InitFromError)
"""Mistakes in the config, the data or the checkpoint: reported as one message, without a traceback."""


@dataclass
class TrainResult:
    out_dir: Path
    checkpoint: Path
    metrics: Path
    step: int
    last_loss: float | None
    last_eval: dict[str, Any] | None


@dataclass(frozen=True)
class Precision:
    """What the hardware decides: autocast dtype and whether to compile (with which backend)."""

    dtype: str  # "float32" | "bfloat16"
    compile: bool
    backend: str = "inductor"

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager[Any]:
        if self.dtype == "bfloat16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def choose_precision(config: TrainConfig, device: torch.device) -> Precision:
    """``auto`` follows the hardware: bf16 autocast and torch.compile on CUDA; fp32 eager on CPU, where
    bf16 autocast ran ~50x slower than fp32 and compile gave no reliable gain for ~30 s of compiling."""
    dtype = config.system.dtype
    if dtype == "auto":
        cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        dtype = "bfloat16" if cuda_bf16 else "float32"
    compile_ = config.system.compile
    if compile_ == "auto":
        compile_ = device.type == "cuda"
    backend = config.system.compile_backend
    if compile_ and backend not in torch._dynamo.list_backends(exclude_tags=()):
        raise ConfigError(f"system.compile_backend={backend!r} is not a torch.compile backend; the backends "
                          f"are: {', '.join(torch._dynamo.list_backends(exclude_tags=()))}")
    return Precision(dtype, bool(compile_), backend)


def compile_for_training(model: torch.nn.Module, backend: str) -> torch.nn.Module:
    """``torch.compile`` with static shapes: every training micro-batch has one shape, and a graph that
    dynamo made symbolic after seeing a second shape (an evaluation batch, say) is slower for all of them."""
    return torch.compile(model, dynamic=False, backend=backend)


def wrap_ddp(model: torch.nn.Module, dist: Dist) -> torch.nn.Module:
    """DDP on this rank's device; gradients live in the all-reduce buckets (no second copy of them), and
    no buffer broadcast before every forward (the GPT's buffers are constants, equal on every rank)."""
    return DistributedDataParallel(model, device_ids=[dist.device.index] if dist.device_type == "cuda" else None,
                                   gradient_as_bucket_view=True, forward_sync_buffers=False)


def peak_flops(config: TrainConfig, dist: Dist, dtype: str) -> tuple[float, str, float | None]:
    """(peak FLOP/s MFU divides by, where it came from, the measured matmul peak or None).

    As nanoGPT, llm.c and torchtitan: a GPU's datasheet dense peak, so MFU reads like theirs; the measured
    peak (below the datasheet's, 1.2-1.5x on H100) is logged beside it. CPUs have no datasheet entry: MFU
    uses the measured peak there. ``system.peak_flops`` overrides both (and skips the measurement on CPU).
    """
    cuda = dist.device_type == "cuda"
    measured = None
    if cuda or config.system.peak_flops is None:
        measured = measure_peak_flops(dist.device, torch.bfloat16 if dtype == "bfloat16" else torch.float32)
        measured = all_reduce_sum([measured], dist)[0] / dist.world_size  # the same number on all ranks
    if config.system.peak_flops is not None:
        return config.system.peak_flops, "config", measured
    stated = stated_peak_flops(torch.cuda.get_device_name(dist.device), dtype) if cuda else None
    if stated is not None:
        return stated, "datasheet", measured
    assert measured is not None
    return measured, "measured", measured


def model_config(config: TrainConfig, dataset: TokenDataset) -> GPTConfig:
    """The preset with overrides; the vocabulary defaults to the tokenizer's, padded to a multiple of 64
    (matmul-friendly; the padded ids never occur in the data, so their logits just learn to stay low)."""
    n_vocab = int(dataset.tokenizer_info["n_vocab"])
    overrides = dict(config.model.overrides)
    overrides.setdefault("vocab_size", -(-n_vocab // 64) * 64)
    gpt_config = GPTConfig.preset(config.model.preset, **overrides)
    if gpt_config.vocab_size < n_vocab:
        raise ConfigError(f"model.overrides.vocab_size={gpt_config.vocab_size} is smaller than the dataset's "
                          f"tokenizer ({n_vocab} ids); leave it out to use the tokenizer's size")
    return gpt_config


def read_bpb_text(path: str) -> str:
    """The text of ``eval.bpb_text``, read before the first step so a missing file stops the run at once."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"eval.bpb_text: {path} not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"eval.bpb_text: {path} is not UTF-8 text (byte {exc.start})") from None


def held_out_bpb(model: GPT, tokenizer_spec: dict[str, Any], text: str, device: torch.device,
                 autocast: Any) -> dict[str, float]:
    """Bits per byte of ``text`` under the model as it is now (evaluation mode, restored after)."""
    from training.benchmarks.bits_per_byte import bits_per_byte
    from training.benchmarks.model_source import from_trained

    was_training = model.training
    model.eval()
    try:
        with autocast:
            return bits_per_byte(from_trained(model, tokenizer_spec), text, device=device)
    finally:
        model.train(was_training)


def batch_layout(config: TrainConfig, context_length: int, world_size: int) -> tuple[int, int]:
    """(global batch in sequences, micro-steps per optimiser step), refusing sizes that do not divide."""
    tokens, micro = config.optim.batch_tokens, config.optim.micro_batch
    if tokens % context_length:
        raise ConfigError(f"optim.batch_tokens={tokens} is not a multiple of the context length "
                          f"{context_length}; use e.g. {max(1, round(tokens / context_length)) * context_length}")
    sequences = tokens // context_length
    if sequences % (micro * world_size):
        raise ConfigError(f"optim.batch_tokens={tokens} is {sequences} sequences of {context_length}, which "
                          f"does not split into micro-batches of optim.micro_batch={micro} on {world_size} "
                          f"process(es); make the sequence count a multiple of {micro * world_size}")
    if config.eval.batch_size % world_size:
        raise ConfigError(f"eval.batch_size={config.eval.batch_size} must be divisible by the {world_size} "
                          "processes")
    return sequences, sequences // (micro * world_size)


def train(config: TrainConfig, *, resume: bool = False, stop_after: int | None = None,
          echo: Callable[[str], None] | None = print) -> TrainResult:
    """Train (or, with ``resume``, continue) the run described by ``config``; returns where it wrote.

    ``stop_after`` ends after that many steps without the final checkpoint, as a kill would (tests).
    """
    dist = setup(config.system.device)
    threads = torch.get_num_threads()
    try:
        lock_out_dir(config.out_dir, dist)  # one run per out_dir: a second one is refused, not interleaved
        result = _train(config, dist, resume, stop_after, echo if dist.is_main else None)
        # Every rank leaves together: a rank that tore down its process group while rank 0 was still writing
        # the final checkpoint died at exit now and then in gloo ("terminate called without an active
        # exception", SIGABRT). Only on success: after an error the other ranks may be gone for good.
        barrier(dist)
        return result
    finally:
        torch.set_num_threads(threads)  # system.threads must not leak into the caller (e.g. pytest)
        release_out_dir(config.out_dir)
        teardown()


def _train(config: TrainConfig, dist: Dist, resume: bool, stop_after: int | None,
           echo: Callable[[str], None] | None) -> TrainResult:
    say = echo or (lambda _: None)
    if config.system.threads:
        torch.set_num_threads(config.system.threads)
    if dist.device_type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = config.system.tf32  # fp32 leftovers outside autocast
        torch.backends.cudnn.allow_tf32 = config.system.tf32
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / ckpt.CHECKPOINT_NAME

    dataset = TokenDataset.open(config.data.dataset)

    def check(saved: dict[str, Any]) -> None:
        ckpt.check_resume_entries(saved, checkpoint_path)
        differs = resume_differences(saved["train_config"], config)
        if differs:
            raise ckpt.CheckpointError(f"cannot resume {checkpoint_path}: the config changed where it decides the "
                                       "weights or the data order:\n  - " + "\n  - ".join(differs)
                                       + "\nRestore those values, or start a new run (another out_dir)")
        ckpt.check_dataset(saved["dataset"], dataset, checkpoint_path)

    saved = ckpt.load_for_resume(checkpoint_path, resume, dist, check)  # rank 0 decides for all
    source: InitSource | None = None
    if config.init_from is not None and saved is None:
        source = load_init_source(config.init_from)
        check_tokenizer(source, dataset.tokenizer_info, dataset.root)
        gpt_config = source.config.replace(**config.model.overrides)
    elif config.init_from is not None:  # resuming: the architecture the run started with (init_from unchanged)
        gpt_config = GPTConfig.from_dict(saved["config"])  # type: ignore[index]
    else:
        gpt_config = model_config(config, dataset)
    started_from = source.record if source is not None else saved.get("init_from") if saved is not None else None
    context = gpt_config.context_length
    global_batch, accum = batch_layout(config, context, dist.world_size)
    precision = choose_precision(config, dist.device)

    torch.manual_seed(config.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    raw_model = GPT(gpt_config).to(dist.device)
    if source is not None:
        raw_model.load_state_dict(source.state_dict)
        say(f"starting from {source.record['path']} ({source.record.get('checkpoint_kind') or source.record['kind']}"
            + (f", step {source.record['step']}" if source.record.get("step") is not None else "") + ")")
    optimizer = raw_model.configure_optimizer(config.optim.weight_decay, config.optim.lr,
                                              (config.optim.beta1, config.optim.beta2), dist.device_type)
    sampler = MixtureSampler(dataset, context_length=context, global_batch=global_batch, seed=config.seed,
                             weights=config.data.weights, max_epochs=config.data.max_epochs, rank=dist.rank,
                             world_size=dist.world_size, num_samples=config.optim.max_steps * global_batch)
    state = ckpt.TrainState()
    torch.manual_seed(config.seed + 1 + dist.rank)  # dropout differs between ranks, as it would in one batch

    if saved is not None:
        try:  # a crafted or foreign checkpoint whose config matches but whose tensors do not
            raw_model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
        except (RuntimeError, KeyError, ValueError, TypeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ckpt.CheckpointError(f"checkpoint {checkpoint_path}: its weights or optimiser state do not fit "
                                       f"this model ({first}); it is damaged or from another model: start a new "
                                       "run (another out_dir)") from None
        sampler.load_state_dict(saved["sampler"])
        state.load_state_dict(saved["trainer"])
        if len(saved["rng"]) == dist.world_size:
            note = ckpt.set_rng_state(saved["rng"][dist.rank], dist.device)
            if note:
                say(note)
        else:
            say(f"note: checkpoint has RNG states for {len(saved['rng'])} processes, this run has "
                f"{dist.world_size}: dropout masks will differ from an uninterrupted run")
        say(f"resuming {checkpoint_path} at step {state.step}")
    elif resume:
        say(f"no checkpoint in {out_dir} yet: starting from step 0")
    if sampler.samples_consumed != state.step * global_batch:
        raise ckpt.CheckpointError(f"checkpoint {checkpoint_path}: sampler consumed {sampler.samples_consumed} "
                                   f"samples but {state.step} steps of {global_batch} were taken")

    if state.step >= config.optim.max_steps:
        say(f"{checkpoint_path} already finished its {config.optim.max_steps} steps; nothing to do")
        return TrainResult(out_dir, checkpoint_path, out_dir / METRICS_NAME, state.step, None, None)

    model: torch.nn.Module = raw_model
    if precision.compile:
        model = compile_for_training(model, precision.backend)
    if dist.distributed:
        model = wrap_ddp(model, dist)

    flops_per_token = raw_model.flops_per_token()
    peak, peak_source, measured_peak = peak_flops(config, dist, precision.dtype)
    val_sources = sources_with_validation(dataset, sampler.names, context)
    benchmarks = (TrainingBenchmarks(config.eval.tasks, config.eval.task_limit, ckpt.tokenizer_spec(dataset))
                  if config.eval.tasks else None)
    bpb_text = read_bpb_text(config.eval.bpb_text) if config.eval.bpb_text and dist.is_main else None
    metrics = MetricsLog(out_dir / METRICS_NAME, fresh=saved is None, keep_until_step=state.step) \
        if dist.is_main else None

    def log(record: dict[str, Any]) -> None:
        if metrics is not None:
            metrics.write(record)

    log({"kind": "start", "step": state.step, "resumed": saved is not None, "world_size": dist.world_size,
         "device": str(dist.device), "dtype": precision.dtype, "compile": precision.compile,
         "threads": torch.get_num_threads(), "model": dataclasses.asdict(gpt_config),
         "device_name": torch.cuda.get_device_name(dist.device) if dist.device_type == "cuda" else "cpu",
         "params": raw_model.num_params(), "flops_per_token": flops_per_token, "peak_flops": peak,
         "peak_flops_source": peak_source, "measured_peak_flops": measured_peak,
         "global_batch": global_batch, "micro_steps": accum, "prefetch": config.system.prefetch,
         "dataset": ckpt.dataset_identity(dataset), "config": config.model_dump(mode="json"),
         "init_from": started_from})
    say(f"training {raw_model.num_params() / 1e6:.2f}M parameters "
        f"({'init_from' if config.init_from else config.model.preset}, vocab "
        f"{gpt_config.vocab_size}) on {dist.world_size} x {dist.device} {precision.dtype}"
        f"{' compiled' if precision.compile else ''}; {global_batch} x {context} tokens per step in {accum} "
        f"micro-step(s) per process; {config.optim.max_steps} steps; peak {peak / 1e9:.1f} GFLOP/s "
        f"({peak_source}) per process" + (f", measured {measured_peak / 1e9:.1f}" if measured_peak and
                                           peak_source != "measured" else ""))

    counts = np.bincount(sampler.sample_sources(0, state.step * global_batch), minlength=len(sampler.names))
    micro = config.optim.micro_batch
    max_steps = config.optim.max_steps
    last_loss: float | None = None
    last_eval: dict[str, Any] | None = None

    def sync() -> None:
        if dist.device_type == "cuda":
            torch.cuda.synchronize(dist.device)

    def run_eval() -> dict[str, Any]:
        # The bare module, not the compiled one: see compile_for_training.
        result = evaluate(raw_model, dataset, val_sources, context_length=context,
                          batch_size=config.eval.batch_size, max_batches=config.eval.batches, dist=dist,
                          autocast=precision.autocast(dist.device))
        log({"kind": "eval", "step": state.step, **result})
        shown = ", ".join(f"{s} {v:.3f}" for s, v in result["val_loss"].items())
        overall = result["val_loss_overall"]
        say(f"step {state.step:5d} | val loss {overall:.4f} ({shown})" if overall is not None
            else f"step {state.step:5d} | no validation data")
        if bpb_text is not None:
            bpb = held_out_bpb(raw_model, ckpt.tokenizer_spec(dataset), bpb_text, dist.device,
                               precision.autocast(dist.device))
            log({"kind": "bpb", "step": state.step, "file": config.eval.bpb_text, **bpb})
            say(f"step {state.step:5d} | bits per byte {bpb['bits_per_byte']:.4f} ({config.eval.bpb_text})")
        if benchmarks is not None:
            scores = benchmarks.run(raw_model, dist, precision.autocast(dist.device))
            log({"kind": "benchmark", "step": state.step, **scores})
            say(f"step {state.step:5d} | " + ", ".join(f"{n} {t['value']:.3f}" for n, t in scores["tasks"].items())
                + (f" | CORE {scores['core']:.3f}" if scores["core"] is not None else ""))
        return result

    def save() -> None:
        rng = all_gather_objects(ckpt.rng_state(dist.device), dist)  # every rank's: each has its own dropout stream
        if dist.is_main:
            writer.submit(ckpt.stamp({
                "model": raw_model.state_dict(), "config": dataclasses.asdict(gpt_config),
                "tokenizer": ckpt.tokenizer_spec(dataset), "optimizer": optimizer.state_dict(),
                "trainer": state.state_dict(), "sampler": sampler.state_dict(), "rng": rng,
                "train_config": config.model_dump(mode="json"), "dataset": ckpt.dataset_identity(dataset),
                **({"init_from": started_from} if started_from is not None else {}),
            }, ckpt.PRETRAIN), checkpoint_path)

    writer = ckpt.CheckpointWriter(background=config.checkpoint.background)
    pin = config.system.prefetch and dist.device_type == "cuda"
    prefetcher = Prefetcher(lambda s: sampler.batch(s, pin=pin), end=max_steps, enabled=config.system.prefetch)
    try:
        if config.eval.every and state.step == 0 and val_sources:
            last_eval = run_eval()
        print_every = max(1, config.system.log_every * 10)
        model.train()
        sync()
        timer = Throughput()
        while state.step < max_steps:
            step = state.step
            lr = lr_at(step, lr=config.optim.lr, min_lr=config.optim.min_lr,
                       warmup_steps=config.optim.warmup_steps, max_steps=max_steps)
            set_lr(optimizer, lr)
            x, y = prefetcher.get(step)
            loss_sum = torch.zeros((), device=dist.device)
            for i in range(accum):
                xb = x[i * micro:(i + 1) * micro].to(dist.device, non_blocking=True)
                yb = y[i * micro:(i + 1) * micro].to(dist.device, non_blocking=True)
                sync_grads = i == accum - 1 or not dist.distributed
                with (contextlib.nullcontext() if sync_grads else model.no_sync()), precision.autocast(dist.device):
                    loss = model(xb, yb)[1]  # drop the (B, T, V) logits now, not after backward
                (loss / accum).backward()
                loss_sum += loss.detach()
            clip = config.optim.grad_clip if config.optim.grad_clip > 0 else math.inf
            grad_norm = torch.nn.utils.clip_grad_norm_(raw_model.parameters(), clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            sampler.samples_consumed = (step + 1) * global_batch
            state.step += 1
            state.tokens_seen += global_batch * context
            timer.add(global_batch * context)
            counts += np.bincount(sampler.sample_sources(step * global_batch, global_batch),
                                  minlength=len(sampler.names))

            if state.step % config.system.log_every == 0 or state.step == max_steps:
                loss_value = all_reduce_sum([float(loss_sum) / accum], dist)[0] / dist.world_size
                sync()
                tokens_per_s, seconds, timed_steps = timer.read()
                mfu = flops_per_token * tokens_per_s / (peak * dist.world_size)
                last_loss = loss_value
                log({"kind": "train", "step": state.step, "loss": loss_value, "lr": lr,
                     "grad_norm": float(grad_norm), "tokens_seen": state.tokens_seen,
                     "tokens_per_s": tokens_per_s, "mfu": mfu, "step_ms": seconds * 1000 / timed_steps,
                     "timed_steps": timed_steps,
                     **({"mfu_measured": flops_per_token * tokens_per_s / (measured_peak * dist.world_size)}
                        if measured_peak else {}),
                     "mixture": {n: float(c) / counts.sum() for n, c in zip(sampler.names, counts)}})
                if state.step % print_every == 0 or state.step == max_steps:
                    say(f"step {state.step:5d} | loss {loss_value:.4f} | lr {lr:.2e} | grad norm "
                        f"{float(grad_norm):.3f} | {tokens_per_s:,.0f} tok/s | mfu {mfu:.1%}")
            if stop_after is not None and state.step >= stop_after:
                break
            at_end = state.step == max_steps
            evaluating = bool(val_sources and config.eval.every and (state.step % config.eval.every == 0 or at_end))
            saving = at_end or bool(config.checkpoint.every and state.step % config.checkpoint.every == 0)
            if evaluating or saving:
                sync()  # the steps' queued work stays inside the timed window, evaluation and the copy outside
                timer.pause()
                if evaluating:
                    last_eval = run_eval()
                if saving:
                    save()
                sync()
                timer.resume()
        writer.wait()  # on disk before the ranks leave (and before a caller reads it)
    finally:
        prefetcher.close()
        writer.wait(raise_error=False)
    if metrics is not None:
        metrics.close()
    return TrainResult(out_dir, checkpoint_path, out_dir / METRICS_NAME, state.step, last_loss, last_eval)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.train",
                                     description="Train a GPT on a token dataset (under torchrun for DDP).")
    parser.add_argument("config", type=Path, help="training config YAML (see training/configs/demo.yaml)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out_dir>/checkpoint.pt if it exists (else start fresh)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    die_with_launcher()  # under torchrun: this rank ends when its launcher does, never orphaned
    args = parse_args(argv)
    try:
        config = load_config(args.config)
        result = train(config, resume=args.resume)
    except USER_ERRORS as error:
        if os.environ.get("RANK", "0") == "0":
            print(f"error: {error}", file=sys.stderr)
        return 2
    if result.checkpoint.exists() and os.environ.get("RANK", "0") == "0":
        print(f"checkpoint: {result.checkpoint}\nmetrics:    {result.metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
