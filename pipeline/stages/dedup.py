"""The dedup stage: exact and MinHash near-duplicate removal across all sources, as resumable steps.

Steps (``STEPS``: each resumable, each persisting its artefacts under ``work/dedup/<fingerprint>/``):

1. ``dedup.signatures`` (one task per input shard): normalised-text hash, MinHash signature, and one bucket
   entry per band (plus the exact band), written to one file per shard with a slice per bucket partition
   (``pipeline.dedup.artefacts.write_parts``: every step that sends data to partitions writes one file per
   producing task, so the work folder holds O(shards) files, not O(shards x partitions));
2. ``dedup.buckets`` (one task per partition): candidate pairs from the partition's buckets;
3. ``dedup.edges`` (one task per partition): optional exact-Jaccard verification, then the duplicate graph's
   edges, partitioned by node;
4. ``dedup.cc.rNN.large`` / ``dedup.cc.rNN.small``: connected components by alternating star steps until
   every component is a star around its smallest node;
5. ``dedup.clusters`` (one task per partition): the keep rule per cluster and the removal list per shard;
6. ``dedup.removal`` (one task per input shard): kept documents to ``dedup/<source>/``, removed ones to the
   ledger ``removed/dedup/<source>/`` with cluster id, kept representative and reason.

Nodes of the graph are ``shard_rank << 32 | row``, shard ranks from the sorted input paths, so the result is
the same for any number of workers and any order of the inputs. The fingerprint covers the resolved options
and the inputs: a changed setting starts a fresh work folder instead of mixing artefacts.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from contracts.accounting import Tally
from contracts.corpus_stats import record_table
from contracts.fsio import atomic_write, safe_join
from pipeline.dedup import buckets as bk, components as cc
from pipeline.dedup.artefacts import CorruptArtefactError, read_arrays, read_part, write_arrays, write_parts
from pipeline.dedup.clusters import Members, decide, size_bucket
from pipeline.dedup.minhash import sketch_texts
from pipeline.dedup.options import Config, Options, fingerprint, resolve, source_priorities
from pipeline.dedup.verify import shingle_sets, verified
from pipeline.documents import write_parquet
from pipeline.memory import clear_between_steps
from pipeline.runner import STATS_DIR, StageResult, Task, TaskResult, files_stamp
from pipeline.stage import DOCUMENTS, RunContext, Stage

STAGE = "dedup"
OUT_DIR = "dedup"
LEDGER_DIR = "removed/dedup"
WORK_DIR = "work/dedup"
CLUSTER_STATS = "dedup_clusters.json"

LEDGER_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("cluster_id", pa.string(), nullable=False),
    pa.field("kept_id", pa.string(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),  # exact | near
    pa.field("text", pa.string(), nullable=False),
])


# ---------------------------------------------------------------------------------------------- layout

@dataclass(frozen=True)
class Layout:
    """Where one dedup run keeps its artefacts (paths relative to the run folder).

    Every task carries a copy, so it holds no per-shard data: the input list (sorted, the index is the shard
    rank) is written once to ``inputs_index`` by the driver and read by a task only for the shards it
    opens. Why: with the list in the payload each of the O(shards) tasks carried O(shards) paths (pickled,
    sent and hashed into its completion record: O(shards^2) per run, 638 paths per task at 100x the demo).
    """

    run_dir: str
    work: str  # work/dedup/<fingerprint>
    num_inputs: int
    partitions: int

    def path(self, relative: str) -> Path:
        return safe_join(self.run_dir, relative)

    @property
    def inputs_index(self) -> str:
        return f"{self.work}/inputs.json"

    def input(self, rank: int) -> str:
        """The input shard of ``rank`` (relative to the run folder), from the index the driver wrote."""
        inputs = _read_inputs_index(str(self.path(self.inputs_index)))
        if len(inputs) != self.num_inputs:
            raise CorruptArtefactError(f"dedup input index {self.path(self.inputs_index)} lists {len(inputs)} "
                                       f"shards, the run has {self.num_inputs}; delete {self.path(self.work)} "
                                       "and rerun")
        return inputs[rank]

    def meta(self, rank: int) -> str:
        return f"{self.work}/signatures/s{rank:05d}.meta"

    def signatures(self, rank: int) -> str:
        return f"{self.work}/signatures/s{rank:05d}.sig"

    # Partitioned files (one slice per partition, or per input shard for removals), one per producing task.
    def entries(self, rank: int) -> str:
        return f"{self.work}/buckets/s{rank:05d}"

    def pairs(self, producer: int) -> str:
        return f"{self.work}/pairs/p{producer:04d}"

    def edges(self, generation: int, producer: int) -> str:
        return f"{self.work}/graph/g{generation:03d}/p{producer:04d}"

    def removals(self, producer: int) -> str:
        return f"{self.work}/clusters/q{producer:04d}.removals"

    def examples(self, producer: int) -> str:
        return f"{self.work}/clusters/q{producer:04d}.examples.json"


@functools.lru_cache(maxsize=4)
def _read_inputs_index(path: str) -> tuple[str, ...]:
    """The sorted input list of one dedup work folder. Cached per process: the folder is named after a
    fingerprint of this list (``options.fingerprint``), so its index never changes under the same path."""
    try:
        inputs = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CorruptArtefactError(f"dedup input index {path} is missing; rerun the dedup stage (its driver "
                                   "writes the index before any task)") from None
    except ValueError as exc:
        raise CorruptArtefactError(f"dedup input index {path} is not JSON ({exc}); delete it and rerun") from None
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise CorruptArtefactError(f"dedup input index {path} is not a list of shard paths; delete it and rerun")
    return tuple(inputs)


# The list is the run's (one path per input shard: ~10 MB at 100,000 shards), so a worker moving on to
# another step drops it rather than carry it into the rest of the run; a step re-reads it once.
clear_between_steps(_read_inputs_index.cache_clear)


def write_inputs_index(layout: Layout, inputs: tuple[str, ...]) -> None:
    """Write the sorted input list once per run, before any task reads it (same bytes on a rerun)."""
    data = json.dumps(list(inputs), indent=0).encode()
    path = layout.path(layout.inputs_index)
    if not path.is_file() or path.read_bytes() != data:
        with atomic_write(path) as fh:
            fh.write(data)


def output_names(inputs: list[str]) -> dict[str, tuple[str, str]]:
    """Input shard -> (kept shard, ledger shard), named ``<source folder>/<file name>``."""
    names: dict[str, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    for rel in inputs:
        p = Path(rel)
        tail = f"{p.parent.name}/{p.name}"
        if tail in seen:
            raise ValueError(f"dedup inputs {seen[tail]!r} and {rel!r} would both write {OUT_DIR}/{tail}")
        seen[tail] = rel
        names[rel] = (f"{OUT_DIR}/{tail}", f"{LEDGER_DIR}/{tail}")
    return names


def _node(rank: int, rows: np.ndarray) -> np.ndarray:
    return (np.uint64(rank) << np.uint64(32)) | rows.astype(np.uint64)


def _rank_row(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (nodes >> np.uint64(32)).astype(np.int64), (nodes & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _write_partitioned(layout: Layout, name: str, key: np.ndarray, columns: dict[str, np.ndarray]) -> int:
    """Write ``columns`` split by ``partition_of(key)`` to one file ``name``, a slice per partition (every
    slice, empty ones too)."""
    part = bk.partition_of(key, layout.partitions)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(layout.partitions + 1))
    return write_parts(layout.path(name), [{k: v[order[bounds[q]:bounds[q + 1]]] for k, v in columns.items()}
                                           for q in range(layout.partitions)])


def _read_all(layout: Layout, names: list[str], part: int) -> dict[str, np.ndarray]:
    """Slice ``part`` of each of the files ``names``, concatenated."""
    parts = [read_part(layout.path(n), part) for n in names]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


# ------------------------------------------------------------------------------------------ 1 signatures

@dataclass(frozen=True)
class SignatureTask:
    layout: Layout
    config: Config
    rank: int
    priorities: dict[str, int]


def signatures_task(task: SignatureTask) -> TaskResult:
    """Sketch one input shard and write its bucket entries, one file per partition."""
    layout, cfg, rank = task.layout, task.config, task.rank
    table = pq.read_table(layout.path(layout.input(rank)), columns=["id", "source", "text"])
    texts = table.column("text").to_pylist()
    sources = np.array(table.column("source").to_pylist(), dtype=str)
    ids = np.array(table.column("id").to_pylist(), dtype=str)
    default = len(task.priorities)
    priority = np.array([task.priorities.get(s, default) for s in sources.tolist()], dtype=np.int64)
    sketch = sketch_texts(texts, cfg.minhash)
    write_arrays(layout.path(layout.meta(rank)), {
        "id": ids, "source": sources, "priority": priority, "exact": sketch.exact, "num_words": sketch.num_words})
    write_arrays(layout.path(layout.signatures(rank)), {"id": ids, "signatures": sketch.signatures},
                 extra=asdict(cfg.minhash))

    rows = np.flatnonzero(sketch.num_words > 0)
    nodes = _node(rank, rows)
    exact_high = sketch.exact[rows, 0]
    bands, keys, exacts, entry_nodes = [], [], [], []
    if cfg.near:
        band_keys = bk.band_keys(sketch.signatures[rows], cfg.bands, cfg.rows)
        bands.append(np.repeat(np.arange(cfg.bands, dtype=np.uint32)[None, :], len(rows), 0).ravel())
        keys.append(band_keys.ravel())
        exacts.append(np.repeat(exact_high, cfg.bands))
        entry_nodes.append(np.repeat(nodes, cfg.bands))
    if cfg.exact:
        bands.append(np.full(len(rows), cfg.bands, dtype=np.uint32))
        keys.append(bk.exact_key(exact_high, cfg.bands))
        exacts.append(exact_high)
        entry_nodes.append(nodes)
    key = np.concatenate(keys)
    _write_partitioned(layout, layout.entries(rank), key,
                       {"band": np.concatenate(bands), "key": key, "exact": np.concatenate(exacts),
                        "node": np.concatenate(entry_nodes)})
    tally = Tally()
    tally.add("signed_docs", len(texts))
    tally.add("docs_without_words", len(texts) - len(rows))
    tally.add("bucket_entries", len(key))
    return TaskResult([], tally)


# --------------------------------------------------------------------------------------------- 2 buckets

@dataclass(frozen=True)
class PartitionTask:
    layout: Layout
    config: Config
    part: int
    generation: int = 0  # graph steps: the generation read
    kind: str = ""  # graph steps: large | small


def buckets_task(task: PartitionTask) -> TaskResult:
    """Candidate pairs of one bucket partition, split by the partition of their lower node."""
    layout, q = task.layout, task.part
    e = _read_all(layout, [layout.entries(r) for r in range(layout.num_inputs)], q)
    u, v, kind = bk.candidate_pairs(e["band"], e["key"], e["exact"], e["node"], task.config.bands,
                                    task.config.all_pairs_up_to)
    _write_partitioned(layout, layout.pairs(q), u,
                       {"u": u, "v": v, "kind": kind})
    tally = Tally()
    tally.add("candidate_pairs.exact", int(np.count_nonzero(kind == bk.EXACT)))
    tally.add("candidate_pairs.near", int(np.count_nonzero(kind == bk.NEAR)))
    return TaskResult([], tally)


# ----------------------------------------------------------------------------------------------- 3 edges

def _texts_of(layout: Layout, nodes: np.ndarray) -> dict[int, str]:
    """Text of each node, reading one input shard at a time."""
    ranks, rows = _rank_row(nodes)
    texts: dict[int, str] = {}
    for rank in np.unique(ranks):
        pick = ranks == rank
        column = pq.read_table(layout.path(layout.input(int(rank))), columns=["text"]).column("text")
        taken = column.take(pa.array(rows[pick])).to_pylist()
        texts.update(zip(nodes[pick].tolist(), taken))
    return texts


def edges_task(task: PartitionTask) -> TaskResult:
    """Merge the pairs of one partition, verify near pairs if asked, write both directions by node."""
    layout, cfg, q = task.layout, task.config, task.part
    p = _read_all(layout, [layout.pairs(producer) for producer in range(layout.partitions)], q)
    u, v, kind = bk.unique_pairs(p["u"], p["v"], p["kind"])
    tally = Tally()
    if cfg.verify:
        near = np.flatnonzero(kind == bk.NEAR)
        nodes = np.unique(np.concatenate([u[near], v[near]]))
        texts = _texts_of(layout, nodes)
        sets = dict(zip(nodes.tolist(), shingle_sets([texts[n] for n in nodes.tolist()], cfg.ngram)))
        ok = verified(u[near], v[near], sets, cfg.verify_threshold)
        keep = np.ones(len(u), dtype=bool)
        keep[near[~ok]] = False
        tally.add("verify.pairs_checked", len(near))
        tally.add("verify.pairs_rejected", int(np.count_nonzero(~ok)))
        u, v, kind = u[keep], v[keep], kind[keep]
    tally.add("edges.exact", int(np.count_nonzero(kind == bk.EXACT)))
    tally.add("edges.near", int(np.count_nonzero(kind == bk.NEAR)))
    src, dst = cc.both_directions(u, v)
    _write_partitioned(layout, layout.edges(0, q), src,
                       {"src": src, "dst": dst})
    return TaskResult([], tally)


# ------------------------------------------------------------------------------------------- 4 components

def star_task(task: PartitionTask) -> TaskResult:
    """One large-star or small-star step over the edges whose source node is in this partition."""
    layout, q, g = task.layout, task.part, task.generation
    e = _read_all(layout, [layout.edges(g, producer) for producer in range(layout.partitions)], q)
    tally = Tally()
    if task.kind == "large":
        u, v, violations = cc.large_star(e["src"], e["dst"])
        tally.add("star_violations", violations)
    else:
        u, v = cc.small_star(e["src"], e["dst"])
    src, dst = cc.both_directions(u, v)
    _write_partitioned(layout, layout.edges(g + 1, q), src,
                       {"src": src, "dst": dst})
    tally.add("edges_out", len(u))
    return TaskResult([], tally)


# --------------------------------------------------------------------------------------------- 5 clusters

def _members(layout: Layout, roots: np.ndarray, members: np.ndarray) -> Members:
    """Cluster members with what the keep rule needs, read from each shard's signature metadata."""
    heads = np.unique(roots)
    nodes = np.concatenate([heads, members]).astype(np.uint64)
    cluster = np.concatenate([heads, roots]).astype(np.uint64)
    ranks, rows = _rank_row(nodes)
    n = len(nodes)
    priority = np.zeros(n, dtype=np.int64)
    doc_id = np.empty(n, dtype=object)
    source = np.empty(n, dtype=object)
    exact = np.zeros((n, 2), dtype=np.uint64)
    for rank in np.unique(ranks):
        pick = np.flatnonzero(ranks == rank)
        meta, _ = read_arrays(layout.path(layout.meta(int(rank))))
        r = rows[pick]
        priority[pick], exact[pick] = meta["priority"][r], meta["exact"][r]
        doc_id[pick], source[pick] = meta["id"][r], meta["source"][r]
    return Members(cluster, nodes, priority, doc_id.astype(str), source.astype(str), exact)


