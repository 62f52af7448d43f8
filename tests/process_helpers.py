"""Process-tree helpers for tests that kill a process and check what it leaves behind (Linux /proc)."""

from __future__ import annotations

import time
from typing import Callable

from pipeline.ray_watchdog import _children, _start_time


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
