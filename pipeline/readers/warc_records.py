"""One framed WARC record -> FastWARC's parse of it and its HTTP payload, with the quirks of real archives.

FastWARC (``WarcRecord.from_bytes``, about 1 µs) gives HTTP status, headers, chunked/gzip transfer decoding
and the charset; over warcio: same job, several times faster (bench/README.md). What it does not take is
handled here, each only for the records that need it: WARC headers with bare-LF lines or other spellings of
field names (``_parsed``), bare-LF HTTP headers (``_crlf_http_head``), payloads stored decoded under their
original Content-Encoding or Transfer-Encoding, or still gzip/deflate/br encoded (``_content_decoded``), and
archived pages stored without an HTTP envelope (``_page_resource``).
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Any

from fastwarc.warc import WarcRecord, WarcRecordType

from contracts.accounting import Tally
from pipeline.readers.warc_framing import _CONTENT_LENGTH, _FAST_ERRORS, _MAX_HEADER, _fast_zlib, _header

if TYPE_CHECKING:
    from pipeline.readers.commoncrawl import Options

try:  # Google's brotli, installed as FastWARC's own dependency (its br decoding): see _content_decoded
    import brotli
except ImportError:
    brotli = None


def _http(record: WarcRecord, decode: str = "all") -> tuple[int | None, str | None, str | None, bytes]:
    """(status, content type, declared charset, decoded payload) of an HTTP response record."""
    record.parse_http(auto_decode=decode)
    status = record.http_headers.status_code if record.http_headers else None
    content_type = (record.http_content_type or "").lower() or None
    # a quoted label (charset="GB2312", legal in HTTP) comes with its quotes from FastWARC
    charset = (record.http_charset or "").strip().strip("\"'").strip() or None
    return status, content_type, charset, record.reader.read()


def _inflate(wbits: int, body: bytes, limit: int) -> bytes:
    """The first ``limit`` + 1 decompressed bytes of ``body``: ISA-L's inflate when installed (see
    ``_GzipMember``), zlib's when it is not or when ISA-L refuses the data, so errors are zlib's own."""
    if _fast_zlib is not None:
        try:
            return _fast_zlib.decompressobj(wbits).decompress(body, limit + 1)
        except _FAST_ERRORS:
            pass
    return zlib.decompressobj(wbits).decompress(body, limit + 1)


def _looks_like_text(body: bytes) -> bool:
    """Whether ``body`` starts as text rather than compressed bytes: under 1% C0 control bytes (other than
    tab, LF, FF, CR, ESC) in its first 4 kB. Compressed data has ~11% of them, text (any charset) none."""
    head = body[:4096]
    return len(head.translate(None, _TEXT_BYTES)) * 100 < len(head) + 1


_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\x0c\r\x1b"


def _content_decoded(body: bytes, encoding: str | None, limit: int) -> bytes:
    """``body`` without its gzip/deflate/br Content-Encoding, if it still has it; at most ``limit`` + 1 bytes.

    Bounded so that a compressed bomb costs ``limit`` bytes, not its expanded size: a longer result is
    cut at ``limit`` + 1 and then skipped as ``too_large`` like any other oversized page. A body that does
    not inflate but is plainly text is one an archive stored decoded under the original header (the header
    is kept, the body is not what it says): it is taken as it is, as a gzip body without gzip's magic is."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip") and body[:2] == b"\x1f\x8b":
        return _inflate(16 + zlib.MAX_WBITS, body, limit)
    if encoding == "deflate" and body[:1] not in (b"<", b" ", b"\n", b"\r", b"\t", b""):
        try:  # RFC 9110's deflate is zlib-wrapped; some servers send raw deflate
            return _inflate(zlib.MAX_WBITS, body, limit)
        except zlib.error:
            try:
                return _inflate(-zlib.MAX_WBITS, body, limit)
            except zlib.error:
                if _looks_like_text(body):  # e.g. a page starting with a UTF-8 BOM or a doctype-less text
                    return body
                raise
    if encoding == "br" and body:
        return _unbrotli(body, limit)
    return body


def _unbrotli(body: bytes, limit: int) -> bytes:
    """``body`` decoded from brotli (at most ``limit`` + 1 bytes), or as it is when it is plain text.

    Brotli has no magic bytes, so a body that does not decode to a whole stream but reads as text is one
    stored decoded under its header; one that decodes only in part (a record truncated by the crawler) keeps
    its part, as a truncated gzip body does."""
    if brotli is None:
        if _looks_like_text(body):
            return body
        raise ValueError("Content-Encoding br, and the brotli module (a FastWARC dependency) is not installed")
    decoder = brotli.Decompressor()
    try:
        out = decoder.process(body, output_buffer_limit=limit + 1)
        # on a stream that ends early, one call returns at most one 32 kB buffer: the rest comes with more calls
        while not decoder.is_finished() and len(out) <= limit:
            more = decoder.process(b"", output_buffer_limit=limit + 1 - len(out))
            if not more:
                break
            out += more
    except brotli.error as exc:
        if _looks_like_text(body):
            return body
        raise ValueError(f"brotli: {exc}") from exc
    if decoder.is_finished() or len(out) > limit or (out and not _looks_like_text(body)):
        return out[: limit + 1]
    if _looks_like_text(body):
        return body
    raise ValueError("brotli: no output")


