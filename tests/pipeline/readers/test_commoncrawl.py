"""commoncrawl reader: real WARC/WET files, byte-range splits, damaged input, crawl listings."""

from __future__ import annotations

import gzip
import http.server
import shutil
import threading
import zlib
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
import zstandard

from contracts.accounting import Tally
from pipeline.readers.base import Split
from pipeline.readers.commoncrawl import READER, Options, resolve_crawl
from tests.pipeline.readers.test_warc_zstd import records_of

IAH = "IAH-20080430204825-00000-blackbook.warc.gz"  # WARC 0.17, Heritrix 2008


def read_all(path: Path | str, options: Options | None = None) -> tuple[list, Tally]:
    options = options or Options()
    tally = Tally()
    size = Path(path).stat().st_size
    docs = [d for split in READER.plan(str(path), size, options) for d in READER.read(split, options, tally)]
    return docs, tally


def assert_accounted(tally: Tally) -> None:
    """Every record is a document, an ignored non-page record or a counted skip."""
    c = tally.counts
    parts = c["documents"] + sum(v for k, v in c.items() if k.startswith(("ignored.", "skipped.")))
    assert c["records"] + c["skipped.empty_file"] == parts


def members(data: bytes) -> list[bytes]:
    """The raw gzip members of a .warc.gz, to build damaged copies of real files."""
    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        out.append(data[pos:end])
        pos = end
    return out


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Path:
    return shared_data / "web"


def warcio_types(path: Path) -> Counter:
    """Records per WARC-Type as warcio, an independent reader, sees them (ARC records read as WARC)."""
    from warcio.archiveiterator import ArchiveIterator  # test extra: an independent WARC parser

    with open(path, "rb") as fh:
        return Counter(record.rec_type for record in ArchiveIterator(fh, arc2warc=True))


# The document counts are what this reader extracts (a page with main text after boilerplate removal):
# no independent reader decides that, so they stay pinned as regression values. Every record count is
# checked against warcio below.
@pytest.mark.parametrize("name, docs", [
    (IAH, 93),
    ("pywb-iana.warc.gz", 16),
    ("dolma-sample-0000.warc.gz", 22),
    ("resiliparse-CC-MAIN-2020-34-excerpt.warc.gz", 16),
    ("warcio-example.warc.gz", 1),
    ("warcio-example-iana.org-chunked.warc", 1),
    ("cc-whirlwind.warc.wet.gz", 1),
])
def test_real_files_counts_and_accounting(web: Path, name: str, docs: int) -> None:
    got, tally = read_all(web / name)
    types = warcio_types(web / name)
    c = tally.counts
    assert c["records"] == sum(types.values())
    for kind in ("warcinfo", "request", "metadata", "resource", "revisit"):  # no resource here is a web page
        assert c[f"ignored.{kind}"] == types[kind], kind
    from_pages = c["documents"] + sum(v for k, v in c.items() if k.startswith("skipped."))
    assert from_pages == types["response"] + types["conversion"]  # every page record is a doc or a skip
    assert len(got) == docs == c["documents"]
    assert_accounted(tally)
    for doc in got:
        assert doc.key.startswith("<urn:") and doc.meta["record"] == doc.key
        assert doc.meta["origin"] == str(web / name) and isinstance(doc.meta["offset"], int)
        assert doc.text.strip() and doc.url and not doc.url.startswith("<")
        doc.to_row("commoncrawl")  # meta fields fit the schema


def _warcio_statuses(path: Path) -> Counter:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        return Counter(r.http_headers.get_statuscode() for r in ArchiveIterator(fh)
                       if r.rec_type == "response" and r.http_headers)


def test_skip_reasons_on_real_archive(web: Path) -> None:
    _, tally = read_all(web / "pywb-iana.warc.gz")
    c, types = tally.counts, warcio_types(web / "pywb-iana.warc.gz")
    assert c["ignored.revisit"] == types["revisit"] > 0 and "skipped.not_response" not in c  # not damage
    statuses = _warcio_statuses(web / "pywb-iana.warc.gz")
    assert c["skipped.not_html"] > 0 and c["skipped.http_status"] == sum(statuses.values()) - statuses["200"] > 0
    assert c["ignored.request"] == types["request"] > 0
    # archive.org kept "Transfer-Encoding: chunked" on de-chunked payloads: taken as stored, not lost
    assert c["http_decode_fallback"] > 0
    assert tally.examples["http_status"][0]["record"].startswith("<urn:")


