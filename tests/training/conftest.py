"""One small real token dataset (three book sources, GPT-2 tokens) shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.token_dataset import TokenDataset
from tests.token_helpers import build_token_dataset, gpt2_tokenizer


@pytest.fixture(scope="session")
def token_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("tokens")
    manifest, _, _ = build_token_dataset(
        folder, shared_data, gpt2_tokenizer(shared_data, shard_tokens=50_000, validation={"fraction": 0.05}),
        weights={"books": 0.5, "plays": 0.3, "dictionary": 0.2}, max_epochs=200.0)
    return manifest.run_dir / "tokens"


@pytest.fixture()
def dataset(token_dir: Path) -> TokenDataset:
    return TokenDataset.open(token_dir)
