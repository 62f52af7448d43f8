""".warc.zst byte-range splits: every shared WARC re-compressed as IIPC's WARC zstd format (one frame per record,
with or without a dictionary frame), as one frame, and in frames cut anywhere (pzstd's way), read in splits."""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from pathlib import Path

import pytest
import zstandard

from contracts.accounting import Tally
from pipeline.readers.base import Split
from pipeline.readers.commoncrawl import READER, Options
from pipeline.readers.warc_zstd import _chain_holds, _Input, _record_frame, _Walk

SIZES = (10_000, 100_000, 1_000_000)
WARCS = sorted(p.name for p in (Path(__file__).resolve().parents[3] / "../shared/data/web").glob("*.warc.gz"))
DICT_MAGIC = b"\x5d\x2a\x4d\x18"


def records_of(gz: bytes) -> list[bytes]:
    """The decompressed gzip members of a record-per-member .warc.gz: one WARC record each."""
    out = []
    while gz:
        inflate = zlib.decompressobj(31)
        out.append(inflate.decompress(gz))
        gz = inflate.unused_data
    return out


def read_all(path: Path, options: Options) -> tuple[list, Tally, list[list]]:
    """(documents, tally, documents per split) of ``path`` planned and read as the crawl stage does."""
    tally = Tally()
    per_split = [list(READER.read(s, options, tally)) for s in READER.plan(str(path), path.stat().st_size, options)]
    return [d for docs in per_split for d in docs], tally, per_split


def keyed(docs: list) -> list[tuple[str, str]]:
    return [(d.key, d.text) for d in docs]


def frame_offsets(data: bytes) -> list[int]:
    """The file offsets of the zstd frames of a file without a dictionary."""
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        inflate = zstandard.ZstdDecompressor().decompressobj()
        inflate.decompress(data[pos:])
        pos = len(data) - len(inflate.unused_data)
    return out


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Path:
    return shared_data / "web"


@pytest.fixture(scope="module")
def dictionary(web: Path) -> zstandard.ZstdCompressionDict:
    """A dictionary trained on a real WARC's records, as wget-at trains one per crawl."""
    return zstandard.train_dictionary(16384, records_of((web / "IAH-20080430204825-00000-blackbook.warc.gz")
                                                        .read_bytes())[:400])


def per_record_zst(records: list[bytes], dictionary: zstandard.ZstdCompressionDict | None = None,
                   compressed_dict: bool = False) -> tuple[bytes, list[int]]:
    """(IIPC's WARC zstd format: an optional dictionary frame, then one frame per record; the frames' offsets)."""
    head = b""
    if dictionary is not None:
        payload = dictionary.as_bytes()
        payload = zstandard.ZstdCompressor().compress(payload) if compressed_dict else payload
        head = DICT_MAGIC + len(payload).to_bytes(4, "little") + payload
    compress = zstandard.ZstdCompressor(level=3, dict_data=dictionary).compress
    frames = [compress(r) for r in records]
    offsets = [len(head) + sum(map(len, frames[:i])) for i in range(len(frames))]
    return head + b"".join(frames), offsets


@pytest.mark.parametrize("mode", ["no-dict", "raw-dict", "zstd-dict"])
@pytest.mark.parametrize("name", WARCS)
def test_record_frames_split_like_the_whole_file_and_the_gz(web: Path, tmp_path: Path, dictionary, name: str,
                                                            mode: str) -> None:
    """Every split size gives the documents (ids, texts) and counts of reading the file whole, and of the
    .warc.gz it was made from; more than one split reads records; offsets are the record frames' offsets."""
    src = web / name
    data, offsets = per_record_zst(records_of(src.read_bytes()), None if mode == "no-dict" else dictionary,
                                   mode == "zstd-dict")
    zst = tmp_path / name.replace(".gz", ".zst")
    zst.write_bytes(data)
    whole, whole_tally, _ = read_all(zst, Options())
    gz, gz_tally, _ = read_all(src, Options())
    assert keyed(whole) == keyed(gz)
    counts = dict(gz_tally.counts)
    if "skipped.truncated_gzip" in counts:  # resiliparse-clipped.warc.gz: its last member is cut, its frame whole
        counts["skipped.truncated_record"] = counts.pop("skipped.truncated_gzip")
    assert dict(whole_tally.counts) == counts
    frames = set(offsets)
    for size in SIZES:
        docs, tally, per_split = read_all(zst, Options(split_bytes=size))
        assert keyed(docs) == keyed(whole) and tally.counts == whole_tally.counts, size
        assert all(d.meta["offset"] in frames for d in docs)
        if len(data) > 3 * size and len(whole) > 3:  # the records are spread over the file's splits
            assert sum(1 for split in per_split if split) > 1, size


def pzstd_like(data: bytes, cuts: list[int]) -> bytes:
    """``data`` compressed in frames cut at ``cuts`` (what pzstd and other multi-frame writers do)."""
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    return b"".join(zstandard.ZstdCompressor(level=3).compress(data[a:b]) for a, b in zip(bounds, bounds[1:]))


