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


def test_caches_are_dropped_when_the_process_starts_another_step(monkeypatch):
    cleared: list[str] = []
    monkeypatch.setattr(memory, "_step_caches", [lambda: cleared.append("a"), lambda: cleared.append("b")])
    monkeypatch.setattr(memory, "_current_step", [])
    for step in ("filter-signals", "filter-signals", "filter-signals"):
        memory.starting_step(step)
    assert cleared == []  # the first step, and its later tasks, keep them warm
    memory.starting_step("filter")
    assert cleared == ["a", "b"]
    memory.starting_step("filter")
    memory.starting_step("dedup.signatures")
    assert cleared == ["a", "b"] * 2


@pytest.mark.skipif(memory._malloc_trim() is None or not Path("/proc/self/status").exists(),
                    reason="needs glibc and /proc")
def test_the_word_vocabulary_goes_back_to_the_os_when_a_worker_leaves_the_filter(monkeypatch):
    """~300,000 distinct chunks (ids, numbers: as web text has) fill the filters' vocabulary and token
    caches with ~40 MiB; the next step's first task finds them gone and the memory returned."""
    from pipeline.filters import words

    monkeypatch.setattr(memory, "_current_step", [])
    memory.starting_step("filter-signals")
    memory.release_freed_memory()
    before = _rss_mib()
    text = " ".join(f"item{i}, and{i % 997}." for i in range(300_000))
    assert len(words.tokenize(text)) > 600_000
    del text
    memory.release_freed_memory()
    filled = _rss_mib() - before
    memory.starting_step("filter-signals")
    assert words._vocabularies and words.is_symbol.cache_info().currsize > 0  # same step: kept warm
    memory.starting_step("dedup.signatures")
    kept = _rss_mib() - before
    assert not words._vocabularies and words.is_symbol.cache_info().currsize == 0
    assert filled > 15 and kept < filled / 4, (filled, kept)  # less than 50 where freed pages are reused


def test_the_language_model_and_its_token_cache_are_dropped_between_steps(monkeypatch):
    from pipeline.filters import language

    monkeypatch.setattr(memory, "_current_step", [])
    memory.starting_step("filter-signals")
    predict = language.predictor(None)
    labels, _ = predict(["The cat sat on the mat and looked at the garden."], 1000)
    assert labels == ["__label__en"]
    memory.starting_step("filter-signals")
    assert language._PREDICTORS  # same step: kept
    memory.starting_step("dedup.signatures")
    assert not language._PREDICTORS and not language._MODELS
    assert language.predictor(None)(["Der Hund schläft im Garten und die Katze auch."], 1000)[0] == ["__label__de"]


@pytest.mark.skipif(memory._malloc_trim() is None or not Path("/proc/self/status").exists(),
                    reason="needs glibc and /proc")
def test_the_release_after_a_task_runs_only_when_the_worker_grew_by_the_threshold(monkeypatch):
    """A release walks every arena (6-10 % of a small crawl task's CPU); after a task that left little
    behind it is skipped, so a worker keeps at most ``RELEASE_ABOVE_BYTES`` more than its last release left;
    after one that left ~100 MiB of freed heap it runs and the pages go back."""
    releases: list[int] = []
    real = memory.release_freed_memory
    monkeypatch.setattr(memory, "release_freed_memory", lambda: releases.append(1) or real())
    monkeypatch.setattr(memory, "_released_at", [0])
    assert memory.release_after_task() is True and releases == [1]  # a process's first task: no mark yet
    releases.clear()
    small = [np.ones(10 * 1024, dtype=np.uint8) for _ in range(100)]  # ~1 MiB
    del small
    assert memory.release_after_task() is False and releases == []
    arrays = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(1000)]
    pinned = arrays[::50]
    del arrays  # ~100 MiB of free heap pages, pinned by every 50th block
    before = _rss_mib()
    assert memory.release_after_task() is True and releases == [1]
    assert before - _rss_mib() > 50
    assert memory.release_after_task() is False and releases == [1]  # nothing new since
    assert len(pinned) == 20


def test_without_proc_every_task_releases(monkeypatch):
    monkeypatch.setattr(memory, "resident_bytes", lambda: None)
    releases: list[int] = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: releases.append(1))
    assert memory.release_after_task() and memory.release_after_task() and releases == [1, 1]
