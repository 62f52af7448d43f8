"""``python -m pipeline`` freezes what its imports made before it runs (the collector's full passes skip it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# run the module as ``-m pipeline`` does, then report how many objects the collector leaves out
_PROBE = """
import gc, runpy, sys
sys.argv = ["pipeline", "validate", sys.argv[1]]
try:
    runpy.run_module("pipeline", run_name="__main__")
except SystemExit:
    pass
print(gc.get_freeze_count())
"""


def test_module_entry_freezes_the_imported_objects(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "no-dataset")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) > 10_000  # the imports' objects (pydantic, pyarrow, ...)
