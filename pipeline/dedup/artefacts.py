"""Checksummed intermediate files: named numpy arrays plus a little JSON, verified on every read.

Dedup's steps hand each other signatures, bucket entries, candidate pairs and edges through files that may
sit on disk for hours between a kill and a rerun. A silently truncated or bit-flipped file would give wrong
clusters with no error, so every file ends with a BLAKE2b digest of everything before it and ``read_arrays``
refuses a file whose digest does not match, naming it and saying how to recover.

Layout: ``MAGIC``, header length (uint64 LE), header JSON (array names, dtypes, shapes, extra), the arrays'
raw bytes in header order, then the 32-byte digest.
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
DIGEST_BYTES = 32


class CorruptArtefactError(RuntimeError):
    """An intermediate file whose checksum or structure is wrong; the message names the file."""


def write_arrays(path: str | Path, arrays: dict[str, np.ndarray], extra: dict[str, Any] | None = None) -> int:
    """Write ``arrays`` atomically with a trailing checksum; returns the file size in bytes."""
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    header = json.dumps({
        "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        "extra": extra or {},
    }, sort_keys=True).encode()
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    size = 0
    with atomic_write(path) as fh:
        for chunk in (MAGIC, struct.pack("<Q", len(header)), header, *(a.tobytes() for a in arrays.values())):
            fh.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        fh.write(digest.digest())
    return size + DIGEST_BYTES


def read_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify a file written by ``write_arrays``; raises ``CorruptArtefactError`` naming it."""
    path = Path(path)
    hint = (f"delete it (and the run folder's _done/dedup.* records of the step that wrote it, or the whole "
            f"{path.parent} folder) and rerun: the step that wrote it will redo it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptArtefactError(f"intermediate dedup file {path} is missing; {hint}") from None
    body, stored = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if len(data) < len(MAGIC) + 8 + DIGEST_BYTES or not body.startswith(MAGIC):
        raise CorruptArtefactError(f"intermediate dedup file {path} is not a dedup artefact or is truncated; "
                                   f"{hint}")
    if hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest() != stored:
        raise CorruptArtefactError(f"intermediate dedup file {path} is corrupt (checksum mismatch); {hint}")
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
