"""commoncrawl reader on ARC files (the Internet Archive's format before WARC: Common Crawl 2008-2012).

The ARC files are made here from the real HTTP responses of the shared WARCs (read with warcio), one gzip
member per record as crawlers wrote them; the same responses read as WARC are the reference for the
documents and counts, and warcio's own ARC reading for the record count."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest
import zstandard

from contracts.accounting import Tally
from pipeline.file_accounting import file_entry, verdict
from pipeline.readers import arc, warc_splits
from pipeline.readers.commoncrawl import READER, Options
from tests.pipeline.readers.test_commoncrawl import IAH, assert_accounted, members, read_all
from tests.pipeline.readers.test_commoncrawl import s3  # noqa: F401 - the fixture: a real S3-compatible server

FILES = [IAH, "pywb-iana.warc.gz", "dolma-sample-0000.warc.gz", "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz",
         "servo-zh-sohu-homepage-2018.warc.gz", "warcio-example-iana.org-chunked.warc"]
V1_FIELDS = b"URL IP-address Archive-date Content-type Archive-length"
V2_FIELDS = b"URL IP-address Archive-date Content-type Result-code Checksum Location Offset Filename Archive-length"


def responses(warc: Path) -> list[tuple[bytes, bytes, bytes, bytes, bytes]]:
    """(URL, IP, 14-digit date, content type, block) of every response record of a WARC, the block as stored."""
    from warcio.archiveiterator import ArchiveIterator  # test extra: an independent WARC reader

    out = []
    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh, no_record_parse=True):
            if record.rec_type != "response":
                continue
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI").strip("<>").encode()
            date = re.sub(r"\D", "", headers.get_header("WARC-Date"))[:14].encode()
            block = record.raw_stream.read()
            if url.startswith((b"http:", b"https:")):  # the mime type of the HTTP response, as Heritrix wrote it
                found = re.search(rb"(?im)^content-type:[ \t]*([^;\s]+)", block.split(b"\r\n\r\n", 1)[0])
                mime = found.group(1) if found else b"no-type"
            else:
                mime = headers.get_header("Content-Type").split(";")[0].encode()
            out.append((url, (headers.get_header("WARC-IP-Address") or "0.0.0.0").encode(), date, mime, block))
    return out


def arc_file(path: Path, records: list[tuple], version: int = 1, gz: bool = True, sep: bytes = b"\n") -> Path:
    """Write an ARC file: the ``filedesc://`` version block, then a header line + block + ``sep`` per record
    (one gzip member each when ``gz``; some writers left the "\\n" out)."""
    name = path.name.split(".")[0].encode() + b".arc"
    fields = V1_FIELDS if version == 1 else V2_FIELDS
    desc = b"%d 0 InternetArchive\n%s\n" % (version, fields)
    stamp = records[0][2] if records else b"20080430204825"

    def line(url: bytes, ip: bytes, date: bytes, mime: bytes, length: int, offset: int) -> bytes:
        if version == 1:
            return b"%s %s %s %s %d\n" % (url, ip, date, mime, length)
        return b"%s %s %s %s 200 - - %d %s %d\n" % (url, ip, date, mime, offset, name, length)

    parts = [line(b"filedesc://" + name, b"0.0.0.0", stamp, b"text/plain", len(desc), 0) + desc + sep]
    parts += [line(url, ip, date, mime, len(block), i) + block + sep for i, (url, ip, date, mime, block)
              in enumerate(records, 1)]
    path.write_bytes(b"".join(gzip.compress(p, mtime=0) for p in parts) if gz else b"".join(parts))
    return path


def warcio_arc_types(path: Path) -> Counter:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        return Counter(record.rec_type for record in ArchiveIterator(fh, arc2warc=True))


def seen(docs: list) -> list[tuple]:
    """What a document is, apart from its id and offset (which differ between a WARC and an ARC)."""
    return [(d.url, d.title, d.text, d.meta["date"][:19], d.meta["charset"], d.meta["content_type"]) for d in docs]


def keyed(docs: list) -> list[tuple]:
    return [(d.key, d.meta["offset"], d.text) for d in docs]


def without_other_records(counts: Counter) -> Counter:
    """The counts of a WARC as the counts of its responses alone, plus the ARC's filedesc (as warcinfo)."""
    out = Counter({k: v for k, v in counts.items() if not k.startswith("ignored.") and k != "skipped.not_response"})
    out["records"] = counts["records"] - sum(v for k, v in counts.items() if k.startswith("ignored."))
    out["records"] -= counts["skipped.not_response"]
    out["records"] += 1
    out["ignored.warcinfo"] = 1
    return out


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Path:
    return shared_data / "web"


