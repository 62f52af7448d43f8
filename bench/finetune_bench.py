"""Classification fine-tuning benchmark: held-out accuracy on the SMS Spam Collection.

Uses --checkpoint if given, else the demo run's checkpoint (runs/demo/train/checkpoint.pt) if the trainer
has written one, else pretrains a cpu-small model (GPT-2 tokenizer, so vocab 50304) for --pretrain-steps
on the shared books and says so in its output. --compare-random also fine-tunes the same architecture from
random weights with the same budget, which shows what the pretraining contributed.

    .venv/bin/python bench/finetune_bench.py --out /tmp/finetune-bench
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
from training.finetune_classify import ClassifyConfig, finetune_classifier  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
DEMO_CHECKPOINT = REPO / "runs" / "demo" / "train" / "checkpoint.pt"


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


def run(checkpoint: Path, out: Path, args: argparse.Namespace) -> dict:
    cfg = ClassifyConfig(checkpoint=str(checkpoint), data=str(SHARED / "finetune" / "SMSSpamCollection"),
                         out=str(out), epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                         max_length=args.max_length, balanced=args.balanced,
                         trainable_blocks=args.trainable_blocks, seed=args.seed)
    metrics = finetune_classifier(cfg, log=lambda line: print("   ", line, flush=True))
    test = metrics["test"]
    return {"accuracy": round(test["accuracy"], 4), "n_test": test["n"],
            "spam_precision": round(test["per_class"]["spam"]["precision"], 4),
            "spam_recall": round(test["per_class"]["spam"]["recall"], 4),
            "confusion_matrix": test["confusion_matrix"], "finetune_seconds": round(metrics["train_seconds"], 1),
            "majority_baseline": round(max(test["per_class"][c]["support"] for c in test["per_class"]) / test["n"], 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/finetune-bench"))
    parser.add_argument("--pretrain-steps", type=int, default=150)
    parser.add_argument("--pretrain-batch", type=int, default=8)
    parser.add_argument("--pretrain-window", type=int, default=128)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--trainable-blocks", type=int, default=None, help="default: all layers")
    parser.add_argument("--balanced", action="store_true")
    parser.add_argument("--compare-random", action="store_true")
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
    print(f"fine-tuning {checkpoint}", flush=True)
    report["pretrained"] = run(checkpoint, args.out / "from-pretrained", args)
    print("   ", report["pretrained"], flush=True)
    if args.compare_random:
        from model.checkpoint_io import load_checkpoint

        model, saved = load_checkpoint(checkpoint)
        torch.manual_seed(args.seed)
        random_path = save(GPT(model.config), args.out / "random.pt")
        if saved.get("tokenizer"):
            torch.save({**torch.load(random_path, weights_only=True), "tokenizer": saved["tokenizer"]}, random_path)
        report["random_init"] = run(random_path, args.out / "from-random", args)
        print("   ", report["random_init"], flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
