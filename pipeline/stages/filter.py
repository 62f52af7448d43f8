"""The filter stage: quality, language and PII filtering of document shards, as signals then decisions.

Two resumable steps, each one task per input shard (on the run's executor):

1. ``filter-signals`` measures every enabled filter of the shard's source and writes
   ``signals/<hash>/<source>/<shard>.parquet`` (document id, ``n_chars`` and one column per signal, e.g.
   ``gopher_quality.words``, ``language``, ``language_score``). ``<hash>`` covers only what changes a
   measurement (filters, their signal options, the signal version), so a run whose thresholds changed
   finds the signals done and skips them.
2. ``filter`` reads documents and signals, applies the thresholds, and writes the kept documents to
   ``filtered/<hash>/<source>/<shard>.parquet`` (DOC_SCHEMA columns, unchanged, plus ``language``,
   ``language_score`` and ``script``) and every removed one to ``removed/<hash>/<source>/<shard>.parquet`` (the document
   plus ``filter``, ``rule``, ``value``, ``threshold``, ``detail``). This ``<hash>`` covers the thresholds
   too and is part of the task ids, so changed thresholds rerun this step into a new folder while an
   unchanged rerun skips it. Kept texts are rewritten here (C4 line removal, PII redaction).

When a shard's signals are pending, its two tasks run as one (``run_fused``): the shard is read once and
the decisions use the signals still in memory instead of reading them back, one task instead of two. Each
step keeps its own outputs, completion records and statistics, byte for byte as when they run apart: the
fused task runs as the signal step's task (its record and statistics are the signal task's), and hands the
decision step's result to the driver, which records it when the decision step runs (``_Stash``). Killed
between the two, a rerun finds the signals recorded and runs the decision task alone, from the files: the
same bytes, since deciding from the signals read back gives what deciding from the ones in memory gave.

Statistics (``stats/filter.json``): ``docs_in``, ``docs_out``, ``chars_in``, ``chars_out``,
``removed.<source>.<filter>.<rule>`` (documents) and ``removed_chars.<source>.<filter>.<rule>``,
``rewritten.<source>.<filter>.<what>`` (lines removed by C4, e-mails and IPs redacted),
``rules_skipped.<source>.<filter>.<why>`` (documents a filter did not judge) and
``rules_off.<source>.<language>.<cause>.<filter>.<rule>`` (documents judged without a rule their language's entry
turned off: its segmenter's library missing, no segmenter, no stop-word list; ``lang_params.rules_off``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from contracts.accounting import Tally
from contracts.corpus_stats import record_in, record_table
from contracts.fsio import atomic_write, safe_join
from pipeline.documents import DOC_SCHEMA, parquet_bytes, shard_source, write_parquet
from pipeline.filters.base import (N_CHARS, compute_signals, count_removals, decide, declared_scripts,
                                   decode_texts, rewrite_kept, rewrite_rows, signal_schema, utf8_views)
from pipeline.filters.chain import ChainSpec, build, decision_hash, resolve, signal_hash
from pipeline.executors import Executor
from pipeline.memory import release_within_task
from pipeline.readers import KINDS
from pipeline.runner import COMPUTED_BY_KEY, STATS_DIR, StageResult, Task, TaskResult, defers_folder_syncs
from pipeline.stage import DOCUMENTS, RunContext, Stage

STAGE = "filter"
SIGNALS_STAGE = "filter-signals"
SIGNALS_DIR, KEPT_DIR, REMOVED_DIR = "signals", "filtered", "removed"
LANGUAGE_FIELDS = [pa.field("language", pa.string()), pa.field("language_score", pa.float64()),
                   pa.field("script", pa.string())]
KEPT_SCHEMA = pa.schema(list(DOC_SCHEMA) + LANGUAGE_FIELDS)
LEDGER_SCHEMA = pa.schema(list(DOC_SCHEMA) + [
    pa.field("filter", pa.string()), pa.field("rule", pa.string()), pa.field("value", pa.float64()),
    pa.field("threshold", pa.float64()), pa.field("detail", pa.string())] + LANGUAGE_FIELDS)
SIGNAL_BATCH_CHARS = 1 << 20  # characters measured at a time (``signal_batches``)


class Options(BaseModel):
    """``stages.filter``: the filters and thresholds of each source (see ``pipeline.filters.chain``)."""

    model_config = ConfigDict(extra="forbid")
    defaults_by_kind: dict[Literal[tuple(KINDS)], ChainSpec] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="per source kind: filters and the keys they change")
    per_source: dict[str, ChainSpec] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="per source name, applied over its kind's defaults")
    analysis_max_chars: int = Field(1_000_000, ge=1_000, description=(
        "longer documents are not split into words (cost and memory of a 50 MB line) and are removed by "
        "the first word-based filter as not_analysed; above Gopher's 100,000-word maximum anyway"))


@dataclass(frozen=True)
class ShardTask:
    run_dir: str
    source: str
    shard: str  # the input document shard, relative to run_dir
    spec: Any  # ChainSpec
    analysis_max_chars: int
    signals: str  # relative output path of the signals
    kept: str = ""
    removed: str = ""


def _read(run_dir: Path, relative: str, columns: list[str] | None = None) -> pa.Table:
    """One shard file, whole or some columns. ``ParquetFile`` rather than ``pq.read_table``: the same table,
    without the dataset layer's discovery, ~3x less CPU per small shard (1.5 against 4.7 ms measured)."""
    with pq.ParquetFile(safe_join(run_dir, relative)) as shard:
        return shard.read(columns=columns)


