"""The tokenize stage: document shards in, the token dataset (``contracts.token_dataset``) out. Always last.

Steps, each resumable:

1. Validation thresholds (driver): a document is in a source's validation split when a hash of its id
   falls below the source's threshold, so the split is fixed by the ids alone, disjoint from training,
   and independent of shard layout and seed. ``validation.fraction`` sets the threshold; ``max_docs``
   lowers it to the ``max_docs``-th smallest hash of the source (this reads the id columns).
2. Tokenizer: a published tiktoken encoding from a local ranks file, or a byte-level BPE trained once, in a
   single task, on a deterministic slice of the training documents (``pipeline.bpe``); its ranks file is
   kept in ``<run_dir>/tokenizer/``.
3. One task per group of consecutive input shards of one source (grouped to about ``shard_tokens``
   tokens): encode, append end-of-text, cut into shards of nearly equal size, shuffle documents inside each
   shard with a permutation seeded by the run seed and the shard's name, write Arrow IPC shards.
4. The index (driver): every task's shard entries in task order, the tokenizer's identity, the manifest
   hash and checksums, written to ``<run_dir>/tokens/index.json`` with a copy of the ranks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from contracts.accounting import Tally
from contracts.corpus_stats import language_tokens, record_in, record_language_tokens, record_tokens
from contracts.fsio import atomic_write, safe_join
from contracts.tiktoken_ranks import ranks_bytes
from contracts.token_dataset import INDEX_NAME, ShardEntry, TOKENIZER_FILE, build_index, write_index, write_shard
from pipeline.bpe import train_bpe
from pipeline.documents import shard_source
from pipeline.runner import STATS_DIR, StageResult, Task, TaskResult
from pipeline.stage import DOCUMENTS, RunContext, Stage, TOKENS
from pipeline.token_layout import shuffle_order, split_evenly
from pipeline.tokenizer import (GPT2_PATTERN, PRETOKENIZERS, BpeSpec, TiktokenSpec, Tokenizer, TokenizerSpec,
                                find_ranks_file, load_bpe, load_tiktoken)

if TYPE_CHECKING:
    from pipeline.manifest import LoadedManifest

STAGE = "tokenize"
BPE_STAGE = "tokenize-bpe"
DATASET_DIR = "tokens"
TOKENIZER_DIR = "tokenizer"
PARTS_DIR = "tokenize-parts"
BYTES_PER_TOKEN_ESTIMATE = 4  # only used to group inputs into tasks of about shard_tokens tokens
VAL_HASH_PERSON = b"refinery-val"
MIN_EXPECTED_VAL_DOCS = 20  # fewer expected held-out documents than this: check that at least one is


class ValidationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fraction: float = Field(0.005, ge=0, lt=1, description="share of each source's documents held out")
    max_docs: int | None = Field(None, ge=0, description="at most this many held-out documents per source")


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokenizer: TokenizerSpec = Field(default_factory=TiktokenSpec)
    shard_tokens: int = Field(50_000_000, ge=1, le=2**31 - 1, description="target tokens per token shard")
    validation: ValidationOptions = Field(default_factory=ValidationOptions)


def val_hash(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8, person=VAL_HASH_PERSON).digest(), "big")


@dataclass(frozen=True)
class TokenizerRef:
    """How a worker rebuilds the tokenizer: a ranks file on shared storage and the sha256 it must have."""

    kind: str
    name: str
    path: str
    sha256: str
    spec_json: str = ""  # a tiktoken encoding's spec (pattern, special tokens), with ``path`` as ranks_path
    pattern: str = GPT2_PATTERN  # a trained BPE's pre-tokenisation regex

    def load(self) -> Tokenizer:
        return _load_tokenizer(self)


@functools.lru_cache(maxsize=4)
def _load_tokenizer(ref: TokenizerRef) -> Tokenizer:
    if ref.kind == "bpe":
        tokenizer = load_bpe(ref.path, ref.name, ref.pattern)
    else:
        spec = TiktokenSpec.model_validate_json(ref.spec_json) if ref.spec_json else TiktokenSpec(name=ref.name)
        tokenizer = load_tiktoken(spec.model_copy(update={"ranks_path": ref.path}))
    if tokenizer.info.ranks_sha256 != ref.sha256:
        raise ValueError(f"tokenizer file {ref.path} changed during the run (sha256 {tokenizer.info.ranks_sha256}"
                         f", expected {ref.sha256})")
    return tokenizer


@dataclass(frozen=True)
class TokenizeTask:
    run_dir: str
    source: str
    inputs: tuple[str, ...]  # document shards, relative to the run folder
    name: str  # shard file stem, unique in the source
    seed: int
    tokenizer: TokenizerRef
    val_threshold: int
    shard_tokens: int


@dataclass(frozen=True)
class BpeTask:
    run_dir: str
    inputs: tuple[tuple[str, tuple[str, ...], int, int | None], ...]  # (source, shards, byte budget, doc cap)
    val_thresholds: dict[str, int]
    n_ranks: int
    output: str  # relative to the run folder
    pattern: str = GPT2_PATTERN


def _base_dir(manifest: "LoadedManifest") -> Path:
    return manifest.source_path.parent if getattr(manifest, "source_path", None) else Path.cwd()


def _read_docs(run_dir: Path, inputs: tuple[str, ...],
               source: str) -> tuple[list[str], list[Any], list[str], list[str | None]]:
    """Ids, URLs, texts and languages (the filter's detected one, else the source's declared one)."""
    ids: list[str] = []
    urls: list[Any] = []
    texts: list[str] = []
    languages: list[str | None] = []
    for relative in inputs:
        path = safe_join(run_dir, relative)
        names = pq.ParquetFile(path).schema_arrow.names
        table = pq.read_table(path, columns=["id", "source", "url", "text", "meta"]
                              + (["language"] if "language" in names else []))
        sources = set(table.column("source").unique().to_pylist())
        if sources - {source}:
            raise ValueError(f"{relative}: holds documents of sources {sorted(sources)}, expected only {source!r}")
        ids.extend(table.column("id").to_pylist())
        urls.extend(table.column("url").to_pylist())
        texts.extend(table.column("text").to_pylist())
        declared = (pc.struct_field(table.column("meta"), "language").to_pylist()
                    if table.schema.field("meta").type.get_field_index("language") >= 0 else [None] * table.num_rows)
        detected = table.column("language").to_pylist() if "language" in names else [None] * table.num_rows
        languages.extend(d or m for d, m in zip(detected, declared))
    return ids, urls, texts, languages


def validation_thresholds(context: RunContext, by_source: dict[str, list[str]],
                          warnings: list[str] | None = None) -> dict[str, int]:
    """Per source, the hash below which a document is held out for validation.

    A source too small for ``fraction`` (no hash falls below it) still holds out its one document with the
    smallest hash when it has two or more; with a single document it has no validation split, and a
    warning goes to ``warnings`` (the statistics, the dataset index and the report show it). Ids are read
    only where that can happen (fewer than ``MIN_EXPECTED_VAL_DOCS`` expected) or for ``max_docs``.
    """
    options: ValidationOptions = context.options(STAGE).validation
    base = int(options.fraction * 2**64)
    thresholds = {}
    for source, inputs in by_source.items():
        threshold = base
        n_docs = sum(pq.ParquetFile(context.run_dir / rel).metadata.num_rows for rel in inputs)
        small = options.fraction > 0 and options.max_docs != 0 and n_docs * options.fraction < MIN_EXPECTED_VAL_DOCS
        hashes: list[int] = []
        if small or (options.max_docs is not None and threshold > 0):
            hashes = sorted(val_hash(i) for rel in inputs
                            for i in pq.read_table(context.run_dir / rel, columns=["id"]).column("id").to_pylist())
        if options.max_docs is not None and threshold > 0:
            below = [h for h in hashes if h < threshold]
            if len(below) > options.max_docs:
                threshold = below[options.max_docs]  # exactly max_docs hashes lie below it
        if small and not any(h < threshold for h in hashes):
            if len(hashes) >= 2:
                threshold = hashes[0] + 1  # the one document with the smallest hash
            elif warnings is not None:
                warnings.append(f"source {source!r} has {len(hashes)} document(s), too few for "
                                f"validation.fraction {options.fraction}: it has no validation documents, so "
                                "its validation loss cannot be measured")
        thresholds[source] = threshold
    return thresholds


def train_bpe_task(task: BpeTask) -> TaskResult:
    """Train the BPE on each source's first training documents, up to its share of the byte budget."""
    run_dir = Path(task.run_dir)
    texts: list[str] = []
    tally = Tally()
    for source, inputs, budget, doc_cap in task.inputs:
        used = docs = 0
        for relative in inputs:
            if used >= budget or (doc_cap is not None and docs >= doc_cap):
                break
            ids, _, source_texts, _ = _read_docs(run_dir, (relative,), source)
            for doc_id, text in zip(ids, source_texts):
                if val_hash(doc_id) < task.val_thresholds[source]:
                    continue
                if used >= budget or (doc_cap is not None and docs >= doc_cap):
                    break
                texts.append(text)
                used += len(text.encode("utf-8"))
                docs += 1
        tally.add(f"bpe_bytes.{source}", used)
        tally.add("docs_out", docs)
    ranks = train_bpe(texts, task.n_ranks, task.pattern)
    tally.add("bpe_ranks", len(ranks))
    with atomic_write(safe_join(run_dir, task.output)) as fh:
        fh.write(ranks_bytes(ranks))
    return TaskResult([task.output], tally)


