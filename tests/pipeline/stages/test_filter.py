"""The filter stage through ``run_stage`` with the in-process executor, on document shards of real text.

Shards: real Common Crawl pages (two shards), real Wikipedia articles and real books, read with the
project's readers from shared/data, plus a shard of bad input (empty, whitespace, symbols, mixed scripts
and a 50 MB single-line document).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.documents import DOC_SCHEMA, Document
from pipeline.manifest import parse_manifest
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
from tests.pipeline.filters.support import SHARED_DATA, real_documents

SENTENCE = "It is a truth universally acknowledged that a good fortune must be spent on books. "
BAD = {"empty": "", "blank": "  \n\t\n ", "symbols": "!!! ### ??? *** ... ---",
       "mixed": "English words, 中文字符, русский текст and العربية. " * 4,
       "huge": (SENTENCE * (50_000_000 // len(SENTENCE) + 1))[:50_000_000]}


def manifest_text(run_root: Path, per_source: str = "{}") -> str:
    return f"""
run: {{name: t, output_dir: {run_root}}}
sources:
  - {{name: web, kind: commoncrawl, paths: ["{SHARED_DATA}/web/dolma-sample-0000.warc.gz"]}}
  - {{name: wiki, kind: wikipedia, paths: ["{SHARED_DATA}/wiki/enwiki-table-markup.xml.bz2"]}}
  - {{name: books, kind: books, paths: ["{SHARED_DATA}/books/the-verdict.txt"]}}
  - {{name: odd, kind: jsonl, paths: ["{SHARED_DATA}/finetune/instruction-data.json"]}}
stages:
  filter:
    per_source: {per_source}
