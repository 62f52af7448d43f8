"""Which split reads what (pipeline.readers.warc_splits): a gzip member that holds no WARC (or ARC) record and
starts at or after a split boundary is counted once, by one split, whatever the split size: the same documents
and counts as one pass over the file. Real shared files, with a foreign member glued in between two members."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.readers.commoncrawl import READER, Options
from tests.pipeline.readers.test_commoncrawl import IAH, assert_accounted, members, read_all
from tests.pipeline.readers.test_commoncrawl_arc import arc_file, keyed, responses

# A gzip stream that is not a record: an unrelated file glued in, or a member whose record header was damaged
# before it was compressed. One pass counts it as a corrupt_record.
FOREIGN = gzip.compress(b"not a WARC record: some other gzip stream glued into the file\n" * 40, mtime=0)


def _glue(path: Path, parts: list[bytes], at: int, member: bytes) -> int:
    """Write ``parts`` with ``member`` inserted before ``parts[at]``; its file offset."""
    path.write_bytes(b"".join(parts[:at] + [member] + parts[at:]))
    return sum(len(p) for p in parts[:at])


def _split_sizes(offset: int, before: int) -> list[int]:
    """Split sizes that put a boundary on the member (its first byte), just before it (inside the member before
    it, ``before`` bytes long), and a sweep of small sizes that cut the file at many places."""
    return [offset - d for d in (0, 1, 2, 17, before // 2, before - 1)] + [300, 499, 1000, 2345, 7000]


def _assert_one_pass(path: Path, sizes: list[int]) -> dict:
    whole, tally = read_all(path)
    assert_accounted(tally)
    size = path.stat().st_size
    for split_bytes in (s for s in sizes if s < size):  # (the sweep's larger sizes are one split of a small file)
        options = Options(split_bytes=split_bytes)
        assert len(READER.plan(str(path), size, options)) > 1
        docs, split_tally = read_all(path, options)
        assert keyed(docs) == keyed(whole), split_bytes
        assert split_tally.counts == tally.counts, split_bytes  # the foreign member counted once, not 0 or 2
    return dict(tally.counts)


@pytest.mark.parametrize("name, at", [("warcio-example.warc.gz", 3), ("dolma-sample-0000.warc.gz", 20)])
def test_a_foreign_gzip_member_after_a_boundary_is_counted_once(shared_data: Path, tmp_path: Path, name: str,
                                                                  at: int) -> None:
    parts = members((shared_data / "web" / name).read_bytes())
    path = tmp_path / name
    offset = _glue(path, parts, at, FOREIGN)
    counts = _assert_one_pass(path, _split_sizes(offset, len(parts[at - 1])))
    assert counts["skipped.corrupt_record"] == 1
    two = tmp_path / f"two-{name}"  # two foreign members in a row, and one at the file's end
    offset = _glue(two, parts[:at] + [FOREIGN] + parts[at:] + [FOREIGN], at, FOREIGN)
    counts = _assert_one_pass(two, _split_sizes(offset, len(parts[at - 1])))
    assert counts["skipped.corrupt_record"] == 3


def test_a_member_starting_with_a_blank_line_keeps_its_record(shared_data: Path, tmp_path: Path) -> None:
    """A member whose record follows a CR/LF run (one pass frames it as any record) does not start a split: the
    split before it reads it, as it reads any member holding no WARC header at its start, and keeps its record."""
    name = "dolma-sample-0000.warc.gz"
    parts = members((shared_data / "web" / name).read_bytes())
    at = next(i for i in range(20, len(parts)) if b"WARC-Type: response" in gzip.decompress(parts[i])[:200])
    blank = gzip.compress(b"\r\n" + gzip.decompress(parts[at]), mtime=0)
    path = tmp_path / name
    offset = _glue(path, parts[:at] + parts[at + 1:], at, blank)
    whole, _ = read_all(path)
    assert len(whole) == len(read_all(shared_data / "web" / name)[0])  # the record is read: one pass
    _assert_one_pass(path, _split_sizes(offset, len(parts[at - 1])))


def test_a_foreign_gzip_member_in_an_arc_is_counted_once(shared_data: Path, tmp_path: Path) -> None:
    arc = arc_file(tmp_path / "iah.arc.gz", responses(shared_data / "web" / IAH)[:30])
    parts = members(arc.read_bytes())
    at = 12
    path = tmp_path / "glued.arc.gz"
    offset = _glue(path, parts, at, FOREIGN)
    counts = _assert_one_pass(path, _split_sizes(offset, len(parts[at - 1])) + [20_000, 50_000])
    assert counts["skipped.corrupt_record"] == 1
