"""File input and output: path expansion and decompression through fsspec, damaged archives, atomic writes.

Every byte the pipeline reads goes through ``open_input`` so local files, globs, http(s) and object stores
behave the same, and ``is_damaged_archive`` is the one rule for telling a damaged compressed file (bad data,
skipped with a reason) from a failing disk or network (raised, so the task is retried). Every file the
project writes (pipeline outputs, token shards, training checkpoints, metrics) goes through
``atomic_write``, so a crash never leaves a half-written file under its final name.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import gzip
import io
import lzma
import os
import posixpath
import shutil
import socket
import stat
import tempfile
import threading
import uuid
import zlib
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import fsspec
import fsspec.compression

try:  # zstandard is a dependency (fsspec's zstd codec); keep this module importable without it
    from zstandard import ZstdError
except ImportError:  # pragma: no cover
    ZstdError = ValueError  # type: ignore[misc,assignment]

# fsspec decompresses these by name; "zst" needs the zstandard package, which we depend on; "xz" is the
# standard library's lzma (Wikipedia samples and some dumps are xz: read raw, they yielded nothing).
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd", ".xz": "xz"}
TMP_PREFIX = ".tmp-"
TEMP_JOURNAL_DIR = "_tmp"
"""Folder of a run holding, per writing process, the exact names of the temporaries it created."""

_temp_journal: Path | None = None


class InputError(ValueError):
    """An input path that cannot be used; the message names it and says what to do."""


def _without_query(path: str) -> str:
    """``path`` without an http(s) URL's query string; a "?" in any other path is part of the name."""
    return path.split("?", 1)[0] if path.startswith(("http://", "https://")) else path


def compression_of(path: str) -> str | None:
    return COMPRESSIONS.get(posixpath.splitext(_without_query(path))[1].lower())


def basename(path: str) -> str:
    """The file name of a local path or URL, without an http(s) query string or trailing slash."""
    return posixpath.basename(_without_query(path).rstrip("/"))


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def expand_paths(patterns: list[str]) -> list[str]:
    """Expand globs (local or object-store) into a sorted, de-duplicated list of existing files.

    http(s) URLs cannot be listed, so they are taken as they are. A pattern that matches nothing is an
    error before any work starts.
    """
    out: list[str] = []
    for pattern in patterns:
        if pattern.startswith(("http://", "https://")):
            out.append(pattern)
            continue
        fs, _, _ = fsspec.get_fs_token_paths(pattern)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if any(ch in pattern for ch in "*?["):
            matches = sorted(fs.glob(pattern))
        else:
            matches = [fs._strip_protocol(pattern)] if fs.exists(pattern) else []
        matches = [m for m in matches if not fs.isdir(m)]
        if not matches and not any(ch in pattern for ch in "*?[") and fs.isdir(pattern):
            folder = pattern.rstrip("/")
            raise InputError(f"input path {pattern!r} is a folder; name its files with a glob, e.g. "
                             f"'{folder}/*.warc.gz' (or '{folder}/**' for every file below it)")
        if not matches:
            raise InputError(f"input path {pattern!r} matches no file; check the path in the manifest "
                             "(relative paths resolve against the manifest's folder)")
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        out.extend(prefix + m for m in matches)
    return list(dict.fromkeys(out))


def file_size(path: str) -> int | None:
    if path in _HTTP_SIZES:  # random_access asked the server already
        return _HTTP_SIZES[path]
    fs, _, (p,) = fsspec.get_fs_token_paths(path)
    try:
        return fs.size(p)
    except Exception:  # http servers without Content-Length
        return None


_RANGES: dict[str, bool] = {}  # http(s) URL -> whether its server answers byte-range requests (per process)
_HTTP_SIZES: dict[str, int | None] = {}  # http(s) URL -> its size, learnt by the same request


