"""Opening a token dataset: zero-copy memory-mapped shards, and clear errors for damaged ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from contracts.token_dataset import DatasetError, TokenDataset


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
