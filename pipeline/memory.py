"""Give memory freed by a finished task back to the operating system, so a long-lived worker stays small.

Why: a Ray worker runs hundreds of tasks of every stage in one process. glibc's malloc keeps freed heap
pages (numpy temporaries under its dynamic mmap threshold, up to 32 MiB each, and Python's string lists)
for reuse, and Arrow's mimalloc pool keeps its own, so a worker's resident set only ratchets up: after each
task it stays at the highest point of the heap's fragmentation so far, and with more tasks per worker (a
larger corpus) it climbs higher (issue 19: the largest worker grew from 416 to 633 MiB between 1x and 10x
the demo while no task needed more). ``malloc_trim(0)`` releases the free pages of every arena (not only
the heap's top) and ``release_unused`` asks Arrow's pool to do the same; after that a worker's resident set
is what is live, plus the next task's own peak.

Every executor calls ``release_after_task`` after every task (``pipeline.executors.run_task``), so each
stage's tasks are covered without doing anything; ``releases_memory`` is for a task function called
directly, outside an executor (a benchmark's loop). ``release_after_task`` releases only when the
resident set is ``RELEASE_ABOVE_BYTES`` (16 MiB) above where the last release left it: a trim walks every
arena and returns pages one by one, 6-10 % of a small crawl task's CPU, while most tasks leave little to
give back; what a worker keeps of freed memory between tasks is still bounded, by the threshold.

Arrow's memory: a Ray worker allocates it from jemalloc with freed pages purged at once (``worker_env``,
set by ``pipeline.runner.connect_ray`` before the workers start), not from Arrow's default mimalloc. Why:
the resident part of mimalloc's 1 GiB arena, which Arrow's Parquet threads allocate from, crept up with
every task a worker ran although ``release_unused`` ran after the tasks (1x scale run: 3 -> 34 MiB over
one worker's 25 tasks; 100x: 66 MiB by the end of dedup's signatures). ``pa.set_memory_pool`` inside a
worker is not enough: Arrow's C++ code (Parquet decoding and encoding) keeps its own default, chosen once
per process from ``ARROW_DEFAULT_MEMORY_POOL``. And jemalloc needs its decay at 0: with its default, a
loop of 4 threads allocating 128 MiB of Arrow buffers kept 113-121 MiB after freeing them; at 0 ms, 1 MiB.

Per-process state comes in two kinds. A cache of what a task's input held (the word filters' vocabulary of
distinct chunks, the fastText token cache) fills with every shard a worker has seen, so kept across tasks it
makes the worker's memory grow with the number of tasks it ran (a larger corpus) until the cache's own cap
(~60 MB for the vocabulary). A function registered with ``clear_after_each_task`` trims it when each task
ends, to a fixed cap of a few MB (``words.KEEP_BYTES``, ``language.KEEP_TOKEN_CACHE_BYTES``): a worker keeps
at most that between tasks, the same however many tasks it ran (issue 19, "peak RSS per worker flat"),
and the next task still finds the frequent words (emptied after every task, the filter took ~12 % more
CPU). A model that a step loads once (the
language model, jieba's dictionary) does not grow with the tasks but is dead weight once the worker runs
another stage's tasks: registered with ``clear_between_steps``, it is dropped when the worker starts a task
of another step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
from typing import Any, Callable, Iterable, Mapping, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=Callable[[], Any])

# what ``clear_between_steps`` registered in this process: each clear function and the steps that keep it
_step_caches: list[tuple[Callable[[], Any], frozenset[str]]] = []
_task_caches: list[Callable[[], Any]] = []  # what ``clear_after_each_task`` registered in this process
_current_step: list[str] = []  # the step of this process's last task (a list: no global statement)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, found once (``find_library`` runs ``ldconfig``)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@functools.cache
def _libc_function(name: str, argtypes: tuple[Any, ...]) -> Callable[..., int] | None:
    """A function of glibc's malloc (returning int), or None where the C library has none (musl, macOS)."""
    function = getattr(_libc(), name, None)
    if function is None:
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    return _libc_function("malloc_trim", (ctypes.c_size_t,))


