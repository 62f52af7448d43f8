"""Bits per byte of a token dataset's split: the documents decoded with the dataset's own tokenizer and
re-scored under the model's, so the figure is the same whichever tokenizer made the dataset."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from contracts.token_dataset import TokenDataset
from tests.tiny_checkpoint import save_tiny_checkpoint
from tests.training.trainer_helpers import bpe_dataset
from training.benchmarks.bits_per_byte import split_bits_per_byte
from training.benchmarks.model_source import LoadedModel, load_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("bpb") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data, seed=4, context_length=64)
    return path


@pytest.fixture(scope="module")
def loaded(checkpoint: Path) -> LoadedModel:
    return load_model(checkpoint)


def hand_nats(loaded: LoadedModel, texts: list[str]) -> float:
    """Documents after an end-of-text each, 64-token windows scored one at a time in float64, the
    end-of-text tokens between documents left out."""
    ids, boundary = [], set()
    for i, text in enumerate(texts):
        if i:
            boundary.add(len(ids))
        ids += [50256] + loaded.encode(text)
    nats = 0.0
    for start in range(0, len(ids) - 1, 64):
        window = ids[start:start + 65]
        with torch.no_grad():
            logits, _ = loaded.model(torch.tensor([window[:-1]]), all_logits=True)
        logprobs = torch.log_softmax(logits[0].double(), dim=-1)
        for k in range(len(window) - 1):
            if start + k + 1 not in boundary:
                nats -= float(logprobs[k, window[k + 1]])
    return nats


def documents(dataset: TokenDataset, split: str, source: str, count: int) -> list[str]:
    """The first ``count`` documents by id, decoded."""
    found = []
    for shard in dataset.shards(split, source):
        ids = shard.batch.column("id").to_pylist()
        for row in range(shard.batch.num_rows):
            tokens = shard.values[shard.offsets[row]:shard.offsets[row + 1]]
            assert tokens[-1] == dataset.eot_id
            found.append((ids[row], dataset.decode(tokens[:-1])))
    return [text for _, text in sorted(found)[:count]]


def test_split_bits_per_byte_is_total_nats_over_bytes_per_source(loaded, tmp_path_factory) -> None:
    tokens = bpe_dataset(tmp_path_factory, vocab_size=512)
    dataset = TokenDataset.open(tokens)
    assert dataset.tokenizer_info["kind"] == "bpe"  # not the model's GPT-2 tokenizer
    result = split_bits_per_byte(loaded, tokens, "val", max_docs=2, batch_tokens=200)
    assert set(result["sources"]) == set(dataset.sources)
    for source, figures in result["sources"].items():
        texts = documents(dataset, "val", source, 2)
        assert figures["docs"] == len(texts) == 2
        assert figures["bytes"] == sum(len(t.encode("utf-8")) for t in texts)
        assert figures["tokens"] == sum(len(loaded.encode(t)) for t in texts)
        assert figures["nats"] == pytest.approx(hand_nats(loaded, texts), rel=1e-6)
        assert figures["bits_per_byte"] == pytest.approx(figures["nats"] / math.log(2) / figures["bytes"])
    total = sum(f["nats"] for f in result["sources"].values())
    assert result["bits_per_byte"] == pytest.approx(total / math.log(2) / result["bytes"])
    with pytest.raises(ValueError, match="splits"):
        split_bits_per_byte(loaded, tokens, "test")


def test_the_same_documents_score_the_same_under_any_dataset_tokenizer(loaded, tmp_path_factory,
                                                                        token_dir: Path) -> None:
    """The GPT-2 dataset and the BPE-512 dataset hold the same validation documents (held out by id), laid
    into shards differently: the model's bits per byte is the same on both, though their token counts
    differ. Two documents a source, as above: they are laid out differently too, so a scorer that took
    them in shard order instead of by id would score other documents on one dataset than on the other."""
    bpe = bpe_dataset(tmp_path_factory, vocab_size=512)
    on_gpt2 = split_bits_per_byte(loaded, token_dir, "val", max_docs=2)
    on_bpe = split_bits_per_byte(loaded, bpe, "val", max_docs=2)
    assert TokenDataset.open(token_dir).num_tokens("val", "books") != TokenDataset.open(bpe).num_tokens("val", "books")
    assert on_gpt2["bytes"] == on_bpe["bytes"] and on_gpt2["tokens"] == on_bpe["tokens"]
    assert on_gpt2["bits_per_byte"] == pytest.approx(on_bpe["bits_per_byte"], rel=1e-9)


def test_cli_reports_split_bits_per_byte_and_names_a_bad_split(checkpoint: Path, tmp_path: Path, token_dir: Path,
                                                               capsys) -> None:
    from training.benchmarks.cli import main

    out = tmp_path / "eval.json"
    assert main([str(checkpoint), "--bpb-tokens", str(token_dir), "--bpb-max-docs", "2", "--out", str(out),
                 "--device", "cpu"]) == 0
    (entry,) = json.loads(out.read_text())["bits_per_byte"]
    assert entry["split"] == "val" and entry["dataset"] == str(token_dir) and entry["bits_per_byte"] > 0
    assert all(s["docs"] <= 2 for s in entry["sources"].values())
    assert main([str(checkpoint), "--bpb-tokens", str(tmp_path), "--out", str(out), "--device", "cpu"]) == 2
    assert "no dataset index here" in capsys.readouterr().err