@pytest.mark.parametrize("name", ["IAH-20080430204825-00000-blackbook.warc.gz", "dolma-sample-0000.warc.gz",
                                  "pywb-iana.warc.gz"])
def test_one_frame_and_frames_cut_anywhere_give_the_same_documents(web: Path, tmp_path: Path, name: str) -> None:
    """A file of one frame, or of frames cut at arbitrary bytes, has no split start but its first frame (no other
    frame decodes to whole records), so its first split reads it all, even with frames cut a byte off a record's
    start or end; frames that do hold whole records (a file's second half compressed record by record) are real
    boundaries, so splits starting there agree."""
    src = web / name
    records = records_of(src.read_bytes())
    plain = b"".join(records)
    ends = [sum(map(len, records[:i])) for i in range(len(records) + 1)]
    rng = random.Random(7)
    anywhere = [rng.randrange(len(plain)) for _ in range(len(plain) // 20_000 + 3)]
    anywhere += [e + 1 for e in ends[1:-1:7]] + [e - 1 for e in ends[2:-1:11]]  # frames cut next to a boundary
    anywhere += ends[3:-1:13]  # and frames starting at a record's start but ending inside another
    half = len(plain) // 2  # then a second half in frames of whole records, as a file appended to by record
    aligned = [c for c in anywhere if c < half] + [e for e in ends if e >= half]
    want, want_tally, _ = read_all(src, Options())
    for label, data in [("one-frame", zstandard.ZstdCompressor().compress(plain)),
                        ("cut-anywhere", pzstd_like(plain, anywhere)),
                        ("some-aligned", pzstd_like(plain, aligned))]:
        zst = tmp_path / f"{label}.warc.zst"
        zst.write_bytes(data)
        whole, whole_tally, _ = read_all(zst, Options())
        assert keyed(whole) == keyed(want), label
        for size in SIZES:
            docs, tally, per_split = read_all(zst, Options(split_bytes=size))
            assert len(per_split) == -(-len(data) // size)  # planned in byte ranges, as any .warc.zst
            assert keyed(docs) == keyed(want) and tally.counts == whole_tally.counts, (label, size)
            if label != "some-aligned":
                assert all(not split for split in per_split[1:]), (label, size)
    if len(records) > 20:  # the aligned frames do start splits: the splits after the first read records
        zst = tmp_path / "some-aligned.warc.zst"
        assert sum(1 for split in read_all(zst, Options(split_bytes=10_000))[2] if split) > 1


def stored_record(inner: bytes) -> bytes:
    """A WARC resource record whose block is ``inner`` (a crawled .warc.zst)."""
    head = (b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:3f0e3c36-0000-4000-8000-00000000cafe>\r\n"
            b"WARC-Target-URI: http://example.com/crawl.warc.zst\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            b"Content-Type: application/zstd\r\nContent-Length: " + str(len(inner)).encode() + b"\r\n\r\n")
    return head + inner + b"\r\n\r\n"


def raw_block_frame(data: bytes) -> bytes:
    """``data`` as a zstd frame of raw blocks (what a compressor writes for incompressible bytes): 128 KiB
    window, no content size or checksum; each block a 3-byte header (last flag, type 0, size) and its bytes."""
    block, out = 1 << 17, [b"\x28\xb5\x2f\xfd\x00\x38"]
    for at in range(0, len(data), block):
        piece = data[at:at + block]
        out.append(((len(piece) << 3) | (at + block >= len(data))).to_bytes(3, "little") + piece)
    return b"".join(out)


@pytest.mark.parametrize("outer", ["raw-blocks", "compressor"])
@pytest.mark.parametrize("inner_name", ["warcio-example.warc.gz", "dolma-sample-0000.warc.gz"])
def test_a_warc_zst_stored_in_a_record_does_not_start_a_split(web: Path, tmp_path: Path, inner_name: str,
                                                              outer: str) -> None:
    """A crawled .warc.zst stored as a record's block sits verbatim in the raw blocks of that record's frame: its
    frames decode to whole WARC records, yet no split starts there (their chain breaks within 128 KiB, at the
    outer frame's next block header or the payload's end), so splits read what reading it whole reads. Inner
    files under and over one zstd block (128 KiB); the outer frame all raw blocks, or as the compressor made it."""
    inner, inner_frames = per_record_zst(records_of((web / inner_name).read_bytes()))
    outer_records = records_of((web / "pywb-iana.warc.gz").read_bytes())
    middle = len(outer_records) // 2
    before, _ = per_record_zst(outer_records[:middle])
    after, _ = per_record_zst(outer_records[middle:])
    stored = stored_record(inner)
    held = raw_block_frame(stored) if outer == "raw-blocks" else zstandard.ZstdCompressor(level=3).compress(stored)
    assert zstandard.ZstdDecompressor().decompressobj().decompress(held) == stored
    data = before + held + after
    zst = tmp_path / "outer.warc.zst"
    zst.write_bytes(data)
    with open(zst, "rb") as raw:
        walk = _Walk(raw, Split(path=str(zst), start=len(before) + 1, end=len(before) + len(held)), 1 << 30)
        assert walk.start() is None  # no split starts inside the frame holding the stored file
        if outer == "raw-blocks":
            at = len(before) + 6 + 3 + stored.index(inner)  # the inner file's first frame, in the first block
            assert data[at:at + 1000] == inner[:1000]
            assert _record_frame(_Input(raw, at), walk.new, 1 << 30, walk.errors)  # it does hold a record
            assert not _chain_holds(raw, at, walk.new, 1 << 30, walk.errors)[0]
    whole, whole_tally, _ = read_all(zst, Options())
    assert len(whole) > 10 and whole_tally.counts["records"] == len(outer_records) + 1
    for size in (5_000, 10_000, 30_000, 100_000):
        docs, tally, per_split = read_all(zst, Options(split_bytes=size))
        assert keyed(docs) == keyed(whole) and tally.counts == whole_tally.counts, size
        assert sum(1 for split in per_split if split) > 1


@pytest.mark.parametrize("damage", ["cut", "corrupt"])
def test_a_cut_or_corrupt_frame_is_counted_once_by_one_split(web: Path, tmp_path: Path, dictionary,
                                                             damage: str) -> None:
    """A file cut inside a frame, or with bytes of one frame overwritten, is one ``corrupt_compression`` at every
    split size; the records before it are read, and after a corrupt frame the reading resumes."""
    src = web / "IAH-20080430204825-00000-blackbook.warc.gz"
    data, frames = per_record_zst(records_of(src.read_bytes()), dictionary)
    hit = frames[len(frames) * 3 // 5]
    if damage == "cut":
        data = data[:hit + 40]
    else:
        data = data[:hit + 12] + bytes(b ^ 0x5A for b in data[hit + 12:hit + 52]) + data[hit + 52:]
    zst = tmp_path / f"{damage}.warc.zst"
    zst.write_bytes(data)
    whole, whole_tally, _ = read_all(zst, Options())
    good, _, _ = read_all(src, Options())
    assert whole_tally.counts["skipped.corrupt_compression"] == 1
    assert 30 < len(whole) < len(good)
    if damage == "cut":
        assert keyed(whole) == keyed(good)[:len(whole)]
    else:
        assert len(whole) >= len(good) - 1 and set(keyed(whole)) <= set(keyed(good))
    for size in (10_000, 100_000, 300_000, 1_000_000):
        docs, tally, _ = read_all(zst, Options(split_bytes=size))
        assert keyed(docs) == keyed(whole) and tally.counts == whole_tally.counts, size


def test_a_cut_dictionary_frame_is_counted_once(web: Path, tmp_path: Path, dictionary) -> None:
    """No frame decodes without the dictionary: the first split counts it, the others read nothing."""
    data, frames = per_record_zst(records_of((web / "dolma-sample-0000.warc.gz").read_bytes()), dictionary)
    first = frames[0]
    zst = tmp_path / "cut-dict.warc.zst"
    zst.write_bytes(data[:first // 2])
    for size in (1_000, 1 << 26):
        docs, tally, _ = read_all(zst, Options(split_bytes=size))
        assert docs == [] and tally.counts["skipped.corrupt_compression"] == 1


def test_every_shared_warc_in_one_file_reads_as_its_warc_gz(web: Path, tmp_path: Path) -> None:
    """All shared WARCs' records in one file, as record frames and as gzip members: the same documents and counts
    whole and at every split size. resiliparse-clipped's last record is cut short inside its frame and records
    follow it: framed on its own (as its gzip member is), it is one ``truncated_record`` and hides no record."""
    records = [r for name in WARCS for r in records_of((web / name).read_bytes())]
    zst, gz = tmp_path / "all.warc.zst", tmp_path / "all.warc.gz"
    zst.write_bytes(per_record_zst(records)[0])
    gz.write_bytes(b"".join(gzip.compress(r, 6, mtime=0) for r in records))
    want, want_tally, _ = read_all(gz, Options())
    assert want_tally.counts["skipped.truncated_record"] == 1
    for size in (1 << 30, *SIZES):
        docs, tally, _ = read_all(zst, Options(split_bytes=size))
        assert keyed(docs) == keyed(want) and tally.counts == want_tally.counts, size


def test_a_frame_that_inflates_hugely_is_read_in_bounded_memory(web: Path, tmp_path: Path) -> None:
    """A frame of 256 MiB of zeros (about 8 kB compressed) between record frames: counted as damage (no WARC
    header in it), the records around it read, and no piece of it held whole (zstd can expand 32,768-fold)."""
    records = records_of((web / "dolma-sample-0000.warc.gz").read_bytes())
    data, _ = per_record_zst(records)
    bomb = zstandard.ZstdCompressor(level=19).compress(bytes(256 << 20))
    middle = len(records) // 2
    head, _ = per_record_zst(records[:middle])
    zst = tmp_path / "bomb.warc.zst"
    zst.write_bytes(head + bomb + data[len(head):])
    want, _, _ = read_all(web / "dolma-sample-0000.warc.gz", Options())
    tracemalloc.start()
    try:
        for size in (1 << 30, 50_000):
            docs, tally, _ = read_all(zst, Options(split_bytes=size))
            assert keyed(docs) == keyed(want) and tally.counts["skipped.corrupt_record"] == 1, size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20
