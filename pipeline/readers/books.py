"""Plain-text books, one file per document (Project Gutenberg or any ``.txt``).

The document key is the file's base name, so a book keeps its id wherever the corpus is mounted (two books
with the same base name in one source would collide: give them distinct names). The full path goes to
``meta.origin``. Boilerplate removal and unwrapping live in ``pipeline.extract.gutenberg``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field

from pipeline.documents import Document
from pipeline.extract.gutenberg import normalize_newlines, split_gutenberg, unwrap_paragraphs
from pipeline.fsio import compression_of, open_input
from pipeline.readers.base import Reader, Split, Tally, whole_file
from pipeline.readers.jsonl import is_corrupt_archive
from pipeline.readers.source_kind import SourceKind

FALLBACK_CHARSETS = ("cp1252", "latin-1")  # latin-1 never fails, so decoding always ends somewhere


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strip_gutenberg: bool = True  # drop PG header/footer/licence and read Title/Author from the header
    unwrap: bool = True  # join hard-wrapped lines into paragraphs (see gutenberg.unwrap_paragraphs)
    max_document_bytes: int = Field(64 << 20, ge=1024)  # a larger (decompressed) file is skipped as too_large


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM tolerated) first, then cp1252, then latin-1; returns the text and the charset used."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM on a file that is not UTF-8 after all
    for charset in FALLBACK_CHARSETS:
        try:
            return data.decode(charset), charset
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def title_from_name(name: str) -> str:
    """``the-verdict.txt`` -> ``the verdict``: the best title a file without a header offers."""
    stem = name
    if compression_of(stem):
        stem = posixpath.splitext(stem)[0]
    stem = posixpath.splitext(stem)[0]
    return re.sub(r"[-_]+", " ", stem).strip() or name


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    path = split.path
    name = posixpath.basename(path.split("?", 1)[0].rstrip("/"))
    try:
        with open_input(path) as fh:
            data = fh.read(options.max_document_bytes + 1)  # never more: a .gz bomb costs this much at most
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"book file {path!r} not found") from exc
    except Exception as exc:  # noqa: BLE001 - only damaged archives are swallowed, the rest re-raised
        if not is_corrupt_archive(exc):
            raise
        tally.skip("corrupt_file", path, detail=f"{type(exc).__name__}: {exc}")
        return
    if len(data) > options.max_document_bytes:
        tally.skip("too_large", path, detail=f"over max_document_bytes={options.max_document_bytes:,} bytes")
        return
    if not data.strip():
        tally.skip("empty_file", path, detail=f"{len(data)} bytes")
        return
    text, charset = decode(data)
    if charset != "utf-8":
        tally.add("decoded_fallback")
    text = normalize_newlines(text)
    tally.add("chars_held", len(text))  # the whole book, boilerplate included (pipeline.file_accounting)
    book = split_gutenberg(text) if options.strip_gutenberg else None
    body = book.body if book else text
    if book and book.has_markers:
        tally.add("books.gutenberg_stripped")
    if options.unwrap:
        body = unwrap_paragraphs(body)
    body = body.strip("\n")
    if not body.strip():
        tally.skip("empty_text", path, detail="nothing left after removing the Gutenberg boilerplate")
        return
    yield Document(
        key=name,
        text=body,
        title=(book.title if book else None) or title_from_name(name),
        meta={
            "origin": path,
            "author": book.author if book else None,
            "date": book.date if book else None,
            "content_type": "text/plain",
            "charset": charset,
        },
    )


READER = Reader(kind="books", plan=whole_file, read=read)

# Default filters: length, language and PII only. The web chain removes 4 of 7 real books: a novel passes
# Gopher's 100,000-word maximum (Jack Sheppard), C4's curly-bracket rule fires on editorial notes, and a
# collected works (tinyshakespeare, 1.1 M characters) is beyond the analysis cap; verse and plays are
# short lines without terminal punctuation that FineWeb's rules are built to remove
# (tests/pipeline/filters/test_chain.py).
KIND = SourceKind("books", Options, READER, identity="file_name",
                  default_filters={"length": {}, "language": {}, "pii": {}})