def _write(run_dir: Path, relative: str, table: pa.Table) -> None:
    if table.num_rows:
        write_parquet(safe_join(run_dir, relative), table)
    else:
        with atomic_write(safe_join(run_dir, relative)) as fh:
            fh.write(_empty_parquet(table.schema.serialize().to_pybytes()))


@lru_cache(maxsize=8)
def _empty_parquet(schema: bytes) -> bytes:
    """The bytes ``write_parquet`` writes for a table of no rows with this (serialized) schema: they depend
    on the schema alone. Why: zhwiki's removal ledger (every article kept) and half the kept shards of the
    whole-chain run are empty, and encoding one costs ~0.3-0.5 ms here (a zstd context per page)."""
    return parquet_bytes(pa.ipc.read_schema(pa.py_buffer(schema)).empty_table())


@defers_folder_syncs
def run_signals(task: ShardTask) -> TaskResult:
    """Measure every enabled filter on one shard and store the signals beside the document ids."""
    run_dir = Path(task.run_dir)
    docs = _read(run_dir, task.shard, ["id", "text", "url", "meta"])
    return _measure(run_dir, task, docs)[0]


def _measure(run_dir: Path, task: ShardTask, docs: pa.Table) -> tuple[TaskResult, pa.Table]:
    """Compute and write the signals of ``docs`` (a shard's ``id``, ``text``, ``url``, ``meta`` at least);
    returns the signal step's result and the signals table as written."""
    chain = build(task.spec)
    seconds: Counter = Counter()
    declared = declared_languages(docs)
    columns: dict[str, list[Any]] = {}
    for part in _measured_batches(docs["text"], SIGNAL_BATCH_CHARS):
        batch = docs.slice(part.start, part.stop - part.start)
        measured = compute_signals(chain, decode_texts(batch["text"]), batch["url"].to_pylist(),
                                   task.analysis_max_chars, seconds, declared[part], utf8_views(batch["text"]))
        for key, values in measured.items():
            columns.setdefault(key, []).extend(values)
    table = pa.table({"id": docs["id"], **columns}, schema=signal_schema(chain))
    _write(run_dir, task.signals, table)
    tally = Tally()
    tally.add("docs_measured", docs.num_rows)
    for name, s in seconds.items():
        tally.add(f"signal_ms.{name}", int(s * 1000))
    return TaskResult([task.signals], tally), table


def signal_batches(lengths: np.ndarray, limit: int) -> Iterator[slice]:
    """Consecutive runs of documents of at most ``limit`` characters (a longer document alone), covering
    all of them (one empty run for no documents). Why: the filters keep each document's words, n-grams and
    Python strings alive while a batch is measured, ~20 bytes of memory per character of text; measured a
    shard at a time, a worker's peak grew with the shard (~90 MiB over its baseline for a 4 MB web shard of
    the 100x scale run), measured a megacharacter at a time it is bounded whatever the shard's size. Every
    signal is a function of its own document, so the batches give the same values."""
    start = total = 0
    for i, n in enumerate(lengths.tolist()):
        if i > start and total + n > limit:
            yield slice(start, i)
            start, total = i, 0
        total += n
    yield slice(start, len(lengths))


