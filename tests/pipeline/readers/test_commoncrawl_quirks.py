"""commoncrawl reader on real-world WARC quirks, each built around a real page from the shared crawls.

Each case is a quirk other archives hold (old Internet Archive and Heritrix WARCs, wget, other Common
Crawl years): the page either reads as the plain page does, or is a counted skip with a reason."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import brotli
import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from contracts.accounting import Tally
from pipeline.readers.commoncrawl import READER, Options
from tests.pipeline.readers.test_commoncrawl import PAGE  # a Chinese page, sent as GBK below

URL = b"https://an.wikipedia.org/wiki/Escopete"
FIRST_WORDS = "Escopete ye un municipio"
CRLF = b"\r\n"


@pytest.fixture(scope="module")
def web_dir(shared_data: Path) -> Path:
    return shared_data / "web"


@pytest.fixture(scope="module")
def page(shared_data: Path) -> bytes:
    """The HTML body of the real CC-MAIN-2024-22 response in cc-whirlwind.warc.gz (72 kB, UTF-8)."""
    with open(shared_data / "web" / "cc-whirlwind.warc.gz", "rb") as fh:
        (raw,) = [r.reader.read() for r in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False)]
    return raw.split(b"\r\n\r\n", 1)[1]


def record(payload: bytes, *, version: bytes = b"WARC/1.0", eol: bytes = CRLF, rtype: bytes = b"response",
           content_type: bytes = b"application/http; msgtype=response", names=lambda n: n, extra: list | None = None,
           record_id: bytes = b"<urn:uuid:0c1ebc3f-1b61-4b1a-9a3c-1f2d3e4f5a6b>") -> bytes:
    """One WARC record; ``names`` respells the field names, ``eol`` ends the header lines."""
    fields = [(b"WARC-Type", rtype), (b"WARC-Record-ID", record_id), (b"WARC-Date", b"2008-04-30T20:48:25Z"),
              (b"WARC-Target-URI", URL), (b"Content-Type", content_type), *(extra or []),
              (b"Content-Length", str(len(payload)).encode())]
    head = version + eol + b"".join(names(k) + b": " + v + eol for k, v in fields) + eol
    return head + payload + CRLF + CRLF


def http(head: bytes, body: bytes, eol: bytes = CRLF) -> bytes:
    return eol.join(head.split(CRLF)) + eol + eol + body


def read(tmp_path: Path, *records: bytes, gz: bool = True, options: Options | None = None) -> tuple[list, Tally]:
    path = tmp_path / ("in.warc.gz" if gz else "in.warc")
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if gz else b"".join(records))
    options, tally = options or Options(), Tally()
    docs = [d for s in READER.plan(str(path), path.stat().st_size, options) for d in READER.read(s, options, tally)]
    counts = tally.counts
    assert counts["records"] == counts["documents"] + sum(
        v for k, v in counts.items() if k.startswith(("ignored.", "skipped."))), counts
    return docs, tally


OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8"


# --- 1. Content-Encoding ---------------------------------------------------------------------------------

def _raw_deflate(data: bytes) -> bytes:
    return zlib.compress(data)[2:-4]


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("encoding, pack", [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress), ("GZIP", gzip.compress), ("deflate", zlib.compress),
    ("deflate", _raw_deflate), ("br", brotli.compress), ("identity", lambda b: b),
])
def test_content_encodings_are_decoded(tmp_path: Path, page: bytes, encoding: str, pack, chunked: bool) -> None:
    # chunked: the payload stored de-chunked under its original Transfer-Encoding header (FastWARC's own
    # decoding fails and the reader decodes the Content-Encoding itself). A br body there read as a
    # binary-garbage document before.
    head = OK + (b"\r\nTransfer-Encoding: chunked" if chunked else b"") + b"\r\nContent-Encoding: " + encoding.encode()
    (doc,), tally = read(tmp_path, record(http(head, pack(page))))
    assert doc.text.startswith("Escopete") and FIRST_WORDS in doc.text and "decode_replaced_bytes" not in tally.counts


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_plain_body_mislabelled_as_encoded_is_read_as_it_is(tmp_path: Path, page: bytes, encoding: str,
                                                             chunked: bool, bom: bytes) -> None:
    # An archive that stored the decoded body under the original header. deflate with a body starting
    # with a BOM (neither "<" nor space) was a corrupt_record before: both inflates failed.
    head = OK + (b"\r\nTransfer-Encoding: chunked" if chunked else b"") + b"\r\nContent-Encoding: " + encoding.encode()
    (doc,), _ = read(tmp_path, record(http(head, bom + page)))
    assert FIRST_WORDS in doc.text


@pytest.mark.parametrize("encoding, pack", [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)])
def test_a_corrupt_encoded_body_is_a_counted_skip_not_garbage(tmp_path: Path, page: bytes, encoding: str, pack) -> None:
    packed = pack(page)
    broken = packed[:40] + bytes(range(256)) * 8 + packed[2000:]
    head = OK + b"\r\nTransfer-Encoding: chunked\r\nContent-Encoding: " + encoding.encode()
    docs, tally = read(tmp_path, record(http(head, broken)))
    assert docs == [] and tally.counts["skipped.corrupt_record"] == 1
    (example,) = tally.examples["corrupt_record"]
    assert example["record"].startswith("<urn:uuid:") and example["detail"].startswith("HTTP part: ")


def test_a_brotli_bomb_costs_at_most_the_size_limit(tmp_path: Path) -> None:
    head = OK + b"\r\nTransfer-Encoding: chunked\r\nContent-Encoding: br"
    bomb = brotli.compress(b"<p>" + b"a" * (64 << 20))
    docs, tally = read(tmp_path, record(http(head, bomb)), options=Options(max_html_bytes=1 << 20))
    assert docs == [] and tally.examples["too_large"][0]["detail"] == f"{(1 << 20) + 1} bytes"


# --- 2. WARC versions, header spelling, line ends, HTTP status lines ------------------------------------

@pytest.mark.parametrize("version", [b"WARC/0.17", b"WARC/0.18", b"WARC/1.0", b"WARC/1.1"])
def test_warc_versions(tmp_path: Path, page: bytes, version: bytes) -> None:
    (doc,), _ = read(tmp_path, record(http(OK, page), version=version))
    assert FIRST_WORDS in doc.text and doc.url == URL.decode()


def _regzip(data: bytes, filename: str | None) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename=filename or "", mode="wb", fileobj=buf, mtime=1) as out:
        out.write(data)
    return buf.getvalue()


@pytest.mark.parametrize("layout", ["named_members", "one_member"])
def test_gzip_layouts_other_writers_use(tmp_path: Path, web_dir: Path, layout: str) -> None:
    # Members whose gzip header names a file (gzip(1), some writers), and a whole WARC gzipped as one member
    # (``gzip file.warc``): the same documents as the real per-record file, whole and in byte-range splits.
    real = web_dir / "dolma-sample-0000.warc.gz"
    expected, expected_tally = read_files(real)
    data = real.read_bytes()
    if layout == "named_members":
        parts, pos = [], 0
        while pos < len(data):
            inflate = zlib.decompressobj(31)
            parts.append(_regzip(inflate.decompress(data[pos:]), "record.warc"))
            pos = len(data) - len(inflate.unused_data)
        out = b"".join(parts)
    else:
        out = _regzip(gzip.decompress(data), None)
    path = tmp_path / "other.warc.gz"
    path.write_bytes(out)
    for options in (Options(), Options(split_bytes=30_000)):
        docs, tally = read_files(path, options)
        assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in expected]
        assert {k: v for k, v in tally.counts.items()} == dict(expected_tally.counts)


def read_files(path: Path, options: Options | None = None) -> tuple[list, Tally]:
    options, tally = options or Options(), Tally()
    docs = [d for s in READER.plan(str(path), path.stat().st_size, options) for d in READER.read(s, options, tally)]
    return docs, tally


@pytest.mark.parametrize("names", [bytes.lower, bytes.upper, bytes.swapcase])
def test_header_names_in_any_case(tmp_path: Path, page: bytes, names) -> None:
    # FastWARC matches WARC-Type and Content-Length case-sensitively: such records were not_response before.
    (doc,), _ = read(tmp_path, record(http(OK, page), names=names))
    assert FIRST_WORDS in doc.text and doc.url == URL.decode() and doc.key.startswith("<urn:uuid:0c1ebc3f")


@pytest.mark.parametrize("gz", [True, False])
def test_bare_lf_warc_headers(tmp_path: Path, page: bytes, gz: bool) -> None:
    # Bare-LF header lines: framing found no end of header (truncated/corrupt record) before.
    ids = [b"<urn:uuid:%08d-0000-0000-0000-000000000000>" % i for i in range(3)]
    records = [record(http(OK, page), eol=b"\n", record_id=ids[0]), record(http(OK, page), record_id=ids[1]),
               record(http(OK, page), eol=b"\n", record_id=ids[2])]
    docs, _ = read(tmp_path, *records, gz=gz)
    assert [d.key for d in docs] == [i.decode() for i in ids] and all(FIRST_WORDS in d.text for d in docs)


def test_bare_lf_plain_warc_in_byte_range_splits(tmp_path: Path, page: bytes) -> None:
    # A split after the first must find the next bare-LF record boundary, or its records are lost.
    records = [record(http(OK, page), eol=b"\n", record_id=b"<urn:uuid:%d>" % i) for i in range(6)]
    whole, _ = read(tmp_path, *records, gz=False)
    split, _ = read(tmp_path, *records, gz=False, options=Options(split_bytes=100_000))
    assert len(whole) == 6 and [d.key for d in split] == [d.key for d in whole]


@pytest.mark.parametrize("status_line", [b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 200", b"HTTP/1.1 200 "])
@pytest.mark.parametrize("eol", [CRLF, b"\n"])
def test_http_status_lines_and_bare_lf_http_headers(tmp_path: Path, page: bytes, status_line: bytes, eol: bytes) -> None:
    # Bare-LF HTTP headers (old servers, kept as sent by 2000s crawls) were corrupt_record before.
    head = status_line + b"\r\nContent-Type: text/html; charset=UTF-8\r\nServer: Apache/1.3.27"
    (doc,), tally = read(tmp_path, record(http(head, page, eol=eol)))
    assert FIRST_WORDS in doc.text
    assert ("http_lf_headers" in tally.counts) == (eol == b"\n")


def test_a_missing_status_line_is_a_counted_skip_saying_so(tmp_path: Path, page: bytes) -> None:
    docs, tally = read(tmp_path, record(http(b"Content-Type: text/html", page)),
                       record(page, content_type=b"text/html"))
    assert docs == [] and tally.counts["skipped.http_status"] == 2
    details = [e["detail"] for e in tally.examples["http_status"]]
    assert details == ["no HTTP status line (record Content-Type application/http; msgtype=response)",
                       "no HTTP status line (record Content-Type text/html)"]


# --- 3. revisit, segmented, resource records; repeated record ids ----------------------------------------

def test_revisits_are_ignored_by_type_not_damage(web_dir: Path) -> None:
    # pywb-iana: 123 real revisit records (archive.org dedup). They were skipped.not_response before.
    options, tally = Options(), Tally()
    path = web_dir / "pywb-iana.warc.gz"
    for split in READER.plan(str(path), path.stat().st_size, options):
        list(READER.read(split, options, tally))
    assert tally.counts["ignored.revisit"] == 123 and "skipped.not_response" not in tally.counts


def test_segmented_records_are_counted_not_read_as_cut_pages(tmp_path: Path, page: bytes) -> None:
    payload = http(OK, page)
    cut = len(payload) // 2
    first = record(payload[:cut], extra=[(b"WARC-Segment-Number", b"1")])
    rest = record(payload[cut:], rtype=b"continuation", record_id=b"<urn:uuid:2>",
                  extra=[(b"WARC-Segment-Number", b"2"), (b"WARC-Segment-Origin-ID", b"<urn:uuid:0c1ebc3f>"),
                         (b"WARC-Segment-Total-Length", str(len(payload)).encode())])
    docs, tally = read(tmp_path, first, rest)
    assert docs == [] and tally.counts["skipped.segmented_record"] == 1 and tally.counts["ignored.continuation"] == 1
    assert tally.examples["segmented_record"][0]["detail"].startswith("segment 1 of a segmented record")


def test_resource_records_holding_web_pages_are_read(tmp_path: Path, page: bytes, web_dir: Path) -> None:
    # A page archived without an HTTP envelope (warcit, Webrecorder): the page a user wants; it was
    # ignored.resource before. wget's own resource records (metadata:// log and arguments) stay ignored.
    wget_log = [r.reader.read() for r in ArchiveIterator(open(web_dir / "dolma-sample-0000.warc.gz", "rb"),
                                                        record_types=WarcRecordType.resource, parse_http=False)]
    records = [record(page, rtype=b"resource", content_type=b"text/html; charset=utf-8"),
               record(page, rtype=b"resource", content_type=b"text/html", record_id=b"<urn:uuid:9>"),
               *(record(body, rtype=b"resource", content_type=b"text/plain", record_id=b"<urn:uuid:wget-%d>" % i)
                 for i, body in enumerate(wget_log))]
    records[2] = records[2].replace(URL, b"<metadata://gnu.org/software/wget/warc/wget.log>")
    records[3] = records[3].replace(URL, b"<metadata://gnu.org/software/wget/warc/wget_arguments.txt>")
    docs, tally = read(tmp_path, *records)
    assert [d.meta["charset"] for d in docs] == ["utf-8", "utf-8"] and all(FIRST_WORDS in d.text for d in docs)
    assert docs[0].url == URL.decode() and docs[0].title.startswith("Escopete")
    assert tally.counts["resource_pages"] == 2 and tally.counts["ignored.resource"] == 2
    docs, tally = read(tmp_path, *records, options=Options(format="wet"))  # WET sources read conversions only
    assert docs == [] and tally.counts["ignored.resource"] == 4


# --- 4. WET files of other years --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wet_text(web_dir: Path) -> bytes:
    """The text of the real CC-MAIN-2024-22 conversion record in cc-whirlwind.warc.wet.gz."""
    with open(web_dir / "cc-whirlwind.warc.wet.gz", "rb") as fh:
        (text,) = [r.reader.read() for r in ArchiveIterator(fh, record_types=WarcRecordType.conversion)]
    return text


@pytest.mark.parametrize("extra", [
    [],  # 2013-2017 WETs: no identified language
    [(b"WARC-Identified-Content-Language", b"spa")],
    [(b"WARC-Identified-Content-Language", b"spa,eng,cat")],  # several languages, 2018 on
    [(b"WARC-Identified-Content-Language", b"")],
    [(b"WARC-Refers-To", b"<urn:uuid:2aabeff2-67f5-4608-8466-e87c6296e2b6>"),
     (b"WARC-Block-Digest", b"sha1:RDTSR52RUHWDA7QK4BK7OUHU3EXTXYUL")],
])
@pytest.mark.parametrize("content_type", [b"text/plain", b"text/plain; charset=utf-8"])
def test_wet_header_variants(tmp_path: Path, wet_text: bytes, extra: list, content_type: bytes) -> None:
    info = record(b"Software-Info: ia-web-commons.1.1.9-SNAPSHOT\r\nisPartOf: CC-MAIN-2016-07\r\n", rtype=b"warcinfo",
                  content_type=b"application/warc-fields", record_id=b"<urn:uuid:info>")
    (doc,), tally = read(tmp_path, info, record(wet_text, rtype=b"conversion", content_type=content_type, extra=extra))
    assert doc.text == wet_text.decode("utf-8").strip() and doc.url == URL.decode()
    assert doc.meta["content_type"] == "text/plain" and tally.counts["ignored.warcinfo"] == 1


@pytest.mark.parametrize("text", [b"", b"\r\n \n\t", b"\xef\xbb\xbf"])
def test_wet_conversions_with_no_text_are_counted(tmp_path: Path, wet_text: bytes, text: bytes) -> None:
    # CC writes a conversion record for every page, also for the ones it extracted nothing from.
    docs, tally = read(tmp_path, record(text, rtype=b"conversion", content_type=b"text/plain"),
                       record(wet_text, rtype=b"conversion", content_type=b"text/plain", record_id=b"<urn:uuid:2>"))
    assert [d.key for d in docs] == ["<urn:uuid:2>"] and tally.counts["skipped.empty_text"] == 1
    assert tally.examples["empty_text"][0]["record"] == "<urn:uuid:0c1ebc3f-1b61-4b1a-9a3c-1f2d3e4f5a6b>"


def test_a_bom_before_wet_text_is_no_text(tmp_path: Path, wet_text: bytes) -> None:
    (doc,), _ = read(tmp_path, record(b"\xef\xbb\xbf" + wet_text, rtype=b"conversion", content_type=b"text/plain"))
    assert doc.text == wet_text.decode("utf-8").strip()


# --- 5. Content types other than HTML ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def book(shared_data: Path) -> bytes:
    """The start of a real Project Gutenberg plain-text book (CRLF), as gutenberg.org serves it: text/plain."""
    return (shared_data / "books" / "gutenberg-972-the-devils-dictionary.txt").read_bytes()[:20_000]


def test_text_plain_is_skipped_by_default_and_read_as_text_when_asked(tmp_path: Path, book: bytes) -> None:
    # Real crawls' text/plain responses are mostly robots.txt (36 of the 2008 Heritrix crawl's 37): skipped
    # unless a source lists it. Listed, it went through HTML extraction, which ran all its lines into one.
    rec = record(http(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8", book))
    docs, tally = read(tmp_path, rec)
    assert docs == [] and tally.counts["skipped.not_html"] == 1 and tally.counts["not_html_type.text"] == 1
    (doc,), _ = read(tmp_path, rec, options=Options(content_types=["text/html", "text/plain"]))
    assert doc.text == book.decode("utf-8").strip() and doc.meta["content_type"] == "text/plain"
    assert len(doc.text.splitlines()) > 300  # lines kept as lines


def test_xhtml_with_an_xml_declaration(tmp_path: Path, page: bytes) -> None:
    xhtml = page.replace(b"<!DOCTYPE html>", b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC '
                         b'"-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">')
    assert xhtml != page
    (doc,), _ = read(tmp_path, record(http(b"HTTP/1.1 200 OK\r\nContent-Type: application/xhtml+xml", xhtml)))
    assert doc.text.startswith("Escopete") and FIRST_WORDS in doc.text and doc.meta["content_type"] == "application/xhtml+xml"


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\r\n  <!-- served by a 1990s CMS -->\n"])
def test_an_html_page_without_content_type_is_sniffed(tmp_path: Path, page: bytes, prefix: bytes) -> None:
    # A browser shows such a page; it was skipped as not_html "Content-Type None" before.
    (doc,), tally = read(tmp_path, record(http(b"HTTP/1.1 200 OK\r\nServer: Apache", prefix + page)))
    assert FIRST_WORDS in doc.text and doc.meta["content_type"] == "text/html" and tally.counts["content_type_sniffed"] == 1


def test_binaries_and_non_pages_are_counted_by_type(tmp_path: Path, web_dir: Path) -> None:
    # Real images, scripts, a Flash file, XML and empty tracking responses from the shared crawls.
    records = []
    for name in ("IAH-20080430204825-00000-blackbook.warc.gz", "servo-zh-sina-homepage-2018.warc.gz"):
        with open(web_dir / name, "rb") as fh:
            for r in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False):
                head = r.reader.read(1 << 20)
                if b"text/html" not in head.split(b"\r\n\r\n", 1)[0] and head.startswith(b"HTTP/1.1 200"):
                    records.append(record(head, record_id=b"<urn:uuid:%d>" % len(records)))
    docs, tally = read(tmp_path, *records)
    c = tally.counts
    assert docs == [] and c["skipped.not_html"] == len(records) > 100
    assert c["not_html_type.image"] > 50 and c["not_html_type.application"] > 20 and c["not_html_type.none"] == 22
    assert sum(v for k, v in c.items() if k.startswith("not_html_type.")) == len(records)


@pytest.mark.parametrize("label", [b"GB2312", b'"GB2312"', b"'gb2312'", b' "gb2312" '])
def test_a_quoted_charset_label_is_read_without_its_quotes(tmp_path: Path, label: bytes) -> None:
    # HTTP allows charset="..."; the quotes went into meta.charset before ("'gb2312'").
    body = PAGE.replace("<meta charset='gbk'>", "").encode("gbk")
    (doc,), tally = read(tmp_path, record(http(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=" + label, body)))
    assert doc.meta["charset"] == "gb2312" and "高贵妃的下线" in doc.text and "charset_mismatch" not in tally.counts


@pytest.mark.parametrize("encoding, pack", [("gzip", gzip.compress), ("br", brotli.compress)])
def test_an_encoded_body_cut_by_the_crawler_keeps_its_decoded_part(tmp_path: Path, page: bytes, encoding: str,
                                                                   pack) -> None:
    # Crawlers cut payloads at a size limit (WARC-Truncated: length): what decodes is the page's start.
    packed = pack(page)
    head = OK + b"\r\nTransfer-Encoding: chunked\r\nContent-Encoding: " + encoding.encode()
    (doc,), _ = read(tmp_path, record(http(head, packed[: len(packed) * 3 // 4]),
                                      extra=[(b"WARC-Truncated", b"length")]))
    assert FIRST_WORDS in doc.text