@dataclass(frozen=True)
class ClusterTask:
    layout: Layout
    part: int
    generation: int
    examples: int


def clusters_task(task: ClusterTask) -> TaskResult:
    """Apply the keep rule to the clusters rooted in this partition; write removals per input shard."""
    layout, q = task.layout, task.part
    e = _read_all(layout, [layout.edges(task.generation, producer) for producer in range(layout.partitions)], q)
    roots, members = cc.star_members(e["src"], e["dst"])
    tally = Tally()
    by_rank: dict[int, dict[str, np.ndarray]] = {}
    examples: list[dict[str, Any]] = []
    if len(roots):
        d = decide(_members(layout, roots, members))
        m = d.members
        starts = np.flatnonzero(np.r_[True, m.cluster[1:] != m.cluster[:-1]])
        tally.add("clusters", len(starts))
        for size, count in Counter(d.size[starts].tolist()).items():
            tally.add(f"cluster_size.{size_bucket(size)}", count)
        removed = np.flatnonzero(~d.kept)
        rep = d.representative
        for i in removed.tolist():
            src, kept_src = m.source[i], m.source[rep[i]]
            tally.add(f"removed.{d.reason[i]}")
            tally.add("removed.within_source" if src == kept_src else "removed.across_source")
            tally.add(f"removed_by_source.{src}.kept_from.{kept_src}")
        ranks, rows = _rank_row(m.node[removed])
        for rank in np.unique(ranks).tolist():
            pick = removed[ranks == rank]
            by_rank[rank] = {"row": rows[ranks == rank], "cluster_id": d.cluster_id[pick].astype(str),
                             "kept_id": m.doc_id[rep[pick]].astype(str), "reason": d.reason[pick].astype(str)}
        by_size = sorted(starts.tolist(), key=lambda s: (-int(d.size[s]), str(d.cluster_id[s])))
        for s in by_size[:task.examples]:
            size = int(d.size[s])
            examples.append({
                "cluster_id": str(d.cluster_id[s]), "size": size, "kept_id": str(m.doc_id[s]),
                "kept_source": str(m.source[s]),
                "members": [{"id": str(m.doc_id[i]), "source": str(m.source[i]), "reason": str(d.reason[i]) or "kept"}
                            for i in range(s, min(s + size, s + 20))]})
    none = {"row": np.zeros(0, dtype=np.int64), "cluster_id": np.zeros(0, dtype=str),
            "kept_id": np.zeros(0, dtype=str), "reason": np.zeros(0, dtype=str)}
    write_parts(layout.path(layout.removals(q)), [by_rank.get(r, none) for r in range(layout.num_inputs)])
    with atomic_write(layout.path(layout.examples(q)), "w") as fh:
        json.dump(examples, fh, sort_keys=True)
    return TaskResult([layout.removals(q)], tally)


