"""The corpus report on real pipeline runs over ../shared/data (two WARCs, one wiki dump, a book, and a
JSONL of real book paragraphs with planted duplicates and a planted ``<script>`` document).

Checked: report.html shows exactly the numbers of stats.json, which equal counts recomputed from the
shards; corpus text is escaped; the page opens in headless Chromium with no console error, no request
beyond itself and every plot decoded; training metrics in the trainer's JSONL format become curves; two
runs with different thresholds compare.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from contracts.eval_results import write_results
from pipeline.cli import main as cli_main
from pipeline.manifest import load_manifest
from pipeline.report import write_report
from pipeline.report.html import fmt
from pipeline.run import run_manifest
from tests.pipeline.browser import check_page, chromium_path, needs_chromium
from tests.pipeline.helpers import book_paragraphs_jsonl, write_manifest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PLANTED = "<script>window.__pwned = 1</script> click <b>here</b> & win"


def _sources(shared_data: Path, notes: Path) -> list[dict]:
    return [
        {"name": "web", "kind": "commoncrawl",
         "paths": [str(shared_data / "web" / "dolma-sample-0000.warc.gz"), str(shared_data / "web" / "cc-whirlwind.warc.gz")],
         "weight": 0.4},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(shared_data / "wiki" / "enwiki-table-markup.xml.bz2")],
         "weight": 0.3},
        {"name": "books", "kind": "books", "paths": [str(shared_data / "books" / "the-verdict.txt")], "weight": 0.1,
         "max_epochs": 2},
        {"name": "notes", "kind": "jsonl", "paths": [str(notes)], "options": {"url_field": "url"}, "weight": 0.2},
    ]


def _notes(shared_data: Path, folder: Path) -> Path:
    """Real book paragraphs, the planted script first, and one paragraph three times (a dedup cluster)."""
    path = book_paragraphs_jsonl(shared_data, folder / "paragraphs.jsonl", limit=150)
    lines = path.read_text().splitlines()
    planted = json.dumps({"id": "planted", "text": PLANTED, "url": 'http://evil.example/"><script>x()</script>'})
    copy = next(r for r in map(json.loads, lines) if r["text"].startswith("Standing in the doorway"))
    dupes = [json.dumps({**copy, "id": f"copy-{i}"}) for i in range(2)]
    notes = folder / "notes.jsonl"
    notes.write_text("\n".join([planted] + lines + dupes) + "\n")
    return notes


def _run(folder: Path, shared_data: Path, name: str, per_source: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stages = {"order": ["crawl", "filter", "dedup", "tokenize"], "crawl": {"shard_docs": 40},
              "filter": {"per_source": per_source or {}},
              "tokenize": {"tokenizer": {"kind": "tiktoken", "name": "gpt2",
                                         "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")},
                           "validation": {"fraction": 0.1}}}
    manifest = load_manifest(write_manifest(folder, _sources(shared_data, _notes(shared_data, folder)), name=name,
                                            stages=stages))
    run_manifest(manifest)
    return manifest.run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_data, ray_local):
    root = tmp_path_factory.mktemp("report")
    notes = {"c4": None, "fineweb": None}  # one paragraph is one line: the line-based rules remove most
    run_a = _run(root / "a", shared_data, "strict", {"notes": notes})
    run_b = _run(root / "b", shared_data, "lenient", {"notes": {**notes, "gopher_quality": {"min_words": 10}}})
    return run_a, run_b


@pytest.fixture(scope="module")
def report(runs):
    run_a, _ = runs
    assert (run_a / "report" / "report.html").exists(), "run_manifest writes the report at the end of a run"
    started = time.monotonic()
    stats_path, page, stats = write_report(run_a)
    return {"run": run_a, "stats": json.loads(stats_path.read_text()), "page": page,
            "html": page.read_text(), "seconds": time.monotonic() - started}


# ------------------------------------------------------------------------------------------- helpers

class _Keys(HTMLParser):
    """(JSON pointer, shown text) of every element with a data-key attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self._open.append((tag, dict(attrs).get("data-key")))
        if dict(attrs).get("data-key") is not None:
            self.found.append((dict(attrs)["data-key"], ""))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][1] is not None:
                key = self._open[i][1]
                idx = max(j for j, (k, _) in enumerate(self.found) if k == key)
                self.found[idx] = (key, self.found[idx][1] + data)
                break


