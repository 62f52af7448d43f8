"""The commoncrawl reader's ISA-L inflate: the same documents, skips and skip details as zlib alone, on whole
and damaged real files (a damaged member is redone under zlib, so its error text is zlib's)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from isal import isal_zlib  # a dependency (pyproject): the reader's inflate, tested here against zlib

from contracts.accounting import Tally
from pipeline.readers import warc_framing, warc_records
from pipeline.readers.commoncrawl import READER, Options
from tests.pipeline.readers.test_commoncrawl import members


DOLMA = "dolma-sample-0000.warc.gz"
BIG = "IAH-20080430204825-00000-blackbook.warc.gz"  # its largest member inflates to 1.2 MB: several reads


def _read(path: Path, options: Options) -> tuple[list[tuple], dict, dict]:
    tally = Tally()
    size = path.stat().st_size
    docs = [(d.key, d.text, d.meta["offset"]) for split in READER.plan(str(path), size, options)
            for d in READER.read(split, options, tally)]
    return docs, dict(tally.counts), {k: list(v) for k, v in tally.examples.items()}


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, options: Options | None = None) -> tuple:
    """The reader's results with ISA-L and with zlib alone; asserts ISA-L did the inflating."""
    options = options or Options()
    calls = []
    real = isal_zlib.decompressobj

    def counting(*args):
        calls.append(args)
        return real(*args)

    with monkeypatch.context() as m:
        isal = type("Isal", (), {"decompressobj": staticmethod(counting), "error": isal_zlib.error})
        for module in (warc_framing, warc_records):  # members' inflate, and payloads' Content-Encoding
            m.setattr(module, "_fast_zlib", isal)
        fast = _read(path, options)
    assert calls, "ISA-L was not used"
    with monkeypatch.context() as m:
        for module in (warc_framing, warc_records):
            m.setattr(module, "_fast_zlib", None)
        plain = _read(path, options)
    return fast, plain


def _damaged(web: Path, tmp_path: Path, how: str, around: int | None = None) -> Path:
    """BIG with its largest member damaged ``how``; with ``around``, only its warcinfo and the ``around``
    members either side of the damaged one are kept (the same damage and neighbours, a fraction of the reading)."""
    parts = members((web / BIG).read_bytes())
    i = max(range(len(parts)), key=lambda k: len(gzip.decompress(parts[k])))
    if around is not None:
        start = max(1, i - around)
        parts, i = parts[:1] + parts[start: i + around + 1], 1 + i - start
    member = bytearray(parts[i])
    if how == "crc":  # the trailer's CRC-32: only the checks at the member's end can find it
        member[-8] ^= 0xFF
    elif how == "length":
        member[-2] ^= 0xFF
    elif how == "block":  # bytes in the middle of the deflate stream: an invalid block or a bad CRC later
        member[len(member) // 2: len(member) // 2 + 16] = b"\xff" * 16
    elif how == "cut":  # the member cut and the next one glued on
        member = member[: len(member) // 2]
    parts[i] = bytes(member)
    path = tmp_path / f"{how}.warc.gz"
    path.write_bytes(b"".join(parts))
    return path


@pytest.mark.parametrize("how", ["crc", "length", "block", "cut"])
def test_damaged_member_reads_as_zlib_reads_it(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               how: str) -> None:
    path = _damaged(shared_data / "web", tmp_path, how, around=6)  # the member and its neighbours
    retries = []
    real_retry = warc_framing._GzipMember._retry_with_zlib
    monkeypatch.setattr(warc_framing._GzipMember, "_retry_with_zlib",
                        lambda self: (retries.append(self.handed), real_retry(self))[1])
    fast, plain = _both(path, monkeypatch)
    assert fast == plain
    assert retries and max(retries) > 0  # ISA-L refused the damaged member mid-way and zlib redid it
    counts = plain[1]
    assert counts.get("skipped.corrupt_gzip", 0) + counts.get("skipped.truncated_gzip", 0) \
        + counts.get("skipped.corrupt_record", 0) >= 1  # the damage was seen, not read past
    split = _both(path, monkeypatch, Options(split_bytes=7000))
    assert split[0] == split[1]


@pytest.mark.parametrize("name", [DOLMA, "resiliparse-clipped.warc.gz", "IAH-20080430204825-00000-blackbook.warc.gz"])
def test_real_files_read_alike(shared_data: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fast, plain = _both(shared_data / "web" / name, monkeypatch)
    assert fast == plain and (fast[0] or "skipped.truncated_gzip" in fast[1])


@pytest.mark.parametrize("wbits,pack", [
    (31, gzip.compress),
    (15, zlib.compress),
    (-15, lambda b: (lambda c: c.compress(b) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))),
])
def test_inflate_bounded_and_errors_are_zlibs(wbits: int, pack, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"<p>" + bytes(range(32, 127)) * 500
    packed = pack(body)
    assert warc_records._inflate(wbits, packed, 1000) == body[:1001]
    assert warc_records._inflate(wbits, packed, 10 ** 6) == body
    broken = packed[:20] + b"\xff" * 40 + packed[60:]
    errors = []
    for fast in (warc_records._fast_zlib, None):
        monkeypatch.setattr(warc_records, "_fast_zlib", fast)
        try:
            errors.append(warc_records._inflate(wbits, broken, 10 ** 6))
        except zlib.error as exc:
            errors.append(str(exc))
    assert errors[0] == errors[1]