def test_main_text_without_navigation(web: Path) -> None:
    (doc,), _ = read_all(web / "cc-whirlwind.warc.gz")
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete"
    assert "Escopete ye un municipio" in doc.text
    assert "Menú principal" not in doc.text and "Ir al contenido" not in doc.text  # wiki navigation
    assert doc.title.startswith("Escopete")
    assert doc.meta["date"] == "2024-05-18T01:58:10Z" and doc.meta["content_type"] == "text/html"
    assert doc.meta["charset"] == "utf-8" and doc.meta["offset"] == 1023


def test_wet_text_as_is(web: Path) -> None:
    (doc,), tally = read_all(web / "cc-whirlwind.warc.wet.gz")
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete"
    assert doc.text.startswith("Escopete - Biquipedia") and "Menú principal" in doc.text  # not re-extracted
    assert doc.meta["content_type"] == "text/plain"
    assert tally.counts["ignored.warcinfo"] == 1
    none, tally = read_all(web / "cc-whirlwind.warc.wet.gz", Options(format="warc"))
    assert none == [] and tally.counts["skipped.not_response"] == 1


def test_uncompressed_chunked_warc(web: Path) -> None:
    (doc,), _ = read_all(web / "warcio-example-iana.org-chunked.warc")
    assert doc.url == "http://www.iana.org/" and doc.meta["offset"] == 405
    assert "Management of the DNS Root Zone" in doc.text


def test_warc_017_from_2008(web: Path) -> None:
    docs, _ = read_all(web / IAH)
    assert all(d.meta["date"].startswith("2008-04-30") for d in docs)
    assert "www.archive.org" in {d.url.split("/")[2] for d in docs}


def keyed(docs: list) -> list[tuple]:
    return [(d.key, d.meta["offset"], d.text) for d in docs]


@pytest.mark.parametrize("split_bytes", [50_000, 333_333])
def test_splits_equal_whole_file_gzip(web: Path, split_bytes: int) -> None:
    whole, whole_tally = read_all(web / IAH)
    parts, tally = read_all(web / IAH, Options(split_bytes=split_bytes))
    assert len(READER.plan(str(web / IAH), (web / IAH).stat().st_size, Options(split_bytes=split_bytes))) > 5
    assert keyed(parts) == keyed(whole)
    assert tally.counts == whole_tally.counts


def test_splits_equal_whole_file_plain(web: Path, tmp_path: Path) -> None:
    plain = tmp_path / "iah.warc"
    plain.write_bytes(gzip.decompress((web / IAH).read_bytes()))
    whole, whole_tally = read_all(plain)
    assert len(whole) == 93
    parts, tally = read_all(plain, Options(split_bytes=123_457))
    assert keyed(parts) == keyed(whole) and tally.counts == whole_tally.counts
    small = web / "warcio-example-iana.org-chunked.warc"
    assert keyed(read_all(small, Options(split_bytes=1000))[0]) == keyed(read_all(small)[0])


def test_zstd_one_frame_is_read_by_its_first_split_with_the_same_documents(web: Path, tmp_path: Path) -> None:
    """The zstd CLI's default, one frame for the whole file: planned in byte ranges as any .warc.zst, but no
    later split finds a frame start, so the first reads it all; offsets are the frame's (tests: test_warc_zstd)."""
    src = web / "dolma-sample-0000.warc.gz"
    zst = tmp_path / "sample.warc.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(gzip.decompress(src.read_bytes())))
    assert len(READER.plan(str(zst), zst.stat().st_size, Options(split_bytes=1000))) > 1
    docs, _ = read_all(zst, Options(split_bytes=1000))
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in read_all(src)[0]]
    assert all(d.meta["offset"] == 0 for d in docs)


