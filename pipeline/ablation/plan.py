"""Which stage outputs the variants of an ablation share, and which each computes for itself.

Every variant is a chain of stage nodes: its manifest's stages in order, with a held-out scrub before
tokenize (``pipeline.ablation.held_out``). A node's key hashes what decides its output: the stage, its
options, the run seed, the sources and the key of the node before it. Variants that reach the same key
share the node's output: it is computed once, in one folder, and the others reuse it. So `raw` (crawl,
tokenize) and `filtered+dedup` (crawl, filter, dedup, tokenize) share the crawl; a threshold change shares
crawl too, and runs its filter in the same folder as the other filter nodes after that crawl, where the
filter stage's own signal store (``signals/<signal hash>/``) makes it re-decide from stored signals
instead of measuring again.

A node's folder is ``<ablation>/stages/<stage>-<key>`` (filter: ``filter-<key of its input>``); its
inputs, the previous node's output shards, are hard-linked into it under the same relative names, so every
stage runs unchanged on a run folder of its own and its completion records make a rerun skip it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.ablation import Ablation, AblationError
from pipeline.manifest import LoadedManifest, ManifestError, parse_manifest

HELD_OUT_STAGE = "held-out"
SHARED_FOLDER_STAGES = ("filter",)
"""Stages whose outputs are named by their options' hash (filter: ``filtered/<hash>/``), so nodes after the
same input share one folder and what the options do not change (the filter signals) is measured once."""


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass
class Node:
    """One stage's output that one or more variants train on."""

    key: str
    stage: str
    folder: str  # below <ablation>/stages
    parent: str | None
    variants: list[str] = field(default_factory=list)  # in ablation order; the first one computes it


@dataclass
class Plan:
    nodes: dict[str, Node]  # in an order where every parent comes first
    chains: dict[str, list[str]]  # variant -> its node keys, crawl first, tokenize last
    signal_hashes: dict[str, dict[str, str]]  # filter node key -> {source: signal hash}

    def crawl_key(self) -> str:
        keys = {chain[0] for chain in self.chains.values()}
        if len(keys) != 1:
            raise AblationError("every variant must start from the same crawl (the held-out set is drawn from it "
                                "and the comparison needs the same raw text); the variants' crawl or clean "
                                "options or sources differ")
        return keys.pop()

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        """Per variant, per stage: computed here, or reused from the variant that computes it (and for a
        filter whose folder another filter node computed first: which sources' signals it reuses)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for variant, chain in self.chains.items():
            rows = []
            for key in chain:
                node = self.nodes[key]
                row: dict[str, Any] = {"stage": node.stage, "node": key, "folder": node.folder}
                owner = node.variants[0]
                row["action"] = "compute" if owner == variant else "reuse"
                if owner != variant:
                    row["from_variant"] = owner
                if node.stage == "filter" and owner == variant:
                    reused = self._signals_reused(key)
                    if reused:
                        row["signals_reused"] = reused
                rows.append(row)
            out[variant] = rows
        return out

    def _signals_reused(self, key: str) -> dict[str, str]:
        """{source: filter node key} for the sources whose signals an earlier filter node in the same folder
        already measures (same signal hash)."""
        node = self.nodes[key]
        reused: dict[str, str] = {}
        for other_key, other in self.nodes.items():
            if other_key == key:
                break
            if other.stage != "filter" or other.folder != node.folder:
                continue
            for source, s_hash in self.signal_hashes[key].items():
                if source not in reused and self.signal_hashes[other_key].get(source) == s_hash:
                    reused[source] = other_key
        return reused


def variant_manifest(ablation: Ablation, variant: str, folder: Path) -> LoadedManifest:
    """The variant's manifest with its run folder set to ``folder``; an invalid one names the variant."""
    data = ablation.variant_data(variant)
    data["run"] = {**(data.get("run") or {}), "output_dir": str(folder.parent), "name": folder.name}
    try:
        return parse_manifest(yaml.safe_dump(data, sort_keys=False), f"{ablation.manifest_path} (variant "
                              f"{variant})", ablation.manifest_path)
    except ManifestError as exc:
        raise AblationError(f"variants.{variant}: {exc}") from None


def _filter_signal_hashes(manifest: LoadedManifest) -> dict[str, str]:
    from pipeline.filters.chain import build, resolve, signal_hash

    options = manifest.stages.filter
    return {s.name: signal_hash(build(resolve(s.kind, options.defaults_by_kind, options.per_source.get(s.name))),
                                options.analysis_max_chars) for s in manifest.sources}


def make_plan(ablation: Ablation) -> Plan:
    """The shared stage nodes of every variant (see the module docstring)."""
    nodes: dict[str, Node] = {}
    chains: dict[str, list[str]] = {}
    signal_hashes: dict[str, dict[str, str]] = {}
    held_out = ablation.model.held_out.model_dump(mode="json")
    for variant in ablation.variants:
        manifest = variant_manifest(ablation, variant, ablation.layout.stages / "plan")
        order = list(manifest.stages.order)
        if order[0] != "crawl" or order[-1] != "tokenize":
            raise AblationError(f"variants.{variant}.stages.order: must start with crawl and end with tokenize "
                                f"(each variant trains on its own tokens); got {order}")
        resolved = manifest.model.model_dump(mode="json")
        common = {"sources": resolved["sources"], "seed": resolved["run"]["seed"]}
        stages = order[:-1] + [HELD_OUT_STAGE, "tokenize"]
        parent: str | None = None
        chain = []
        for stage in stages:
            if stage == "crawl":
                options = {"crawl": resolved["stages"]["crawl"], "clean": resolved["stages"]["clean"]}
            elif stage == HELD_OUT_STAGE:
                options = held_out
            else:
                options = resolved["stages"][stage]
            key = digest({"stage": stage, "options": options, "parent": parent, **common})
            folder = f"{stage}-{parent}" if stage in SHARED_FOLDER_STAGES else f"{stage}-{key}"
            node = nodes.setdefault(key, Node(key, stage, folder, parent))
            if variant not in node.variants:
                node.variants.append(variant)
            if stage == "filter" and key not in signal_hashes:
                signal_hashes[key] = _filter_signal_hashes(manifest)
            chain.append(key)
            parent = key
        chains[variant] = chain
    plan = Plan(nodes, chains, signal_hashes)
    plan.crawl_key()
    return plan


def format_plan(plan: Plan) -> str:
    """The plan as lines a person reads before the work starts."""
    lines = []
    for variant, rows in plan.describe().items():
        lines.append(f"{variant}:")
        for row in rows:
            what = ("compute" if row["action"] == "compute" else f"reuse from {row['from_variant']}")
            if row.get("signals_reused"):
                what += f" (decisions only: signals of {', '.join(sorted(row['signals_reused']))} reused)"
            lines.append(f"  {row['stage']:<9} {row['node']}  {what}")
    return "\n".join(lines)