def _resolve(data, pointer: str):
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _assert_page_matches(html_text: str, data: dict) -> int:
    parser = _Keys()
    parser.feed(html_text)
    assert parser.found, "no numbers bound to stats.json"
    for pointer, shown in parser.found:
        value = _resolve(data, pointer)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AssertionError(f"{pointer}: not a number in the data: {value!r}")
        if isinstance(value, int):
            assert int(shown.replace(",", "")) == value, (pointer, shown, value)
        else:
            assert shown == fmt(value), (pointer, shown, value)
    return len(parser.found)


def _bucket(n: int) -> int:
    return 0 if n == 0 else 1 << (n.bit_length() - 1)


def _docs(run_dir: Path, stage: str) -> pa.Table:
    outputs = json.loads((run_dir / "stats" / f"{stage}.json").read_text())["outputs"]
    return pa.concat_tables([pq.read_table(run_dir / o).select(["id", "source", "url", "text"]) for o in outputs])


def _per_source(table: pa.Table) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in table.to_pylist():
        s = out.setdefault(row["source"], {"docs": 0, "chars": 0, "hist": Counter()})
        s["docs"] += 1
        s["chars"] += len(row["text"])
        s["hist"][str(_bucket(len(row["text"])))] += 1
    return out


def _stage(stats: dict, name: str) -> dict:
    return next(s for s in stats["stages"] if s["stage"] == name)


# --------------------------------------------------------------------------------------------- tests

def test_page_shows_exactly_the_numbers_of_stats_json(report):
    assert _assert_page_matches(report["html"], report["stats"]) > 100


def test_stage_counts_equal_counts_recomputed_from_the_shards(report):
    run, stats = report["run"], report["stats"]
    for stage in ("crawl", "filter", "dedup"):
        entry = _stage(stats, stage)
        for source, truth in _per_source(_docs(run, stage)).items():
            assert entry["per_source"][source]["docs_out"] == truth["docs"], (stage, source)
            assert entry["per_source"][source]["chars_out"] == truth["chars"], (stage, source)
            assert entry["histograms"]["chars"][source] == dict(truth["hist"]), (stage, source)
    # what one stage wrote is what the next read
    for before, after in (("crawl", "filter"), ("filter", "dedup"), ("dedup", "tokenize")):
        for source, c in _stage(stats, before)["per_source"].items():
            if c["docs_out"]:
                assert _stage(stats, after)["per_source"][source]["docs_in"] == c["docs_out"], (before, source)
    # every shard here holds at most 40 documents, below the 50-host cap: host counts are exact
    crawl = _docs(run, "crawl").to_pylist()
    hosts = Counter(re.sub(r"^www\.", "", r["url"].split("/")[2].split(":")[0].lower()) for r in crawl
                    if r["source"] == "web" and r["url"])
    top = dict(_stage(stats, "crawl")["domains"]["web"]["top"])
    assert top == {h: n for h, n in hosts.items() if h in top} and len(top) == min(20, len(hosts))
    assert _stage(stats, "crawl")["domains"]["web"]["other"] == 0