# ---------------------------------------------------------------------------------------------- 6 removal

@dataclass(frozen=True)
class RemovalTask:
    layout: Layout
    rank: int
    kept_name: str
    ledger_name: str


def removal_task(task: RemovalTask) -> TaskResult:
    """Split one input shard into kept documents and ledger rows."""
    layout = task.layout
    source_path = layout.input(task.rank)
    table = pq.read_table(layout.path(source_path))
    tally = Tally()
    tally.add("docs_in", table.num_rows)
    record_table(tally.counts, table, "in")
    rows, cluster_id, kept_id, reason = [], [], [], []
    for name in (layout.removals(q) for q in range(layout.partitions)):  # what the clusters step wrote
        arrays = read_part(layout.path(name), task.rank)
        if not len(arrays["row"]):
            continue
        rows.append(arrays["row"]); cluster_id.append(arrays["cluster_id"])
        kept_id.append(arrays["kept_id"]); reason.append(arrays["reason"])
    removed = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    order = np.argsort(removed, kind="stable")
    removed = removed[order]
    if len(np.unique(removed)) != len(removed):
        raise RuntimeError(f"dedup: a document of {source_path} is listed in two clusters; the graph "
                           f"artefacts in {layout.work} are inconsistent: delete that folder and rerun")
    outputs: list[str] = []
    keep = np.ones(table.num_rows, dtype=bool)
    keep[removed] = False
    kept = table.filter(pa.array(keep))
    record_table(tally.counts, kept, "out")
    if kept.num_rows:
        write_parquet(layout.path(task.kept_name), kept)
        outputs.append(task.kept_name)
    if len(removed):
        cluster_id = np.concatenate(cluster_id)[order]
        kept_id = np.concatenate(kept_id)[order]
        reason = np.concatenate(reason)[order]
        gone = table.take(pa.array(removed))
        ids = gone.column("id").to_pylist()
        ledger = pa.table({
            "id": ids, "source": gone.column("source"), "cluster_id": cluster_id.tolist(),
            "kept_id": kept_id.tolist(), "reason": reason.tolist(), "text": gone.column("text")},
            schema=LEDGER_SCHEMA)
        write_parquet(layout.path(task.ledger_name), ledger)
        for doc, why, cid, rep in zip(ids, reason.tolist(), cluster_id.tolist(), kept_id.tolist()):
            tally.skip(f"duplicate_{why}", source_path, doc, f"cluster {cid}, kept {rep}")
    tally.add("docs_out", kept.num_rows)
    return TaskResult(outputs, tally)


