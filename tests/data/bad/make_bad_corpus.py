"""Regenerate the committed bad-input corpus (this folder) from the real corpora in ``shared/data``.

Every file here is a real file damaged in one known way, so a test can say exactly what each must yield
(README.md lists them). Output is deterministic: gzip members are written with ``mtime=0``, bz2 and
Parquet carry no timestamps, and nothing is random. Byte-identical output needs the same zlib, bz2 and
pyarrow versions; the tests assert what the files yield, not their hashes, so a rebuild with other
versions is still valid.

    .venv/bin/python tests/data/bad/make_bad_corpus.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import re
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[3] / "shared" / "data"
MAX_BYTES = 100_000


def gzip_members(data: bytes) -> list[bytes]:
    """The raw gzip members of a .warc.gz (one WARC record each in real crawls)."""
    out, pos = [], 0
    while pos < len(data):
        inflate = zlib.decompressobj(31)
        inflate.decompress(data[pos:])
        end = len(data) - len(inflate.unused_data)
        out.append(data[pos:end])
        pos = end
    return out


def gz(record: bytes) -> bytes:
    return gzip.compress(record, compresslevel=9, mtime=0)


def set_warc_length(record: bytes, delta: int) -> bytes:
    """The same record with its WARC header's Content-Length off by ``delta`` (the block is unchanged)."""
    head_end = record.index(b"\r\n\r\n")
    head = record[:head_end]
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    head = re.sub(rb"(?im)^(content-length: *)\d+", b"\\g<1>" + str(length + delta).encode(), head, count=1)
    return head + record[head_end:]


def truncated_warc(web: Path) -> bytes:
    """dolma-sample-0000: its first 12 members whole, then half of the 13th (a response)."""
    members = gzip_members((web / "dolma-sample-0000.warc.gz").read_bytes())
    assert b"WARC-Type: response" in gzip.decompress(members[12])
    return b"".join(members[:12]) + members[12][: len(members[12]) // 2]


def wrong_length_gz(web: Path) -> bytes:
    """resiliparse excerpt, first 11 records; response 1 claims 10 bytes too few, response 2 50 too many."""
    members = gzip_members((web / "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz").read_bytes())[:11]
    records = [gzip.decompress(m) for m in members]
    responses = [i for i, r in enumerate(records) if b"WARC-Type: response" in r[:2000]]
    short, long_ = responses[0], responses[1]
    records[short] = set_warc_length(records[short], -10)
    records[long_] = set_warc_length(records[long_], +50)
    return b"".join(gz(r) for r in records)


def wrong_length_plain(web: Path) -> bytes:
    """The plain (uncompressed) warcio iana.org WARC whose response claims 300 bytes too few: framing
    must resynchronise at the request record that follows."""
    raw = (web / "warcio-example-iana.org-chunked.warc").read_bytes()
    start = raw.index(b"WARC/1.0\r\nWARC-Type: response")
    end = raw.index(b"WARC/1.0\r\nWARC-Type: request", start)
    return raw[:start] + set_warc_length(raw[start:end], -300) + raw[end:]


def length_too_large_plain(web: Path) -> bytes:
    """The same plain WARC whose response claims 100,000 bytes more than the file holds: a truncated
    record, and the request record inside its claimed length must still be found."""
    raw = (web / "warcio-example-iana.org-chunked.warc").read_bytes()
    start = raw.index(b"WARC/1.0\r\nWARC-Type: response")
    end = raw.index(b"WARC/1.0\r\nWARC-Type: request", start)
    return raw[:start] + set_warc_length(raw[start:end], +100_000) + raw[end:]


def _response_parts(web: Path) -> tuple[bytes, bytes, bytes]:
    """(WARC header, HTTP header, HTML body) of the Escopete response in cc-whirlwind (UTF-8, Aragonese)."""
    raw = gzip.decompress((web / "cc-whirlwind.warc.gz").read_bytes())
    start = raw.index(b"WARC/1.0\r\nWARC-Type: response")
    warc_end = raw.index(b"\r\n\r\n", start) + 4
    http_end = raw.index(b"\r\n\r\n", warc_end) + 4
    length = int(re.search(rb"(?im)^content-length: *(\d+)", raw[start:warc_end]).group(1))
    return raw[start:warc_end], raw[warc_end:http_end], raw[http_end: warc_end + length]


def charset_record(web: Path, tag: str, body: bytes, content_type: bytes, meta: bytes | None) -> bytes:
    """The Escopete response with a new body, HTTP Content-Type and ``<meta charset>`` (None: removed).

    Digests are dropped (they would be wrong) and the record id and URI get ``tag`` so records differ.
    """
    warc_head, http_head, _ = _response_parts(web)
    body = body.replace(b'<meta charset="UTF-8">', b'<meta charset="' + meta + b'">' if meta else b"")
    http_head = re.sub(rb"(?im)^content-type:[^\r\n]*", b"content-type: " + content_type, http_head)
    http_head = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: " + str(len(body)).encode(),
                       http_head)
    block = http_head + body
    warc_head = re.sub(rb"(?im)^WARC-(Payload|Block)-Digest:[^\r\n]*\r\n", b"", warc_head)
    warc_head = re.sub(rb"(?im)^(WARC-Record-ID: <urn:uuid:)[0-9a-f]{8}",
                       b"\\g<1>" + tag.encode().ljust(8, b"0")[:8], warc_head)
    warc_head = re.sub(rb"(?im)^(WARC-Target-URI: [^\r\n]*)", b"\\g<1>?charset-case=" + tag.encode(), warc_head)
    warc_head = re.sub(rb"(?im)^(content-length: *)\d+", b"\\g<1>" + str(len(block)).encode(), warc_head,
                       count=1)
    return warc_head + block + b"\r\n\r\n"


