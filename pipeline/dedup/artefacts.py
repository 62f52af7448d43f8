"""Checksummed intermediate files: named numpy arrays plus a little JSON, verified on every read.

Dedup's steps hand each other signatures, bucket entries, candidate pairs and edges through files that may
sit on disk for hours between a kill and a rerun. A silently truncated or bit-flipped file would give wrong
clusters with no error, so every file ends with a BLAKE2b digest of everything before it and ``read_arrays``
refuses a file whose digest does not match, naming it and saying how to recover.

Layout: ``MAGIC``, header length (uint64 LE), header JSON (array names, dtypes, shapes, extra), the arrays'
raw bytes in header order, then the 32-byte digest.

A partitioned file (``write_parts``/``read_part``) holds one such blob per partition behind an index:
``PARTS_MAGIC``, the number of parts n (uint64 LE), n + 1 offsets (uint64 LE), the index's digest, then the
blobs. Why: a step whose P tasks each send a slice to each of P partitions wrote P x P files (~shards^2 / 16:
2,246 work files at 10x the demo); one file per producer keeps it at P, and a reader reads only its slice
(and verifies only that slice and the index).
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from contracts.fsio import atomic_write

MAGIC = b"RFDEDUP1"
PARTS_MAGIC = b"RFDEDUPP"
DIGEST_BYTES = 32


class CorruptArtefactError(RuntimeError):
    """An intermediate file whose checksum or structure is wrong; the message names the file."""


def _chunks(arrays: dict[str, np.ndarray], extra: dict[str, Any] | None) -> list[Any]:
    """One blob's pieces (no copy of the array data), its digest last."""
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    header = json.dumps({
        "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        "extra": extra or {},
    }, sort_keys=True).encode()
    chunks: list[Any] = [MAGIC, struct.pack("<Q", len(header)), header,
                                        *(a.reshape(-1).view(np.uint8) for a in arrays.values() if a.size)]
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for chunk in chunks:
        digest.update(chunk)
    return chunks + [digest.digest()]


def write_arrays(path: str | Path, arrays: dict[str, np.ndarray], extra: dict[str, Any] | None = None) -> int:
    """Write ``arrays`` atomically with a trailing checksum; returns the file size in bytes."""
    chunks = _chunks(arrays, extra)
    with atomic_write(path) as fh:
        for chunk in chunks:
            fh.write(chunk)
    return sum(len(c) for c in chunks)


def write_parts(path: str | Path, parts: list[dict[str, np.ndarray]]) -> int:
    """Write one blob per partition into one file behind an offset index; returns the file size."""
    blobs = [_chunks(arrays, None) for arrays in parts]
    start = len(PARTS_MAGIC) + 8 + 8 * (len(parts) + 1) + DIGEST_BYTES
    offsets = np.cumsum([start] + [sum(len(c) for c in blob) for blob in blobs]).astype("<u8")
    index = PARTS_MAGIC + struct.pack("<Q", len(parts)) + offsets.tobytes()
    with atomic_write(path) as fh:
        fh.write(index)
        fh.write(hashlib.blake2b(index, digest_size=DIGEST_BYTES).digest())
        for blob in blobs:
            for chunk in blob:
                fh.write(chunk)
    return int(offsets[-1])


def _hint(path: Path) -> str:
    return (f"delete it (and the run folder's _done/dedup.* records of the step that wrote it, or the whole "
            f"{path.parent} folder) and rerun: the step that wrote it will redo it")


def read_part(path: str | Path, part: int) -> dict[str, np.ndarray]:
    """Read and verify partition ``part`` of a file written by ``write_parts`` (its index and that slice only)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(PARTS_MAGIC) + 8)
            count = struct.unpack_from("<Q", head, len(PARTS_MAGIC))[0] if len(head) == len(PARTS_MAGIC) + 8 else -1
            if not head.startswith(PARTS_MAGIC) or not 0 <= part < count:
                raise CorruptArtefactError(f"intermediate dedup file {path} is not a partitioned dedup artefact "
                                           f"with a part {part}, or is truncated; {_hint(path)}")
            table = fh.read(8 * (count + 1))
            if hashlib.blake2b(head + table, digest_size=DIGEST_BYTES).digest() != fh.read(DIGEST_BYTES):
                raise CorruptArtefactError(f"intermediate dedup file {path} is corrupt (index checksum mismatch); "
                                           f"{_hint(path)}")
            offsets = np.frombuffer(table, dtype="<u8")
            fh.seek(int(offsets[part]))
            data = fh.read(int(offsets[part + 1] - offsets[part]))
    except FileNotFoundError:
        raise CorruptArtefactError(f"intermediate dedup file {path} is missing; {_hint(path)}") from None
    return _decode(data, path, f" (part {part})")[0]


def read_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify a file written by ``write_arrays``; raises ``CorruptArtefactError`` naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptArtefactError(f"intermediate dedup file {path} is missing; {_hint(path)}") from None
    return _decode(data, path)


def _decode(data: bytes, path: Path, what: str = "") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    hint = _hint(path)
    body, stored = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if len(data) < len(MAGIC) + 8 + DIGEST_BYTES or not body.startswith(MAGIC):
        raise CorruptArtefactError(f"intermediate dedup file {path}{what} is not a dedup artefact or is "
                                   f"truncated; {hint}")
    if hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest() != stored:
        raise CorruptArtefactError(f"intermediate dedup file {path}{what} is corrupt (checksum mismatch); {hint}")
    (header_len,) = struct.unpack_from("<Q", body, len(MAGIC))
    start = len(MAGIC) + 8
    header = json.loads(body[start:start + header_len])
    offset = start + header_len
    arrays: dict[str, np.ndarray] = {}
    view = memoryview(body)
    for name, dtype, shape in header["arrays"]:
        dt = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        arrays[name] = np.frombuffer(view, dtype=dt, count=count, offset=offset).reshape(shape)
        offset += count * dt.itemsize
    return arrays, header["extra"]
