"""Shared fixtures: where the real corpora live, and the repository root."""

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