# glibc's malloc in a process of its own (``fix_malloc_thresholds``, called by ``python -m pipeline``): blocks
# under the first size come from the heap, not from a mapping of their own, and the heap's free top is handed
# back only above the second. These are where glibc's own dynamic thresholds stop (its largest mmap threshold,
# and twice it for the trim), fixed from the start instead of moving with what the process freed before.
MALLOC_MMAP_THRESHOLD_BYTES = 32 << 20
MALLOC_TRIM_THRESHOLD_BYTES = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def fix_malloc_thresholds() -> bool:
    """Fix glibc's mmap and trim thresholds (``MALLOC_*_THRESHOLD_BYTES``) for the rest of the process; False
    where the C library has no ``mallopt`` or refused. Why: by default both move with the process's history
    (freeing a mapped block of n bytes raises the mmap threshold to n and the trim threshold to 2n), so the same
    run's buffers were mapped and faulted in afresh in some runs and reused from the heap in others: e2e_bench's
    15 copies in one process took ~134,000 or 188,000-275,000 minor page faults in its crawl stage, from run to
    run (issue 19). Fixed, every run took ~134,000 (0.3 CPU s less system time than the high level, peak RSS
    unchanged). What the heap keeps stays bounded by the executors' gated release (``release_after_task``),
    which now runs more often (23-24 times a run instead of 9-10). Not for a library caller's process (a
    notebook, Ray's workers): it changes how the whole process allocates."""
    mallopt = _libc_function("mallopt", (ctypes.c_int, ctypes.c_int))
    if mallopt is None:
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD_BYTES)
                and mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES))


# ``release_after_task`` gives memory back only once the worker's resident set is this much above where the
# last release left it: what a worker keeps of earlier tasks' freed memory is bounded by it.
RELEASE_ABOVE_BYTES = 16 << 20
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_released_at: list[int] = [0]  # resident bytes after the last release (a list: no global statement)


