"""The tokenize stage on real book text: round trips, the validation split, determinism, Ray, validate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from contracts.token_dataset import TokenDataset
from pipeline.cli import main as cli_main
from pipeline.executors import RayExecutor
from pipeline.stage import RunContext
from pipeline.stages import DEFAULT_ORDER
from pipeline.stages import tokenize as stage
from tests.token_helpers import build_token_dataset, gpt2_tokenizer, make_manifest


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _documents(dataset: TokenDataset, split: str) -> dict[str, np.ndarray]:
    out = {}
    for shard in dataset.all_shards:
        if shard.split == split:
            ids = shard.batch.column("id").to_pylist()
            for row, doc_id in enumerate(ids):
                out[doc_id] = shard.values[shard.offsets[row]:shard.offsets[row + 1]]
    return out


@pytest.fixture(scope="module")
def gpt2_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    folder = tmp_path_factory.mktemp("gpt2")
    return build_token_dataset(folder, shared_data, gpt2_tokenizer(shared_data, shard_tokens=60_000,
                                                                    validation={"fraction": 0.05}))


def test_registered_last() -> None:
    assert DEFAULT_ORDER[-1] == "tokenize"


def test_gpt2_round_trip_and_index(gpt2_run) -> None:
    manifest, docs, result = gpt2_run
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    texts = {d.to_row(source)["id"]: d.text for source, ds in docs.items() for d in ds}
    tokens = {**_documents(dataset, "train"), **_documents(dataset, "val")}
    assert set(tokens) == set(texts)
    for doc_id, doc_tokens in tokens.items():
        assert doc_tokens[-1] == dataset.eot_id and dataset.eot_id not in doc_tokens[:-1]
        assert dataset.decode(doc_tokens[:-1]) == texts[doc_id]
    index = dataset.index
    assert index["dtype"] == "uint16" and index["manifest_hash"] == manifest.hash and index["seed"] == 7
    assert index["tokenizer"]["name"] == "gpt2" and index["tokenizer"]["eot_id"] == 50256
    assert len(index["tokenizer"]["ranks_sha256"]) == 64 and "\\p{L}" in index["tokenizer"]["pattern"]
    for shard in dataset.all_shards:
        assert shard.tokens <= 60_000 * 1.5 and shard.path.suffix == ".arrow"
    total = sum(s.tokens for s in dataset.all_shards)
    assert total == result.tally.counts["tokens_train"] + result.tally.counts["tokens_val"]
    assert set(result.outputs) == {f"tokens/{s['path']}" for s in index["shards"]}


def test_bytes_per_token_by_language_in_the_index(gpt2_run) -> None:
    manifest, docs, _ = gpt2_run
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    for source, source_docs in docs.items():
        info = dataset.index["sources"][source]
        languages = info["languages"]
        assert languages, source
        assert sum(v["tokens"] for v in languages.values()) == info["train"]["tokens"] + info["val"]["tokens"]
        assert sum(v["bytes"] for v in languages.values()) == sum(len(d.text.encode()) for d in source_docs)
        for code, v in languages.items():
            assert v["bytes_per_token"] == round(v["bytes"] / v["tokens"], 4)
            assert 2.5 < v["bytes_per_token"] < 6, (source, code, v)  # GPT-2 on English prose: about 4


def test_validation_split_is_by_document_and_disjoint(gpt2_run) -> None:
    manifest, docs, _ = gpt2_run
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    train, val = set(_documents(dataset, "train")), set(_documents(dataset, "val"))
    assert not train & val
    for source in docs:
        n_val = dataset.index["sources"][source]["val"]["docs"]
        n_all = len(docs[source])
        assert 0 < n_val < 0.15 * n_all  # about 5 % of documents
        expected = {d.to_row(source)["id"] for d in docs[source]
                    if stage.val_hash(d.to_row(source)["id"]) < int(0.05 * 2**64)}
        assert {i for i in val if i in expected} == expected


def test_max_docs_caps_the_split(tmp_path: Path, shared_data: Path) -> None:
    manifest, _, _ = build_token_dataset(tmp_path, shared_data, gpt2_tokenizer(
        shared_data, validation={"fraction": 0.2, "max_docs": 3}))
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    assert all(dataset.index["sources"][s]["val"]["docs"] == 3 for s in dataset.sources)


def test_documents_are_shuffled_within_shards(gpt2_run) -> None:
    manifest, docs, _ = gpt2_run
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    shard = dataset.shards("train", "books")[0]
    urls = shard.batch.column("url").to_pylist()
    numbers = [int(u.rsplit("#", 1)[1]) for u in urls]
    assert sorted(numbers) != numbers


def test_byte_identical_on_rerun_elsewhere_and_on_ray(gpt2_run, tmp_path: Path, shared_data: Path,
                                                       ray_local) -> None:
    manifest, _, _ = gpt2_run
    expected = _files(manifest.run_dir / "tokens")
    again, _, _ = build_token_dataset(tmp_path / "local", shared_data, gpt2_tokenizer(
        shared_data, shard_tokens=60_000, validation={"fraction": 0.05}))
    assert _files(again.run_dir / "tokens") == expected
    on_ray, _, result = build_token_dataset(tmp_path / "ray", shared_data, gpt2_tokenizer(
        shared_data, shard_tokens=60_000, validation={"fraction": 0.05}), executor=RayExecutor())
    assert result.tasks_run > 1
    assert _files(on_ray.run_dir / "tokens") == expected


def test_trained_bpe_round_trip_and_determinism(tmp_path: Path, shared_data: Path) -> None:
    spec = {"tokenizer": {"kind": "bpe", "vocab_size": 1024, "train_bytes": 1_000_000},
            "validation": {"fraction": 0.05}}
    manifest, docs, _ = build_token_dataset(tmp_path / "a", shared_data, spec)
    dataset = TokenDataset.open(manifest.run_dir / "tokens", verify="checksums")
    assert (manifest.run_dir / "tokenizer" / "refinery-bpe-1024.tiktoken").is_file()
    info = dataset.tokenizer_info
    assert (info["kind"], info["n_vocab"], info["eot_id"], dataset.index["dtype"]) == ("bpe", 1024, 1023, "uint16")
    texts = {d.to_row(source)["id"]: d.text for source, ds in docs.items() for d in ds}
    for doc_id, doc_tokens in _documents(dataset, "train").items():
        assert dataset.decode(doc_tokens[:-1]) == texts[doc_id]
    other, _, _ = build_token_dataset(tmp_path / "b", shared_data, spec)
    assert _files(other.run_dir / "tokens") == _files(manifest.run_dir / "tokens")


def test_tokenize_must_be_last(tmp_path: Path, shared_data: Path) -> None:
    manifest = make_manifest(tmp_path, shared_data, gpt2_tokenizer(shared_data))
    manifest.model.stages.order = ["tokenize", "crawl"]
    with pytest.raises(ValueError, match="tokenize must be the last stage"):
        stage.run(RunContext(manifest), ["docs/books/00000.parquet"])


def test_validate_names_truncated_and_altered_shards(gpt2_run, tmp_path: Path, capsys) -> None:
    import shutil

    manifest, _, _ = gpt2_run
    copy = tmp_path / "tokens"
    shutil.copytree(manifest.run_dir / "tokens", copy)
    assert cli_main(["validate", str(copy)]) == 0
    index = json.loads((copy / "index.json").read_text())
    truncated, altered = copy / index["shards"][0]["path"], copy / index["shards"][1]["path"]
    data = altered.read_bytes()
    middle = len(data) // 2
    altered.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:])
    assert cli_main(["validate", str(copy)]) == 1
    assert str(altered) in capsys.readouterr().err
    truncated.write_bytes(truncated.read_bytes()[:-100])
    assert cli_main(["validate", str(copy)]) == 1
    err = capsys.readouterr().err
    assert str(truncated) in err and "truncated" in err


def test_ranks_path_is_relative_to_the_manifest(tmp_path: Path, shared_data: Path) -> None:
    import shutil

    (tmp_path / "tok").mkdir()
    shutil.copy(shared_data / "tokenizers/gpt2.tiktoken", tmp_path / "tok/gpt2.tiktoken")
    manifest = make_manifest(tmp_path, shared_data, {"tokenizer": {"name": "gpt2", "ranks_path": "tok/gpt2.tiktoken"}})
    ref = stage.prepare_tokenizer(RunContext(manifest), {}, {})
    assert ref.path == str(tmp_path / "tok/gpt2.tiktoken") and ref.load().info.eot_id == 50256


def test_own_encoding_special_tokens_reach_the_index(tmp_path: Path, shared_data: Path) -> None:
    """A user's own encoding (GPT-2's ranks under another name) with its own end-of-text: every document
    ends with that id, and the index records the declared special tokens."""
    specials = {"<|endoftext|>": 50256, "<|end|>": 50300}
    tokenize = {"tokenizer": {"name": "mine", "ranks_path": str(shared_data / "tokenizers/gpt2.tiktoken"),
                              "special_tokens": specials, "eot_token": "<|end|>"}}
    manifest, _, _ = build_token_dataset(tmp_path, shared_data, tokenize)
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    info = dataset.tokenizer_info
    assert (info["name"], info["special_tokens"], info["eot_id"], info["n_vocab"]) == ("mine", specials, 50300, 50301)
    documents = _documents(dataset, "train")
    assert documents and all(int(tokens[-1]) == 50300 for tokens in documents.values())
    assert dataset.decode(next(iter(documents.values()))).endswith("<|end|>")


def test_small_source_gets_one_validation_document_or_a_warning(tmp_path: Path,
                                                                   shared_data: Path) -> None:
    """fraction 0.01 of 3 documents would hold out none: the one with the smallest hash is held out. A
    source of one document cannot give one up: a warning in stats/tokenize.json, the index and the report."""
    from pipeline.report import write_report
    from tests.token_helpers import BOOKS, book_documents, write_doc_shards

    manifest = make_manifest(tmp_path, shared_data, gpt2_tokenizer(shared_data, validation={"fraction": 0.01}))
    every = {name: book_documents(shared_data, files) for name, files in BOOKS.items()}
    chosen = {"books": every["books"][:3], "plays": every["plays"][:1], "dictionary": every["dictionary"]}
    inputs = [r for name, docs in chosen.items() for r in write_doc_shards(manifest.run_dir, name, docs, 40)]
    smallest = min((d.to_row("books")["id"] for d in chosen["books"]), key=stage.val_hash)
    assert all(stage.val_hash(d.to_row("books")["id"]) >= int(0.01 * 2**64) for d in chosen["books"])

    stage.run(RunContext(manifest), inputs)
    dataset = TokenDataset.open(manifest.run_dir / "tokens")
    assert set(_documents(dataset, "val")) & {d.to_row("books")["id"] for d in chosen["books"]} == {smallest}
    assert len(_documents(dataset, "train")) == len(chosen["dictionary"]) + 3 - dataset.index["sources"][
        "dictionary"]["val"]["docs"]
    assert dataset.index["sources"]["plays"]["val"]["docs"] == 0
    stats = json.loads((manifest.run_dir / "stats/tokenize.json").read_text())
    assert len(stats["warnings"]) == 1 and "'plays' has 1 document(s)" in stats["warnings"][0]
    assert dataset.index["settings"]["validation"]["warnings"] == stats["warnings"]
    _, page, _ = write_report(manifest.run_dir)
    assert "&#x27;plays&#x27; has 1 document(s), too few for validation.fraction 0.01" in page.read_text()
