"""A task's freed memory goes back to the OS (``pipeline.memory``); that every executor does it after every
task is tested in ``tests/pipeline/test_executors.py``."""

from __future__ import annotations

import gc
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from pipeline import memory
from pipeline.executors import InProcessExecutor
from pipeline.stage import Task, TaskResult
from tests.process_helpers import HEAP_BLOCK_PROBE, needs_glibc_heap


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


needs_trim_and_proc = pytest.mark.skipif(
    memory._malloc_trim() is None or not Path("/proc/self/status").exists(),
    reason="returning freed heap pages needs glibc's malloc_trim, and the test reads the resident set from "
           "Linux's /proc/self/status")


def _free_pinned_heap() -> list[np.ndarray]:
    """Leave ~100 MiB of freed heap resident: 100 KiB arrays come from the heap (under glibc's mmap
    threshold) and keeping every 50th pins the heap's top. Returns the pinned arrays, which stay live."""
    arrays = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(1000)]
    pinned = arrays[::50]
    del arrays
    return pinned


@pytest.fixture
def counted_releases(monkeypatch) -> list[int]:
    """Each real ``release_freed_memory`` call appends 1; the process starts with no release mark."""
    releases: list[int] = []
    real = memory.release_freed_memory
    monkeypatch.setattr(memory, "release_freed_memory", lambda: releases.append(1) or real())
    monkeypatch.setattr(memory, "_released_at", [0])
    return releases


@needs_trim_and_proc
def test_freed_heap_pages_are_returned():
    """~100 MiB of freed heap pinned by live blocks stays resident until ``release_freed_memory``."""
    memory.release_freed_memory()  # its first call imports pyarrow: ~40 MiB of library pages, not heap
    pinned = _free_pinned_heap()
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
    monkeypatch.setattr(memory, "_step_caches", [(lambda: cleared.append("a"), frozenset()),
                                                 (lambda: cleared.append("b"), frozenset())])
    monkeypatch.setattr(memory, "_current_step", [])
    for step in ("filter-signals", "filter-signals", "filter-signals"):
        memory.starting_step(step)
    assert cleared == []  # the first step, and its later tasks, keep them warm
    memory.starting_step("filter")
    assert cleared == ["a", "b"]
    memory.starting_step("filter")
    memory.starting_step("dedup.signatures")
    assert cleared == ["a", "b"] * 2


@needs_trim_and_proc
def test_a_word_vocabulary_over_its_cap_goes_back_to_the_os_when_the_task_ends():
    """~300,000 distinct chunks (ids, numbers: as web text has) fill the filters' vocabulary with ~40 MiB,
    over ``KEEP_BYTES``; when the task ends it is dropped and the memory returned, by reference counting
    alone (the collector is off: ``finished_task`` does not run it, so a vocabulary that held a reference
    cycle, as it did through a lambda over itself, would stay)."""
    from pipeline.filters import words

    words.clear_cache()
    memory.release_freed_memory()
    before = _rss_mib()
    gc.disable()
    try:
        text = " ".join(f"item{i}, and{i % 997}." for i in range(300_000))
        assert len(words.tokenize(text)) > 600_000
        del text
        memory.release_freed_memory()
        filled = _rss_mib() - before
        assert words._vocabularies[words.WHITESPACE].nbytes() > words.KEEP_BYTES
        memory.finished_task()
        memory.release_freed_memory()
        kept = _rss_mib() - before
    finally:
        gc.enable()
    assert not words._vocabularies
    assert filled > 15 and kept < filled / 4, (filled, kept)  # less than 50 where freed pages are reused


_KEPT: list[tuple[int, int, int]] = []  # at each task's start: vocabulary chunks, its bytes, fastText cache bytes


def _tokenize_distinct_words(task: int) -> TaskResult:
    """A filter-like task: tokenizes and identifies the language of 20,000 chunks no earlier task had, after
    noting what the worker kept from its earlier tasks (in process: a list)."""
    from pipeline.filters import language, words

    predict = language.predictor(None)
    vocabulary = words._vocabularies.get(words.WHITESPACE)
    _KEPT.append((len(vocabulary or ()), vocabulary.nbytes() if vocabulary else 0,
                  predict.__self__.cache_info()["allocated_bytes"]))
    text = " ".join(f"w{task}x{i}" for i in range(20_000))
    assert len(words.tokenize(text)) == 20_000
    predict([text], 100_000)
    return TaskResult()


