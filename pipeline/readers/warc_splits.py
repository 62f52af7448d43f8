"""The records of one split of a WARC or ARC file: gzip members, plain files, .bz2/.zst streams.

A record belongs to the split in which it starts. A split with ``start > 0`` begins at the first gzip member
at or after ``start`` whose decompressed bytes begin with ``WARC/`` (``.warc.gz``; an ARC header line for
``.arc.gz``) and that the next 64 kB of members follow without a break (not one of a crawled ``.warc.gz``
stored inside a record: ``_split_start``), or at the first ``WARC/`` header that follows a blank line (plain
``.warc``; a good ARC record after a line end for plain ``.arc``), and reads every record starting before
``end``, even past ``end``, and what lies between its last record and the next split's start (damage, members
holding no record: ``_gzip_units``), so each is counted once.
``.warc.zst`` splits are aligned to zstd frames as these are to gzip members (pipeline.readers.warc_zstd);
``.bz2`` files, ``.arc.zst`` files and zstd files holding ARC records cannot be cut and are read whole.
"""

from __future__ import annotations

import io
import zlib
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from contracts.accounting import Tally
from contracts.fsio import basename, compression_of, is_damaged_archive, open_input, open_raw, zstd_dictionary
from pipeline.readers.arc import (_ARC_NAME, _arc_frame, _arc_line, _arc_to_warc, _as_warc, _find_plain_arc,
                                  _is_arc, _is_arc_member, _sniff_arc)
from pipeline.readers.base import Split
from pipeline.readers.warc_framing import (_CHUNK, _FAST_ERRORS, _FEED, _GZIP_MAGIC, _PROBE, _Damage, _fast_zlib,
                                           _find_member, _find_plain, _frame, _GzipMember, _is_member,
                                           _whole_member)
from pipeline.readers.warc_zstd import _zstd_units

if TYPE_CHECKING:
    from pipeline.readers.commoncrawl import Options


# Raw bytes a split's first member must be vouched for over (``_split_start``): more than one stored deflate
# block (at most 65,535 bytes and a 5-byte header), the only place a member's compressed data holds bytes verbatim.
_VOUCH = (1 << 16) + 64


def _member_length(head: bytes | memoryview, more: Callable[[], bytes],
                   zlib_module: Any) -> tuple[int | None, bytes | memoryview]:
    """(compressed length of the gzip member at the start of ``head``, the raw bytes read past its end): inflated
    whole, its CRC and length checked; ``more`` reads on after ``head``. Length -1 when the file ends inside the
    member, None when it is no whole member."""
    inflate = zlib_module.decompressobj(31)
    pending, at, fed = head, 0, 0
    try:
        while not inflate.eof:
            data = inflate.unconsumed_tail
            if not data:
                if at >= len(pending):
                    pending, at = more(), 0
                    if not pending:
                        return -1, b""
                data = memoryview(pending)[at:at + _FEED]
                at += len(data)
                fed += len(data)
            inflate.decompress(data, _CHUNK)
    except zlib.error:
        return None, b""
    unused = len(inflate.unused_data)
    return fed - unused, memoryview(pending)[at - unused:]  # a view: no copy of the chunk's rest per member


def _chain_holds(raw: IO[bytes], at: int, span: int = _VOUCH) -> tuple[bool, list[int]]:
    """Whether gzip members follow one another from ``at``, each inflating whole (its CRC and length checked),
    until one ends ``span`` bytes past ``at`` or the file ends after one; and the offsets of the members walked.
    A member cut by the file's end vouches for nothing: the split before reads up to the next split's start,
    so refusing a start only moves work to it.

    Why: a record's payload may itself be a gzip stream holding WARC records (a crawled ``.warc.gz``), and
    deflate stores such incompressible bytes verbatim, in blocks of at most 65,535 bytes. Its members then show
    in the raw file as WARC members inside the member that holds them. Read from the raw file, a chain of such
    members breaks at the next stored block's header or at the end of the payload, within ``_VOUCH`` bytes: the
    bytes there are no gzip member, or inflating runs into them. A chain of the file's own members holds.
    Inflated with ISA-L where installed; a member it refuses is inflated again with zlib (as ``_GzipMember``
    does), so the answer is zlib's."""

    def more() -> bytes:
        return raw.read(_CHUNK)

    raw.seek(at)
    pos, rest, walked = at, memoryview(more()), []
    while pos < at + span:
        if len(rest) < len(_GZIP_MAGIC):
            rest = bytes(rest) + more()
            if len(rest) < len(_GZIP_MAGIC):
                return not rest, walked  # the file's end after a whole member (stray bytes are no member)
        if bytes(rest[: len(_GZIP_MAGIC)]) != _GZIP_MAGIC:
            return False, walked
        walked.append(pos)
        try:
            length, rest = _member_length(rest, more, _fast_zlib or zlib)
        except _FAST_ERRORS:
            raw.seek(pos)
            length, rest = _member_length(b"", more, zlib)
        if length is None:
            return False, walked
        if length < 0:  # cut by the file's end: a chain of stored members that runs into bytes they do not
            return False, walked  # frame can inflate garbage without an error up to there (no CRC reached)
        pos += length
    return True, walked