def random_access(path: str) -> bool:
    """Whether ``path`` can be read from any offset. Local files and object stores can; an http(s) server
    can only when it answers byte-range requests, which many static servers (``python -m http.server``,
    some mirrors, servers without a Content-Length) do not. fsspec reads http in 5 MB ranges, so on such a
    server every file over one block, or any split but the first, failed with fsspec's range error. Asked
    once per URL and process: one request for two bytes at offset 1 (a 1-byte or empty file answers too)."""
    if not path.startswith(("http://", "https://")):
        return True
    known = _RANGES.get(path)
    if known is None:
        try:
            with fsspec.open(path, "rb", block_size=2).open() as fh:
                _HTTP_SIZES[path] = getattr(fh, "size", None)  # the plan's file_size needs no second request
                fh.seek(1)
                fh.read(1)
            known = True
        except ValueError as exc:  # fsspec: "...doesn't appear to support range requests", or no
            # Content-Length ("Cannot seek streaming HTTP file"); anything else (404, network) propagates
            if "range" not in str(exc) and "seek" not in str(exc):
                raise
            known = False
        _RANGES[path] = known
    return known


def _downloaded(path: str) -> IO[bytes]:
    """The whole of ``path`` copied, from its start, into an anonymous temporary file (removed by the
    system when closed, also after a crash; ``TMPDIR`` says where), rewound: how a file whose server cannot
    serve ranges is read, since the readers seek (format sniffing, split starts, zip directories)."""
    local = tempfile.TemporaryFile(prefix="refinery-download-")
    try:
        with fsspec.open(path, "rb", block_size=0).open() as remote:  # a stream: no range requests
            shutil.copyfileobj(remote, local, 1 << 20)
        local.seek(0)
    except BaseException:
        local.close()
        raise
    return local  # type: ignore[return-value]


def open_raw(path: str) -> IO[bytes]:
    """Open ``path`` for binary reading without decompression (for readers that cut byte ranges)."""
    if not random_access(path):
        return _downloaded(path)
    return fsspec.open(path, "rb").open()


