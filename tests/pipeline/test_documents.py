"""Document shards: one writer for every Parquet file a stage writes, one rule for which source a shard holds."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.documents import DOC_SCHEMA, Document, shard_source, write_parquet


def _shard(run_dir: Path, relative: str, sources: list[str]) -> str:
    rows = [Document(key=str(i), text=f"text {i}").to_row(source) for i, source in enumerate(sources)]
    write_parquet(run_dir / relative, pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
    return relative


def test_the_source_column_decides_not_the_folder(tmp_path: Path) -> None:
    """A shard in another source's folder (a renamed folder, a hand-made input) holds what its rows say."""
    assert shard_source(tmp_path, _shard(tmp_path, "docs/web/0.parquet", ["web", "web"])) == "web"
    assert shard_source(tmp_path, _shard(tmp_path, "docs/web/1.parquet", ["books"])) == "books"


def test_an_empty_shard_is_named_by_its_folder(tmp_path: Path) -> None:
    assert shard_source(tmp_path, _shard(tmp_path, "kept/wiki/0.parquet", [])) == "wiki"


def test_a_shard_of_two_sources_is_refused_naming_it(tmp_path: Path) -> None:
    relative = _shard(tmp_path, "docs/web/mixed.parquet", ["web", "books"])
    with pytest.raises(ValueError, match=r"docs/web/mixed.parquet mixes sources \['web', 'books'\]"):
        shard_source(tmp_path, relative)


def test_a_shard_outside_the_run_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="escapes the output folder"):
        shard_source(tmp_path / "run", "../elsewhere.parquet")


def test_write_parquet_writes_one_row_group_and_the_same_bytes_each_time(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([Document(key=str(i), text="x" * i).to_row("web") for i in range(50)],
                                 schema=DOC_SCHEMA)
    write_parquet(tmp_path / "a.parquet", table)
    write_parquet(tmp_path / "b.parquet", table)
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata
    assert meta.num_row_groups == 1
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert pq.read_table(tmp_path / "a.parquet").equals(table)
    write_parquet(tmp_path / "empty.parquet", table.slice(0, 0))
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_write_parquet_writes_no_dictionary_pages(tmp_path: Path) -> None:
    """Every column plain-encoded: a dictionary page is one more zstd context to set up on write and read
    (Arrow's codec makes one per page), and on small shards it made the files larger, not smaller."""
    rows = [Document(key=str(i), text="same text", url="https://a.example/", meta={"charset": "utf-8",
                                                                                 "offset": i % 3}).to_row("web")
            for i in range(200)]
    table = pa.Table.from_pylist(rows, schema=DOC_SCHEMA)
    write_parquet(tmp_path / "a.parquet", table)
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata
    chunks = [meta.row_group(0).column(c) for c in range(meta.num_columns)]
    assert len(chunks) == 13 and not any(chunk.has_dictionary_page for chunk in chunks)
    assert all("DICTIONARY" not in "".join(chunk.encodings) for chunk in chunks)
    assert pq.read_table(tmp_path / "a.parquet").equals(table)


def test_write_parquet_compresses_the_text_with_zstd_and_the_small_columns_with_snappy(tmp_path: Path) -> None:
    """zstd where the bytes are; a zstd page on a small column costs a fresh compression context, more CPU
    than the bytes it saves. The text column keeps no min/max statistics (they held two whole texts)."""
    rows = [Document(key=f"id-{i}", text=f"document {i} " * 40, url=f"https://a.example/{i}",
                     meta={"charset": "utf-8", "offset": i}).to_row("web") for i in range(30)]
    table = pa.Table.from_pylist(rows, schema=DOC_SCHEMA)
    write_parquet(tmp_path / "a.parquet", table)
    group = pq.ParquetFile(tmp_path / "a.parquet").metadata.row_group(0)
    chunks = {group.column(c).path_in_schema: group.column(c) for c in range(group.num_columns)}
    assert chunks["text"].compression == "ZSTD" and not chunks["text"].is_stats_set
    others = [chunk for path, chunk in chunks.items() if path != "text"]
    assert len(others) == 12 and {chunk.compression for chunk in others} == {"SNAPPY"}
    assert chunks["id"].is_stats_set and chunks["meta.offset"].statistics.max == 29
    assert pq.read_table(tmp_path / "a.parquet").equals(table)
    signals = pa.table({"id": ["a", "b"], "gopher.words": [3, 4], "members": [["x", "y"], ["z"]],
                        "pairs": pa.array([[("k", 1)], []], type=pa.map_(pa.string(), pa.int64()))})
    write_parquet(tmp_path / "s.parquet", signals)  # no text column; list and map leaves have Parquet names
    group = pq.ParquetFile(tmp_path / "s.parquet").metadata.row_group(0)
    leaves = [group.column(c) for c in range(group.num_columns)]
    assert [leaf.path_in_schema for leaf in leaves] == ["id", "gopher.words", "members.list.element",
                                                        "pairs.key_value.key", "pairs.key_value.value"]
    assert all(leaf.compression == "SNAPPY" and leaf.is_stats_set for leaf in leaves)
    assert pq.read_table(tmp_path / "s.parquet").equals(signals)


def test_parquet_bytes_reuses_the_codecs_of_a_schema_and_writes_what_an_uncached_call_writes() -> None:
    """The per-column codecs are worked out once per schema (``_codecs``): tables of one schema, with and without
    schema metadata, and of another schema with the same names but other types, get the bytes they get with the
    codecs worked out afresh for each call."""
    from pipeline import documents

    def uncached(table: pa.Table) -> bytes:
        leaves = documents._leaf_paths(table.schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, use_dictionary=False, row_group_size=max(table.num_rows, 1),
                       compression={c: "zstd" if c in documents.BULK_COLUMNS else "snappy" for c in leaves},
                       write_statistics=[c for c in leaves if c not in documents.BULK_COLUMNS])
        return sink.getvalue().to_pybytes()

    documents._codecs.cache_clear()
    rows = [Document(key=f"id-{i}", text=f"text {i} " * 30, url=f"https://a.example/{i}",
                     meta={"offset": i}).to_row("web") for i in range(5)]
    docs = pa.Table.from_pylist(rows, schema=DOC_SCHEMA)
    other = pa.table({"text": [1, 2], "url": ["a", "b"]})  # "text" not a string: still the bulk column
    nested = pa.table({"text": [["a"], ["b", "c"]], "m": pa.array([{"x": 1}, {"x": 2}])})
    for table in (docs, docs.slice(1, 2), docs.replace_schema_metadata({"k": "v"}), other, nested, docs):
        assert documents.parquet_bytes(table) == uncached(table)
    assert documents._codecs.cache_info().hits >= 2
