"""The records of one byte-range split of a ``.warc.zst`` file, frame-aligned as ``.warc.gz`` splits are member-aligned.

IIPC's "Zstandard Compression for WARC Files" (ArchiveTeam's wget-at writes it) compresses each record as its own
zstd frame, after an optional dictionary frame at offset 0 (``contracts.fsio.zstd_dictionary``). A split with
``start > 0`` loads that dictionary, then begins at the first frame in [``start``, ``end``) that is a *split start*
(``_Walk.is_start``): it decodes to whole WARC records and nothing else (``_record_frame``), and the frames after it
do too for ``_ZVOUCH`` bytes (``_chain_holds``: not a frame of a ``.warc.zst`` stored in a record). A split reads
frame after frame from its start, every record in them, past ``end``, and stops at the first frame at or after
``end`` that is a split start: exactly where the next non-empty split begins (``_Walk.stops``). Each frame whose
bytes start with ``WARC/`` is framed on its own, as a gzip member is (``_Frames``). Offsets are frame offsets.

A file of one frame (the ``zstd`` CLI's default) or of frames cut anywhere (``pzstd``) has no split start past its
first frame (no frame decodes to whole records ending where it ends, but one that happens to match records exactly,
which is then a real boundary): its first split reads it all, the others read nothing. One case reads otherwise
than one stream would: a frame cut anywhere that happens to start at ``WARC/`` inside a record's block (a WARC
printed in a page) ends that record there (``truncated_record``) and frames the rest as records; whole and split
reads still agree.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import IO, Any, Callable, Iterator

from contracts.fsio import zstd_dictionary
from pipeline.readers.base import Split
from pipeline.readers.warc_framing import _CHUNK, _CRLF_RUN, _MAX_HEADER, _Damage, _frame, _header

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Raw bytes a split's first frame must be vouched for over (``_chain_holds``): more than one zstd block (at most
# 128 KiB and a 3-byte header): raw blocks, and the raw literals of compressed ones, hold payload bytes verbatim.
_ZVOUCH = (1 << 17) + 64
# zstd's densest block turns 4 input bytes into 128 KiB (32,768-fold): input is fed in slices sized from the last
# slice's ratio, so one decompress call yields about _TARGET bytes (as contracts.fsio._ZstdFrames feeds).
_TARGET, _MIN_FEED, _MAX_FEED, _FIRST_FEED = 1 << 20, 32, 1 << 16, 128  # the first slice: at most 4 MiB out


class _Cut(Exception):
    """The file ends inside a zstd frame."""


class _Input:
    """Raw bytes of a file from an offset, handed out in slices; ``pos`` is the file offset of the next one."""

    def __init__(self, raw: IO[bytes], pos: int) -> None:
        raw.seek(pos)
        self.raw, self.pos, self.buf, self.at = raw, pos, b"", 0

    def _more(self) -> bytes:
        self.raw.seek(self.pos + len(self.buf) - self.at)  # the file is shared: split-start tests seek it
        return self.raw.read(_CHUNK)

    def take(self, n: int) -> memoryview:
        if self.at >= len(self.buf):
            self.buf, self.at = self._more(), 0
        piece = memoryview(self.buf)[self.at:self.at + n]
        self.at += len(piece)
        self.pos += len(piece)
        return piece

    def back(self, n: int) -> None:
        """Give back the last ``n`` bytes taken (all from the last slice: a frame's unused input)."""
        self.at -= n
        self.pos -= n

    def peek(self, n: int) -> bytes:
        if len(self.buf) - self.at < n:
            self.buf, self.at = self.buf[self.at:] + self._more(), 0
        return self.buf[self.at:self.at + n]


def _frame_pieces(inp: _Input, new: Callable[[], Any]) -> Iterator[bytes]:
    """The decompressed bytes of the zstd frame at ``inp.pos``, in pieces of about ``_TARGET`` bytes at most;
    ``inp`` is left right after the frame. Raises ``ZstdError`` on bad data, ``_Cut`` if the file ends in it."""
    frame, feed = new(), _FIRST_FEED
    while True:
        piece = inp.take(feed)
        if not piece:
            raise _Cut
        out = frame.decompress(piece)
        if frame.eof:
            inp.back(len(frame.unused_data))
            if out:
                yield out
            return
        feed = max(_MIN_FEED, min(_MAX_FEED, int(_TARGET / max(len(out) / len(piece), 1.0))))
        if out:
            yield out


def _record_frame(inp: _Input, new: Callable[[], Any], max_record: int, errors: tuple) -> bool:
    """Whether the frame at ``inp.pos`` decodes whole to one or more whole WARC records (a header, its
    ``Content-Length`` of bytes, a CR/LF run) and nothing else, as IIPC's format writes a record; ``inp`` is
    left after the frame when it does. Only headers are kept: a record's block is counted, not held."""
    buf, skip, records = bytearray(), 0, 0
    try:
        for out in _frame_pieces(inp, new):
            view = memoryview(out)
            if skip:
                n = min(skip, len(view))
                skip -= n
                view = view[n:]
            if not view:
                continue
            buf += view
            while True:
                if records:
                    del buf[:_CRLF_RUN.match(buf).end()]
                if not buf:
                    break
                if buf[:5] != b"WARC/"[:len(buf)]:
                    return False
                parsed = _header(buf)
                if parsed is None:
                    if len(buf) > _MAX_HEADER:
                        return False
                    break
                if parsed[1] > max_record:
                    return False
                records += 1
                total = parsed[0] + parsed[1]
                if total <= len(buf):
                    del buf[:total]
                    continue
                skip = total - len(buf)
                buf.clear()
                break
    except (_Cut, *errors):
        return False
    return records > 0 and not skip and not buf


def _chain_holds(raw: IO[bytes], at: int, new: Callable[[], Any], max_record: int,
                 errors: tuple) -> tuple[bool, list[int]]:
    """Whether record frames (``_record_frame``) follow one another from ``at`` until one ends ``_ZVOUCH``
    bytes past ``at`` or the file ends after one; and the offsets of the frames walked.

    Why: a record's payload may be a ``.warc.zst`` (a crawled one). Incompressible, it is stored in raw blocks
    of at most 128 KiB, so its frames show in the raw file as record frames inside the frame holding them. Read
    from the raw file, a chain of them breaks within ``_ZVOUCH`` bytes: at the next block header of the frame
    around them (which lands inside a stored frame, or where the next frame's magic should be) or at the end of
    the payload. A chain of the file's own frames holds."""
    inp, walked = _Input(raw, at), []
    while inp.pos < at + _ZVOUCH:
        head = inp.peek(len(_ZSTD_MAGIC))
        if not head and walked:
            return True, walked  # the file's end after a whole frame
        if head != _ZSTD_MAGIC:
            return False, walked
        walked.append(inp.pos)
        if not _record_frame(inp, new, max_record, errors):
            return False, walked
    return True, walked


def _find_frame(raw: IO[bytes], start: int, end: int | None,
                take: Callable[[int], bool]) -> int | None:
    """The first offset in [``start``, ``end``) holding zstd's frame magic that ``take`` accepts, or None."""
    pos = start
    while end is None or pos < end:
        raw.seek(pos)
        chunk = raw.read(_CHUNK)
        if len(chunk) < len(_ZSTD_MAGIC):
            return None
        i = chunk.find(_ZSTD_MAGIC)
        while i >= 0 and (end is None or pos + i < end):
            if take(pos + i):
                return pos + i
            i = chunk.find(_ZSTD_MAGIC, i + 1)
        pos += len(chunk) - len(_ZSTD_MAGIC) + 1
    return None


class _Walk:
    """One split's pass over a ``.warc.zst``: the dictionary, the split-start tests, the frame walk."""

    def __init__(self, raw: IO[bytes], split: Split, max_record: int) -> None:
        import zstandard  # a dependency; imported here as contracts.fsio imports it

        self.raw, self.split, self.max_record = raw, split, max_record
        self.errors: tuple = (zstandard.ZstdError,)
        raw.seek(0)
        dictionary, _ = zstd_dictionary(raw.read)  # raises ZstdError: see _zstd_units
        self.first = 0 if dictionary is None else raw.tell()  # the offset of the file's first frame
        decompressor = zstandard.ZstdDecompressor(dict_data=dictionary) if dictionary is not None \
            else zstandard.ZstdDecompressor()
        self.new = decompressor.decompressobj

    def is_start(self, at: int) -> bool:
        return _chain_holds(self.raw, at, self.new, self.max_record, self.errors)[0]

    def start(self) -> int | None:
        """Where this split begins: the file's first frame for the first split; else the first split start
        in [``start``, ``end``) past the first frame (which the first split owns), or None (an empty split)."""
        if self.split.start == 0:
            return self.first
        broken: set[int] = set()

        def take(at: int) -> bool:
            if at in broken:  # on a chain that broke: its own chain breaks at the same place, closer to it
                return False
            holds, walked = _chain_holds(self.raw, at, self.new, self.max_record, self.errors)
            broken.update(walked)
            return holds

        return _find_frame(self.raw, max(self.split.start, self.first + 1), self.split.end, take)

    def resync(self, after: int) -> int | None:
        """The first record frame after damage at ``after`` (chains unchecked, as gzip's resync)."""
        def take(at: int) -> bool:
            return _record_frame(_Input(self.raw, at), self.new, self.max_record, self.errors)
        return _find_frame(self.raw, after + 1, None, take)

    def stops(self, at: int, first: int) -> bool:
        """Whether the walk stops before the frame at ``at``: a split start at or past ``end``, not this
        split's first frame. It is where the next non-empty split begins: that split takes the first split
        start in its range, and the walk checks every frame it reaches past ``end``; no split start lies
        inside a frame walked whole (``_chain_holds``), nor between damage and the record frame found after
        it (``resync``), so both find the same one."""
        end = self.split.end
        return end is not None and at >= end and at != first and self.is_start(at)


class _Frames:
    """The decompressed bytes of the frames walked from one offset, cut into *units* for framing: a unit starts
    at a frame whose bytes start with ``WARC/`` and runs on through frames that do not (a record's rest, in a
    file of frames cut anywhere). So a record frame is framed on its own, as a gzip member is: a record cut
    short inside its frame (a clipped capture) is counted without hiding the next frame's record. The walk
    ends at the file's end, where ``_Walk.stops`` says, or at a frame that fails to decode (``damage``)."""

    def __init__(self, raw: IO[bytes], walk: _Walk, pos: int) -> None:
        self.inp, self.walk, self.first = _Input(raw, pos), walk, pos
        self.starts: list[int] = []  # the stream offset where each frame walked starts ...
        self.offsets: list[int] = []  # ... and its file offset
        self.stream = 0  # decompressed bytes produced so far
        self.pieces: Iterator[bytes] | None = None
        self.pending = b""  # produced, not yet handed out
        self.unit_ends = False  # the next frame starts a unit: the current one ends before it
        self.done = False
        self.damage: tuple[int, str] | None = None
        self.unit_start = 0

    def _open(self) -> None:
        """Start the next frame, its first bytes into ``pending``; ``done`` at the walk's end."""
        at = self.inp.pos
        if not self.inp.peek(1) or self.walk.stops(at, self.first):
            self.done = True
            return
        self.starts.append(self.stream)
        self.offsets.append(at)
        self.pieces = _frame_pieces(self.inp, self.walk.new)
        head = b""
        while len(head) < 5 and self.pieces is not None:
            out = self._next()
            head += out if out is not None else b""
        if self.damage is not None:
            return  # what the damaged frame gave before failing is no record: the damage is counted for it
        if self.starts[-1] > self.unit_start and head.startswith(b"WARC/"):
            self.unit_ends = True
        self.pending = head

    def _next(self) -> bytes | None:
        """The current frame's next piece, None at its end (or at damage, with ``done`` set)."""
        assert self.pieces is not None
        try:
            out = next(self.pieces, None)
        except (_Cut, *self.walk.errors) as exc:
            detail = ("zstd input ends inside a frame (the file is cut)" if isinstance(exc, _Cut)
                      else f"ZstdError: {exc}")
            self.damage, self.done, self.pieces = (self.offsets[-1], detail), True, None
            return None
        if out is None:
            self.pieces = None
        else:
            self.stream += len(out)
        return out

    def units(self) -> Iterator[int]:
        """Stream offsets of the units, each handed out by ``read`` until it returns b""."""
        self.unit_start = self.stream
        while not self.done or self.pending:
            self.unit_ends = False
            yield self.unit_start
            if not self.unit_ends:
                return
            self.unit_start = self.starts[-1]

    def read(self, size: int) -> bytes:
        while True:
            if self.pending and not self.unit_ends:
                out, self.pending = self.pending, b""
                return out
            if self.unit_ends or self.done:
                return b""
            if self.pieces is None:
                self._open()
                continue
            out = self._next()
            if out:
                return out

    def file_offset(self, stream: int) -> int:
        """The file offset of the frame holding stream byte ``stream``."""
        return self.offsets[max(bisect_right(self.starts, stream) - 1, 0)] if self.offsets else self.first


def _zstd_units(raw: IO[bytes], split: Split, max_record: int) -> Iterator[tuple[int, bytes] | _Damage]:
    """Records of the zstd frames read by ``split`` (see the module's docstring); offsets are frame offsets.

    A frame that fails to decode, or that the file's end cuts, ends the stream there: a record it cuts is one
    ``corrupt_compression`` (else one is counted for the frame), and the walk resumes at the next record frame.
    A dictionary frame that fails to load is counted once, by the first split: no frame decodes without it."""
    import zstandard  # a dependency; imported here as contracts.fsio imports it

    try:
        walk = _Walk(raw, split, max_record)
    except zstandard.ZstdError as exc:
        if split.start == 0:
            yield _Damage("corrupt_compression", 0, None, f"ZstdError: {exc}")
        return
    pos = walk.start()
    while pos is not None:
        frames = _Frames(raw, walk, pos)
        reported = False
        for base in frames.units():
            for item in _frame(frames.read, None, max_record):
                if isinstance(item, _Damage):
                    if frames.damage and item.reason == "truncated_record" and not reported:
                        item.reason, item.detail, reported = "corrupt_compression", frames.damage[1], True
                        item.offset = frames.damage[0]
                    else:
                        item.offset = frames.file_offset(base + (item.offset or 0))
                    yield item
                else:
                    yield frames.file_offset(base + item[0]), item[1]
        if frames.damage is None:
            return
        damaged, detail = frames.damage
        if not reported:
            yield _Damage("corrupt_compression", damaged, None, detail)
        pos = walk.resync(damaged)
        if pos is not None and split.end is not None and pos >= split.end and walk.is_start(pos):
            return  # the next non-empty split starts here (see _Walk.stops)