# ------------------------------------------------------------------------------------------------- driver

@dataclass(frozen=True)
class Plan:
    """What every step of one dedup run shares: the artefact layout, the resolved options, task names."""

    layout: Layout
    inputs: tuple[str, ...]  # sorted input shards (the driver's copy of the layout's index)
    config: Config
    options: Options
    priorities: dict[str, int]
    output_names: dict[str, tuple[str, str]]  # input shard -> (kept shard, ledger shard)
    shard_ids: tuple[str, ...]  # one per input shard, in rank order
    part_ids: tuple[str, ...]  # one per partition
    sizes: tuple[int, ...]  # input shard sizes, for progress
    stamp: str  # files_stamp of all inputs

    def task(self, task_id: str, payload: Any, size: int = 0) -> Task:
        # Dedup is global: a rewritten input shard can change any cluster, so every task's identity
        # includes the stamp of all inputs (see pipeline.runner.task_digest).
        return Task(task_id, payload, size, key=(payload, self.stamp))

    def per_shard(self, make: Callable[[int], Any]) -> list[Task]:
        return [self.task(self.shard_ids[r], make(r), self.sizes[r]) for r in range(self.layout.num_inputs)]

    def per_partition(self, make: Callable[[int], Any]) -> list[Task]:
        return [self.task(self.part_ids[q], make(q)) for q in range(self.config.partitions)]


