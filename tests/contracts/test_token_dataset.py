"""The token dataset format: what the writer writes the reader opens (zero-copy, memory-mapped), and damaged or
foreign datasets are refused naming the file and what to do."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from contracts.tiktoken_ranks import ranks_bytes
from contracts.token_dataset import (FORMAT, FORMAT_VERSION, INDEX_NAME, TOKENIZER_FILE, DatasetError, TokenDataset,
                                     build_index, encode_shard, validate_command, write_index, write_shard)

BYTE_RANKS = {bytes([b]): b for b in range(256)}
EOT = 256


def _tiny_dataset(folder: Path) -> Path:
    """Two documents in one train shard, written by the format's own writer (the docstring's example)."""
    entry = write_shard(folder, "train/a/00000-0000.arrow", "train", "a", ["doc-a", "doc-b"],
                        ["https://a.example/", None], np.array([5, 9, EOT, 7, EOT]), np.array([3, 2]),
                        np.dtype(np.uint16))
    (folder / TOKENIZER_FILE).write_bytes(ranks_bytes(BYTE_RANKS))
    tokenizer = {"name": "bytes", "kind": "tiktoken", "pattern": r"\S+|\s+", "special_tokens": {"<|e|>": EOT},
                 "eot_id": EOT, "n_vocab": 257,
                 "ranks_sha256": hashlib.sha256(ranks_bytes(BYTE_RANKS)).hexdigest()}
    index = build_index([entry], dtype=np.dtype(np.uint16), tokenizer=tokenizer, manifest_hash="m" * 64, seed=1,
                        sources={"a": {"weight": 1.0, "max_epochs": 1.0}}, settings={})
    write_index(folder, index)
    return folder


def test_what_the_writer_writes_the_reader_opens(tmp_path: Path) -> None:
    dataset = TokenDataset.open(_tiny_dataset(tmp_path), verify="checksums")
    (shard,) = dataset.shards("train", "a")
    assert shard.values.tolist() == [5, 9, EOT, 7, EOT] and shard.offsets.tolist() == [0, 3, 5]
    assert shard.document_at(3) == (1, "doc-b", None, 0)
    assert dataset.index["sources"]["a"]["train"] == {"docs": 2, "tokens": 5, "shards": 1}
    assert (dataset.index["format"], dataset.index["version"]) == (FORMAT, FORMAT_VERSION)
    assert dataset.decode(shard.values[:2]) == "\x05\t"


def test_writing_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = _tiny_dataset(tmp_path / "1"), _tiny_dataset(tmp_path / "2")
    for name in (INDEX_NAME, "train/a/00000-0000.arrow", TOKENIZER_FILE):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_another_format_version_is_refused_naming_both(tmp_path: Path) -> None:
    folder = _tiny_dataset(tmp_path)
    index = json.loads((folder / INDEX_NAME).read_text())
    (folder / INDEX_NAME).write_text(json.dumps({**index, "version": FORMAT_VERSION + 1}))
    with pytest.raises(DatasetError, match=rf"{folder / INDEX_NAME}: format 'refinery-tokens' version "
                                           rf"{FORMAT_VERSION + 1}; this code reads 'refinery-tokens' version "
                                           rf"{FORMAT_VERSION}"):
        TokenDataset.open(folder)


def test_validate_command_checks_every_checksum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _tiny_dataset(tmp_path)
    assert validate_command(folder) == 0 and "dataset OK: 1 shards, 5 tokens" in capsys.readouterr().out
    shard = folder / "train/a/00000-0000.arrow"
    altered = encode_shard(["doc-a", "doc-b"], ["https://a.example/", None], np.array([5, 9, EOT, 8, EOT]),
                           np.array([3, 2]), np.dtype(np.uint16))
    assert len(altered) == shard.stat().st_size  # same size and structure, one token changed
    shard.write_bytes(altered)
    assert TokenDataset.open(folder).shards("train", "a")[0].tokens == 5
    assert validate_command(folder) == 1
    assert f"{shard}: sha256" in capsys.readouterr().err


def test_shards_are_zero_copy_views_of_the_mapped_files(dataset: TokenDataset) -> None:
    shard = dataset.shards("train", "books")[0]
    values = shard.values
    assert values.dtype == np.uint16 and values.flags.c_contiguous and not values.flags.writeable
    arrow_buffer = shard.batch.column("tokens").values.buffers()[1]
    assert values.ctypes.data == arrow_buffer.address  # numpy views Arrow's mapped buffer
    assert shard.torch_values().data_ptr() == values.ctypes.data  # so does torch
    assert len(values) == shard.tokens and shard.offsets[-1] == shard.tokens
    assert values[shard.offsets[1] - 1] == dataset.eot_id
    row, doc_id, url, position = shard.document_at(int(shard.offsets[2]) + 5)
    assert (row, position) == (2, 5) and doc_id == shard.batch.column("id")[2].as_py() and url.startswith("https")


def test_totals_match_the_index(dataset: TokenDataset) -> None:
    for source in dataset.sources:
        info = dataset.source_info(source)
        for split in ("train", "val"):
            assert dataset.num_tokens(split, source) == info[split]["tokens"]
    with pytest.raises(KeyError, match="not in dataset"):
        dataset.shards("train", "nope")


def test_truncated_shard_is_named_on_open(token_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tokens"
    shutil.copytree(token_dir, copy, ignore=shutil.ignore_patterns("cache"))
    victim = TokenDataset.open(copy).shards("train", "plays")[1].path
    victim.write_bytes(victim.read_bytes()[:1000])
    with pytest.raises(DatasetError, match=f"{victim}: .*truncated"):
        TokenDataset.open(copy)


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset index"):
        TokenDataset.open(tmp_path)