"""


def write_shard(run_dir: Path, relative: str, source: str, docs: list[Document]) -> str:
    table = pa.Table.from_pylist([d.to_row(source) for d in docs], schema=DOC_SCHEMA)
    path = run_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return relative


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("filter")
    manifest = parse_manifest(manifest_text(root))
    run_dir = manifest.run_dir
    web = list(real_documents("commoncrawl"))
    inputs = [write_shard(run_dir, "docs/web/p0.parquet", "web", web[:80]),
              write_shard(run_dir, "docs/web/p1.parquet", "web", web[80:]),
              write_shard(run_dir, "docs/wiki/p0.parquet", "wiki", list(real_documents("wikipedia"))),
              write_shard(run_dir, "docs/books/p0.parquet", "books", list(real_documents("books"))),
              write_shard(run_dir, "docs/odd/p0.parquet", "odd",
                          [Document(key=k, text=t) for k, t in BAD.items()])]
    result = filter_stage.run(RunContext(manifest), inputs)
    return {"root": root, "run_dir": run_dir, "inputs": inputs, "result": result}


def _table(run_dir: Path, relative: str) -> pa.Table:
    return pq.read_table(run_dir / relative)


def _signal_stats(run_dir: Path) -> dict:
    return json.loads((run_dir / "stats" / "filter-signals.json").read_text())


def test_every_document_is_kept_or_in_the_ledger(run):
    run_dir, result = run["run_dir"], run["result"]
    assert len(result.outputs) == len(run["inputs"])
    for shard, kept_path in zip(run["inputs"], result.outputs):
        ids = _table(run_dir, shard)["id"].to_pylist()
        kept = _table(run_dir, kept_path)
        ledger = _table(run_dir, kept_path.replace("filtered/", "removed/", 1))
        assert sorted(kept["id"].to_pylist() + ledger["id"].to_pylist()) == sorted(ids)
        assert kept.schema.names[:len(DOC_SCHEMA)] == DOC_SCHEMA.names
        assert kept.select(DOC_SCHEMA.names).schema.equals(DOC_SCHEMA)
        assert set(kept.column_names) - set(DOC_SCHEMA.names) == {"language", "language_score", "script"}
        assert ledger["filter"].null_count == ledger["rule"].null_count == 0
    counts = Counter(result.tally.counts)
    total = sum(_table(run_dir, s).num_rows for s in run["inputs"])
    assert counts["docs_in"] == total
    assert counts["docs_out"] + counts["docs_removed"] == total
    removed = {k: v for k, v in counts.items() if k.startswith("removed.")}
    assert sum(removed.values()) == counts["docs_removed"]
    assert all(f"removed_chars.{k[len('removed.'):]}" in counts for k in removed)
    assert counts["removed.odd.length.min_chars"] == 2  # empty and blank


def test_sources_get_their_kind_chains(run):
    run_dir, outputs = run["run_dir"], run["result"].outputs
    books = _table(run_dir, outputs[3])
    assert books.num_rows == 7 and set(books["language"].to_pylist()) == {"en"}
    wiki = _table(run_dir, outputs[2])
    assert "Aldous Huxley" in wiki["title"].to_pylist()  # removed by the web chain, kept by wikipedia's
    web_ledger = pa.concat_tables([_table(run_dir, p.replace("filtered/", "removed/", 1)) for p in outputs[:2]])
    assert {"gopher_quality", "language"} <= set(web_ledger["filter"].to_pylist())
    row = web_ledger.to_pylist()[0]
    assert row["text"] and row["rule"] and (row["value"] is not None or row["detail"] is not None)


def test_bad_input_is_decided_with_a_reason(run):
    run_dir, outputs = run["run_dir"], run["result"].outputs
    ledger = _table(run_dir, outputs[4].replace("filtered/", "removed/", 1)).to_pylist()
    reasons = {row["id"]: (row["filter"], row["rule"]) for row in ledger}
    ids = {k: Document(key=k, text="").to_row("odd")["id"] for k in BAD}
    assert reasons[ids["empty"]] == reasons[ids["blank"]] == ("length", "min_chars")
    assert reasons[ids["huge"]] == ("gopher_repetition", "not_analysed")
    assert ids["symbols"] in reasons and ids["mixed"] in reasons
    assert len(ledger) == len(BAD)


def test_kept_text_has_no_emails_and_redactions_are_counted(run):
    run_dir, result = run["run_dir"], run["result"]
    texts = [t for p in result.outputs for t in _table(run_dir, p)["text"].to_pylist()]
    assert not any(re.search(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}", t) for t in texts)
    redacted = sum(t.count("[EMAIL]") for t in texts)
    counted = sum(v for k, v in result.tally.counts.items()
                  if k.startswith("rewritten.") and k.endswith(".email"))
    assert redacted == counted


def test_threshold_change_recomputes_no_signal(run):
    run_dir = run["run_dir"]
    signals = sorted((run_dir / "signals").rglob("*.parquet"))
    before = {p: p.stat().st_mtime_ns for p in signals}
    first_kept = sum(_table(run_dir, p).num_rows for p in run["result"].outputs[:2])
    manifest = parse_manifest(manifest_text(run["root"], "{web: {gopher_quality: {min_words: 10, "
                                                         "min_alpha_words: 0.5}}, books: {length: {min_chars: 30000}}}"))
    result = filter_stage.run(RunContext(manifest), run["inputs"])
    assert _signal_stats(run_dir)["tasks_run"] == 0  # every signal shard was already measured
    assert {p: p.stat().st_mtime_ns for p in sorted((run_dir / "signals").rglob("*.parquet"))} == before
    assert result.tasks_run == 3  # the two web shards and the books shard; wiki and odd are unchanged
    assert result.outputs[2] == run["result"].outputs[2]
    assert sum(_table(run_dir, p).num_rows for p in result.outputs[:2]) > first_kept
    books_ledger = _table(run_dir, result.outputs[3].replace("filtered/", "removed/", 1))
    assert books_ledger.num_rows == 1 and books_ledger["rule"][0].as_py() == "min_chars"  # the-verdict


def test_unchanged_rerun_skips_both_steps(run):
    result = filter_stage.run(RunContext(parse_manifest(manifest_text(run["root"]))), run["inputs"])
    assert result.tasks_run == 0 and _signal_stats(run["run_dir"])["tasks_run"] == 0
    assert result.outputs == run["result"].outputs


def test_signal_option_change_remeasures_only_that_source(run):
    manifest = parse_manifest(manifest_text(run["root"], "{wiki: {gopher_quality: {stop_words: [the, of]}}}"))
    result = filter_stage.run(RunContext(manifest), run["inputs"])
    assert _signal_stats(run["run_dir"])["tasks_run"] == 1
    assert result.tasks_run == 1


def test_unknown_source_in_per_source_is_an_error(run):
    manifest = parse_manifest(manifest_text(run["root"], "{webb: {c4: {}}}"))
    with pytest.raises(ValueError, match=r"stages.filter.per_source: unknown sources \['webb'\]"):
        filter_stage.run(RunContext(manifest), run["inputs"])


def _filter_files(run_dir: Path) -> dict[str, Any]:
    """Every file the two steps wrote: shards byte for byte; records and statistics without what differs
    from run to run anyway: a record's digest (it covers the run folder's path and the inputs' mtimes) and
    the ``signal_ms.*`` timings; and how many tasks each step ran or skipped (a rerun skips)."""
    def steady(record: dict) -> dict:
        counts = {k: v for k, v in record.get("counts", {}).items() if not k.startswith("signal_ms.")}
        return {**{k: v for k, v in record.items() if k not in ("task_digest", "tasks_run", "tasks_skipped_as_done")},
                "counts": counts}

    files: dict[str, Any] = {str(p.relative_to(run_dir)): p.read_bytes()
                             for folder in ("signals", "filtered", "removed")
                             for p in sorted((run_dir / folder).rglob("*")) if p.is_file()}
    for step in (filter_stage.SIGNALS_STAGE, filter_stage.STAGE):
        lines = (run_dir / "_done" / step / "ledger.jsonl").read_text().splitlines()
        files[f"_done/{step}"] = [steady(json.loads(line)) for line in lines]
        files[f"stats/{step}.json"] = steady(json.loads((run_dir / "stats" / f"{step}.json").read_text()))
    return files


class _Killed(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way catches it."""


