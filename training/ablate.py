"""Data ablations in one command: ``python -m training.ablate ABLATION.yaml``.

1. The data (``python -m pipeline.ablation``, a subprocess: ``training`` may not import ``pipeline``):
   every variant's token dataset, stage outputs shared between variants computed once, and the held-out
   text no variant trains on (``<ablation>/data.json`` lists them).
2. One training run per (variant, seed): the same model, optimiser and token budget for every variant
   (``training.train``), held-out bits per byte and the benchmark subset at every evaluation (the learning
   curves) and at the end. Runs go one after another in this process, or one Ray task each
   (``runner.kind: ray``; ``gpus_per_run: 1`` gives each its own GPU).
3. The report (``training.ablation_report``): ``<ablation>/report/report.{json,md,html}``.

Resumable like every stage: a finished run (its ``result.json`` matches its config) is skipped, a killed
one resumes from its last checkpoint (bit for bit on CPU), finished data nodes are not redone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from contracts.ablation import Ablation, AblationError, load_ablation
from contracts.fsio import atomic_write
from model.gpt import GPTConfig
from training.config import ConfigError, TrainConfig, parse_config
from training.metrics import METRICS_NAME

RESULT_NAME = "result.json"


@dataclass(frozen=True)
class RunSpec:
    variant: str
    seed: int
    config: dict[str, Any]  # the training config (absolute paths), as training.config.parse_config takes it

    @property
    def digest(self) -> str:
        return config_digest(self.config)


def config_digest(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def check_training(ablation: Ablation) -> None:
    """What the contract cannot check: the model preset and overrides, the benchmark task names."""
    spec = ablation.model.training.model
    problems = []
    try:
        GPTConfig.preset(spec.preset, **spec.overrides)
    except (ValueError, TypeError) as exc:
        problems.append(f"training.model: {exc}")
    if ablation.model.benchmarks.tasks:
        from training.benchmarks.tasks import load_registry

        try:
            load_registry().select(",".join(ablation.model.benchmarks.tasks))
        except ValueError as exc:
            problems.append(f"benchmarks.tasks: {exc}")
    if problems:
        raise AblationError(f"invalid ablation file {ablation.path}:\n  - " + "\n  - ".join(problems))


def run_specs(ablation: Ablation, data: dict[str, Any]) -> list[RunSpec]:
    """Every (variant, seed) run's training config: only the dataset, the mixture and the seed differ."""
    t = ablation.model.training
    specs = []
    for variant in ablation.variants:
        v = ablation.model.variants[variant]
        for seed in t.seeds:
            config = {
                "seed": seed,
                "data": {"dataset": data["variants"][variant]["dataset"], "weights": v.weights or t.weights,
                         "max_epochs": v.max_epochs or t.max_epochs},
                "model": t.model.model_dump(mode="json"),
                "optim": {**t.optim.model_dump(mode="json"), "max_steps": t.max_steps},
                "eval": {"every": t.eval_every, "batches": t.eval_batches, "tasks": ablation.model.benchmarks.tasks,
                         "task_limit": ablation.model.benchmarks.limit, "bpb_text": data["held_out_text"]},
                "checkpoint": {"every": t.checkpoint_every or t.eval_every},
                "system": {"log_every": 1, **t.system},
            }
            config["out_dir"] = str(ablation.layout.run_dir(variant, seed, config_digest(config)[:10]))
            parse_config(config, f"{ablation.path} (variant {variant}, seed {seed})")  # refuse now, not mid-way
            specs.append(RunSpec(variant, seed, config))
    return specs


