"""Build every variant's token dataset and the held-out set: the data side of ``python -m training.ablate``.

Runs the plan's nodes (``pipeline.ablation.plan``) in order, each stage as ``pipeline run`` would run it
(its own run folder, the run's executor, resumable by its completion records), then writes
``<ablation>/data.json``: each variant's dataset, the nodes it went through and its data funnel (documents,
characters and tokens after every stage). Rerunning skips finished nodes; a killed build resumes inside the
node it was in.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from contracts.ablation import Ablation
from contracts.fsio import atomic_write, safe_join
from contracts.run_lock import RunLock
from pipeline.ablation import held_out
from pipeline.ablation.plan import HELD_OUT_STAGE, Node, Plan, digest, make_plan, variant_manifest
from pipeline.executors import Executor, InProcessExecutor, RayExecutor
from pipeline.path_policy import enforce as enforce_path_policy
from pipeline.preflight import load_resources
from pipeline.readers import source_kind
from pipeline.runner import connect_ray
from pipeline.stage import RunContext
from pipeline.stages import get_stage
from pipeline.stages.tokenize import DATASET_DIR

NODES_DIR = "nodes"
FUNNEL_KEYS = ("docs_in", "docs_out", "chars_in", "chars_out")


def link_inputs(parent_dir: Path, child_dir: Path, inputs: list[str]) -> None:
    """Hard-link the parent node's output shards into the child's folder under the same names (a copy
    where the filesystem refuses links): a stage reads only inside its own run folder."""
    for rel in inputs:
        src, dst = safe_join(parent_dir, rel), safe_join(child_dir, rel)
        if dst.exists():
            if os.path.samefile(src, dst):
                continue
            dst.unlink()  # the parent redid this shard: link the new one
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def _record_path(ablation: Ablation, key: str) -> Path:
    return ablation.layout.root / NODES_DIR / f"{key}.json"


def _done(ablation: Ablation, node: Node) -> dict[str, Any] | None:
    """A node's record if it is complete and its outputs are still in place."""
    try:
        record = json.loads(_record_path(ablation, node.key).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    folder = ablation.layout.stages / node.folder
    return record if all((folder / o).exists() for o in record["outputs"]) else None


def _executor(ablation: Ablation, manifest: Any) -> Executor:
    if ablation.model.runner.pipeline == "in-process":
        return InProcessExecutor()
    return RayExecutor.from_settings(manifest.ray)


def run_node(ablation: Ablation, plan: Plan, node: Node, inputs: list[str]) -> dict[str, Any]:
    """Run one node's stage in its folder on ``inputs`` (its parent's outputs) and record the outcome."""
    folder = ablation.layout.stages / node.folder
    variant = node.variants[0]
    manifest = variant_manifest(ablation, variant, folder)
    if node.parent is not None:
        link_inputs(ablation.layout.stages / plan.nodes[node.parent].folder, folder, inputs)
    folder.mkdir(parents=True, exist_ok=True)
    context = RunContext(manifest, _executor(ablation, manifest))
    started = time.monotonic()
    if node.stage == HELD_OUT_STAGE:
        options = ablation.model.held_out
        result = held_out.scrub(context, inputs, ablation.layout.held_out / held_out.DOCS_NAME, options.ngram,
                                options.num_perm, options.near_threshold)
    else:
        result = get_stage(node.stage).run(context, inputs)
    outputs = [DATASET_DIR] if node.stage == "tokenize" else list(result.outputs)
    record = {"key": node.key, "stage": node.stage, "folder": node.folder, "variants": node.variants,
              "outputs": outputs, "counts": dict(result.tally.counts), "tasks_run": result.tasks_run,
              "seconds": round(time.monotonic() - started, 3)}
    with atomic_write(_record_path(ablation, node.key), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
    return record


def _funnel(records: list[dict[str, Any]], dataset: Path) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        counts = record["counts"]
        rows.append({"stage": record["stage"], "node": record["key"], **{k: counts.get(k) for k in FUNNEL_KEYS}})
    index = json.loads((dataset / "index.json").read_text())
    rows[-1]["tokens_train"] = sum(s["train"]["tokens"] for s in index["sources"].values())
    rows[-1]["tokens_val"] = sum(s["val"]["tokens"] for s in index["sources"].values())
    rows[-1]["tokens_train_by_source"] = {n: s["train"]["tokens"] for n, s in index["sources"].items()}
    return rows


def preflight(ablation: Ablation) -> None:
    """What ``pipeline run`` checks before any work, for every variant's manifest."""
    for variant in ablation.variants:
        manifest = variant_manifest(ablation, variant, ablation.layout.stages / "check")
        enforce_path_policy(manifest)
        load_resources(manifest)
        for source in manifest.sources:
            source_kind(source.kind).resolve_inputs(source)


def build(ablation: Ablation, plan: Plan | None = None, ray_address: str | None = None) -> dict[str, Any]:
    """Run every node of the plan (skipping finished ones) and write ``data.json``; returns its content."""
    plan = plan or make_plan(ablation)
    preflight(ablation)
    layout = ablation.layout
    layout.root.mkdir(parents=True, exist_ok=True)
    started = False
    pending = [node for node in plan.nodes.values() if _done(ablation, node) is None]
    if pending and ablation.model.runner.pipeline == "ray":
        first = variant_manifest(ablation, ablation.variants[0], layout.stages / "check")
        address = ray_address or ablation.model.runner.ray_address or first.ray.address
        started = connect_ray(address, first.ray.num_cpus, first.ray.object_store_memory)
    try:
        with RunLock(layout.root / NODES_DIR, "training.ablate data build"):
            records = _run_nodes(ablation, plan)
    finally:
        if started:
            import ray

            ray.shutdown()
    variants = {}
    for variant, chain in plan.chains.items():
        dataset = layout.stages / plan.nodes[chain[-1]].folder / DATASET_DIR
        variants[variant] = {"dataset": str(dataset), "nodes": chain,
                             "funnel": _funnel([records[k] for k in chain], dataset)}
    data = {"plan": plan.describe(), "variants": variants,
            "held_out": json.loads((layout.held_out / held_out.RECORD_NAME).read_text()),
            "held_out_text": str(layout.held_out_text),
            "held_out_scrub": {k: {n: v for n, v in records[k]["counts"].items() if n.startswith("removed.")}
                               for k, node in plan.nodes.items() if node.stage == HELD_OUT_STAGE}}
    with atomic_write(layout.data_record, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    return data


def _held_out_key(ablation: Ablation) -> str | None:
    """The key the stored held-out set was drawn for (None: none stored)."""
    try:
        return json.loads((ablation.layout.held_out / held_out.RECORD_NAME).read_text()).get("key")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _run_nodes(ablation: Ablation, plan: Plan) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    options = ablation.model.held_out
    held_out_key = digest({"crawl": plan.crawl_key(), **options.model_dump(mode="json")})
    for key, node in plan.nodes.items():
        inputs = records[node.parent]["outputs"] if node.parent else []
        if node.stage == HELD_OUT_STAGE and _held_out_key(ablation) != held_out_key:
            crawl = records[plan.crawl_key()]
            held_out.select(ablation.layout.stages / crawl["folder"], crawl["outputs"], options.docs,
                            options.max_bytes, ablation.layout.held_out, held_out_key)
        done = _done(ablation, node)
        if done is not None:
            print(f"[ablation] {node.stage} {key} ({node.folder}) already done, reused", file=sys.stderr)
            records[key] = done
            continue
        print(f"[ablation] {node.stage} {key} for {', '.join(node.variants)} in stages/{node.folder}",
              file=sys.stderr, flush=True)
        records[key] = run_node(ablation, plan, node, inputs)
    return records