@pytest.mark.parametrize("compressed_dict", [False, True], ids=["raw-dict", "zstd-dict"])
def test_a_warc_zst_with_its_dictionary_frame_reads_every_record(web: Path, tmp_path: Path,
                                                                 compressed_dict: bool) -> None:
    """IIPC's WARC zstd format as ArchiveTeam's wget-at writes it: a skippable frame (magic 0x184D2A5D) holding
    the dictionary, itself zstd-compressed or not, then one frame per record compressed with it. Before, no
    frame decoded without the dictionary and the whole file was one ``corrupt_compression``. Built here from
    a real WARC's records (no such file is shared); a file cut inside the dictionary frame is damage."""
    src = web / IAH
    records = records_of(src.read_bytes())
    dictionary = zstandard.train_dictionary(16384, records[:400])
    raw = dictionary.as_bytes()
    payload = zstandard.ZstdCompressor().compress(raw) if compressed_dict else raw
    frame = b"\x5d\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload
    compress = zstandard.ZstdCompressor(level=3, dict_data=dictionary).compress
    zst = tmp_path / "archiveteam.warc.zst"
    zst.write_bytes(frame + b"".join(compress(r) for r in records))
    docs, tally = read_all(zst)
    want, want_tally = read_all(src)
    assert len(docs) > 50 and [d.text for d in docs] == [d.text for d in want]
    assert "skipped.corrupt_compression" not in tally.counts
    assert tally.counts["records"] == want_tally.counts["records"]
    cut = tmp_path / "cut.warc.zst"
    cut.write_bytes(zst.read_bytes()[:len(frame) // 2])
    docs, tally = read_all(cut)
    assert docs == [] and tally.counts["skipped.corrupt_compression"] == 1


# --- damaged input --------------------------------------------------------------------------------


def test_truncated_gzip_keeps_records_before(web: Path, tmp_path: Path) -> None:
    data = (web / IAH).read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2])
    docs, tally = read_all(cut)
    whole, _ = read_all(web / IAH)
    assert 30 < len(docs) < 93 and keyed(docs) == keyed(whole)[: len(docs)]
    assert tally.counts["skipped.truncated_gzip"] == 1
    assert_accounted(tally)


def test_real_clipped_file_is_counted(web: Path) -> None:
    docs, tally = read_all(web / "resiliparse-clipped.warc.gz")
    assert docs == [] and tally.counts["skipped.truncated_gzip"] == 1


def test_corrupt_content_length_skips_one_record(web: Path, tmp_path: Path) -> None:
    src = web / "dolma-sample-0000.warc.gz"
    parts = members(src.read_bytes())
    bad_index = next(i for i, m in enumerate(parts) if b"WARC-Type: response" in gzip.decompress(m))
    record = gzip.decompress(parts[bad_index])
    header_end = record.index(b"\r\n\r\n")
    length = int(record[:header_end].split(b"Content-Length: ")[1].split(b"\r\n")[0])
    record = record.replace(f"Content-Length: {length}".encode(), f"Content-Length: {length - 500}".encode(), 1)
    parts[bad_index] = gzip.compress(record)
    path = tmp_path / "bad-length.warc.gz"
    path.write_bytes(b"".join(parts))
    docs, tally = read_all(path)
    assert len(docs) == 21 and tally.counts["skipped.corrupt_record"] == 1
    assert tally.examples["corrupt_record"][0]["record"].startswith("<urn:")
    assert_accounted(tally)
    # the same damage in an uncompressed file: the next records are found again
    plain = tmp_path / "bad-length.warc"
    plain.write_bytes(b"".join(gzip.decompress(m) for m in parts))
    docs, tally = read_all(plain)
    assert len(docs) == 21 and tally.counts["skipped.corrupt_record"] == 1


