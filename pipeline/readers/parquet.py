"""Parquet documents with configurable column names; a split is a range of row groups.

``Split.start``/``Split.end`` are row-group indices (end exclusive, ``None`` = to the last group). The key
is the ``id_field`` value when the file has that column and the row a value, else
``<basename>:<row index in the file>``; row indices count from the file's first row whatever the split
layout, so ids do not depend on ``row_groups_per_split``.

A file whose text column is missing or not a string type is skipped whole with reason ``wrong_schema``
(the manifest probably names the wrong column); optional columns that are missing read as null.
"""

from __future__ import annotations

from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from contracts.accounting import Tally
from contracts.fsio import basename, open_raw
from pipeline.documents import Document
from pipeline.readers.base import Reader, RecordFields, Split, scalar_str
from pipeline.readers.source_kind import ALL_FILTERS, SourceKind


class Options(RecordFields):
    row_groups_per_split: int = Field(default=4, gt=0)
    batch_rows: int = Field(default=4096, gt=0)  # rows decoded at a time, to bound memory on big groups
    max_row_group_bytes: int = Field(default=1 << 30, ge=1 << 16)  # uncompressed size of the columns read;
    # a larger row group is skipped as row_group_too_large (a batch of huge cells could not be bounded)


def _is_string(kind: pa.DataType) -> bool:
    view = getattr(pa.types, "is_string_view", lambda _: False)  # pyarrow >= 16
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or view(kind)


def _open(path: str) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(open_raw(path))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"Parquet file {path!r} not found") from exc


def plan(path: str, size: int | None, options: Options) -> list[Split]:
    """One split per ``row_groups_per_split`` row groups; an unreadable file is one split that ``read``
    reports, so planning never fails on bad data."""
    if size == 0:
        return [Split(path=path)]
    try:
        groups = _open(path).metadata.num_row_groups
    except pa.ArrowInvalid:
        return [Split(path=path)]
    step = options.row_groups_per_split
    if groups <= step:
        return [Split(path=path)]
    return [Split(path=path, index=i, start=first, end=min(first + step, groups))
            for i, first in enumerate(range(0, groups, step))]


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    path = split.path
    name = basename(path)
    try:
        pf = _open(path)
    except pa.ArrowInvalid as exc:  # not Parquet (bad magic, short footer); I/O errors propagate
        reason = "empty_file" if "size is 0 bytes" in str(exc) else "invalid_parquet"
        tally.skip(reason, path, detail=f"{type(exc).__name__}: {exc}")
        return
    schema = pf.schema_arrow
    text_field = options.text_field
    problem = None
    if text_field not in schema.names:
        problem = f"no column {text_field!r} in {name}; columns: {schema.names}"
    elif not _is_string(schema.field(text_field).type):
        problem = f"column {text_field!r} in {name} is {schema.field(text_field).type}, not a string"
    if problem:
        if split.index == 0:  # every split of the file sees the same schema: count the file once
            tally.skip("wrong_schema", path, detail=problem)
        return
    if pf.metadata.num_rows == 0:
        tally.skip("empty_file", path, detail="no rows")
        return

    optional = {"id": options.id_field, "url": options.url_field, "title": options.title_field}
    present = {role: col for role, col in optional.items() if col and col in schema.names}
    for role, col in optional.items():
        if col and col not in schema.names and role != "id":  # no id column is normal: keys use row index
            tally.add(f"parquet.missing_column.{role}")
    columns = list(dict.fromkeys([text_field, *present.values()]))

    first = split.start
    last = pf.metadata.num_row_groups if split.end is None else split.end
    row = sum(pf.metadata.row_group(g).num_rows for g in range(first))
    try:
        for group in range(first, last):
            size = _read_bytes(pf, group, columns)
            if size > options.max_row_group_bytes:
                tally.skip("row_group_too_large", path, record=f"row group {group}",
                           detail=f"{size:,} bytes uncompressed, over max_row_group_bytes="
                                  f"{options.max_row_group_bytes:,}")
                row += pf.metadata.row_group(group).num_rows
                continue
            for batch in pf.iter_batches(batch_size=options.batch_rows, row_groups=[group], columns=columns):
                yield from _batch_docs(batch, row, present, path, name, text_field, tally)
                row += batch.num_rows
    except pa.ArrowInvalid as exc:  # damaged pages: bad data, not an I/O failure
        tally.skip("corrupt_file", path, record=f"row {row}", detail=f"{type(exc).__name__}: {exc}")


def _read_bytes(pf: pq.ParquetFile, group: int, columns: list[str]) -> int:
    """Uncompressed bytes of ``columns`` in row group ``group``, from the footer (nothing is decoded)."""
    meta = pf.metadata.row_group(group)
    wanted = set(columns)
    return sum(meta.column(i).total_uncompressed_size for i in range(meta.num_columns)
               if meta.column(i).path_in_schema.split(".", 1)[0] in wanted)


def _batch_docs(batch: pa.RecordBatch, first_row: int, present: dict[str, str], path: str, name: str,
                text_field: str, tally: Tally) -> Iterator[Document]:
    # Parquet does not promise valid UTF-8 in string columns; read raw bytes and decode each value so one
    # bad value is one skip instead of an exception for the whole batch.
    texts = batch.column(text_field).cast(pa.large_binary()).to_pylist()
    extra = {role: _optional_values(batch, col, tally) for role, col in present.items()}
    for i, raw in enumerate(texts):
        position = f"row {first_row + i}"
        if raw is None:
            tally.skip("missing_text", path, record=position, detail=f"{text_field!r} is null")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            tally.skip("invalid_utf8", path, record=position, detail=str(exc))
            continue
        if not text.strip():
            tally.skip("empty_text", path, record=position)
            continue
        record_id = scalar_str(extra["id"][i]) if "id" in extra else None
        yield Document(
            key=record_id if record_id is not None else f"{name}:{first_row + i}",
            text=text,
            url=scalar_str(extra["url"][i]) if "url" in extra else None,
            title=scalar_str(extra["title"][i]) if "title" in extra else None,
            meta={"origin": path, "record": position, "content_type": "application/vnd.apache.parquet",
                  "charset": "utf-8"},
        )


def _optional_values(batch: pa.RecordBatch, column: str, tally: Tally) -> list[object]:
    """An id/url/title column as Python values; nested, binary or undecodable columns read as null."""
    kind = batch.schema.field(column).type
    if not (pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
        try:
            return batch.column(column).to_pylist()
        except (UnicodeDecodeError, pa.ArrowException):
            pass
    tally.add(f"parquet.unusable_column.{column}")
    return [None] * batch.num_rows


READER = Reader(kind="parquet", plan=plan, read=read)
# Generic records are treated as web text (the full chain); ids without an id field are "<file>:<row>".
KIND = SourceKind("parquet", Options, READER, identity="file_name", default_filters=ALL_FILTERS, web=True)
