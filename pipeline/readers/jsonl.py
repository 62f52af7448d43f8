"""JSON Lines documents: one JSON object per line, with configurable field names.

Uncompressed files are cut into byte ranges; a line belongs to the split in which it *starts*, so a split
that begins mid-line skips to the next line start and one that ends mid-line reads that line to its end.
Compressed files (.gz/.bz2/.zst) cannot be cut and are one split.

Identity: the ``id_field`` value when the record has one (so the dataset's own ids survive re-sharding);
otherwise ``<basename>:<byte offset of the line>``. A byte offset, not a line number, because a split that
starts mid-file cannot know its line numbers without reading everything before it, and the id must not
depend on the split layout. Line numbers are reported (``meta.record``, skip examples) where they are
known: in the first split and in compressed files; elsewhere records are named by byte offset.
"""

from __future__ import annotations

import io
import json
from typing import IO, Iterator

from pydantic import Field

from contracts.accounting import Tally
from contracts.fsio import basename, compression_of, is_damaged_archive, open_input, open_raw
from pipeline.documents import Document
from pipeline.readers.base import Reader, RecordFields, Split, byte_ranges, is_encodable, scalar_str
from pipeline.readers.source_kind import ALL_FILTERS, SourceKind

try:  # zstandard is a dependency, but keep this module importable without it
    from zstandard import ZstdError
except ImportError:  # pragma: no cover
    ZstdError = ValueError  # type: ignore[misc,assignment]


class Options(RecordFields):
    split_bytes: int = Field(default=128 * 1024 * 1024, gt=0)
    max_line_bytes: int = Field(default=64 << 20, ge=1024, description="longer lines (e.g. a decompression "
                                "bomb without a newline) are skipped as line_too_long; memory stays bounded by it")


def plan(path: str, size: int | None, options: Options) -> list[Split]:
    if compression_of(path):
        return [Split(path=path)]
    return byte_ranges(path, size, options.split_bytes)


def _lines(split: Split, max_line_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(byte offset, line, length) for every line that starts inside the split; the line is None when it
    is longer than ``max_line_bytes`` (it is read past in bounded pieces, never held whole)."""
    path = split.path
    compressed = compression_of(path) is not None
    try:
        fh = open_input(path) if compressed else open_raw(path)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"JSONL file {path!r} not found") from exc
    if compression_of(path) == "zstd":
        fh = io.BufferedReader(fh)  # zstandard's stream reader has no readline/iteration
    with fh:
        offset = 0
        if split.start > 0 and not compressed:
            # Step back one byte: if it is a newline, a line starts exactly at ``start``; otherwise finish
            # the line that straddles the boundary (it belongs to the previous split).
            fh.seek(split.start - 1)
            offset = split.start - 1 + _bounded_line(fh, max_line_bytes)[1]
        while True:
            if split.end is not None and not compressed and offset >= split.end:
                return
            line, length = _bounded_line(fh, max_line_bytes)
            if not length:
                return
            yield offset, line, length
            offset += length


def _bounded_line(fh: IO[bytes], max_bytes: int) -> tuple[bytes | None, int]:
    """The next line (newline included) and its length; (None, length) when longer than ``max_bytes``.

    ``readline(limit)`` never holds more than ``limit`` bytes, so an endless line costs ``max_bytes`` of
    memory, however large it is.
    """
    piece = fh.readline(max_bytes + 1)
    if len(piece) <= max_bytes or piece.endswith(b"\n"):
        return (piece, len(piece)) if len(piece) <= max_bytes else (None, len(piece))
    length = len(piece)
    del piece
    while True:
        rest = fh.readline(min(max_bytes, 1 << 20))
        length += len(rest)
        if not rest or rest.endswith(b"\n"):
            return None, length


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    path = split.path
    name = basename(path)
    compressed = compression_of(path) is not None
    numbered = compressed or split.start == 0  # line numbers are known only from the file's start
    line_no, seen_any = 0, False
    try:
        for offset, raw, length in _lines(split, options.max_line_bytes):
            line_no += 1
            seen_any = True
            position = f"line {line_no}" if numbered else f"byte {offset}"
            if raw is None:
                tally.skip("line_too_long", path, record=position,
                           detail=f"{length:,} bytes, over max_line_bytes={options.max_line_bytes:,}")
                continue
            doc = _parse(raw, offset, position, name, path, options, tally, first=offset == 0)
            if doc is not None:
                doc.meta["offset"] = None if compressed else offset
                yield doc
    except Exception as exc:  # noqa: BLE001 - only damaged archives are swallowed, the rest re-raised
        if not is_damaged_archive(exc):
            raise
        tally.skip("corrupt_file", path, record=f"after line {line_no}", detail=f"{type(exc).__name__}: {exc}")
        return
    if not seen_any and split.start == 0:
        tally.skip("empty_file", path)


def _parse(raw: bytes, offset: int, position: str, name: str, path: str, options: Options, tally: Tally,
           first: bool) -> Document | None:
    """One line to a Document, or None after recording why not (blank lines are counted, not skipped)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        tally.skip("invalid_utf8", path, record=position, detail=str(exc))
        return None
    if first:
        line = line.removeprefix("\ufeff")
    if not line.strip():
        tally.add("jsonl.blank_lines")
        return None
    try:
        record = json.loads(line)
    except ValueError as exc:
        tally.skip("invalid_json", path, record=position, detail=f"{exc}: {line[:80]!r}")
        return None
    if not isinstance(record, dict):
        tally.skip("not_an_object", path, record=position, detail=f"got {type(record).__name__}")
        return None
    if options.text_field not in record or record[options.text_field] is None:
        tally.skip("missing_text", path, record=position, detail=f"no field {options.text_field!r}")
        return None
    text = record[options.text_field]
    if not isinstance(text, str):
        tally.skip("text_not_string", path, record=position,
                   detail=f"field {options.text_field!r} is {type(text).__name__}")
        return None
    if not text.strip():
        tally.skip("empty_text", path, record=position)
        return None
    if "\\ud" in line.lower() and not is_encodable(text):
        # JSON can spell lone UTF-16 surrogates ("\\ud800"); no UTF-8 writer downstream would accept them.
        tally.skip("invalid_utf8", path, record=position, detail="lone surrogate escape in the text")
        return None
    record_id = _optional(record, options.id_field, "id", tally)
    return Document(
        key=record_id if record_id is not None else f"{name}:{offset}",
        text=text,
        url=_optional(record, options.url_field, "url", tally),
        title=_optional(record, options.title_field, "title", tally),
        meta={"origin": path, "record": position,
              "content_type": "application/jsonl", "charset": "utf-8"},
    )


def _optional(record: dict, field: str | None, role: str, tally: Tally) -> str | None:
    """An id/url/title field as text; a value that cannot be one (a list, an object, a string with a lone
    surrogate) reads as missing and is counted as ``jsonl.unusable_field.<role>``, as the Parquet reader
    counts an unusable column (an id that falls back to the line's offset must not go unnoticed)."""
    if not field or record.get(field) is None:
        return None
    value = scalar_str(record[field])
    if value is None:
        tally.add(f"jsonl.unusable_field.{role}")
    return value


READER = Reader(kind="jsonl", plan=plan, read=read)
# Generic records are treated as web text (the full chain); ids without an id field are "<file>:<offset>".
KIND = SourceKind("jsonl", Options, READER, identity="file_name", default_filters=ALL_FILTERS, web=True)
