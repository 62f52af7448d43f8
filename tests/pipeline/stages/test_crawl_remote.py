"""The crawl stage on inputs served over HTTP by servers that do or do not answer byte-range requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
from pipeline.stage import RunContext
from pipeline.stages import get_stage
from pipeline.stages.crawl import plan as crawl_plan
from tests.pipeline.helpers import http_server, read_docs, write_manifest

# a real WARC of 822 records, and a wiki dump: cut into several splits by the small split sizes below
WARC = "web/IAH-20080430204825-00000-blackbook.warc.gz"
DUMP = "wiki/dewiki-20170701-sample.xml"


def _crawl(tmp_path: Path, name: str, warc: str, dump: str) -> tuple[list[dict], dict, int]:
    sources = [{"name": "web", "kind": "commoncrawl", "paths": [warc], "options": {"split_bytes": 300_000}},
               {"name": "wiki", "kind": "wikipedia", "paths": [dump], "options": {"split_bytes": 1 << 20}}]
    manifest = load_manifest(write_manifest(tmp_path, sources, name=name))
    tasks = crawl_plan(RunContext(manifest, InProcessExecutor()))
    result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
    counts = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())["counts"]
    return read_docs(manifest.run_dir, result.outputs), counts, len(tasks)


@pytest.mark.parametrize("kind", ["ranges", "no_ranges", "no_length"])
def test_a_file_served_without_ranges_reads_whole_as_one_split(tmp_path: Path, shared_data: Path, kind: str) -> None:
    """Over a server without ranges (``python -m http.server``) or without a Content-Length, the second
    split of a file (or any file over fsspec's 5 MB block) failed with fsspec's range error and the run
    stopped. Such a file is now planned as one split and read from its start; the documents and counts
    equal the local file's."""
    local_docs, local_counts, local_tasks = _crawl(tmp_path, "local", str(shared_data / WARC), str(shared_data / DUMP))
    with http_server(shared_data, kind) as base:
        docs, counts, tasks = _crawl(tmp_path, kind, f"{base}/{WARC}", f"{base}/{DUMP}")
    assert [d["text"] for d in docs] == [d["text"] for d in local_docs] and len(docs) > 100
    assert counts == local_counts
    assert tasks == local_tasks if kind == "ranges" else tasks == 2 < local_tasks  # one split per file