def test_filter_funnel_equals_the_removal_ledger(report):
    run, stats = report["run"], report["stats"]
    ledger = Counter()
    for path in (run / "removed").glob("*/*/*.parquet"):
        if path.parts[-3] == "dedup":
            continue
        t = pq.read_table(path, columns=["source", "filter", "rule"]).to_pylist()
        ledger.update((r["source"], r["filter"], r["rule"]) for r in t)
    shown = Counter({(s, r["filter"], r["rule"]): r["docs"] for s, f in stats["filter"]["funnel"].items()
                     for r in f["rules"]})
    assert shown == ledger and sum(ledger.values()) > 0
    for source, f in stats["filter"]["funnel"].items():
        assert f["docs_in"] - f["removed"] == f["docs_out"] == _stage(stats, "filter")["per_source"][source].get(
            "docs_out", 0)
        for rule in f["rules"]:
            assert 1 <= len(rule["examples"]) <= 3
    kept = pa.concat_tables([pq.read_table(run / o, columns=["source", "language"]) for o in json.loads(
        (run / "stats" / "filter.json").read_text())["outputs"]]).to_pylist()
    languages = Counter((r["source"], r["language"]) for r in kept if r["language"])
    shown = {(s, code): n for s, codes in _stage(stats, "filter")["languages"]["out"].items() for code, n in codes.items()}
    assert shown == dict(languages)


def test_dedup_and_tokens_equal_the_shards(report):
    run, stats = report["run"], report["stats"]
    ledger = pq.read_table(sorted((run / "removed" / "dedup").glob("*/*.parquet"))[0]).to_pylist()
    dedup = stats["dedup"]
    assert dedup["removed"]["exact"] + dedup["removed"]["near"] >= 2  # the planted copies
    assert sum(dedup["cluster_size_histogram"].values()) == dedup["clusters"] >= 1
    assert dedup["docs_in"] - dedup["docs_out"] == dedup["removed_within_source"] + dedup["removed_across_source"]
    assert any(m.get("text") for c in dedup["example_clusters"] for m in c["members"]) and ledger

    index = json.loads((run / "tokens" / "index.json").read_text())
    per_source: dict[str, Counter] = {}
    for shard in index["shards"]:
        table = pa.ipc.open_file(run / "tokens" / shard["path"]).read_all()
        lengths = pc.list_value_length(table.column("tokens")).to_pylist()
        c = per_source.setdefault(shard["source"], Counter())
        c[f"tokens_{shard['split']}"] += sum(lengths)
        c.update(str(_bucket(n)) for n in lengths)
    tokenize = _stage(stats, "tokenize")
    for source, c in per_source.items():
        assert tokenize["per_source"][source]["tokens_train"] == c["tokens_train"] == \
            stats["tokens"]["per_source"][source]["train_tokens"]
        assert tokenize["histograms"]["tokens"][source] == {k: v for k, v in c.items() if not k.startswith("tokens_")}
    shares = stats["tokens"]["per_source"]
    assert abs(sum(s["requested_share"] for s in shares.values()) - 1) < 1e-9
    assert abs(sum(s["dataset_share"] for s in shares.values()) - 1) < 1e-9


def test_skipped_records_have_reasons_and_examples(report):
    skipped = _stage(report["stats"], "crawl")["skipped"]
    counts = json.loads((report["run"] / "stats" / "crawl.json").read_text())["counts"]
    assert {f"skipped.{k}": v["count"] for k, v in skipped.items()} == {
        k: v for k, v in counts.items() if k.startswith("skipped.")}
    assert all(v["examples"] for v in skipped.values())
    # each count of examples reads as English: "1 example", "3 examples"
    summaries = re.findall(r"<summary>(\d+) ((?:removed )?examples?)</summary>", report["html"])
    assert summaries and all((n == "1") == (noun[-1] != "s") for n, noun in summaries), summaries


def test_corpus_text_is_escaped(report):
    html_text = report["html"]
    ledger_example = [e for f in report["stats"]["filter"]["funnel"]["notes"]["rules"] for e in f["examples"]
                      if e["id"] and "pwned" in e["text"]]
    assert ledger_example, "the planted document is among the removed examples"
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt; click &lt;b&gt;here&lt;/b&gt; &amp; win" in html_text
    assert "<script" not in html_text.lower()
    assert "http://evil.example/&quot;&gt;&lt;script&gt;" in html_text


