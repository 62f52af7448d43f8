"""Run a whole manifest: record what is run, connect to Ray, run the stages in order.

The run folder holds everything a run produced: the manifest it ran (verbatim and resolved) with its hash,
the outputs of each stage, the completion records that make a rerun skip finished shards, and the merged
statistics of every stage.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline.fsio import atomic_write
from pipeline.manifest import LoadedManifest
from pipeline.runner import StageResult, connect_ray, run_stage

RUN_RECORD = "run.json"


class RunMismatchError(RuntimeError):
    """The run folder holds a run of a different manifest; resuming into it would mix two runs."""


def record_run(manifest: LoadedManifest) -> None:
    """Store the manifest (verbatim and resolved) and its hash; refuse to resume a different manifest."""
    run_dir = manifest.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    record_path = run_dir / RUN_RECORD
    if record_path.exists():
        previous = json.loads(record_path.read_text())
        if previous.get("manifest_hash") != manifest.hash:
            raise RunMismatchError(
                f"{run_dir} holds a run of another manifest (hash {previous.get('manifest_hash', '?')[:12]}, "
                f"now {manifest.hash[:12]}); choose another run.name or output_dir, or delete that folder")
        return
    with atomic_write(run_dir / "manifest.yaml", "w") as fh:
        fh.write(manifest.raw_text)
    with atomic_write(run_dir / "manifest.resolved.json", "w") as fh:
        json.dump(manifest.model.model_dump(mode="json"), fh, indent=1, sort_keys=True)
    with atomic_write(record_path, "w") as fh:
        json.dump({"manifest_hash": manifest.hash, "name": manifest.run.name, "seed": manifest.run.seed,
                   "source_manifest": str(manifest.source_path)}, fh, indent=1, sort_keys=True)


def run_manifest(manifest: LoadedManifest, ray_address: str | None = None) -> dict[str, StageResult]:
    """Run every stage of ``manifest``; returns each stage's result."""
    from pipeline.stages import crawl

    record_run(manifest)
    ray_cfg = manifest.ray
    tasks = crawl.plan(manifest)  # resolves every input first: a missing file fails before any work
    connect_ray(ray_address or ray_cfg.address, ray_cfg.num_cpus, ray_cfg.object_store_memory)
    results: dict[str, StageResult] = {}
    started = time.monotonic()
    results[crawl.STAGE] = run_stage(manifest.run_dir, crawl.STAGE, tasks, crawl.run_task,
                                     max_in_flight=ray_cfg.max_in_flight, max_retries=ray_cfg.max_retries)
    _print_summary(manifest, results, time.monotonic() - started)
    return results


def _print_summary(manifest: LoadedManifest, results: dict[str, StageResult], seconds: float) -> None:
    out = sys.stderr
    print(f"\nrun {manifest.run.name!r} finished in {seconds:,.1f} s; outputs in {manifest.run_dir}", file=out)
    for name, result in results.items():
        counts = result.tally.counts
        skipped = sum(v for k, v in counts.items() if k.startswith("skipped."))
        print(f"  {name}: {counts.get('docs_out', 0):,} docs kept, {skipped:,} records skipped, "
              f"{len(result.outputs)} shards -> {manifest.run_dir / 'docs'}; stats: "
              f"{manifest.run_dir / 'stats' / (name + '.json')}", file=out)