def test_what_the_filters_caches_keep_between_tasks_is_capped_however_many_tasks_a_worker_ran(tmp_path):
    """Issue 19, "peak RSS per worker flat": what a worker keeps of its caches of distinct text between tasks
    must be bounded by a fixed cap, not fill with every shard it has filtered (before, 30 such tasks left
    500,000 chunks in the vocabulary, ~60 MB, and the fastText cache at its own 24 MB cap: a 100x run's
    worker kept 30-45 MiB more than a 1x run's). Under the cap they are kept for the next task (emptied
    after every task, the filter stage took ~12 % more CPU)."""
    from pipeline.filters import language, words

    words.clear_cache()
    language.predictor(None).__self__.cache_clear()
    _KEPT.clear()
    tasks = [Task(id=f"t{i}", payload=i) for i in range(30)]
    assert len(list(InProcessExecutor().map("filter-signals", tmp_path, tasks, _tokenize_distinct_words))) == 30
    chunks, vocabulary_bytes, token_cache_bytes = zip(*_KEPT)
    assert max(vocabulary_bytes) <= words.KEEP_BYTES, vocabulary_bytes
    assert max(token_cache_bytes) <= language.KEEP_TOKEN_CACHE_BYTES, token_cache_bytes
    assert max(chunks) >= 40_000, chunks  # kept across tasks while under the cap (not emptied per task)
    assert any(later < earlier for earlier, later in zip(chunks, chunks[1:])), chunks  # and trimmed over it
    assert max(token_cache_bytes) > 0, token_cache_bytes


def test_a_cache_is_kept_when_the_process_moves_on_to_a_step_that_fills_it(monkeypatch):
    cleared: list[str] = []
    monkeypatch.setattr(memory, "_step_caches", [])
    monkeypatch.setattr(memory, "_current_step", [])
    memory.clear_between_steps(lambda: cleared.append("lid"), kept_for=("filter-signals",))
    memory.clear_between_steps(lambda: cleared.append("other"))
    memory.starting_step("crawl")
    memory.starting_step("filter-signals")
    assert cleared == ["other"]  # the step that would load it again keeps it
    memory.starting_step("filter")
    assert cleared == ["other", "lid", "other"]
    memory.starting_step("filter-signals")
    assert cleared == ["other", "lid", "other", "other"]


def test_the_preflights_language_model_serves_the_signal_step(monkeypatch):
    """The driver's preflight loads the model before the first step (crawl); moving on to the filter's signal
    step keeps it, so it is not loaded twice in a run in process."""
    from pipeline.filters import language
    from pipeline.stages.filter import SIGNALS_STAGE

    assert language.PREDICTING_STEP == SIGNALS_STAGE
    monkeypatch.setattr(memory, "_current_step", [])  # a process that has run no step yet
    predict = language.predictor(None)  # as preflight loads it
    memory.starting_step("crawl")
    memory.starting_step(SIGNALS_STAGE)
    assert language.predictor(None) is predict
    memory.starting_step("filter")
    assert not language._PREDICTORS and not language._MODELS


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


@needs_trim_and_proc
def test_the_release_after_a_task_runs_only_when_the_worker_grew_by_the_threshold(counted_releases):
    """A release walks every arena (6-10 % of a small crawl task's CPU); after a task that left little
    behind it is skipped, so a worker keeps at most ``RELEASE_ABOVE_BYTES`` more than its last release left;
    after one that left ~100 MiB of freed heap it runs and the pages go back."""
    releases = counted_releases
    assert memory.release_after_task() is True and releases == [1]  # a process's first task: no mark yet
    releases.clear()
    small = [np.ones(10 * 1024, dtype=np.uint8) for _ in range(100)]  # ~1 MiB
    del small
    assert memory.release_after_task() is False and releases == []
    pinned = _free_pinned_heap()
    before = _rss_mib()
    assert memory.release_after_task() is True and releases == [1]
    assert before - _rss_mib() > 50
    assert memory.release_after_task() is False and releases == [1]  # nothing new since
    assert len(pinned) == 20


@needs_trim_and_proc
def test_a_release_within_a_task_leaves_the_mark_for_the_release_after_it(counted_releases):
    """The filter's fused task releases between measuring and deciding (``release_within_task``). It gives
    back the freed heap when the worker grew by the threshold, and keeps the mark where the last release
    between tasks left it: had it moved the mark up to the middle of the task, where the task's live data
    are resident, the release when the task ends would be skipped and the worker would keep the rest."""
    releases = counted_releases
    assert memory.release_after_task() is True  # the first task of the process sets the mark
    mark = memory._released_at[0]
    releases.clear()
    assert memory.release_within_task() is False and releases == []  # nothing grew
    live = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(400)]  # ~40 MiB the task still holds
    pinned = _free_pinned_heap()
    before = _rss_mib()
    assert memory.release_within_task() is True and releases == [1]
    assert before - _rss_mib() > 50
    assert memory._released_at[0] == mark  # not the resident set with ``live`` in it
    del live  # the task ends: its data freed, the release after it still runs
    assert memory.release_after_task() is True and releases == [1, 1]
    assert len(pinned) == 20