def _measured_batches(text: pa.ChunkedArray, limit: int) -> Iterator[slice]:
    """``signal_batches`` of the texts' characters. A text has no more characters than UTF-8 bytes, so a
    column of at most ``limit`` bytes is one batch, and its characters are not counted (a pass over every
    byte: ~0.5 ns a Chinese character, 3 bytes each)."""
    if (pc.sum(pc.binary_length(text)).as_py() or 0) <= limit:  # from the offsets, not the bytes
        return signal_batches(np.zeros(len(text), np.int64), limit)
    return signal_batches(pc.utf8_length(text).to_numpy(zero_copy_only=False), limit)


def declared_languages(docs: pa.Table) -> list[str | None]:
    """``meta.language`` of each document (None where the source declares none or the shard predates it)."""
    meta = docs["meta"].combine_chunks()
    if meta.type.get_field_index("language") < 0:
        return [None] * docs.num_rows
    return pc.struct_field(meta, "language").to_pylist()


@defers_folder_syncs
def run_decisions(task: ShardTask) -> TaskResult:
    """Apply thresholds to stored signals; write kept documents and the removal ledger of one shard."""
    run_dir = Path(task.run_dir)
    return _decide_shard(run_dir, task, _read(run_dir, task.shard), _read(run_dir, task.signals))


@dataclass
class FusedResult(TaskResult):
    """The signal step's result of a shard, carrying its decision step's result to the driver (``_Stash``)."""

    decision: TaskResult = field(default_factory=TaskResult)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), DECISION_KEY: self.decision.to_dict()}


DECISION_KEY = "decision_result"  # not a TaskResult key: popped by the driver before the signal record


@defers_folder_syncs
def run_fused(task: ShardTask) -> FusedResult:
    """Both steps of one shard in one task: read it once, measure, then decide on the signals in memory."""
    run_dir = Path(task.run_dir)
    docs = _read(run_dir, task.shard)
    measured, signals = _measure(run_dir, task, docs)
    release_within_task()  # the signals' freed heap, before deciding allocates elsewhere (Arrow's pool)
    decided = _decide_shard(run_dir, task, docs, signals)
    return FusedResult(measured.outputs, measured.tally, decision=decided)


def _decide_shard(run_dir: Path, task: ShardTask, shard: pa.Table, signals: pa.Table) -> TaskResult:
    """Decide one shard (``shard``: its table as read, ``signals``: its signals) and write kept and removed."""
    docs = shard.select(DOC_SCHEMA.names)
    if not docs.schema.equals(DOC_SCHEMA, check_metadata=True):
        docs = docs.cast(DOC_SCHEMA)
    if not signals["id"].equals(docs["id"]):
        raise ValueError(f"signals {task.signals} do not match the documents of {task.shard}; delete "
                         f"{SIGNALS_DIR}/ and _done/{SIGNALS_STAGE}/ of this run and rerun")
    chain = build(task.spec)
    declared = declared_languages(docs)
    # the script of each document whose declared language has entries per script, where the chain has no language
    # filter (its ``script`` signal covers every document): decoded and computed for those documents only
    scripts = None if "script" in signals.column_names else declared_scripts(
        declared, lambda rows: decode_texts(docs["text"].take(pa.array(rows, pa.int64()))))
    decisions = decide(chain, signals, task.analysis_max_chars, declared, scripts)
    kept = decisions.kept
    analysed = decisions.languages  # the languages (per-script keys) the decisions were taken in
    n_chars = signals[N_CHARS].to_numpy()
    language = signals["language"] if "language" in signals.column_names else pa.nulls(docs.num_rows,
                                                                                       pa.string())
    score = signals["language_score"] if "language_score" in signals.column_names else pa.nulls(
        docs.num_rows, pa.float64())
    script = signals["script"] if "script" in signals.column_names else pa.nulls(docs.num_rows, pa.string())

    tally = Tally()
    counts = tally.counts
    counts["docs_in"] += docs.num_rows
    counts["chars_in"] += int(n_chars.sum())
    record_in(counts, task.source, docs.num_rows, int(n_chars.sum()), language.to_pylist())
    count_removals(counts, task.source, decisions, n_chars)
    counts["docs_removed"] += int((~kept).sum())

    keep_mask = pa.array(kept)
    # Every document kept (a Wikipedia shard, as a rule): the columns as they are; a filter copies them all.
    keep: Callable[[Any], Any] = (lambda column: column) if kept.all() else (lambda column: column.filter(keep_mask))
    kept_docs = keep(docs)
    text, lengths = _kept_text(chain, kept_docs["text"], rewrite_rows(chain, signals, analysed)[kept],
                               n_chars[kept], counts, task.source, [lang for lang, k in zip(analysed, kept) if k])
    kept_docs = kept_docs.set_column(DOC_SCHEMA.get_field_index("text"), DOC_SCHEMA.field("text"), text)
    kept_table = pa.Table.from_arrays(kept_docs.columns + [keep(language), keep(score), keep(script)],
                                      schema=KEPT_SCHEMA)
    counts["docs_out"] += kept_table.num_rows
    counts["chars_out"] += int(lengths.sum())
    record_table(counts, kept_table, "out", lengths=lengths)

    drop = ~kept
    ledger = pa.Table.from_arrays(
        docs.filter(pa.array(drop)).columns + [
            pa.array(decisions.filter[drop].tolist(), pa.string()),
            pa.array(decisions.rule[drop].tolist(), pa.string()),
            pa.array(decisions.value[drop], pa.float64(), mask=np.isnan(decisions.value[drop])),
            pa.array(decisions.threshold[drop], pa.float64(), mask=np.isnan(decisions.threshold[drop])),
            pa.array([None if d is None else str(d) for d in decisions.detail[drop]], pa.string()),
            pc.filter(language, pa.array(drop)), pc.filter(score, pa.array(drop)),
            pc.filter(script, pa.array(drop))],
        schema=LEDGER_SCHEMA)
    _write(run_dir, task.kept, kept_table)
    _write(run_dir, task.removed, ledger)
    return TaskResult([task.kept], tally)


