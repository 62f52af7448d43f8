"""The chunk table reads no code point through a misaligned pointer (undefined behaviour in C).

Why a sanitizer build: an entry of the table's arena starts where the one before it ends, so a UCS-2 entry
after one of odd length sits at an odd address; x86 loads it anyway, so only ``-fsanitize=alignment`` (or
a CPU that faults) shows a typed load there. The test compiles ``_chunks.c`` with that sanitizer set to
abort, runs every method that reads stored entries on mixed ASCII, UCS-2 and UCS-4 chunks in a child
process, and compares what it returns with the regular build's. Skipped where no C compiler with the
sanitizer's runtime is at hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pipeline.filters import words
from tests.pipeline.filters.support import require_compiled

SOURCE = Path(__file__).resolve().parents[3] / "pipeline" / "filters" / "_chunks.c"

# Odd-length ASCII entries before UCS-2 and UCS-4 ones: every wide entry after the first lands misaligned.
# The second pass over the same text compares against the stored entries; jieba's words of the stored Han
# runs come as one and two characters (the direct table and the cache of short words) and longer ones.
CHILD = r"""
import json, struct, sys
sys.path.insert(0, sys.argv[1])
import _chunks
text = "a 中文 abc 中 x𠀀y ab 北京大学学习 7 数学,ok 𠀀𠀁 end. 中文 a 北京大学学习\n第二行 abc 中"
table = _chunks.ChunkTable()
out = {"first": repr(table.lookup(text, True)), "again": repr(table.lookup(text, True, False))}
narrow = text.replace("𠀀", "")  # a UCS-2 text: its chunks compared with the stored UCS-2 ones at their width
out["narrow"] = repr(table.lookup(narrow, True)) + repr(table.lookup(narrow, False, False))
ids = struct.pack(f"{len(table)}q", *range(len(table)))
out["strings"] = table.strings(ids)
out["items"] = [table[i] for i in range(len(table))]
out["find"] = [table.find(s) for s in ("中文", "𠀀𠀁", "ab", "无")]
out["columns"] = repr(table.columns(0))
out["chars"] = table.chars(1)
out["han_runs"] = table.han_runs(0)
runs, lengths = table.han_ucs4(0)
out["han_ucs4"] = repr((runs, lengths))
words = []
for n in struct.unpack(f"{len(lengths) // 4}i", lengths):
    while n:
        words.append(min(n, 1 + len(words) % 5))
        n -= words[-1]
cut = struct.pack(f"{len(words)}i", *words)
for rounds in range(2):  # the second round finds every token in the token table
    tokens = _chunks.ChunkTable()
    got = _chunks.jieba_entry_tokens(table, 0, cut, tokens)
    got = _chunks.jieba_entry_tokens(table, 0, cut, tokens)
    out[f"jieba_{rounds}"] = repr(got) + repr(tokens.strings(struct.pack(f"{len(tokens)}q", *range(len(tokens)))))
out["columns_tokens"] = repr(tokens.columns(0))
out["split"] = repr(_chunks.intern_split([tuple(table.strings(ids))], tokens))
print(json.dumps(out))
"""


def sanitized_build(tmp_path: Path) -> Path:
    """``_chunks.c`` compiled with ``-fsanitize=alignment`` aborting at the first misaligned access."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    if not shutil.which(cc[0]):  # `make test` builds the extensions, so under CI a compiler is there
        assert not os.environ.get("CI"), f"no C compiler {cc[0]!r}, yet the extensions were built"
        pytest.skip(f"the sanitizer build needs Python's C compiler {cc[0]!r}, which is not installed")
    target = tmp_path / f"_chunks{sysconfig.get_config_var('EXT_SUFFIX')}"
    built = subprocess.run([*cc, "-shared", "-fPIC", "-O1", "-fsanitize=alignment", "-fno-sanitize-recover=all",
                            f"-I{sysconfig.get_paths()['include']}", str(SOURCE), "-o", str(target)],
                           capture_output=True, text=True)
    if built.returncode:
        pytest.skip("this compiler cannot build with -fsanitize=alignment (gcc needs its UBSan runtime, "
                    f"Debian's libubsan1; clang has its own): {built.stderr[-500:]}")
    return tmp_path


def run_child(folder: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, folder], capture_output=True, text=True, timeout=300)


def test_stored_entries_are_read_without_misaligned_loads(tmp_path):
    require_compiled(words._chunks, "_chunks", "str.split() with a dict")
    regular = Path(words._chunks.__file__).parent
    sanitized = run_child(str(sanitized_build(tmp_path)))
    assert "runtime error" not in sanitized.stderr, sanitized.stderr[-3000:]
    assert sanitized.returncode == 0, sanitized.stderr[-3000:]
    reference = run_child(str(regular))
    assert reference.returncode == 0, reference.stderr[-3000:]
    assert json.loads(sanitized.stdout) == json.loads(reference.stdout)
