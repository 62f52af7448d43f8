"""Process helpers for tests (Linux /proc): the process tree a killed process leaves behind, and where glibc's
malloc puts a block."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Callable

import pytest

from pipeline.ray_watchdog import _children, _start_time

# Python for a fresh interpreter, after the test's own set-up: ``heap_block`` is whether a 24 MiB block of the C
# library's malloc lies in the main heap (``[heap]`` in /proc/self/maps) rather than in a mapping of its own.
# 24 MiB is under ``pipeline.memory.MALLOC_MMAP_THRESHOLD_BYTES`` and over glibc's default threshold (128 KiB),
# so it tells fixed thresholds from the defaults; one block per process, because freeing a mapped block would
# itself raise glibc's dynamic threshold. None where there is no /proc/self/maps.
HEAP_BLOCK_PROBE = """
import ctypes, os
heap_block = None
if os.path.exists("/proc/self/maps"):
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    block = libc.malloc(24 << 20)
    heap = [line.split()[0] for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
    lo, hi = (int(x, 16) for x in heap[0].split("-")) if heap else (0, 0)
    heap_block = lo <= block < hi
"""

needs_glibc_heap = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or not Path("/proc/self/maps").exists(),
    reason="fix_malloc_thresholds sets glibc's malloc options; with another C library (musl, macOS) it does "
           "nothing and returns False, so there is no threshold to observe, and the probe needs Linux's "
           "/proc/self/maps to find the heap")


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of ``pid`` with its start time (a reused PID then never counts as alive)."""
    tree, found, stack = _children(), {}, [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            started = _start_time(child)
            if started is not None:
                found[child] = started
                stack.append(child)
    return found


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll ``condition`` for up to ``seconds``; a bound for something that must happen, not a timing check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
