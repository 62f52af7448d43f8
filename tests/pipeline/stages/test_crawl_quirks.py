"""The crawl stage on a WARC of real-world quirks (tests/pipeline/readers/test_commoncrawl_quirks.py) and on a
WARC of revisits only: every record accounted for in the file's entry, distinct ids, the empty file named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import brotli
from fastwarc.warc import ArchiveIterator, WarcRecordType

from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
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
    assert str(only_revisits) in {f["file"] for f in stats["files_flagged"]["nothing"]}
