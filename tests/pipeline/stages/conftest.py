"""A real local Ray for the stage tests that run through ``pipeline.runner.run_stage``."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_local():
    import ray

    if ray.is_initialized():  # another fixture already started one: share it
        yield
        return
    ray.init(num_cpus=1, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()
