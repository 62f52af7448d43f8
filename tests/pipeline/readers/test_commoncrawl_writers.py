"""commoncrawl reader on the framing quirks of archives other tools wrote, found by bench/package_archives.py
(pywb's sample WARCs read against warcio). Each archive is built here with our own text: nothing is downloaded.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from contracts.accounting import Tally
from pipeline.readers.commoncrawl import READER, Options

PAGE = ("<!doctype html>\n<html><head><title>Tide tables</title></head><body>\n"
        + "".join(f"<p>Paragraph {i}: the harbour tide rises twice a day, and the fishing boats leave on the "
                  f"morning ebb when the wind allows it.</p>\n" for i in range(12))
        + "</body>\n</html>").encode()
FIRST_WORDS = "Paragraph 0: the harbour tide rises"


def response(body: bytes, n: int, *, eol: bytes = b"\r\n", status: bytes = b"200 OK",
             content_type: bytes = b"text/html; charset=utf-8", http: bytes = b"",
             version: bytes = b"WARC/1.0") -> bytes:
    """One WARC response record (header lines ended by ``eol``; ``http``: more HTTP header lines) without the
    blank lines that follow it."""
    block = b"HTTP/1.1 " + status + b"\r\n" + http + b"Content-Type: " + content_type + b"\r\n\r\n" + body
    fields = [version, b"WARC-Type: response", b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-%012d>" % n,
              b"WARC-Date: 2014-01-03T03:03:21Z", b"WARC-Target-URI: http://example.org/tides/%d" % n,
              b"Content-Type: application/http; msgtype=response", b"Content-Length: %d" % len(block)]
    return eol.join(fields) + eol + eol + block


def read_all(path: Path, options: Options) -> tuple[list, Tally]:
    tally = Tally()
    docs = [d for s in READER.plan(str(path), path.stat().st_size, options) for d in READER.read(s, options, tally)]
    counts = tally.counts
    assert counts["records"] == counts["documents"] + sum(
        v for k, v in counts.items() if k.startswith(("ignored.", "skipped."))), counts
    return docs, tally


def write(tmp_path: Path, records: list[bytes], gz: bool) -> Path:
    path = tmp_path / ("in.warc.gz" if gz else "in.warc")
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if gz else b"".join(records))
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("run", [b"\n\r\n\r\n", b"\r\n\r\n\r\n", b"\r\n" * 12])
def test_more_blank_lines_after_a_block_than_two(tmp_path: Path, gz: bool, run: bytes) -> None:
    # pywb's example-extra.warc: a page's block ends at "</html>", then five CR/LF bytes before the next record.
    # The run was taken for a Content-Length that misses the record's end: the page was a corrupt_record.
    records = [response(PAGE, i) + run for i in range(6)]
    path = write(tmp_path, records, gz)
    for split_bytes in (64 << 20, 700, 997, 4000):
        docs, tally = read_all(path, Options(split_bytes=split_bytes))
        assert [d.url for d in docs] == [f"http://example.org/tides/{i}" for i in range(6)], (split_bytes, tally.counts)
        assert all(FIRST_WORDS in d.text for d in docs)
        assert not any(k.startswith("skipped.") for k in tally.counts), tally.counts


def shorten(record: bytes, by: int) -> bytes:
    """``record`` with its WARC Content-Length ``by`` bytes short of its block."""
    length = len(record) - record.index(b"\r\n\r\n") - 4
    short = record.replace(b"Content-Length: %d\r" % length, b"Content-Length: %d\r" % (length - by), 1)
    assert short != record
    return short


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("by", [1, 2, 8])
def test_a_content_length_a_few_bytes_short_is_read_as_it_says(tmp_path: Path, gz: bool, by: int) -> None:
    # warcio's example-trunc.warc: a page's Content-Length 2 bytes short of its gzip-encoded body (the end of the
    # gzip trailer); pywb's example.warc: a request 1 byte short. warcio and FastWARC read such a record as long
    # as its length says; it was a corrupt_record here. Now it is read so, and the bytes left over are counted.
    encoded = response(gzip.compress(PAGE), 1, http=b"Content-Encoding: gzip\r\n")
    records = [response(PAGE, 0) + b"\r\n\r\n", shorten(encoded, by) + b"\r\n\r\n", shorten(response(PAGE, 2), by)]
    path = write(tmp_path, records, gz)
    for split_bytes in (64 << 20, 500, 1999):
        docs, tally = read_all(path, Options(split_bytes=split_bytes))
        assert [d.url for d in docs] == [f"http://example.org/tides/{i}" for i in range(3)], (split_bytes, tally.counts)
        assert all(FIRST_WORDS in d.text for d in docs)
        assert docs[0].text == docs[1].text  # only the gzip trailer cut (CRC-32, length): the body reads whole
        assert tally.counts["skipped.short_content_length"] == 2, tally.counts
        assert tally.counts["records"] == 5 and not tally.counts["skipped.corrupt_record"]
        detail = tally.examples["short_content_length"][0]["detail"]
        assert f": {by} bytes between the end of the record's Content-Length" in detail


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("by", [9, 10, 500])
def test_a_content_length_more_bytes_short_is_still_damage(tmp_path: Path, gz: bool, by: int) -> None:
    path = write(tmp_path, [shorten(response(PAGE, 0), by) + b"\r\n\r\n", response(PAGE, 1) + b"\r\n\r\n"], gz)
    docs, tally = read_all(path, Options())
    assert [d.url for d in docs] == ["http://example.org/tides/1"]
    assert tally.counts["skipped.corrupt_record"] == 1 and not tally.counts["skipped.short_content_length"]
    assert "does not end at a record boundary" in tally.examples["corrupt_record"][0]["detail"]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("version", [b"WARC/1.0", b"WARC/0.17"])
def test_warc_header_lines_ended_by_cr_cr_lf(tmp_path: Path, gz: bool, version: bytes) -> None:
    # "\r\n" written through a text-mode stream that adds a CR before each LF (a Windows writer) gives header
    # lines ended by CR CR LF; the blocks, written as bytes, are intact. FastWARC reads them once in CRLF lines.
    records = [response(PAGE, i, eol=b"\r\r\n", version=version) + b"\r\n\r\n" for i in range(5)]
    path = write(tmp_path, records, gz)
    for split_bytes in (64 << 20, 900, 4000):
        docs, tally = read_all(path, Options(split_bytes=split_bytes))
        assert [d.url for d in docs] == [f"http://example.org/tides/{i}" for i in range(5)], (split_bytes, tally.counts)
        assert all(FIRST_WORDS in d.text for d in docs)


def test_a_file_whose_crlfs_became_cr_cr_lf(tmp_path: Path) -> None:
    # pywb's missing-status-text.warc: a CRLF file put through an LF -> CRLF conversion, header and block alike;
    # its Content-Length counts the block as it was, so the block's added CRs trail it. A redirect with no body:
    # read as a record (its status counted), not a truncated one with "no valid WARC header".
    record = response(b"", 0, status=b"302 Found", content_type=b"text/html") + b"\r\n\r\n"
    path = write(tmp_path, [record.replace(b"\r\n", b"\r\r\n")], gz=False)
    docs, tally = read_all(path, Options())
    assert docs == [] and tally.counts["skipped.http_status"] == 1, tally.counts
    assert tally.examples["http_status"][0]["detail"] == "status 302"


@pytest.mark.parametrize("gz", [False, True])
def test_split_boundaries_anywhere_in_the_runs_and_left_over_bytes(tmp_path: Path, gz: bool) -> None:
    # Byte-range splits whose boundaries fall everywhere, in long CR/LF runs and in the bytes a short
    # Content-Length leaves over among them: each record and each stretch is counted once, by one split.
    records = [response(PAGE, 0) + b"\r\n" * 9, shorten(response(PAGE, 1), 3) + b"\r\n\r\n",
               response(PAGE, 2, eol=b"\r\r\n") + b"\n\r\n\r\n", shorten(response(PAGE, 3), 8) + b"\r\n\r\n",
               response(PAGE, 4) + b"\r\n\r\n"]
    path = write(tmp_path, records, gz)
    whole, tally = read_all(path, Options())
    assert [d.url for d in whole] == [f"http://example.org/tides/{i}" for i in range(5)], tally.counts
    expected = {k: v for k, v in tally.counts.items() if not k.startswith("chars_")}
    assert expected["skipped.short_content_length"] == 2
    for split_bytes in range(97, path.stat().st_size, 53):
        docs, split_tally = read_all(path, Options(split_bytes=split_bytes))
        assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in whole], split_bytes
        assert {k: v for k, v in split_tally.counts.items() if not k.startswith("chars_")} == expected, split_bytes
