"""Whole manifests on a real local Ray: real web, wiki and book input; kill -9 and resume; remote input."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.documents import DOC_SCHEMA
from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.helpers import (book_paragraphs_jsonl, done_records, http_server, read_docs, tree_digest,
                                    write_manifest)

REPO = Path(__file__).resolve().parents[2]


def mixed_sources(shared: Path) -> list[dict]:
    return [
        {"name": "web", "kind": "commoncrawl", "paths": [str(shared / "web/dolma-sample-000*.warc.gz"),
                                                        str(shared / "web/cc-whirlwind.warc.gz")]},
        {"name": "wet", "kind": "commoncrawl", "paths": [str(shared / "web/cc-whirlwind.warc.wet.gz")],
         "options": {"format": "wet"}},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(shared / "wiki/enwiki-table-markup.xml.bz2")]},
        {"name": "books", "kind": "books", "paths": [str(shared / "books/the-verdict.txt"),
                                                    str(shared / "books/gutenberg-972-the-devils-dictionary.txt")]},
    ]


def test_mixed_sources_end_to_end(ray_local, shared_data: Path, tmp_path: Path) -> None:
    manifest = load_manifest(write_manifest(tmp_path, mixed_sources(shared_data),
                                            stages={"crawl": {"shard_docs": 7}}))
    result = run_manifest(manifest)["crawl"]
    run_dir = manifest.run_dir
    for relative in result.outputs:
        assert pq.read_schema(run_dir / relative).equals(DOC_SCHEMA, check_metadata=False)
        assert pq.read_metadata(run_dir / relative).num_rows <= 7
    docs = read_docs(run_dir, result.outputs)
    by_source: dict[str, list[dict]] = {}
    for doc in docs:
        by_source.setdefault(doc["source"], []).append(doc)
    assert set(by_source) == {"web", "wet", "wiki", "books"}
    assert len({d["id"] for d in docs}) == len(docs), "document ids must be unique"
    assert len(by_source["wiki"]) == 5 and len(by_source["books"]) == 2 and len(by_source["wet"]) == 1
    assert all(d["meta"]["origin"] and d["text"].strip() for d in docs)
    assert any("Escopete" in (d["url"] or "") for d in by_source["web"])
    # The statistics agree with the shards, and the run recorded its manifest.
    stats = json.loads((run_dir / "stats" / "crawl.json").read_text())
    assert stats["counts"]["docs_out"] == len(docs)
    assert stats["counts"]["chars_out"] == sum(len(d["text"]) for d in docs)
    run_record = json.loads((run_dir / "run.json").read_text())
    assert run_record["manifest_hash"] == manifest.hash
    assert (run_dir / "manifest.yaml").read_text() == manifest.raw_text
    # A second run of the same manifest does nothing and changes nothing.
    before = tree_digest(run_dir)
    again = run_manifest(load_manifest(manifest.source_path))["crawl"]
    assert again.tasks_run == 0 and tree_digest(run_dir) == before


def test_changed_manifest_resumes_redoing_only_what_changed(ray_local, shared_data: Path,
                                                           tmp_path: Path) -> None:
    """Each completion record holds a digest of its task's inputs and options: a change redoes exactly
    the affected tasks, and the result equals a fresh run of the changed manifest."""
    books = [{"name": "books", "kind": "books", "paths": [str(shared_data / "books/the-verdict.txt")]},
             {"name": "more", "kind": "books", "paths": [str(shared_data / "books/gutenberg-972-the-devils-dictionary.txt")]}]
    first = load_manifest(write_manifest(tmp_path, books))
    run_manifest(first)
    changed_books = [books[0], {**books[1], "options": {"unwrap": False}}]
    changed = load_manifest(write_manifest(tmp_path, changed_books))
    assert changed.hash != first.hash
    result = run_manifest(changed)["crawl"]
    assert result.tasks_run == 1 and result.tasks_skipped == 1
    record = json.loads((changed.run_dir / "run.json").read_text())
    assert record["manifest_hash"] == changed.hash and record["previous_hashes"] == [first.hash]
    assert (changed.run_dir / f"manifest.{first.hash[:12]}.yaml").exists()
    fresh = load_manifest(write_manifest(tmp_path / "fresh", changed_books))
    run_manifest(fresh)
    assert tree_digest(fresh.run_dir) == tree_digest(changed.run_dir)


def test_missing_input_fails_before_any_work(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, [{"name": "b", "kind": "books", "paths": [str(tmp_path / "nope/*.txt")]}])
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", str(path)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert "nope/*.txt" in proc.stderr and "matches no file" in proc.stderr
    assert not (tmp_path / "out" / "t" / "docs").exists()


def test_bad_manifest_exits_with_key_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("run: {name: x, output_dir: o, colour: red}\nsources: []\n")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "check", str(path)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and "run.colour: unknown key" in proc.stderr


def _kill_manifest(tmp_path: Path, shared: Path, name: str, jsonl: Path) -> Path:
    sources = [
        {"name": "paras", "kind": "jsonl", "paths": [str(jsonl)], "options": {"split_bytes": 8192}},
        {"name": "web", "kind": "commoncrawl",
         "paths": [str(shared / "web/IAH-20080430204825-00000-blackbook.warc.gz")],
         "options": {"split_bytes": 65536}},
    ]
    return write_manifest(tmp_path, sources, name=name, ray={"num_cpus": 1, "max_in_flight": 1},
                          stages={"crawl": {"shard_docs": 20}})


def _run_cli(manifest: Path, *gate: str) -> subprocess.Popen:
    """The CLI in its own process group; ``gate`` (stage, records, flag file) halts its driver there for
    good (``tests.pipeline.gated_cli``), so a kill cannot race the run's end."""
    module = ["-m", "tests.pipeline.gated_cli", *gate] if gate else ["-m", "pipeline"]
    return subprocess.Popen([sys.executable, *module, "run", str(manifest)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_kill_9_mid_stage_then_rerun_is_byte_identical(ray_local, shared_data: Path, tmp_path: Path) -> None:
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    clean_dir.mkdir()
    killed_dir.mkdir()
    jsonl = book_paragraphs_jsonl(shared_data, tmp_path / "paras.jsonl")
    # the reference in this process on the session's Ray (no CLI and Ray start of its own); the killed run
    # and its rerun are the CLI's
    run_manifest(load_manifest(_kill_manifest(clean_dir, shared_data, "k", jsonl)))
    total = len(done_records(clean_dir / "out/k", "crawl"))
    assert total > 50

    killed = _kill_manifest(killed_dir, shared_data, "k", jsonl)
    flag = tmp_path / "halted"
    proc = _run_cli(killed, "crawl", "5", str(flag))  # the driver halts after its fifth crawl record
    deadline = time.monotonic() + 600
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert flag.exists(), proc.stdout.read().decode() if proc.poll() is not None else "timed out"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its embedded Ray, mid-stage
    proc.wait()
    assert len(done_records(killed_dir / "out/k", "crawl")) == 5 < total  # exactly where the driver halted

    proc = _run_cli(killed)
    output = proc.communicate(timeout=600)[0].decode()
    assert proc.returncode == 0, output
    assert "already done, skipping them" in output
    assert tree_digest(killed_dir / "out/k") == tree_digest(clean_dir / "out/k")
    assert not list((killed_dir / "out/k").rglob(".tmp-*"))
    ids = [d["id"] for d in read_docs(killed_dir / "out/k", json.loads(
        (killed_dir / "out/k/stats/crawl.json").read_text())["outputs"])]
    assert len(ids) == len(set(ids)), "no document doubled"


def test_remote_crawl_by_id_over_http(ray_local, shared_data: Path, tmp_path: Path) -> None:
    """A Common Crawl-like tree on a real HTTP server; the manifest names only the crawl id and base URL."""
    root = tmp_path / "www"
    crawl = root / "crawl-data" / "CC-MAIN-2099-01"
    files = ["dolma-sample-0000.warc.gz", "dolma-sample-0001.warc.gz", "cc-whirlwind.warc.gz"]
    rel_paths = []
    for i, name in enumerate(files):
        rel = f"crawl-data/CC-MAIN-2099-01/segments/000{i}/warc/{name}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / "web" / name, root / rel)
        rel_paths.append(rel)
    with gzip.open(crawl / "warc.paths.gz", "wt") as fh:
        fh.write("\n".join(rel_paths) + "\n")

    local = load_manifest(write_manifest(tmp_path, [{"name": "web", "kind": "commoncrawl", "paths": [
        str(root / p) for p in rel_paths[:2]]}], name="local"))
    local_docs = read_docs(local.run_dir, run_manifest(local)["crawl"].outputs)

    with http_server(root) as base_url:
        source = {"name": "web", "kind": "commoncrawl",
                  "crawl": {"id": "CC-MAIN-2099-01", "files": 2, "base_url": base_url}}
        remote = load_manifest(write_manifest(tmp_path, [source], name="remote"))
        result = run_manifest(remote)["crawl"]
    remote_docs = read_docs(remote.run_dir, result.outputs)
    assert remote_docs and len(remote_docs) == len(local_docs)
    assert [d["text"] for d in remote_docs] == [d["text"] for d in local_docs]
    assert all(d["meta"]["origin"].startswith(base_url) for d in remote_docs)


def test_threshold_change_reruns_only_the_decision(ray_local, shared_data: Path, tmp_path: Path) -> None:
    """The user story of the filter stage, through run_manifest: a new threshold re-decides from the
    stored signals; crawl and signal tasks are skipped."""
    sources = mixed_sources(shared_data)[:1]
    stages = {"order": ["crawl", "filter"]}
    first = run_manifest(load_manifest(write_manifest(tmp_path, sources, stages=stages)))
    strict = {**stages, "filter": {"per_source": {"web": {"gopher_quality": {"min_words": 400}}}}}
    manifest = load_manifest(write_manifest(tmp_path, sources, stages=strict))
    second = run_manifest(manifest)
    assert second["crawl"].tasks_run == 0
    signals = json.loads((manifest.run_dir / "stats" / "filter-signals.json").read_text())
    assert signals["tasks_run"] == 0 and signals["tasks_skipped_as_done"] > 0
    assert second["filter"].tally.counts["docs_out"] < first["filter"].tally.counts["docs_out"]


def test_two_inputs_with_one_file_name_are_refused(shared_data: Path, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(shared_data / "books/the-verdict.txt", tmp_path / folder / "book.txt")
    path = write_manifest(tmp_path, [{"name": "b", "kind": "books", "paths": [str(tmp_path / "*/book.txt")]}])
    proc = subprocess.run([sys.executable, "-m", "pipeline", "check", str(path)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2 and "same file name" in proc.stderr


def test_resolved_manifest_records_absolute_paths_and_defaults(tmp_path: Path) -> None:
    """manifest.resolved.json holds what ran: relative paths resolved against the manifest's folder and
    every default filled in (so a report or a rerun never depends on the code's defaults of the day)."""
    from pipeline.manifest import parse_manifest
    from pipeline.run import record_run

    (tmp_path / "m").mkdir()
    text = ("run: {name: r, output_dir: out}\n"
            "sources: [{name: books, kind: books, paths: [../books/*.txt]}]\n"
            "stages: {dedup: {preset: redpajama-v2}}\n")
    manifest = parse_manifest(text, source_path=tmp_path / "m" / "manifest.yaml")
    record_run(manifest)
    resolved = json.loads((manifest.run_dir / "manifest.resolved.json").read_text())
    assert manifest.run_dir == tmp_path / "m" / "out" / "r"
    (path,) = resolved["sources"][0]["paths"]  # absolute (kept unnormalised: "m/../books")
    assert Path(path).is_absolute() and os.path.normpath(path) == str(tmp_path / "books" / "*.txt")
    assert resolved["stages"]["dedup"]["preset"] == "redpajama-v2"
    assert resolved["stages"]["crawl"]["shard_docs"] == manifest.stages.crawl.shard_docs  # a default
    assert resolved == json.loads(json.dumps(manifest.model.model_dump(mode="json")))
    assert (manifest.run_dir / "manifest.yaml").read_text() == text

    changed = parse_manifest(text.replace("redpajama-v2", "fineweb"), source_path=tmp_path / "m" / "manifest.yaml")
    record_run(changed)
    resolved = json.loads((manifest.run_dir / "manifest.resolved.json").read_text())
    assert resolved["stages"]["dedup"]["preset"] == "fineweb"
    assert (manifest.run_dir / f"manifest.{manifest.hash[:12]}.yaml").read_text() == text


def test_in_process_run_writes_what_the_ray_run_writes(ray_local, shared_data: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``ray.in_process``: no Ray is started or joined, and documents, signals, kept and removed shards and
    statistics are the bytes a Ray run writes (the same run folder path, so the same payloads)."""
    import pipeline.run as run_module
    from pipeline.manifest import ManifestError

    sources = mixed_sources(shared_data)[:2]
    stages = {"order": ["crawl", "filter"]}
    folders = ("docs", "signals", "filtered", "removed")
    on_ray = load_manifest(write_manifest(tmp_path, sources, stages=stages))
    run_manifest(on_ray)
    expected = tree_digest(on_ray.run_dir, folders)
    stats = {p.name: json.loads(p.read_text()) for p in (on_ray.run_dir / "stats").glob("*.json")}
    shutil.rmtree(on_ray.run_dir)

    def no_ray(*args, **kwargs):
        raise AssertionError("an in-process run must not start or join Ray")

    monkeypatch.setattr(run_module, "connect_ray", no_ray)
    in_process = load_manifest(write_manifest(tmp_path, sources, stages=stages, ray={"in_process": True}))
    results = run_manifest(in_process)
    assert in_process.run_dir == on_ray.run_dir and results["filter"].tasks_run > 0
    assert tree_digest(in_process.run_dir, folders) == expected and len(expected) > 4
    again = {p.name: json.loads(p.read_text()) for p in (in_process.run_dir / "stats").glob("*.json")}
    for name in stats:  # the same counts; signal_ms.* are timings
        assert {k: v for k, v in again[name].get("counts", {}).items() if not k.startswith("signal_ms")} == \
            {k: v for k, v in stats[name].get("counts", {}).items() if not k.startswith("signal_ms")}
    with pytest.raises(ManifestError, match="in_process .*cannot join the cluster at 127.0.0.1:6379"):
        run_manifest(in_process, ray_address="127.0.0.1:6379")
