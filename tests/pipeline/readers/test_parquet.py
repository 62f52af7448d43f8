"""The Parquet reader: row-group splits, configurable columns, wrong schemas and bad values."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from contracts.accounting import Tally
from pipeline.documents import Document
from pipeline.readers import get_reader
from pipeline.readers.parquet import READER, Options


def read_all(path: Path, options: Options) -> tuple[list[Document], Tally]:
    tally = Tally()
    size = path.stat().st_size if path.exists() else None
    docs = [d for split in READER.plan(str(path), size, options) for d in READER.read(split, options, tally)]
    return docs, tally


def write(path: Path, table: pa.Table, row_group_size: int = 10) -> Path:
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def sample(n: int = 95, with_id: bool = True) -> pa.Table:
    columns = {"content": [f"document {i} " + "é" * (i % 5) for i in range(n)],
               "page": [f"https://example.org/{i}" for i in range(n)],
               "heading": [f"Heading {i}" for i in range(n)]}
    if with_id:
        columns["doc_id"] = [f"id-{i}" for i in range(n)]
    return pa.table(columns)


OPTS = Options(text_field="content", id_field="doc_id", url_field="page", title_field="heading")


def test_fields_mapped(tmp_path: Path) -> None:
    path = write(tmp_path / "a.parquet", sample())
    docs, tally = read_all(path, OPTS)
    assert len(docs) == 95 and not tally.counts
    doc = docs[42]
    assert (doc.key, doc.text, doc.url, doc.title) == ("id-42", "document 42 éé", "https://example.org/42",
                                                         "Heading 42")
    assert doc.meta["record"] == "row 42" and doc.meta["origin"] == str(path)
    doc.to_row("src")


@pytest.mark.parametrize("per_split", [1, 3, 4, 100])
def test_row_group_splits_cover_each_row_once(tmp_path: Path, per_split: int) -> None:
    path = write(tmp_path / "rg.parquet", sample(with_id=False))  # 10 row groups, last one of 5 rows
    opts = OPTS.model_copy(update={"row_groups_per_split": per_split})
    splits = READER.plan(str(path), path.stat().st_size, opts)
    assert len(splits) == -(-10 // per_split)
    assert [s.index for s in splits] == list(range(len(splits)))
    docs, _ = read_all(path, opts)
    assert [d.text for d in docs] == sample()["content"].to_pylist()
    # Without an id column the key is the row's index in the file, the same for every split layout.
    assert [d.key for d in docs] == [f"rg.parquet:{i}" for i in range(95)]


def test_wrong_schema_missing_column_skips_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "other.parquet", sample())
    docs, tally = read_all(path, Options())  # looks for "text"
    assert docs == [] and tally.counts["skipped.wrong_schema"] == 1
    example = tally.examples["wrong_schema"][0]
    assert example["file"] == str(path) and "'text'" in example["detail"] and "other.parquet" in example["detail"]


def test_wrong_schema_non_string_text_column(tmp_path: Path) -> None:
    path = write(tmp_path / "ints.parquet", pa.table({"text": [1, 2, 3]}))
    docs, tally = read_all(path, Options())
    assert docs == [] and tally.counts["skipped.wrong_schema"] == 1
    assert "int64" in tally.examples["wrong_schema"][0]["detail"]


def test_large_string_and_missing_optional_columns(tmp_path: Path) -> None:
    table = pa.table({"text": pa.array(["a", "b"], type=pa.large_string())})
    path = write(tmp_path / "large.parquet", table)
    docs, tally = read_all(path, Options(url_field="url"))
    assert [d.text for d in docs] == ["a", "b"] and docs[0].url is None
    assert tally.counts["parquet.missing_column.url"] == 1


def test_bad_values_are_counted_skips(tmp_path: Path) -> None:
    raw = pa.array([b"good", None, b"   ", b"caf\xe9", b"also good"], type=pa.binary())
    table = pa.table({"text": raw.view(pa.string())})  # a writer that did not validate UTF-8
    path = write(tmp_path / "bad.parquet", table)
    docs, tally = read_all(path, Options())
    assert [d.text for d in docs] == ["good", "also good"]
    assert tally.examples["missing_text"][0]["record"] == "row 1"
    assert tally.examples["empty_text"][0]["record"] == "row 2"
    assert tally.examples["invalid_utf8"][0]["record"] == "row 3"


def test_empty_and_garbage_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    docs, tally = read_all(empty, Options())
    assert docs == [] and tally.counts["skipped.empty_file"] == 1
    no_rows = write(tmp_path / "norows.parquet", pa.table({"text": pa.array([], type=pa.string())}))
    docs, tally = read_all(no_rows, Options())
    assert docs == [] and tally.counts["skipped.empty_file"] == 1
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 this is not parquet at all PAR1")
    docs, tally = read_all(garbage, Options())
    assert docs == [] and tally.counts["skipped.invalid_parquet"] == 1


def test_missing_file_raises_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gone.parquet"):
        read_all(tmp_path / "gone.parquet", Options())


def test_registered_and_options_strict() -> None:
    assert get_reader("parquet") is READER
    with pytest.raises(ValidationError):
        Options(row_groups=2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Options(row_groups_per_split=0)
