"""Run a whole manifest: record what is run, connect to Ray, run the stages in order.

The run folder holds everything a run produced: the manifest it ran (verbatim and resolved) with its hash,
the outputs of each stage, the completion records that make a rerun skip finished shards, and the merged
statistics of every stage.
"""

from __future__ import annotations

import json
import sys
import time

from contracts.fsio import atomic_write
from contracts.run_lock import RunLock
from pipeline.executors import InProcessExecutor
from pipeline.manifest import LoadedManifest, ManifestError
from pipeline.path_policy import enforce as enforce_path_policy
from pipeline.preflight import load_resources
from pipeline.readers import source_kind
from pipeline.report import report_after_run
from pipeline.run_folder import check_run_folder
from pipeline.runner import StageError, StageResult, connect_ray, os_error_message
from pipeline.stage import RunContext, check_order
from pipeline.stages import get_stage

RUN_RECORD = "run.json"


def record_run(manifest: LoadedManifest) -> None:
    """Store the manifest (verbatim and resolved) and its hash in the run folder.

    Resuming with a changed manifest (a new threshold, say) is allowed: every completion record carries a
    digest of its task's inputs and options, so the runner redoes exactly the tasks the change affects.
    The previous manifests are kept as ``manifest.<hash>.yaml`` and listed in ``run.json``.
    """
    run_dir = manifest.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    record_path = run_dir / RUN_RECORD
    history: list[str] = []
    if record_path.exists():
        previous = json.loads(record_path.read_text())
        old = previous.get("manifest_hash", "")
        history = list(previous.get("previous_hashes", []))
        if old == manifest.hash:
            return
        print(f"note: {run_dir} was made by another manifest (hash {old[:12]}, now {manifest.hash[:12]}); "
              "tasks whose inputs or options changed will be redone", file=sys.stderr)
        if (run_dir / "manifest.yaml").exists():
            (run_dir / "manifest.yaml").replace(run_dir / f"manifest.{old[:12]}.yaml")
        history.append(old)
    with atomic_write(run_dir / "manifest.yaml", "w") as fh:
        fh.write(manifest.raw_text)
    with atomic_write(run_dir / "manifest.resolved.json", "w") as fh:
        json.dump(manifest.model.model_dump(mode="json"), fh, indent=1, sort_keys=True)
    with atomic_write(record_path, "w") as fh:
        json.dump({"manifest_hash": manifest.hash, "name": manifest.run.name, "seed": manifest.run.seed,
                   "previous_hashes": history}, fh, indent=1, sort_keys=True)


def run_manifest(manifest: LoadedManifest, ray_address: str | None = None,
                 force: bool = False) -> dict[str, StageResult]:
    """Run the manifest's stages in order; each takes the document shards the previous one recorded.

    Before any work: the path policy (``io.allowed_roots``), the run folder (a non-empty folder that is
    not a run needs ``force``) and every input. While it runs, the run folder is locked (one run at a
    time), and an embedded Ray it started is stopped with it, agents included.
    """
    address = ray_address or manifest.ray.address
    if manifest.ray.in_process and address:
        raise ManifestError(f"manifest {manifest.source_path}: ray.in_process runs every task in this process, "
                            f"so it cannot join the cluster at {address}; drop one of the two")
    order = list(manifest.stages.order)
    check_order([get_stage(name) for name in order])
    enforce_path_policy(manifest)
    check_run_folder(manifest.run_dir, force)
    load_resources(manifest)  # a tokenizer or model that cannot load fails now, not after the other stages
    for source in manifest.sources:  # resolve every input now: a missing file fails before Ray starts
        source_kind(source.kind).resolve_inputs(source)
    with RunLock(manifest.run_dir, "pipeline run"):
        record_run(manifest)
        return _run_stages(manifest, order, ray_address)


def _run_stages(manifest: LoadedManifest, order: list[str], ray_address: str | None) -> dict[str, StageResult]:
    ray_cfg = manifest.ray
    address = ray_address or ray_cfg.address
    if ray_cfg.in_process:
        context, started = RunContext(manifest, InProcessExecutor()), False
    else:
        context = RunContext.on_ray(manifest)
        started = connect_ray(address, ray_cfg.num_cpus, ray_cfg.object_store_memory)
    watchdog = None
    if started and not address and sys.platform.startswith("linux"):
        from pipeline.ray_watchdog import Watchdog, node_process_ids

        watchdog = Watchdog(node_process_ids())
    try:
        results: dict[str, StageResult] = {}
        inputs: list[str] = []
        began = time.monotonic()
        for name in order:
            try:
                result = get_stage(name).run(context, inputs)
            except OSError as exc:  # the stage's own driver-side steps (its tasks' errors are StageErrors)
                raise StageError(os_error_message(name, "(driver step)", exc)) from exc
            results[name] = result
            inputs = result.outputs
        _print_summary(manifest, results, time.monotonic() - began)
        report_after_run(manifest.run_dir)
        return results
    finally:
        if started:  # Ray this run started ends with it; one it joined (a cluster, a test's) stays
            import ray

            ray.shutdown()
            if watchdog is not None:
                watchdog.reap()


def _print_summary(manifest: LoadedManifest, results: dict[str, StageResult], seconds: float) -> None:
    out = sys.stderr
    print(f"\nrun {manifest.run.name!r} finished in {seconds:,.1f} s; outputs in {manifest.run_dir}", file=out)
    for name, result in results.items():
        counts = result.tally.counts
        if name == "crawl":
            skipped = sum(v for k, v in counts.items() if k.startswith("skipped."))
            what = f"{skipped:,} input records skipped with a reason"
        else:
            what = f"{counts.get('docs_in', 0) - counts.get('docs_out', 0):,} removed"
        print(f"  {name}: {counts.get('docs_in', 0):,} docs in, {counts.get('docs_out', 0):,} out ({what}), "
              f"{len(result.outputs)} output shards; stats in {manifest.run_dir / 'stats' / (name + '.json')}",
              file=out)
    if "filter" in results:  # documents kept unjudged by their word rules: said here too, not only in the report
        from pipeline.report.collect import warning_lines

        for line in warning_lines(results["filter"].tally.counts, [source.name for source in manifest.sources]):
            print(f"  warning: {line}", file=out)
