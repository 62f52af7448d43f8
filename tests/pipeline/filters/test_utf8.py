"""The texts' UTF-8 decoded to ``str`` by ``_utf8.decode`` (``base.decode_texts``, issue 13): the filter stage
decodes every shard's text column, and CPython's decoder (``to_pylist``) takes ~30 instructions per Chinese
character.

What must hold: ``decode_texts(column)`` is ``column.to_pylist()`` for every value, down to the kind of each
str (1, 2 or 4 bytes a character, the narrowest that fits, as CPython makes them): every 1- and 2-byte
character and every 3-byte one (at each position of the 8- and 4-character vector blocks), the 4-byte edges,
mixed widths in one value, empty values, nulls, slices, chunks, ``large_string``, random texts and real pages
of four languages; with the vector path on and off. Bytes that are not UTF-8 (which a valid Arrow array
cannot hold) raise CPython's own ``UnicodeDecodeError``.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.filters import base
from pipeline.filters.base import decode_texts
from tests.pipeline.filters.test_lid_subwords import read_texts
from tests.pipeline.filters.support import both_simd_paths
from tests.pipeline.filters.test_lid_utf8 import REAL

_utf8 = pytest.importorskip("pipeline.filters._utf8")


def kind(text: str) -> tuple[int, int]:
    """(kind, ascii) of a str: PyASCIIObject.state's bits after ob_refcnt, ob_type, length and hash."""
    assert sys.implementation.name == "cpython"
    state = ctypes.c_uint32.from_address(id(text) + 4 * ctypes.sizeof(ctypes.c_ssize_t)).value
    return (state >> 2) & 7, (state >> 6) & 1


# each test with the SSSE3 path (where the CPU has it) and without
simd = both_simd_paths("pipeline.filters._utf8", ("vector", "scalar"))


def check(column: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """decode_texts is to_pylist, value and kind, and no valid value went to CPython's decoder after the
    compiled pass (which would hide a slip of that pass behind the fallback's right answer)."""
    before = _utf8.fallbacks()
    got, want = decode_texts(column), column.to_pylist()
    assert _utf8.fallbacks() == before
    assert got == want
    assert [kind(t) if t is not None else None for t in got] == [kind(t) if t is not None else None for t in want]
    return got


def layouts(values: list[str | None]) -> list[pa.Array | pa.ChunkedArray]:
    """``values`` as string and large_string arrays, sliced (offsets not at 0) and in three chunks."""
    out: list[pa.Array | pa.ChunkedArray] = []
    for typ in (pa.string(), pa.large_string()):
        out.append(pa.array(values, typ))
        out.append(pa.array(["pad", None] + values + ["x"], typ).slice(2, len(values)))
        third = len(values) // 3
        out.append(pa.chunked_array([pa.array(values[:third], typ),
                                     pa.array([None, "y"] + values[third:2 * third], typ).slice(2),
                                     pa.array(values[2 * third:], typ)], typ))
    return out


# Every character width and its edges, the non-characters at the ends of the BMP and of Unicode.
EDGES = ["\x00", "\x7f", "\x80", "\xff", "\u0100", "\u07ff", "\u0800", "\u0fff", "\u1000", "\ud7ff", "\ue000",
         "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0001f600", "\U000fffff", "\U00100000", "\U0010ffff"]


def test_edges_alone_and_in_every_context(simd) -> None:
    values = list(EDGES)
    for c in EDGES:
        for ctx in ("", "a", "é", "中", "😀", "ab" * 9, "中" * 9, "中文" * 7 + "ab"):
            values += [c + ctx, ctx + c, ctx + c + ctx, c * 17, (ctx + c) * 11]
    for column in layouts(values):
        check(column)


def test_every_one_and_two_byte_character(simd) -> None:
    chars = [chr(c) for c in range(0x800)]
    values = ["".join(chars), "".join(chars[:0x100]), "".join(chars[:0x80])]
    values += [c + d for c in chars[::7] for d in ("a", "ÿ", "Ā", "中")]
    values += ["x" * n + "".join(chars[0x80:0x100]) for n in range(17)]
    for column in layouts(values):
        check(column)


def test_every_three_byte_character_at_every_block_position(simd) -> None:
    bmp = [chr(c) for c in range(0x800, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    run = "".join(bmp)
    # the whole run after 0-8 characters that shift it across the 8- and 4-character blocks
    values = [lead + run for lead in ("", "a", "ab", "é", "中", "中a", "a中", "中文", "abcdefgh")]
    # short runs of every length between ASCII of every length: each block and tail size
    values += [("a" * i + run[j:j + n]) * 3 + "b" * i for i in range(0, 18, 3) for n in range(1, 30)
               for j in (0, 0x7000, len(run) - n)]
    for column in layouts(values):
        got = check(column)
        assert got[0] == run


def test_mixed_widths_empty_values_and_nulls(simd) -> None:
    values = ["", None, "a", "é", "中", "😀", "", "中a", "a😀中é" * 30, None, "中" * 8 + "😀",
              "😀" + "中" * 40,
              "ab\nc" * 50 + "中文" * 33 + "é" * 5 + "\U0010ffff", "", None, "\uffff" * 33, "ÿ" * 40 + "a" * 40]
    for column in layouts(values):
        got = check(column)
        assert got[1] is None and got[6] == ""
    assert decode_texts(pa.array([], pa.string())) == []
    assert decode_texts(pa.chunked_array([], pa.string())) == []
    assert decode_texts(pa.array([None, None], pa.string())) == [None, None]


def test_other_types_and_no_extension(monkeypatch) -> None:
    assert decode_texts(pa.array([b"\xe4\xb8\xad", None], pa.binary())) == [b"\xe4\xb8\xad", None]
    assert decode_texts(pa.array(["中文", None, "中文"]).dictionary_encode()) == ["中文", None, "中文"]
    monkeypatch.setattr(base, "_utf8", None)
    for column in layouts(["中文" * 20, None, "abc", "é" * 30]):
        assert decode_texts(column) == column.to_pylist()


THREE_BYTES = st.characters(min_codepoint=0x800, max_codepoint=0xFFFF, exclude_categories=("Cs",))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.text(THREE_BYTES, min_size=10, max_size=200),
                          st.text(st.sampled_from("a中é😀\n\uffff ")), st.text(min_size=20, max_size=300)),
                max_size=12),
       st.integers(0, 3), st.booleans())
