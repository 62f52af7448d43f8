"""``python -m pipeline``: Arrow's pool is glibc's unless the user chose one, and the variable that chose it is
gone before anything starts a child process; what the imports made is frozen (the collector's full passes
skip it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# run the module as ``-m pipeline`` does, then report the pool, the variable and the frozen objects
_PROBE = """
import gc, json, os, runpy, sys
sys.argv = ["pipeline", "validate", sys.argv[1]]
try:
    runpy.run_module("pipeline", run_name="__main__")
except SystemExit:
    pass
import pyarrow
print(json.dumps({"pool": pyarrow.default_memory_pool().backend_name, "frozen": gc.get_freeze_count(),
                  "variable": os.environ.get("ARROW_DEFAULT_MEMORY_POOL")}))
"""


def _probe(tmp_path: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | env
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "no-dataset")], cwd=REPO, env=environ,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_module_entry_uses_the_system_pool_and_freezes_the_imported_objects(tmp_path: Path) -> None:
    found = _probe(tmp_path)
    assert found["pool"] == "system" and found["variable"] is None  # children choose for themselves
    assert found["frozen"] > 10_000  # the imports' objects (pydantic, pyarrow, ...)


def test_module_entry_keeps_the_users_pool(tmp_path: Path) -> None:
    found = _probe(tmp_path, ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert found["pool"] == "mimalloc" and found["variable"] == "mimalloc"
