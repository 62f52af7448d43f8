"""``python -m training.evaluate CHECKPOINT --tasks core|NAME,... [--limit N] [--seed S] [--out FILE]``.

Scores a trainer checkpoint or a Hugging Face GPT-2 folder on registry tasks and/or bits per byte of text
files and token splits, prints progress (items/s) on stderr and a table on stdout, and writes the results
JSON (per task: metric, value, items, random baseline, seconds, and every other metric of its type; CORE
when core tasks ran; bits per byte per text file or token split) next to the checkpoint unless --out says
where. Under ``torchrun`` the items are shared across ranks and rank 0 writes. Bad input ends in one
``error:`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from contracts.eval_results import RESULTS_SUFFIX, bpb_name, default_results_path, write_results
from training.benchmarks.prompts import DEFAULT_SEED
from training.benchmarks.tasks import DATA_DIR_ENV, DEFAULT_REGISTRY

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate",
                                     description="Evaluate a checkpoint on benchmarks (CORE, LAMBADA, ARC, PIQA, "
                                                 "HellaSwag, ...) and bits per byte of text files.")
    parser.add_argument("checkpoint", type=Path, nargs="?",
                        help="trainer checkpoint (.pt) or a transformers GPT-2 folder")
    parser.add_argument("--tasks", default=None,
                        help="comma-separated task and group names from the registry (groups: core, standard)")
    parser.add_argument("--bpb", type=Path, action="append", default=[], metavar="TEXT_FILE",
                        help="also report bits per byte of this UTF-8 text file (repeatable)")
    parser.add_argument("--bpb-tokens", type=Path, action="append", default=[], metavar="TOKEN_DIR",
                        help="also report bits per byte of a token dataset's split (the pipeline's <run>/tokens; "
                             "decoded with its own tokenizer, so any model compares; repeatable)")
    parser.add_argument("--bpb-split", default="val", choices=("val", "train"),
                        help="split of --bpb-tokens (default %(default)s)")
    parser.add_argument("--bpb-max-docs", type=int, default=None, metavar="N",
                        help="only the first N documents of each source of --bpb-tokens")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N items of each task")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="few-shot draw seed (default %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default: beside the checkpoint, "
                        f"<name>{RESULTS_SUFFIX})")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="task registry YAML")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"folder the registry's files are relative to (default ${DATA_DIR_ENV}, else the "
                             "registry's data_dir)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--batch-tokens", type=int, default=4096,
                        help="padded tokens per forward pass (memory vs speed)")
    parser.add_argument("--no-shared-prefix", action="store_true",
                        help="one full forward pass per choice, even where an item's choices share their context "
                             "(the same scores, slower; for comparison)")
    parser.add_argument("--ranks-path", default=None, help="tokenizer ranks file overriding the checkpoint's")
    parser.add_argument("--list", action="store_true", help="list the registry's tasks and groups and exit")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error("--limit must be a positive number of items")
    if args.batch_tokens <= 0:
        parser.error("--batch-tokens must be positive")
    if not args.list and args.checkpoint is None:
        parser.error("name a CHECKPOINT (or --list the tasks)")
    if not args.list and not args.tasks and not args.bpb and not args.bpb_tokens:
        parser.error("name --tasks (e.g. core) and/or --bpb TEXT_FILE and/or --bpb-tokens TOKEN_DIR")
    if args.bpb_max_docs is not None and args.bpb_max_docs <= 0:
        parser.error("--bpb-max-docs must be a positive number of documents")
    return args


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from contracts.token_dataset import DatasetError
    from training.benchmarks.bits_per_byte import file_bits_per_byte, split_bits_per_byte
    from training.benchmarks.harness import core_summary, evaluate_task
    from training.benchmarks.items import TaskDataError
    from training.benchmarks.model_source import load_model
    from training.benchmarks.scoring import MIN_SHARED_PREFIX
    from training.benchmarks.tasks import TaskRegistryError, load_registry
    from training.distributed import setup, teardown

    try:
        registry = load_registry(args.registry, args.data_dir)
        if args.list:
            for name, spec in registry.tasks.items():
                print(f"{name:40s} {spec.type:18s} shots={spec.shots:<3d} metric={spec.metric:14s} {spec.file}")
            for group, members in registry.groups.items():
                print(f"group {group}: {', '.join(members)}")
            return 0
        specs = registry.select(args.tasks) if args.tasks else []
    except TaskRegistryError as exc:
        return fail(str(exc))
    try:
        loaded = load_model(args.checkpoint, args.ranks_path)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        return fail(str(exc.args[0]) if exc.args else str(exc))
    dist = setup(args.device)
    try:
        loaded.model.to(dist.device)
        torch.manual_seed(0)  # nothing here samples; fixed anyway so no code path can differ between runs
        results = []
        for spec in specs:
            try:
                results.append(evaluate_task(loaded, spec, limit=args.limit, seed=args.seed, device=dist.device,
                                             batch_tokens=args.batch_tokens, dist=dist, progress=sys.stderr,
                                             min_shared_prefix=None if args.no_shared_prefix
                                             else MIN_SHARED_PREFIX))
            except (TaskDataError, ValueError) as exc:
                return fail(f"task {spec.name}: {exc}")
        bpb = []
        for path in args.bpb:
            try:
                started = time.perf_counter()
                bpb.append({**file_bits_per_byte(loaded, path, device=dist.device, batch_tokens=args.batch_tokens),
                            "seconds": round(time.perf_counter() - started, 3)})
            except (OSError, ValueError) as exc:
                return fail(str(exc))
        for path in args.bpb_tokens:
            try:
                started = time.perf_counter()
                bpb.append({**split_bits_per_byte(loaded, path, args.bpb_split, max_docs=args.bpb_max_docs,
                                                  device=dist.device, batch_tokens=args.batch_tokens),
                            "seconds": round(time.perf_counter() - started, 3)})
            except (OSError, ValueError, DatasetError) as exc:
                return fail(str(exc))
        if not dist.is_main:
            return 0
        report: dict[str, Any] = {
            "checkpoint": str(args.checkpoint), "seed": args.seed, "limit": args.limit, "world_size": dist.world_size,
            "tasks": {r.name: r.to_json() for r in results},
        }
        core = core_summary(results, registry.groups.get("core", []))
        if core is not None:
            report["core"] = core
        if bpb:
            report["bits_per_byte"] = bpb
        out = write_results(args.out or default_results_path(args.checkpoint), report)
        print_table(report)
        print(f"results: {out}")
        return 0
    finally:
        teardown()


def print_table(report: dict[str, Any]) -> None:
    for name, task in report["tasks"].items():
        skipped = f", {task['skipped_too_long']} too long for the context" if task.get("skipped_too_long") else ""
        print(f"{name:40s} {task['metric']:14s} {task['value']:.4f}  (baseline {task['random_baseline']:.3f}, "
              f"{task['items']} items{skipped}, {task['seconds']:.1f}s)")
    if "core" in report:
        core = report["core"]
        print(f"{'CORE':40s} {'centred mean':14s} {core['value']:.4f}  ({len(core['tasks'])} tasks)")
    for entry in report.get("bits_per_byte", []):
        print(f"{bpb_name(entry)}: {entry['bits_per_byte']:.4f} bits/byte ({entry['tokens']} tokens, "
              f"{entry['bytes']} bytes)")