def open_input(path: str) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing by extension (gz, bz2, zst, xz)."""
    compression = compression_of(path)
    if compression == "zstd":
        return io.BufferedReader(_ZstdFrames(open_raw(path)), buffer_size=1 << 16)
    if compression and not random_access(path):
        local = open_raw(path)
        return io.BufferedReader(_Closing(fsspec.compression.compr[compression](local, mode="rb"), local),
                                 buffer_size=1 << 16)
    return fsspec.open(path, "rb", compression=compression).open()


class _Closing(io.RawIOBase):
    """A decompressing stream over a file it does not own (``gzip.GzipFile(fileobj=...)`` leaves it open),
    closing that file with itself."""

    def __init__(self, stream: IO[bytes], owned: IO[bytes]) -> None:
        self._stream, self._owned = stream, owned

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._stream.close()
            finally:
                self._owned.close()
        super().close()


def zstd_dictionary(read_exactly: Callable[[int], bytes]) -> tuple[Any, bytes]:
    """(the dictionary of the skippable frame a WARC zstd file may open with, or None; the bytes read when there
    is none, to be decoded as frames). ``read_exactly(n)`` reads n bytes from the file's start (fewer at its end).

    IIPC's "Zstandard Compression for WARC Files" (what ArchiveTeam's wget-at writes): a skippable frame of magic
    0x184D2A5D holds the dictionary every record's frame was compressed with, itself zstd-compressed or not;
    without it no frame decodes. Raises ``ZstdError`` on a cut, oversized or undecodable dictionary frame."""
    import zstandard  # a dependency; imported here so this module imports without it

    magic, frame_magic, limit = _ZstdFrames.DICT_MAGIC, _ZstdFrames.FRAME_MAGIC, _ZstdFrames.MAX_DICT
    head = read_exactly(8)
    if len(head) < 8 or head[:4] != magic:
        return None, head
    size = int.from_bytes(head[4:], "little")
    if size > limit:
        raise zstandard.ZstdError(f"zstd dictionary frame of {size:,} bytes (over {limit:,})")
    payload = read_exactly(size)
    if len(payload) < size:
        raise zstandard.ZstdError("zstd input ends inside its dictionary frame (the file is cut)")
    if payload[:4] == frame_magic:  # a compressed dictionary
        inflate, parts, total = zstandard.ZstdDecompressor().decompressobj(), [], 0
        for at in range(0, len(payload), 1024):  # in slices, so a bomb stops at MAX_DICT
            parts.append(inflate.decompress(payload[at:at + 1024]))
            total += len(parts[-1])
            if total > limit:
                raise zstandard.ZstdError(f"zstd dictionary inflates over {limit:,} bytes")
            if inflate.eof:
                break
        if not inflate.eof:
            raise zstandard.ZstdError("zstd dictionary frame holds a cut compressed dictionary")
        payload = b"".join(parts)
    return zstandard.ZstdCompressionDict(payload), head


class _ZstdFrames(io.RawIOBase):
    """zstd decompression, frame after frame, that raises ``ZstdError`` on a stream cut inside a frame.

    fsspec's zstd codec (python-zstandard's stream reader) ends a stream cut between blocks without an
    error, so a truncated ``.zst`` input read as a shorter, valid-looking file: its missing records were
    lost without a count. Here each frame is one ``decompressobj``; input that ends before the frame's
    end is damage (``is_damaged_archive``), skipped and counted by the reader like any other."""

    # zstd's densest block (RLE) turns 4 input bytes into 128 KiB, so a bomb can expand 32,768-fold: input
    # is fed in slices sized from the last slice's ratio, so one call yields about TARGET bytes, never GiBs.
    TARGET, MIN_FEED, MAX_FEED = 1 << 20, 32, 1 << 16

    # The WARC zstd format (IIPC's "Zstandard Compression for WARC Files", written by ArchiveTeam's wget-at)
    # may open with a skippable frame of this magic holding the dictionary every record's frame was
    # compressed with (itself zstd-compressed or not); without it every frame fails to decode.
    DICT_MAGIC, FRAME_MAGIC, MAX_DICT = b"\x5d\x2a\x4d\x18", b"\x28\xb5\x2f\xfd", 64 << 20

    def __init__(self, raw: IO[bytes], chunk: int = 1 << 16) -> None:
        import zstandard  # a dependency; imported here so this module imports without it

        self._zstd = zstandard
        self._raw, self._chunk, self._new = raw, chunk, zstandard.ZstdDecompressor().decompressobj
        self._started = False  # the file's start looked at for a dictionary frame
        self._frame = self._new()
        self._fed = False  # the current frame has been given input
        self._input = b""  # compressed bytes read but not yet fed
        self._feed = 1024  # the next slice's size; grows while the data expands little
        self._pending, self._offset = b"", 0  # decompressed bytes not yet returned

    def readable(self) -> bool:
        return True

    def _read_exactly(self, size: int) -> bytes:
        parts, left = [], size
        while left:
            part = self._raw.read(left)
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _dictionary(self) -> None:
        """Load the file's dictionary frame, if it opens with one, into the decompressor of every frame."""
        dictionary, head = zstd_dictionary(self._read_exactly)
        if dictionary is None:
            self._input = head
            return
        self._new = self._zstd.ZstdDecompressor(dict_data=dictionary).decompressobj
        self._frame = self._new()

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        if not self._started:
            self._started = True
            self._dictionary()
        while self._offset >= len(self._pending):
            if len(self._input) < self._feed:  # a whole slice where the file has one (the 8 bytes read
                more = self._raw.read(self._chunk)  # for the dictionary check are no slice of their own)
                self._input += more
                if not self._input:
                    if self._fed and not self._frame.eof:
                        raise ZstdError("zstd input ends inside a frame (the file is cut)")
                    return 0
            piece, self._input = self._input[:self._feed], self._input[self._feed:]
            self._fed = True
            self._pending, self._offset = self._frame.decompress(piece), 0
            if self._pending:
                ratio = len(self._pending) / len(piece)
                self._feed = max(self.MIN_FEED, min(self.MAX_FEED, int(self.TARGET / max(ratio, 1.0))))
            else:  # nothing out yet (a frame header, a block not whole): the ratio is unknown, so the slice
                # grows by halves, not to MAX_FEED at once: a bomb's next slice would expand 32,768-fold
                self._feed = min(self.MAX_FEED, self._feed * 2)
            if self._frame.eof:  # a frame ended: what follows it starts the next one
                self._input = self._frame.unused_data + self._input
                self._frame, self._fed = self._new(), False
        size = min(len(buffer), len(self._pending) - self._offset)
        buffer[:size] = memoryview(self._pending)[self._offset:self._offset + size]
        self._offset += size
        return size

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


