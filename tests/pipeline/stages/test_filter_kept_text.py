"""The decision step's kept texts: only those a rewriting filter may change are decoded and rewritten, the
others stay the Arrow strings as read; empty kept and removed files are written from cached bytes. Both
must leave every output file as it was when every kept text went through Python (issue 13)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.documents import DOC_SCHEMA, Document, parquet_bytes
from pipeline.filters import base
from pipeline.filters.base import compute_signals, rewrite_rows, signal_schema
from pipeline.filters.chain import ChainSpec, build, resolve
from pipeline.filters.pii import PiiFilter, PiiOptions
from pipeline.manifest import parse_manifest
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
from tests.pipeline.filters.support import SHARED_DATA, real_documents
from tests.pipeline.stages.test_filter import _filter_files, write_shard

EXTRAS = ["Write to ana.lopez@example.org for the details.", "Mirrors: 8.8.4.4 and 1.1.1.1 answer today.",
          "The office router is 192.168.1.1 on the local network.", "Its address is 2001:4860:4860::8888.",
          "Version 1.2.3.4 shipped in May.", "Contact webmaster@wikipedia.org or 9.9.9.9 at once."]


def _documents() -> list[Document]:
    """The shared Wikipedia sample, with an address (public, private or none at all) put into some pages."""
    docs = list(real_documents("wikipedia"))
    out = []
    for i, doc in enumerate(docs):
        text = doc.text
        if i % 3 == 1:
            cut = len(text) // 2
            text = f"{text[:cut]}\n{EXTRAS[(i // 3) % len(EXTRAS)]}\n{text[cut:]}"
        out.append(Document(key=doc.key, text=text, url=doc.url, title=doc.title, meta=doc.meta))
    return out


def _manifest(root: Path, per_source: str = "{}"):
    return parse_manifest(f"""
run: {{name: t, output_dir: {root}}}
sources:
  - {{name: wiki, kind: wikipedia, paths: ["{SHARED_DATA}/wiki/enwiki-table-markup.xml.bz2"]}}
  - {{name: web, kind: commoncrawl, paths: ["{SHARED_DATA}/web/dolma-sample-0000.warc.gz"]}}
stages:
  filter:
    per_source: {per_source}
