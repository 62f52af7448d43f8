"""A run folder is made by the pipeline or refused; one run holds it at a time (real local Ray)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from contracts.run_lock import LOCK_NAME, FolderLockedError, RunLock
from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from pipeline.run_folder import RunFolderError, check_run_folder
from tests.pipeline.helpers import write_manifest


def verdict_manifest(tmp_path: Path, shared_data: Path):
    return load_manifest(write_manifest(tmp_path, [
        {"name": "books", "kind": "books", "paths": [str(shared_data / "books/the-verdict.txt")]}]))


def test_a_foreign_folder_is_refused_and_left_alone_then_force_keeps_files_it_does_not_write(
        ray_local, shared_data: Path, tmp_path: Path) -> None:
    manifest = verdict_manifest(tmp_path, shared_data)
    run_dir = manifest.run_dir
    (run_dir / "stats").mkdir(parents=True)
    user_files = {"manifest.yaml": "my own notes\n", "stats/crawl.json": "{\"mine\": 1}",
                  ".tmp-precious": "do not delete"}
    for name, text in user_files.items():
        (run_dir / name).write_text(text)
    with pytest.raises(RunFolderError, match=r"is not empty .*no run.json.*--force"):
        run_manifest(manifest)
    assert {n: (run_dir / n).read_text() for n in user_files} == user_files
    assert sorted(p.name for p in run_dir.iterdir()) == [".tmp-precious", "manifest.yaml", "stats"]

    result = run_manifest(manifest, force=True)["crawl"]
    assert result.tally.counts["docs_out"] == 1
    assert (run_dir / ".tmp-precious").read_text() == "do not delete"  # cleanup never matches by pattern
    assert json.loads((run_dir / "run.json").read_text())["name"] == "t"
    assert not (run_dir / LOCK_NAME).exists(), "the lock is released when the run ends"
    run_manifest(manifest)  # now a run: no --force needed


def test_empty_missing_or_killed_before_its_record_folders_need_no_force(tmp_path: Path) -> None:
    check_run_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    check_run_folder(tmp_path / "empty")
    started = tmp_path / "started"
    (started / "_tmp").mkdir(parents=True)
    (started / LOCK_NAME).write_text("{}")
    check_run_folder(started)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        check_run_folder(tmp_path / "file", force=True)


def test_a_run_folder_rewritten_after_it_vanished_mid_run_needs_no_force(tmp_path: Path) -> None:
    """Moved away mid-run, the folder is made again by tasks still running: completion records, shards, no
    run.json. It is the run's own; an empty ``_done`` (or one without records) is not enough."""
    folder = tmp_path / "v"
    (folder / "docs" / "paras").mkdir(parents=True)
    (folder / "_done" / "crawl").mkdir(parents=True)
    with pytest.raises(RunFolderError, match="not a refinery"):
        check_run_folder(folder)
    (folder / "_done" / "crawl" / "ledger.jsonl").write_text("")
    with pytest.raises(RunFolderError, match="not a refinery"):
        check_run_folder(folder)
    (folder / "_done" / "crawl" / "ledger.jsonl").write_text('{"id": "0123abcd", "outputs": []}\n')
    check_run_folder(folder)


def test_a_held_folder_is_refused_naming_the_holder(ray_local, shared_data: Path, tmp_path: Path) -> None:
    manifest = verdict_manifest(tmp_path, shared_data)
    with RunLock(manifest.run_dir, "pipeline run"):
        with pytest.raises(FolderLockedError, match=rf"in use by another pipeline run \(PID \d+ on host "
                                                    rf"{socket.gethostname()}"):
            run_manifest(manifest)
    assert not (manifest.run_dir / "run.json").exists(), "refused before any work"


def test_a_stale_lock_is_taken_over_with_a_note(ray_local, shared_data: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    manifest = verdict_manifest(tmp_path, shared_data)
    manifest.run_dir.mkdir(parents=True)
    # What a run killed with -9 leaves: the file with its holder, but no process holding the flock.
    (manifest.run_dir / LOCK_NAME).write_text(json.dumps({"pid": 999_999_999, "host": "gone", "started": 0}))
    run_manifest(manifest)
    err = capsys.readouterr().err
    assert "taking over the stale lock" in err and "PID 999999999 on host gone" in err
    assert not (manifest.run_dir / LOCK_NAME).exists()


def test_two_locks_on_one_folder_exclude_each_other_and_the_second_names_the_first(tmp_path: Path) -> None:
    first = RunLock(tmp_path, "training run").acquire()
    holder = json.loads((tmp_path / LOCK_NAME).read_text())
    with pytest.raises(FolderLockedError, match=f"PID {holder['pid']} on host {holder['host']}"):
        RunLock(tmp_path, "training run").acquire()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    RunLock(tmp_path).acquire().release()