try:  # fsspec reads .gz through python-isal's igzip when it is installed (it is a dependency): its data error
    from isal.isal_zlib import error as _isal_error
    _ISAL_ERRORS: tuple[type[BaseException], ...] = (_isal_error,)
except ImportError:  # pragma: no cover - isal missing: fsspec falls back to gzip, whose errors are listed
    _ISAL_ERRORS = ()


def is_damaged_archive(exc: BaseException) -> bool:
    """Whether ``exc``, raised while reading through ``open_input``, means a damaged compressed file.

    Only what the decompressors raise on bad data counts: a cut stream (``EOFError``), gzip's, zlib's, ISA-L's,
    xz's and zstd's data errors, and bz2's ``OSError("Invalid data stream")`` (which carries no errno).
    Everything else (a missing file, a failing disk, a dropped connection) is an I/O error that must not
    be mistaken for bad data: it is raised, so the task fails or is retried instead of losing the file.
    """
    if isinstance(exc, (EOFError, zlib.error, lzma.LZMAError, ZstdError, gzip.BadGzipFile, *_ISAL_ERRORS)):
        return True
    return (isinstance(exc, OSError) and exc.errno is None
            and "invalid data stream" in str(exc).lower())  # bz2's message


def safe_join(root: str | Path, *parts: str) -> Path:
    """Join ``parts`` under ``root`` and refuse any result outside it (no ``..`` or absolute escapes, no
    symlink out of it); the result is resolved, as ``Path.resolve`` resolves it.

    Why not two ``Path.resolve`` a call: each walks the whole absolute path with an ``lstat`` per component
    in Python (~57 us a call, ~0.18 CPU s of a one-core crawl + filter run of e2e_bench's 15 copies, issue
    19). Here the root is resolved once per process (``_resolved_root``) and only the components under it
    are checked, one ``lstat`` each, on every call, so a symlink made in the run folder at any time is still
    seen. Anything out of the plain case (an absolute part, ``..``, a symlink under the root, a root that is
    not an existing folder) takes the full resolution, which decides exactly as before.
    """
    base = _resolved_root(root)
    if base is not None:
        texts = [os.fspath(part) for part in parts]  # str or PathLike, as Path.joinpath takes them
        names = [n for text in texts for n in text.split("/") if n and n != "."]
        if ".." not in names and not any(text.startswith("/") for text in texts):
            path, checking = base, True
            for name in names:
                path = f"{path}/{name}" if path != "/" else f"/{name}"
                if checking:
                    try:
                        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
                    except OSError:  # missing (an output about to be written): nothing below it exists
                        checking = False
                        continue
                    if is_link:
                        break
            else:
                return Path(path)
    return _resolved_join(root, parts)


def _resolved_join(root: str | Path, parts: tuple[str, ...]) -> Path:
    """``safe_join`` by full resolution of the root and of the joined path."""
    root_path = Path(root).resolve()
    target = root_path.joinpath(*parts).resolve()
    if target != root_path and root_path not in target.parents:
        raise ValueError(f"path {'/'.join(map(str, parts))!r} escapes the output folder {root_path}")
    return target


_roots: dict[str, str] = {}  # an absolute root as given -> its resolved path, for roots that are folders


def _resolved_root(root: str | Path) -> str | None:
    """The resolved path of an absolute ``root`` that is an existing folder (cached: a run resolves its run
    folder once), or None (a relative root depends on the working folder; a missing one may become a
    symlink before it is made)."""
    key = os.fspath(root)
    found = _roots.get(key)
    if found is None and os.path.isabs(key):
        resolved = os.path.realpath(key)
        if os.path.isdir(resolved):
            found = _roots[key] = resolved
    return found


