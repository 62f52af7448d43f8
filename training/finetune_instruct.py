"""Instruction fine-tuning on Alpaca-style records {"instruction", "input", "output"}.

Each record becomes `alpaca_prompt(instruction, input) + output + <|endoftext|>`. The loss covers only the
response and the closing end-of-text (so the model learns to stop): targets under the prompt are
IGNORE_INDEX (-100), which `model.gpt`'s cross-entropy skips. Batches are right-padded with end-of-text
ids whose targets are also -100, so padding adds nothing to the loss either.

    python -m training.finetune_instruct --checkpoint runs/demo/checkpoint.pt \
        --data ../shared/data/finetune/instruction-data.json --out runs/instruct

Writes `<out>/checkpoint.pt`, a language model of kind `instruct` with its "prompt_template" (so `python -m model.serve`
and `python -m model.generate` open it), `<out>/metrics.jsonl` (the trainer's start / train / eval records,
step by step), `<out>/metrics.json` (train/validation loss curve, skipped
records) and `<out>/responses.jsonl` (generated answers for the first test records, same template).
Records that are not objects, lack a string instruction/output, or do not fit the context are skipped
and counted. Every validation (each ``--eval-every`` steps and at each epoch's end) writes `<out>/last.pt`
(what ``--resume`` continues from, to the weights an uninterrupted run ends with) and, when the validation
loss improves, `<out>/best.pt`; both are instruct checkpoints generation and serving open.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import tiktoken
import torch

from model.engine import generate
from model.gpt import GPT, IGNORE_INDEX
from model.lora import LoraSettings, add_lora, merge_lora, trainable_parameters
from model.templates import alpaca_prompt
from model.checkpoint_io import INSTRUCT, save_checkpoint
from training.distributed import Dist
from contracts.fsio import atomic_write
from training.finetune_common import (Checkpoints, FinetuneLoop, OptimSettings, Progress, SkipLedger,
                                      build_config, check_schedule, fingerprint, limited, num_threads, on_ranks,
                                      open_pretrained, open_resume, parse_options, run_cli, split_indices,
                                      steps_planned)

TEMPLATE = "alpaca"


@dataclass(frozen=True)
class Instruction:
    instruction: str
    input: str
    output: str
    position: str  # file:record, for error messages


def read_instructions(path: str | Path, ledger: SkipLedger | None = None) -> tuple[list[Instruction], SkipLedger]:
    """Records of a JSON array (Alpaca's layout) or of JSON lines. A JSON array that does not parse is an
    error (nothing in it can be trusted); in JSON lines a bad line is skipped and counted."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"instruction data {path} does not exist")
    ledger = ledger if ledger is not None else SkipLedger()
    text = path.read_text(encoding="utf-8", errors="replace")
    raw: list[tuple[str, Any]] = []
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error.msg} at line {error.lineno} column "
                             f"{error.colno}; fix the file or convert it to JSON lines, position bad records "
                             "are skipped") from error
        raw = [(f"{path}:record {i}", record) for i, record in enumerate(records)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw.append((f"{path}:{number}", json.loads(line)))
            except json.JSONDecodeError as error:
                ledger.skip(f"malformed JSON ({error.msg})", f"{path}:{number}")

    examples = []
    for position, record in raw:
        if not isinstance(record, dict):
            ledger.skip("record is not a JSON object", position)
            continue
        instruction, input_text, output = record.get("instruction"), record.get("input", ""), record.get("output")
        if not isinstance(instruction, str) or not instruction.strip():
            ledger.skip("missing or non-string 'instruction'", position)
        elif not isinstance(output, str):
            ledger.skip("missing or non-string 'output'", position)
        elif input_text is not None and not isinstance(input_text, str):
            ledger.skip("non-string 'input'", position)
        else:
            examples.append(Instruction(instruction, input_text or "", output, position))
    return examples, ledger


@dataclass
class Tokenized:
    """One training sequence: model inputs and shifted targets, prompt positions already masked."""

    inputs: list[int]
    targets: list[int]


def tokenize_example(example: Instruction, encoding: tiktoken.Encoding, end_of_text: int,
                     train_on_prompt: bool = False) -> Tokenized:
    """inputs = (prompt + response + eot)[:-1]; targets = the same shifted by one, with -100 wherever the
    token to predict still belongs to the prompt (unless ``train_on_prompt``: then every token is scored)."""
    prompt = encoding.encode_ordinary(alpaca_prompt(example.instruction, example.input))
    response = encoding.encode_ordinary(example.output) + [end_of_text]
    sequence = prompt + response
    targets = sequence[1:] if train_on_prompt else [IGNORE_INDEX] * (len(prompt) - 1) + response
    return Tokenized(inputs=sequence[:-1], targets=targets)


OVERLONG = ("skip", "truncate")


def tokenize_all(examples: Sequence[Instruction], encoding: tiktoken.Encoding, end_of_text: int,
                 context_length: int, ledger: SkipLedger, overlong: str = "skip",
                 train_on_prompt: bool = False, truncated: list[str] | None = None) -> list[Tokenized]:
    """Every example that fits the context. Longer ones are skipped and counted (``skip``), or with
    ``truncate`` their response is cut at the context and loses its end-of-text (so the model is never
    taught to stop mid-answer); a prompt that alone fills the context is skipped either way (cutting it
    would teach the model to answer questions it cannot see). ``truncated`` collects the positions of the
    examples that were cut."""
    kept = []
    for example in examples:
        item = tokenize_example(example, encoding, end_of_text, train_on_prompt)
        if len(item.inputs) <= context_length:
            kept.append(item)
            continue
        answered = sum(t != IGNORE_INDEX for t in item.targets[:context_length])
        prompt_len = len(encoding.encode_ordinary(alpaca_prompt(example.instruction, example.input)))
        if overlong == "truncate" and prompt_len < context_length and (train_on_prompt or answered):
            kept.append(Tokenized(inputs=item.inputs[:context_length], targets=item.targets[:context_length]))
            if truncated is not None:
                truncated.append(example.position)
        else:
            ledger.skip(f"longer than the context of {context_length} tokens", example.position)
    return kept


def collate(batch: Sequence[Tokenized], pad_id: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) inputs right-padded with pad_id and (B, T) targets padded with IGNORE_INDEX."""
    width = max(len(item.inputs) for item in batch)
    inputs = torch.full((len(batch), width), pad_id, dtype=torch.long)
    targets = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    for i, item in enumerate(batch):
        inputs[i, :len(item.inputs)] = torch.tensor(item.inputs)
        targets[i, :len(item.targets)] = torch.tensor(item.targets)
    return inputs.to(device), targets.to(device)


@torch.inference_mode()
def evaluate_loss(model: GPT, items: Sequence[Tokenized], batch_size: int, pad_id: int, device: str) -> float:
    """Mean loss per response token over `items` (not a mean of batch means, which would over-weight
    short batches)."""
    if not items:
        return float("nan")
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for start in range(0, len(items), batch_size):
            inputs, targets = collate(items[start:start + batch_size], pad_id, device)
            _, loss = model(inputs, targets)
            n = int((targets != IGNORE_INDEX).sum())
            total, count = total + float(loss) * n, count + n
    finally:
        model.train(was_training)
    return total / max(count, 1)


def respond(model: GPT, encoding: tiktoken.Encoding, end_of_text: int, instruction: str, input_text: str = "",
            max_new_tokens: int = 64, temperature: float = 0.0, seed: int | None = None) -> str:
    """The model's answer under the training template (greedy by default), without the prompt."""
    prompt = encoding.encode_ordinary(alpaca_prompt(instruction, input_text))
    room = model.config.context_length - len(prompt)
    if room <= 0:
        raise ValueError(f"the prompt is {len(prompt)} tokens; the context holds {model.config.context_length}")
    device = model.tok_emb.weight.device
    out = generate(model, torch.tensor([prompt], device=device), min(max_new_tokens, room),
                   temperature=temperature, seed=seed if temperature > 0 else None, stop_token=end_of_text)
    new = [t for t in out[0, len(prompt):].tolist() if t != end_of_text and t < encoding.n_vocab]
    return encoding.decode(new).strip()


@dataclass(frozen=True)
class InstructConfig:
    """Everything one instruction-tuning run depends on; stored in the checkpoint and metrics."""

    checkpoint: str
    data: str
    out: str
    val_fraction: float = 0.05
    test_fraction: float = 0.1
    epochs: int = 2
    max_steps: int | None = None
    batch_size: int = 8
    lr: float = 5e-5
    min_lr: float | None = None  # the cosine schedule's floor; None keeps lr constant after warm-up
    warmup_steps: int = 0
    weight_decay: float = 0.1
    eval_every: int = 50  # steps between validation losses (and at the end of every epoch)
    generate_examples: int = 3  # test records to answer into responses.jsonl
    max_new_tokens: int = 64
    limit: int | None = None  # use `limit` records drawn at random (seeded) from the file (quick runs)
    seed: int = 1234
    device: str = "cpu"
    ranks_path: str | None = None
    overlong: str = "skip"  # an example longer than the context: skip it, or truncate its response
    train_on_prompt: bool = False  # score the prompt's tokens too (default: only the response's)
    lora_rank: int = 0  # > 0: train low-rank adapters on the blocks' linear layers only, merged on save
    lora_alpha: float = 16.0
    threads: int | None = None  # torch intra-op threads; default torch's own choice
    progress_seconds: float = 10.0  # a progress line at most this often within an epoch
    resume: bool = False  # continue from <out>/last.pt
    stop_after: int | None = None  # end this launch after that many steps, as a kill would (tests)
    config: str | None = None  # the --config file the settings were read from (flags override it)

    def __post_init__(self) -> None:
        if self.stop_after is not None and self.stop_after < 1:
            raise ValueError(f"stop_after must be at least 1, got {self.stop_after}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.overlong not in OVERLONG:
            raise ValueError(f"overlong must be one of {OVERLONG}, got {self.overlong!r}")
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0 (0 = full fine-tuning), got {self.lora_rank}")
        if self.epochs < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise ValueError("epochs, batch_size and eval_every must be positive")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        check_schedule(self.lr, self.min_lr, self.warmup_steps)
        if self.val_fraction < 0 or self.test_fraction < 0 or self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must be >= 0 and leave some training data")


def finetune_instructions(cfg: InstructConfig, log: Callable[[str], object] = print) -> dict[str, Any]:
    """Run the whole instruction tuning and return the metrics written to <out>/metrics.json (rank 0; the
    other ranks of a torchrun launch return a summary and write nothing)."""
    with num_threads(cfg.threads):
        return on_ranks(cfg.device, lambda dist, say: instruction_tuning(cfg, dist, say), log)


def instruction_tuning(cfg: InstructConfig, dist: Dist, log: Callable[[str], object]) -> dict[str, Any]:
    torch.manual_seed(cfg.seed)
    pretrained = open_pretrained(cfg.checkpoint, cfg.ranks_path, "python -m training.finetune_instruct")
    device = str(dist.device)
    model, encoding, eot = pretrained.model.to(device), pretrained.encoding, pretrained.end_of_text
    context = model.config.context_length

    ledger = SkipLedger()
    examples, _ = read_instructions(cfg.data, ledger)
    examples = limited(examples, cfg.limit, cfg.seed)  # drawn from the whole file, not its first records
    test_idx, val_idx, train_idx = split_indices(len(examples), (cfg.test_fraction, cfg.val_fraction), cfg.seed)
    test_examples = [examples[i] for i in test_idx]
    truncated: list[str] = []
    splits = {name: tokenize_all([examples[i] for i in idx], encoding, eot, context, ledger, cfg.overlong,
                                 cfg.train_on_prompt, truncated)
              for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx))}
    if cfg.lora_rank:
        adapted = add_lora(model, LoraSettings(rank=cfg.lora_rank, alpha=cfg.lora_alpha))
        log(f"LoRA rank {cfg.lora_rank} on {len(adapted)} layers: {trainable_parameters(model):,} trainable "
            "parameters, the rest frozen")
    if not splits["train"]:
        raise ValueError(f"no usable training records in {cfg.data}: {ledger.summary()}")
    log(f"train {len(splits['train'])}, val {len(splits['val'])}, test {len(splits['test'])} records"
        + (f" ({len(truncated)} truncated to the context)" if truncated else "") + f"; {ledger.summary()}")

    out = Path(cfg.out)
    total = steps_planned(len(splits["train"]), cfg.batch_size, cfg.epochs, cfg.max_steps)
    now = fingerprint(asdict(cfg), [cfg.data])
    saved = open_resume(out, INSTRUCT, "resuming python -m training.finetune_instruct", now, log) \
        if cfg.resume else None
    resume = saved["resume"] if saved else None
    if resume is not None:
        model.load_state_dict(resume["module"])
    loop = FinetuneLoop(model, OptimSettings(lr=cfg.lr, weight_decay=cfg.weight_decay, total_steps=total,
                                             min_lr=cfg.min_lr, warmup_steps=cfg.warmup_steps), out, dist,
                        asdict(cfg), resume)
    generator = torch.Generator().manual_seed(cfg.seed)
    payload = {**{key: value for key, value in pretrained.checkpoint.items()
                  if key in ("config", "tokenizer", "dataset", "train_config")},
               "prompt_template": TEMPLATE, "finetune": {"kind": "instruct", **asdict(cfg)}}
    checkpoints = Checkpoints(out, INSTRUCT, lambda r: None if math.isnan(r["val_loss"]) else (-r["val_loss"],),
                              now, resume["best"] if resume else None)
    if resume is not None:
        history: list[dict[str, Any]] = list(resume["history"])
        generator.set_state(resume["position"]["generator"])
        first_epoch, first_start = resume["position"]["epoch"], resume["position"]["next"]
    else:
        history = [{"step": 0, "val_loss": evaluate_loss(model, splits["val"], cfg.batch_size, eot, device)}]
        loop.log({"kind": "eval", **history[-1]})
        log(json.dumps(history[-1]))
        first_epoch, first_start = 0, 0
    started = time.perf_counter()
    done = cfg.max_steps is not None and loop.step >= cfg.max_steps  # a resume of a run that had finished
    progress = Progress(log, cfg.progress_seconds, time.perf_counter)
    model.train()
    for epoch in range(first_epoch, cfg.epochs):
        if done:
            break
        epoch_generator = generator.get_state()  # the order is redrawn from it on resume
        order = torch.randperm(len(splits["train"]), generator=generator).tolist()
        # a last batch with fewer rows than processes is left out (only under torchrun)
        starts = [s for s in range(0, len(order), cfg.batch_size) if loop.usable(order[s:s + cfg.batch_size])]
        batches = len(starts)
        progress.start_epoch()
        for number, start in enumerate(starts, start=1):
            if epoch == first_epoch and start < first_start:
                continue  # done before the checkpoint this launch resumed from
            batch = [splits["train"][i] for i in order[start:start + cfg.batch_size]]
            inputs, targets = collate(loop.share(batch), eot, device)
            _, loss = loop.train_module(inputs, targets)
            train_loss = loop.update(loss, epoch=epoch + 1)
            step = loop.step
            progress.step(epoch + 1, cfg.epochs, number, batches, step, train_loss, len(batch))
            done = cfg.max_steps is not None and step >= cfg.max_steps
            end_of_epoch = start == starts[-1]
            if step % cfg.eval_every == 0 or end_of_epoch or done:
                history.append({"step": step, "epoch": epoch + 1, "train_loss": train_loss,
                                "val_loss": evaluate_loss(model, splits["val"], cfg.batch_size, eot, device)})
                loop.log({"kind": "eval", **history[-1]})
                log(json.dumps(history[-1]))
                position = ({"epoch": epoch + 1, "next": 0, "generator": generator.get_state()} if end_of_epoch
                            else {"epoch": epoch, "next": start + cfg.batch_size, "generator": epoch_generator})
                checkpoints.save(loop, payload, history[-1], position, history)
            if cfg.stop_after is not None and step >= cfg.stop_after:
                loop.close()  # ended as a kill would: --resume continues from the last evaluation's last.pt
                return {"stopped_after": step}
            if done:
                break
        if done:
            break
    step = loop.step
    train_seconds = time.perf_counter() - started

    model.eval()
    test_loss = evaluate_loss(model, splits["test"], cfg.batch_size, eot, device)
    loop.close()
    if not dist.is_main:
        return {"steps": step, "final_val_loss": history[-1]["val_loss"], "test_loss": test_loss}
    unanswered: list[str] = []  # test prompts too long to leave room for an answer
    with atomic_write(out / "responses.jsonl", "w") as handle:
        for example in test_examples[:cfg.generate_examples]:
            try:
                answer = respond(model, encoding, eot, example.instruction, example.input, cfg.max_new_tokens)
            except ValueError:  # a prompt that fills the context: note it, keep going (the record itself
                answer = None  # was scored in the test loss, so it is not a skipped record)
                unanswered.append(example.position)
            handle.write(json.dumps({"instruction": example.instruction, "input": example.input,
                                     "reference": example.output, "response": answer}) + "\n")
    metrics = {"history": history, "steps": step, "train_seconds": train_seconds,
               "final_val_loss": history[-1]["val_loss"],
               "test_loss": test_loss,
               "records": {name: len(items) for name, items in splits.items()},
               "truncated": {"total": len(truncated), "first": truncated[:5]},
               "not_answered": {"total": len(unanswered), "first": unanswered[:5]},
               "skipped": ledger.as_dict(), "config": asdict(cfg)}
    if cfg.lora_rank:
        merge_lora(model)  # the checkpoint is an ordinary GPT: every tool opens it
    save_checkpoint({**payload, "model": model.state_dict()}, out / "checkpoint.pt", INSTRUCT)
    with atomic_write(out / "metrics.json") as fh:
        fh.write((json.dumps(metrics, indent=1, default=str) + "\n").encode("utf-8"))
    log(f"val loss {history[0]['val_loss']:.3f} -> {history[-1]['val_loss']:.3f} in {step} steps; wrote {out}")
    return metrics