def tokenize_task(task: TokenizeTask) -> TaskResult:
    """Encode one group of document shards into train and validation token shards."""
    run_dir = Path(task.run_dir)
    dataset_dir = safe_join(run_dir, DATASET_DIR)
    tokenizer = task.tokenizer.load()
    ids, urls, texts, languages = _read_docs(run_dir, task.inputs, task.source)
    tally = Tally()
    tally.add("docs_in", len(ids))
    record_in(tally.counts, task.source, len(ids), sum(map(len, texts)))
    held_out = np.fromiter((val_hash(i) < task.val_threshold for i in ids), dtype=bool, count=len(ids))
    entries: list[ShardEntry] = []
    for split, mask in (("train", ~held_out), ("val", held_out)):
        chosen = np.flatnonzero(mask)
        if len(chosen) == 0:
            continue
        values, lengths = tokenizer.encode_documents([texts[i] for i in chosen])
        starts = np.concatenate([[0], np.cumsum(lengths)])
        tally.add(f"tokens_{split}", len(values))
        tally.add(f"docs_{split}", len(chosen))
        record_tokens(tally.counts, task.source, split, lengths)
        utf8 = [len(texts[i].encode("utf-8")) for i in chosen]
        tally.add("bytes_in", sum(utf8))
        record_language_tokens(tally.counts, task.source, [languages[i] for i in chosen], utf8, lengths)
        for part, (a, b) in enumerate(split_evenly(lengths, task.shard_tokens)):
            relative = f"{split}/{task.source}/{task.name}-{part:04d}.arrow"
            order = a + shuffle_order(b - a, task.seed, relative)
            shard_values = np.concatenate([values[starts[d]:starts[d + 1]] for d in order])
            entries.append(write_shard(dataset_dir, relative, split, task.source,
                                       [ids[chosen[d]] for d in order], [urls[chosen[d]] for d in order],
                                       shard_values, lengths[order], tokenizer.dtype))
    tally.add("docs_out", len(ids))
    part_file = f"{PARTS_DIR}/{task.source}/{task.name}.json"
    with atomic_write(safe_join(run_dir, part_file), "w") as fh:
        json.dump([e.__dict__ for e in entries], fh, sort_keys=True)
    return TaskResult([f"{DATASET_DIR}/{e.path}" for e in entries], tally)