@dataclass
class StepResults:
    """What the steps have produced so far: each step's result by name, and the graph generation the
    connected-components rounds ended at (the one the clusters step reads)."""

    results: dict[str, StageResult] = field(default_factory=dict)
    generation: int = 0
    rounds: int = 0


@dataclass(frozen=True)
class Step:
    """One resumable step: a task function and how to make its tasks from the plan and earlier steps.

    ``counted``: its counts go into ``stats/dedup.json`` (the star rounds' bookkeeping does not).
    """

    name: str
    fn: Callable[[Any], TaskResult]
    tasks: Callable[[Plan, StepResults], list[Task]]
    docs_key: str = "docs_out"
    counted: bool = True

    def run(self, context: RunContext, plan: Plan, done: StepResults) -> None:
        done.results[self.name] = context.run_tasks(f"{STAGE}.{self.name}", self.tasks(plan, done), self.fn,
                                                    docs_key=self.docs_key)


@dataclass(frozen=True)
class ComponentsStep:
    """Connected components: rounds of a large-star then a small-star step (``dedup.cc.rNN.large`` /
    ``.small``) until a large-star step changes nothing; each step reads the previous generation."""

    name: str = "cc"
    counted: bool = False

    def run(self, context: RunContext, plan: Plan, done: StepResults) -> None:
        max_rounds = plan.options.max_rounds
        for round_ in range(max_rounds):
            large = self._star(context, plan, f"r{round_:02d}.large", done.generation, "large")
            done.generation += 1
            if large.tally.counts.get("star_violations", 0) == 0:
                done.rounds = round_ + 1
                return
            self._star(context, plan, f"r{round_:02d}.small", done.generation, "small")
            done.generation += 1
        raise RuntimeError(f"dedup: connected components did not converge in {max_rounds} rounds; "
                           "raise stages.dedup.max_rounds")

    @staticmethod
    def _star(context: RunContext, plan: Plan, name: str, generation: int, kind: str) -> StageResult:
        tasks = plan.per_partition(lambda q: PartitionTask(plan.layout, plan.config, q, generation, kind))
        return context.run_tasks(f"{STAGE}.cc.{name}", tasks, star_task)


