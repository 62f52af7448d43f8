"""Output errors on real filesystems: a full disk, a read-only folder, an output folder deleted mid-run.

Each must end in a clear error, leave no half-written shard, and a rerun must complete with outputs
identical to a clean run. The full and read-only filesystems are real tmpfs mounts (root in a sandbox,
as on this project's machines and CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq
import pytest

from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.helpers import book_paragraphs_jsonl, done_records, tree_digest, write_manifest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):  # CI runs as root in a sandbox that allows mounts: never hide these tests
            pytest.fail(f"cannot mount a tmpfs for the output-error tests: {done.stderr.strip()}")
        pytest.skip(f"mounting a tmpfs needs root with CAP_SYS_ADMIN: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def remount(mount_point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount_point)], check=True)


def run_cli(manifest: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def books_manifest(folder: Path, shared: Path, output_dir: Path) -> Path:
    books = sorted(str(p) for p in (shared / "books").glob("gutenberg-*.txt"))
    path = write_manifest(folder, [{"name": "books", "kind": "books", "paths": books}], name="b",
                          ray={"num_cpus": 1})
    text = path.read_text().replace(str(folder / "out"), str(output_dir))
    path.write_text(text)
    return path


def assert_no_partial_shards(root: Path) -> None:
    assert not list(root.rglob(".tmp-*")), "a temporary file was left behind"
    for shard in root.rglob("*.parquet"):
        pq.read_metadata(shard)  # every shard under its final name is complete


@pytest.mark.slow
def test_disk_full_then_rerun_after_freeing_space(ray_local, tmpfs: Path, shared_data: Path, tmp_path: Path) -> None:
    # the reference in this process on the session's Ray (no CLI and Ray start of its own)
    run_manifest(load_manifest(books_manifest(tmp_path, shared_data, tmp_path / "clean")))

    manifest = books_manifest(tmp_path, shared_data, tmpfs / "out")
    full = run_cli(manifest)
    assert full.returncode != 0
    assert "No space left on device" in full.stderr and "is full" in full.stderr, full.stderr[-2000:]
    assert_no_partial_shards(tmpfs)

    remount(tmpfs, "size=64m")
    again = run_cli(manifest)
    assert again.returncode == 0, again.stderr
    assert tree_digest(tmpfs / "out" / "b") == tree_digest(tmp_path / "clean" / "b")


@pytest.mark.slow
def test_read_only_output_folder(tmpfs: Path, shared_data: Path, tmp_path: Path) -> None:
    remount(tmpfs, "size=64m")
    (tmpfs / "out").mkdir()
    remount(tmpfs, "ro")
    result = run_cli(books_manifest(tmp_path, shared_data, tmpfs / "out"))
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr and "Cannot write" in result.stderr
    assert "Traceback" not in result.stderr
    remount(tmpfs, "rw")
    again = run_cli(books_manifest(tmp_path, shared_data, tmpfs / "out"))
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_output_folder_deleted_mid_run(ray_local, shared_data: Path, tmp_path: Path) -> None:
    jsonl = book_paragraphs_jsonl(shared_data, tmp_path / "paras.jsonl")
    sources = [{"name": "paras", "kind": "jsonl", "paths": [str(jsonl)], "options": {"split_bytes": 8192}}]
    # the reference in this process on the session's Ray (no CLI and Ray start of its own)
    run_manifest(load_manifest(write_manifest(tmp_path / "c", sources, name="v",
                                              ray={"num_cpus": 1, "max_in_flight": 1})))

    manifest = write_manifest(tmp_path / "d", sources, name="v", ray={"num_cpus": 1, "max_in_flight": 1})
    run_dir = tmp_path / "d" / "out" / "v"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if len(done_records(run_dir, "crawl")) >= 5:
            break
        time.sleep(0.05)
    run_dir.rename(tmp_path / "moved-away")  # vanishes at once, as an operator's `mv` or `rm -rf` would
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode != 0
    assert "disappeared during the run" in stderr or "does not exist" in stderr, stderr[-2000:]

    again = run_cli(manifest)
    assert again.returncode == 0, again.stderr
    assert tree_digest(run_dir) == tree_digest(tmp_path / "c" / "out" / "v")


def test_vanished_folder_during_driver_write_gets_the_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The race CI once hit: the folder goes between a completion record's temp write and its rename, so the
    driver itself meets the OS's ENOENT; the message must still say what happened and what to do."""
    import errno

    import pipeline.run
    from pipeline.cli import main

    record = tmp_path / "out" / "_done" / "crawl" / "x.json"

    def vanish(*_args, **_kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(record))

    monkeypatch.setattr(pipeline.run, "run_manifest", vanish)
    monkeypatch.setattr("pipeline.cli.load_manifest", lambda path: object())
    assert main(["run", "any.yaml"]) != 0
    err = capsys.readouterr().err
    assert "No such file or directory" in err
    assert "does not exist" in err and "deleted during the run" in err


def test_folder_vanishing_inside_mkdir_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other moment a write can meet the folder going: inside Path.mkdir, after os.mkdir found it (EEXIST)
    and before mkdir checks that it is a folder. That raised "File exists" (no hint, neither message the
    deleted-mid-run test accepts); now the folder is made again, as when it goes a moment earlier."""
    import errno

    from contracts.fsio import atomic_write

    folder = tmp_path / "out" / "_done"
    folder.mkdir(parents=True)
    real_mkdir = os.mkdir

    def mkdir_then_vanish(path, *args, **kwargs):
        if Path(path) == folder and folder.is_dir():
            folder.rename(tmp_path / "moved-away")  # right after os.mkdir saw it
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir_then_vanish)
    with atomic_write(folder / "x.json", "w") as fh:
        fh.write("{}")
    assert (folder / "x.json").read_text() == "{}"
    monkeypatch.undo()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(FileExistsError):  # a file where the folder should be is still an error
        with atomic_write(tmp_path / "a-file" / "x.json", "w"):
            pass