def resident_bytes() -> int | None:
    """This process's resident set (``/proc/self/statm``, ~10 us), or None where there is no /proc."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def release_after_task(threshold: int = RELEASE_ABOVE_BYTES) -> bool:
    """What the executors call after each task: ``release_freed_memory`` when the resident set is at least
    ``threshold`` bytes above where the last release left it (always where /proc is missing). Why gated: a
    trim walks every arena and hands pages back one by one, 6-10 % of a small crawl task's CPU, while most
    tasks free little or free it by ``munmap`` already (blocks above glibc's mmap threshold). True when it
    released."""
    rss = resident_bytes()
    if rss is not None and _released_at[0]:  # the process's first task always releases: no mark yet
        _released_at[0] = min(_released_at[0], rss)
        if rss - _released_at[0] < threshold:
            return False
    release_freed_memory()
    return True


def release_within_task(threshold: int = RELEASE_ABOVE_BYTES) -> bool:
    """``release_after_task``'s test and release in the middle of a task, between a phase that freed much of
    the C heap and one that allocates elsewhere; the mark stays where the last release between tasks left it.
    Why: ``release_after_task`` would move the mark up to this point, where the task's live data are still
    resident, and then skip the release when the task ends. With no mark yet (the process's first task) it
    stays without one, so the release after that task runs too. True when it released."""
    mark = _released_at[0]
    released = release_after_task(threshold)
    if released:
        _released_at[0] = mark
    return released


def release_freed_memory() -> None:
    """Return the free pages of the C heap and of Arrow's memory pool to the OS (about a millisecond)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    _released_at[0] = resident_bytes() or 0


def releases_memory(fn: F) -> F:
    """Decorate a function so that its process gives back what each call freed, also when it fails (task
    functions run by an executor need not: the executor does it). The wrapper keeps the function's module
    and name, so Ray and pickle still find it by reference.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            release_freed_memory()

    return wrapper  # type: ignore[return-value]


# What a worker process's environment gets for Arrow (``worker_env``): its default pool jemalloc, dirty and
# muzzy pages purged as soon as they are freed (the options of Arrow's bundled jemalloc, prefixed ``je_arrow_``).
ARROW_POOL_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc",
                  "JE_ARROW_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}


def worker_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for the processes that run tasks (``pipeline.runner.connect_ray``: inherited by an
    embedded Ray's workers, a cluster's through the job's ``runtime_env``): ``ARROW_POOL_ENV``
    when this pyarrow build has jemalloc and the user has not chosen a pool (``ARROW_DEFAULT_MEMORY_POOL``
    in ``environ``, default ``os.environ``: kept as it is), else nothing. Read once, when Arrow first
    allocates, so it must be there when the process starts; what Arrow computes does not depend on it."""
    environ = os.environ if environ is None else environ
    if environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return {}
    import pyarrow as pa

    return dict(ARROW_POOL_ENV) if "jemalloc" in pa.supported_memory_backends() else {}


def clear_between_steps(clear: C, kept_for: Iterable[str] = ()) -> C:
    """Register ``clear`` (a cache's clear function) to run when this process starts a task of another step
    than its last one, unless that step is one of ``kept_for``: the steps whose tasks fill the cache, which
    would load it again at once. Why: the driver's preflight loads the language model before the first step;
    cleared when the filter's signal step began, it was loaded again by that step's first task (~0.02-0.03 CPU s
    a run in process; issue 19). Returns ``clear``, so a module can register and keep its function in one
    line."""
    _step_caches.append((clear, frozenset(kept_for)))
    return clear


def clear_after_each_task(clear: C) -> C:
    """Register ``clear`` (a function that empties or trims a cache) to run when each task of this process
    ends (``finished_task``). For caches of what a task's input holds (distinct words, tokens): kept across
    tasks without a bound they fill with every shard a worker has seen, so the worker's memory grows with the
    number of tasks it ran (a larger corpus); trimmed to a fixed cap when each task ends, what a worker
    keeps is that cap at most, whatever the number of tasks. Returns ``clear``, so it also works as a
    decorator."""
    _task_caches.append(clear)
    return clear


class IdleRelease:
    """A model or dictionary loaded on demand (jieba's dictionary, Kiwi's model) that a worker frees once
    ``idle_tasks`` of its tasks in a row ended without using it, then gives the freed heap back to the OS.

    Why: the shards that need it and those that do not reach a worker in runs (web pages, some Chinese or
    Korean, then an English Wikipedia and books), and a worker carried it through hundreds of tasks that never
    used it. Why not after one idle task: a worker that alternates kinds of shards would reload it every other
    task (jieba ~66 ms, Kiwi ~2 s); two in a row cost at most one reload per three tasks. The owner calls
    ``used`` when a task uses it; ``task_ended`` runs when each task ends (``clear_after_each_task``)."""

    def __init__(self, loaded: Callable[[], bool], unload: Callable[[], None], idle_tasks: int = 2):
        self.loaded, self.unload, self.idle_tasks = loaded, unload, idle_tasks
        self.state = {"used": False, "idle": 0}  # this task used it; tasks in a row that did not
        clear_after_each_task(self.task_ended)

    def used(self) -> None:
        self.state["used"] = True

    def task_ended(self) -> bool:
        """Count the task as idle unless it used the model; free it once ``idle_tasks`` tasks in a row were idle.
        True when it freed it."""
        used, self.state["used"] = self.state["used"], False
        self.state["idle"] = 0 if used else self.state["idle"] + 1
        if self.state["idle"] < self.idle_tasks or not self.loaded():
            return False
        self.unload()
        release_freed_memory()
        return True


def finished_task() -> None:
    """Called by the executors when a task ends, before the release: runs what ``clear_after_each_task``
    registered. Their objects must not hold reference cycles (no collector runs here: it would cost a pass
    over every live object per task)."""
    for clear in _task_caches:
        clear()


def starting_step(step: str) -> None:
    """Called by the executors before each task: a worker moving on to another step drops the caches its
    earlier steps filled (``clear_between_steps``); the same step's tasks keep them warm."""
    if _current_step and _current_step[0] != step and _step_caches:
        for clear, kept_for in _step_caches:
            if step not in kept_for:
                clear()
        gc.collect()  # a cache's objects may hold cycles (bound methods in closures): freed only by the collector
        release_freed_memory()
    _current_step[:] = [step]