def _split_start(raw: IO[bytes], start: int, is_member: Callable[[bytes], bool]) -> int | None:
    """Where the split starting at byte ``start`` begins reading: the first member at or after ``start`` that
    ``is_member`` takes (it holds a record) and whose chain holds (``_chain_holds``: not a member of a gzip
    payload stored inside another member), or None. The split before reads up to this very offset (see
    ``_gzip_units``), so the two agree whatever the payloads hold. A member on a chain that broke is not tried
    again: its own chain breaks at the same place, closer to it."""
    pos, broken = start, set()
    while True:
        found = _find_member(raw, pos, is_member)
        if found is None:
            return None
        if found not in broken:
            holds, walked = _chain_holds(raw, found)
            if holds:
                return found
            broken.update(walked)
        pos = found + 1


def _gzip_units(raw: IO[bytes], split: Split, max_record: int,
                arc: bool = False) -> Iterator[tuple[int, bytes] | _Damage]:
    """Records of the gzip members starting in ``split``; offsets are the members' file offsets.

    Past ``end`` the split reads on through members up to the offset where the next split starts
    (``_split_start`` at ``end``, found once): members that hold no record (``is_member`` refuses them:
    damage, an unrelated gzip stream glued in) and members whose chain breaks soon after are skipped by that
    split, so they are counted here, once. The split before owns them, not the one whose range they start in,
    because only the split before reaches them along the chain of members: the later one, scanning from its
    ``start``, cannot tell a member's start from gzip magic bytes inside the compressed data (or a stored gzip
    payload) of a member that began before it, and would count such bytes as a member too.

    ``arc``: the members hold ARC records (``_arc_frame``; no whole-member fast path, which frames WARC)."""
    is_member, frame = (_is_arc_member, _arc_frame) if arc else (_is_member, _frame)
    if split.start == 0:
        raw.seek(0)
        head = raw.read(_PROBE)
        if not head:
            return
        pos: int | None = 0
        if not is_member(head):
            name = "an ARC" if arc else "a WARC"
            plain = " (plain file named .gz?)" if head.startswith(b"WARC/") or _arc_line(head) else ""
            yield _Damage("corrupt_record", 0, None, f"not a gzip member holding {name} record{plain}")
            pos = _find_member(raw, 1, is_member)
    else:
        pos = _split_start(raw, split.start, is_member)
    rest: bytes | memoryview = b""
    if pos is not None:
        raw.seek(pos)
    following: int | None = None  # where the next split starts, found once we pass ``end``
    looked = False
    while pos is not None:
        if not rest:
            rest = raw.read(_CHUNK)  # what _GzipMember would read first; it takes these bytes as its start
        if split.end is not None and pos >= split.end:
            if not looked:
                looked, here = True, raw.tell()
                following = _split_start(raw, split.end, is_member)
                raw.seek(here)
            # This chain of members meets that offset exactly: a resync (_find_member below) stops at or before
            # it, as at any member ``is_member`` takes, and it lies inside no member read whole here unless 64 kB
            # of members held inside that member (what _chain_holds rules out); pos past it would be that case.
            if following is not None and pos >= following:
                return  # the next split starts here
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
    """Records starting in ``split`` of a plain file; a glued ARC (``_sniff_arc``) is read whole by its first.

    Not guarded as gzip starts are (``_split_start``): a crawled plain WARC stored as a record's payload frames
    like the file's own records, up to and into the next one, so a split starting inside it reads its records
    (one pass does not). Nothing local tells them apart; such files are rare (web archives are gzip)."""
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
        if compression == "zstd" and not _zstd_arc(split, raw):
            yield from _zstd_units(raw, split, options.max_record_bytes)
            return
    yield from _compressed_units(split.path, options.max_record_bytes)


def _zstd_arc(split: Split, raw: IO[bytes]) -> bool:
    """Whether a zstd file holds ARC records (read whole, by its first split: ARC records are not framed by
    ``_zstd_units``); by its name for the others, whose ranges hold no WARC record frame to start at anyway.
    Read from the split's open ``raw`` (its first frame, with the file's dictionary, at most 4,096 bytes out):
    opening the file again read a remote file twice, a whole second download on a server without ranges."""
    if split.start:
        return not zstd_splits(split.path)
    import zstandard  # a dependency; imported here as contracts.fsio imports it

    try:
        raw.seek(0)
        dictionary, head = zstd_dictionary(raw.read)
        decompressor = zstandard.ZstdDecompressor(dict_data=dictionary) if dictionary else zstandard.ZstdDecompressor()
        with decompressor.stream_reader(io.BytesIO(head + raw.read(1 << 16))) as stream:
            text = stream.read(4096)  # bounded output: a bomb's first frame yields no more than this
    except zstandard.ZstdError:  # a damaged start is counted by _zstd_units
        return False
    finally:
        raw.seek(0)
    return _is_arc(text, split.path)


def zstd_splits(path: str) -> bool:
    """Whether a zstd file is planned in byte ranges: a WARC one by its name (``.warc.zst``)."""
    name = basename(path).lower()
    return compression_of(path) == "zstd" and ".warc." in name and not _ARC_NAME.search(name)