@contextlib.contextmanager
def atomic_write(final: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary name beside ``final`` and rename it into place only when complete.

    The rename is atomic on POSIX filesystems, so readers see either the old file or the whole new one;
    on error the temporary file is removed. The file is fsynced before the rename and its folder after it,
    so once this returns the new file survives a power cut too (a checkpoint a resume relies on, a
    completion record a rerun trusts). Inside ``deferred_folder_syncs`` the folder's fsync is left to
    whoever opened that scope (the file's own fsync is not).
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        # mkdir found the folder, then no folder there when it checked: it was moved or deleted in between
        # (a file in its place raises again). Make it again, as mkdir does when it is gone before it looks,
        # so the outcome does not depend on the microsecond the folder went.
        final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{final.name}")
    _journal_temporary(tmp)
    try:
        with open(tmp, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        deferred = _deferred_folders.get()
        if deferred is None:
            _fsync_folder(final.parent)
        else:
            deferred.add(str(final.parent))
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno is not None and not exc.filename:
            # A failed write or fsync (a full disk) names no file; the error must say which one.
            raise OSError(exc.errno, exc.strerror or str(exc), str(final)) from exc
        raise


_deferred_folders: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("deferred_folders", default=None)


@contextlib.contextmanager
def deferred_folder_syncs() -> Iterator[set[str]]:
    """Within this scope ``atomic_write`` fsyncs each file and renames it into place, but leaves its
    folder's fsync (which makes the rename itself durable) to the caller: the folders are collected in the
    set this yields, for ``sync_folders`` to fsync each once, however many files were written there.

    Why: a folder's fsync per file is a second journal commit per file (two fsyncs of ~1.5 ms each on a
    quiet disk, ~13 ms at a load of 12); a task stage writes a few files per shard into the same few
    folders, so one fsync per folder per batch of tasks does the same job.

    Crash safety, which the caller must keep: until its folder is fsynced, a file that was renamed into
    place can, after a power cut (not a killed process: the rename is in the kernel already), be missing
    or still under its temporary name; its contents are on disk either way. So nothing that vouches for
    the file (a completion record) may be written before ``sync_folders`` returned for its folder. Then
    a power cut before that point leaves no record, the task is redone and rewrites the same bytes (the
    temporary is removed through the journal), and a record that exists always names files whose
    rename is durable, as with a folder fsync per file. ``pipeline.runner`` keeps that order.
    """
    outer = _deferred_folders.get()
    folders: set[str] = set() if outer is None else outer  # nested: the outermost scope syncs them all
    token = _deferred_folders.set(folders)
    try:
        yield folders
    finally:
        _deferred_folders.reset(token)


def sync_folders(folders: Iterable[str | Path]) -> None:
    """fsync each folder once (what ``deferred_folder_syncs`` left to do); an error names the folder."""
    for folder in sorted(set(map(str, folders))):
        try:
            _fsync_folder(Path(folder))
        except OSError as exc:
            if exc.filename:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), folder) from exc


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a filesystem that cannot fsync a folder (EINVAL) is left be."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


def use_temp_journal(run_dir: str | Path | None) -> None:
    """Record every temporary this process creates in ``<run_dir>/_tmp/<host>-<pid>.txt`` (None stops).

    Why a journal: a later run must remove what a killed run left behind, and only that. A name pattern
    (``.tmp-*``) would also match a user's own files in the folder; the journal lists exact paths.
    """
    global _temp_journal
    _close_journal()
    if run_dir is None:
        _temp_journal = None
        return
    _temp_journal = Path(run_dir) / TEMP_JOURNAL_DIR / f"{socket.gethostname()}-{os.getpid()}.txt"


# The open journal: (its path, the process that opened it, an O_APPEND descriptor). Why kept open: opening,
# appending and closing it (and resolving the name) for every temporary cost 0.125 ms of a ~0.64 ms atomic
# write, now 0.041 (issue 19: 609 atomic writes in e2e_bench's 15-copy run, four Parquet files a shard); one
# ``write`` per line is what a kill leaves whole, as with ``pipeline.completion_ledger``.
_journal_fd: tuple[Path, int, int] | None = None
_journal_lock = threading.Lock()  # threads of one process share the descriptor


def _close_journal() -> None:
    global _journal_fd
    with _journal_lock:
        if _journal_fd is None:
            return
        fd, _journal_fd = _journal_fd[2], None
        with contextlib.suppress(OSError):
            os.close(fd)


def _journal_temporary(tmp: Path) -> None:
    """Append ``tmp`` to this process's journal before the file exists, so a kill cannot hide it.

    The path is written absolute but as given (symlinks in it are resolved by ``remove_temporaries``, which
    alone needs them resolved: an ``lstat`` per component on every write cost ~0.04 ms and only a leftover
    temporary, rare, is ever resolved)."""
    global _journal_fd
    if _temp_journal is None:
        return
    name = os.fspath(tmp)
    line = f"{name if os.path.isabs(name) else os.path.join(os.getcwd(), name)}\n".encode("utf-8", "surrogateescape")
    journal = _temp_journal
    try:
        with _journal_lock:
            if _journal_fd is None or _journal_fd[0] != journal or _journal_fd[1] != os.getpid():
                if _journal_fd is not None and _journal_fd[1] == os.getpid():
                    with contextlib.suppress(OSError):  # another run's journal (a forked child's stays open)
                        os.close(_journal_fd[2])
                _journal_fd = None
                journal.parent.mkdir(parents=True, exist_ok=True)
                _journal_fd = (journal, os.getpid(),
                               os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666))
            view = memoryview(line)
            while view:  # a short write (a full disk) continues or raises
                view = view[os.write(_journal_fd[2], view):]
    except OSError as exc:
        if exc.filename or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(journal)) from exc