# The WARC 1.1 named fields (ISO 28500:2017 §5), by their lower-cased names: see _parsed
_WARC_FIELDS = {name.lower().encode(): name.encode() for name in (
    "WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type", "Content-Type", "WARC-Concurrent-To",
    "WARC-Block-Digest", "WARC-Payload-Digest", "WARC-IP-Address", "WARC-Refers-To", "WARC-Refers-To-Target-URI",
    "WARC-Refers-To-Date", "WARC-Target-URI", "WARC-Truncated", "WARC-Warcinfo-ID", "WARC-Filename",
    "WARC-Profile", "WARC-Identified-Payload-Type", "WARC-Segment-Number", "WARC-Segment-Origin-ID",
    "WARC-Segment-Total-Length")}


def _canonical_header(raw: bytes) -> bytes | None:
    """``raw`` with its WARC header in CRLF lines and the spec's spelling of field names, or None if it
    already is (or has no header ``_header`` accepts)."""
    parsed = _header(raw)
    if parsed is None:
        return None
    head_len = parsed[0]
    lines = []
    for line in raw[:head_len].split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if colon:
            line = _WARC_FIELDS.get(name.strip().lower(), name) + b":" + value
        lines.append(line)
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return None if head == raw[:head_len] else head + raw[head_len:]


def _parsed(raw: bytes) -> WarcRecord:
    """FastWARC's record of ``raw``.

    FastWARC reads only CRLF header lines and matches ``WARC-Type`` and ``Content-Length`` case-sensitively
    (the spec says field names are case-insensitive): a header with bare-LF lines or other spellings
    parsed as an ``unknown`` record with no content. Such headers are rewritten to the canonical form and
    parsed again; only records that parsed that way pay for it. So do headers whose lines end in CR CR LF (see
    warc_framing._CR_BLANK), which FastWARC parses with a wrong end and length: told by the version line's end."""
    record = WarcRecord.from_bytes(raw)
    crcr = len(raw) > 9 and raw[9] == 13 and raw.find(b"\r\r\n", 5, 16) >= 0  # (as _header tells them)
    if record.record_type == WarcRecordType.unknown or not record.content_length or crcr:
        canonical = _canonical_header(raw)
        if canonical is not None:
            record = WarcRecord.from_bytes(canonical)
    return record


_HTTP_LF_END = re.compile(rb"\n\r?\n")


def _crlf_http_head(raw: bytes) -> bytes | None:
    """``raw`` (a response record) with the bare-LF lines of its HTTP header turned into CRLF lines and its
    Content-Length adjusted, or None when the HTTP header has no bare-LF line ends.

    Old servers sent bare-LF HTTP headers and 2000s crawls stored them as sent; FastWARC finds no end to
    such a header ("Maximum header length exceeded") and the page was lost as corrupt."""
    canonical = _canonical_header(raw) or raw
    parsed = _header(canonical)
    if parsed is None:
        return None
    head_len = parsed[0]
    match = _HTTP_LF_END.search(canonical, head_len, head_len + _MAX_HEADER)
    if canonical[head_len:head_len + 5] != b"HTTP/" or match is None:
        return None
    http = canonical[head_len:match.start()]
    if b"\n" not in http.replace(b"\r\n", b""):
        return None  # CRLF lines throughout: not this quirk
    http = http.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n\r\n"
    block = http + canonical[match.end():]
    head = _CONTENT_LENGTH.sub(b"Content-Length: " + str(len(block)).encode() + b"\r", canonical[:head_len], count=1)
    return head + block


def _page_resource(headers: Any, options: Options) -> bool:
    """Whether a resource record is an archived web page: an http(s) target and a page Content-Type.

    Capture tools (warcit, Webrecorder, browser-based crawlers) store pages fetched without an HTTP envelope
    this way, and a user reading their WARCs expects those pages. wget's resource records are its own log
    and arguments (``metadata://`` targets, text/plain) and browser crawlers' derived text ``urn:`` targets:
    not pages, still ignored."""
    url = (headers.get("WARC-Target-URI") or "").strip("<>").lower()
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return url.startswith(("http://", "https://")) and content_type in options.content_types


def _response(record: WarcRecord, raw: bytes, path: str, record_id: str, options: Options,
              tally: Tally) -> tuple[int | None, str | None, str | None, bytes] | None:
    """(status, content type, declared charset, payload) of a response record, or None once it is skipped."""
    try:
        return _http(record)
    except (OSError, ValueError):
        # Archives often store an already de-chunked payload but keep the original Transfer-Encoding
        # header (then FastWARC's decoding fails); the payload as stored may still be gzip, deflate or br
        # compressed, or already decompressed despite its Content-Encoding header.
        crlf = _crlf_http_head(raw)
        if crlf is not None:
            raw = crlf
            tally.add("http_lf_headers")
        try:
            fallback = _parsed(raw)
            status, content_type, declared, body = _http(fallback, decode="none")
            body = _content_decoded(body, fallback.http_headers.get("Content-Encoding"), options.max_html_bytes)
            tally.add("http_decode_fallback")
            return status, content_type, declared, body
        except (OSError, ValueError, zlib.error) as exc:
            tally.skip("corrupt_record", path, record_id, f"HTTP part: {exc}")
            return None


