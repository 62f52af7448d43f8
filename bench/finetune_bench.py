"""Classification fine-tuning benchmark: held-out accuracy on the SMS Spam Collection and on the shared
Chinese hotel reviews (ChnSentiCorp, ``--sets sms,zh-hotel``).

Uses --checkpoint if given, else the demo run's checkpoint (runs/demo/train/checkpoint.pt) if the trainer
has written one, else pretrains a cpu-small model (GPT-2 tokenizer, so vocab 50304) for --pretrain-steps
on the shared books and says so in its output. --compare-random also fine-tunes the same architecture from
random weights with the same budget, which shows what the pretraining contributed.

The hotel set has 7,766 reviews of ~130 characters, which a byte-level BPE trained on English turns into
~300 tokens each: ``--zh-hotel-limit`` (default 2,000, drawn at random with the seed, not the file's first
rows) and ``--max-length`` keep one run affordable on a CPU; ``--max-steps`` caps every run's steps.

    .venv/bin/python bench/finetune_bench.py --out /tmp/finetune-bench --sets sms,zh-hotel --compare-random

Figures and the commands that produced them: bench/README.md, "Fine-tuning and serving".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.tokenizer import build_tokenizer  # noqa: E402
from model.gpt import GPT, GPTConfig  # noqa: E402
from model.checkpoint_io import PRETRAIN, load_checkpoint, save_checkpoint  # noqa: E402
from training.finetune_classify import ClassifyConfig, finetune_classifier  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
DEMO_CHECKPOINT = REPO / "runs" / "demo" / "train" / "checkpoint.pt"
SETS = {  # name -> (file, its sample-size option in argparse's namespace, or None: every row)
    "sms": (SHARED / "finetune" / "SMSSpamCollection", None),
    "zh-hotel": (SHARED / "finetune" / "zh-chnsenticorp-htl-all.csv", "zh_hotel_limit"),
}


def gpt2_spec() -> dict:
    return {"name": "gpt2", "ranks_path": str(SHARED / "tokenizers" / "gpt2.tiktoken"), "pattern": GPT2_PATTERN,
            "special_tokens": {"<|endoftext|>": 50256}}


def save(model: GPT, path: Path, **extra) -> Path:
    torch.save({"model": model.state_dict(), "config": dataclasses.asdict(model.config), "tokenizer": gpt2_spec(),
                **extra}, path)
    return path


def pretrain(out: Path, steps: int, batch: int, window: int, lr: float, seed: int) -> tuple[Path, dict]:
    """Next-token training of cpu-small on the shared books (all of them, GPT-2 tokens, random windows of
    `window` tokens; the model keeps its 256-token context, later positions just see no pretraining)."""
    encoding = build_tokenizer(gpt2_spec())
    ids = []
    for book in sorted((SHARED / "books").glob("*.txt")):
        ids += encoding.encode_ordinary(book.read_text(encoding="utf-8", errors="replace")) + [50256]
    data = torch.tensor(ids, dtype=torch.long)
    torch.manual_seed(seed)
    model = GPT(GPTConfig.preset("cpu-small", vocab_size=50304))
    T = window
    optimizer = model.configure_optimizer(0.1, lr, (0.9, 0.95), "cpu")
    generator = torch.Generator().manual_seed(seed)
    started, losses = time.perf_counter(), []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:  # linear warm-up over 10% of the steps, then constant
            group["lr"] = lr * min(1.0, (step + 1) / max(1, steps // 10))
        starts = torch.randint(0, len(data) - T - 1, (batch,), generator=generator)
        x = torch.stack([data[s:s + T] for s in starts])
        y = torch.stack([data[s + 1:s + T + 1] for s in starts])
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % 25 == 0:
            print(f"    pretrain step {step + 1}/{steps} loss {sum(losses[-25:]) / 25:.3f} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    info = {"pretrain_steps": steps, "pretrain_tokens": steps * batch * window, "corpus_tokens": len(data),
            "pretrain_seconds": round(time.perf_counter() - started, 1),
            "pretrain_loss_first_last": [round(losses[0], 3), round(sum(losses[-20:]) / len(losses[-20:]), 3)]}
    return save(model, out / "pretrained.pt", step=steps), info


def run(checkpoint: Path, data: Path, limit: int | None, out: Path, args: argparse.Namespace) -> dict:
    cfg = ClassifyConfig(checkpoint=str(checkpoint), data=str(data), out=str(out), epochs=args.epochs, lr=args.lr,
                         batch_size=args.batch_size, max_length=args.max_length, balanced=args.balanced,
                         trainable_blocks=args.trainable_blocks, seed=args.seed, limit=limit,
                         max_steps=args.max_steps, threads=args.threads)
    metrics = finetune_classifier(cfg, log=lambda line: print("   ", line, flush=True))
    test = metrics["test"]
    return {"accuracy": round(test["accuracy"], 4), "n_test": test["n"],
            "per_class": {label: {"precision": round(c["precision"], 4), "recall": round(c["recall"], 4),
                                  "support": c["support"]} for label, c in test["per_class"].items()},
            "labels": test["labels"], "confusion_matrix": test["confusion_matrix"], "steps": metrics["steps"],
            "finetune_seconds": round(metrics["train_seconds"], 1),
            "majority_baseline": round(test["majority_baseline"], 4)}


def random_like(checkpoint: Path, out: Path, seed: int) -> Path:
    """Random weights of the checkpoint's shape, with its tokenizer: the same model minus pretraining."""
    model, saved = load_checkpoint(checkpoint)
    torch.manual_seed(seed)
    fresh = GPT(model.config)
    return save_checkpoint({"model": fresh.state_dict(), "config": dataclasses.asdict(fresh.config),
                            "tokenizer": saved.get("tokenizer") or gpt2_spec()}, out / "random.pt", PRETRAIN)