def _removal_tasks(plan: Plan, done: StepResults) -> list[Task]:
    """One task per input shard, reading its slice of every removal file the clusters step wrote (one per
    partition, named by the layout, so the payload does not list them)."""
    expected = sorted(plan.layout.removals(q) for q in range(plan.layout.partitions))
    if sorted(done.results["clusters"].outputs) != expected:
        raise RuntimeError(f"dedup: the clusters step recorded {len(done.results['clusters'].outputs)} removal "
                           f"files, expected one per partition ({len(expected)}); delete {plan.layout.work} "
                           "and the run folder's _done/dedup.* records, then rerun")
    return plan.per_shard(lambda r: RemovalTask(plan.layout, r, *plan.output_names[plan.inputs[r]]))


STEPS: tuple[Step | ComponentsStep, ...] = (
    Step("signatures", signatures_task, docs_key="signed_docs", tasks=lambda plan, done: plan.per_shard(
        lambda r: SignatureTask(plan.layout, plan.config, r, plan.priorities))),
    Step("buckets", buckets_task, tasks=lambda plan, done: plan.per_partition(
        lambda q: PartitionTask(plan.layout, plan.config, q))),
    Step("edges", edges_task, tasks=lambda plan, done: plan.per_partition(
        lambda q: PartitionTask(plan.layout, plan.config, q))),
    ComponentsStep(),
    Step("clusters", clusters_task, tasks=lambda plan, done: plan.per_partition(
        lambda q: ClusterTask(plan.layout, q, done.generation, plan.options.examples))),
    Step("removal", removal_task, tasks=_removal_tasks),
)


