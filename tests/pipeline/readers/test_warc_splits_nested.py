"""Split boundaries inside a record whose payload is itself a gzip stream (pipeline.readers.warc_splits).

A crawled ``.warc.gz`` (or ``.arc.gz``) served as ``application/gzip`` is stored by deflate as it is, so its own
gzip members show in the raw file, inside the member of the record that holds them, as members holding WARC
records. A split starting inside that record must not start on them: it would read the crawled file's records
as records of this one, which one pass over the file never does (and count a corrupt_record where they end).
Boundaries are put at and around every such inner gzip header and across the member; every split size must
give the documents and counts of one pass. Payloads of gzip bytes that hold no WARC record (a gzip-encoded
page stored un-decoded, a ``.gz`` download) are the guards: they never looked like a split's start."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Callable

import pytest

from contracts.accounting import Tally
from pipeline.readers.arc import _is_arc_member
from pipeline.readers.commoncrawl import READER, Options
from pipeline.readers.warc_framing import _GZIP_MAGIC, _PROBE, _is_member
from pipeline.readers.warc_splits import _split_start
from tests.pipeline.readers.test_commoncrawl import IAH, assert_accounted, members, read_all
from tests.pipeline.readers.test_commoncrawl_arc import arc_file, keyed, responses
from tests.pipeline.readers.test_commoncrawl_quirks import OK, http, record

GZIP_TYPE = b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip"
OUTER = "dolma-sample-0000.warc.gz"  # real members around the nested record
AT, UPTO = 9, 21  # the nested member goes before member AT of OUTER; members from UPTO on are left out


def _inner_headers(member: bytes) -> list[int]:
    """Offsets in ``member`` (past its own header) of gzip headers: the payload's members, stored as they are."""
    found, i = [], member.find(_GZIP_MAGIC, 1)
    while i >= 0:
        found.append(i)
        i = member.find(_GZIP_MAGIC, i + 1)
    return found