def test_garbage_between_members_resyncs(web: Path, tmp_path: Path) -> None:
    parts = members((web / "dolma-sample-0000.warc.gz").read_bytes())
    damaged = parts[:10] + [parts[10][: len(parts[10]) // 2], b"\x00garbage" * 100] + parts[11:]
    path = tmp_path / "holes.warc.gz"
    path.write_bytes(b"".join(damaged))
    docs, tally = read_all(path)
    full, _ = read_all(web / "dolma-sample-0000.warc.gz")
    lost = 1 if b"WARC-Type: response" in gzip.decompress(parts[10]) else 0
    assert len(docs) == len(full) - lost
    assert tally.counts["skipped.corrupt_gzip"] + tally.counts["skipped.truncated_gzip"] >= 1
    assert_accounted(tally)
    split_docs, _ = read_all(path, Options(split_bytes=7000))
    assert keyed(split_docs) == keyed(docs)


def test_binary_garbage_and_empty_file(web: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(bytes(range(256)) * 400)
    docs, tally = read_all(garbage, Options(split_bytes=20_000))
    assert docs == [] and tally.counts["skipped.corrupt_record"] == 1
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    docs, tally = read_all(empty)
    assert docs == [] and tally.counts["skipped.empty_file"] == 1


def test_lying_charset_and_invalid_utf8(web: Path, tmp_path: Path) -> None:
    record = gzip.decompress(members((web / "cc-whirlwind.warc.gz").read_bytes())[2])
    head, http = record.split(b"\r\n\r\n", 1)
    http = http.rstrip(b"\r\n")
    http_head, body = http.split(b"\r\n\r\n", 1)
    body = body.replace(b"Escopete ye un", b"Escopete \xff\xfe ye un", 1)  # invalid UTF-8 inside
    http_head = http_head.replace(b"charset=UTF-8", b"charset=utf-8").replace(b"charset=utf-8", b"charset=klingon")
    http = http_head + b"\r\n\r\n" + body
    head = head.replace(head.split(b"Content-Length: ")[1].split(b"\r\n")[0], str(len(http)).encode())
    path = tmp_path / "charset.warc.gz"
    path.write_bytes(gzip.compress(head + b"\r\n\r\n" + http + b"\r\n\r\n"))
    (doc,), tally = read_all(path)
    assert "Escopete" in doc.text and "municipio" in doc.text
    assert doc.meta["charset"]


def test_missing_file_raises_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.warc.gz")
    with pytest.raises(FileNotFoundError, match="nope.warc.gz"):
        list(READER.read(Split(missing), Options(), Tally()))


def test_options_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError):
        Options(splitbytes=1)


# --- crawl listing --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, name, first_words", [("warc", "cc-whirlwind.warc.gz", "Escopete ye un municipio"),
                                                      ("wet", "cc-whirlwind.warc.wet.gz", "Escopete - Biquipedia")])
def test_resolve_crawl_over_http(web: Path, tmp_path: Path, fmt: str, name: str, first_words: str) -> None:
    """Both listings of one crawl served by a real HTTP server on 127.0.0.1; ``format`` picks the listing,
    and the first URL it gives reads as that format."""
    crawl = tmp_path / "crawl-data" / "CC-MAIN-TEST"
    crawl.mkdir(parents=True)
    listed = {}
    for kind, file in (("warc", "cc-whirlwind.warc.gz"), ("wet", "cc-whirlwind.warc.wet.gz")):
        rel = f"crawl-data/CC-MAIN-TEST/segments/1/{kind}/{file}"
        (tmp_path / rel).parent.mkdir(parents=True)
        shutil.copy(web / file, tmp_path / rel)
        listed[kind] = [rel] + [f"crawl-data/CC-MAIN-TEST/segments/{i}/{kind}/x.{kind}.gz" for i in range(2, 6)]
        (crawl / f"{kind}.paths.gz").write_bytes(gzip.compress(("\n".join(listed[kind]) + "\n").encode()))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        urls = resolve_crawl("CC-MAIN-TEST", 3, base_url=base, format=fmt)
        assert urls == [f"{base}/{line}" for line in listed[fmt][:3]]
        (doc,), _ = read_all_url(urls[0])
        assert doc.text.startswith(first_words) if fmt == "wet" else first_words in doc.text
        assert doc.meta["content_type"] == ("text/plain" if fmt == "wet" else "text/html")
        with pytest.raises(FileNotFoundError, match="CC-MAIN-NOPE"):
            resolve_crawl("CC-MAIN-NOPE", 1, base_url=base, format=fmt)
    finally:
        server.shutdown()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    """A real S3-compatible server (moto's server mode) on 127.0.0.1 with one bucket; fsspec's s3 (s3fs)
    reaches it through the standard endpoint settings, as it would reach MinIO or AWS."""
    s3fs = pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer  # test extra: moto[server]

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
                       "FSSPEC_S3_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(endpoint_url=endpoint)
    fs.makedirs("crawl", exist_ok=True)  # moto's store outlives one server: a second test finds the bucket
    try:
        yield fs
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