def _kept_text(chain: list[Any], column: pa.ChunkedArray, rewrite: np.ndarray, n_chars: np.ndarray,
               counts: Counter, source: str, languages: list[str | None]) -> tuple[pa.Array, np.ndarray]:
    """The kept documents' text column after ``rewrite_kept``, and each one's characters. Only the documents a
    rewriting filter may change (``rewrite``, from ``rewrite_rows``) are decoded to Python strings and
    rewritten; the others stay the Arrow strings as read (the same values, so the same Parquet bytes).
    Why: decoding every kept text and encoding it back, with a PII scan of each, cost ~0.004 us a character
    on zhwiki (~2 % of the stage; its texts are 3 UTF-8 bytes a character, and no article holds an address)."""
    if rewrite.all() or column.num_chunks != 1:  # every text rewritten (C4), or a column split in chunks
        texts = rewrite_kept(chain, decode_texts(column), counts, source, languages)
        return pa.array(texts, pa.string()), np.fromiter(map(len, texts), np.int64, len(texts))
    text = column.chunk(0)
    rows = np.flatnonzero(rewrite)
    if not rows.size:
        return text, n_chars
    new = rewrite_kept(chain, decode_texts(text.take(pa.array(rows))), counts, source,
                       [languages[i] for i in rows.tolist()])
    lengths = n_chars.astype(np.int64)  # a copy: n_chars is the caller's
    lengths[rows] = np.fromiter(map(len, new), np.int64, len(new))
    return pc.replace_with_mask(text, pa.array(rewrite), pa.array(new, pa.string())), lengths