def parse_sets(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown data sets {unknown}; choose from {sorted(SETS)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/finetune-bench"))
    parser.add_argument("--sets", type=parse_sets, default=["sms"], help=f"comma-separated, of {sorted(SETS)}")
    parser.add_argument("--zh-hotel-limit", type=int, default=2000,
                        help="hotel reviews used, drawn at random (seeded); 0 = all 7,766")
    parser.add_argument("--pretrain-steps", type=int, default=150)
    parser.add_argument("--pretrain-batch", type=int, default=8)
    parser.add_argument("--pretrain-window", type=int, default=128)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None, help="cap on each run's optimiser steps")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--trainable-blocks", type=int, default=None, help="default: all layers")
    parser.add_argument("--balanced", action="store_true")
    parser.add_argument("--compare-random", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default torch's choice)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    report: dict = {"settings": {k: str(v) for k, v in vars(args).items()}}
    checkpoint = args.checkpoint or (DEMO_CHECKPOINT if DEMO_CHECKPOINT.is_file() else None)
    if checkpoint is None:
        print(f"no checkpoint given and none at {DEMO_CHECKPOINT}: pretraining cpu-small here", flush=True)
        checkpoint, report["pretraining"] = pretrain(args.out, args.pretrain_steps, args.pretrain_batch,
                                                     args.pretrain_window, args.pretrain_lr, args.seed)
        print("   ", report["pretraining"], flush=True)
    report["checkpoint"] = str(checkpoint)
    starts = {"pretrained": checkpoint}
    if args.compare_random:
        starts["random_init"] = random_like(checkpoint, args.out, args.seed)
    report["sets"] = {}
    for name in args.sets:
        data, limit_option = SETS[name]
        limit = (getattr(args, limit_option) or None) if limit_option else None
        report["sets"][name] = {"data": str(data), "limit": limit}
        for start, path in starts.items():
            print(f"[{name}] fine-tuning from {start} ({path})", flush=True)
            result = run(path, data, limit, args.out / name / start, args)
            report["sets"][name][start] = result
            print("   ", json.dumps(result), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