def test_fused_steps_write_what_separate_steps_write_also_when_killed_between(tmp_path, monkeypatch):
    web = list(real_documents("commoncrawl"))
    runs = {}
    for how in ("separate", "fused", "killed"):
        manifest = parse_manifest(manifest_text(tmp_path / how))
        inputs = [write_shard(manifest.run_dir, "docs/web/p0.parquet", "web", web[:40]),
                  write_shard(manifest.run_dir, "docs/web/p1.parquet", "web", web[40:90])]
        context = RunContext(manifest)
        if how == "separate":  # each step's own task function, as before the fusion
            signal_tasks, decision_tasks = filter_stage.plan(context, inputs)
            context.run_tasks(filter_stage.SIGNALS_STAGE, signal_tasks, filter_stage.run_signals,
                              docs_key="docs_measured")
            context.run_tasks(filter_stage.STAGE, decision_tasks, filter_stage.run_decisions)
        elif how == "fused":
            filter_stage.run(context, inputs)
        else:  # the signal step's fused tasks finish and are recorded, then the run dies before the decisions
            def killed(self, stage, *args):
                raise _Killed(stage)
                yield  # a generator, as map is

            with monkeypatch.context() as patch:
                patch.setattr(filter_stage._Stash, "map", killed)
                with pytest.raises(_Killed):
                    filter_stage.run(context, inputs)
            assert len((manifest.run_dir / "_done" / "filter-signals" / "ledger.jsonl").read_text().splitlines()) == 2
            assert not (manifest.run_dir / "_done" / "filter" / "ledger.jsonl").exists()
            result = filter_stage.run(context, inputs)  # the rerun: signals skipped, decisions from the files
            assert _signal_stats(manifest.run_dir)["tasks_run"] == 0 and result.tasks_run == 2
        runs[how] = _filter_files(manifest.run_dir)
    assert len(runs["separate"]) == 10  # two shards x (signals, kept, removed), two ledgers, two statistics
    assert runs["fused"] == runs["separate"]
    assert runs["killed"] == runs["separate"]


@pytest.mark.parametrize("lengths, limit, expected", [
    ([], 10, [(0, 0)]),
    ([3, 3, 3, 3], 6, [(0, 2), (2, 4)]),
    ([3, 3, 3], 5, [(0, 1), (1, 2), (2, 3)]),
    ([50, 1, 1], 10, [(0, 1), (1, 3)]),  # a document over the limit is a batch of its own
    ([1, 50, 1], 10, [(0, 1), (1, 2), (2, 3)]),
    ([0, 0, 10, 0], 10, [(0, 4)]),
])
def test_signal_batches_cover_every_document_once_within_the_limit(lengths, limit, expected):
    got = list(filter_stage.signal_batches(np.array(lengths, dtype=np.int64), limit))
    assert [(s.start, s.stop) for s in got] == expected


