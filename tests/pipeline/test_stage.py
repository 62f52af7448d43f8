"""The Stage type and its executors: every stage in process, the same bytes on Ray, declared order and
outputs, failures named by stage and shard, resumption with the in-process executor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.executors import InProcessExecutor, RayExecutor, StageError
from pipeline.manifest import load_manifest
from contracts.accounting import Tally
from pipeline.runner import Task, TaskResult, run_stage
from pipeline.stage import DOCUMENTS, TOKENS, RunContext, check_order
from pipeline.stages import DEFAULT_ORDER, STAGE_MODULES, get_stage
from tests.pipeline.helpers import done_records, write_manifest

ALL_STAGES = ["crawl", "filter", "dedup", "tokenize"]


def _sources(shared_data: Path) -> list[dict]:
    return [
        {"name": "web", "kind": "commoncrawl", "paths": [str(shared_data / "web" / "cc-whirlwind.warc.gz")]},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(shared_data / "wiki" / "enwiki-table-markup.xml.bz2")]},
        {"name": "books", "kind": "books", "paths": [str(shared_data / "books" / n) for n in
                                                     ("the-verdict.txt", "gutenberg-972-the-devils-dictionary.txt")]},
    ]


def _run_all(folder: Path, shared_data: Path, executor=None):
    path = write_manifest(folder, _sources(shared_data), stages={
        "order": ALL_STAGES, "crawl": {"shard_docs": 20},
        "tokenize": {"tokenizer": {"kind": "bpe", "vocab_size": 300, "train_bytes": 200_000},
                     "shard_tokens": 20_000, "validation": {"fraction": 0.05}}})
    manifest = load_manifest(path)
    context = RunContext(manifest, executor) if executor is not None else RunContext(manifest)
    inputs: list[str] = []
    results = {}
    for name in ALL_STAGES:
        results[name] = get_stage(name).run(context, inputs)
        inputs = results[name].outputs
    return manifest.run_dir, results


def _comparable(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run, with what legitimately differs between two runs taken out: completion records
    carry a digest of their inputs' modification times, signal timings are measured milliseconds, and the
    temporaries journals are named by host and process id."""
    out = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        relative = str(path.relative_to(run_dir))
        if relative.startswith("_tmp/"):
            continue
        data = path.read_bytes()
        if relative.startswith("_done/") or relative == "stats/filter-signals.json":
            ledger = relative.startswith("_done/")  # a completion ledger: one record a line
            records = [json.loads(line) for line in data.splitlines()] if ledger else [json.loads(data)]
            for record in records:
                record.pop("task_digest", None)
                record["counts"] = {k: v for k, v in record.get("counts", {}).items()
                                    if not k.startswith("signal_ms.")}
            data = "\n".join(json.dumps(record, sort_keys=True) for record in records).encode()
        out[relative] = data
    return out


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, shared_data: Path):
    return _run_all(tmp_path_factory.mktemp("in-process"), shared_data)


def test_every_stage_runs_in_process(in_process) -> None:
    run_dir, results = in_process
    assert [r.stage for r in results.values()] == ALL_STAGES
    for name, result in results.items():
        assert result.tasks_run > 0 and result.tasks_skipped == 0, name
        assert (run_dir / get_stage(name).output("stats")).is_file(), name
    assert results["crawl"].tally.counts["docs_out"] >= results["filter"].tally.counts["docs_out"] > 0
    assert results["dedup"].tally.counts["docs_in"] == results["filter"].tally.counts["docs_out"]
    assert (run_dir / get_stage("tokenize").output("index")).is_file()
    for kept in results["filter"].outputs:  # the report's way from a kept shard to its ledger
        parts = get_stage("filter").match("documents", kept)
        assert parts is not None and parts["source"] in {"web", "wiki", "books"}


def test_ray_and_in_process_executors_write_the_same_bytes(in_process, ray_local, tmp_path: Path,
                                                           shared_data: Path) -> None:
    run_dir, _ = in_process
    on_ray, results = _run_all(tmp_path, shared_data, RayExecutor(max_in_flight=2, max_retries=0))
    assert all(r.tasks_run > 0 and r.tasks_skipped == 0 for r in results.values())  # all of it ran on Ray
    expected, got = _comparable(run_dir), _comparable(on_ray)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if expected[name] != got[name]] == []


def test_a_rerun_in_process_skips_every_finished_task(in_process, shared_data: Path) -> None:
    run_dir, first = in_process
    before = _comparable(run_dir)
    again = _run_all(run_dir.parent.parent, shared_data)[1]  # the same manifest and run folder
    assert all(r.tasks_run == 0 and r.tasks_skipped > 0 for r in again.values())
    assert {name: r.outputs for name, r in again.items()} == {name: r.outputs for name, r in first.items()}
    after = _comparable(run_dir)  # the statistics say which tasks ran this time; nothing else changes
    assert {k: v for k, v in after.items() if not k.startswith("stats/")} == {
        k: v for k, v in before.items() if not k.startswith("stats/")}
    for name in (k for k in after if k.startswith("stats/") and k != "stats/dedup_clusters.json"):
        old, new = json.loads(before[name]), json.loads(after[name])
        assert (new["tasks_run"], new["counts"]) == (0, old["counts"]), name


def _fail(payload: dict) -> TaskResult:
    if payload["n"] == 1:
        raise ValueError("bad record 7 in shard one")
    return TaskResult([], Tally())


def test_in_process_failure_names_stage_and_shard(tmp_path: Path) -> None:
    tasks = [Task(f"t{n}", {"n": n}) for n in range(3)]
    with pytest.raises(StageError, match=r"stage demo, shard t1 failed: ValueError: bad record 7") as err:
        run_stage(tmp_path, "demo", tasks, _fail, executor=InProcessExecutor())
    assert "rerun the same command" in str(err.value)
    assert sorted(done_records(tmp_path, "demo")) == ["t0"]  # the task before the failure is kept


def test_stages_declare_what_flows_between_them() -> None:
    stages = [get_stage(name) for name in DEFAULT_ORDER]
    assert [s.name for s in stages] == list(STAGE_MODULES)
    check_order(stages)
    assert stages[0].consumes is None and stages[-1].produces == TOKENS
    assert all(s.consumes == DOCUMENTS for s in stages[1:])
    with pytest.raises(ValueError, match="tokenize must be the last stage"):
        check_order([get_stage("crawl"), get_stage("tokenize"), get_stage("dedup")])
    with pytest.raises(ValueError, match="must start with crawl"):
        check_order([get_stage("filter"), get_stage("tokenize")])
    with pytest.raises(ValueError, match="crawl reads the sources, so it must come first"):
        check_order([get_stage("crawl"), get_stage("crawl")])


def test_declared_outputs_fill_and_match() -> None:
    filter_stage = get_stage("filter")
    parts = filter_stage.match("documents", "filtered/0123abcd/web/00001-x.parquet")
    assert parts == {"hash": "0123abcd", "source": "web", "file": "00001-x.parquet"}
    assert filter_stage.output("ledger", hash="0123abcd", source="web") == "removed/0123abcd/web/"
    assert filter_stage.match("documents", "removed/0123abcd/web/00001-x.parquet") is None
    assert get_stage("dedup").output("ledger", source="*") == "removed/dedup/*/"
    with pytest.raises(KeyError, match="declares no output 'nope'"):
        filter_stage.output("nope")
