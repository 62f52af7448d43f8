"""Shared-prefix scoring vs one forward per choice: items/s of ``training.benchmarks`` both ways on the same
model, tasks and items, alternated, medians of --runs; and whether the task metrics agree.

The model is --checkpoint, else a random GPT built here (--preset, GPT-2 tokenizer, --context-length;
random weights cost the same time as trained ones). Ten-shot prompts only share their shots when they
fit the context uncropped, so the default context is 1024.

    .venv/bin/python bench/eval_shared_prefix_bench.py --tasks core.arc_easy,core.piqa,core.hellaswag --limit 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.tiny_checkpoint import save_tiny_checkpoint  # noqa: E402
from training.benchmarks.harness import evaluate_task  # noqa: E402
from training.benchmarks.model_source import load_model  # noqa: E402
from training.benchmarks.scoring import MIN_SHARED_PREFIX  # noqa: E402
from training.benchmarks.tasks import load_registry  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--preset", default="tiny", help="random model's preset when no --checkpoint")
    parser.add_argument("--context-length", type=int, default=1024)
    parser.add_argument("--tasks", default="core.arc_easy,core.piqa,core.hellaswag")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registry = load_registry(data_dir=SHARED / "eval")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.checkpoint
        if path is None:
            path = Path(tmp) / "random.pt"
            overrides = {"context_length": args.context_length}
            if args.preset != "tiny":
                from model.gpt import GPTConfig
                base = GPTConfig.preset(args.preset)
                overrides.update(n_layer=base.n_layer, n_head=base.n_head, n_embd=base.n_embd)
            save_tiny_checkpoint(path, SHARED, seed=0, **overrides)
        loaded = load_model(path)
    config = loaded.model.config
    print(f"model: {path if args.checkpoint else 'random'} ({config.n_layer} layers, {config.n_embd} wide, "
          f"context {config.context_length}), {args.threads} thread(s), limit {args.limit}, {args.runs} runs")
    print(f"{'task':24s} {'shared it/s':>12s} {'direct it/s':>12s} {'speed-up':>9s}  metrics equal")
    for name in args.tasks.split(","):
        spec = registry.tasks[name]
        times: dict[str, list[float]] = {"shared": [], "direct": []}
        metrics = {}
        for _ in range(args.runs):
            for way, minimum in (("shared", MIN_SHARED_PREFIX), ("direct", None)):
                started = time.perf_counter()
                result = evaluate_task(loaded, spec, limit=args.limit, min_shared_prefix=minimum)
                times[way].append(time.perf_counter() - started)
                metrics[way] = result.metrics
        shared, direct = (result.items / statistics.median(times[w]) for w in ("shared", "direct"))
        print(f"{name:24s} {shared:12.2f} {direct:12.2f} {shared / direct:8.2f}x  "
              f"{metrics['shared'] == metrics['direct']}", flush=True)


if __name__ == "__main__":
    main()
