"""Shared fixtures: where the real corpora live, the repository root, a real local Ray, a small token dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora in ../shared/data (web WARCs, wiki dumps, books, tokenizers, fine-tuning sets)."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"real test corpora not found at {SHARED_DATA}: the tests expect the project's "
                           "shared/ folder beside the repository checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ray_local():
    """A real embedded local Ray, started once for the whole test session."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024 * 1024,
                 log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def token_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """One small real token dataset (three book sources, GPT-2 tokens), made by the tokenize stage and
    shared by the token-format and training tests."""
    from tests.token_helpers import build_token_dataset, gpt2_tokenizer

    folder = tmp_path_factory.mktemp("tokens")
    manifest, _, _ = build_token_dataset(
        folder, shared_data, gpt2_tokenizer(shared_data, shard_tokens=50_000, validation={"fraction": 0.05}),
        weights={"books": 0.5, "plays": 0.3, "dictionary": 0.2}, max_epochs=200.0)
    return manifest.run_dir / "tokens"


@pytest.fixture()
def dataset(token_dir: Path):
    """``token_dir`` opened as a ``contracts.token_dataset.TokenDataset``."""
    from contracts.token_dataset import TokenDataset

    return TokenDataset.open(token_dir)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Test files holding a ``slow`` or ``cluster`` test first; the order is otherwise unchanged.

    Why: ``make test`` deals whole test files to two pytest-xdist workers in this order (``--dist loadfile
    --no-loadscope-reorder``). A slow file dealt last (the documented-commands test alone takes 40-100 s) would
    keep one worker busy while the other has nothing left; dealt first, the many short files even out the end."""
    heavy = {item.path for item in items if item.get_closest_marker("slow") or item.get_closest_marker("cluster")}
    items.sort(key=lambda item: item.path not in heavy)
