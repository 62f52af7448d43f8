"""The crawl stage: read every source, extract and clean its documents, write Parquet document shards.

One task per input split (a byte range, a set of row groups, or a whole file). A task's output shards are
named after the task, hold at most ``stages.crawl.shard_docs`` documents each, and close once their text
reaches ``stages.crawl.shard_chars`` characters (so a shard holds at most that plus one document), and are
compressed with zstd; their schema is ``pipeline.documents.DOC_SCHEMA`` whatever the source. Every input file gets an
entry in ``stats/crawl.json`` (documents out, skips by reason, characters held and yielded), and files that
yielded nothing or little are listed there under ``files_flagged`` (``pipeline.file_accounting``).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from contracts.accounting import MAX_EXAMPLES_PER_REASON, Tally
from contracts.corpus_stats import record_in, record_out
from contracts.fsio import InputError, atomic_write, basename, file_size, is_remote, random_access, safe_join
from pipeline.clean import clean_text
from pipeline.documents import DOC_SCHEMA, Document, write_parquet
from pipeline.file_accounting import file_entry, flagged
from pipeline.readers import get_reader, source_kind
from pipeline.readers.base import Split
from pipeline.runner import STATS_DIR, StageResult, Task, TaskResult, defers_folder_syncs
from pipeline.stage import DOCUMENTS, RunContext, Stage

STAGE = "crawl"
DOCS_DIR = "docs"


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shard_docs: int = Field(10_000, ge=1, description="most documents in one output shard")
    # Why a bound on text too: every later stage reads a shard in one task, and its memory follows the
    # shard's text, not its document count (dedup's signatures ~20 MiB per million characters); a shard of
    # long documents (books, long articles) reached 4.8 M characters at 10x the demo corpus and more at
    # 100x, so the largest task grew with the run (issue 19: "peak RSS per worker flat").
    shard_chars: int | None = Field(4_000_000, ge=1, description=(
        "a shard closes once its documents' text reaches this many characters (it holds at most this plus "
        "one document); null: documents only"))


@dataclass(frozen=True)
class CrawlTask:
    run_dir: str
    source: str
    kind: str
    options: Any  # the reader's pydantic Options
    clean: Any  # pipeline.clean.CleanOptions
    split: Split
    name: str  # output file stem, unique in the source
    shard_docs: int
    size: int | None = None  # the input file's size in bytes, for the per-file statistics
    shard_chars: int | None = None


def _safe_stem(path: str) -> str:
    base = basename(path)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[:80] or "input"


def source_paths(source: Any) -> list[str]:
    """The input files of a source, as its kind resolves them (paths expanded, a crawl listing, ...)."""
    return source_kind(source.kind).resolve_inputs(source)


def _refuse_shared_basenames(source: str, paths: list[str]) -> None:
    seen: dict[str, str] = {}
    for path in paths:
        base = basename(path)  # as the readers' document keys name the file
        if base in seen:
            raise InputError(f"source {source!r}: {seen[base]} and {path} have the same file name, so their "
                             "documents would get the same ids; rename one or put them in two sources")
        seen[base] = path


def plan(context: RunContext) -> list[Task]:
    """Expand every source into per-split tasks; a missing input fails here, before any work."""
    tasks: list[Task] = []
    options: Options = context.options(STAGE)
    for source in context.sources:
        kind = source_kind(source.kind)
        reader = kind.reader
        paths = kind.resolve_inputs(source)
        if kind.identity == "file_name":  # ids start from the base name: two equal names would collide
            _refuse_shared_basenames(source.name, paths)
        for file_index, path in enumerate(paths):
            # a server that cannot serve byte ranges is read once from the start: one split (fsio.random_access)
            ranged = random_access(path)
            size = file_size(path)
            splits = reader.plan(path, size if ranged else None, source.options)
            for split in splits:
                name = f"{file_index:05d}-{_safe_stem(path)}-s{split.index:04d}"
                span = (split.end if split.end is not None else (size or 0)) - split.start
                payload = CrawlTask(str(context.run_dir), source.name, source.kind, source.options,
                                    context.options("clean"), split, name, options.shard_docs, size,
                                    options.shard_chars)
                local = () if is_remote(path) else (path,)  # a changed input file redoes its tasks
                tasks.append(Task(id=f"{source.name}.{name}", payload=payload, size_bytes=max(span, 0),
                                  inputs=local))
    return tasks


def _write_shard(run_dir: Path, relative: str, rows: list[dict[str, Any]]) -> None:
    write_parquet(safe_join(run_dir, relative), pa.Table.from_pylist(rows, schema=DOC_SCHEMA))


def _position(doc: Document) -> str:
    """Where a document's record sits in its input, as a key suffix: the reader's byte offset where it gives
    one (WARC/ARC: the record's gzip member or header; plain JSONL: the line), else its record position
    (``meta.record``: a row, a line of a compressed file, ...). Both are fixed by the input alone."""
    offset = doc.meta.get("offset")
    if offset is not None:
        return str(offset)
    return str(doc.meta.get("record") or "?")


def _rekeyed(doc: Document, source: str, ids: set[str], tally: Tally) -> dict[str, Any]:
    """The row of a document whose key an earlier record of the split already used (a WARC-Record-ID, or a
    JSONL/Parquet id, repeated in its input: a writer's bug, a record copied twice): keyed by its record
    position too (``_position``), so two documents never share one id (dedup and the token index key on it).
    The one place every reader's repeats are re-keyed and counted, once each, as ``duplicate_record_id``;
    ``meta.record`` keeps what the input said, and the text is kept (exact dedup removes a true copy)."""
    tally.add("duplicate_record_id")
    base, position, n = doc.key, _position(doc), 0
    while True:  # the position suffix could itself collide with a later record's own id: step past it
        doc.key = f"{base}@{position}" + (f"#{n}" if n else "")
        row = doc.to_row(source)
        if row["id"] not in ids:
            return row
        n += 1


@defers_folder_syncs
def run_task(task: CrawlTask) -> TaskResult:
    """Read one split, clean each document, write shards of at most ``shard_docs`` documents, each closed
    once its text reaches ``shard_chars`` characters. Each shard is fsynced before its rename; the fsync of
    the folder is the driver's, once per folder for a batch of tasks (``defers_folder_syncs``: every task of
    a source writes into the same folder, so one fsync covers up to 32 tasks' renames)."""
    run_dir = Path(task.run_dir)
    reader = get_reader(task.kind)
    tally = Tally()
    outputs: list[str] = []
    rows: list[dict[str, Any]] = []
    chars = [0]  # characters of text in ``rows``

    def flush() -> None:
        relative = f"{DOCS_DIR}/{task.source}/{task.name}-p{len(outputs):04d}.parquet"
        _write_shard(run_dir, relative, rows)
        record_out(tally.counts, task.source, [len(r["text"]) for r in rows], urls=[r["url"] for r in rows])
        outputs.append(relative)
        rows.clear()
        chars[0] = 0

    ids: set[str] = set()  # document ids written from this split
    for doc in reader.read(task.split, task.options, tally):
        tally.add("docs_in")
        tally.add("chars_in", len(doc.text))
        text = clean_text(doc.text, tally.counts, task.clean)
        if not text.strip():
            tally.skip("empty_after_clean", task.split.path, str(doc.meta.get("record") or doc.key))
            continue
        doc.text = text
        row = doc.to_row(task.source)
        if row["id"] in ids:
            row = _rekeyed(doc, task.source, ids, tally)
        ids.add(row["id"])  # type: ignore[arg-type]
        rows.append(row)
        tally.add("docs_out")
        tally.add("chars_out", len(text))
        chars[0] += len(text)
        if len(rows) >= task.shard_docs or (task.shard_chars is not None and chars[0] >= task.shard_chars):
            flush()
    if rows:
        flush()
    record_in(tally.counts, task.source, tally.counts["docs_in"], tally.counts["chars_in"])
    for items in tally.examples.values():  # examples are kept per source when the stage merges its tasks
        for item in items:
            item["source"] = task.source
    tally.files[task.split.path] = file_entry(tally.counts, task.source, task.kind, task.size)
    return TaskResult(outputs, tally)


def run(context: RunContext, inputs: list[str]) -> StageResult:
    """Crawl every source of the run (``inputs`` is empty: this stage starts the stream)."""
    result = context.run_tasks(STAGE, plan(context), run_task)
    write_flagged_files(context.run_dir, result)
    with_ids = {s.name for s in context.sources if getattr(s.options, "id_field", None)}
    write_repeated_ids(context.run_dir, result, with_ids)
    return result


def repeated_ids(run_dir: Path, shards: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Document ids that occur in more than one of ``shards`` (a source's crawl outputs): (how many
    documents share an id with an earlier one, a few examples naming the shards). Only the id column is
    read; arrow groups the ids (about 40 bytes a document of driver memory)."""
    if len(shards) < 2:
        return 0, []
    parts = [pq.read_table(safe_join(run_dir, rel), columns=["id"]).column("id") for rel in shards]
    table = pa.table({"id": pa.chunked_array([c for part in parts for c in part.chunks], pa.string()),
                      "shard": pa.array(np.repeat(np.arange(len(shards)), [len(p) for p in parts]))})
    groups = table.group_by("id").aggregate([("shard", "count"), ("shard", "list")])
    groups = groups.filter(pc.greater(groups["shard_count"], 1)).sort_by("id")
    extra = int(pc.sum(groups["shard_count"]).as_py() or 0) - groups.num_rows
    examples = [{"file": shards[int(min(where))], "record": doc_id,
                 "detail": f"also in {', '.join(sorted({shards[int(w)] for w in where} - {shards[int(min(where))]}))}"}
                for doc_id, where in zip(groups["id"].to_pylist()[:MAX_EXAMPLES_PER_REASON],
                                         groups["shard_list"].to_pylist()[:MAX_EXAMPLES_PER_REASON])]
    return extra, examples


def write_repeated_ids(run_dir: Path, result: StageResult, sources: set[str]) -> None:
    """Count in ``stats/crawl.json`` the document ids of ``sources`` (those keyed by their records' own id
    field) that repeat across splits or files: a split re-keys its own repeats (``_rekeyed``), but only the
    whole source shows an id its input uses in two files. The documents are kept (their texts may differ;
    exact dedup removes true copies), counted as ``duplicate_id_across_splits`` with examples, and said on
    stderr: the fix is in the input's ids, or ``id_field: null`` to key records by file and position.
    Not re-keyed here as a split's repeats are: which occurrence is the first is known only once every split
    is read, when the shards are the tasks' finished outputs (a re-key would rewrite them after the fact);
    and a rule a split could apply alone (its name on every id) would make ids depend on split sizes."""
    by_source: dict[str, list[str]] = {}
    for rel in result.outputs:
        by_source.setdefault(Path(rel).parts[1], []).append(rel)
    found = {name: repeated_ids(run_dir, sorted(shards)) for name, shards in sorted(by_source.items())
             if name in sources}
    found = {name: hit for name, hit in found.items() if hit[0]}
    if not found:
        return
    stats = safe_join(run_dir, STATS_DIR, f"{STAGE}.json")
    data = json.loads(stats.read_text())
    for name, (count, examples) in found.items():
        key = f"duplicate_id_across_splits.{name}"
        result.tally.counts[key] = data["counts"][key] = count
        data.setdefault("examples", {})[f"duplicate_id_across_splits.{name}"] = examples
        print(f"[{STAGE}] warning: source {name!r}: {count} documents have an id an earlier file or split of "
              f"the source already used (e.g. {examples[0]['record']} in {examples[0]['file']}); they are kept; "
              f"see duplicate_id_across_splits in {stats}", file=sys.stderr)
    data["counts"] = dict(sorted(data["counts"].items()))
    with atomic_write(stats, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)


def write_flagged_files(run_dir: Path, result: StageResult) -> None:
    """Add the files that yielded nothing or little to ``stats/crawl.json`` and say so on stderr."""
    found = flagged(result.tally.files)
    stats = safe_join(run_dir, STATS_DIR, f"{STAGE}.json")
    data = json.loads(stats.read_text())
    data["files_flagged"] = found
    with atomic_write(stats, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    for which in ("nothing", "little"):
        if found[f"{which}_count"]:
            names = ", ".join(f["file"] for f in found[which][:3])
            print(f"[{STAGE}] warning: {found[f'{which}_count']} input files yielded {which} "
                  f"(e.g. {names}); see files_flagged in {stats}", file=sys.stderr)


DEFINITION = Stage(
    name=STAGE, options=Options, run=run, consumes=None, produces=DOCUMENTS,
    outputs={"documents": f"{DOCS_DIR}/<source>/", "stats": f"{STATS_DIR}/{STAGE}.json"})
