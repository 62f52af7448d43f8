"""The crawl stage's output shards: bounded by documents and by characters of text (``shard_chars``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
from pipeline.stage import RunContext
from pipeline.stages import get_stage
from pipeline.stages.crawl import Options
from tests.pipeline.helpers import journal_syncs, read_docs, write_manifest


def _run(tmp_path: Path, lengths: list[int], name: str, **crawl: object) -> tuple[list[str], list[dict], Path]:
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"id": f"d{i}", "text": ("word " * n)[:n].strip() + "."}) + "\n"
                              for i, n in enumerate(lengths)))
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "j", "kind": "jsonl", "paths": [str(source)]}],
                                            name=name, stages={"crawl": crawl}))
    result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
    return result.outputs, read_docs(manifest.run_dir, result.outputs), manifest.run_dir


def test_a_shard_closes_once_its_text_reaches_shard_chars(tmp_path: Path) -> None:
    """Long documents make few-document shards: a later task's memory follows the text, not the count."""
    lengths = [3000, 500, 4000, 200, 200, 200, 5000, 100]
    outputs, docs, run_dir = _run(tmp_path, lengths, "capped", shard_docs=5, shard_chars=4000)
    per_shard = [[len(t) for t in pq.read_table(run_dir / o).column("text").to_pylist()] for o in outputs]
    assert per_shard == [[3000, 500, 4000], [200, 200, 200, 5000], [100]]  # 7,500 and 5,600 characters
    assert all(sum(s[:-1]) < 4000 for s in per_shard)  # at most the cap plus one document
    # the same documents in the same order as without the cap
    _, uncapped, _ = _run(tmp_path, lengths, "uncapped", shard_docs=5, shard_chars=None)
    assert [d["id"] for d in docs] == [d["id"] for d in uncapped] and [d["text"] for d in docs] == [
        d["text"] for d in uncapped]


def test_the_default_cap_leaves_shards_of_short_documents_to_shard_docs() -> None:
    assert Options().shard_chars == 4_000_000 and Options().shard_docs == 10_000
    with pytest.raises(ValueError):
        Options(shard_chars=0)


def test_the_tasks_leave_their_folder_fsync_to_the_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every crawl task of a source renames its shards into the same folder: each shard is fsynced before its
    rename, the folder once per batch of tasks (before their completion records), not once per shard."""
    events = journal_syncs(monkeypatch, files=True)
    sources = []
    for i in range(4):  # four files: four tasks writing into docs/j/
        path = tmp_path / f"part{i}.jsonl"
        path.write_text(json.dumps({"id": f"d{i}", "text": f"document number {i}."}) + "\n")
        sources.append(str(path))
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "j", "kind": "jsonl", "paths": sources}],
                                            name="syncs"))
    result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
    docs_folder = str((manifest.run_dir / "docs" / "j").resolve())
    shard_syncs = [p for kind, p in events if kind == "file" and p.startswith(docs_folder + "/")]
    folder_syncs = [i for i, (kind, p) in enumerate(events) if kind == "folder" and p == docs_folder]
    records = [i for i, (kind, _) in enumerate(events) if kind == "record"]
    assert len(result.outputs) == len(shard_syncs) == len(records) == 4
    assert len(folder_syncs) == 1 and folder_syncs[0] < records[0]
    assert "unsynced" not in (manifest.run_dir / "_done" / "crawl" / "ledger.jsonl").read_text()
