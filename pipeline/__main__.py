"""``python -m pipeline`` and the ``refinery`` console script: both run ``main`` here, which readies the process
(glibc's malloc thresholds, Arrow's pool, the imports frozen, the collector's thresholds) before ``pipeline.cli.main``; importing this module
changes nothing."""

import gc
import os
import sys


# The cyclic collector's thresholds (young objects; young passes per middle pass; middle per full) in a process
# of its own (``main``); Python's default is (700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 20)


def _choose_arrow_pool() -> None:
    """Arrow's memory pool in this process: glibc's malloc unless the user chose one. Arrow reads the variable
    once, when it first allocates, so it is set before anything allocates and removed again right after, so that
    the processes this one starts (Ray's workers) still get ``pipeline.memory.worker_env``'s choice. Why: the
    default, mimalloc, hands freed pages back to the system (madvise) and faults them in again on the next shard:
    on e2e_bench's 15 copies in process 426,000-466,000 page faults and 1.6-2.0 s of system time, against
    206,000-251,000 and 0.9-1.0 s with the system pool (peak RSS 273 against 295 MiB; issue 19). What Arrow
    computes and writes does not depend on the pool."""
    choose = not os.environ.get("ARROW_DEFAULT_MEMORY_POOL")
    if choose:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    import pyarrow

    pyarrow.default_memory_pool()  # Arrow chooses now
    if choose:
        del os.environ["ARROW_DEFAULT_MEMORY_POOL"]


def main(argv: list[str] | None = None) -> int:
    """The command line of a process of its own: the console script's entry point and ``-m pipeline``'s."""
    # First, so that every later allocation follows them (issue 19: the crawl's page faults no longer switch
    # between two levels from run to run); ``pipeline.memory`` imports nothing heavy.
    from pipeline.memory import fix_malloc_thresholds

    fix_malloc_thresholds()
    _choose_arrow_pool()
    from pipeline.cli import main as cli_main

    # What the imports made lives as long as the process: frozen, the cyclic collector's full passes skip it
    # (issue 19: ~0.045 CPU s of a one-core crawl + filter run of e2e_bench's WARCs, at 3 copies and at 15;
    # the run's gen-2 collections 0.061-0.082 -> 0.016-0.029 CPU s). Here rather than in ``cli.main``: a caller
    # that imports that (the tests) keeps its own collector as it was.
    gc.freeze()
    # The collector's passes less often: a one-core crawl + filter run of e2e_bench's WARCs allocates in bursts
    # (a shard's documents, words, signals) that leave little cyclic garbage (1,666 objects found by 293
    # young passes), and the passes cost ~0.077 CPU s a run at Python's default (700, 10, 10), ~0.041 s here
    # (104 young passes; issue 19, `gc.callbacks` timing). Peak memory the same (250-251 MiB). Here for the
    # same reason as the freeze: a library caller keeps its collector's settings.
    gc.set_threshold(*GC_THRESHOLDS)
    # The report's matplotlib without its class docstring listings and mplot3d (~0.12 CPU s a run; issue 19):
    # it changes matplotlib's docstrings for the process, so only here, in a process of its own.
    from pipeline.report.mpl import lean_import_in_this_process

    lean_import_in_this_process()
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