def _estimated_tokens(path: Path) -> int:
    meta = pq.ParquetFile(path).metadata
    text = [meta.schema.column(i).name for i in range(meta.num_columns)].index("text")
    size = sum(meta.row_group(g).column(text).total_uncompressed_size for g in range(meta.num_row_groups))
    return size // BYTES_PER_TOKEN_ESTIMATE


def plan(context: RunContext, by_source: dict[str, list[str]], tokenizer: TokenizerRef,
         thresholds: dict[str, int]) -> list[Task]:
    """Group each source's consecutive input shards into tasks of about ``shard_tokens`` tokens."""
    options: Options = context.options(STAGE)
    run_dir = context.run_dir
    tasks: list[Task] = []
    for source, inputs in by_source.items():
        groups: list[list[str]] = []
        estimate = 0
        for relative in inputs:
            tokens = _estimated_tokens(run_dir / relative)
            if not groups or estimate + tokens > options.shard_tokens:
                groups.append([])
                estimate = 0
            groups[-1].append(relative)
            estimate += tokens
        for number, group in enumerate(groups):
            name = f"{number:05d}"
            payload = TokenizeTask(str(run_dir), source, tuple(group), name, context.seed,
                                   tokenizer, thresholds[source], options.shard_tokens)
            size = sum((run_dir / r).stat().st_size for r in group)
            tasks.append(Task(id=f"{source}.{name}", payload=payload, size_bytes=size, inputs=tuple(group)))
    return tasks


