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
             content_type: bytes = b"text/html; charset=utf-8") -> bytes:
    """One WARC response record (header lines ended by ``eol``) without the blank lines that follow it."""
    block = b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type + b"\r\n\r\n" + body
    fields = [b"WARC/1.0", b"WARC-Type: response", b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-%012d>" % n,
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


def test_a_length_short_of_its_block_is_still_damage(tmp_path: Path) -> None:
    # A longer CR/LF run is no licence for a Content-Length that ends inside the block (pywb's example.warc has
    # one a byte short): it stays a counted corrupt_record, and the records after it are read.
    good = response(PAGE, 0)
    length = len(good) - good.index(b"\r\n\r\n") - 4
    short = good.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length - 1))
    assert short != good
    path = write(tmp_path, [short + b"\r\n\r\n", response(PAGE, 1) + b"\r\n\r\n"], gz=False)
    docs, tally = read_all(path, Options())
    assert [d.url for d in docs] == ["http://example.org/tides/1"]
    assert tally.counts["skipped.corrupt_record"] == 1
    assert "does not end at a record boundary" in tally.examples["corrupt_record"][0]["detail"]


@pytest.mark.parametrize("gz", [False, True])
def test_warc_header_lines_ended_by_cr_cr_lf(tmp_path: Path, gz: bool) -> None:
    # "\r\n" written through a text-mode stream that adds a CR before each LF (a Windows writer) gives header
    # lines ended by CR CR LF; the blocks, written as bytes, are intact. FastWARC reads them once in CRLF lines.
    records = [response(PAGE, i, eol=b"\r\r\n") + b"\r\n\r\n" for i in range(5)]
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
