"""The document record every reader produces and every later stage consumes.

One Arrow schema for all sources, so that filter, dedup and tokenize never care where a document came
from. Source-specific facts live in the typed ``meta`` struct, not in free-form maps, so a column means the
same thing in every shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

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