def _stem(shard: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", shard.removesuffix(".parquet"))[-150:]


def plan(context: RunContext, inputs: list[str]) -> tuple[list[Task], list[Task]]:
    """Signal and decision tasks for every input shard, with each source's resolved filter chain."""
    options: Options = context.options(STAGE)
    kinds = {source.name: source.kind for source in context.sources}
    unknown = sorted(set(options.per_source) - set(kinds))
    if unknown:
        raise ValueError(f"stages.filter.per_source: unknown sources {unknown}; sources are {sorted(kinds)}")
    run_dir = Path(context.run_dir)
    specs: dict[str, tuple[Any, str, str]] = {}
    signal_tasks, decision_tasks = [], []
    for shard in inputs:
        source = shard_source(run_dir, shard)
        if source not in specs:
            if source not in kinds:
                raise ValueError(f"document shard {shard} holds source {source!r}, not in the manifest")
            spec = resolve(kinds[source], options.defaults_by_kind, options.per_source.get(source))
            chain = build(spec)
            s_hash = signal_hash(chain, options.analysis_max_chars)
            specs[source] = (spec, s_hash, decision_hash(chain, s_hash))
        spec, s_hash, d_hash = specs[source]
        stem, name = _stem(shard), Path(shard).name
        size = safe_join(run_dir, shard).stat().st_size
        signals = f"{SIGNALS_DIR}/{s_hash}/{source}/{name}"
        base = ShardTask(str(run_dir), source, shard, spec, options.analysis_max_chars, signals)
        # Identity of a signal task: the shard and what changes a measurement, never the thresholds.
        signal_tasks.append(Task(id=f"{stem}.{s_hash}", payload=base, size_bytes=size, inputs=(shard,),
                                 key=(shard, s_hash, options.analysis_max_chars, signals)))
        decided = ShardTask(str(run_dir), source, shard, spec, options.analysis_max_chars, signals,
                            kept=f"{KEPT_DIR}/{d_hash}/{source}/{name}",
                            removed=f"{REMOVED_DIR}/{d_hash}/{source}/{name}")
        decision_tasks.append(Task(id=f"{stem}.{d_hash}", payload=decided, size_bytes=size,
                                   inputs=(shard, signals)))
    return signal_tasks, decision_tasks


def run(context: RunContext, inputs: list[str]) -> StageResult:
    """Measure signals (skipping shards already measured with the same signal options), then decide.

    A shard whose signals are pending is measured and decided by one task (``run_fused``); the decision
    step then records the results those tasks handed back instead of running them again."""
    signal_tasks, decision_tasks = plan(context, inputs)
    # The fused tasks keep the signal tasks' ids, inputs and keys (a key stands for the payload in the task
    # digest), so the signal step's records are the same bytes as when it ran run_signals.
    fused = [replace(s, payload=d.payload) for s, d in zip(signal_tasks, decision_tasks)]
    stash = _Stash(context.executor, {s.id: d.id for s, d in zip(signal_tasks, decision_tasks)})
    replace(context, executor=stash.collecting()).run_tasks(SIGNALS_STAGE, fused, run_fused,
                                                            docs_key="docs_measured")
    return replace(context, executor=stash).run_tasks(STAGE, decision_tasks, run_decisions)


class _Stash:
    """The decision results that fused tasks handed back, held by the driver until the decision step.

    As the signal step's executor (``collecting``) it runs the fused tasks on the run's executor and takes
    each result's decision part out before the runner records the signal task; as the decision step's
    executor it hands back the held result of a pending task and runs the other pending tasks (their
    signals were already recorded: a rerun, or changed thresholds) on the run's executor. A held result
    is what ``run_decisions`` gives for that task: the fused task ran its payload on the same shard, and
    deciding from signals in memory or read back from their file is the same."""

    def __init__(self, executor: Executor, decision_ids: dict[str, str]):
        self.executor = executor
        self.decision_ids = decision_ids  # signal task id -> the id of the same shard's decision task
        self.held: dict[str, dict[str, Any]] = {}  # decision task id -> its result

    def collecting(self) -> "_Collect":
        return _Collect(self)

    def map(self, stage: str, run_dir: Path, tasks: list[Any],
            fn: Callable[[Any], TaskResult]) -> Iterator[tuple[Any, dict[str, Any]]]:
        rest = []
        for task in tasks:
            data = self.held.pop(task.id, None)
            if data is None:
                rest.append(task)
            else:  # the progress line counts it as the signal step's work, not this step's
                yield task, {**data, COMPUTED_BY_KEY: SIGNALS_STAGE}
        if rest:
            yield from self.executor.map(stage, run_dir, rest, fn)


@dataclass(frozen=True)
class _Collect:
    stash: _Stash

    def map(self, stage: str, run_dir: Path, tasks: list[Any],
            fn: Callable[[Any], TaskResult]) -> Iterator[tuple[Any, dict[str, Any]]]:
        for task, data in self.stash.executor.map(stage, run_dir, tasks, fn):
            self.stash.held[self.stash.decision_ids[task.id]] = data.pop(DECISION_KEY)
            yield task, data


DEFINITION = Stage(
    name=STAGE, options=Options, run=run, consumes=DOCUMENTS, produces=DOCUMENTS,
    outputs={"signals": f"{SIGNALS_DIR}/<hash>/<source>/", "documents": f"{KEPT_DIR}/<hash>/<source>/",
             "ledger": f"{REMOVED_DIR}/<hash>/<source>/", "stats": f"{STATS_DIR}/{STAGE}.json"})