def test_s3_input_globbed_and_read_in_byte_ranges(web: Path, s3) -> None:
    """s3:// inputs: a glob lists the bucket, sizes come from the server, and byte-range splits of a
    WARC read there give exactly the documents of the local file."""
    from contracts.fsio import expand_paths, file_size

    s3.put(str(web / IAH), f"crawl/web/{IAH}")
    s3.put(str(web / "pywb-iana.warc.gz"), "crawl/web/pywb-iana.warc.gz")
    s3.pipe("crawl/web/notes.txt", b"not a warc")
    paths = expand_paths(["s3://crawl/web/*.warc.gz"])
    assert paths == [f"s3://crawl/web/{IAH}", "s3://crawl/web/pywb-iana.warc.gz"]
    assert file_size(paths[0]) == (web / IAH).stat().st_size
    options = Options(split_bytes=333_333)
    splits = READER.plan(paths[0], file_size(paths[0]), options)
    assert len(splits) > 1
    tally = Tally()
    remote = [d for split in splits for d in READER.read(split, options, tally)]
    local, local_tally = read_all(web / IAH)
    assert keyed(remote) == keyed(local) and tally.counts == local_tally.counts
    with pytest.raises(Exception, match="matches no file"):
        expand_paths(["s3://crawl/nothing/*.warc.gz"])


def read_all_url(url: str) -> tuple[list, Tally]:
    tally = Tally()
    docs = [d for s in READER.plan(url, None, Options()) for d in READER.read(s, Options(), tally)]
    return docs, tally


def test_full_page_fallback_is_counted(web: Path, tmp_path: Path) -> None:
    """A page whose main-content step drops everything (a div#header around the whole page) keeps its text
    through the full-page fallback, and the stage statistics say so."""
    record = gzip.decompress(members((web / "cc-whirlwind.warc.gz").read_bytes())[2])
    head, http = record.split(b"\r\n\r\n", 1)
    http_head = http.rstrip(b"\r\n").split(b"\r\n\r\n", 1)[0]
    prose = b"This paragraph is the page's own text and long enough to count as prose for any extractor. " * 4
    body = b'<html><body><div id="header"><p>' + prose + b"</p><p>" + prose + b"</p></div></body></html>"
    http_head = b"\r\n".join(line for line in http_head.split(b"\r\n")
                             if not line.lower().startswith((b"content-length:", b"transfer-encoding:",
                                                             b"content-encoding:")))
    http = http_head + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    head = head.replace(head.split(b"Content-Length: ")[1].split(b"\r\n")[0], str(len(http)).encode())
    path = tmp_path / "fallback.warc.gz"
    path.write_bytes(gzip.compress(head + b"\r\n\r\n" + http + b"\r\n\r\n"))
    (doc,), tally = read_all(path)
    assert doc.text.count("page's own text") == 8
    assert tally.counts["extract_fallback"] == 1
    assert_accounted(tally)


def test_huge_listing_pages_are_counted_and_the_option_turns_the_rule_off(tmp_path: Path) -> None:
    """A page over ``main_content_max_tags`` is extracted without main-content detection and counted as
    extract_huge_page; with the option null the same page goes through main-content detection, uncounted."""
    rows = "".join(f"<tr><td>Listing entry number {i} with a description long enough to be prose</td></tr>"
                   for i in range(6000))
    body = f"<html><head><title>Listing</title></head><body><table>{rows}</table></body></html>".encode()
    path = _response_warc(tmp_path / "listing.warc.gz", b"HTTP/1.1 200 OK\r\nContent-Type: text/html; "
                          b"charset=utf-8\r\nContent-Length: " + str(len(body)).encode(), body)
    (doc,), tally = read_all(path)
    assert tally.counts["extract_huge_page"] == 1 and "Listing entry number 5999 " in doc.text
    assert_accounted(tally)
    (doc,), tally = read_all(path, Options(main_content_max_tags=None))
    assert "extract_huge_page" not in tally.counts and "Listing entry number 0 " in doc.text