def remove_temporaries(run_dir: str | Path) -> int:
    """Delete the temporaries listed in the run's journals (left by killed writers); returns how many.

    Only exact paths a journal names are touched, and only inside ``run_dir`` (the path resolved): a user's
    own ``.tmp-x`` file in the folder is never a candidate. Call it while no writer of this run is active.
    A listed path that no longer exists (its write finished and renamed it: nearly every line) costs one
    ``lstat``; only the others are resolved and checked.
    """
    root = str(Path(run_dir).resolve())
    journals = Path(root) / TEMP_JOURNAL_DIR
    removed = 0
    if not journals.is_dir():
        return 0
    inside = root.rstrip("/") + "/"
    for journal in sorted(journals.glob("*.txt")):
        if _journal_fd is not None and _journal_fd[0].resolve() == journal:
            _close_journal()  # this process's own journal goes: a later temporary starts a new one
        for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
            if not os.path.isabs(line) or not os.path.lexists(line):
                continue
            folder, name = os.path.split(line)
            tmp = os.path.join(os.path.realpath(folder), name)
            if not tmp.startswith(inside) or not name.startswith(TMP_PREFIX):
                continue
            try:
                if stat.S_ISREG(os.lstat(tmp).st_mode):  # a file, not a symlink
                    os.unlink(tmp)
                    removed += 1
            except FileNotFoundError:
                pass
        journal.unlink(missing_ok=True)
    return removed


def io_error_hint(cause: BaseException) -> str:
    """What to do next for the output errors a long run meets: full disk, no permission, vanished folder."""
    errno_value = getattr(cause, "errno", None)
    filename = getattr(cause, "filename", None) or "the output folder"
    if errno_value == errno.ENOSPC:
        return f"The disk holding {filename} is full: free space (or set run.output_dir elsewhere) and rerun."
    if errno_value in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"Cannot write {filename}: check the folder's permissions and that its filesystem is "
                "writable, then rerun.")
    if errno_value == errno.ENOENT:
        return f"{filename} does not exist (an input moved, or the output folder was deleted during the run)."
    return ""