@needs_chromium
def test_page_opens_in_headless_chromium(report):
    check = check_page(report["page"], ARTIFACTS / "report.png",
                       {"pwned": "typeof window.__pwned", "scripts": "document.scripts.length",
                        "sections": "document.querySelectorAll('section').length"})
    assert check.console_errors == []
    assert check.images and all(i["ok"] and i["complete"] and i["width"] > 0 for i in check.images), check.images
    assert all(u.startswith(("file:", "data:")) for u in check.requests), check.requests
    assert check.values == {"pwned": "undefined", "scripts": 0, "sections": 9}  # "loss" section first
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def _metrics(folder: Path, sources: list[str]) -> Path:
    """A metrics.jsonl in the trainer's format (training/metrics.py), with a torn last line."""
    lines = [{"kind": "start", "step": 0, "params": 1000, "config": {"optim": {"lr": 0.001}}}]
    for step in range(1, 31):
        lines.append({"kind": "train", "step": step, "loss": 8 / step ** 0.3, "lr": 1e-3 * min(1, step / 5),
                      "grad_norm": 1.0, "tokens_seen": step * 4096, "tokens_per_s": 5000.0 + step,
                      "mfu": 0.01, "step_ms": 800.0, "mixture": {s: 1 / len(sources) for s in sources}})
        if step % 10 == 0:
            lines.append({"kind": "eval", "step": step, "val_loss": {s: 7 / step ** 0.2 + i for i, s in
                                                                      enumerate(sources)},
                          "val_loss_overall": 7 / step ** 0.2})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in lines) + '\n{"kind": "train", "st')
    return path


def test_training_metrics_become_curves(report, tmp_path):
    run = report["run"]
    sources = list(report["stats"]["tokens"]["per_source"])
    train_dir = tmp_path / "train"
    _metrics(train_dir, sources)
    assert cli_main(["report", str(run), "--train-dir", str(train_dir), "--out", str(tmp_path / "out")]) == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    series = stats["training"]["series"]
    assert series["train/loss"]["group"] == "loss" and len(series["train/loss"]["x"]) == 30
    assert series["eval/val_loss_overall"]["group"] == "loss"
    assert {series[f"eval/val_loss.{s}"]["source"] for s in sources} == set(sources)
    assert series["train/tokens_per_s"]["group"] == "throughput" and series["train/lr"]["group"] == "lr"
    assert stats["training"]["realised_mixture"] == {s: 1 / len(sources) for s in sources}
    html_text = (tmp_path / "out" / "report.html").read_text()
    _assert_page_matches(html_text, stats)
    assert html_text.count("<img") == report["html"].count("<img") + 4  # loss, per source, tokens/s, lr

    _metrics(run / "train", sources)  # found in the run folder without --train-dir
    _, _, found = write_report(run, out_dir=tmp_path / "found")
    assert found["training"]["files"] == ["train/metrics.jsonl"]


def test_the_page_is_the_same_bytes_in_every_process(report, tmp_path):
    """Two command-line processes (lean matplotlib import) and this one (plain import) write the same bytes:
    the SVG figures' clip-path ids are hashed with a fixed salt, never a fresh uuid, and carry no date."""
    run = report["run"]
    for name in ("one", "two"):
        subprocess.run([sys.executable, "-m", "pipeline", "report", str(run), "--out", str(tmp_path / name)],
                       cwd=REPO, check=True, capture_output=True)
    write_report(run, out_dir=tmp_path / "here")
    for file in ("report.html", "stats.json"):
        ours = (tmp_path / "here" / file).read_bytes()
        assert (tmp_path / "one" / file).read_bytes() == ours == (tmp_path / "two" / file).read_bytes(), file
    page = (tmp_path / "here" / "report.html").read_text()
    assert page.count("data:image/svg+xml;base64,") == page.count("<img") >= 3


def test_report_takes_seconds(report):
    assert report["seconds"] < 20