@pytest.mark.parametrize("name", FILES)
def test_arc_reads_as_the_same_responses_in_warc(web: Path, tmp_path: Path, name: str) -> None:
    records = responses(web / name)
    warc_docs, warc_tally = read_all(web / name)
    assert records and warc_docs
    for gz in (True, False):
        path = arc_file(tmp_path / ("crawl.arc.gz" if gz else "crawl.arc"), records, gz=gz)
        docs, tally = read_all(path)
        assert seen(docs) == seen(warc_docs)
        assert tally.counts == without_other_records(warc_tally.counts)
        assert_accounted(tally)
        assert tally.counts["records"] == sum(warcio_arc_types(path).values()) == len(records) + 1
        for doc in docs:
            assert re.fullmatch(r"<urn:arc:sha1:[A-Z2-7]{32}>", doc.key) and doc.meta["record"] == doc.key
            assert doc.meta["origin"] == str(path) and isinstance(doc.meta["offset"], int)
            doc.to_row("commoncrawl")
        assert len({d.key for d in docs}) == len(docs)


def test_dates_urls_and_ids_match_warcio_and_are_stable(web: Path, tmp_path: Path) -> None:
    """The date and URL of each document are what warcio's ARC-to-WARC reading gives its record; the ids do
    not depend on the file's name, place or compression, and a second read gives the same bytes."""
    from warcio.archiveiterator import ArchiveIterator

    records = responses(web / IAH)
    gz = arc_file(tmp_path / "a.arc.gz", records)
    docs, _ = read_all(gz)
    with open(gz, "rb") as fh:
        theirs = {(r.rec_headers.get_header("WARC-Target-URI"), r.rec_headers.get_header("WARC-Date"))
                  for r in ArchiveIterator(fh, arc2warc=True) if r.rec_type == "response"}
    assert {(d.url, d.meta["date"]) for d in docs} <= theirs and len(docs) == 93
    plain = arc_file(tmp_path / "elsewhere.arc", records, gz=False)
    zst = tmp_path / "b.arc.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    for other in (plain, zst):
        assert [(d.key, d.text) for d in read_all(other)[0]] == [(d.key, d.text) for d in docs]
    assert keyed(read_all(gz)[0]) == keyed(docs)


def test_arc_v2_reads_as_v1(web: Path, tmp_path: Path) -> None:
    records = responses(web / "dolma-sample-0000.warc.gz")
    v1, v1_tally = read_all(arc_file(tmp_path / "v1.arc.gz", records))
    v2, v2_tally = read_all(arc_file(tmp_path / "v2.arc.gz", records, version=2))
    assert seen(v2) == seen(v1) and len(v2) == 22 and v2_tally.counts == v1_tally.counts


def test_recognised_by_content_not_name(web: Path, tmp_path: Path) -> None:
    records = responses(web / "dolma-sample-0000.warc.gz")
    expected = seen(read_all(arc_file(tmp_path / "right.arc.gz", records))[0])
    for name, gz in (("renamed.warc.gz", True), ("crawl-001-part.gz", True), ("plain.warc", False),
                     ("data.bin", False)):
        docs, tally = read_all(arc_file(tmp_path / name, records, gz=gz))
        assert seen(docs) == expected, name
        assert tally.counts["ignored.warcinfo"] == 1 and not any(k.startswith("skipped.corrupt") for k in tally.counts)
    # an .arc.gz whose first member is damaged is still read as ARC (by its name), the damage counted
    path = arc_file(tmp_path / "head.arc.gz", records)
    data = path.read_bytes()
    first = len(members(data)[0])
    path.write_bytes(b"\x00" * first + data[first:])
    docs, tally = read_all(path)
    assert seen(docs) == expected and tally.counts["skipped.corrupt_record"] == 1


