"""The held-out yardstick: a text set no variant trains on, and the scrub that keeps it out of every variant.

Selection: from the crawl that every variant shares, the given number of documents of each listed source
whose id hashes lowest (a fixed draw: the same documents whatever the variants, the seed or the shard
layout), written to ``held_out/documents.parquet`` and, joined by blank lines and cut at ``max_bytes``,
to ``held_out/held_out.txt``, the text every model's bits per byte is measured on.

Scrub: the last document stage of each variant is followed by one task per shard that removes every
document that is the same document (id), the same normalised text (the dedup stage's exact hash) or a near
duplicate (MinHash with the dedup stage's shingling; estimated Jaccard at least ``near_threshold``) of a
held-out one. A filter's rewrite (C4 line removal, PII redaction) leaves a held-out document a near
duplicate of itself, so it is still caught. Counts by reason go to the node's statistics.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contracts.accounting import Tally
from contracts.fsio import atomic_write, safe_join
from pipeline.dedup.minhash import MinHashParams, sketch_texts
from pipeline.documents import shard_source, write_parquet
from pipeline.runner import StageResult, Task, TaskResult
from pipeline.stage import RunContext

HELD_OUT_PERSON = b"refinery-hold"
DOCS_NAME = "documents.parquet"
RECORD_NAME = "held_out.json"
SCRUBBED_DIR = "scrubbed"
STEP = "held-out-scrub"


def held_out_hash(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8, person=HELD_OUT_PERSON).digest(), "big")


def select(crawl_dir: Path, shards: list[str], docs: dict[str, int], max_bytes: int, out_dir: Path,
           key: str = "") -> dict[str, Any]:
    """Draw the held-out documents from the crawl's shards and write them and their text to ``out_dir``."""
    by_source: dict[str, list[tuple[int, str, str]]] = {s: [] for s in docs}
    for shard in shards:
        source = shard_source(crawl_dir, shard)
        if source not in by_source:
            continue
        table = pq.read_table(safe_join(crawl_dir, shard), columns=["id", "text"])
        for doc_id, text in zip(table["id"].to_pylist(), table["text"].to_pylist()):
            if text.strip():
                by_source[source].append((held_out_hash(doc_id), doc_id, text))
    empty = [s for s, docs in by_source.items() if not docs]
    if empty:
        raise ValueError(f"held_out.docs: the crawl holds no document of {empty} to hold out")
    ids, names, texts = [], [], []
    for source, count in docs.items():
        for _, doc_id, text in sorted(by_source[source])[:count]:
            ids.append(doc_id)
            names.append(source)
            texts.append(text)
    parts, used = [], 0
    for text in texts:
        room = max_bytes - used
        if room <= 0:
            break
        piece = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
        parts.append(piece)
        used += len(piece.encode("utf-8")) + 2
    text_out = "\n\n".join(parts)
    write_parquet(out_dir / DOCS_NAME, pa.table({"id": ids, "source": names, "text": texts}))
    with atomic_write(out_dir / "held_out.txt", "w") as fh:
        fh.write(text_out)
    record = {"key": key, "documents": len(ids), "ids": ids, "by_source": {s: names.count(s) for s in docs},
              "text_bytes": len(text_out.encode("utf-8")), "documents_in_text": len(parts),
              "sha256": hashlib.sha256(text_out.encode("utf-8")).hexdigest()}
    with atomic_write(out_dir / RECORD_NAME, "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
    return record


@dataclass(frozen=True)
class ScrubTask:
    run_dir: str
    shard: str  # input document shard, relative to run_dir
    out: str  # scrubbed shard, relative to run_dir
    held_out_docs: str  # absolute path of held_out/documents.parquet
    ngram: int
    num_perm: int
    near_threshold: float


def _held_out_sketch(path: str, params: MinHashParams) -> tuple[set[str], set[bytes], np.ndarray]:
    table = pq.read_table(path, columns=["id", "text"])
    sketch = sketch_texts(table["text"].to_pylist(), params)
    exact = {row.tobytes() for row, words in zip(sketch.exact, sketch.num_words) if words}
    return set(table["id"].to_pylist()), exact, sketch.signatures


def scrub_shard(task: ScrubTask) -> TaskResult:
    """Copy one shard without the documents that are, or nearly are, held-out documents."""
    run_dir = Path(task.run_dir)
    params = MinHashParams(num_perm=task.num_perm, ngram=task.ngram)
    held_ids, held_exact, held_sigs = _held_out_sketch(task.held_out_docs, params)
    table = pq.read_table(safe_join(run_dir, task.shard))
    texts = table["text"].to_pylist()
    ids = table["id"].to_pylist()
    sketch = sketch_texts(texts, params)
    tally = Tally()
    keep = np.ones(len(texts), dtype=bool)
    for i, doc_id in enumerate(ids):
        if doc_id in held_ids:
            reason = "id"
        elif sketch.num_words[i] and sketch.exact[i].tobytes() in held_exact:
            reason = "exact_text"
        elif sketch.num_words[i] and float((held_sigs == sketch.signatures[i]).mean(axis=1).max()) \
                >= task.near_threshold:
            reason = "near"
        else:
            continue
        keep[i] = False
        tally.add(f"removed.{reason}")
        tally.add("chars_removed", len(texts[i]))
    kept = table.filter(pa.array(keep))
    write_parquet(safe_join(run_dir, task.out), kept)
    tally.add("docs_in", len(texts))
    tally.add("docs_out", kept.num_rows)
    tally.add("chars_in", sum(map(len, texts)))
    tally.add("chars_out", int(pc.sum(pc.utf8_length(kept["text"])).as_py() or 0) if kept.num_rows else 0)
    return TaskResult([task.out], tally)


def _stem(shard: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", shard.removesuffix(".parquet"))[-150:]


def scrub(context: RunContext, inputs: list[str], held_out_docs: Path, ngram: int, num_perm: int,
          near_threshold: float) -> StageResult:
    """One resumable scrub task per input shard, written to ``scrubbed/<source>/<input path>``."""
    run_dir = Path(context.run_dir)
    tasks = []
    for shard in inputs:
        source = shard_source(run_dir, shard)
        out = f"{SCRUBBED_DIR}/{source}/{_stem(shard)}.parquet"
        payload = ScrubTask(str(run_dir), shard, out, str(held_out_docs), ngram, num_perm, near_threshold)
        tasks.append(Task(id=_stem(shard), payload=payload, size_bytes=safe_join(run_dir, shard).stat().st_size,
                          inputs=(shard, str(held_out_docs))))
    return context.run_tasks(STEP, tasks, scrub_shard)