def test_compare_two_threshold_settings(runs, tmp_path):
    run_a, run_b = runs
    out = tmp_path / "compare"
    scores = {"seed": 1234, "limit": 10, "tasks": {"core.copa": {"metric": "acc_per_token", "value": 0.5, "items": 10,
                                                                 "random_baseline": 0.5}}}
    write_results(run_a / "train" / "checkpoint.eval.json", {**scores, "core": {"value": 0.0}})
    write_results(run_b / "train" / "checkpoint.eval.json", {
        **scores, "tasks": {"core.copa": {**scores["tasks"]["core.copa"], "value": 0.7}}, "core": {"value": 0.4}})
    assert cli_main(["report", str(run_a), str(run_b), "--out", str(out)]) == 0
    data = json.loads((out / "compare.json").read_text())
    assert {d["key"]: (d["a"], d["b"]) for d in data["settings_diff"]} == {
        "filter.chains.notes.gopher_quality.min_words": (50, 10)}
    rules = {r["rule"]: r for r in data["funnel"]["notes"]}
    assert rules["gopher_quality.min_words"]["a"] > rules["gopher_quality.min_words"]["b"]
    filter_diffs = {d["key"]: d for d in data["counts"]["filter"]["differ"]}
    assert filter_diffs["docs_out"]["diff"] > 0

    # kept by B and removed by A, recomputed from A's ledgers and B's kept shards
    def ids(run: Path, pattern: str) -> set[str]:
        return {i for p in run.glob(pattern) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()}

    removed_a = ids(run_a, "removed/*/*/*.parquet")
    kept_b = ids(run_b, "dedup/*/*.parquet")
    docs = data["documents"]
    assert docs["shards_scanned"] == docs["shards_in_common"]
    assert docs["kept_by_b_removed_by_a"] == len(removed_a & kept_b) > 0
    assert docs["b_not_a"] and all("gopher_quality.min_words" in d["removed_by"] or "dedup" in d["removed_by"]
                                   for d in docs["b_not_a"])
    (pair,) = data["evaluation"]["pairs"]
    assert pair["tasks"][0]["diff"] == pytest.approx(0.2) and pair["core"]["diff"] == pytest.approx(0.4)
    html_text = (out / "compare.html").read_text()
    _assert_page_matches(html_text, data)
    assert "<script" not in html_text.lower()
    if chromium_path():
        check = check_page(out / "compare.html", ARTIFACTS / "compare.png")
        assert check.console_errors == [] and check.images and all(i["ok"] for i in check.images)


def test_in_training_benchmark_scores_get_their_own_plot(tmp_path):
    """The trainer's "benchmark" records (training.benchmarks.in_training): each task's value and CORE
    are plotted together; item counts and baselines stay out of the plots."""
    from pipeline.report.training import classify, read_series

    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(json.dumps({"kind": "benchmark", "step": step, "core": 0.01 * step, "tasks": {
        "core.copa": {"metric": "acc_per_token", "value": 0.5, "items": 100, "random_baseline": 0.5}}})
        for step in (0, 10)) + "\n")
    _, series = read_series(path)
    assert series["benchmark/core"] == ([0.0, 10.0], [0.0, 0.1])
    groups = {name: classify(name, ["books"])[0] for name in series}
    assert groups == {"benchmark/core": "benchmark", "benchmark/tasks.core.copa.value": "benchmark",
                      "benchmark/tasks.core.copa.items": "other", "benchmark/tasks.core.copa.random_baseline": "other"}


def test_documents_a_filter_did_not_judge_are_reported(tmp_path) -> None:
    from pipeline.report.collect import filter_section
    from pipeline.report.html import _filter

    counts = {"removed.lzhwiki.length.too_short": 1, "removed_chars.lzhwiki.length.too_short": 10,
              "rules_skipped.lzhwiki.language.no_model_label": 22}
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "filter.json").write_text(json.dumps({"outputs": []}))  # a run with no ledgers
    section = filter_section(tmp_path, {"counts": counts, "per_source": {"lzhwiki": {"docs_in": 23, "docs_out": 22}}},
                             ["lzhwiki"])
    assert section["rules_skipped"] == {"lzhwiki": {"language.no_model_label": 22}}
    page = _filter({"filter": section})
    assert "Documents a filter did not judge" in page and "language.no_model_label" in page
    assert 'data-key="/filter/rules_skipped/lzhwiki/language.no_model_label"' in page