def finished(spec: RunSpec) -> dict[str, Any] | None:
    """The run's result if it finished with this very config."""
    try:
        result = json.loads((Path(spec.config["out_dir"]) / RESULT_NAME).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return result if result.get("config_digest") == spec.digest else None


def summarize(spec: RunSpec, seconds: float) -> dict[str, Any]:
    """A finished run's scores and curves from its metrics.jsonl."""
    curves: dict[str, list[list[float]]] = {"bits_per_byte": [], "train_loss": [], "val_loss": []}
    benchmarks: dict[str, list[list[float]]] = {}
    final: dict[str, Any] = {}
    start: dict[str, Any] = {}
    path = Path(spec.config["out_dir"]) / METRICS_NAME
    for line in path.read_text().splitlines():
        record = json.loads(line)
        kind, step = record.get("kind"), record.get("step")
        if kind == "start" and not start:
            start = record
        elif kind == "train":
            curves["train_loss"].append([step, record["loss"]])
        elif kind == "eval" and record.get("val_loss_overall") is not None:
            curves["val_loss"].append([step, record["val_loss_overall"]])
        elif kind == "bpb":
            curves["bits_per_byte"].append([step, record["bits_per_byte"]])
            final["bits_per_byte"] = record["bits_per_byte"]
            final["held_out_tokens"] = record["tokens"]
            final["held_out_bytes"] = record["bytes"]
        elif kind == "benchmark":
            for name, task in record["tasks"].items():
                benchmarks.setdefault(name, []).append([step, task["value"]])
            final["benchmarks"] = {n: {"value": t["value"], "metric": t["metric"], "items": t["items"],
                                       "random_baseline": t["random_baseline"]} for n, t in record["tasks"].items()}
            final["core"] = record.get("core")
    steps = spec.config["optim"]["max_steps"]
    if not curves["bits_per_byte"] or curves["bits_per_byte"][-1][0] != steps:
        raise RuntimeError(f"run {spec.variant} seed {spec.seed}: {path} has no held-out bits per byte at its "
                           f"last step {steps}; was it trained with eval.bpb_text and validation data?")
    return {"variant": spec.variant, "seed": spec.seed, "config_digest": spec.digest, "steps": steps,
            "tokens": steps * spec.config["optim"]["batch_tokens"], "params": start.get("params"),
            "final": final, "curves": {**curves, "benchmarks": benchmarks}, "seconds_last_session": round(seconds, 1)}


def run_one(spec: RunSpec, quiet: bool = False) -> dict[str, Any]:
    """Train (or resume) one run and write its result.json; a module-level function, so Ray can ship it."""
    from training.train import train

    started = time.monotonic()
    config: TrainConfig = parse_config(spec.config, f"run {spec.variant} seed {spec.seed}")
    train(config, resume=True, echo=None if quiet else print)
    result = summarize(spec, time.monotonic() - started)
    with atomic_write(Path(spec.config["out_dir"]) / RESULT_NAME, "w") as fh:
        json.dump(result, fh, indent=1, sort_keys=True)
    return result


def train_all(ablation: Ablation, specs: list[RunSpec], ray_address: str | None = None) -> list[dict[str, Any]]:
    """Every run's result, training the unfinished ones (locally in order, or as Ray tasks)."""
    results: dict[tuple[str, int], dict[str, Any]] = {}
    pending = []
    for spec in specs:
        done = finished(spec)
        if done is not None:
            print(f"[ablate] {spec.variant} seed {spec.seed}: finished, skipped", file=sys.stderr)
            results[(spec.variant, spec.seed)] = done
        else:
            pending.append(spec)
    runner = ablation.model.runner
    if pending and runner.kind == "ray":
        import ray

        started = False
        if not ray.is_initialized():
            address = ray_address or runner.ray_address
            ray.init(address=address, **({} if address else {"include_dashboard": False}))
            started = True
        try:
            remote = ray.remote(num_cpus=runner.cpus_per_run, num_gpus=runner.gpus_per_run, max_retries=2)(run_one)
            refs = {remote.remote(spec, True): spec for spec in pending}
            print(f"[ablate] {len(refs)} runs submitted to Ray ({runner.cpus_per_run} CPUs, {runner.gpus_per_run} "
                  "GPUs each)", file=sys.stderr)
            for ref, spec in refs.items():
                results[(spec.variant, spec.seed)] = ray.get(ref)
                print(f"[ablate] {spec.variant} seed {spec.seed}: done", file=sys.stderr)
        finally:
            if started:
                ray.shutdown()
    else:
        for i, spec in enumerate(pending):
            print(f"[ablate] run {i + 1}/{len(pending)}: {spec.variant} seed {spec.seed} -> {spec.config['out_dir']}",
                  file=sys.stderr, flush=True)
            results[(spec.variant, spec.seed)] = run_one(spec)
    return [results[(s.variant, s.seed)] for s in specs]


def build_data(ablation: Ablation, ray_address: str | None) -> dict[str, Any]:
    """Run the data side in a subprocess and read what it wrote."""
    command = [sys.executable, "-m", "pipeline.ablation", str(ablation.path)]
    if ray_address:
        command += ["--ray-address", ray_address]
    if subprocess.run(command, check=False).returncode != 0:
        raise AblationError(f"building the variants' data failed ({' '.join(command)}); see the messages above")
    return json.loads(ablation.layout.data_record.read_text())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.ablate", description=__doc__.split("\n\n")[0])
    parser.add_argument("ablation", type=Path, help="ablation YAML (see ablations/demo.yaml)")
    parser.add_argument("--ray-address", default=None, help="Ray cluster for the pipeline stages and the runs")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from finished runs")
    args = parser.parse_args(argv)
    from training.ablation_report import write_report
    from training.train import USER_ERRORS

    try:
        ablation = load_ablation(args.ablation)
        check_training(ablation)
        data = (json.loads(ablation.layout.data_record.read_text()) if args.report_only
                else build_data(ablation, args.ray_address))
        specs = run_specs(ablation, data)
        if args.report_only:
            results = [finished(s) for s in specs]
            missing = [f"{s.variant} seed {s.seed}" for s, r in zip(specs, results) if r is None]
            if missing:
                raise AblationError(f"--report-only: runs not finished: {', '.join(missing)}")
        else:
            results = train_all(ablation, specs, args.ray_address)
        paths = write_report(ablation, data, results)  # type: ignore[arg-type]
    except (AblationError, ConfigError, FileNotFoundError, *USER_ERRORS) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("report: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