@needs_trim_and_proc
def test_a_release_within_the_first_task_of_a_process_leaves_no_mark(counted_releases):
    """In a worker's first task there is no mark yet; a release in its middle must not set one at the
    resident set with the task's live data in it, or the release when that task ends would be skipped."""
    releases = counted_releases
    live = [np.ones(100 * 1024, dtype=np.uint8) for _ in range(400)]  # ~40 MiB the task still holds
    assert memory.release_within_task() is True and releases == [1]  # no mark: it always releases
    assert memory._released_at[0] == 0
    del live  # the task ends: the ~40 MiB it held are freed heap now
    assert memory.release_after_task() is True and releases == [1, 1]
    assert memory._released_at[0] > 0


def test_without_proc_every_task_releases(monkeypatch):
    monkeypatch.setattr(memory, "resident_bytes", lambda: None)
    releases: list[int] = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: releases.append(1))
    assert memory.release_after_task() and memory.release_after_task() and releases == [1, 1]


def test_worker_env_chooses_jemalloc_purging_at_once_unless_the_user_chose_a_pool():
    import pyarrow as pa

    if "jemalloc" not in pa.supported_memory_backends():
        assert memory.worker_env({}) == {}
        return
    env = memory.worker_env({})
    assert env == {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc", "JE_ARROW_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
    assert memory.worker_env({"ARROW_DEFAULT_MEMORY_POOL": "system"}) == {}  # the user's choice stays
    env["ARROW_DEFAULT_MEMORY_POOL"] = "changed"
    assert memory.worker_env({})["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"  # a copy each time


_THREADED_ARROW_ALLOCATIONS = '''
import json, sys, threading
import pyarrow as pa

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

def allocate(out):
    for _ in range(64):  # 32 MiB per thread, every page written
        buf = pa.allocate_buffer(512 * 1024, resizable=True)
        view = memoryview(buf).cast("B")
        view[::4096] = b"\\x01" * len(range(0, len(view), 4096))
        out.append(buf)

base, kept = rss_mib(), []
for _ in range(3):  # Arrow's threads allocate, the task thread frees: as a Parquet read and a task's end
    buffers = []
    threads = [threading.Thread(target=allocate, args=(buffers,)) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    peak = rss_mib()
    del buffers
    kept.append(rss_mib() - base)
print(json.dumps({"pool": pa.default_memory_pool().backend_name, "peak": peak - base, "kept": kept}))
'''


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_a_worker_env_process_gives_arrow_memory_back_as_it_is_freed():
    """The environment ``worker_env`` gives a worker makes Arrow's pool jemalloc at 0 ms decay: 128 MiB
    allocated from four threads and freed in another are handed back at once, without a release call
    (measured with this script: ~1 MiB kept; jemalloc at its default decay kept 113-121 MiB, Arrow's
    mimalloc 164-192)."""
    import json
    import subprocess
    import sys

    import pyarrow as pa

    if "jemalloc" not in pa.supported_memory_backends():
        # pyarrow's Linux wheels carry jemalloc: under CI its absence is a packaging change to look at
        assert not os.environ.get("CI"), "this pyarrow build has no jemalloc pool: workers keep Arrow's default pool"
        pytest.skip("this pyarrow build has no jemalloc pool (e.g. a conda or Windows build): workers keep "
                    "Arrow's default pool and there is no worker setting to test")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env.update(memory.worker_env({}))
    done = subprocess.run([sys.executable, "-c", _THREADED_ARROW_ALLOCATIONS], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    result = json.loads(done.stdout)
    assert result["pool"] == "jemalloc"
    assert result["peak"] > 100, result  # the buffers were resident
    assert max(result["kept"]) < 24, result  # and went back when freed, every round


def heap_serves_24_mib(setup: str) -> bool:
    """Run ``HEAP_BLOCK_PROBE`` after ``setup`` in a fresh interpreter in the repository's root."""
    import subprocess
    import sys

    probe = f"{setup}\n{HEAP_BLOCK_PROBE}\nprint(heap_block)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    return done.stdout.split() == ["True"]


@needs_glibc_heap
def test_fixed_malloc_thresholds_serve_large_blocks_from_the_heap():
    """After ``fix_malloc_thresholds`` a block under 32 MiB comes from the heap, whatever the process freed
    before; without it glibc maps it (its threshold starts at 128 KiB): the probe tells the two apart."""
    assert memory.MALLOC_MMAP_THRESHOLD_BYTES > 24 << 20
    assert heap_serves_24_mib("import pipeline.memory as m; assert m.fix_malloc_thresholds()")
    assert not heap_serves_24_mib("import pipeline.memory")


@needs_glibc_heap
def test_importing_the_library_leaves_malloc_alone():
    """Only the command line's process fixes the thresholds (``pipeline.__main__.main``): a library caller
    that imports the chain (a notebook, Ray's workers) allocates as glibc decides."""
    assert not heap_serves_24_mib("import pipeline.cli, pipeline.run, pipeline.__main__")
