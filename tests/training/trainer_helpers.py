"""Small real datasets and configs for the trainer tests.

The trainer tests need many short runs, so they use a 512-token BPE trained on the books (the tiny preset's
own vocabulary size): a step of the tiny model then takes milliseconds, where GPT-2's 50k vocabulary would
make the output layer dominate. Datasets are built once per pytest session (about a second each) under the
session's base temporary folder.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.token_helpers import build_token_dataset

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def bpe_dataset(factory: pytest.TempPathFactory, vocab_size: int = 512, shard_tokens: int = 100_000) -> Path:
    """Three real book sources tokenized with a BPE of ``vocab_size`` trained on them; built once."""
    folder = factory.getbasetemp() / f"trainer-bpe{vocab_size}-{shard_tokens}"
    tokens = folder / "out" / "t" / "tokens"
    if not (tokens / "index.json").is_file():
        spec = {"tokenizer": {"kind": "bpe", "vocab_size": vocab_size, "train_bytes": 300_000},
                "shard_tokens": shard_tokens, "validation": {"fraction": 0.05}}
        manifest, _, _ = build_token_dataset(folder, SHARED_DATA, spec, max_epochs=50.0,
                                             weights={"books": 0.5, "plays": 0.3, "dictionary": 0.2})
        assert manifest.run_dir / "tokens" == tokens
    return tokens


BASE: dict[str, Any] = {
    "seed": 5,
    "model": {"preset": "tiny"},
    "optim": {"batch_tokens": 1024, "micro_batch": 4, "max_steps": 20, "lr": 3e-3, "min_lr": 3e-4,
              "warmup_steps": 3},
    "eval": {"every": 10, "batches": 2, "batch_size": 8},
    "checkpoint": {"every": 5},
    "system": {"device": "cpu", "peak_flops": 1e10, "threads": 1},
}


def config_dict(dataset: Path, out_dir: Path, **sections: Any) -> dict[str, Any]:
    """BASE with ``dataset``/``out_dir`` filled in; each keyword replaces keys inside that section."""
    data = copy.deepcopy(BASE)
    data["out_dir"] = str(out_dir)
    data["data"] = {"dataset": str(dataset)}
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(data.get(name), dict):
            data[name].update(values)
        else:
            data[name] = values
    return data


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def train_losses(metrics: Path) -> list[tuple[int, float]]:
    records = [json.loads(line) for line in metrics.read_text().splitlines() if line]
    return [(r["step"], r["loss"]) for r in records if r["kind"] == "train"]
