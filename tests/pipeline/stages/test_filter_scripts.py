"""The filter stage judges each document of a language written in several scripts with the entry of its script.

A web source whose language filter labels Serbian "sr" (its ``script`` signal picks srp_Latn's or srp_Cyrl's entry)
and a book source that declares "sr" without a language filter (the decision step computes the script of those
documents): Latin-script Serbian is kept (removed by srp_Cyrl's stop words with one entry per language), the
``language`` column keeps lid.176's "sr", and a second run writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.documents import Document
from pipeline.manifest import parse_manifest
from pipeline.report import collect, html
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
from tests.pipeline.filters.support import SHARED_DATA
from tests.pipeline.filters.test_script_entries import SR_CYRL, SR_LATN, SR_LATN_LID
from tests.pipeline.stages.test_filter import write_shard
from tests.pipeline.test_report import _assert_page_matches


def _run(root: Path) -> Path:
    manifest = parse_manifest(f"""
run: {{name: scripts, output_dir: {root}}}
sources:
  - {{name: web, kind: commoncrawl, paths: ["{SHARED_DATA}/web/dolma-sample-0000.warc.gz"]}}
  - {{name: books, kind: books, paths: ["{SHARED_DATA}/books/the-verdict.txt"]}}
stages:
  filter:
    per_source: {{web: {{language: {{languages: [sr], min_score: null}}}}, books: {{language: {{enabled: false}}}}}}
""")
    run_dir = manifest.run_dir
    inputs = [write_shard(run_dir, "docs/web/p0.parquet", "web",
                          [Document(key="latn", text=SR_LATN_LID), Document(key="cyrl", text=SR_CYRL)]),
              write_shard(run_dir, "docs/books/p0.parquet", "books",
                          [Document(key=k, text=t, meta={"language": "sr"}) for k, t in (("latn", SR_LATN),
                                                                                          ("cyrl", SR_CYRL))])]
    filter_stage.run(RunContext(manifest), inputs)
    return run_dir


def _outputs(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*.parquet"))
            if "filtered" in p.parts or "removed" in p.parts}


def test_latin_and_cyrillic_serbian_are_each_judged_with_their_scripts_entry(tmp_path: Path) -> None:
    run_dir = _run(tmp_path / "a")
    counts = json.loads((run_dir / "stats" / "filter.json").read_text())["counts"]
    assert counts["docs_in"] == 4 and counts["docs_out"] == 4, {k: v for k, v in counts.items() if "removed" in k}
    kept = [pq.read_table(p) for p in sorted(run_dir.rglob("*.parquet")) if "filtered" in p.parts]
    rows = sorted((r["source"], r["language"], r["script"]) for t in kept for r in t.to_pylist())
    # lid.176's label stays in the language column; the books chain has no language filter, so no script column
    assert rows == [("books", None, None)] * 2 + [("web", "sr", "Cyrl"), ("web", "sr", "Latn")]
    # the statistics and the report name the entry each Latin page was judged with; the Cyrillic ones keep "sr"'s
    assert {k: v for k, v in counts.items() if k.startswith("script_entries.")} == {
        "script_entries.web.sr-Latn": 1, "script_entries.books.sr-Latn": 1}
    sources = ["web", "books"]
    section = collect.filter_section(run_dir, collect.stage_entry(run_dir, "filter", sources), sources)
    assert section["script_entries"] == {"books": {"sr-Latn": 1}, "web": {"sr-Latn": 1}} and "rules_off" not in section
    page = html._filter({"filter": section})
    assert "Languages judged by script" in page and _assert_page_matches(page, {"filter": section}) > 2
    outputs = _outputs(run_dir)
    assert outputs and _outputs(_run(tmp_path / "b")) == outputs  # a rerun writes the same bytes
