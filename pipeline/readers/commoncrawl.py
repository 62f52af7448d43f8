"""Common Crawl reader: WARC responses -> main text, WET conversions -> their text, split by byte ranges.

The source kind (options, plan, read, crawl listings) and each record's document. The rest lives by concern:
framing (pipeline.readers.warc_framing), the records of a split (pipeline.readers.warc_splits), ARC files
(pipeline.readers.arc) and FastWARC's parse of a record with the quirks of real archives
(pipeline.readers.warc_records).

Accounting: every unit the reader looks at adds to ``records``; each then either becomes a document
(``documents``), is ``ignored.<warc-type>`` (warcinfo, request, metadata, revisit, continuation and
resources that are not web pages: never page text), or is a ``skipped.<reason>`` with examples. So
``records == documents + ignored.* + skipped.*``.
"""

from __future__ import annotations

import gzip
import html as html_lib
import re
from typing import Any, Iterator, Literal

import fsspec
from fastwarc.warc import WarcRecordType
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.accounting import Tally
from contracts.fsio import compression_of
from pipeline.documents import Document
from pipeline.extract import trafilatura_text
from pipeline.extract.html import decode_html, extract
from pipeline.readers.base import Reader, Split, byte_ranges, whole_file
from pipeline.readers.source_kind import ALL_FILTERS, SourceKind, listed_paths
from pipeline.readers.warc_framing import _Damage, _record_id
from pipeline.readers.warc_records import _page_resource, _parsed, _response
from pipeline.readers.warc_splits import _units, zstd_splits

_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
# Never page text; counted, not skipped. A revisit holds no payload (it points at an earlier capture of the
# same content, read where that capture is); a continuation is the rest of a segmented record (see
# _document). A resource is read only when it is an archived web page (see _page_resource).
_IGNORED_TYPES = {"warcinfo", "request", "metadata", "resource", "revisit", "continuation"}
_HTML_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_MEDIA_TYPES = {"application", "audio", "font", "image", "message", "model", "multipart", "text", "video", "none"}
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)