def test_random_texts(values: list[str | None], start: int, large: bool) -> None:
    typ = pa.large_string() if large else pa.string()
    check(pa.array(["p"] * start + values, typ).slice(start))


def _column_of(raw: list[bytes]) -> pa.Array:
    """A string array over raw bytes, valid UTF-8 or not (from_buffers does not check)."""
    offsets = [0]
    for r in raw:
        offsets.append(offsets[-1] + len(r))
    return pa.Array.from_buffers(pa.string(), len(raw), [None, pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]),
                                                         pa.py_buffer(b"".join(raw))])


NOT_UTF8 = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2", b"\xc2\x41", b"\xe0\x80\x80", b"\xe0\x9f\xbf",
            b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xe4\xb8", b"\xe4\x41\xad", b"\xe4\xb8\x41", b"\xf0\x80\x80\x80",
            b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xf0\x9f\x98"]


@pytest.mark.parametrize("bad", NOT_UTF8)
def test_bytes_that_are_not_utf8_raise_cpythons_error(bad: bytes, simd) -> None:
    zh = "中文字符串".encode()
    contexts = [bad, b"ab" + bad, bad + zh * 9, b"a" * 20 + bad + b"b" * 20]
    contexts += [zh[:3 * i] + bad + zh * 8 for i in range(5)] + [zh * 2 + zh[:3 * i] + bad + zh * 3 for i in range(9)]
    contexts += ["😀é".encode() * 5 + bad + zh * 4]
    before = _utf8.fallbacks()
    for raw in contexts:
        with pytest.raises(UnicodeDecodeError) as caught:
            decode_texts(_column_of([zh * 4, raw]))
        with pytest.raises(UnicodeDecodeError) as want:
            raw.decode("utf-8")
        assert str(caught.value) == str(want.value)
    if simd:  # the compiled pass saw them (without SSSE3 it leaves the wide strs to CPython from the start)
        assert _utf8.fallbacks() > before


@pytest.fixture(scope="module")
def real(shared_data: Path) -> dict[str, list[str]]:
    return {name: read_texts(shared_data, kind_, rel) for name, (kind_, rel) in REAL.items()}


def test_real_pages_of_four_languages(real: dict[str, list[str]], simd) -> None:
    wide = 0
    for name, texts in real.items():
        assert len(texts) > 2, name
        column = pa.chunked_array([pa.array(texts[:2]), pa.array(["x"] + texts[2:-1]).slice(1), pa.array(texts[-1:])])
        got = check(column)
        assert got == texts
        wide += sum(kind(t)[0] == 2 for t in got)
    assert wide > 20  # UCS-2 pages: the vector path's strs