def parse_args(argv: Sequence[str] | None) -> InstructConfig:
    parser = argparse.ArgumentParser(prog="python -m training.finetune_instruct",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="pretrained language-model checkpoint")
    parser.add_argument("--data", required=True, help="JSON array or JSON lines of instruction records")
    parser.add_argument("--out", required=True, help="folder for checkpoint.pt, metrics.json, responses.jsonl")
    parser.add_argument("--val-fraction", type=float, default=0.05)
    parser.add_argument("--test-fraction", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--min-lr", type=float, default=None,
                        help="decay the rate to this by a cosine over the run (default: constant --lr)")
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up steps")
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=50,
                        help="steps between validations, each writing last.pt and (if better) best.pt")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/last.pt (refused if the settings or data changed)")
    parser.add_argument("--generate-examples", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None,
                        help="use N records drawn at random (seeded) from --data, not its first N")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    parser.add_argument("--overlong", choices=OVERLONG, default="skip",
                        help="an example longer than the context: skip it (counted) or cut its response")
    parser.add_argument("--train-on-prompt", action="store_true",
                        help="score the prompt's tokens too (default: only the response's)")
    parser.add_argument("--lora-rank", type=int, default=0,
                        help="train rank-r adapters on the blocks' linear layers only (0: full fine-tuning); "
                             "they are merged into the saved checkpoint")
    parser.add_argument("--lora-alpha", type=float, default=16.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default torch's choice; on a busy machine fewer can be faster)")
    parser.add_argument("--progress-seconds", type=float, default=10.0,
                        help="a progress line at most this often within an epoch")
    return build_config(parser, InstructConfig, parse_options(parser, argv, InstructConfig))


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(finetune_instructions, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