def _response_warc(path: Path, http_head: bytes, body: bytes) -> Path:
    """One WARC/1.0 response record holding ``http_head`` and ``body`` as stored (no re-encoding)."""
    payload = http_head + b"\r\n\r\n" + body
    head = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:0c1ebc3f-1b61-4b1a-9a3c-1f2d3e4f5a6b>\r\n"
            b"WARC-Date: 2018-08-08T14:36:50Z\r\nWARC-Target-URI: http://example.org/zh\r\n"
            b"Content-Type: application/http; msgtype=response\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n")
    path.write_bytes(gzip.compress(head + payload + b"\r\n\r\n"))
    return path


PAGE = ("<html><head><meta charset='gbk'><title>新闻</title></head><body><article><p>"
        + "高贵妃的下线，让网友们少了每日的乐趣来源，但是纵观高贵妃的一生，她的嚣张跋扈也有原因。" * 6
        + "</p></article></body></html>")


@pytest.mark.parametrize("encoding, pack", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
])
def test_dechunked_but_still_compressed_body_is_decoded(tmp_path: Path, encoding: str, pack) -> None:
    # Archived as the servo WARCs store it: Transfer-Encoding chunked in the header, the payload already
    # de-chunked but still Content-Encoded. Taking that payload as stored made binary garbage documents.
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Encoding: " + encoding.encode())
    docs, tally = read_all(_response_warc(tmp_path / "page.warc.gz", head, pack(PAGE.encode("gbk"))))
    assert tally.counts["http_decode_fallback"] == 1 and len(docs) == 1
    assert "高贵妃的下线" in docs[0].text and docs[0].meta["charset"] == "gbk"


def test_compressed_bomb_body_costs_at_most_the_size_limit(tmp_path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip"
    bomb = gzip.compress(b"<p>" + b"a" * (64 << 20), compresslevel=9)
    docs, tally = read_all(_response_warc(tmp_path / "bomb.warc.gz", head, bomb), Options(max_html_bytes=1 << 20))
    assert docs == [] and tally.counts["skipped.too_large"] == 1
    assert tally.examples["too_large"][0]["detail"] == f"{(1 << 20) + 1} bytes"


def test_real_chinese_and_russian_homepages_decode_to_text(web: Path) -> None:
    # The sohu page's body is gzip under a chunked header: it read as binary garbage before.
    for name, url, words in [("servo-zh-sohu-homepage-2018.warc.gz", "http://www.sohu.com/", "高贵妃"),
                             ("servo-zh-sina-homepage-2018.warc.gz", "https://www.sina.com.cn/", "新闻"),
                             ("servo-ru-vk-homepage-cp1251-2018.warc.gz", "https://vk.com/", "VK")]:
        docs, tally = read_all(web / name)
        assert_accounted(tally)
        page = next(d for d in docs if d.url == url)
        assert words in page.text, name
        for doc in docs:  # no document is decompression garbage
            bad = sum(ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\t") for ch in doc.text)
            assert bad <= len(doc.text) // 100, (name, doc.url, doc.text[:80])


def test_a_damaged_utf8_page_keeps_utf8_and_counts_its_bad_bytes(tmp_path: Path) -> None:
    page = PAGE.replace("charset='gbk'", "charset='utf-8'").encode("utf-8")
    cut = page.index("，".encode())  # a character boundary inside the article
    body = page[:cut] + b"\xff" + page[cut:]
    docs, tally = read_all(_response_warc(tmp_path / "damaged.warc.gz",
                                          b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=windows-1252", body))
    (doc,) = docs
    assert doc.meta["charset"] == "utf-8" and "高贵妃的下线" in doc.text and "\ufffd" in doc.text
    assert tally.counts["decode_replaced_bytes"] == 1 and "charset_mismatch" in tally.counts
