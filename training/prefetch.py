"""The next step's batch, assembled on a background thread while the current step trains.

Between two optimiser steps the trainer used to gather this rank's rows from the memory-mapped shards
and copy them to the GPU from pageable memory, with the GPU idle for both. ``Prefetcher`` gathers batch
``step + 1`` while step ``step`` runs, into page-locked ("pinned") memory on CUDA, so the copy to the
device is asynchronous too. A batch is a pure function of its step (``MixtureSampler.batch``), so
prefetching changes nothing but when the work happens: the batches, and so the losses, are identical with
it on or off, and a resume needs no prefetcher state.

Pinned buffers come from torch's caching host allocator, which does not hand a buffer out again until
the asynchronous copies that read it have finished, so no buffer is overwritten under a pending copy.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import torch

Batch = tuple[torch.Tensor, torch.Tensor]


class Prefetcher:
    """``get(step)`` returns ``fetch(step)`` and starts fetching ``step + 1`` (below ``end``) in the background.

    ``enabled=False`` fetches on the caller's thread, on demand (the reference the tests compare with).
    An error fetching a step is raised by the ``get`` of that step, never by an unrequested prefetch.
    """

    def __init__(self, fetch: Callable[[int], Batch], end: int, enabled: bool = True):
        self.fetch = fetch
        self.end = end
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") if enabled else None
        self._pending: tuple[int, Future[Batch]] | None = None

    def get(self, step: int) -> Batch:
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == step:
            batch = pending[1].result()
        else:
            if pending is not None:
                pending[1].cancel()
            batch = self.fetch(step)
        if self._pool is not None and step + 1 < self.end:
            self._pending = (step + 1, self._pool.submit(self.fetch, step + 1))
        return batch

    def close(self) -> None:
        """Wait for a fetch in flight and stop the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending = None

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
