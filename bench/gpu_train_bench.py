"""GPU training throughput of the GPT as the trainer runs it: bf16 autocast, torch.compile, fused AdamW,
gradient clipping. Prints tokens/s and MFU against the GPU's stated dense bf16 peak and against a matmul
peak measured in the same run. The datasheet table is the trainer's (``training.metrics.STATED_PEAK``:
dense bf16, or TF32 for ``--dtype float32``).

Self-contained (random tokens, no dataset), one GPU, about a minute with compilation:

    .venv/bin/python bench/gpu_train_bench.py                      # gpt2-124m, 16 x 1024 tokens per step
    .venv/bin/python bench/gpu_train_bench.py --batch 32 --steps 50
    .venv/bin/python bench/gpu_train_bench.py --device cpu --preset tiny --dtype float32 --compile off \\
        --steps 3 --warmup 1                                       # smoke test of the script itself

The step mirrors ``training.train``: the model from ``model.gpt``, its ``configure_optimizer`` (fused on
CUDA), ``torch.autocast(bfloat16)`` around forward, TF32 for what stays fp32, clip at 1.0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.gpt import GPT, GPTConfig  # noqa: E402
from training.metrics import measure_peak_flops, stated_peak_flops  # noqa: E402 - one datasheet table, the trainer's


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2-124m")
    parser.add_argument("--batch", type=int, default=16, help="sequences per step")
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps (compilation happens here)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    parser.add_argument("--compile", choices=["on", "off"], default="on")
    parser.add_argument("--peak", type=float, default=None, help="stated peak FLOP/s (default: by GPU name)")
    args = parser.parse_args()

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name(device) if cuda else "cpu"
    config = GPTConfig.preset(args.preset)
    torch.manual_seed(0)
    model = GPT(config).to(device)
    optimizer = model.configure_optimizer(0.1, 6e-4, (0.9, 0.95), device.type)
    step_model = torch.compile(model, dynamic=False) if args.compile == "on" else model
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if args.dtype == "bfloat16"
                else contextlib.nullcontext())
    tokens_per_step = args.batch * config.context_length
    generator = torch.Generator(device=device).manual_seed(0)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    times = []
    compile_started = time.perf_counter()
    for step in range(args.warmup + args.steps):
        x = torch.randint(config.vocab_size, (args.batch, config.context_length), device=device, generator=generator)
        y = torch.roll(x, -1, dims=1)
        sync()
        started = time.perf_counter()
        with autocast:
            _, loss = step_model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        if step == args.warmup - 1:
            print(f"warm-up (incl. compile) {time.perf_counter() - compile_started:.1f} s, loss {loss.item():.3f}",
                  flush=True)
        if step >= args.warmup:
            times.append(time.perf_counter() - started)

    seconds = statistics.median(times)
    tokens_per_s = tokens_per_step / seconds
    flops = model.flops_per_token()
    measured = measure_peak_flops(device, torch.bfloat16 if args.dtype == "bfloat16" else torch.float32)
    stated = args.peak or (stated_peak_flops(name, args.dtype) if cuda else None)
    result = {
        "device": name, "torch": torch.__version__, "preset": args.preset, "params": model.num_params(),
        "dtype": args.dtype, "compile": args.compile == "on", "batch": args.batch, "context": config.context_length,
        "ms_per_step": seconds * 1000, "tokens_per_s": tokens_per_s, "flops_per_token": flops,
        "measured_matmul_peak": measured, "mfu_vs_measured": flops * tokens_per_s / measured,
        "stated_peak": stated, "mfu_vs_stated": flops * tokens_per_s / stated if stated else None,
        "max_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if cuda else None,
        "final_loss": loss.item(),
    }
    print(f"{name}: {args.preset} {args.dtype}{' compiled' if result['compile'] else ''}, "
          f"{args.batch} x {config.context_length} tokens/step: {seconds * 1000:.1f} ms/step, "
          f"{tokens_per_s:,.0f} tokens/s")
    print(f"MFU {result['mfu_vs_measured']:.1%} of the measured matmul peak ({measured / 1e12:.1f} TFLOP/s)"
          + (f", {result['mfu_vs_stated']:.1%} of the stated {stated / 1e12:.0f} TFLOP/s" if stated else ""))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