def load_manifest_tiktoken(manifest: "LoadedManifest") -> tuple[Tokenizer, TiktokenSpec]:
    """The manifest's tiktoken encoding, loaded, and its spec with the ranks file found and made absolute.

    Called by ``pipeline check`` and at the start of a run, so an encoding that cannot load offline fails
    before any stage works, and again here by the tokenize stage.
    """
    spec = manifest.stages.tokenize.tokenizer
    ranks_path = spec.ranks_path and str((_base_dir(manifest) / spec.ranks_path).resolve())
    path = find_ranks_file(spec.model_copy(update={"ranks_path": ranks_path}))
    resolved = spec.model_copy(update={"ranks_path": str(path)})
    return load_tiktoken(resolved), resolved


def prepare_tokenizer(context: RunContext, by_source: dict[str, list[str]],
                      thresholds: dict[str, int]) -> TokenizerRef:
    """Locate the published ranks, or train the BPE once (a single resumable task)."""
    spec = context.options(STAGE).tokenizer
    if isinstance(spec, TiktokenSpec):
        tokenizer, resolved = load_manifest_tiktoken(context.manifest)
        return TokenizerRef("tiktoken", spec.name, str(resolved.ranks_path), tokenizer.info.ranks_sha256,
                            resolved.model_dump_json())
    assert isinstance(spec, BpeSpec)
    weights = {s.name: s.weight for s in context.sources if s.name in by_source}
    total = sum(weights.values())
    inputs = tuple((source, tuple(by_source[source]), max(1, int(spec.train_bytes * w / total)),
                    None if spec.train_docs is None else max(1, -(-spec.train_docs * w // total)))
                   for source, w in weights.items())
    output = f"{TOKENIZER_DIR}/{spec.name}-{spec.vocab_size}.tiktoken"
    pattern = PRETOKENIZERS[spec.pretokenize]
    payload = BpeTask(str(context.run_dir), inputs, thresholds, spec.vocab_size - 1, output, pattern)
    every_shard = tuple(r for shards in by_source.values() for r in shards)
    context.run_tasks(BPE_STAGE, [Task(id="train", payload=payload, inputs=every_shard)], train_bpe_task)
    path = safe_join(context.run_dir, output)
    return TokenizerRef("bpe", spec.name, str(path), load_bpe(path, spec.name, pattern).info.ranks_sha256,
                        pattern=pattern)


def run(context: RunContext, inputs: list[str]) -> StageResult:
    """Tokenize the previous stage's document shards into ``<run_dir>/tokens/``."""
    order = list(context.options("order"))
    if order and order[-1] != STAGE:
        raise ValueError(f"stages.order: tokenize must be the last stage (its outputs are token shards, not "
                         f"documents); got {order}")
    if len(order) < 2:
        raise ValueError(f"stages.order: tokenize needs a stage before it that writes documents; got {order}")
    # No inputs is not an error: a stage that keeps no document writes no shard (dedup), and an empty token
    # dataset with a warning is what a run whose documents were all removed makes (as after the filter).
    by_source: dict[str, list[str]] = {s.name: [] for s in context.sources}
    for relative in inputs:
        by_source.setdefault(shard_source(context.run_dir, relative), []).append(relative)
    by_source = {k: v for k, v in by_source.items() if v}
    warnings: list[str] = []
    if by_source:  # none at all: the warning after the tasks says so
        for source in context.sources:
            # A source the earlier stages emptied (a WET file whose pages the filter all removed) drops out of
            # the dataset and the mixture's shares are renormalised over the rest: said, not silent
            if source.name not in by_source:
                warnings.append(f"source {source.name!r} (weight {source.weight:g}) has no documents left: the "
                                f"stages before tokenize ({', '.join(order[:-1])}) removed or skipped every one "
                                "(their statistics say why); it is not in the token dataset, and the mixture's "
                                "shares are taken over the other sources")
    thresholds = validation_thresholds(context, by_source, warnings)
    for warning in warnings:
        print(f"[{STAGE}] warning: {warning}", file=sys.stderr)
    ref = prepare_tokenizer(context, by_source, thresholds)
    tokenizer = ref.load()
    tasks = plan(context, by_source, ref, thresholds)
    result = context.run_tasks(STAGE, tasks, tokenize_task)
    if not result.tally.counts.get("docs_in"):
        warnings.append(f"no documents reached the tokenize stage: the stages before it ({', '.join(order[:-1])})"
                        " removed or skipped every one (their statistics say why); the token dataset is empty")
        print(f"[{STAGE}] warning: {warnings[-1]}", file=sys.stderr)
    write_dataset_index(context, tasks, tokenizer, thresholds, warnings)
    stats = safe_join(context.run_dir, STATS_DIR, f"{STAGE}.json")
    data = json.loads(stats.read_text())
    data["warnings"] = warnings
    with atomic_write(stats, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    return result


def write_dataset_index(context: RunContext, tasks: list[Task], tokenizer: Tokenizer,
                        thresholds: dict[str, int], warnings: list[str] | None = None) -> None:
    """Merge the tasks' shard entries (in task order) into the index, with a copy of the ranks."""
    entries: list[ShardEntry] = []
    for task in tasks:
        part = safe_join(context.run_dir, PARTS_DIR, task.payload.source, f"{task.payload.name}.json")
        entries.extend(ShardEntry(**e) for e in json.loads(part.read_text()))
    dataset_dir = safe_join(context.run_dir, DATASET_DIR)
    with atomic_write(safe_join(dataset_dir, TOKENIZER_FILE)) as fh:
        fh.write(ranks_bytes(tokenizer.ranks()))
    options: Options = context.options(STAGE)
    counts = json.loads(safe_join(context.run_dir, STATS_DIR, f"{STAGE}.json").read_text())["counts"]
    sources = {s.name: {"weight": s.weight, "max_epochs": s.max_epochs} for s in context.sources
               if s.name in thresholds}
    languages = {name: language_tokens(counts, name) for name in sources}
    settings = {"shard_tokens": options.shard_tokens,
                "validation": {**options.validation.model_dump(), "hash": "blake2b-64(id, person=refinery-val)",
                               "thresholds": thresholds, "warnings": list(warnings or [])}}
    index = build_index(entries, dtype=tokenizer.dtype, tokenizer=tokenizer.info.to_dict(),
                        manifest_hash=context.manifest.hash, seed=context.seed, sources=sources,
                        settings=settings)
    for name, per_language in languages.items():  # bytes per token of each language, per source
        index["sources"][name]["languages"] = per_language
    write_index(dataset_dir, index)


DEFINITION = Stage(
    name=STAGE, options=Options, run=run, consumes=DOCUMENTS, produces=TOKENS,
    outputs={"tokens": f"{DATASET_DIR}/", "index": f"{DATASET_DIR}/{INDEX_NAME}", "tokenizer": f"{TOKENIZER_DIR}/",
             "parts": f"{PARTS_DIR}/<source>/", "stats": f"{STATS_DIR}/{STAGE}.json"})
