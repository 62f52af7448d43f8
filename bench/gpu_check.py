"""The GPU check behind ``bench/gpu_check.sh``: the trainer itself, as ``python -m training.train``, on the
demo's shards tokenized with GPT-2, in five launches (about 4 minutes on one H100 with compilation):

1. **speed** - ``training/configs/gpt2-124m.yaml`` as shipped (0.5 M tokens per step by accumulation, bf16,
   compiled) for ``--speed-steps`` steps: tokens/s and MFU against the GPU's datasheet peak (the measured
   matmul peak beside it), from the trainer's own metrics, leaving out the first log window (compilation);
2. **bf16** and **fp32** - the same first steps on a smaller batch (32 K tokens), bf16 autocast compiled
   against fp32 eager with TF32 off: the first 10 losses within ``--loss-tolerance``; their final validation
   loss (the trainer's evaluation of the final checkpoint) side by side;
3. **resume** - the bf16 run again, SIGKILLed after a checkpoint, then ``--resume``d: the first redone step
   must repeat the killed run's loss, and every later loss the uninterrupted bf16 run's, within
   ``--resume-tolerance``: 0 on CPU, where the trainer is bit-exact; 0.01 on a GPU, where atomics in some
   backward kernels and per-process kernel autotuning may change the last bits (whether they were
   bit-identical is reported either way).

``--cpu`` runs the same sequence with the tiny model, few steps and no compilation (the speed and resume
runs in fp32, CPU's training dtype, plus an uninterrupted fp32 reference), so CI runs the script on any
token dataset (``--tokens``) and it cannot rot. Everything goes under ``--out`` (default
``$OUT``): ``gpu_check.json`` (every figure and check), ``summary.txt``, ``configs/``, ``logs/``,
``runs/``. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]


def flops(rate: float | None) -> str:
    rate = rate or 0.0
    return f"{rate / 1e12:.1f} TFLOP/s" if rate >= 1e12 else f"{rate / 1e9:.1f} GFLOP/s"


def log(message: str, out: Path) -> None:
    print(message, flush=True)
    with open(out / "summary.txt", "a", encoding="utf-8") as fh:
        fh.write(message + "\n")


def demo_manifest(out: Path, ranks: Path) -> Path:
    """manifests/demo-gpt2.yaml with absolute paths and its run folder under ``out``, written to ``out``."""
    manifest = yaml.safe_load((REPO / "manifests" / "demo-gpt2.yaml").read_text(encoding="utf-8"))
    base = REPO / "manifests"
    manifest["run"]["output_dir"] = str(out / "data")
    for source in manifest["sources"]:
        source["paths"] = [str((base / p).resolve()) for p in source["paths"]]
    manifest["stages"]["tokenize"]["tokenizer"]["ranks_path"] = str(ranks.resolve())
    path = out / "configs" / "demo-gpt2.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return path


def make_tokens(out: Path, ranks: Path) -> Path:
    """Run the demo pipeline with GPT-2's tokenizer (``demo_manifest``) and return its token folder."""
    path = demo_manifest(out, ranks)
    run = subprocess.run([sys.executable, "-m", "pipeline", "run", str(path)], cwd=REPO, capture_output=True,
                         text=True)
    (out / "logs" / "pipeline.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    if run.returncode:
        raise SystemExit(f"the pipeline failed (exit {run.returncode}); see {out / 'logs' / 'pipeline.log'}")
    return out / "data" / "demo-gpt2" / "tokens"


def base_config(tokens: Path, cpu: bool, micro_batch: int) -> dict[str, Any]:
    """gpt2-124m.yaml on ``tokens``, sources allowed to repeat (the demo is ~1.3 M tokens); CPU: tiny."""
    config = yaml.safe_load((REPO / "training" / "configs" / "gpt2-124m.yaml").read_text(encoding="utf-8"))
    index = json.loads((tokens / "index.json").read_text(encoding="utf-8"))
    config["data"] = {"dataset": str(tokens.resolve()), "max_epochs": {s: 10_000 for s in index["sources"]}}
    config["optim"]["micro_batch"] = micro_batch
    config["checkpoint"] = {"every": 0, "background": True}
    config["eval"] = {"every": 0, "batches": 4, "batch_size": 16}
    if cpu:
        config["model"] = {"preset": "tiny"}  # context 64; the vocabulary follows the tokenizer
        config["optim"].update(batch_tokens=256, micro_batch=4, warmup_steps=2)
        config["eval"].update(batches=2, batch_size=8)
        config["system"].update(device="cpu", compile=False)
    return config


def write_config(out: Path, name: str, config: dict[str, Any]) -> Path:
    config = {**config, "out_dir": str(out / "runs" / name)}
    path = out / "configs" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def train(out: Path, name: str, config: dict[str, Any], resume: bool = False) -> Path:
    """One launch of the trainer; its metrics file."""
    path = write_config(out, name, config)
    with open(out / "logs" / f"{name}.log", "a", encoding="utf-8") as log_file:
        run = subprocess.run([sys.executable, "-m", "training.train", str(path), *(["--resume"] if resume else [])],
                             cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)
    if run.returncode:
        raise SystemExit(f"training run {name!r} failed (exit {run.returncode}); see {out / 'logs' / f'{name}.log'}")
    return out / "runs" / name / "metrics.jsonl"


def records(metrics: Path, kind: str) -> list[dict[str, Any]]:
    lines = metrics.read_text(encoding="utf-8").splitlines() if metrics.exists() else []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by the kill
        if record.get("kind") == kind:
            found.append(record)
    return found


def losses(metrics: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in records(metrics, "train")}


# ``python -m training.train CONFIG`` that halts for good (its background checkpoint write goes on) right after
# logging the first step past a checkpoint (step % EVERY != 0), so the SIGKILL lands there every time. Killing a
# free-running run raced it: on CPU a step takes ~8 ms, and when the background write of the first checkpoint
# took longer than EVERY steps (fsync on a loaded disk) the kill came a checkpoint late.
HALT_PAST_CHECKPOINT = """
import sys, threading
from training import metrics
from training.train import main
every = int(sys.argv[1])
write = metrics.MetricsLog.write
def halting_write(self, record):
    write(self, record)
    if record.get("kind") == "train" and record["step"] > every and record["step"] % every:
        threading.Event().wait()
metrics.MetricsLog.write = halting_write
sys.exit(main(sys.argv[2:]))
"""


def killed_and_resumed(out: Path, config: dict[str, Any], every: int) -> tuple[dict[int, float], dict[int, float], int]:
    """Start the run (halting after the first step it logs past a checkpoint: ``HALT_PAST_CHECKPOINT``), SIGKILL
    it once that checkpoint is written, resume it; returns (losses the killed run logged, losses after the
    resume, the checkpoint's step)."""
    name = "resume"
    path = write_config(out, name, config)
    metrics, checkpoint = out / "runs" / name / "metrics.jsonl", out / "runs" / name / "checkpoint.pt"
    with open(out / "logs" / f"{name}.log", "w", encoding="utf-8") as log_file:
        process = subprocess.Popen([sys.executable, "-c", HALT_PAST_CHECKPOINT, str(every), str(path)], cwd=REPO,
                                   stdout=log_file, stderr=subprocess.STDOUT)
        while process.poll() is None:
            steps = sorted(losses(metrics))
            if checkpoint.exists() and steps and steps[-1] > every and steps[-1] % every:
                break
            time.sleep(0.005)
        if process.poll() is not None:
            raise SystemExit(f"the run to kill ended first (exit {process.returncode}); see "
                             f"{out / 'logs' / 'resume.log'}")
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = losses(metrics)  # the resume truncates the file to the checkpoint's step: read it now
    saved_step = torch.load(checkpoint, map_location="cpu", weights_only=True)["trainer"]["step"]
    train(out, name, config, resume=True)
    return before, losses(metrics), saved_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=os.environ.get("OUT"),
                        help="folder for every output (default $OUT)")
    parser.add_argument("--cpu", action="store_true", help="the tiny model on CPU, few steps (CI)")
    parser.add_argument("--tokens", type=Path, help="an existing token dataset instead of running the demo pipeline")
    parser.add_argument("--ranks", type=Path, default=REPO / "samples" / "tokenizers" / "gpt2.tiktoken",
                        help="GPT-2's tiktoken ranks for the pipeline (default the copy in samples/)")
    parser.add_argument("--speed-steps", type=int, help="steps of the speed run (default 20; CPU 6)")
    parser.add_argument("--steps", type=int, help="steps of the resume run (default 30; CPU 30)")
    parser.add_argument("--precision-steps", type=int, help="steps of the bf16/fp32 runs (default 30; CPU 4)")
    parser.add_argument("--micro-batch", type=int, default=16, help="sequences per forward/backward on the GPU")
    parser.add_argument("--loss-tolerance", type=float, default=0.05,
                        help="largest |bf16 - fp32| loss over the compared steps")
    parser.add_argument("--resume-tolerance", type=float,
                        help="largest |resumed - uninterrupted| loss (default 0 on CPU, 0.01 on GPU)")
    args = parser.parse_args(argv)
    if args.out is None:
        parser.error("give --out DIR or set $OUT")
    out: Path = args.out.resolve()
    for folder in ("configs", "logs", "runs"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text("", encoding="utf-8")
    cpu = args.cpu
    speed_steps = args.speed_steps or (4 if cpu else 20)
    steps = args.steps or 30
    precision_steps = args.precision_steps or (4 if cpu else steps)
    every = max(2, steps // 3)
    resume_tolerance = args.resume_tolerance if args.resume_tolerance is not None else (0.0 if cpu else 0.01)
    started = time.perf_counter()
    result: dict[str, Any] = {"mode": "cpu" if cpu else "gpu", "checks": {}}

    if args.tokens is None and not args.ranks.is_file():
        raise SystemExit(f"GPT-2 ranks {args.ranks} not found; pass --ranks PATH (gpt2.tiktoken) or --tokens DIR")
    tokens = args.tokens.resolve() if args.tokens else make_tokens(out, args.ranks)
    result["tokens"] = str(tokens)
    log(f"tokens: {tokens} ({time.perf_counter() - started:.0f} s)", out)
    base = base_config(tokens, cpu, args.micro_batch)

    # 1. speed: the shipped recipe's step.
    speed = json.loads(json.dumps(base))
    speed["optim"]["max_steps"] = speed_steps
    speed["system"]["log_every"] = max(1, speed_steps // 4)
    if cpu:
        speed["system"]["dtype"] = "auto"  # fp32: the CPU's training dtype
    metrics = train(out, "speed", speed)
    start = records(metrics, "start")[0]
    windows = records(metrics, "train")[1:] or records(metrics, "train")  # the first window holds compilation
    result["speed"] = {
        "device": start["device_name"], "dtype": start["dtype"], "compile": start["compile"],
        "tokens_per_step": start["global_batch"] * start["model"]["context_length"],
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in windows),
        "mfu": statistics.median(r["mfu"] for r in windows),
        "mfu_measured": statistics.median(r.get("mfu_measured", r["mfu"]) for r in windows),
        "peak_flops": start["peak_flops"], "peak_flops_source": start["peak_flops_source"],
        "measured_peak_flops": start["measured_peak_flops"], "flops_per_token": start["flops_per_token"],
        "step_ms": statistics.median(r["step_ms"] for r in windows), "windows": len(windows)}
    s = result["speed"]
    log(f"speed: {s['device']} {s['dtype']}{' compiled' if s['compile'] else ''}, "
        f"{s['tokens_per_step']:,} tokens/step: {s['tokens_per_s']:,.0f} tokens/s, {s['step_ms']:.0f} ms/step, MFU "
        f"{s['mfu']:.1%} of the {s['peak_flops_source']} peak {flops(s['peak_flops'])} ({s['mfu_measured']:.1%} of "
        f"the measured {flops(s['measured_peak_flops'])})", out)

    # 2. bf16 against fp32 on the same first steps, smaller batch.
    small = json.loads(json.dumps(base))
    small["optim"].update(batch_tokens=small["optim"]["batch_tokens"] if cpu else 32768, warmup_steps=10)
    small["eval"]["every"] = 10_000  # step 0 and the end: the final checkpoint's validation loss
    small["system"]["log_every"] = 1
    if cpu:
        small["system"]["peak_flops"] = 1e10  # no MFU reported from these runs: skip the 1 s measurement
    bf16 = json.loads(json.dumps(small))
    bf16["optim"]["max_steps"] = precision_steps
    bf16["system"]["dtype"] = "bfloat16"
    fp32 = json.loads(json.dumps(bf16))
    fp32["system"].update(dtype="float32", compile=False, tf32=False)
    bf16_losses = losses(train(out, "bf16", bf16))
    fp32_losses = losses(train(out, "fp32", fp32))
    compared = sorted(bf16_losses)[:10]
    worst = max(abs(bf16_losses[k] - fp32_losses[k]) for k in compared)
    evals = {name: records(out / "runs" / name / "metrics.jsonl", "eval")[-1]["val_loss_overall"]
             for name in ("bf16", "fp32")}
    result["precision"] = {"steps": compared, "bf16": [bf16_losses[k] for k in compared],
                           "fp32": [fp32_losses[k] for k in compared], "max_abs_diff": worst,
                           "tolerance": args.loss_tolerance, "final_val_loss": evals}
    result["checks"]["bf16_matches_fp32"] = worst <= args.loss_tolerance
    log(f"precision: bf16 vs fp32 over steps {compared[0]}-{compared[-1]}: max |diff| {worst:.2e} "
        f"(tolerance {args.loss_tolerance}); final val loss bf16 {evals['bf16']:.4f}, fp32 {evals['fp32']:.4f}", out)

    # 3. checkpoint, kill, resume, in the device's training dtype (CPU: fp32, bf16 matmuls are ~50x slower).
    reference = json.loads(json.dumps(small))
    reference["optim"]["max_steps"] = steps
    reference["system"]["dtype"] = "float32" if cpu else "bfloat16"
    reference["checkpoint"]["every"] = every
    if reference == {**bf16, "checkpoint": reference["checkpoint"]}:
        reference_losses = bf16_losses  # the bf16 run is this run uninterrupted (checkpoints change no number)
    else:
        reference_losses = losses(train(out, "reference", reference))
    before, after, saved_step = killed_and_resumed(out, reference, every)
    redone = [k for k in sorted(before) if k > saved_step]
    if not redone:
        raise SystemExit("the killed run logged no step after its checkpoint; see the logs")
    first_diff = abs(after[redone[0]] - before[redone[0]])
    first_exact = after[redone[0]] == before[redone[0]]
    later = [k for k in sorted(after) if k > saved_step]
    drift = max(abs(after[k] - reference_losses[k]) for k in later)
    bitwise = all(after[k] == reference_losses[k] for k in later)
    result["resume"] = {"checkpoint_step": saved_step, "killed_at_step": max(before), "redone_steps": redone,
                        "first_redone_step_bitwise": first_exact, "first_redone_step_abs_diff": first_diff,
                        "max_abs_diff_vs_uninterrupted": drift,
                        "bitwise_vs_uninterrupted": bitwise, "tolerance": resume_tolerance,
                        "steps_after_resume": len(later)}
    result["checks"]["resume_repeats_the_killed_step"] = first_diff <= resume_tolerance  # CPU: bit for bit
    result["checks"]["resume_matches_uninterrupted"] = drift <= resume_tolerance and len(later) == steps - saved_step
    log(f"resume: killed at step {max(before)}, checkpoint at {saved_step}; first redone step "
        f"{'bit-identical' if first_exact else f'differs by {first_diff:.2e}'} from the killed run's; "
        f"steps {later[0]}-{later[-1]} vs the uninterrupted run: max |diff| {drift:.2e} "
        f"({'bitwise equal' if bitwise else f'tolerance {resume_tolerance}'})", out)

    result["seconds"] = time.perf_counter() - started
    result["passed"] = all(result["checks"].values())
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"{'PASSED' if result['passed'] else 'FAILED'}: {result['checks']} in {result['seconds']:.0f} s; "
        f"{out / 'gpu_check.json'}", out)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