""")


def _run(root: Path, docs: list[Document], web: list[Document], per_source: str = "{}") -> dict:
    manifest = _manifest(root, per_source)
    inputs = [write_shard(manifest.run_dir, "docs/wiki/p0.parquet", "wiki", docs),
              write_shard(manifest.run_dir, "docs/web/p0.parquet", "web", web)]
    filter_stage.run(RunContext(manifest), inputs)
    return _filter_files(manifest.run_dir)


def test_kept_texts_are_decoded_only_where_a_filter_rewrites_and_the_files_are_the_same(tmp_path, monkeypatch):
    """Against the reference (every kept text through ``rewrite_kept``): the same shards, records and
    statistics, byte for byte, on Wikipedia pages (PII the only rewriting filter: some redacted, most
    passed through), on web pages (C4 rewrites every one) and on a shard where nothing is removed or
    nothing kept (the empty files from cached bytes)."""
    docs, web = _documents(), list(real_documents("commoncrawl"))[:40]
    decoded: Counter = Counter()  # texts handed to rewrite_kept, per source
    rewrite_kept = filter_stage.rewrite_kept

    def counting(chain, texts, counts, source, *args):
        decoded[source] += len(texts)
        return rewrite_kept(chain, texts, counts, source, *args)

    monkeypatch.setattr(filter_stage, "rewrite_kept", counting)
    now = _run(tmp_path / "now", docs, web)
    wiki_decoded, web_decoded = decoded["wiki"], decoded["web"]
    with monkeypatch.context() as patch:  # the reference: every kept text is a candidate
        patch.setattr(filter_stage, "rewrite_rows", lambda chain, signals, languages: np.ones(signals.num_rows, bool))
        reference = _run(tmp_path / "reference", docs, web)
    assert now == reference
    wiki = [k for k in now if k.startswith("filtered/") and "/wiki/" in k]
    texts = pq.read_table(pa.BufferReader(now[wiki[0]]))["text"].to_pylist()
    assert any("[EMAIL]" in t for t in texts) and any("[IP]" in t for t in texts)
    assert any("192.168.1.1" in t for t in texts)  # private: kept as it is
    assert 0 < wiki_decoded < len(texts) // 2  # only the pages with an address were decoded
    web_kept = sum(pq.read_metadata(pa.BufferReader(v)).num_rows for k, v in now.items()
                   if k.startswith("filtered/") and "/web/" in k)
    assert web_decoded == web_kept > 0  # C4: every kept page

    # nothing removed from the wiki shard, nothing kept of the web shard: two empty files
    loose = '{wiki: {gopher_quality: null, language: null, length: null}, web: {length: {min_chars: 100000000}}}'
    now = _run(tmp_path / "empty-now", docs, web, loose)
    with monkeypatch.context() as patch:
        patch.setattr(filter_stage, "rewrite_rows", lambda chain, signals, languages: np.ones(signals.num_rows, bool))
        patch.setattr(filter_stage, "_write", lambda run_dir, rel, table: filter_stage.write_parquet(
            filter_stage.safe_join(run_dir, rel), table))
        reference = _run(tmp_path / "empty-reference", docs, web, loose)
    assert now == reference
    rows = {k: pq.read_metadata(pa.BufferReader(v)).num_rows for k, v in now.items()
            if k.startswith(("filtered/", "removed/"))}
    assert sorted(rows.values())[:2] == [0, 0] and len(rows) == 4


@pytest.mark.parametrize("schema", [filter_stage.LEDGER_SCHEMA, filter_stage.KEPT_SCHEMA, DOC_SCHEMA,
                                    DOC_SCHEMA.with_metadata({"x": "1"})])
def test_an_empty_file_is_the_bytes_of_an_empty_table(schema):
    empty = filter_stage._empty_parquet(schema.serialize().to_pybytes())
    assert empty == parquet_bytes(schema.empty_table())
    table = pa.Table.from_pylist([{name: None for name in schema.names}], schema=schema).slice(0, 0)
    assert empty == parquet_bytes(table)
    other = filter_stage._empty_parquet(pa.schema([pa.field("id", pa.string())]).serialize().to_pybytes())
    assert other != empty


def test_pii_unchanged_exactly_where_the_rewrite_changes_nothing():
    """``PiiFilter.unchanged`` from the signals against the rewrite itself, on real pages and on each
    kind of address (private IPs and version numbers are not redacted, so their pages are unchanged)."""
    texts = [d.text for kind in ("wikipedia", "commoncrawl") for d in real_documents(kind)]
    texts += [f"Some words.\n{extra}\nMore words." for extra in EXTRAS] + ["", "a@b", "::1 and 10.0.0.1"]
    flt = PiiFilter(PiiOptions())
    signals = compute_signals([flt], texts, [None] * len(texts), 1_000_000)
    same = flt.unchanged({k: np.asarray(signals[f"pii.{k}"], dtype=float) for k in PiiFilter.SIGNALS})
    for text, unchanged in zip(texts, same):
        counts: Counter = Counter()
        assert (flt.rewrite(text, counts) == text and not counts) == bool(unchanged), text[:200]
    assert 0 < same.sum() < len(texts)


def test_rewrite_rows_per_chain():
    texts = ["Plain words only.", "Mail me at someone@example.com please.", "Visit 8.8.8.8 now."]
    for spec, expected in [
        (ChainSpec.model_validate({"pii": {}}), [False, True, True]),
        (ChainSpec.model_validate({"length": {}}), [False, False, False]),  # no rewriting filter
        (resolve("commoncrawl", {}, None), [True, True, True]),  # C4 rewrites every page
        (ChainSpec.model_validate({"pii": {"redact": ["email"]}}), [False, True, True]),  # counted all the same
    ]:
        chain = build(spec)
        columns = compute_signals(chain, texts, [None] * 3, 1_000_000)
        table = pa.table({"id": ["a", "b", "c"], **columns}, schema=signal_schema(chain))
        assert rewrite_rows(chain, table, [None, "en", "zh"]).tolist() == expected, spec
    assert base.Filter.unchanged(PiiFilter(PiiOptions()), {}) is None  # the default: every text rewritten
