"""ARC, the Internet Archive's format before WARC (v1 and v2: Common Crawl 2008-2012, old IA holdings):
framing, and the WARC record each ARC record stands for.

The format is told from the file's first bytes (else its name), once per split (``_sniff_arc``), so WARC
records never pay for it. Records (a header line ``URL IP date type length``, then the block) are framed by
the WARC framing's rules (pipeline.readers.warc_framing), a member or a plain record starting a split when its
header line parses and its length ends at the next one (a plain file whose records have no "\n" between them
is one split: ``_sniff_arc``), and each is turned into the WARC record Heritrix writes for the same capture
(``_arc_to_warc``): documents, counts and skips are then those of that WARC. The ``filedesc://`` block counts
as ``ignored.warcinfo``; ids, which ARC lacks, are the SHA-1 of the record's bytes (``<urn:arc:sha1:...>``),
the same in any file, split or compression. FastWARC cannot read ARC; warcio can, and the tests check our
counts against it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from typing import IO, Callable, Iterator

import fsspec

from contracts.fsio import basename, is_remote
from pipeline.readers.base import Split
from pipeline.readers.warc_framing import _CHUNK, _CRLF_RUN, _GZIP_MAGIC, _MAX_HEADER, _Damage

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

