"""File I/O: the one damaged-archive rule, durable atomic writes, file names of paths and URLs, joins that stay
in the output folder."""

from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import os
import stat
from pathlib import Path

import pytest
import zstandard

from contracts import fsio
from contracts.fsio import (atomic_write, basename, deferred_folder_syncs, is_damaged_archive, open_input,
                           open_raw, random_access, safe_join, sync_folders)
from tests.pipeline.helpers import http_server

TEXT = ("A line of a corpus that compresses well enough to be cut in the middle of its stream.\n" * 400).encode()
COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress,
               ".zst": lambda data: zstandard.ZstdCompressor().compress(data)}


def _read_error(path: Path) -> BaseException | None:
    try:
        with open_input(str(path)) as fh:
            while fh.read(1 << 16):
                pass
    except Exception as exc:  # noqa: BLE001 - the test classifies whatever the decompressor raised
        return exc
    return None


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize("damage", ["cut", "flipped", "garbage"])
def test_every_decompressor_s_data_error_is_a_damaged_archive(tmp_path: Path, suffix: str, damage: str) -> None:
    data = COMPRESSORS[suffix](TEXT)
    if damage == "cut":
        data = data[: len(data) // 2]
    elif damage == "flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 16]) + data[middle + 16:]
    else:
        data = data[:6] + bytes(range(256)) * 8
    path = tmp_path / f"damaged.txt{suffix}"
    path.write_bytes(data)
    error = _read_error(path)
    assert error is not None and is_damaged_archive(error), f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("error", [
    FileNotFoundError(errno.ENOENT, "No such file or directory", "x.gz"),
    FileNotFoundError("x.gz"),  # fsspec raises some without an errno
    PermissionError(errno.EACCES, "Permission denied", "x.gz"),
    OSError(errno.EIO, "Input/output error"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    TimeoutError("read timed out"),
    OSError("server closed the connection"),
    ValueError("not a decompressor's error"),
])
def test_input_output_errors_are_not_damage(error: BaseException) -> None:
    """Mistaking these for damage would skip a whole good file; raised, the task is retried instead."""
    assert not is_damaged_archive(error)


def test_an_unreadable_file_is_an_io_error_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt.gz"
    path.write_bytes(gzip.compress(TEXT))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("runs as root, whom chmod 0 does not stop reading a file, so no permission error can be "
                        "provoked; the check runs for any other user")
        error = _read_error(path)
        assert isinstance(error, PermissionError) and not is_damaged_archive(error)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_atomic_write_fsyncs_the_file_then_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    with atomic_write(tmp_path / "sub" / "out.json", "w") as fh:
        fh.write("{}")
    assert synced == ["file", "folder"]
    assert (tmp_path / "sub" / "out.json").read_text() == "{}"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["out.json"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    final = tmp_path / "out.txt"
    final.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(final, "w") as fh:
            fh.write("half")
            raise RuntimeError("killed mid-write")
    assert final.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("path, name", [
    ("/data/books/alice.txt.gz", "alice.txt.gz"),
    ("https://host/dump/a.jsonl?version=2", "a.jsonl"),
    ("s3://bucket/folder/", "folder"),
    ("relative.parquet", "relative.parquet"),
    ("/data/web/what?.warc.gz", "what?.warc.gz"),  # a "?" in a local name is part of it
])
def test_basename_of_paths_and_urls(path: str, name: str) -> None:
    assert basename(path) == name


def test_a_question_mark_in_a_local_file_name_keeps_its_compression(tmp_path: Path) -> None:
    path = tmp_path / "page?id=3.txt.gz"
    path.write_bytes(gzip.compress(b"hello"))
    assert fsio.compression_of(str(path)) == "gzip"
    assert fsio.compression_of("https://host/a.warc.gz?x=1.txt") == "gzip"  # a URL's query is not its name
    with open_input(str(path)) as fh:
        assert fh.read() == b"hello"


def test_zstd_input_reads_every_frame_and_refuses_one_cut_inside_a_frame(tmp_path: Path) -> None:
    """Concatenated frames (as zstd -c a b and pzstd write them) read whole; a cut inside the last frame
    is damage, not a shorter file (fsspec's zstd codec returned the shorter file without an error)."""
    import zstandard

    frames = [zstandard.ZstdCompressor(level=3).compress(b"line %d\n" % i * 5000) for i in range(3)]
    whole = tmp_path / "three.txt.zst"
    whole.write_bytes(b"".join(frames))
    with open_input(str(whole)) as fh:
        lines = fh.read().splitlines()
    assert lines == [b"line %d" % i for i in range(3) for _ in range(5000)]
    cut = tmp_path / "cut.txt.zst"
    cut.write_bytes(b"".join(frames)[:-7])
    error = _read_error(cut)
    assert error is not None and is_damaged_archive(error)


def test_deferred_folder_syncs_leave_the_folders_to_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    with deferred_folder_syncs() as folders:
        for name in ("a/1.txt", "a/2.txt", "b/3.txt"):
            with atomic_write(tmp_path / name, "w") as fh:
                fh.write(name)
        assert (tmp_path / "a" / "2.txt").read_text() == "a/2.txt"  # renamed into place already
    assert synced == ["file"] * 3  # each file's own fsync, no folder's yet
    assert folders == {str(tmp_path / "a"), str(tmp_path / "b")}
    sync_folders(folders)
    assert synced[3:] == [str(tmp_path / "a"), str(tmp_path / "b")]  # each folder once
    with atomic_write(tmp_path / "a" / "4.txt", "w") as fh:  # outside the scope: as before
        fh.write("4")
    assert synced[5:] == ["file", str(tmp_path / "a")]


def test_sync_folders_names_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gone"):
        sync_folders([tmp_path / "gone"])


# ------------------------------------------------------------------------------------- safe_join

def _reference_join(root: Path, *parts: str) -> Path | str:
    """What ``safe_join`` did with two full resolutions: the resolved path, or "refused"."""
    root_path = root.resolve()
    target = root_path.joinpath(*parts).resolve()
    return target if target == root_path or root_path in target.parents else "refused"


def _joined(root: Path, *parts: str) -> Path | str:
    try:
        return safe_join(root, *parts)
    except ValueError as exc:
        assert "escapes the output folder" in str(exc)
        return "refused"


@pytest.fixture
def run_tree(tmp_path: Path) -> Path:
    """A run folder reached through a symlinked parent, with folders, a file, symlinks that stay inside it
    and symlinks (folder and file) that lead out of it."""
    (tmp_path / "real" / "run" / "docs" / "web").mkdir(parents=True)
    (tmp_path / "real" / "run" / "docs" / "web" / "a.parquet").write_bytes(b"x")
    (tmp_path / "real" / "run" / "stats").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("s")
    (tmp_path / "via").symlink_to(tmp_path / "real")
    run = tmp_path / "via" / "run"
    (run / "docs" / "inside").symlink_to(run / "stats")
    (run / "docs" / "out").symlink_to(tmp_path / "outside")
    (run / "docs" / "file-out").symlink_to(tmp_path / "outside" / "secret")
    (run / "docs" / "file-in").symlink_to(run / "docs" / "web" / "a.parquet")
    return run


@pytest.mark.parametrize("parts", [
    (), ("docs",), ("docs", "web", "a.parquet"), ("docs/web/a.parquet",), ("docs", "web", "new.parquet"),
    ("docs", "missing", "deeper", "x.parquet"), ("docs//web/./a.parquet",), (".", "stats", "x.json"),
    ("docs", "web", "a.parquet", "under-a-file"), ("docs", "inside", "x.json"), ("docs", "file-in"),
    ("docs", "out"), ("docs", "out", "secret"), ("docs", "out", "new"), ("docs", "file-out"),
    ("docs", "inside", "..", "..", "x"), ("..",), ("docs/../../x",), ("docs", "..", "stats", "x.json"),
    ("/etc/passwd",), ("docs", "/tmp/x"), ("..", "run", "stats"), ("docs", "web", "..", "..", "..", "run", "x"),
])
def test_safe_join_decides_as_full_resolution(run_tree: Path, parts: tuple[str, ...]) -> None:
    """Every case, plain or not, gives what resolving root and target in full gives (the same path, or a
    refusal), with the root cached from an earlier call and without."""
    assert _joined(run_tree, *parts) == _reference_join(run_tree, *parts)
    assert _joined(run_tree, *parts) == _reference_join(run_tree, *parts)  # the root is cached now
    assert _joined(Path(os.path.relpath(run_tree)), *parts) == _reference_join(run_tree, *parts)


def test_safe_join_takes_path_parts(run_tree: Path) -> None:
    assert safe_join(run_tree, Path("docs/web"), "a.parquet") == _reference_join(run_tree, "docs/web/a.parquet")
    assert _joined(run_tree, Path("docs/out/secret")) == "refused"


def test_safe_join_sees_a_symlink_made_after_an_earlier_join(tmp_path: Path) -> None:
    """Nothing under the root is remembered between calls: a folder swapped for a symlink out of the run
    folder (or a file for one) after a first join of the same path is refused on the next."""
    run = tmp_path / "run"
    (run / "docs" / "web").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    assert safe_join(run, "docs", "web", "s.parquet") == (run / "docs" / "web" / "s.parquet").resolve()
    (run / "docs" / "web").rmdir()
    (run / "docs" / "web").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="escapes"):
        safe_join(run, "docs", "web", "s.parquet")
    (run / "stats").mkdir()
    assert safe_join(run, "stats", "x.json") == (run / "stats" / "x.json").resolve()
    (run / "stats" / "x.json").symlink_to(tmp_path / "elsewhere" / "x.json")
    with pytest.raises(ValueError, match="escapes"):
        safe_join(run, "stats", "x.json")


def test_safe_join_checks_each_component_under_the_root_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why it is cheaper than two resolutions: once the root is known, a plain join lstat()s the components
    under the root only (and stops at the first missing one), resolving nothing."""
    run = tmp_path / "run"
    (run / "docs" / "web").mkdir(parents=True)
    safe_join(run, "docs")
    seen: list[str] = []
    real_lstat = os.lstat
    resolved = str(run.resolve())
    with monkeypatch.context() as patch:
        patch.setattr(os, "lstat", lambda path, *a, **k: seen.append(str(path)) or real_lstat(path, *a, **k))
        patch.setattr(fsio, "_resolved_join", lambda *a: pytest.fail("resolved in full"))
        joined = safe_join(run, "docs", "web", "new", "x.parquet")
    assert joined == Path(resolved, "docs/web/new/x.parquet")
    assert seen == [f"{resolved}/docs", f"{resolved}/docs/web", f"{resolved}/docs/web/new"]


def test_safe_join_does_not_cache_a_root_that_is_not_a_folder_yet(tmp_path: Path) -> None:
    """A root joined before it exists is resolved again later: made then as a symlink, it is followed as a
    resolution follows it."""
    run, real = tmp_path / "run", tmp_path / "real"
    assert safe_join(run, "x") == run / "x"
    real.mkdir()
    run.symlink_to(real)
    assert safe_join(run, "x") == real.resolve() / "x"
    assert fsio._roots[str(run)] == str(real.resolve())


def _leave_temporary(final: Path) -> Path:
    """An atomic write killed after its temporary was made: the temporary stays, as a kill leaves it."""
    with pytest.raises(RuntimeError):
        with atomic_write(final, "w") as fh:
            fh.write("half")
            stale = Path(fh.name)
            os.link(stale, final.parent / f"kept-{stale.name}")
            raise RuntimeError("killed")
    os.link(final.parent / f"kept-{stale.name}", stale)
    return stale


def test_the_temporaries_journal_is_opened_once_for_many_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One descriptor for a process's journal, not an open and a close per temporary (issue 19)."""
    journal_opens = []
    real_os_open, real_open = os.open, open

    journals = tmp_path / fsio.TEMP_JOURNAL_DIR

    def os_open(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and Path(path).parent == journals:
            journal_opens.append(path)
        return real_os_open(path, *args, **kwargs)

    def builtin_open(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and Path(path).parent == journals:
            journal_opens.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr("builtins.open", builtin_open)
    fsio.use_temp_journal(tmp_path)
    try:
        for i in range(20):
            with atomic_write(tmp_path / "out" / f"{i}.txt", "w") as fh:
                fh.write(str(i))
    finally:
        fsio.use_temp_journal(None)
    assert len(journal_opens) == 1
    (journal,) = (tmp_path / "_tmp").iterdir()
    lines = journal.read_text().splitlines()
    assert len(lines) == 20 and all(Path(line).parent == tmp_path / "out" for line in lines)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{i}.txt" for i in range(20))


def test_removing_temporaries_closes_this_process_s_journal(tmp_path: Path) -> None:
    """The journal removed by ``remove_temporaries`` while this process still writes temporaries: the next one
    goes to a new journal file (not to the removed file's descriptor), so a later cleanup still finds it."""
    fsio.use_temp_journal(tmp_path)
    try:
        first = _leave_temporary(tmp_path / "out" / "a.txt")
        assert fsio.remove_temporaries(tmp_path) == 1 and not first.exists()
        second = _leave_temporary(tmp_path / "out" / "b.txt")
    finally:
        fsio.use_temp_journal(None)
    assert second.exists()
    assert fsio.remove_temporaries(tmp_path) == 1 and not second.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(["kept-" + first.name,
                                                                          "kept-" + second.name])


def test_a_temporary_written_through_a_symlinked_run_folder_is_removed(tmp_path: Path) -> None:
    """The journal names a temporary as it was written (through a symlink here); cleanup resolves it, from the
    run folder's real path or the link, and still touches nothing outside the run folder."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    fsio.use_temp_journal(link)
    try:
        stale = _leave_temporary(link / "out" / "a.txt")
        foreign = _leave_temporary(outside / "b.txt")  # journalled in this run's journal, but not in the run
    finally:
        fsio.use_temp_journal(None)
    assert str(stale).startswith(str(link))
    (journal,) = (real / "_tmp").iterdir()
    assert str(stale) in journal.read_text().splitlines()
    assert fsio.remove_temporaries(real) == 1
    assert not (real / "out" / stale.name).exists() and foreign.exists()


def test_threads_share_the_journal_without_losing_a_line(tmp_path: Path) -> None:
    import threading

    fsio.use_temp_journal(tmp_path)

    def write(k: int) -> None:
        for i in range(25):
            with atomic_write(tmp_path / "out" / f"{k}-{i}.txt", "w") as fh:
                fh.write("x")

    try:
        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        fsio.use_temp_journal(None)
    (journal,) = (tmp_path / "_tmp").iterdir()
    names = [Path(line).name.split("-", 2)[2] for line in journal.read_text().splitlines()]
    assert sorted(names) == sorted(f"{k}-{i}.txt" for k in range(4) for i in range(25))


@pytest.mark.parametrize("kind", ["ranges", "no_ranges", "no_length"])
def test_remote_files_read_whole_whatever_the_server_answers_to_ranges(tmp_path: Path, kind: str) -> None:
    """fsspec reads http in 5 MB ranges: from a server that ignores Range (``python -m http.server``) or
    sends no Content-Length, a file over one block failed with fsspec's range error. Such a file is now
    copied once from its start and read locally, seeks included; a server with ranges is read in ranges."""
    body = os.urandom(6 << 20)  # over fsspec's 5 MB block, incompressible so the .gz is as large
    (tmp_path / "a.bin").write_bytes(body)
    (tmp_path / "a.bin.gz").write_bytes(gzip.compress(body, compresslevel=1))
    (tmp_path / "b.txt.bz2").write_bytes(bz2.compress(TEXT))
    with http_server(tmp_path, kind) as base:
        with open_raw(f"{base}/a.bin") as fh:
            fh.seek(5 << 20)
            assert fh.read(16) == body[5 << 20:(5 << 20) + 16]
            fh.seek(0)
            assert fh.read() == body
        with open_input(f"{base}/a.bin.gz") as fh:
            assert fh.read() == body
        with open_input(f"{base}/b.txt.bz2") as fh:
            assert fh.read() == TEXT
        assert random_access(f"{base}/a.bin") is (kind == "ranges")
        with pytest.raises(FileNotFoundError):  # a missing file is not taken for a server without ranges
            random_access(f"{base}/missing.bin")


def test_a_folder_as_an_input_path_says_to_use_a_glob(tmp_path: Path) -> None:
    (tmp_path / "warcs").mkdir()
    (tmp_path / "warcs" / "a.warc.gz").write_bytes(b"")
    with pytest.raises(fsio.InputError, match=r"is a folder; .*warcs/\*\.warc\.gz"):
        fsio.expand_paths([str(tmp_path / "warcs") + "/"])
    assert fsio.expand_paths([str(tmp_path / "warcs" / "**")]) == [str(tmp_path / "warcs" / "a.warc.gz")]