def test_measured_batches_count_characters_only_beyond_the_limit_in_bytes(monkeypatch):
    """``_measured_batches`` gives ``signal_batches`` of the characters, and counts them only when the column
    holds more UTF-8 bytes than the limit: Chinese texts of more bytes but fewer characters than the limit,
    texts over it, sliced chunks (offsets not from 0), one chunk and several, no rows."""
    texts = ["中文" * 5, "ab", "", "é" * 7, "日本語" * 3, "x" * 12, "中"]
    chars = np.array([len(t) for t in texts], dtype=np.int64)
    whole = pa.chunked_array([pa.array(texts, pa.string())])
    columns = [whole, pa.chunked_array([pa.array(texts[:3]), pa.array(texts[3:])]),
               pa.chunked_array([pa.array(["pad"] + texts).slice(1)]), pa.chunked_array([], pa.string())]
    counted = []
    real = filter_stage.pc.utf8_length
    monkeypatch.setattr(filter_stage.pc, "utf8_length", lambda column: counted.append(1) or real(column))
    n_bytes = sum(len(t.encode()) for t in texts)
    assert n_bytes > chars.sum()
    for limit in (5, 12, 20, int(chars.sum()), n_bytes - 1, n_bytes, 10_000):
        for column in columns:
            counted.clear()
            lengths = chars if len(column) else np.zeros(0, np.int64)
            got = [(s.start, s.stop) for s in filter_stage._measured_batches(column, limit)]
            assert got == [(s.start, s.stop) for s in filter_stage.signal_batches(lengths, limit)], (limit, column)
            assert bool(counted) == (len(column) > 0 and limit < n_bytes), (limit, column)


def test_signals_measured_in_small_batches_are_the_signals_of_one_batch(tmp_path, monkeypatch):
    """Batching bounds memory only if it changes nothing: every file and statistic is the same when the
    shard is measured ~20,000 characters at a time (dozens of batches, documents of every language of
    the sample and the stand-alone long ones) as in one batch."""
    web = list(real_documents("commoncrawl"))
    wiki = list(real_documents("wikipedia"))
    runs = {}
    for limit in (1 << 40, 20_000):
        monkeypatch.setattr(filter_stage, "SIGNAL_BATCH_CHARS", limit)
        manifest = parse_manifest(manifest_text(tmp_path / str(limit)))
        inputs = [write_shard(manifest.run_dir, "docs/web/p0.parquet", "web", web),
                  write_shard(manifest.run_dir, "docs/wiki/p0.parquet", "wiki", wiki)]
        filter_stage.run(RunContext(manifest), inputs)
        runs[limit] = _filter_files(manifest.run_dir)
    total = sum(len(d.text) for d in web)
    assert total > 20 * 20_000  # many batches on the web shard
    assert runs[20_000] == runs[1 << 40]


def test_the_fused_task_gives_back_the_measured_heap_before_deciding(tmp_path, monkeypatch):
    """``run_fused`` releases (``release_within_task``) after measuring and before deciding: the signals'
    freed C heap is not reused by the decision step's Arrow tables (their own pool), so without it a web
    shard's task peaked at what measuring left resident plus what deciding allocates (issue 19)."""
    events: list[str] = []
    for name in ("_measure", "_decide_shard", "release_within_task"):
        real = getattr(filter_stage, name)
        monkeypatch.setattr(filter_stage, name,
                            lambda *a, _real=real, _name=name, **k: events.append(_name) or _real(*a, **k))
    manifest = parse_manifest(manifest_text(tmp_path))
    web = list(real_documents("commoncrawl"))
    inputs = [write_shard(manifest.run_dir, "docs/web/p0.parquet", "web", web[:20]),
              write_shard(manifest.run_dir, "docs/web/p1.parquet", "web", web[20:40])]
    filter_stage.run(RunContext(manifest), inputs)
    assert events == ["_measure", "release_within_task", "_decide_shard"] * 2


def test_the_decision_step_names_the_results_the_fused_tasks_handed_it(tmp_path, capsys):
    """Every decision of a first run was made by the fused tasks of the signal step: the filter step's progress
    line says so instead of a rate over documents it never read (it printed ~400,000 docs/s)."""
    manifest = parse_manifest(manifest_text(tmp_path))
    web = list(real_documents("commoncrawl"))[:20]
    inputs = [write_shard(manifest.run_dir, f"docs/web/p{i}.parquet", "web", web[i * 10:(i + 1) * 10])
              for i in range(2)]
    filter_stage.run(RunContext(manifest), inputs)
    err = capsys.readouterr().err.splitlines()
    measured = [line for line in err if line.startswith("[filter-signals] 2/2 shards")]
    decided = [line for line in err if line.startswith("[filter] 2/2 shards")]
    assert len(measured) == 1 and " docs/s | " in measured[0]
    assert len(decided) == 1 and re.fullmatch(r"\[filter\] 2/2 shards \| 2 computed by filter-signals \| [\d.,]+ s",
                                              decided[0]), decided