def _sizes(member: bytes, offset: int) -> list[int]:
    """Split sizes whose first boundary falls at, just before and just after inner gzip headers (a spread of at
    most 8 of them), at eighths of the member and at its first and last bytes; and small sizes that cut the
    file in many places, several of them inside the member."""
    inner = _inner_headers(member)
    picks = inner[:: -(-len(inner) // 8)] if inner else []
    inside = {d for g in picks for d in (g - 1, g, g + 1)} | {len(member) * k // 8 for k in range(1, 8)}
    return sorted(offset + d for d in inside | {1, len(member) - 1}) + [997, 2345, 7000, 20_011]


def _assert_no_start_inside(path: Path, offset: int, member: bytes, is_member: Callable[[bytes], bool]) -> None:
    """From every gzip header inside the member (at ``offset``), and from just before each, the split that would
    start there starts past the member: on none of the payload's members."""
    with open(path, "rb") as raw:
        for g in _inner_headers(member):
            for at in (offset + g - 1, offset + g):
                start = _split_start(raw, at, is_member)
                assert start is None or start >= offset + len(member), (g, start)


def _assert_one_pass(path: Path, sizes: list[int]) -> tuple[list, Tally]:
    """Every split size gives the whole-file read's documents, in order, none twice, and its very counts."""
    whole, tally = read_all(path)
    assert_accounted(tally)
    assert len({(d.key, d.meta["offset"]) for d in whole}) == len(whole)
    size = path.stat().st_size
    for split_bytes in sizes:
        options = Options(split_bytes=split_bytes)
        assert len(READER.plan(str(path), size, options)) > 1
        docs, split_tally = read_all(path, options)
        assert keyed(docs) == keyed(whole), split_bytes
        assert split_tally.counts == tally.counts, split_bytes
    return whole, tally


def _warc_with(shared_data: Path, tmp_path: Path, nested: bytes) -> tuple[Path, int, list, Tally]:
    """OUTER's first UPTO members with ``nested`` (a gzip member) inserted; its offset, and the read of those
    members alone (documents, tally)."""
    parts = members((shared_data / "web" / OUTER).read_bytes())[:UPTO]
    own = tmp_path / f"own-{OUTER}"
    own.write_bytes(b"".join(parts))
    path = tmp_path / f"nested-{OUTER}"
    path.write_bytes(b"".join(parts[:AT] + [nested] + parts[AT:]))
    return path, sum(len(p) for p in parts[:AT]), *read_all(own)


@pytest.mark.parametrize("inner, level", [("warcio-example.warc.gz", 0), ("dolma-sample-0001.warc.gz", 0),
                                          ("dolma-sample-0001.warc.gz", 6)])
def test_a_crawled_warc_gz_payload_never_starts_a_split(shared_data: Path, tmp_path: Path, inner: str,
                                                        level: int) -> None:
    """Level 0 stores the whole record (a writer without compression, or the worst case); level 6, zlib's
    default, stores the payload's incompressible stretches in blocks of up to 64 kB."""
    payload = (shared_data / "web" / inner).read_bytes()
    nested = gzip.compress(record(http(GZIP_TYPE, payload), record_id=b"<urn:uuid:nested>"),
                           compresslevel=level, mtime=0)
    looks_like_warc = [g for g in _inner_headers(nested) if _is_member(nested[g:g + _PROBE])]
    assert looks_like_warc  # the hazard is there: members holding WARC records inside the nested member
    path, offset, own_docs, own = _warc_with(shared_data, tmp_path, nested)
    _assert_no_start_inside(path, offset, nested, _is_member)
    whole, tally = _assert_one_pass(path, _sizes(nested, offset))
    # one pass reads the nested record as one record (a gzip download is no page), never the records inside it
    assert keyed(whole) == [(k, o + len(nested) * (o >= offset), t) for k, o, t in keyed(own_docs)]
    assert tally.counts["records"] == own.counts["records"] + 1
    assert tally.counts["skipped.not_html"] == own.counts["skipped.not_html"] + 1
    assert tally.counts["skipped.corrupt_record"] == own.counts["skipped.corrupt_record"] == 0


def test_gzip_payloads_holding_no_warc_record_never_start_a_split(shared_data: Path, tmp_path: Path) -> None:
    """A page sent gzip-encoded and stored un-decoded (read as the page), and a .gz download of text."""
    (page_record,) = [gzip.decompress(m) for m in members((shared_data / "web" / "cc-whirlwind.warc.gz").read_bytes())
                      if b"WARC-Type: response" in gzip.decompress(m)[:300]]
    page = page_record.split(b"\r\n\r\n", 2)[2]
    encoded = gzip.compress(record(http(OK + b"\r\nContent-Encoding: gzip", gzip.compress(page, mtime=0)),
                                   record_id=b"<urn:uuid:encoded>"), compresslevel=0, mtime=0)
    download = gzip.compress(record(http(GZIP_TYPE, gzip.compress(page * 3, mtime=0)),
                                    record_id=b"<urn:uuid:download>"), compresslevel=0, mtime=0)
    for member in (encoded, download):  # their payloads' gzip headers show, and no WARC member is behind them
        assert _inner_headers(member) and not any(_is_member(member[g:g + _PROBE]) for g in _inner_headers(member))
    nested = encoded + download  # two members, inserted together
    path, offset, own_docs, own = _warc_with(shared_data, tmp_path, nested)
    whole, tally = _assert_one_pass(path, _sizes(nested, offset))
    (read,) = [d for d in whole if d.key == "<urn:uuid:encoded>"]  # the page, decoded: one document
    assert len(whole) == len(own_docs) + 1 and "Escopete ye un municipio" in read.text
    assert tally.counts["records"] == own.counts["records"] + 2


def test_a_crawled_arc_gz_payload_never_starts_a_split(shared_data: Path, tmp_path: Path) -> None:
    """The same in an ARC file: a record whose block is a crawled .arc.gz (served as application/gzip)."""
    pages = responses(shared_data / "web" / IAH)
    payload = arc_file(tmp_path / "inner.arc.gz", pages[:25]).read_bytes()
    url, ip, date = pages[30][:3]
    nested = (url + b".arc.gz", ip, date, b"application/gzip", GZIP_TYPE + b"\r\n\r\n" + payload)
    path = arc_file(tmp_path / "outer.arc.gz", pages[30:36] + [nested] + pages[36:42])
    parts = members(path.read_bytes())
    at = 7  # the filedesc member, six pages, then the nested record
    assert any(_is_arc_member(parts[at][g:g + _PROBE]) for g in _inner_headers(parts[at]))
    _assert_no_start_inside(path, sum(len(p) for p in parts[:at]), parts[at], _is_arc_member)
    whole, tally = _assert_one_pass(path, _sizes(parts[at], sum(len(p) for p in parts[:at])))
    without = arc_file(tmp_path / "without.arc.gz", pages[30:42])  # the same ARC without the nested record
    assert tally.counts["records"] == 1 + 13 and [d.text for d in whole] == [d.text for d in read_all(without)[0]]
