"""The filter stage on real Chinese and German sources: each keeps its own language, per source.

Wikipedia dumps keep the language of their siteinfo, books the language they are written in, and a web
source the manifest's keep-list (here Chinese); kept documents carry language and script, and the stage
statistics count languages per source on the way in and out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.manifest import parse_manifest
from contracts.accounting import Tally
from pipeline.readers import get_reader, reader_module
from pipeline.readers.base import Split
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
from tests.pipeline.filters.support import SHARED_DATA
from tests.pipeline.stages.test_filter import write_shard

SOURCES = {"zhwiki": ("wikipedia", "wiki/zhwiki-test-pages.xml"),
           "dewiki": ("wikipedia", "wiki/dewiki-20170701-sample.xml"),
           "zhbook": ("books", "books/zh-hongloumeng-pg24264.txt"),
           "debook": ("books", "books/de-goethe-faust1-pg2229.txt"),
           "zhweb": ("commoncrawl", "web/resiliparse-CC-MAIN-2020-34-excerpt.warc.gz")}  # mostly Chinese


@pytest.fixture(scope="module")
def run(tmp_path_factory, ray_local):
    missing = [str(SHARED_DATA / path) for _, path in SOURCES.values() if not (SHARED_DATA / path).exists()]
    if missing:
        pytest.fail(f"real test corpora {missing} not found: "
                    "the tests expect the project's shared/ folder beside the "
                    "repository checkout (see shared/data/PROVENANCE.md)")
    root = tmp_path_factory.mktemp("filter-ml")
    lines = "\n".join(f'  - {{name: {name}, kind: {kind}, paths: ["{SHARED_DATA / path}"]}}'
                      for name, (kind, path) in SOURCES.items())
    manifest = parse_manifest(f"""
run: {{name: ml, output_dir: {root}}}
sources:
{lines}
stages:
  filter:
    per_source: {{zhweb: {{language: {{languages: [zh]}}}}}}
""")
    inputs, read = [], {}
    for name, (kind, path) in SOURCES.items():
        docs = list(get_reader(kind).read(Split(str(SHARED_DATA / path)), reader_module(kind).Options(), Tally()))
        read[name] = len(docs)
        inputs.append(write_shard(manifest.run_dir, f"docs/{name}/p0.parquet", name, docs))
    result = filter_stage.run(RunContext.on_ray(manifest), inputs)  # the stage as a run drives it, on Ray
    return {"run_dir": manifest.run_dir, "result": result, "read": read}


def test_each_source_keeps_its_own_language(run):
    run_dir: Path = run["run_dir"]
    kept = {Path(p).parent.name: pq.read_table(run_dir / p) for p in run["result"].outputs}
    assert kept["zhwiki"].num_rows == run["read"]["zhwiki"] == 23  # no Chinese article removed
    assert kept["dewiki"].num_rows >= run["read"]["dewiki"] - 1
    assert kept["zhbook"].num_rows == kept["debook"].num_rows == 1
    # the Chinese pages of this Common Crawl excerpt are spam and link lists: removed, but for what they
    # are (repetition, no sentences), never by an English word rule misreading unspaced text
    removed = pq.read_table(run_dir / run["result"].outputs[-1].replace("filtered/", "removed/", 1))
    chinese = [r for r in removed.to_pylist() if r["language"] == "zh"]
    assert len(chinese) >= 8
    misreadings = {"max_mean_word_length", "no_lines_left", "min_stop_words", "not_analysed"}
    assert not [r["rule"] for r in chinese if r["rule"] in misreadings]
    for name, table in kept.items():
        if not table.num_rows:
            continue
        language = "zh" if name.startswith("zh") else "de"
        assert set(table["language"].to_pylist()) == {language}, name
        assert set(table["script"].to_pylist()) == {"Hani" if language == "zh" else "Latn"}, name
        assert set(table["meta"].combine_chunks().field("language").to_pylist()) <= {language, None}, name


def test_languages_per_source_in_the_stage_statistics(run):
    stats = json.loads((run["run_dir"] / "stats" / "filter.json").read_text())
    counts = stats.get("counts", stats)
    assert counts["language_in.zhwiki.zh"] == counts["language_out.zhwiki.zh"] == 23
    assert counts["language_out.zhbook.zh"] == counts["language_out.debook.de"] == 1
    assert not any(k.startswith("removed.zhwiki.language") for k in counts)
