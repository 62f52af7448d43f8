"""A manifest cannot run code, and a run cannot write outside its run folder.

* YAML tags that construct Python objects are refused before anything is built (safe_load);
* every output path is joined with ``contracts.fsio.safe_join``, which refuses ``..``, absolute parts and
  symlinks out of the run folder; names that become path parts (run.name, source names) are validated;
* a whole run (crawl to tokenize, with hostile-looking but valid names) leaves every file outside its run
  folder untouched, including its inputs and its working directory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contracts.fsio import safe_join
from pipeline.manifest import ManifestError, parse_manifest
from pipeline.runner import Task, TaskResult, run_stage
from tests.pipeline.helpers import write_manifest

REPO = Path(__file__).resolve().parents[2]
BASE = {"run": {"name": "t", "output_dir": "out"},
        "sources": [{"name": "books", "kind": "books", "paths": ["books/*.txt"]}]}


def parse(data: dict | str) -> None:
    parse_manifest(data if isinstance(data, str) else yaml.safe_dump(data), "<test>", Path("/nonexistent/m.yaml"))


# ------------------------------------------------------------------------------------- manifests run no code

@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.mkdir ['{marker}']",
    "!!python/object/new:os.mkdir ['{marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:pathlib.PosixPath {{}}",
    "!!python/tuple [1, 2]",
])
def test_python_yaml_tags_are_refused_and_run_nothing(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    text = yaml.safe_dump(BASE) + "extra: " + tag.format(marker=marker) + "\n"
    with pytest.raises(ManifestError, match="not valid YAML"):
        parse(text)
    assert not marker.exists()


def test_tag_inside_a_source_is_refused_too(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (f"run: {{name: t, output_dir: out}}\nsources:\n  - name: b\n    kind: books\n"
            f"    paths: [!!python/object/apply:os.mkdir ['{marker}']]\n")
    with pytest.raises(ManifestError):
        parse(text)
    assert not marker.exists()


# ------------------------------------------------------------------------------------- paths stay inside

@pytest.mark.parametrize("parts", [("..",), ("../x",), ("a", "..", "..", "x"), ("/etc/passwd",),
                                   ("docs", "/tmp/x"), ("docs/../../x",)])
def test_safe_join_refuses_escapes(tmp_path: Path, parts: tuple[str, ...]) -> None:
    root = tmp_path / "run"
    root.mkdir()
    with pytest.raises(ValueError, match="escapes the output folder"):
        safe_join(root, *parts)


def test_safe_join_allows_what_stays_inside(tmp_path: Path) -> None:
    root = tmp_path / "run"
    assert safe_join(root, "docs", "a..b", "..x.parquet") == (root / "docs/a..b/..x.parquet").resolve()
    assert safe_join(root, "docs/../stats/x.json") == (root / "stats/x.json").resolve()
    assert safe_join(root) == root.resolve()


def test_safe_join_refuses_a_symlink_out_of_the_run_folder(tmp_path: Path) -> None:
    root = tmp_path / "run"
    (root / "docs").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "docs" / "web").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="escapes"):
        safe_join(root, "docs", "web", "shard.parquet")


@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", "/abs", ".hidden", "", "a\\b", "x" * 65, "a b"])
def test_run_and_source_names_that_could_name_other_folders_are_refused(name: str) -> None:
    with pytest.raises(ManifestError, match="run.name"):
        parse({**BASE, "run": {"name": name, "output_dir": "out"}})
    with pytest.raises(ManifestError, match="sources.0"):
        parse({**BASE, "sources": [{"name": name, "kind": "books", "paths": ["b.txt"]}]})


def _never_called(payload: object) -> TaskResult:  # pragma: no cover - the stage must refuse first
    raise AssertionError("a task with an escaping id must not run")


@pytest.mark.parametrize("task_id, stage", [("../../../escape", "crawl"), ("/tmp/abs", "crawl"),
                                            ("ok", "../../x"), ("ok", "/tmp/stage")])
def test_task_ids_and_stage_names_cannot_place_records_outside(tmp_path: Path, task_id: str, stage: str) -> None:
    """Completion records are named by stage and task id: one that would land outside is refused before
    any work (ids come from validated source names and sanitised file names, so this is a backstop)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(ValueError, match="cannot be"):
        run_stage(run_dir, stage, [Task(task_id, None)], _never_called)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run"]


# ------------------------------------------------------------------------------------- a whole run

def snapshot(root: Path, leave_out: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file under ``root`` that is not under ``leave_out``; folders by name."""
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(root.rglob("*")):
        if path == leave_out or leave_out in path.parents:
            continue
        rel = str(path.relative_to(root))
        if path.is_file() and not path.is_symlink():
            found[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        else:
            found[rel] = ("dir" if path.is_dir() else "other", 0)
    return found


def test_a_run_writes_nothing_outside_its_run_folder(shared_data: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("web/cc-whirlwind.warc.gz", "wiki/enwiki-table-markup.xml.bz2", "books/the-verdict.txt"):
        shutil.copy(shared_data / name, inputs / Path(name).name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # Valid names that look like path tricks: they must stay plain names inside the run folder.
    sources = [{"name": "a..b", "kind": "commoncrawl", "paths": [str(inputs / "cc-whirlwind.warc.gz")]},
               {"name": "wiki.-", "kind": "wikipedia", "paths": [str(inputs / "enwiki-table-markup.xml.bz2")]},
               {"name": "books", "kind": "books", "paths": [str(inputs / "the-verdict.txt")]}]
    stages = {"order": ["crawl", "filter", "dedup", "tokenize"],
              "tokenize": {"tokenizer": {"kind": "bpe", "name": "..", "vocab_size": 300}}}
    manifest = write_manifest(tmp_path / "m", sources, name="r..", ray={"num_cpus": 1}, stages=stages)
    run_dir = tmp_path / "m" / "out" / "r.."
    before = snapshot(tmp_path, run_dir)

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    assert snapshot(tmp_path, run_dir) == before | {"m/out": ("dir", 0)}
    assert not list(cwd.iterdir())
    written = [p for p in run_dir.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(run_dir.resolve()) for p in written)
    assert (run_dir / "tokenizer" / "..-300.tiktoken").is_file()
    assert (run_dir / "docs" / "a..b").is_dir() and (run_dir / "tokens" / "index.json").is_file()
