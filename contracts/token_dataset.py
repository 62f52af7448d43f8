"""The token dataset: the one contract between the pipeline (which writes it) and training (which reads it).

A dataset folder (``<run_dir>/tokens/`` by default) holds:

* ``index.json`` - format and version, token dtype, the tokenizer's identity, the manifest hash and seed,
  per-source weights and totals, and one entry per shard: path, split, source, documents, tokens, bytes
  and sha256;
* ``tokenizer.tiktoken`` - the ranks (``contracts.tiktoken_ranks``), so tokens decode without the pipeline;
* ``train/<source>/*.arrow`` and ``val/<source>/*.arrow`` - Arrow IPC files with one record batch of rows
  ``(id, url, tokens: list<uint16|uint32>)``, one row per document, end-of-text last in every document.

Because a shard is one record batch, its ``tokens`` values buffer is one contiguous array: memory-mapping
the file gives a zero-copy numpy (and torch) view of all its tokens, and the list offsets are the document
boundaries, so the ``id``/``url`` columns plus the offsets are the per-shard document table used for
provenance.

Worked example: a shard of two documents, ``a`` with tokens ``[5, 9, 0]`` and ``b`` with ``[7, 0]`` (0 is
end-of-text), holds ``values = [5, 9, 0, 7, 0]`` and ``offsets = [0, 3, 5]``; its index entry says
``docs: 2, tokens: 5``, and token 3 is position 0 of document ``b``.

The writer (``write_shard``, ``build_index``, ``write_index``) and the reader (``TokenDataset``) live here
together, under one ``FORMAT_VERSION``. Writing is deterministic: the same documents, seed and shard name
give byte-identical files, so a task retried after a crash rewrites the same bytes and the index's
checksums stay valid.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import warnings
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from contracts.fsio import atomic_write, safe_join
from contracts.tiktoken_ranks import parse_ranks

FORMAT = "refinery-tokens"
FORMAT_VERSION = 1
INDEX_NAME = "index.json"
TOKENIZER_FILE = "tokenizer.tiktoken"
SPLITS = ("train", "val")
COLUMNS = ("id", "url", "tokens")


class DatasetError(ValueError):
    """A dataset that does not match its index; the message names each file and what is wrong."""


# ---------------------------------------------------------------------------------------------- writing

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
    """Write one shard atomically under ``dataset_dir`` and return its index entry."""
    data = encode_shard(ids, urls, values, lengths, dtype)
    with atomic_write(safe_join(dataset_dir, relative)) as fh:
        fh.write(data)
    return ShardEntry(relative, split, source, len(ids), int(len(values)), len(data),
                      hashlib.sha256(data).hexdigest())


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


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Shard:
    """One memory-mapped token shard: its tokens (zero-copy), document offsets and document table."""

    path: Path
    split: str
    source: str
    docs: int
    tokens: int
    nbytes: int
    sha256: str
    _batch: pa.RecordBatch | None = field(default=None, repr=False)

    def open(self, dtype: np.dtype) -> "Shard":
        """Map the file and check its structure against the index entry (cheap: no hashing)."""
        file_name = str(self.path)
        if not self.path.is_file():
            raise DatasetError(f"{file_name}: shard listed in the index is missing")
        size = self.path.stat().st_size
        if size != self.nbytes:
            raise DatasetError(f"{file_name}: {size} bytes on disk, the index says {self.nbytes} (truncated or "
                               "rewritten); re-run the tokenize stage or restore the file")
        try:
            reader = pa.ipc.open_file(pa.memory_map(file_name, "r"))
            if reader.num_record_batches != 1:
                raise DatasetError(f"{file_name}: {reader.num_record_batches} record batches, expected 1")
            batch = reader.get_batch(0)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DatasetError(f"{file_name}: not a readable Arrow IPC file ({exc}); re-run the tokenize stage"
                               ) from None
        expected = pa.list_(pa.from_numpy_dtype(dtype))
        if batch.schema.names != list(COLUMNS) or batch.schema.field("tokens").type != expected:
            raise DatasetError(f"{file_name}: schema {batch.schema} is not (id, url, tokens: {expected})")
        column = batch.column("tokens")
        if batch.num_rows != self.docs or len(column.values) != self.tokens or column.offsets[0].as_py() != 0:
            raise DatasetError(f"{file_name}: {batch.num_rows} documents / {len(column.values)} tokens, the index "
                               f"says {self.docs} / {self.tokens}")
        self._batch = batch
        return self

    @property
    def batch(self) -> pa.RecordBatch:
        if self._batch is None:
            raise RuntimeError(f"{self.path}: shard not opened")
        return self._batch

    @cached_property
    def values(self) -> np.ndarray:
        """Every token of the shard, documents back to back: a read-only view of the mapped file."""
        return self.batch.column("tokens").values.to_numpy(zero_copy_only=True)

    @cached_property
    def offsets(self) -> np.ndarray:
        """Document ``i`` is ``values[offsets[i]:offsets[i+1]]``."""
        return self.batch.column("tokens").offsets.to_numpy(zero_copy_only=True)

    def torch_values(self) -> Any:
        """The tokens as a torch tensor sharing the mapped memory (read-only: do not write to it)."""
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch warns that the mapping is read-only
            return torch.from_numpy(self.values)

    def document_at(self, token: int) -> tuple[int, str, str | None, int]:
        """(row, id, url, position inside the document) of the token at ``token`` in this shard."""
        row = int(np.searchsorted(self.offsets, token, side="right")) - 1
        batch = self.batch
        return (row, batch.column("id")[row].as_py(), batch.column("url")[row].as_py(),
                int(token - self.offsets[row]))

    def checksum(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


class TokenDataset:
    """A token dataset opened through its index; shards are memory-mapped, never read into memory.

    ``TokenDataset.open(path)`` checks the index and the structure of every shard (sizes, row and token
    counts, schema), which is cheap; ``verify()`` also hashes every file against the index.
    """

    def __init__(self, root: Path, index: dict[str, Any], index_sha256: str, shards: list[Shard]):
        self.root = root
        self.index = index
        self.fingerprint = index_sha256  # identifies the exact dataset; samplers key their caches on it
        self.dtype = np.dtype(index["dtype"])
        self.tokenizer_info: dict[str, Any] = index["tokenizer"]
        self.eot_id: int = int(self.tokenizer_info["eot_id"])
        self.all_shards = shards

    @classmethod
    def open(cls, path: str | Path, verify: Literal["structure", "checksums"] = "structure") -> "TokenDataset":
        root = Path(path)
        index_path = root / INDEX_NAME
        if not index_path.is_file():
            raise DatasetError(f"{index_path}: no dataset index here; point at the tokenize stage's output "
                               "folder (<run_dir>/tokens)")
        raw = index_path.read_bytes()
        try:
            index = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{index_path}: not valid JSON ({exc})") from None
        if index.get("format") != FORMAT or index.get("version") != FORMAT_VERSION:
            raise DatasetError(f"{index_path}: format {index.get('format')!r} version {index.get('version')!r}; "
                               f"this code reads {FORMAT!r} version {FORMAT_VERSION}")
        shards = [Shard(root / s["path"], s["split"], s["source"], int(s["docs"]), int(s["tokens"]),
                        int(s["bytes"]), s["sha256"]) for s in index["shards"]]
        dataset = cls(root, index, hashlib.sha256(raw).hexdigest(), shards)
        problems = []
        for shard in shards:
            try:
                shard.open(dataset.dtype)
            except DatasetError as exc:
                problems.append(str(exc))
        if problems:
            raise DatasetError(f"dataset {root} does not match its index:\n  - " + "\n  - ".join(problems))
        if verify == "checksums":
            dataset.verify()
        return dataset

    def verify(self) -> None:
        """Hash every shard and the tokenizer file; raise naming each file that differs from the index."""
        problems = []
        for shard in self.all_shards:
            digest = shard.checksum()
            if digest != shard.sha256:
                problems.append(f"{shard.path}: sha256 {digest[:16]}..., the index says {shard.sha256[:16]}... "
                                "(the file was altered); re-run the tokenize stage or restore the file")
        tokenizer = self.root / TOKENIZER_FILE
        if not tokenizer.is_file():
            problems.append(f"{tokenizer}: tokenizer file missing")
        elif hashlib.sha256(tokenizer.read_bytes()).hexdigest() != self.tokenizer_info["ranks_sha256"]:
            problems.append(f"{tokenizer}: does not match the tokenizer identity in the index")
        if problems:
            raise DatasetError(f"dataset {self.root} does not match its index:\n  - " + "\n  - ".join(problems))

    @property
    def sources(self) -> list[str]:
        return list(self.index["sources"])

    def source_info(self, source: str) -> dict[str, Any]:
        if source not in self.index["sources"]:
            raise KeyError(f"source {source!r} is not in dataset {self.root}; it has {self.sources}")
        return self.index["sources"][source]

    def shards(self, split: str, source: str) -> list[Shard]:
        """The shards of one source and split, in index order (the order samplers concatenate them in)."""
        self.source_info(source)
        return [s for s in self.all_shards if s.split == split and s.source == source]

    def num_tokens(self, split: str, source: str) -> int:
        return sum(s.tokens for s in self.shards(split, source))

    @cached_property
    def encoding(self) -> Any:
        """The tiktoken encoding the dataset was made with, from the dataset's own tokenizer file."""
        import tiktoken

        path = self.root / TOKENIZER_FILE
        ranks = parse_ranks(path.read_bytes(), str(path))
        info = self.tokenizer_info
        return tiktoken.Encoding(info["name"], pat_str=info["pattern"], mergeable_ranks=ranks,
                                 special_tokens=dict(info["special_tokens"]))

    def decode(self, tokens: Any) -> str:
        return self.encoding.decode([int(t) for t in tokens])


def validate_command(path: str | Path) -> int:
    """``python -m pipeline validate DIR``: structure and checksums of every shard; 1 on any mismatch."""
    try:
        dataset = TokenDataset.open(path, verify="checksums")
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tokens = sum(s.tokens for s in dataset.all_shards)
    print(f"dataset OK: {len(dataset.all_shards)} shards, {tokens:,} tokens match {Path(path) / INDEX_NAME}")
    return 0
