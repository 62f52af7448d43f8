"""The crawl stage on a WARC of real-world quirks (tests/pipeline/readers/test_commoncrawl_quirks.py) and on a
WARC of revisits only: every record accounted for in the file's entry, distinct ids, the empty file named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import brotli
import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from pipeline.documents import doc_id
from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
from pipeline.report.html import _flagged
from pipeline.stage import RunContext
from pipeline.stages import get_stage
from tests.pipeline.helpers import read_docs, write_manifest
from tests.pipeline.readers.test_commoncrawl_quirks import OK, http, record


def test_a_quirky_warc_through_the_crawl_stage(tmp_path: Path, shared_data: Path) -> None:
    web = shared_data / "web"
    with open(web / "cc-whirlwind.warc.gz", "rb") as fh:
        (raw,) = [r.reader.read() for r in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False)]
    page = raw.split(b"\r\n\r\n", 1)[1]
    quirks = [
        record(http(OK + b"\r\nTransfer-Encoding: chunked\r\nContent-Encoding: br", brotli.compress(page)),
               record_id=b"<urn:uuid:br>"),
        record(http(OK, page, eol=b"\n"), eol=b"\n", record_id=b"<urn:uuid:lf>"),
        record(page, rtype=b"resource", content_type=b"text/html", record_id=b"<urn:uuid:resource>"),
        record(http(OK, page), record_id=b"<urn:uuid:br>"),  # the first record's id again
        record(b"", rtype=b"revisit", record_id=b"<urn:uuid:revisit>"),
    ]
    quirky = tmp_path / "quirks.warc.gz"
    quirky.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in quirks))
    with open(web / "pywb-iana.warc.gz", "rb") as fh:  # its 123 real revisit records, nothing else
        revisits = [(r.record_id.encode(), r.reader.read())
                    for r in ArchiveIterator(fh, record_types=WarcRecordType.revisit, parse_http=False)]
    only_revisits = tmp_path / "revisits.warc.gz"
    only_revisits.write_bytes(b"".join(
        gzip.compress(record(block, rtype=b"revisit", record_id=rid), mtime=0) for rid, block in revisits))
    manifest = load_manifest(write_manifest(tmp_path, [
        {"name": "web", "kind": "commoncrawl", "paths": [str(quirky), str(only_revisits)]}]))
    result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
    docs = read_docs(manifest.run_dir, result.outputs)
    assert len(docs) == 4 and len({d["id"] for d in docs}) == 4
    assert all("Escopete ye un municipio" in d["text"] for d in docs)
    stats = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())
    entry = stats["files"][str(quirky)]
    assert (entry["records"], entry["docs_out"], entry["ignored"], entry["skipped"]) == (5, 4, {"revisit": 1}, {})
    empty = stats["files"][str(only_revisits)]
    assert (empty["records"], empty["docs_out"], empty["ignored"]) == (123, 0, {"revisit": 123})
    (flag,) = [f for f in stats["files_flagged"]["nothing"] if f["file"] == str(only_revisits)]
    assert flag["ignored"] == {"revisit": 123}  # why it yielded nothing, in the statistics...
    assert "not text: revisit 123" in _flagged(stats)  # ...and in the report's table


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_a_repeated_record_id_keeps_both_documents_apart(tmp_path: Path, shared_data: Path, gz: bool) -> None:
    """Two (here three) records with one WARC-Record-ID gave documents one id before. The crawl stage, the one
    place repeats are re-keyed for every reader, keys each repeat by its record's byte offset in the file
    (``<id>@<offset>``), counts it once as ``duplicate_record_id``, keeps its text, and ``meta.record`` still
    says the id the record carries; the same input gives the same ids again."""
    with open(shared_data / "web" / "cc-whirlwind.warc.gz", "rb") as fh:
        (raw,) = [r.reader.read() for r in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False)]
    page = raw.split(b"\r\n\r\n", 1)[1]
    rid = b"<urn:uuid:0c1ebc3f-1b61-4b1a-9a3c-1f2d3e4f5a6b>"
    records = [record(http(OK, page), record_id=rid),
               record(http(OK, page.replace(b"Escopete", b"Escopeta")), record_id=rid),
               record(http(OK, page), record_id=b"<urn:uuid:other>"),
               record(http(OK, page.replace(b"Escopete", b"Escopetu")), record_id=rid)]
    blobs = [gzip.compress(r, mtime=0) if gz else r for r in records]
    path = tmp_path / ("dup.warc.gz" if gz else "dup.warc")
    path.write_bytes(b"".join(blobs))
    offsets = [sum(len(b) for b in blobs[:i]) for i in range(len(blobs))]

    def crawl(run: Path) -> tuple[list[dict], dict]:
        manifest = load_manifest(write_manifest(run, [{"name": "web", "kind": "commoncrawl", "paths": [str(path)]}]))
        result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
        stats = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())
        return read_docs(manifest.run_dir, result.outputs), stats

    docs, stats = crawl(tmp_path / "a")
    key = rid.decode()
    expected = [key, f"{key}@{offsets[1]}", "<urn:uuid:other>", f"{key}@{offsets[3]}"]
    assert sorted(d["id"] for d in docs) == sorted(doc_id("web", k) for k in expected)
    by_id = {d["id"]: d for d in docs}
    for k, offset, word in zip(expected, offsets, ["Escopete", "Escopeta", "Escopete", "Escopetu"]):
        doc = by_id[doc_id("web", k)]
        assert word in doc["text"] and doc["meta"]["offset"] == offset
        assert doc["meta"]["record"] == ("<urn:uuid:other>" if "other" in k else key)
    assert stats["counts"]["duplicate_record_id"] == 2  # once per repeat, not once in the reader and again here
    entry = stats["files"][str(path)]
    assert (entry["records"], entry["docs_out"]) == (4, 4)
    again, _ = crawl(tmp_path / "b")
    assert sorted(d["id"] for d in again) == sorted(d["id"] for d in docs)
