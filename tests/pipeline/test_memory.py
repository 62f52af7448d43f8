"""A task's freed memory goes back to the OS (``pipeline.memory``); that every executor does it after every
task is tested in ``tests/pipeline/test_executors.py``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from pipeline import memory


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory._malloc_trim() is None or not Path("/proc/self/status").exists(),
                    reason="needs glibc and /proc")
def test_freed_heap_pages_are_returned():
    """100 KiB arrays come from the heap (under glibc's mmap threshold); keeping every 50th pins the heap's
    top, so freeing the rest leaves ~100 MiB resident until ``release_freed_memory``."""
    arrays = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(1000)]
    pinned = arrays[::50]
    del arrays
    before = _rss_mib()
    memory.release_freed_memory()
    after = _rss_mib()
    assert before - after > 50, (before, after)
    assert len(pinned) == 20 and all(a.sum() == 100 * 1024 for a in pinned)  # what is live stays


def test_decorator_keeps_the_function_picklable_and_releases_on_failure(monkeypatch):
    """For a task function called outside an executor (the executors release after every task)."""
    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append(1))

    @memory.releases_memory
    def failing(task):
        raise ValueError(task)

    with pytest.raises(ValueError, match="shard"):
        failing("shard")
    assert calls == [1]
    assert pickle.loads(pickle.dumps(_decorated)) is _decorated  # by reference, as Ray sends functions
    assert _decorated.__wrapped__.__name__ == "_decorated" and _decorated(3) == 3


@memory.releases_memory
def _decorated(task: int) -> int:
    return task
