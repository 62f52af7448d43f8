"""Export to nanoGPT's flat uint16 files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from contracts.token_dataset import TokenDataset
from training.export_bin import main


def test_export_writes_every_token_in_index_order(token_dir: Path, tmp_path: Path) -> None:
    assert main([str(token_dir), str(tmp_path)]) == 0
    dataset = TokenDataset.open(token_dir)
    for split in ("train", "val"):
        flat = np.fromfile(tmp_path / f"{split}.bin", dtype=np.uint16)
        expected = np.concatenate([s.values for name in dataset.sources for s in dataset.shards(split, name)])
        assert np.array_equal(flat, expected)
    assert pickle.loads((tmp_path / "meta.pkl").read_bytes()) == {"vocab_size": 50257}
    assert main([str(token_dir), str(tmp_path / "one"), "--source", "plays"]) == 0
    assert (tmp_path / "one/train.bin").stat().st_size == 2 * dataset.num_tokens("train", "plays")