@pytest.mark.parametrize("gz, sep", [(True, b"\n"), (False, b"\n"), (False, b""), (True, b"")])
def test_splits_give_the_documents_of_one_pass(web: Path, tmp_path: Path, gz: bool, sep: bytes) -> None:
    """Also with no "\\n" after the records (some writers left it out): members split as usual, and a plain
    file, where a block's last line glued to the next header can parse as a header line, is read by its first
    split alone (a robots.txt ending "Disallow:/x" glued to "http://... 1.2.3.4 2008... 1234" is a header
    line with the real one's length and block; before, "Sitemap: http://...xml" glued to a header line of the
    2008 file was taken by a later split for a record of its own)."""
    records = responses(web / IAH)
    path = arc_file(tmp_path / ("iah.arc.gz" if gz else "iah.arc"), records, gz=gz, sep=sep)
    whole, whole_tally = read_all(path)
    assert len(whole) == 93 and not any(k.startswith("skipped.corrupt") for k in whole_tally.counts)
    if not sep:
        assert sum(not block.endswith(b"\n") for *_, block in records) > 50  # many records follow no line end
    size = path.stat().st_size
    for split_bytes in (7_000, 50_000, 333_333, size // 3 + 1):
        assert len(READER.plan(str(path), size, Options(split_bytes=split_bytes))) > 2
        parts, tally = read_all(path, Options(split_bytes=split_bytes))
        assert keyed(parts) == keyed(whole), split_bytes
        assert tally.counts == whole_tally.counts, split_bytes


def _with_length(member_or_record: bytes, delta: int) -> bytes:
    line, rest = member_or_record.split(b"\n", 1)
    head, length = line.rsplit(b" ", 1)
    return head + b" %d\n" % (int(length) + delta) + rest


def test_damage_is_counted_and_named_and_the_rest_read(web: Path, tmp_path: Path) -> None:
    records = responses(web / "dolma-sample-0000.warc.gz")
    path = arc_file(tmp_path / "good.arc.gz", records)
    good, _ = read_all(path)
    parts = members(path.read_bytes())
    texts = [d.text for d in good]
    with_doc = [i for i in range(1, len(parts))
                if read_all(arc_file(tmp_path / "one.arc.gz", [records[i - 1]]))[1].counts["documents"]]
    assert len(with_doc) == len(good) == 22
    k = with_doc[5]

    def damaged(name: str, new: list[bytes]) -> tuple[list, Tally, Path]:
        out = tmp_path / name
        out.write_bytes(b"".join(new))
        docs, tally = read_all(out)
        assert_accounted(tally)
        assert keyed(read_all(out, Options(split_bytes=9_000))[0]) == keyed(docs), name  # splits agree
        return docs, tally, out

    # a member cut short, the next ones intact
    docs, tally, out = damaged("cut.arc.gz", parts[:k] + [parts[k][: len(parts[k]) // 2]] + parts[k + 1:])
    assert [d.text for d in docs] == texts[:5] + texts[6:]
    assert tally.counts["skipped.corrupt_gzip"] == 1  # inflate ran on into the next member's bytes
    example = tally.examples["corrupt_gzip"][0]
    assert example["file"] == str(out) and example["detail"].startswith(f"offset {sum(map(len, parts[:k]))}:")
    # the file cut inside its last member
    docs, tally, _ = damaged("end.arc.gz", parts[:-1] + [parts[-1][:-30]])
    assert tally.counts["skipped.truncated_gzip"] == 1 and len(docs) == 22 - (len(parts) - 1 in with_doc)
    # a wrong Archive-length, too short and too long
    for delta, reason in ((-500, "corrupt_record"), (500, "truncated_record")):
        record = gzip.decompress(parts[k])
        docs, tally, _ = damaged(f"len{delta}.arc.gz", parts[:k] + [gzip.compress(_with_length(record, delta))]
                                 + parts[k + 1:])
        assert [d.text for d in docs] == texts[:5] + texts[6:] and tally.counts[f"skipped.{reason}"] == 1
        assert "Archive-length" in tally.examples[reason][0]["detail"]
        assert tally.examples[reason][0]["detail"].split(": ")[1].startswith("http")  # names the record's URL
    # garbage between members
    docs, tally, _ = damaged("garbage.arc.gz", parts[:k] + [b"\x00garbage" * 100] + parts[k:])
    assert [d.text for d in docs] == texts and tally.counts["skipped.corrupt_record"] == 1


def test_damage_in_a_plain_arc(web: Path, tmp_path: Path) -> None:
    records = responses(web / "dolma-sample-0000.warc.gz")
    good, good_tally = read_all(arc_file(tmp_path / "good.arc", records, gz=False))
    raw = [gzip.decompress(m) for m in members(arc_file(tmp_path / "g.arc.gz", records).read_bytes())]
    k = next(i for i in range(1, len(raw)) if b"text/html" in raw[i].split(b"\n", 1)[0])
    url = raw[k].split(b" ", 1)[0].decode()
    lost = [d.text for d in good if d.url == url]
    rest = [d.text for d in good if d.url != url]
    for name, new, reason in (
        ("short", raw[:k] + [_with_length(raw[k], -500)] + raw[k + 1:], "corrupt_record"),
        ("long", raw[:k] + [_with_length(raw[k], 700)] + raw[k + 1:], "corrupt_record"),
        ("garbage", raw[:k + 1] + [b"\x00garbage" * 100 + b"\n"] + raw[k + 1:], "corrupt_record"),
    ):
        path = tmp_path / f"{name}.arc"
        path.write_bytes(b"".join(new))
        docs, tally = read_all(path)
        assert_accounted(tally)
        assert [d.text for d in docs] == rest, name  # the damaged record (or the one before garbage) alone is lost
        assert tally.counts[f"skipped.{reason}"] >= 1 and tally.counts["records"] > good_tally.counts["records"] - 2
        for split_bytes in (5_000, 40_000):
            parts, split_tally = read_all(path, Options(split_bytes=split_bytes))
            assert keyed(parts) == keyed(docs) and split_tally.counts == tally.counts, (name, split_bytes)
    assert lost
    # the file cut inside a record: what came before is read, the cut record counted as truncated
    path = tmp_path / "cut.arc"
    path.write_bytes(b"".join(raw[:k]) + raw[k][: len(raw[k]) // 2])
    docs, tally = read_all(path)
    assert tally.counts["skipped.truncated_record"] == 1 and [d.text for d in docs] == rest[: len(docs)]


def test_an_arc_without_pages_is_named_as_yielding_nothing(web: Path, tmp_path: Path) -> None:
    """Before ARC support every ARC record was one corrupt WARC stretch; now a file of non-page records is
    accounted record by record, and the file accounting still names it as yielding nothing."""
    records = [r for r in responses(web / IAH) if r[0].startswith(b"dns:") or r[3] == b"image/jpeg"]
    path = arc_file(tmp_path / "images.arc.gz", records)
    docs, tally = read_all(path)
    assert docs == [] and tally.counts["records"] == len(records) + 1 == sum(warcio_arc_types(path).values())
    assert tally.counts["skipped.not_html"] + tally.counts["skipped.http_status"] == len(records)
    counts = Counter(tally.counts)
    counts["docs_out"] = 0
    entry = file_entry(counts, "web", "commoncrawl", path.stat().st_size)
    assert verdict(entry) == "nothing" and entry["records"] == len(records) + 1


def test_warc_files_are_not_sniffed_per_record(web: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The format is told once per split: WARC records never reach the ARC code."""
    calls = Counter()
    for fn in ("_arc_line", "_sniff_arc", "_is_arc"):
        real = getattr(arc, fn)
        for module in (arc, warc_splits):  # calls within the ARC module and from the split reading
            monkeypatch.setattr(module, fn, lambda *a, _real=real, _fn=fn: (calls.update([_fn]), _real(*a))[1])
    options = Options(split_bytes=100_000)
    path = web / IAH
    splits = READER.plan(str(path), path.stat().st_size, options)
    docs = [d for s in splits for d in READER.read(s, options, Tally())]
    assert len(docs) == 93
    assert calls["_sniff_arc"] == len(splits) and calls["_arc_line"] <= len(splits)


def test_s3_arc_in_byte_ranges(web: Path, tmp_path: Path, s3) -> None:
    """Splits of a remote ARC past its start tell the format from the file's first bytes alone (a ranged
    read, not the read-ahead block of the split's stream) and give the documents of the local file."""
    from contracts.fsio import file_size

    local = arc_file(tmp_path / "remote.arc.gz", responses(web / IAH))
    s3.put(str(local), "crawl/old/remote.arc.gz")
    url = "s3://crawl/old/remote.arc.gz"
    options = Options(split_bytes=400_000)
    splits = READER.plan(url, file_size(url), options)
    assert len(splits) > 3
    tally = Tally()
    remote = [d for split in splits for d in READER.read(split, options, tally)]
    docs, local_tally = read_all(local)
    assert keyed(remote) == keyed(docs)
    assert tally.counts == local_tally.counts


def test_compressed_arc_cut_short_and_odd_header_lines(web: Path, tmp_path: Path) -> None:
    """A .arc.zst cut short keeps the records before the cut and counts the damage; header lines with blanks
    after the length, a URL holding spaces (Common Crawl's 2012 crawler) and a 12-digit date are read."""
    records = responses(web / "dolma-sample-0000.warc.gz")
    plain = arc_file(tmp_path / "whole.arc", records, gz=False).read_bytes()
    whole, _ = read_all(tmp_path / "whole.arc")
    cut = tmp_path / "cut.arc.zst"
    packed = zstandard.ZstdCompressor().compress(plain)
    cut.write_bytes(packed[: len(packed) // 3])
    docs, tally = read_all(cut)
    assert_accounted(tally)
    assert 0 < len(docs) < len(whole)
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in whole[: len(docs)]]
    assert tally.counts["skipped.corrupt_compression"] == 1
    odd = [(url + b" x y", ip, date[:12], mime, block) for url, ip, date, mime, block in records]
    path = arc_file(tmp_path / "odd.arc.gz", odd)
    members_ = members(path.read_bytes())
    path.write_bytes(b"".join(gzip.compress(gzip.decompress(m).replace(b"\n", b" \r\n", 1)) for m in members_))
    docs, tally = read_all(path)
    assert [d.text for d in docs] == [d.text for d in whole] and tally.counts["ignored.warcinfo"] == 1
    assert all(d.url.endswith(" x y") and d.meta["date"].endswith(":00Z") for d in docs)
