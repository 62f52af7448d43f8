"""Common Crawl reader: WARC responses -> main text, WET conversions -> their text, split by byte ranges.

Framing is ours, parsing is FastWARC's. We find record boundaries ourselves (gzip members with ``zlib``,
``WARC/`` headers and ``Content-Length`` in the decompressed bytes) because that is what byte-range
splits and damage recovery need: FastWARC's iterator cannot start at an arbitrary offset, and on a
truncated or mis-sized record it either stops the whole file or returns a short payload without saying
so. Each framed record is then parsed with ``fastwarc.WarcRecord.from_bytes`` (about 1 µs) which gives
HTTP status, headers, chunked/gzip transfer decoding and the charset. FastWARC over warcio: same job,
several times faster (bench/README.md).

Accounting: every unit the reader looks at adds to ``records``; each then either becomes a document
(``documents``), is ``ignored.<warc-type>`` (warcinfo, request, metadata, revisit, continuation and
resources that are not web pages: never page text), or is a ``skipped.<reason>`` with examples. So
``records == documents + ignored.* + skipped.*``.

Splits: a record belongs to the split in which it starts. A split with ``start > 0`` begins at the first
gzip member at or after ``start`` whose decompressed bytes begin with ``WARC/`` (``.warc.gz``), or at
the first ``WARC/`` header that follows a blank line (plain ``.warc``), and reads every record starting
before ``end``, even past ``end``. ``.bz2``/``.zst`` files cannot be cut and are one split.

ARC (the Internet Archive's format before WARC, v1 and v2: Common Crawl 2008-2012, old IA holdings) is told
from the file's first bytes (else its name), once per split, so WARC records never pay for it. Its records
(a header line ``URL IP date type length``, then the block) are framed by the same rules, a member or a
plain record starting a split when its header line parses and its length ends at the next one (a plain file
whose records have no "\n" between them is one split: ``_sniff_arc``), and each is turned into the WARC
record Heritrix writes for the same capture (``_arc_to_warc``): documents, counts and skips are then those
of that WARC. The ``filedesc://`` block counts as ``ignored.warcinfo``; ids, which ARC lacks, are the SHA-1
of the record's bytes (``<urn:arc:sha1:...>``), the same in any file, split or compression. FastWARC cannot
read ARC; warcio can, and the tests check our counts against it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html as html_lib
import re
import zlib
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Literal

import fsspec
from fastwarc.warc import WarcRecord, WarcRecordType
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.accounting import Tally
from contracts.fsio import basename, compression_of, is_damaged_archive, is_remote, open_input, open_raw
from pipeline.documents import Document
from pipeline.extract import trafilatura_text
from pipeline.extract.html import decode_html, extract
from pipeline.readers.base import Reader, Split, byte_ranges, whole_file
from pipeline.readers.source_kind import ALL_FILTERS, SourceKind, listed_paths

try:  # ISA-L's inflate (python-isal, Intel's ISA-L behind zlib's API): see _GzipMember
    from isal import isal_zlib as _fast_zlib
except ImportError:
    _fast_zlib = None
_FAST_ERRORS: tuple[type[Exception], ...] = (_fast_zlib.error,) if _fast_zlib is not None else ()
try:  # Google's brotli, installed as FastWARC's own dependency (its br decoding): see _content_decoded
    import brotli
except ImportError:
    brotli = None

_CHUNK = 1 << 18
_FEED = 1 << 15  # compressed bytes handed to one inflate call (~160 kB out on these files, under a read's size)
_MAX_HEADER = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_BOUNDARY = b"\nWARC/"  # the end of a blank line, then the next record's header: see _boundary
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_RECORD_ID = re.compile(rb"(?im)^warc-record-id:[ \t]*(\S+)")
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
    split_bytes: int = Field(64 << 20, gt=0)  # size of a byte-range split of a .warc(.gz) / .arc(.gz) file
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


@dataclass
class _Damage:
    """A stretch of input that is not a usable record; becomes one ``tally.skip``."""

    reason: str
    offset: int | None
    record: str | None
    detail: str


# ---------------------------------------------------------------------------------------------------
# Framing: bytes -> (offset, one WARC record's bytes) or _Damage
# ---------------------------------------------------------------------------------------------------


def _header(buf: bytes | bytearray, at: int = 0) -> tuple[int, int] | None:
    """(header length incl. the blank line, Content-Length) of a WARC header at ``at``, or None."""
    if buf[at : at + 5] != b"WARC/":
        return None
    end = buf.find(b"\r\n\r\n", at, at + _MAX_HEADER)
    # Some writers end header lines with a bare LF (the spec says CRLF): the first blank line ends the header
    # whichever it is. Searched only up to the CRLF one, a few hundred bytes, so CRLF headers pay little.
    lf = buf.find(b"\n\n", at, end if end >= 0 else at + _MAX_HEADER)
    if lf >= 0:
        head = buf[at:lf + 1]
        blank = lf + 2
    elif end < 0:
        return None
    else:
        head = buf[at:end + 2]
        blank = end + 4
    # The first line that _CONTENT_LENGTH matches, as its search over the header finds it; but the search tries
    # the pattern at every byte (a "^" in multi-line mode has no literal to skip to), so the lines that start
    # with "content-length:" in any case are found with find() on the lower-cased header and tried in turn.
    low = head.lower()
    i = low.find(b"\ncontent-length:")
    while i >= 0:
        match = _CONTENT_LENGTH.match(head, i + 1)
        if match:
            return blank - at, int(match.group(1))
        i = low.find(b"\ncontent-length:", i + 1)
    return None


def _boundary(buf: bytes | bytearray, at: int) -> int:
    """Where the next record header that follows a blank line (CRLF or bare LF) starts, at or after ``at``
    (the header's "WARC/" may start no earlier than ``at`` + 1), or -1."""
    i = buf.find(_BOUNDARY, at)
    while i >= 0:
        if i >= 1 and (buf[i - 1] == 0x0A or (i >= 2 and buf[i - 1] == 0x0D and buf[i - 2] == 0x0A)):
            return i + 1
        i = buf.find(_BOUNDARY, i + 1)
    return -1


def _record_id(buf: bytes | bytearray, at: int = 0) -> str | None:
    match = _RECORD_ID.search(buf, at, at + _MAX_HEADER)
    return match.group(1).decode("ascii", "replace") if match else None


def _frame(read: Callable[[int], bytes], limit: int | None, max_record: int) -> Iterator[tuple[int, bytes] | _Damage]:
    """Cut a decompressed WARC stream into records; offsets are relative to the stream start.

    Yields records starting before ``limit``. A record is good when its ``Content-Length`` ends at a
    blank line followed by the next ``WARC/`` header or the end of the stream; otherwise it is damage,
    and framing resumes at the next record boundary after its header.
    """
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    eof = False

    def fill(n: int) -> None:
        nonlocal eof
        while len(buf) < n and not eof:
            chunk = read(_CHUNK)
            if chunk:
                buf.extend(chunk)
            else:
                eof = True

    def drop(n: int) -> None:
        nonlocal base
        del buf[:n]
        base += n

    def resync(after: int) -> bool:
        """Drop bytes up to the next valid record header after ``after``; False at end of stream."""
        while True:
            fill(after + len(_BOUNDARY) + 3 + _MAX_HEADER)
            i = _boundary(buf, after)
            if i < 0:
                if eof:
                    drop(len(buf))
                    return False
                keep = max(after, len(buf) - len(_BOUNDARY) - 3)
                drop(keep)
                after = 0  # the bytes kept could end a boundary cut at the buffer's end
                continue
            fill(i + _MAX_HEADER)
            if _header(buf, i):
                drop(i)
                return True
            after = i

    while True:
        fill(_MAX_HEADER)
        skip = 0
        while skip < len(buf) and buf[skip] in b"\r\n":
            skip += 1
        drop(skip)
        if not buf:
            return
        if limit is not None and base >= limit and _header(buf) is not None:
            return  # the next split starts here; a damaged header it cannot find is counted below, by us
        parsed = _header(buf)
        if parsed is None:
            reason = "truncated_record" if eof and buf.startswith(b"WARC/") else "corrupt_record"
            yield _Damage(reason, base, _record_id(buf), "no valid WARC header (with Content-Length) here")
            if not resync(1):
                return
            continue
        head_len, length = parsed
        if length > max_record:
            yield _Damage("corrupt_record", base, _record_id(buf), f"Content-Length {length} over the limit")
            if not resync(head_len):
                return
            continue
        total = head_len + length
        fill(total + 4 + 5)
        if len(buf) < total:
            yield _Damage("truncated_record", base, _record_id(buf),
                          f"stream ends {total - len(buf)} bytes before the record's Content-Length {length}")
            if not resync(head_len - 4):  # a length too large hides the records after it: look for them
                return
            continue
        after = total
        while after < len(buf) and after < total + 4 and buf[after] in b"\r\n":
            after += 1
        if after < len(buf) and buf[after : after + 5] != b"WARC/"[: len(buf) - after]:
            yield _Damage("corrupt_record", base, _record_id(buf),
                          f"Content-Length {length} does not end at a record boundary")
            if not resync(head_len - 4):
                return
            continue
        yield base, bytes(memoryview(buf)[:total])  # one copy (a bytearray slice, then bytes(), made two)
        drop(total)


class _GzipMember:
    """File-like view of one gzip member's decompressed bytes, reading the raw file sequentially.

    After the member is exhausted ``length`` is its compressed size and ``rest`` the raw bytes read past
    its end (the start of the next member), or ``error`` says why it could not be read to its end.

    Inflating is ISA-L's (python-isal) when installed: the same DEFLATE decoder contract as zlib (same bytes,
    CRC-32 and length checks, ``unconsumed_tail``/``unused_data``), about 1.4x zlib's speed on these members
    (inflate is most of the WARC framing's cost: bench/README.md, "Whole chain against datatrove"). Its error
    messages differ from zlib's and a damaged member is rare, so the first error it raises sends the member
    back to its start under zlib, which skips the bytes already handed out: a damaged member is then read,
    cut and described exactly as zlib alone would.
    """

    def __init__(self, raw: IO[bytes], rest: bytes | memoryview) -> None:
        self.raw = raw
        self.pending, self.at, self.fed = rest, 0, len(rest)  # raw bytes read, and how far they were fed
        self.origin = (raw.tell(), rest) if _fast_zlib is not None else None  # where a zlib retry starts
        self.inflate = (_fast_zlib or zlib).decompressobj(31)
        self.handed = 0  # decompressed bytes returned so far (skipped by a zlib retry)
        self.done = False
        self.length: int | None = None
        self.rest: bytes | memoryview = b""
        self.error: tuple[str, str] | None = None

    def _retry_with_zlib(self) -> None:
        """Start the member again under zlib and drop the output already handed out."""
        assert self.origin is not None  # only ISA-L raises _FAST_ERRORS, and only before the retry
        position, rest = self.origin
        self.origin = None
        self.raw.seek(position)
        self.pending, self.at, self.fed, self.inflate = rest, 0, len(rest), zlib.decompressobj(31)
        skip, self.handed = self.handed, 0
        while skip and not self.done:
            skip -= len(self.read(min(skip, _CHUNK)))

    def read(self, size: int) -> bytes:
        while not self.done:
            data = self.inflate.unconsumed_tail
            if not data:
                if self.at >= len(self.pending):
                    self.pending, self.at = self.raw.read(_CHUNK), 0
                    if not self.pending:
                        self.done, self.error = True, ("truncated_gzip", f"file ends inside a gzip member after {self.fed} bytes")
                        return b""
                    self.fed += len(self.pending)
                # A slice, not the whole chunk: what one call cannot inflate within ``size`` is copied out as
                # ``unconsumed_tail``, and a whole 256 kB chunk (5x that inflated) was copied ~5 times over.
                data = memoryview(self.pending)[self.at:self.at + _FEED]
                self.at += len(data)
            try:
                out = self.inflate.decompress(data, size)
            except zlib.error as exc:
                self.done, self.error = True, ("corrupt_gzip", f"gzip data error: {exc}")
                return b""
            except _FAST_ERRORS:  # ISA-L's error (not a zlib.error): redo the member under zlib
                self._retry_with_zlib()
                continue
            if self.inflate.eof:
                self.done = True
                # unused_data is the end of what was fed, so pending[at - len(unused_data):]: a view, not a
                # copy of the rest of the chunk at every member's end
                self.rest = memoryview(self.pending)[self.at - len(self.inflate.unused_data):]
                self.length = self.fed - len(self.rest)
            if out:
                self.handed += len(out)
                return out
        return b""


_FIRST_FEED = 1 << 11  # the first slice of a member: most are short, and the end copies the slice's rest
_WHOLE_MAX = 1 << 22  # the fast path below takes members that inflate to at most this (4 MiB)
_CRLF_RUN = re.compile(rb"[\r\n]*")


def _whole_member(rest: bytes | memoryview, max_record: int) -> tuple[list[bytes], int] | None:
    """The records of the gzip member at the start of ``rest`` and its compressed length, or None.

    Why: a member is most often one record, and reading it through ``_GzipMember`` and ``_frame`` (a generator,
    a growing buffer, byte-by-byte CR/LF loops) cost more than inflating it (framing one copy of the ten shared
    WARCs: 50 ms, of which ~28 inflating; ~43 ms with this). This takes only the members it can vouch for: held
    whole in ``rest`` (the raw bytes
    already read), inflating without error to at most ``_WHOLE_MAX`` bytes and framing into records with no
    damage by ``_frame``'s own rules; for any other member it returns None before anything is handed out, and
    ``_GzipMember`` with ``_frame`` read it from the same bytes, so what is yielded or reported never differs
    (tests/pipeline/readers/test_commoncrawl_framing.py compares both paths on whole and damaged files)."""
    inflate = (_fast_zlib or zlib).decompressobj(31)
    view = memoryview(rest)
    parts: list[bytes] = []
    fed = size = 0
    try:
        while not inflate.eof:  # fed and bounded as _GzipMember.read does it (the same allocations)
            data = inflate.unconsumed_tail
            if not data:
                data = view[fed:fed + (_FEED if fed else _FIRST_FEED)]  # unused_data copies the slice's rest
                if not data:
                    return None
                fed += len(data)
            if size >= _WHOLE_MAX:
                return None
            out = inflate.decompress(data, _CHUNK)
            parts.append(out)
            size += len(out)
    except (zlib.error, *_FAST_ERRORS):
        return None
    buf = parts[0] if len(parts) == 1 else b"".join(parts)
    n = len(buf)
    records = []
    at = _CRLF_RUN.match(buf).end()
    while at < n:  # _frame's checks, on a stream that ends with the member
        parsed = _header(buf, at)
        if parsed is None or parsed[1] > max_record:
            return None
        end = at + parsed[0] + parsed[1]
        if end > n:
            return None
        after = _CRLF_RUN.match(buf, end, end + 4).end()
        if after < n and buf[after:after + 5] != b"WARC/"[:n - after]:
            return None
        records.append(buf[at:end])
        at = _CRLF_RUN.match(buf, end).end()
    return records, fed - len(inflate.unused_data)


def _is_member(head: bytes) -> bool:
    """Whether ``head`` starts a gzip member whose content starts with a WARC header."""
    if not head.startswith(_GZIP_MAGIC):
        return False
    try:
        return zlib.decompressobj(31).decompress(head, 16).startswith(b"WARC/")
    except zlib.error:
        return False


def _find_member(raw: IO[bytes], start: int, is_member: Callable[[bytes], bool] = _is_member) -> int | None:
    """Offset of the first gzip member at or after ``start`` that ``is_member`` takes (a WARC one), or None."""
    pos = start
    while True:
        raw.seek(pos)
        chunk = raw.read(_CHUNK)
        if len(chunk) < len(_GZIP_MAGIC):
            return None
        i = chunk.find(_GZIP_MAGIC)
        while i >= 0:
            raw.seek(pos + i)
            if is_member(raw.read(1 << 16)):
                return pos + i
            i = chunk.find(_GZIP_MAGIC, i + 1)
        pos += len(chunk) - len(_GZIP_MAGIC) + 1


def _find_plain(raw: IO[bytes], start: int) -> int | None:
    """Offset of the first WARC header at or after ``start`` that follows a blank line, or None."""
    pos = max(start - 4, 0)
    while True:
        raw.seek(pos)
        chunk = raw.read(_CHUNK + _MAX_HEADER)
        i = _boundary(chunk, max(start - pos - 1, 0))  # a header at ``start`` or after
        while i >= 0:
            if _header(chunk, i):
                return pos + i
            i = _boundary(chunk, i)
        if len(chunk) < _CHUNK + _MAX_HEADER:
            return None
        pos += _CHUNK


# ---------------------------------------------------------------------------------------------------
# ARC (the Internet Archive's format before WARC): framing, and the WARC record each ARC record stands for
# ---------------------------------------------------------------------------------------------------

# An ARC record is one header line, ``Archive-length`` bytes and a "\n" (left out by some writers). v1's line
# is ``URL IP-address Archive-date Content-type Archive-length``; v2 puts ``Result-code Checksum Location Offset
# Filename`` before the length (tried first: a v1 line never has ten fields unless its URL holds spaces). The
# URL may hold spaces (Common Crawl's 2012 crawler wrote them), so it takes what the fixed fields to its right
# leave, but starts with a scheme and no blank; the file's first record is its ``filedesc://`` version block.
_ARC_URL = rb"([A-Za-z][A-Za-z0-9+.\-]*:\S.*)"
_ARC_V1 = re.compile(_ARC_URL + rb" (\S+) (\d{12,17}) (\S*) (\d+)[ \t]*\r?")  # (trailing blanks: as warcio)
_ARC_V2 = re.compile(_ARC_URL + rb" (\S+) (\d{12,17}) (\S*) \S+ \S+ \S+ \S+ \S+ (\d+)[ \t]*\r?")
_ARC_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*:")
_ARC_HTTP = re.compile(rb"(?i)https?:")
_ARC_RUN = 4  # CR/LF bytes allowed between a record's block and the next header line
_ARC_NAME = re.compile(r"(?i)\.arc(\.(gz|bz2|zst|zstd|xz))?$")


def _arc_line(buf: bytes | bytearray, at: int = 0) -> re.Match[bytes] | None:
    """The ARC header line at ``at`` (URL, IP, date, content type, length), or None."""
    end = buf.find(b"\n", at, at + _MAX_HEADER)
    if end < 0:
        return None
    return _ARC_V2.fullmatch(buf, at, end) or _ARC_V1.fullmatch(buf, at, end)


def _arc_header(buf: bytes | bytearray, at: int = 0) -> tuple[int, int] | None:
    """(header line length incl. its "\n", Archive-length) of an ARC record at ``at``, or None."""
    match = _arc_line(buf, at)
    return None if match is None else (match.end() + 1 - at, int(match.group(5)))


def _arc_ends(buf: bytes | bytearray, end: int, eof: bool) -> bool:
    """Whether a block ending at ``end`` is followed by the next header line, or the stream's end.

    Between them a "\n" as a rule, none in some writers' files (warcio allows both), at most ``_ARC_RUN``
    CR/LF bytes. ``buf`` holds at least ``_ARC_RUN + _MAX_HEADER`` bytes past ``end`` unless ``eof``. A next
    header cut by the stream's end is taken as a start (it is counted as truncated in its turn)."""
    after = _CRLF_RUN.match(buf, end, end + _ARC_RUN).end()
    if after >= len(buf):
        return eof
    if _arc_line(buf, after) is not None:
        return True
    return eof and after > end and buf.find(b"\n", after) < 0 and _ARC_SCHEME.match(buf, after) is not None


def _arc_url(buf: bytes | bytearray, at: int = 0) -> str:
    match = _arc_line(buf, at)
    return match.group(1).decode("utf-8", "replace")[:200] + ": " if match else ""


def _arc_frame(read: Callable[[int], bytes], limit: int | None,
               max_record: int) -> Iterator[tuple[int, bytes] | _Damage]:
    """``_frame`` for ARC: cut a decompressed ARC stream into records (header line + block).

    A record is good when its ``Archive-length`` ends at the next header line or the end of the stream
    (``_arc_ends``). With a ``limit`` it stops at the first good record starting at or after it behind a run
    of CR/LF bytes holding a "\n" (so behind a line end): the record ``_find_plain_arc`` starts the next
    split with, by the same rules."""
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    eof = False
    line_end = True  # whether the CR/LF run just before buf[0] holds a "\n" (a stream starts at a line end)

    def fill(n: int) -> None:
        nonlocal eof
        while len(buf) < n and not eof:
            chunk = read(_CHUNK)
            if chunk:
                buf.extend(chunk)
            else:
                eof = True

    def drop(n: int) -> None:
        nonlocal base, line_end
        if n:
            k = n
            while k and buf[k - 1] in b"\r\n":  # the CR/LF bytes the dropped stretch ends with
                k -= 1
            line_end = buf.find(b"\n", k, n) >= 0 or (k == 0 and line_end)
        del buf[:n]
        base += n

    def resync(after: int) -> bool:
        """Drop bytes up to the next line after ``after`` that parses as an ARC header; False at end of stream."""
        while True:
            fill(after + 1 + _MAX_HEADER)
            i = buf.find(b"\n", after)
            if i < 0:
                drop(len(buf))
                if eof:
                    return False
                after = 0
                continue
            fill(i + 1 + _MAX_HEADER)
            if _arc_line(buf, i + 1) is not None:
                drop(i + 1)
                return True
            after = i + 1

    while True:
        fill(_MAX_HEADER)
        drop(_CRLF_RUN.match(buf).end())
        if not buf:
            return
        parsed = _arc_header(buf)
        if parsed is None:
            cut = eof and buf.find(b"\n") < 0 and _ARC_SCHEME.match(buf) is not None
            yield _Damage("truncated_record" if cut else "corrupt_record", base, None, "no valid ARC header line here")
            if not resync(0):
                return
            continue
        head_len, length = parsed
        if length > max_record:
            yield _Damage("corrupt_record", base, None, f"{_arc_url(buf)}Archive-length {length} over the limit")
            if not resync(head_len - 1):
                return
            continue
        total = head_len + length
        fill(total + _ARC_RUN + _MAX_HEADER)
        if len(buf) < total:  # (past ``limit`` too: no good record, so the next split does not start here)
            yield _Damage("truncated_record", base, None, f"{_arc_url(buf)}stream ends {total - len(buf)} bytes "
                          f"before the record's Archive-length {length}")
            if not resync(head_len - 1):  # a length too large hides the records after it: look for them
                return
            continue
        if not _arc_ends(buf, total, eof):
            yield _Damage("corrupt_record", base, None,
                          f"{_arc_url(buf)}Archive-length {length} does not end at a record boundary")
            if not resync(head_len - 1):
                return
            continue
        if limit is not None and base >= limit and line_end:
            return  # the next split starts here
        yield base, bytes(memoryview(buf)[:total])
        drop(total)


def _is_arc_member(head: bytes) -> bool:
    """Whether ``head`` starts a gzip member whose content starts with an ARC header line."""
    if not head.startswith(_GZIP_MAGIC):
        return False
    try:
        out = zlib.decompressobj(31).decompress(head, _MAX_HEADER + 1)
    except zlib.error:
        return False
    return _arc_line(out, _CRLF_RUN.match(out).end()) is not None


def _arc_checked(raw: IO[bytes], at: int, max_record: int) -> bool:
    """Whether a good ARC record (``_arc_frame``'s rule) starts at file offset ``at``."""
    raw.seek(at)
    parsed = _arc_header(raw.read(_MAX_HEADER + 1))
    if parsed is None or parsed[1] > max_record:
        return False
    raw.seek(at + parsed[0] + parsed[1] - 1)  # the block's last byte (or the header's "\n"), then what follows
    want = 1 + _ARC_RUN + _MAX_HEADER
    tail = raw.read(want)
    return bool(tail) and _arc_ends(tail, 1, len(tail) < want)


def _find_plain_arc(raw: IO[bytes], start: int, max_record: int) -> int | None:
    """Offset of the first good ARC record at or after ``start`` that follows a line end, or None."""
    pos = max(start - 1, 0)
    while True:
        raw.seek(pos)
        chunk = raw.read(_CHUNK + _MAX_HEADER)
        i = chunk.find(b"\n")
        while i >= 0:
            at = _CRLF_RUN.match(chunk, i + 1).end()
            if pos + at >= start and _arc_line(chunk, at) is not None and _arc_checked(raw, pos + at, max_record):
                return pos + at
            i = chunk.find(b"\n", i + 1)
        if len(chunk) < _CHUNK + _MAX_HEADER:
            return None
        pos += _CHUNK


def _is_arc(content: bytes, path: str) -> bool:
    """Whether a file is ARC, from its first decompressed bytes (a WARC or an ARC header), else from its name."""
    if content.startswith(b"WARC/"):
        return False
    if _arc_line(content, _CRLF_RUN.match(content).end()) is not None:
        return True
    return _ARC_NAME.search(basename(path)) is not None


def _sniff_arc(raw: IO[bytes], split: Split, gz: bool) -> tuple[bool, bool]:
    """(``_is_arc`` on the file's start, whether a plain ARC's records are glued), once per split, so WARC
    records pay nothing for it.

    Glued: the first record is not followed by a "\n" (some writers left it out). Such a file is read in one
    split: a block's last line glued to the next header line can read as a header line of its own, with the
    same length and block, so a split could not tell where records start. A split of a remote file past its
    start asks for these bytes alone: through ``raw`` they would fill its read-ahead cache with a block
    (5-50 MB) at the file's start that the split never reads."""

    def bytes_at(offset: int, size: int) -> bytes:
        if split.start and is_remote(split.path):
            fs, path = fsspec.core.url_to_fs(split.path)
            return fs.cat_file(path, offset, offset + size)
        raw.seek(offset)
        return raw.read(size)

    head = bytes_at(0, 1 << 16)
    if gz and head.startswith(_GZIP_MAGIC):
        inflate = zlib.decompressobj(31)
        try:
            out = inflate.decompress(head, 256)  # "WARC/" settles it; an ARC header line may need more
            if not out.startswith(b"WARC/") and not inflate.eof:
                out += inflate.decompress(inflate.unconsumed_tail, _MAX_HEADER + 1 - len(out))
        except zlib.error:
            out = b""
        return _is_arc(out, split.path), False
    if not _is_arc(head, split.path):
        return False, False
    at = _CRLF_RUN.match(head).end()
    parsed = _arc_header(head, at)
    if parsed is None:
        return True, False
    end = at + parsed[0] + parsed[1]
    return True, (head[end:end + 1] if end < len(head) else bytes_at(end, 1)) not in (b"\n", b"\r", b"")


def _arc_to_warc(record: bytes) -> bytes:
    """The WARC/1.0 record an ARC record stands for, as Heritrix writes the same capture.

    ``filedesc://`` -> warcinfo; http(s) -> a response of ``application/http`` (the block is the HTTP
    response as received); any other scheme (dns:, ftp:) -> a response of the ARC's content type, as
    Heritrix writes its dns: records. The date keeps its first 14 digits (ARC dates are UTC). ARC has no
    record id: it is the SHA-1 of the record's bytes (header line included), so it does not depend on the
    file's name, place, compression or splits."""
    match = _arc_line(record)
    assert match is not None  # _arc_frame yields only records whose header line parses
    url, ip, date, content_type = match.group(1, 2, 3, 4)
    if url.startswith(b"filedesc:"):
        rtype, content_type = b"warcinfo", b"text/plain"
    elif _ARC_HTTP.match(url):
        rtype, content_type = b"response", b"application/http; msgtype=response"
    else:
        rtype = b"response"
    d = date[:14].ljust(14, b"0")
    block = memoryview(record)[match.end() + 1:]
    digest = base64.b32encode(hashlib.sha1(record).digest())
    head = (b"WARC/1.0\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:arc:sha1:%s>\r\n"
            b"WARC-Date: %s-%s-%sT%s:%s:%sZ\r\nWARC-Target-URI: %s\r\nWARC-IP-Address: %s\r\n"
            b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (rtype, digest, d[:4], d[4:6], d[6:8], d[8:10], d[10:12], d[12:14], url, ip, content_type, len(block)))
    return b"".join((head, block))


def _as_warc(units: Iterator[tuple[int | None, bytes] | _Damage]) -> Iterator[tuple[int | None, bytes] | _Damage]:
    for unit in units:
        yield unit if isinstance(unit, _Damage) else (unit[0], _arc_to_warc(unit[1]))


def _gzip_units(raw: IO[bytes], split: Split, max_record: int,
                arc: bool = False) -> Iterator[tuple[int, bytes] | _Damage]:
    """Records of the gzip members starting in ``split``; offsets are the members' file offsets.

    ``arc``: the members hold ARC records (``_arc_frame``; no whole-member fast path, which frames WARC)."""
    is_member, frame = (_is_arc_member, _arc_frame) if arc else (_is_member, _frame)
    if split.start == 0:
        raw.seek(0)
        head = raw.read(1 << 16)
        if not head:
            return
        pos: int | None = 0
        if not is_member(head):
            name = "an ARC" if arc else "a WARC"
            plain = " (plain file named .gz?)" if head.startswith(b"WARC/") or _arc_line(head) else ""
            yield _Damage("corrupt_record", 0, None, f"not a gzip member holding {name} record{plain}")
            pos = _find_member(raw, 1, is_member)
    else:
        pos = _find_member(raw, split.start, is_member)
    rest: bytes | memoryview = b""
    if pos is not None:
        raw.seek(pos)
    while pos is not None and (split.end is None or pos < split.end):
        if not rest:
            rest = raw.read(_CHUNK)  # what _GzipMember would read first; it takes these bytes as its start
        whole = None if arc else _whole_member(rest, max_record)
        if whole is not None:
            for record in whole[0]:
                yield pos, record
            pos += whole[1]
            rest = memoryview(rest)[whole[1]:]
            if len(rest) < len(_GZIP_MAGIC):
                rest = bytes(rest) + raw.read(_CHUNK)
                if not rest:
                    return
            if bytes(rest[: len(_GZIP_MAGIC)]) != _GZIP_MAGIC:
                yield _Damage("corrupt_record", pos, None, "bytes after a gzip member are not another gzip member")
                pos = _find_member(raw, pos + 1, is_member)
                rest = b""
                if pos is not None:
                    raw.seek(pos)
            continue
        member = _GzipMember(raw, rest)
        for item in frame(member.read, None, max_record):
            if isinstance(item, _Damage):
                if member.error and item.reason == "truncated_record":
                    item = _Damage(member.error[0], pos, item.record, member.error[1])
                    member.error = None
                else:
                    item.offset = pos
            else:
                item = (pos, item[1])
            yield item
        while not member.done:  # framing ends at the member's end; this only guards the invariant
            member.read(_CHUNK)
        if member.error or member.length is None:
            if member.error:
                yield _Damage(member.error[0], pos, None, member.error[1])
            pos = _find_member(raw, pos + 1, is_member)
            rest = b""
            if pos is not None:
                raw.seek(pos)
            continue
        pos += member.length
        rest = member.rest
        if len(rest) < len(_GZIP_MAGIC):
            rest = bytes(rest) + raw.read(_CHUNK)
            if not rest:
                return
        if bytes(rest[: len(_GZIP_MAGIC)]) != _GZIP_MAGIC:  # trailing garbage or a damaged member header
            yield _Damage("corrupt_record", pos, None, "bytes after a gzip member are not another gzip member")
            pos = _find_member(raw, pos + 1, is_member)
            rest = b""
            if pos is not None:
                raw.seek(pos)


def _plain_units(raw: IO[bytes], split: Split, max_record: int, arc: bool = False,
                 glued: bool = False) -> Iterator[tuple[int, bytes] | _Damage]:
    """Records starting in ``split`` of a plain file; a glued ARC (``_sniff_arc``) is read whole by its first."""
    if glued and split.start:
        return
    if split.start == 0:
        start: int | None = 0
    else:
        start = _find_plain_arc(raw, split.start, max_record) if arc else _find_plain(raw, split.start)
    if start is None:
        return
    raw.seek(start)  # also rewinds the emptiness probe of _units
    limit = None if split.end is None or glued else split.end - start
    for item in (_arc_frame if arc else _frame)(raw.read, limit, max_record):
        if isinstance(item, _Damage):
            item.offset = None if item.offset is None else item.offset + start
            yield item
        else:
            yield start + item[0], item[1]


def _compressed_units(path: str, max_record: int) -> Iterator[tuple[int | None, bytes] | _Damage]:
    """Records of a .bz2/.zst WARC or ARC; a damaged or cut stream ends it as one ``corrupt_compression``."""
    damage: list[str] = []

    with open_input(path) as stream:
        def read(size: int) -> bytes:
            if damage:
                return b""
            try:
                return stream.read(size)
            except Exception as exc:  # noqa: BLE001 - only damaged archives are swallowed
                if not is_damaged_archive(exc):
                    raise
                damage.append(f"{type(exc).__name__}: {exc}")
                return b""

        first = [read(_CHUNK)]  # the format is told from the stream's start, then framing reads it again

        def framed_read(size: int) -> bytes:
            return first.pop() if first else read(size)

        arc = _is_arc(first[0], path)
        reported = False
        for item in (_arc_frame if arc else _frame)(framed_read, None, max_record):
            if isinstance(item, _Damage):
                item.offset = None  # an offset in the decompressed stream is no file offset
                if damage and item.reason == "truncated_record":  # cut by the damage, not by its length
                    item.reason, item.detail, reported = "corrupt_compression", damage[0], True
                yield item
            else:
                yield None, _arc_to_warc(item[1]) if arc else item[1]
    if damage and not reported:
        yield _Damage("corrupt_compression", None, None, damage[0])


def _units(split: Split, options: Options, tally: Tally) -> Iterator[tuple[int | None, bytes] | _Damage]:
    compression = compression_of(split.path)
    with open_raw(split.path) as raw:
        if split.start == 0 and not raw.read(1):
            tally.skip("empty_file", split.path, None, "the file is empty")
            return
        if compression in (None, "gzip"):
            arc, glued = _sniff_arc(raw, split, compression == "gzip")  # once per split: WARC records pay nothing
            if compression == "gzip":
                units = _gzip_units(raw, split, options.max_record_bytes, arc)
            else:
                units = _plain_units(raw, split, options.max_record_bytes, arc, glued)
            yield from _as_warc(units) if arc else units
            return
    yield from _compressed_units(split.path, options.max_record_bytes)


# ---------------------------------------------------------------------------------------------------
# Records -> documents
# ---------------------------------------------------------------------------------------------------


def _title(page: str) -> str | None:
    match = _TITLE.search(page, 0, 1 << 16)
    if not match:
        return None
    title = " ".join(html_lib.unescape(match.group(1)).split())
    return title or None


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
    parsed again; only records that parsed that way pay for it."""
    record = WarcRecord.from_bytes(raw)
    if record.record_type == WarcRecordType.unknown or not record.content_length:
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
    """Byte ranges for gzip and plain WARC/ARC files; one split for .bz2/.zst (not seekable)."""
    if compression_of(path) in (None, "gzip"):
        return byte_ranges(path, size, options.split_bytes)
    return whole_file(path, size, options)


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    """Documents of the records starting in ``split``; bad records are skipped with a reason.

    Raises only for I/O errors (e.g. a missing file), naming the file.
    """
    keys: set[str] = set()  # record ids of the documents yielded so far
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
            if doc is not None:
                if doc.key in keys:
                    # A WARC-Record-ID repeated in the file (a writer's bug, or a record copied twice): the same
                    # key would give two documents one id. The later one is keyed by its offset too and counted;
                    # its text is kept, and exact dedup removes it if it is a true copy.
                    tally.add("duplicate_record_id")
                    doc.key = doc.meta["record"] = f"{doc.key}@{unit[0]}"
                keys.add(doc.key)
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
