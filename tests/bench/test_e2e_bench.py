"""bench/e2e_bench.py's bytecode footing: the refinery runs it times read the ``.pyc`` files an untimed run
compiled into a folder of the bench, as an installed refinery (and datatrove's virtualenv) would, and neither
the timed runs nor the compile write into the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.e2e_bench import bytecode_env, compile_checkout

_PRINT_VALUE = "import pkg.mod; print(pkg.mod.VALUE)"


def _checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "mod.py").write_text("VALUE = 'compiled'\n")
    (repo / "notes").mkdir()  # not a package: left alone
    (repo / "notes" / "x.py").write_text("raise SystemExit('never compiled')\n")
    return repo


def _run(repo: Path, env: dict[str, str], code: str = _PRINT_VALUE) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_the_environment_reads_from_the_prefix_and_writes_only_when_asked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # set or not in the caller's environment
    timed = bytecode_env(tmp_path / "pyc", write=False)
    assert timed["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pyc")
    assert timed["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "PYTHONDONTWRITEBYTECODE" not in bytecode_env(tmp_path / "pyc", write=True)
    assert bytecode_env(None, write=True) == dict(os.environ)


def test_compiled_checkout_is_read_from_the_prefix_not_recompiled(tmp_path: Path) -> None:
    repo, prefix = _checkout(tmp_path), tmp_path / "pyc"
    compile_checkout(repo, prefix)
    assert not list(repo.rglob("*.pyc")), "the checkout is written to"
    mirror = prefix / repo.relative_to(repo.anchor)  # the checkout's place in the prefix
    compiled = sorted(str(p.relative_to(mirror)).split(".")[0] for p in mirror.rglob("*.pyc"))
    assert compiled == ["pkg/__init__", "pkg/mod"]  # the package only, not notes/
    # New source of the same size and mtime: Python's timestamp check still accepts the .pyc, so the old value
    # printed proves the run read the compiled file rather than compiling the source
    source = repo / "pkg" / "mod.py"
    stat = source.stat()
    source.write_text("VALUE = 'fromsrc!'\n")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source.stat().st_size == stat.st_size
    assert _run(repo, bytecode_env(prefix, write=False)) == "compiled"
    assert _run(repo, {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}) == "fromsrc!"


def test_the_timed_runs_write_no_bytecode_and_the_warm_up_does(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    repo, prefix = _checkout(tmp_path), tmp_path / "pyc"
    assert _run(repo, bytecode_env(prefix, write=False)) == "compiled"
    assert not list(prefix.rglob("*.pyc")) and not list(repo.rglob("*.pyc"))
    assert _run(repo, bytecode_env(prefix, write=True), "import pkg.mod, json; print(1)") == "1"
    mirror = prefix / repo.relative_to(repo.anchor)
    assert sorted(str(p.relative_to(mirror)).split(".")[0] for p in mirror.rglob("*.pyc")) == ["pkg/__init__",
                                                                                            "pkg/mod"]
    assert any(p.name.startswith("decoder.") for p in prefix.rglob("json/decoder.*.pyc"))  # the stdlib's too
    assert not list(repo.rglob("*.pyc"))
