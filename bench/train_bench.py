"""CPU training throughput: our trainer (``training.train.train``) against a plain eager PyTorch loop.

For each shape, both sides train the same network (same layers, width, vocabulary, context, batch, fp32,
the same thread count) for the same number of steps; tokens/s is the median over the timed steps (after
warm-up), and MFU is taken against a square-matmul peak measured in the same run with the same threads.
Runs alternate (reference, ours, reference, ours, ...) so load from other work on a shared machine hits
both sides alike; the best step of each side is printed too, as the figure least disturbed by that load.

The reference is a minimal nanoGPT-style loop written here: a GPT with fused-QKV attention through
``scaled_dot_product_attention``, pre-LayerNorm blocks and a tied output layer, random windows of the
dataset's tokens, forward, backward, clip, AdamW. What our trainer adds per step - the mixture sampler, the
schedule, metrics - should cost nothing measurable.

    .venv/bin/python bench/train_bench.py                 # tiny, cpu-small, cpu-small with vocab 50304
    .venv/bin/python bench/train_bench.py --shapes tiny --steps 10 --rounds 1   # quick look

Needs the demo's token dataset (``runs/demo/tokens``: run ``make demo`` or
``python -m pipeline run manifests/demo.yaml`` first).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.token_dataset import TokenDataset  # noqa: E402
from model.gpt import GPT, GPTConfig  # noqa: E402
from training.config import parse_config  # noqa: E402
from training.metrics import measure_peak_flops, read_metrics  # noqa: E402
from training.train import train  # noqa: E402

SHAPES = {
    # name: (preset, vocab_size, micro batch of sequences)
    "tiny": ("tiny", 4096, 16),
    "cpu-small": ("cpu-small", 4096, 16),
    "cpu-small-v50304": ("cpu-small", 50304, 8),  # nanoGPT's orientation shape: 4 x 256, GPT-2 vocabulary
}


# -- the reference: a plain eager loop ------------------------------------------------------------------------
class RefBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width, bias=False), nn.LayerNorm(width, bias=False)
        self.qkv, self.out = nn.Linear(width, 3 * width, bias=False), nn.Linear(width, width, bias=False)
        self.fc, self.proj = nn.Linear(width, 4 * width, bias=False), nn.Linear(4 * width, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + self.out(att)
        return x + self.proj(F.gelu(self.fc(self.norm2(x))))


class RefGPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.context_length, cfg.n_embd)
        self.blocks = nn.ModuleList(RefBlock(cfg.n_embd, cfg.n_head) for _ in range(cfg.n_layer))
        self.norm = nn.LayerNorm(cfg.n_embd, bias=False)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.wte.weight
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def reference_run(cfg: GPTConfig, tokens: np.ndarray, batch: int, steps: int, warmup: int) -> list[float]:
    """tokens/s of each timed step of the eager loop."""
    torch.manual_seed(0)
    model = RefGPT(cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.95))
    data = torch.from_numpy(tokens.astype(np.int64))
    generator = torch.Generator().manual_seed(0)
    t = cfg.context_length
    rates = []
    for step in range(warmup + steps):
        started = time.perf_counter()
        starts = torch.randint(len(data) - t - 1, (batch,), generator=generator)
        x = torch.stack([data[i:i + t] for i in starts])
        y = torch.stack([data[i + 1:i + 1 + t] for i in starts])
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        if step >= warmup:
            rates.append(batch * t / (time.perf_counter() - started))
    return rates


# -- ours: the real trainer ---------------------------------------------------------------------------------
def trainer_run(dataset: Path, preset: str, vocab: int, batch: int, steps: int, warmup: int, threads: int,
                peak: float, out: Path) -> list[float]:
    cfg = GPTConfig.preset(preset, vocab_size=vocab)
    sources = TokenDataset.open(dataset).sources
    config = parse_config({
        "out_dir": str(out), "seed": 0,
        "data": {"dataset": str(dataset), "max_epochs": {s: 50 for s in sources}},  # plenty for short runs
        "model": {"preset": preset, "overrides": {"vocab_size": vocab}},
        "optim": {"batch_tokens": batch * cfg.context_length, "micro_batch": batch, "max_steps": warmup + steps,
                  "warmup_steps": 2},
        "eval": {"every": 0}, "checkpoint": {"every": 0},
        "system": {"device": "cpu", "threads": threads, "peak_flops": peak},
    })
    result = train(config, echo=None)
    return [r["tokens_per_s"] for r in read_metrics(result.metrics, "train")[warmup:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=REPO / "runs" / "demo" / "tokens")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="alternating reference/ours runs per shape")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    dataset = TokenDataset.open(args.dataset)
    tokens = np.concatenate([s.values for s in dataset.all_shards if s.split == "train"])
    peak = measure_peak_flops(torch.device("cpu"), torch.float32, seconds=2.0)
    print(f"torch {torch.__version__}, {args.threads} threads, fp32; measured matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s (1024^2 fp32 matmul)")
    print(f"{'shape':18} {'layers x width':>14} {'vocab':>6} {'batch':>9} {'reference tok/s':>16} "
          f"{'ours tok/s':>11} {'ratio':>6} {'ref MFU':>8} {'our MFU':>8} {'best ref/ours':>15} {'ratio':>6}")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.shapes:
            preset, vocab, batch = SHAPES[name]
            cfg = GPTConfig.preset(preset, vocab_size=vocab)
            ours_model = GPT(cfg)
            assert sum(p.numel() for p in RefGPT(cfg).parameters()) == ours_model.num_params(), "shapes differ"
            flops = ours_model.flops_per_token()
            ref_rates, our_rates = [], []
            for round_ in range(args.rounds):
                ref_rates += reference_run(cfg, tokens, batch, args.steps, args.warmup)
                our_rates += trainer_run(args.dataset, preset, vocab, batch, args.steps, args.warmup, args.threads,
                                         peak, Path(scratch) / f"{name}-{round_}")
            torch.set_num_threads(args.threads)
            ref, ours = statistics.median(ref_rates), statistics.median(our_rates)
            ref_best, ours_best = max(ref_rates), max(our_rates)  # least disturbed by other load
            row = {"shape": name, "n_layer": cfg.n_layer, "n_embd": cfg.n_embd, "vocab": vocab, "batch": batch,
                   "context": cfg.context_length, "reference_tokens_per_s": ref, "ours_tokens_per_s": ours,
                   "ratio": ours / ref, "reference_best_tokens_per_s": ref_best,
                   "ours_best_tokens_per_s": ours_best, "best_ratio": ours_best / ref_best,
                   "reference_mfu": flops * ref / peak, "ours_mfu": flops * ours / peak,
                   "peak_flops": peak, "threads": args.threads}
            results.append(row)
            print(f"{name:18} {f'{cfg.n_layer} x {cfg.n_embd}':>14} {vocab:>6} {f'{batch} x {cfg.context_length}':>9} "
                  f"{ref:>16,.0f} {ours:>11,.0f} {ours / ref:>6.2f} {row['reference_mfu']:>8.1%} "
                  f"{row['ours_mfu']:>8.1%} {f'{ref_best:,.0f}/{ours_best:,.0f}':>15} {ours_best / ref_best:>6.2f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(math.isfinite(r["ratio"]) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