def charsets_warc(web: Path) -> bytes:
    """Four responses of one real page: lying, foreign, missing and unknown charset declarations."""
    _, _, utf8_body = _response_parts(web)
    cp1252_body = utf8_body.decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")
    cases = [
        ("aaaa0001", cp1252_body, b"text/html; charset=UTF-8", b"UTF-8"),  # says UTF-8, is cp1252
        ("aaaa0002", utf8_body, b"text/html; charset=Shift_JIS", b"Shift_JIS"),  # says Shift_JIS, is UTF-8
        ("aaaa0003", cp1252_body, b"text/html", None),  # no declaration anywhere, cp1252 bytes
        ("aaaa0004", utf8_body, b"text/html; charset=x-no-such-charset", b"x-no-such-charset"),
    ]
    return b"".join(gz(charset_record(web, *case)) for case in cases)


def wiki_cut_mid_page(wiki: Path) -> bytes:
    """enwiki-table-markup: the XML cut in the middle of its 4th page, then bz2-compressed whole."""
    xml = bz2.decompress((wiki / "enwiki-table-markup.xml.bz2").read_bytes())
    pages = [m.start() for m in re.finditer(rb"<page>", xml)]
    cut = (pages[3] + pages[4]) // 2
    return bz2.compress(xml[:cut], 9)


def wiki_truncated_stream(wiki: Path) -> bytes:
    """enwiki-table-markup recompressed with 100 kB bz2 blocks, the compressed bytes cut inside block 3:
    the first two blocks decompress, then the stream ends early (a download cut short)."""
    xml = bz2.decompress((wiki / "enwiki-table-markup.xml.bz2").read_bytes())
    packed = bz2.compress(xml, 1)
    return packed[: len(packed) * 5 // 6]


def garbage(wiki: Path) -> bytes:
    """8 kB from the middle of a real bz2 dump: binary noise that is not gzip, named .warc.gz."""
    data = (wiki / "enwiki-table-markup.xml.bz2").read_bytes()
    return data[20_000:28_192]


def invalid_lines_jsonl(books: Path) -> bytes:
    """Five real paragraphs of the-verdict as good lines, mixed with one line per way a line can be bad."""
    text = (books / "the-verdict.txt").read_text(encoding="utf-8")
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if len(p) > 300][:5]
    good = [json.dumps({"id": f"verdict-{i}", "text": p}).encode() for i, p in enumerate(paras)]
    bad = [
        b'{"id": "bad-json", "text": "an unterminated string',  # invalid_json
        b"[1, 2, 3]",  # not_an_object
        b'{"id": "no-text", "body": "' + paras[0][:60].encode() + b'"}',  # missing_text
        b'{"id": "null-text", "text": null}',  # missing_text
        b'{"id": "int-text", "text": 42}',  # text_not_string
        b'{"id": "blank-text", "text": "   \\n\\t "}',  # empty_text
        b'{"id": "latin1", "text": "caf\xe9 cr\xe8me"}',  # invalid_utf8 (raw byte)
        b'{"id": "surrogate", "text": "lone \\ud800 surrogate"}',  # invalid_utf8 (escape)
        b'{"id": "invisible", "text": "\\u200b\\u200b\\u00ad"}',  # reader keeps it; cleaning empties it
        b"",  # a blank line: counted, not a skip
    ]
    lines = [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], bad[4], bad[5], good[3], bad[6],
             bad[7], bad[8], bad[9], good[4]]
    # The last line is cut mid-record and has no newline (a file copied while being written).
    return b"\n".join(lines) + b'\n{"id": "cut", "text": "' + paras[0][:40].encode()


def wrong_schema_parquet(books: Path, path: Path) -> None:
    """Real paragraphs in a Parquet file whose text column is called ``body`` (the manifest says text)."""
    text = (books / "the-verdict.txt").read_text(encoding="utf-8")
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if len(p) > 300][:5]
    table = pa.table({"id": [f"verdict-{i}" for i in range(len(paras))], "body": paras})
    pq.write_table(table, path, compression="zstd")


def build(shared: Path, out: Path = HERE) -> dict[str, int]:
    web, wiki, books = shared / "web", shared / "wiki", shared / "books"
    files = {
        "web-truncated.warc.gz": truncated_warc(web),
        "web-wrong-length.warc.gz": wrong_length_gz(web),
        "web-wrong-length.warc": wrong_length_plain(web),
        "web-length-too-large.warc": length_too_large_plain(web),
        "web-charsets.warc.gz": charsets_warc(web),
        "web-garbage.warc.gz": garbage(wiki),
        "wiki-cut-mid-page.xml.bz2": wiki_cut_mid_page(wiki),
        "wiki-truncated-stream.xml.bz2": wiki_truncated_stream(wiki),
        "docs-invalid-lines.jsonl": invalid_lines_jsonl(books),
        "empty.warc.gz": b"",
        "empty.xml.bz2": b"",
        "empty.txt": b"",
        "empty.jsonl": b"",
        "empty.parquet": b"",
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    wrong_schema_parquet(books, out / "wrong-schema.parquet")
    sizes = {name: (out / name).stat().st_size for name in [*files, "wrong-schema.parquet"]}
    too_big = {n: s for n, s in sizes.items() if s >= MAX_BYTES}
    if too_big:
        raise SystemExit(f"files over {MAX_BYTES} bytes: {too_big}")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/data folder")
    args = parser.parse_args()
    for name, size in build(args.shared).items():
        print(f"{size:>8,}  {name}")


if __name__ == "__main__":
    main()