def make_plan(context: RunContext, inputs: list[str]) -> Plan:
    """Resolve the options for these inputs and name the work folder after them."""
    options: Options = context.options(STAGE)
    ordered = sorted(dict.fromkeys(inputs))
    config = resolve(options, len(ordered))
    fp = fingerprint(config, ordered)
    layout = Layout(str(context.run_dir), f"{WORK_DIR}/{fp}", len(ordered), config.partitions)
    return Plan(layout, tuple(ordered), config, options, source_priorities(context.sources, options) if ordered else {},
                output_names(ordered), tuple(f"{fp}-s{r:05d}" for r in range(len(ordered))),
                tuple(f"{fp}-p{q:04d}" for q in range(config.partitions)),
                tuple(layout.path(rel).stat().st_size for rel in ordered), files_stamp(context.run_dir, ordered))


def run(context: RunContext, inputs: list[str]) -> StageResult:
    """Deduplicate the document shards ``inputs`` (relative to the run folder) by running ``STEPS``."""
    started = time.monotonic()
    plan = make_plan(context, inputs)
    tally = Tally()
    done = StepResults()
    if plan.inputs:
        write_inputs_index(plan.layout, plan.inputs)
        for step in STEPS:
            step.run(context, plan, done)
        for step in STEPS:
            if step.counted:
                tally.merge(done.results[step.name].tally)
        tally.add("components_rounds", done.rounds)
        _write_cluster_stats(plan.layout, plan.config, plan.options, done.results["clusters"].tally,
                             done.results["removal"].tally)
    removal = done.results.get("removal")
    result = StageResult(STAGE, removal.outputs if removal else [], tally, removal.tasks_run if removal else 0,
                         removal.tasks_skipped if removal else 0, time.monotonic() - started)
    with atomic_write(safe_join(context.run_dir, STATS_DIR, f"{STAGE}.json"), "w") as fh:
        json.dump({**result.summary(), "config": asdict(plan.config), "work": plan.layout.work}, fh, indent=1,
                  sort_keys=True)
    return result


def _write_cluster_stats(layout: Layout, config: Config, options: Options, clusters: Tally,
                         removal: Tally) -> None:
    """``stats/dedup_clusters.json``: size histogram, within/across-source counts, the largest clusters."""
    examples: list[dict[str, Any]] = []
    for q in range(layout.partitions):
        examples.extend(json.loads(layout.path(layout.examples(q)).read_text()))
    examples.sort(key=lambda c: (-c["size"], c["cluster_id"]))
    counts = clusters.counts

    def numeric(label: str) -> int:
        return int(label.split("-")[0])

    histogram = {k.split(".", 1)[1]: v for k, v in counts.items() if k.startswith("cluster_size.")}
    stats = {
        "config": asdict(config),
        "clusters": counts.get("clusters", 0),
        "docs_in": removal.counts.get("docs_in", 0),
        "docs_out": removal.counts.get("docs_out", 0),
        "removed": {"exact": counts.get("removed.exact", 0), "near": counts.get("removed.near", 0)},
        "removed_within_source": counts.get("removed.within_source", 0),
        "removed_across_source": counts.get("removed.across_source", 0),
        "removed_by_source_and_kept_source": {
            k.split(".", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("removed_by_source.")},
        "cluster_size_histogram": dict(sorted(histogram.items(), key=lambda kv: numeric(kv[0]))),
        "largest_clusters": examples[:options.examples],
    }
    with atomic_write(safe_join(layout.run_dir, STATS_DIR, CLUSTER_STATS), "w") as fh:
        json.dump(stats, fh, indent=1, sort_keys=False)


DEFINITION = Stage(
    name=STAGE, options=Options, run=run, consumes=DOCUMENTS, produces=DOCUMENTS,
    outputs={"documents": f"{OUT_DIR}/<source>/", "ledger": f"{LEDGER_DIR}/<source>/",
             "clusters": f"{STATS_DIR}/{CLUSTER_STATS}", "work": f"{WORK_DIR}/<fingerprint>/",
             "stats": f"{STATS_DIR}/{STAGE}.json"})
