"""The filter stage's texts decoded by ``_lines.decode_utf8`` (``base.decode_texts``) instead of Arrow's
``to_pylist``: the same str for every value, in the same representation, and the same UnicodeDecodeError
for bytes that are not strict UTF-8 (issue 13: CPython's decoder cost ~30 instructions per Chinese
character).

The validating pass must accept exactly what CPython's decoder accepts: every sequence of one and two bytes,
and every three- and four-byte sequence whose later bytes sit at the edges of the continuation range, is
decoded both ways, alone and after seven ASCII bytes (the eight-byte ASCII step)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from pipeline.filters.base import decode_texts
from tests.pipeline.filters.support import require_compiled
from tests.pipeline.filters.test_lid_subwords import read_texts
from tests.pipeline.filters.test_lid_utf8 import MIXED, REAL

try:
    from pipeline.filters import _lines
except ImportError:
    _lines = None

needs_lines = pytest.mark.skipif(_lines is None, reason="pipeline.filters._lines not built")
EDGES = (0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF)


def _python(data: bytes) -> str | tuple:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (type(exc), exc.args)


def _ours(data: bytes) -> str | tuple:
    try:
        return _lines.decode_utf8(data, np.array([0, len(data)], np.int64))[0]
    except UnicodeDecodeError as exc:
        return (type(exc), exc.args)


def _sequences() -> list[bytes]:
    out = [bytes([a]) for a in range(256)] + [bytes([a, b]) for a in range(256) for b in range(256)]
    out += [bytes([a, b, c]) for a in range(0xC0, 0x100) for b in range(256) for c in EDGES]
    out += [bytes([a, b, c, d]) for a in range(0xF0, 0x100) for b in range(256) for c in (0x80, 0xBF, 0x41)
            for d in (0x80, 0xBF, 0x41, 0xC0)]
    return out


def test_the_compiled_decoder_is_built_under_ci():
    require_compiled(_lines, "_lines", "Arrow's to_pylist")


@needs_lines
def test_every_short_sequence_decodes_or_fails_as_cpython():
    valid = 0
    for seq in _sequences():
        for data in (seq, b"abcdefg" + seq, seq + b"xyz"):
            theirs = _python(data)
            ours = _ours(data)
            assert ours == theirs, data
            if isinstance(theirs, str):
                valid += 1
                assert sys.getsizeof(ours) == sys.getsizeof(theirs), data  # the same kind (representation)
    assert valid > 10_000


@needs_lines
def test_random_texts_of_every_width():
    rng = random.Random(13)
    alphabet = ["a", " ", "\n", "é", "ÿ", "\x80", "ā", "中", "\u3000", "\uffff", "😀", "\U0010ffff", "\x00"]
    texts = ["".join(rng.choice(alphabet[:rng.randint(1, len(alphabet))]) for _ in range(rng.randint(0, 40)))
             for _ in range(3000)] + MIXED
    data = b"".join(t.encode() for t in texts)
    offsets = np.cumsum([0] + [len(t.encode()) for t in texts]).astype(np.int64)
    ours = _lines.decode_utf8(data, offsets)
    assert ours == texts
    assert [sys.getsizeof(t) for t in ours] == [sys.getsizeof(t) for t in texts]


@needs_lines
def test_bad_offsets_are_refused():
    with pytest.raises(ValueError):
        _lines.decode_utf8(b"abc", np.array([0, 4], np.int64))
    with pytest.raises(ValueError):
        _lines.decode_utf8(b"abc", np.array([2, 1], np.int64))
    with pytest.raises(ValueError):
        _lines.decode_utf8(b"abc", np.array([0, 1], np.int32))
    assert _lines.decode_utf8(b"", np.array([0], np.int64)) == []


def test_columns_decode_as_to_pylist(shared_data: Path):
    texts = [t for name, (kind, rel) in sorted(REAL.items()) for t in read_texts(shared_data, kind, rel)[:10]]
    texts += MIXED + ["", "x"]
    for typ in (pa.string(), pa.large_string()):
        array = pa.array(texts, typ)
        for column in (array, array.slice(3, 20), pa.chunked_array([array.slice(0, 7), array.slice(7)]),
                       pa.chunked_array([array.slice(0, 5), pa.array(["a", None, "中"], typ)]),
                       pa.chunked_array([], typ), pa.array([b"\xe4\xb8\xad"], pa.binary())):
            ours = decode_texts(column)
            assert ours == column.to_pylist()
            assert [sys.getsizeof(t) for t in ours] == [sys.getsizeof(t) for t in column.to_pylist()]


def test_a_column_that_is_not_utf8_fails_as_to_pylist():
    bad = pa.Array.from_buffers(pa.string(), 2, pa.array([b"ok", b"ab\xed\xa0\x80"], pa.binary()).buffers())
    with pytest.raises(UnicodeDecodeError) as theirs:
        bad.to_pylist()
    with pytest.raises(UnicodeDecodeError) as ours:
        decode_texts(pa.chunked_array([bad]))
    assert ours.value.args == theirs.value.args
