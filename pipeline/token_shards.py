"""Write token shards and the dataset index (the format is defined by ``training.dataset``).

Writing is deterministic: the same documents, seed and shard name give byte-identical files, so a task
retried after a crash rewrites the same bytes and the index's checksums stay valid.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.fsio import atomic_write, safe_join
from training.dataset import FORMAT, FORMAT_VERSION, INDEX_NAME


@dataclass(frozen=True)
class ShardEntry:
    """One shard's line in the index; ``path`` is relative to the dataset folder."""

    path: str
    split: str
    source: str
    docs: int
    tokens: int
    bytes: int
    sha256: str


def shard_schema(dtype: np.dtype) -> pa.Schema:
    return pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("url", pa.string()),
                      pa.field("tokens", pa.list_(pa.from_numpy_dtype(dtype)), nullable=False)])


def stable_int(*parts: object) -> int:
    """A 64-bit integer from any values, stable across processes (Python's hash() is salted)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def shuffle_order(n: int, seed: int, name: str) -> np.ndarray:
    """A permutation of ``n`` documents that depends only on the run seed and the shard's name."""
    return np.random.default_rng([seed, stable_int(name)]).permutation(n)


def encode_shard(ids: list[str], urls: list[str | None], values: np.ndarray, lengths: np.ndarray,
                 dtype: np.dtype) -> bytes:
    """The Arrow IPC file bytes of one shard: a single record batch, uncompressed so it can be mapped."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    if len(values) >= 2**31:
        raise ValueError(f"a shard holds at most 2**31-1 tokens, got {len(values)}; lower shard_tokens")
    np.cumsum(lengths, out=offsets[1:])
    tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(dtype, copy=False)))
    batch = pa.record_batch([pa.array(ids, pa.string()), pa.array(urls, pa.string()), tokens],
                            schema=shard_schema(dtype))
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def write_shard(dataset_dir: Path, relative: str, split: str, source: str, ids: list[str],
                urls: list[str | None], values: np.ndarray, lengths: np.ndarray, dtype: np.dtype) -> ShardEntry:
    data = encode_shard(ids, urls, values, lengths, dtype)
    with atomic_write(safe_join(dataset_dir, relative)) as fh:
        fh.write(data)
    return ShardEntry(relative, split, source, len(ids), int(len(values)), len(data),
                      hashlib.sha256(data).hexdigest())


def split_evenly(lengths: np.ndarray, target_tokens: int) -> list[tuple[int, int]]:
    """Cut documents (in order) into ceil(total / target) runs of nearly equal token counts."""
    total = int(lengths.sum())
    parts = max(1, -(-total // target_tokens))
    if len(lengths) == 0:
        return []
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, [total * k / parts for k in range(1, parts)], side="left") + 1
    bounds = [0, *sorted(set(int(c) for c in cuts if 0 < c < len(lengths))), len(lengths)]
    return list(zip(bounds[:-1], bounds[1:]))


def build_index(entries: list[ShardEntry], *, dtype: np.dtype, tokenizer: dict[str, Any],
                manifest_hash: str, seed: int, sources: dict[str, dict[str, Any]],
                settings: dict[str, Any]) -> dict[str, Any]:
    """The dataset index: deterministic content (no timestamps, no absolute paths)."""
    totals = {name: {"weight": info["weight"], "max_epochs": info["max_epochs"],
                     "train": {"docs": 0, "tokens": 0, "shards": 0},
                     "val": {"docs": 0, "tokens": 0, "shards": 0}} for name, info in sources.items()}
    for entry in entries:
        part = totals[entry.source][entry.split]
        part["docs"] += entry.docs
        part["tokens"] += entry.tokens
        part["shards"] += 1
    return {"format": FORMAT, "version": FORMAT_VERSION, "dtype": np.dtype(dtype).name, "tokenizer": tokenizer,
            "manifest_hash": manifest_hash, "seed": seed, "settings": settings, "sources": totals,
            "shards": [asdict(e) for e in entries]}


def write_index(dataset_dir: Path, index: dict[str, Any]) -> Path:
    path = safe_join(dataset_dir, INDEX_NAME)
    with atomic_write(path, "w") as fh:
        json.dump(index, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return path