class Options(BaseModel):
    """Per-source options of a ``commoncrawl`` source in the manifest."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["auto", "warc", "wet"] = "auto"  # auto: responses -> HTML extraction, conversions -> text
    split_bytes: int = Field(64 << 20, gt=0)  # size of a byte-range split of a .warc(.gz/.zst) / .arc(.gz) file
    min_html_bytes: int = Field(0, ge=0)  # smaller HTML payloads are skipped as too_small
    max_html_bytes: int = Field(8 << 20, gt=0)  # larger ones as too_large (extraction time grows with size)
    max_record_bytes: int = Field(256 << 20, gt=0)  # a record claiming more is treated as corrupt
    # text/plain may be added: such pages are taken as text, without HTML extraction
    content_types: list[str] = ["text/html", "application/xhtml+xml"]
    main_content: bool = True  # False: all visible text of the page instead of its main content
    # pages of 250,000+ characters with this many "<" (huge listings: forum threads, registries) skip the
    # main-content detection, two thirds of their extraction cost; counted as extract_huge_page. None: never
    main_content_max_tags: int | None = Field(20_000, ge=1)
    min_text_chars: int = Field(1, ge=1)  # shorter extractions are skipped as empty_text
    # resiliparse: ours (pipeline.extract.html). trafilatura: FineWeb's extractor with datatrove's settings, for
    # reproducing or comparing with FineWeb, about ten times slower (pipeline.extract.trafilatura_text)
    extractor: Literal["resiliparse", "trafilatura"] = "resiliparse"
    # extractor trafilatura only (main_content_max_tags is resiliparse's): pages with more "<" are skipped as
    # extract_too_many_tags; its cost grows faster than the element count on some markup, and a tag count is a
    # bound that decides alike on any machine (datatrove's 1 s wall-clock timeout depends on the load). None: never
    trafilatura_max_tags: int | None = Field(trafilatura_text.DEFAULT_MAX_TAGS, ge=1)

    @field_validator("extractor")
    @classmethod
    def _installed(cls, value: str) -> str:
        if value == "trafilatura":
            try:
                trafilatura_text.require()
            except ImportError as exc:  # a ValueError, so the manifest's error names the source and field
                raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Options":
        if self.extractor == "trafilatura" and not self.main_content:
            raise ValueError("extractor: trafilatura extracts main content only; main_content: false (all of a "
                             "page's visible text) needs extractor: resiliparse")
        return self



# ---------------------------------------------------------------------------------------------------
# Records -> documents
# ---------------------------------------------------------------------------------------------------


def _title(page: str) -> str | None:
    match = _TITLE.search(page, 0, 1 << 16)
    if not match:
        return None
    title = " ".join(html_lib.unescape(match.group(1)).split())
    return title or None


def _document(raw: bytes, offset: int | None, path: str, options: Options, tally: Tally,
              trafilatura: trafilatura_text.TrafilaturaText | None = None) -> Document | None:
    """The document of one WARC record, or None with the reason counted; ``trafilatura``: the split's
    extractor when the source chose ``extractor: trafilatura`` (resiliparse's path otherwise)."""
    try:
        record = _parsed(raw)
    except OSError as exc:
        tally.skip("corrupt_record", path, _record_id(raw), f"offset {offset}: {exc}")
        return None
    rtype = record.record_type
    record_id = record.record_id or f"{path}@{offset}"
    headers = record.headers
    page_resource = rtype == WarcRecordType.resource and options.format != "wet" and _page_resource(headers, options)
    if str(rtype) in _IGNORED_TYPES and not page_resource:
        tally.add(f"ignored.{rtype}")
        return None
    url = headers.get("WARC-Target-URI")
    if url and url.startswith("<") and url.endswith(">"):  # WARC/1.1 drafts (wget) wrap the URI in <>
        url = url[1:-1]
    meta = {"origin": path, "record": record_id, "offset": offset, "date": headers.get("WARC-Date")}
    if rtype == WarcRecordType.conversion and options.format != "warc":
        text, charset, replaced = decode_html(record.reader.read())
        if replaced:
            tally.add("decode_replaced_bytes", replaced)
        text = text.lstrip("\ufeff").strip()  # a byte-order mark is no text (and str.strip keeps it)
        tally.add("chars_held", len(text))
        if len(text) < options.min_text_chars:
            tally.skip("empty_text", path, record_id, url)
            return None
        meta.update(content_type=(headers.get("Content-Type") or "text/plain").split(";")[0].strip(), charset=charset)
        return Document(key=record_id, text=text, url=url, meta=meta)
    if options.format == "wet" or rtype not in (WarcRecordType.response, WarcRecordType.resource):
        tally.skip("not_response", path, record_id, f"WARC-Type {headers.get('WARC-Type')}")
        return None
    if headers.get("WARC-Segment-Number"):
        # The first segment of a record split over several (its continuation records follow, maybe in other
        # files): its payload is a cut page. Segments are not reassembled; the page is counted here.
        tally.skip("segmented_record", path, record_id, f"segment {headers.get('WARC-Segment-Number')} of a "
                   "segmented record; segments are not reassembled")
        return None
    if page_resource:
        # An archived page without an HTTP envelope (a capture tool's resource record): taken as fetched.
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        charset = _CHARSET.search(headers.get("Content-Type") or "")
        status, declared, body = 200, charset.group(1) if charset else None, record.reader.read()
        tally.add("resource_pages")
    else:
        http = _response(record, raw, path, record_id, options, tally)
        if http is None:
            return None
        status, content_type, declared, body = http
    if status != 200:
        detail = f"status {status}" if status is not None else \
            f"no HTTP status line (record Content-Type {headers.get('Content-Type')})"
        tally.skip("http_status", path, record_id, detail)
        return None
    if content_type is None and "text/html" in options.content_types and _HTML_START.match(body, 0, 1024):
        content_type = "text/html"  # no Content-Type, an HTML document: what a browser sniffs it to be
        tally.add("content_type_sniffed")
    if content_type not in options.content_types:
        tally.skip("not_html", path, record_id, f"Content-Type {content_type}")
        major = content_type.split("/", 1)[0] if content_type else "none"
        tally.add(f"not_html_type.{major if major in _MEDIA_TYPES else 'other'}")  # images, applications, ...
        return None
    if len(body) < options.min_html_bytes:
        tally.skip("too_small", path, record_id, f"{len(body)} bytes")
        return None
    if len(body) > options.max_html_bytes:
        tally.skip("too_large", path, record_id, f"{len(body)} bytes")
        return None
    page, charset, replaced = decode_html(body, declared)
    if replaced:
        tally.add("decode_replaced_bytes", replaced)  # bytes no character came from, each run one U+FFFD
    tally.add("chars_held", len(page))  # what extraction had to work with (pipeline.file_accounting)
    if declared and charset != declared.lower():
        tally.add("charset_mismatch")  # declared charset did not decode; counted, the page is kept
    if content_type == "text/plain":  # when a source asks for it: the text is the document, not markup
        text = page.lstrip("\ufeff").strip()
        if len(text) < options.min_text_chars:
            tally.skip("empty_text", path, record_id, url)
            return None
        meta.update(content_type=content_type, charset=charset)
        return Document(key=record_id, text=text, url=url, meta=meta)
    try:
        if trafilatura is not None:
            text = trafilatura(page)
        elif options.main_content:
            extraction = extract(page, max_tags=options.main_content_max_tags)
            text = extraction.text
            if extraction.fallback:  # main-content detection kept too little: the full-page text was used
                tally.add("extract_fallback")
            if not extraction.main_content:  # a huge listing: extracted without main-content detection
                tally.add("extract_huge_page")
        else:
            text = _full_text(page)
    except trafilatura_text.TooManyTags as exc:
        tally.skip("extract_too_many_tags", path, record_id, f"{url}: {exc}")
        return None
    except Exception as exc:  # an extractor's error on pathological markup: one page, not the file
        tally.skip("extract_error", path, record_id, f"{type(exc).__name__}: {exc}")
        return None
    if len(text) < options.min_text_chars:  # trafilatura: also a page it returned nothing for
        tally.skip("empty_text", path, record_id, url)
        return None
    meta.update(content_type=content_type, charset=charset)
    return Document(key=record_id, text=text, url=url, title=_title(page), meta=meta)


def _full_text(page: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(page, main_content=False, alt_texts=False, list_bullets=False).strip()


# ---------------------------------------------------------------------------------------------------
# Reader interface
# ---------------------------------------------------------------------------------------------------


def plan(path: str, size: int | None, options: Options) -> list[Split]:
    """Byte ranges for gzip and plain WARC/ARC files and .warc.zst ones (frame-aligned); one split for .bz2 and
    other .zst files (their records cannot be found from a raw offset)."""
    if compression_of(path) in (None, "gzip") or zstd_splits(path):
        return byte_ranges(path, size, options.split_bytes)
    return whole_file(path, size, options)


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    """Documents of the records starting in ``split``; bad records are skipped with a reason.

    Raises only for I/O errors (e.g. a missing file), naming the file.
    """
    trafilatura = (trafilatura_text.TrafilaturaText(options.trafilatura_max_tags)
                   if options.extractor == "trafilatura" else None)  # one per split: its dedup cache
    try:
        for unit in _units(split, options, tally):
            tally.add("records")
            if isinstance(unit, _Damage):
                detail = unit.detail if unit.offset is None else f"offset {unit.offset}: {unit.detail}"
                tally.skip(unit.reason, split.path, unit.record, detail)
                continue
            doc = _document(unit[1], unit[0], split.path, options, tally, trafilatura)
            if doc is not None:  # a WARC-Record-ID repeated in the split is re-keyed by the crawl stage
                tally.add("documents")
                yield doc
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"commoncrawl input {split.path!r} not found: {exc}") from exc
    except OSError as exc:
        raise OSError(f"cannot read commoncrawl input {split.path!r}: {exc}") from exc


def resolve_crawl(crawl_id: str, files: int, base_url: str = "https://data.commoncrawl.org", format: str = "warc") -> list[str]:
    """The first ``files`` WARC/WET URLs of a Common Crawl crawl, from its gzip path listing."""
    if format not in ("warc", "wet"):
        raise ValueError(f"format must be 'warc' or 'wet', got {format!r}")
    base = base_url.rstrip("/")
    listing = f"{base}/crawl-data/{crawl_id}/{format}.paths.gz"
    urls: list[str] = []
    try:
        with fsspec.open(listing, "rb") as fh, gzip.open(fh, "rt", encoding="utf-8") as lines:
            for line in lines:
                line = line.strip()
                if line:
                    urls.append(f"{base}/{line.lstrip('/')}")
                    if len(urls) >= files:
                        break
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"crawl listing {listing} not found: is {crawl_id!r} a Common Crawl crawl id "
                                "(e.g. CC-MAIN-2024-22)?") from exc
    return urls


READER = Reader("commoncrawl", plan, read)


class CrawlSpec(BaseModel):
    """Files resolved from a Common Crawl crawl's path listing instead of listed one by one."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    id: str = Field(pattern=r"^CC-MAIN-\d{4}-\d{2}$", description="crawl id, e.g. CC-MAIN-2024-22")
    files: int = Field(1, ge=1, description="how many files to take from the start of the listing")
    base_url: str = "https://data.commoncrawl.org"
    format: Literal["warc", "wet"] = "warc"


def resolve_inputs(source: Any) -> list[str]:
    """The source's listed paths, then the files of its crawl listing (``crawl: {id, files}``) if any."""
    paths = listed_paths(source)
    if source.crawl is not None:
        crawl = source.crawl
        paths += resolve_crawl(crawl.id, crawl.files, crawl.base_url, crawl.format)
    return paths


# Web pages get the full FineWeb chain (pipeline.filters.chain). Ids are WARC-Record-IDs (ARC: digests).
KIND = SourceKind("commoncrawl", Options, READER, identity="record", default_filters=ALL_FILTERS, web=True,
                  resolve_inputs=resolve_inputs, source_fields={"crawl": (CrawlSpec | None, None)},
                  input_hint=" or a crawl: {id, files}")
