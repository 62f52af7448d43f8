"""Every OS error names the stage, the shard and the file: a full disk (a real tmpfs) in a task's write,
in the driver's completion record, and in dedup.removal of a whole run."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from contracts.accounting import Tally
from contracts.fsio import atomic_write
from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from pipeline.runner import StageError, Task, TaskResult, run_stage
from tests.pipeline.helpers import write_manifest
from tests.pipeline.test_output_errors import remount, tmpfs  # noqa: F401 - the real tmpfs fixture


def fill(mount: Path) -> None:
    """Fill the filesystem to the last byte (unbuffered: nothing is left to flush on close)."""
    with open(mount / "filler", "wb", buffering=0) as fh:
        for size in (1 << 16, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC


def write_megabyte(payload: dict) -> TaskResult:
    relative = f"out/{payload['n']:03d}.bin"
    with atomic_write(Path(payload["root"]) / relative) as fh:
        fh.write(b"x" * (1 << 20))
    return TaskResult([relative], Tally())


def write_nothing(payload: dict) -> TaskResult:
    return TaskResult([], Tally())


def test_a_task_on_a_full_disk_names_stage_shard_and_file(ray_local, tmpfs: Path) -> None:  # noqa: F811
    with pytest.raises(StageError) as caught:
        run_stage(tmpfs, "fill", [Task("t000", {"root": str(tmpfs), "n": 0})], write_megabyte)
    message = str(caught.value)
    assert message.startswith("stage fill, shard t000 failed: OSError: [Errno 28] No space left on device: ")
    assert f"'{tmpfs / 'out' / '000.bin'}'" in message and "is full" in message
    assert not list((tmpfs / "out").iterdir()), "no partial file"


def test_the_drivers_completion_record_on_a_full_disk_names_stage_shard_and_file(ray_local,
                                                                                  tmpfs: Path) -> None:  # noqa: F811
    (tmpfs / "_done" / "fill").mkdir(parents=True)
    (tmpfs / "_tmp").mkdir()
    fill(tmpfs)
    with pytest.raises(StageError, match=r"stage fill, shard t000 failed writing its completion record: "
                                         r"OSError: \[Errno 28\] No space left on device: "
                                         rf"'{tmpfs}/_done/fill/ledger\.jsonl'"):
        run_stage(tmpfs, "fill", [Task("t000", {})], write_nothing)


@pytest.mark.slow
def test_disk_full_during_dedup_removal_names_stage_shard_and_file(ray_local, shared_data: Path,
                                                                   tmpfs: Path) -> None:  # noqa: F811
    remount(tmpfs, "size=32m")
    books = [str(shared_data / "books" / n) for n in ("gutenberg-972-the-devils-dictionary.txt",
                                                      "the-verdict.txt", "tinyshakespeare.txt")]
    path = write_manifest(tmpfs, [{"name": "books", "kind": "books", "paths": books}],
                          stages={"order": ["crawl", "dedup"]})
    manifest = load_manifest(path)
    run_manifest(manifest)
    run_dir = manifest.run_dir
    shutil.rmtree(run_dir / "_done" / "dedup.removal")  # redo only the removal step, on a full disk
    for folder in ("dedup", "removed"):
        shutil.rmtree(run_dir / folder, ignore_errors=True)
    (tmpfs / "slack").write_bytes(b"\0" * (128 << 10))
    fill(tmpfs)
    (tmpfs / "slack").unlink()  # room for the lock and the statistics, not for the removal's shards
    with pytest.raises(StageError) as caught:
        run_manifest(manifest)
    message = str(caught.value)
    assert message.startswith("stage dedup.removal, shard "), message
    assert "No space left on device: '" + str(run_dir) in message, message
