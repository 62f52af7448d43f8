"""The document record every reader produces and every later stage consumes, and its shard files.

One Arrow schema for all sources, so that filter, dedup and tokenize never care where a document came
from. Source-specific facts live in the typed ``meta`` struct, not in free-form maps, so a column means the
same thing in every shard. Every Parquet file a stage writes (document shards, filter signals, dedup
ledgers) goes through ``write_parquet``, so all of them are written alike.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contracts.fsio import atomic_write, safe_join

META_TYPE = pa.struct(
    [
        pa.field("origin", pa.string()),  # the input file (fsspec URL) the record came from
        pa.field("record", pa.string()),  # record identity inside that file: WARC-Record-ID, page id, line
        pa.field("offset", pa.int64()),  # byte offset of the record in the file where known, else null
        pa.field("date", pa.string()),  # ISO-8601 crawl / revision date where known
        pa.field("author", pa.string()),
        pa.field("content_type", pa.string()),
        pa.field("charset", pa.string()),  # detected or declared charset of the raw bytes
        # the language the source declares (lid.176 code: a wiki dump's xml:lang, a book's "Language:"
        # header, a source's ``language`` option); the filter stage detects its own and keeps both
        pa.field("language", pa.string()),
    ]
)

DOC_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("meta", META_TYPE),
    ]
)

META_FIELDS = tuple(f.name for f in META_TYPE)


def doc_id(source: str, record_key: str) -> str:
    """Deterministic 16-byte id from the source name and the record's identity in its input.

    Stable across reruns, machines and shard layouts, so dedup keep rules and provenance can rely on it.
    """
    return hashlib.blake2b(f"{source}\x1f{record_key}".encode(), digest_size=16).hexdigest()


@dataclass
class Document:
    """A document as a reader yields it, before cleaning; ``key`` is its identity inside the source."""

    key: str
    text: str
    url: str | None = None
    title: str | None = None
    meta: dict[str, object] = field(default_factory=dict)

    def to_row(self, source: str) -> dict[str, object]:
        unknown = set(self.meta) - set(META_FIELDS)
        if unknown:
            raise ValueError(f"unknown meta fields {sorted(unknown)}; allowed: {list(META_FIELDS)}")
        return {
            "id": doc_id(source, self.key),
            "source": source,
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "meta": {name: self.meta.get(name) for name in META_FIELDS},
        }


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write ``table`` atomically as one row group (a shard is read whole; one group keeps its metadata
    small and its bytes the same however the table was built), without dictionary pages, the text zstd-
    and every other column snappy-compressed (``parquet_bytes``).

    Why no dictionaries: Arrow compresses every page with a fresh zstd context, so a dictionary page costs a
    compression and a decompression of its own; plain pages under zstd were smaller on every kind of file
    the whole-chain run writes (docs, signals, kept, removed: 20.36 -> 19.93 MB in all) and the 525 non-empty
    files took 0.86 -> 0.67 CPU s to write, 0.66 -> 0.47 to read (bench/README, "ninth pass")."""
    data = parquet_bytes(table)
    with atomic_write(path) as fh:
        fh.write(data)


# Columns that hold the bulk of a shard's bytes: zstd, and no min/max statistics (a page of long texts put
# two whole texts in the footer). Every other column is snappy: a zstd page pays a fresh compression
# context (~50 us), which on the small columns (ids, urls, meta fields, signals) cost more CPU than the
# bytes it saved. On the whole-chain run's 600 files: 0.70 -> 0.44 CPU s to write, 20.09 -> 18.2 MB
# (bench/README, "Whole chain, Parquet codecs").
BULK_COLUMNS = frozenset({"text"})


def _leaf_paths(fields: "pa.Schema | pa.StructType", prefix: str = "") -> list[str]:
    """Dotted paths of the schema's leaf columns as Parquet names them (a struct's children are columns of their
    own; a list's values are ``<name>.list.element``, a map's ``<name>.key_value.key``/``.value``): a column left
    out of the codec map would be written uncompressed and without statistics."""
    paths: list[str] = []
    for f in fields:
        paths += _leaf_paths_of(f.type, f"{prefix}{f.name}")
    return paths


def _leaf_paths_of(kind: pa.DataType, path: str) -> list[str]:
    if pa.types.is_struct(kind):
        return _leaf_paths(kind, f"{path}.")
    if pa.types.is_map(kind):
        return (_leaf_paths_of(kind.key_type, f"{path}.key_value.key")
                + _leaf_paths_of(kind.item_type, f"{path}.key_value.value"))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _leaf_paths_of(kind.value_type, f"{path}.list.element")
    return [path]


@lru_cache(maxsize=64)
def _codecs(schema: pa.Schema) -> tuple[dict[str, str], list[str]]:
    """The per-column codecs and the columns with statistics of ``schema``'s leaves. Cached: a run writes
    hundreds of files of a few schemas (documents, signals, kept, removed), and walking a 36-column schema
    cost ~70 us a file. Keyed by the schema: equal schemas (names, types, nullability) have the same leaves
    (one whose metadata differs may hash apart and take an entry of its own, with the same answer)."""
    leaves = _leaf_paths(schema)
    return ({c: "zstd" if c in BULK_COLUMNS else "snappy" for c in leaves},
            [c for c in leaves if c not in BULK_COLUMNS])


def parquet_bytes(table: pa.Table) -> bytes:
    """The bytes ``write_parquet`` writes for ``table``."""
    compression, statistics = _codecs(table.schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, use_dictionary=False, row_group_size=max(table.num_rows, 1),
                   compression=dict(compression), write_statistics=list(statistics))
    return buffer.getvalue()


def shard_source(run_dir: Path, shard: str) -> str:
    """The one source a document shard (relative to ``run_dir``) holds.

    Its ``source`` column decides; the folder name (stages write ``<folder>/<source>/<name>.parquet``)
    only names the source of an empty shard. A shard that mixes sources is refused: every stage after
    crawl works per source.
    """
    with pq.ParquetFile(safe_join(run_dir, shard)) as parquet:  # not read_table: no dataset discovery
        column = parquet.read(columns=["source"]).column("source")
    sources = pc.unique(column).to_pylist()
    if len(sources) > 1:
        raise ValueError(f"document shard {shard} mixes sources {sources}; a shard must hold one source "
                         "(the crawl stage writes them so): rerun the stage that wrote it")
    return sources[0] if sources else Path(shard).parent.name
