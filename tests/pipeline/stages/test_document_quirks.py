"""Document-level quirks through the real stages (crawl -> filter -> dedup -> tokenize), in process.

Inputs are real shared text (Gutenberg paragraphs) shaped into JSONL/Parquet sources with the quirk under
test; each test checks that nothing is lost silently and that ids, stats and outputs stay sound.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts.token_dataset import TokenDataset
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


@pytest.mark.parametrize("tokenizer", ["gpt2", "bpe"])
def test_special_token_strings_in_a_document_stay_plain_text(shared_data: Path, tmp_path: Path,
                                                            tokenizer: str) -> None:
    """A document that spells ``<|endoftext|>`` (or cl100k's ``<|fim_prefix|>``) must not inject a document
    boundary: the end-of-text id appears once per document, at its end, with the published gpt2 ranks and
    with a BPE trained on these very documents (which may learn the string as ordinary merges)."""
    paras = _paragraphs(shared_data, tmp_path, 40)
    injected = {0: "<|endoftext|>", 1: "<|endoftext|><|endoftext|>", 2: "<|fim_prefix|> and <|endofprompt|>"}
    for i, special in injected.items():
        text = paras[i]["text"]
        paras[i]["text"] = f"{text[:120]} {special} {text[120:]}"
    paras.append({"id": "only-special", "text": "<|endoftext|>"})
    jsonl = tmp_path / "special.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in paras))
    spec = ({"kind": "tiktoken", "name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")}
            if tokenizer == "gpt2" else {"kind": "bpe", "vocab_size": 600, "train_bytes": 200_000})
    stages = {"order": ["crawl", "tokenize"], "tokenize": {"tokenizer": spec}}
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "s", "kind": "jsonl", "paths": [str(jsonl)]}],
                                            stages=stages, ray={"in_process": True}))
    run_manifest(manifest)
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    texts = {d["id"]: d["text"] for d in read_docs(manifest.run_dir, _stats(manifest.run_dir, "crawl")["outputs"])}
    seen = 0
    for shard in dataset.all_shards:
        for row, doc_id in enumerate(shard.batch.column("id").to_pylist()):
            tokens = shard.values[shard.offsets[row]:shard.offsets[row + 1]]
            assert tokens[-1] == dataset.eot_id and dataset.eot_id not in tokens[:-1], doc_id
            assert dataset.decode(tokens[:-1]) == texts[doc_id]
            seen += 1
    assert seen == len(paras) == len(texts)


def test_a_run_whose_documents_are_all_removed_ends_with_an_empty_dataset(shared_data: Path,
                                                                          tmp_path: Path) -> None:
    """Documents of only whitespace, only emoji, only punctuation, only a format character: each is skipped
    or removed with a counted reason. Before, dedup (which writes no shard when it keeps nothing) made the
    tokenize stage fail with "the previous stage recorded no document shards"; now the run ends, as it does
    when the filter keeps nothing, with an empty token dataset, a warning in the stats, index and report."""
    records = [{"id": "ws", "text": " \n\t\u3000 \r\n "}, {"id": "emoji", "text": "😀🎉👍🏽" * 40},
               {"id": "punct", "text": "!?.,;:…—" * 40}, {"id": "zw", "text": "\u200b\u200d\ufeff"}]
    jsonl = tmp_path / "odd.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    stages = {"order": ["crawl", "filter", "dedup", "tokenize"], "tokenize": {"tokenizer": {
        "kind": "tiktoken", "name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")}}}
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "odd", "kind": "jsonl", "paths": [str(jsonl)]}],
                                            stages=stages, ray={"in_process": True}))
    results = run_manifest(manifest)
    crawl, filtered = _stats(manifest.run_dir, "crawl")["counts"], _stats(manifest.run_dir, "filter")["counts"]
    skipped = sum(v for k, v in crawl.items() if k.startswith("skipped."))
    removed = sum(v for k, v in filtered.items() if k.startswith("removed.odd."))
    assert skipped + removed == len(records) and crawl["docs_out"] == removed
    assert results["dedup"].outputs == [] and results["tokenize"].outputs == []
    warnings = _stats(manifest.run_dir, "tokenize")["warnings"]
    assert len(warnings) == 1 and "no documents reached the tokenize stage" in warnings[0]
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    assert dataset.all_shards == [] and dataset.index["settings"]["validation"]["warnings"] == warnings
    assert "no documents reached the tokenize stage" in (manifest.run_dir / "report" / "report.html").read_text()


def test_hostile_record_ids_never_become_paths(shared_data: Path, tmp_path: Path) -> None:
    """Ids with ``/``, ``..``, an absolute path, a NUL and 100,000 characters: each document gets its own
    32-hex id (the key is hashed with the source name), and every file the run writes lies in its folder."""
    paras = _paragraphs(shared_data, tmp_path, 6)
    hostile = ["../../../../tmp/escape", "/etc/passwd", "a/b/../c", "..", "x" * 100_000, "nul\u0000id"]
    jsonl = tmp_path / "ids.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": p["text"]}) + "\n" for i, p in zip(hostile, paras)))
    out = tmp_path / "out"
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "ids", "kind": "jsonl", "paths": [str(jsonl)]}],
                                            stages={"order": ["crawl", "dedup"]}, ray={"in_process": True}))
    results = run_manifest(manifest)
    docs = read_docs(manifest.run_dir, results["crawl"].outputs)
    assert len(docs) == len(hostile) and all(re.fullmatch(r"[0-9a-f]{32}", d["id"]) for d in docs)
    assert len({d["id"] for d in docs}) == len(hostile)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(tmp_path.resolve()) for p in written)
    assert not any(len(p.name) > 255 or "passwd" in str(p) or "escape" in str(p) for p in out.rglob("*"))


def test_an_id_repeated_across_files_and_splits_is_counted_with_examples(shared_data: Path,
                                                                         tmp_path: Path) -> None:
    """A split cannot see another split's ids: an id used in two files of a source (or in two byte-range
    splits of one file) gave two documents one id with nothing said. Now the crawl statistics count them
    (``duplicate_id_across_splits.<source>``) with examples naming both shards, and stderr says so; the
    documents are kept (their texts differ)."""
    paras = _paragraphs(shared_data, tmp_path, 30)
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in paras[:20]))
    second.write_text("".join(json.dumps({"id": r["id"], "text": t["text"]}) + "\n"  # ids of one.jsonl again
                          for r, t in zip(paras[:3], paras[20:23])))
    split_bytes = first.stat().st_size // 2  # one.jsonl in two splits, its last line reuses its first id
    with first.open("a") as fh:
        fh.write(json.dumps({"id": paras[0]["id"], "text": paras[25]["text"]}) + "\n")
    stages = {"order": ["crawl"]}
    sources = [{"name": "rep", "kind": "jsonl", "paths": [str(first), str(second)],
                "options": {"split_bytes": split_bytes}},
               {"name": "plain", "kind": "jsonl", "paths": [str(second)], "options": {"id_field": None}}]
    manifest = load_manifest(write_manifest(tmp_path, sources, stages=stages, ray={"in_process": True}))
    results = run_manifest(manifest)
    docs = read_docs(manifest.run_dir, results["crawl"].outputs)
    rep = [d for d in docs if d["source"] == "rep"]
    assert len(rep) == 24 and len({d["id"] for d in rep}) == 20  # kept: 4 documents reuse 3 ids
    stats = _stats(manifest.run_dir, "crawl")
    assert stats["counts"]["duplicate_id_across_splits.rep"] == 4
    assert "duplicate_id_across_splits.plain" not in stats["counts"]  # keyed by file and offset: unique
    examples = stats["examples"]["duplicate_id_across_splits.rep"]
    assert len(examples) == 3 and all("also in docs/rep/" in e["detail"] for e in examples)
    assert {e["record"] for e in examples} == {d["id"] for d in rep if Counter(x["id"] for x in rep)[d["id"]] > 1}


def test_text_content_quirks_are_cleaned_counted_and_round_trip_through_tokens(shared_data: Path,
                                                                               tmp_path: Path) -> None:
    """C0 controls and NUL, a BOM mid-text, CRLF and lone CR, combining accents (NFC shortens the text), zero
    width joiners, Arabic/Hebrew and mixed scripts, a U+FFFD run, and a lone surrogate spelled as a JSON
    escape: the crawl cleans what it must (counted per step), skips the surrogate with a reason, keeps
    what carries meaning (ZWJ, RTL text, U+FFFD), and every kept text decodes from its tokens unchanged."""
    base = _paragraphs(shared_data, tmp_path, 1)[0]["text"]
    head, tail = base[:150], base[150:]
    quirks = {
        "controls": f"{head}\x00\x01\x07\x1b{tail}",
        "bom": f"{head}\ufeff{tail}",
        "crlf": head.replace(". ", ".\r\n") + tail,
        "cr": head.replace(". ", ".\r") + tail,
        "nfd": "Cafe\u0301 na\u0131\u0308ve " + base,
        "zwj": f"{head} 👩\u200d💻 \u0915\u094d\u200d\u0937 {tail}",
        "rtl": f"{head} مرحبا بالعالم (שלום עולם) {tail}",
        "fffd": f"{head}{chr(0xFFFD) * 40}{tail}",
    }
    lines = [json.dumps({"id": k, "text": v}) for k, v in quirks.items()]
    lines.append('{"id": "surrogate", "text": "' + head + '\\ud800 ' + '"}')
    jsonl = tmp_path / "quirks.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    stages = {"order": ["crawl", "tokenize"], "tokenize": {"tokenizer": {
        "kind": "tiktoken", "name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")}}}
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "q", "kind": "jsonl", "paths": [str(jsonl)]}],
                                            stages=stages, ray={"in_process": True}))
    run_manifest(manifest)
    stats = _stats(manifest.run_dir, "crawl")
    counts = stats["counts"]
    assert counts["skipped.invalid_utf8"] == 1 and stats["examples"]["invalid_utf8"][0]["record"] == "line 9"
    assert counts["docs_out"] == len(quirks) and counts["clean.nfc_changed"] == 1
    assert counts["clean.control_removed"] == 2  # the C0 controls, the BOM
    from pipeline.documents import doc_id
    texts = {k: d["text"] for d in read_docs(manifest.run_dir, stats["outputs"])
             for k in quirks if d["id"] == doc_id("q", k)}
    assert texts["controls"] == texts["bom"] == base
    assert "\r" not in texts["crlf"] + texts["cr"] and texts["crlf"] == texts["cr"]
    assert texts["nfd"].startswith("Café naı̈ve ") and len(texts["nfd"]) == len(quirks["nfd"]) - 1
    assert texts["zwj"] == quirks["zwj"] and texts["rtl"] == quirks["rtl"] and texts["fffd"] == quirks["fffd"]
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    by_id = {v: k for k, v in ((k, doc_id("q", k)) for k in quirks)}
    decoded = {}
    for shard in dataset.all_shards:
        for row, i in enumerate(shard.batch.column("id").to_pylist()):
            decoded[by_id[i]] = dataset.decode(shard.values[shard.offsets[row]:shard.offsets[row + 1] - 1])
    assert decoded == texts


def test_dedup_of_copies_variants_and_documents_too_short_to_shingle(shared_data: Path, tmp_path: Path) -> None:
    """2,000 copies of one paragraph under different ids in two sources form one cluster and leave one
    document; copies differing only in case, spacing, line breaks or NFC go as exact duplicates; two-word
    and one-word copies (shorter than a shingle) are still matched; documents without a word (only
    punctuation) cannot be signed and are counted as such, not removed."""
    paras = _paragraphs(shared_data, tmp_path, 12)
    base = paras[0]["text"]
    a = [{"id": f"copy{i}", "text": base} for i in range(1500)]
    a += [{"id": "upper", "text": base.upper()}, {"id": "spaced", "text": base.replace(" ", "  ")},
          {"id": "lines", "text": base.replace(". ", ".\n\n")}, {"id": "short1", "text": "Hello there"},
          {"id": "short2", "text": "hello  there"}, {"id": "word1", "text": "Hi"}, {"id": "word2", "text": "Hi"},
          {"id": "dots1", "text": "…!?"}, {"id": "dots2", "text": "…!?"}]
    a += [{"id": r["id"], "text": r["text"]} for r in paras[1:]]
    b = [{"id": f"copy{i}", "text": base} for i in range(500)]  # the same ids and text in another source
    files = {}
    for name, records in (("a", a), ("b", b)):
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps(r) + "\n" for r in records))
    sources = [{"name": n, "kind": "jsonl", "paths": [str(p)]} for n, p in files.items()]
    manifest = load_manifest(write_manifest(tmp_path, sources, stages={"order": ["crawl", "dedup"]},
                                            ray={"in_process": True}))
    results = run_manifest(manifest)
    kept = read_docs(manifest.run_dir, results["dedup"].outputs)
    counts = _stats(manifest.run_dir, "dedup")["counts"]
    assert sum(d["text"].lower().split() == base.lower().split() for d in kept) == 1
    assert sum(d["text"] in ("Hello there", "hello there") for d in kept) == 1
    assert sum(d["text"] == "Hi" for d in kept) == 1
    assert sum(d["text"] == "…!?" for d in kept) == 2 and counts["docs_without_words"] == 2
    assert len(kept) == 1 + 1 + 1 + 2 + len(paras) - 1
    assert counts["cluster_size.1024-2047"] == 1  # 2,003: the copies and three variants and counts["removed.across_source"] == 500
    assert counts["docs_in"] - counts["docs_out"] == sum(v for k, v in counts.items() if k.startswith("skipped."))


def test_a_source_the_earlier_stages_empty_is_named_in_the_dataset_and_report(shared_data: Path,
                                                                             tmp_path: Path) -> None:
    """bench/heldout_run.py: npm warc's Common Crawl WET file (weight 0.05) lost its three pages to the filter;
    the token dataset and the mixture went on without it (shares renormalised over the other sources) and
    nothing said so: no warning in the statistics, the index or the report. Now each names the source."""
    from tests.pipeline.helpers import book_paragraphs_jsonl

    prose = book_paragraphs_jsonl(shared_data, tmp_path / "prose.jsonl", limit=30)
    odd = tmp_path / "odd.jsonl"
    odd.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in
                           [("emoji", "😀🎉👍🏽" * 40), ("punct", "!?.,;:…—" * 40)]))
    stages = {"order": ["crawl", "filter", "dedup", "tokenize"], "tokenize": {"tokenizer": {
        "kind": "tiktoken", "name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")}}}
    sources = [{"name": "prose", "kind": "jsonl", "paths": [str(prose)], "weight": 0.95},
               {"name": "odd", "kind": "jsonl", "paths": [str(odd)], "weight": 0.05}]
    manifest = load_manifest(write_manifest(tmp_path, sources, stages=stages, ray={"in_process": True}))
    results = run_manifest(manifest)
    assert results["tokenize"].outputs and all("/odd/" not in r for r in results["tokenize"].outputs)
    assert _stats(manifest.run_dir, "filter")["counts"].get("source.odd.docs_out", 0) == 0
    warnings = _stats(manifest.run_dir, "tokenize")["warnings"]
    assert "source 'odd' (weight 0.05) has no documents left" in warnings[0], warnings
    assert not any("no documents left" in w for w in warnings[1:])  # 'prose' is in the dataset
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    assert set(dataset.index["sources"]) == {"prose"}
    assert dataset.index["settings"]["validation"]["warnings"] == warnings
    assert "source &#x27;odd&#x27; (weight 0.05) has no documents left" in (
        manifest.run_dir / "report" / "report.html").read_text()