def test_a_source_a_stage_wrote_nothing_of_shows_zero_not_unknown() -> None:
    from pipeline.report.collect import parse_stage_counts
    from pipeline.report.html import _languages, _overview

    counts = {"source.web.docs_in": 54, "source.web.chars_in": 227372, "source.web.docs_out": 29,
              "source.web.chars_out": 150398, "source.web-wet.docs_in": 1, "source.web-wet.chars_in": 4302,
              "language_in.web.en": 54, "language_out.web.en": 29, "language_in.web-wet.es": 1}
    parsed = parse_stage_counts(counts, ["web", "web-wet"])
    assert parsed["per_source"]["web-wet"] == {"docs_in": 1, "chars_in": 4302, "docs_out": 0, "chars_out": 0}
    assert "tokens_out" not in parsed["per_source"]["web"]  # only measures the stage writes
    tokenize = parse_stage_counts({"source.a.docs_in": 2, "source.a.docs_out": 2, "source.a.tokens_out": 9,
                                   "source.b.docs_in": 0}, ["a", "b"])
    assert tokenize["per_source"]["b"] == {"docs_in": 0, "docs_out": 0, "tokens_out": 0}
    stage = {"stage": "filter", **parsed}
    page = _languages({"stages": [stage]})
    assert "<td class=muted>none</td>" in page  # web-wet kept no document: said, not left blank
    row = _overview({"stages": [{**stage, "totals": {}}]})
    assert '<td class="n" data-key="/stages/0/per_source/web-wet/docs_out">0</td>' in row


def test_length_buckets_without_documents_keep_their_place() -> None:
    from pipeline.report.html import _lengths

    hist = {"books": {"262144": 3, "1048576": 1}, "web": {"512": 4}}  # nothing in 1k .. 128k, 512k
    stage = {"stage": "crawl", "histograms": {"chars": hist}}
    page = _lengths({"stages": [stage], "sources": [{"name": "books"}, {"name": "web"}]})
    header = [f"<th>≥{512 << k:,}</th>" for k in range(12)]  # 512 .. 1M, every power of two
    assert "".join(header) in page
    assert page.count('<td class="n">0</td>') == 2 * 12 - 3  # the empty buckets shown as 0


def test_crawl_only_run_with_an_empty_source_and_markup_in_titles_urls_and_skips(shared_data: Path,
                                                                               tmp_path: Path) -> None:
    """One stage only; a source whose one file yields no document (its line is markup, an invalid_json skip
    whose example quotes it); titles and URLs carrying markup. The report is written, names the empty
    source with 0 documents and its skip reason, and escapes every planted string."""
    paras = book_paragraphs_jsonl(shared_data, tmp_path / "p.jsonl", limit=12).read_text().splitlines()
    planted = "<script>alert('t')</script>"
    rows = [json.dumps({**json.loads(line), "title": f"{planted} & \"title\"",
                        "url": f"https://example.org/?q=<b>&x=\"{i}\"><img src=x onerror=alert(1)>"})
            for i, line in enumerate(paras)]
    good, empty = tmp_path / "good.jsonl", tmp_path / "empty.jsonl"
    good.write_text("\n".join(rows) + "\n")
    empty.write_text("<img src=x onerror=alert(2)>\n")
    sources = [{"name": "good", "kind": "jsonl", "paths": [str(good)],
                "options": {"title_field": "title", "url_field": "url"}},
               {"name": "empty", "kind": "jsonl", "paths": [str(empty)]}]
    manifest = load_manifest(write_manifest(tmp_path, sources, ray={"in_process": True}))
    run_manifest(manifest)
    html_text = (manifest.run_dir / "report" / "report.html").read_text()
    stats = json.loads((manifest.run_dir / "report" / "stats.json").read_text())
    crawl = _stage(stats, "crawl")
    assert crawl["per_source"]["empty"]["docs_out"] == 0 and crawl["skipped"]["invalid_json"]["count"] == 1
    assert "&lt;img src=x onerror=alert(2)&gt;" in html_text
    lowered = html_text.lower()
    assert "<script" not in lowered and "<img src=x" not in lowered and "<b>&" not in lowered
