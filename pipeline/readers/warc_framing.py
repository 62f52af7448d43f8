"""WARC framing: decompressed or plain bytes -> (offset, one WARC record's bytes), or ``_Damage``.

Framing is ours, parsing is FastWARC's. We find record boundaries ourselves (gzip members with ``zlib``,
``WARC/`` headers and ``Content-Length`` in the decompressed bytes) because that is what byte-range
splits and damage recovery need: FastWARC's iterator cannot start at an arbitrary offset, and on a
truncated or mis-sized record it either stops the whole file or returns a short payload without saying
so. Each framed record is then parsed with ``fastwarc.WarcRecord.from_bytes`` (pipeline.readers.warc_records),
about 1 µs. How splits use these pieces: pipeline.readers.warc_splits.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Iterator

try:  # ISA-L's inflate (python-isal, Intel's ISA-L behind zlib's API): see _GzipMember
    from isal import isal_zlib as _fast_zlib
except ImportError:
    _fast_zlib = None
_FAST_ERRORS: tuple[type[Exception], ...] = (_fast_zlib.error,) if _fast_zlib is not None else ()

_CHUNK = 1 << 18
_FEED = 1 << 15  # compressed bytes handed to one inflate call (~160 kB out on these files, under a read's size)
_MAX_HEADER = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_PROBE = 1 << 16  # raw bytes from a member's start that ``_is_member`` decides on
# A Content-Length at most this short of its block is read as it says (see _frame). The archives seen are 1 and 2
# bytes short; a miscount by more is not told from a wrong length (the bad-input corpus's 10 bytes): damage.
_SHORT_GAP = 8
_BOUNDARY = b"\nWARC/"  # the end of a blank line, then the next record's header: see _boundary
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r*$")  # (\r*: see _CR_BLANK)
_RECORD_ID = re.compile(rb"(?im)^warc-record-id:[ \t]*(\S+)")
_CRLF_RUN = re.compile(rb"[\r\n]*")
# A blank line of CRs (the header's end) in a file whose CRLFs became CR CR LF (a CRLF file put through a
# LF -> CRLF conversion: pywb ships one); FastWARC reads such a header once it is in CRLF lines (_parsed)
_CR_BLANK = re.compile(rb"\n\r*\n")


@dataclass
class _Damage:
    """A stretch of input that is not a usable record; becomes one ``tally.skip``."""

    reason: str
    offset: int | None
    record: str | None
    detail: str


def _header(buf: bytes | bytearray, at: int = 0) -> tuple[int, int] | None:
    """(header length incl. the blank line, Content-Length) of a WARC header at ``at``, or None."""
    if buf[at : at + 5] != b"WARC/":
        return None
    # CR CR LF lines (_CR_BLANK): "WARC/1.0\r\r\n"; a CRLF header pays one byte's look ("WARC/1.0\r\n" has a LF
    # there; a 9-character version such as WARC/0.17 a CR, and then a look at the version line's end)
    first = buf.find(b"\n", at + 5, at + 16) if len(buf) > at + 9 and buf[at + 9] == 13 else -1
    if first >= 0 and buf[first - 2 : first] == b"\r\r":
        cr = _CR_BLANK.search(buf, first, at + _MAX_HEADER)
        end = lf = -1
    else:
        cr = None
        end = buf.find(b"\r\n\r\n", at, at + _MAX_HEADER)
        # Some writers end header lines with a bare LF (the spec says CRLF): the first blank line ends the header
        # whichever it is. Searched only up to the CRLF one, a few hundred bytes, so CRLF headers pay little.
        lf = buf.find(b"\n\n", at, end if end >= 0 else at + _MAX_HEADER)
    if cr is not None:
        head = buf[at:cr.start() + 1]
        blank = cr.end()
    elif lf >= 0:
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
    blank line (a CR/LF run) followed by the next ``WARC/`` header or the end of the stream, or at most
    ``_SHORT_GAP`` bytes before one (then those bytes follow it as a ``short_content_length`` stretch);
    otherwise it is damage, and framing resumes at the next record boundary after its header.
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

    def short_by(end: int) -> int:
        """How many bytes (1 to ``_SHORT_GAP``) lie between ``end`` and the CR/LF run before the next valid
        record header or the stream's end, or -1."""
        fill(end + _SHORT_GAP + 8 + _MAX_HEADER)
        i = _boundary(buf, end)
        stop = i if i >= 0 else len(buf) if eof else -1
        if stop < 0:
            return -1
        gap = len(bytes(buf[end:min(stop, end + _SHORT_GAP + 1)]).rstrip(b"\r\n"))
        if not 0 < gap <= _SHORT_GAP or _CRLF_RUN.match(buf, end + gap).end() != stop:
            return -1
        if i >= 0:
            fill(i + _MAX_HEADER)
            if not _header(buf, i):
                return -1
        return gap

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
        # The blank lines after a block are two CRLFs by the spec; writers and hand edits leave more or fewer
        # (pywb's sample WARCs: five CR/LF bytes after a page): a run of any length, as warcio reads it.
        after = _CRLF_RUN.match(buf, total).end()
        while after + 5 > len(buf) and not eof:
            fill(after + 5)
            after = _CRLF_RUN.match(buf, after).end()
        if after < len(buf) and buf[after : after + 5] != b"WARC/"[: len(buf) - after]:
            gap = short_by(total)
            if gap < 0:
                yield _Damage("corrupt_record", base, _record_id(buf),
                              f"Content-Length {length} does not end at a record boundary")
                if not resync(head_len - 4):
                    return
                continue
            # A Content-Length a few bytes short of the block (a writer's miscount, an edit: warcio's sample of it
            # is 2 bytes short of a gzip body, pywb's 1 byte of a request): the record is read as long as it
            # says, as warcio and FastWARC read it, and the bytes left over are a counted stretch of their own.
            record_id = _record_id(buf)
            yield base, bytes(memoryview(buf)[:total])
            yield _Damage("short_content_length", base + total, record_id,
                          f"{gap} bytes between the end of the record's Content-Length {length} and the next record")
            drop(total + gap)
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
        after = _CRLF_RUN.match(buf, end).end()
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
            if is_member(raw.read(_PROBE)):
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

