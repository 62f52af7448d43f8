"""``python -m pipeline`` and the ``refinery`` console script: Arrow's pool is glibc's unless the user chose one,
and the variable that chose it is gone before anything starts a child process; what the imports made is frozen
(the collector's full passes skip it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.process_helpers import HEAP_BLOCK_PROBE, needs_glibc_heap

REPO = Path(__file__).resolve().parents[2]

# start the command line as ``-m pipeline`` does, or as the console script that pyproject.toml declares does
# (the installed script imports the entry point's function and calls it), then report the pool, the variable
# and the frozen objects
_PROBE = """
import gc, json, os, runpy, sys
from importlib.metadata import EntryPoint
how, entry = sys.argv[1], sys.argv[3]
sys.argv = ["pipeline", "validate", sys.argv[2]]
try:
    if how == "module":
        runpy.run_module("pipeline", run_name="__main__")
    else:
        sys.exit(EntryPoint(name="refinery", value=entry, group="console_scripts").load()())
except SystemExit:
    pass
import pyarrow
""" + HEAP_BLOCK_PROBE + """
print(json.dumps({"pool": pyarrow.default_memory_pool().backend_name, "frozen": gc.get_freeze_count(),
                  "thresholds": gc.get_threshold(), "variable": os.environ.get("ARROW_DEFAULT_MEMORY_POOL"),
                  "heap_block": heap_block}))
"""
ENTRY = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["refinery"]


def _probe(tmp_path: Path, how: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | env
    done = subprocess.run([sys.executable, "-c", _PROBE, how, str(tmp_path / "no-dataset"), ENTRY], cwd=REPO,
                          env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no-dataset" in done.stderr  # the command itself ran (validate of a missing dataset: an error)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how", ["module", "console script"])
def test_entry_uses_the_system_pool_and_freezes_the_imported_objects(tmp_path: Path, how: str) -> None:
    found = _probe(tmp_path, how)
    assert found["pool"] == "system" and found["variable"] is None  # children choose for themselves
    assert found["frozen"] > 10_000  # the imports' objects (pydantic, pyarrow, ...)


@pytest.mark.parametrize("how", ["module", "console script"])
def test_entry_sets_the_collectors_thresholds(tmp_path: Path, how: str) -> None:
    from pipeline.__main__ import GC_THRESHOLDS

    assert GC_THRESHOLDS != (700, 10, 10)  # Python's default: a probe that could not tell
    assert tuple(_probe(tmp_path, how)["thresholds"]) == GC_THRESHOLDS


@needs_glibc_heap
@pytest.mark.parametrize("how", ["module", "console script"])
def test_entry_fixes_mallocs_thresholds(tmp_path: Path, how: str) -> None:
    """``pipeline.memory.fix_malloc_thresholds`` ran: a 24 MiB block comes from the heap (glibc's default
    threshold, 128 KiB at the start, would map it; ``test_memory.py`` checks that the probe tells them apart)."""
    assert _probe(tmp_path, how)["heap_block"]


@pytest.mark.parametrize("how", ["module", "console script"])
def test_entry_keeps_the_users_pool(tmp_path: Path, how: str) -> None:
    found = _probe(tmp_path, how, ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert found["pool"] == "mimalloc" and found["variable"] == "mimalloc"


def test_importing_the_entry_module_changes_nothing() -> None:
    """Only running ``main`` readies the process: an import (a tool listing entry points) leaves the collector
    and the environment alone."""
    code = ("import gc, os, sys, pipeline.__main__; "
            "print(gc.get_freeze_count(), os.environ.get('ARROW_DEFAULT_MEMORY_POOL'), 'pyarrow' in sys.modules, "
            "*gc.get_threshold())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "None", "False", "700", "10", "10"]
