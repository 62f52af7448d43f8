"""Document-level quirks through the real stages (crawl -> filter -> dedup -> tokenize), in process.

Inputs are real shared text (Gutenberg paragraphs) shaped into JSONL/Parquet sources with the quirk under
test; each test checks that nothing is lost silently and that ids, stats and outputs stay sound.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.helpers import book_paragraphs_jsonl, read_docs, tree_digest, write_manifest


def _paragraphs(shared_data: Path, tmp_path: Path, n: int) -> list[dict]:
    path = book_paragraphs_jsonl(shared_data, tmp_path / "paragraphs.jsonl", limit=n)
    return [json.loads(line) for line in path.read_text().splitlines()]


def _stats(run_dir: Path, stage: str) -> dict:
    return json.loads((run_dir / "stats" / f"{stage}.json").read_text())


def test_an_id_repeated_inside_a_source_never_gives_two_documents_one_id(shared_data: Path,
                                                                         tmp_path: Path) -> None:
    """JSONL and Parquet sources whose id field repeats: before, both records became documents with the same
    document id (dedup kept both, the token index held one id twice); now the later one is keyed by its
    record position too and counted as ``duplicate_record_id``, and its text is kept."""
    paras = _paragraphs(shared_data, tmp_path, 12)
    records = paras[:8] + [{"id": paras[0]["id"], "text": paras[8]["text"]},   # same id, other text
                           {"id": paras[1]["id"], "text": paras[1]["text"]},   # same id, same text
                           {"id": paras[0]["id"], "text": paras[9]["text"]}]   # the first id a third time
    jsonl = tmp_path / "dup.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    parquet = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    sources = [{"name": "j", "kind": "jsonl", "paths": [str(jsonl)]},
               {"name": "p", "kind": "parquet", "paths": [str(parquet)]}]
    manifest = load_manifest(write_manifest(tmp_path, sources, stages={"order": ["crawl", "dedup"]},
                                            ray={"in_process": True}))
    results = run_manifest(manifest)
    docs = read_docs(manifest.run_dir, results["crawl"].outputs)
    for source in ("j", "p"):
        mine = [d for d in docs if d["source"] == source]
        assert len(mine) == len(records) and len({d["id"] for d in mine}) == len(records)
        assert Counter(d["text"] for d in mine) == Counter(r["text"] for r in records)
    assert _stats(manifest.run_dir, "crawl")["counts"]["duplicate_record_id"] == 2 * 3
    kept = read_docs(manifest.run_dir, results["dedup"].outputs)
    # one of each text is kept: the true copy and the other source's copies go
    assert len({d["id"] for d in kept}) == len(kept) == len(records) - 1
    before = tree_digest(manifest.run_dir, ("docs", "dedup"))
    again = tmp_path / "again"
    rerun = load_manifest(write_manifest(again, sources, stages={"order": ["crawl", "dedup"]},
                                         ray={"in_process": True}))
    run_manifest(rerun)
    assert tree_digest(rerun.run_dir, ("docs", "dedup")) == before
