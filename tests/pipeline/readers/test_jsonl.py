"""The JSONL reader: fields, byte-range splits (each line exactly once), compression, bad lines."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest
import zstandard
from pydantic import ValidationError

from contracts.accounting import Tally
from pipeline.documents import Document
from pipeline.readers import get_reader
from pipeline.readers.jsonl import READER, Options


def read_all(path: Path, options: Options, size: int | None = None) -> tuple[list[Document], Tally]:
    size = path.stat().st_size if size is None else size
    tally = Tally()
    docs = [d for split in READER.plan(str(path), size, options) for d in READER.read(split, options, tally)]
    return docs, tally


def write_lines(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_fields_mapped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [
        {"body": "hello", "uid": 7, "link": "https://x.org/1", "name": "One"},
        {"body": "world", "link": ["not", "a", "string"]},
    ])
    opts = Options(text_field="body", id_field="uid", url_field="link", title_field="name")
    (first, second), tally = read_all(path, opts)
    assert (first.key, first.text, first.url, first.title) == ("7", "hello", "https://x.org/1", "One")
    assert first.meta == {"origin": str(path), "record": "line 1", "offset": 0,
                          "content_type": "application/jsonl", "charset": "utf-8"}
    first_len = len(path.read_bytes().split(b"\n")[0]) + 1
    assert second.key == f"a.jsonl:{first_len}" and second.url is None  # no id: basename and byte offset
    assert second.meta["record"] == "line 2" and second.meta["offset"] == first_len
    first.to_row("src")
    assert dict(tally.counts) == {"jsonl.unusable_field.url": 1}  # the list-valued link, read as missing


def test_registered_and_options_strict() -> None:
    assert get_reader("jsonl") is READER
    with pytest.raises(ValidationError):
        Options(text="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Options(split_bytes=0)


def corpus(tmp_path: Path, n: int = 120) -> Path:
    """Lines of very different lengths, multi-byte characters, and no id field."""
    records = [{"text": f"doc {i} " + "é€😀x" * (i % 17) + "y" * (i * 7 % 113)} for i in range(n)]
    return write_lines(tmp_path / "big.jsonl", records)


@pytest.mark.parametrize("split_bytes", [1, 7, 64, 333, 4096, 10**9])
def test_every_line_read_exactly_once_whatever_the_split_size(tmp_path: Path, split_bytes: int) -> None:
    path = corpus(tmp_path)
    whole, _ = read_all(path, Options(split_bytes=10**9))
    assert len(whole) == 120
    docs, tally = read_all(path, Options(split_bytes=split_bytes))
    assert [d.text for d in docs] == [d.text for d in whole]  # in order, none lost, none twice
    assert [d.key for d in docs] == [d.key for d in whole]  # ids do not depend on the split layout
    assert not tally.counts


def test_split_boundary_exactly_at_a_line_start(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "even.jsonl", [{"text": f"d{i}"} for i in range(10)])  # 14-byte lines
    line = len(path.read_bytes()) // 10
    splits = READER.plan(str(path), path.stat().st_size, Options(split_bytes=line))
    assert len(splits) == 10
    per_split = [[d.text for d in READER.read(s, Options(), Tally())] for s in splits]
    assert per_split == [[f"d{i}"] for i in range(10)]


def test_bad_lines_are_counted_skips_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([
        b'{"text": "good one"}',
        b'{"text": "broken"',
        b'{"other": 1}',
        b'{"text": 42}',
        b'{"text": "caf\xe9"}',  # latin-1 byte inside UTF-8 JSON
        b"[1, 2]",
        b"",
        b'{"text": "   "}',
        b'{"text": null}',
        b'{"text": "lone \\ud800 surrogate"}',
        b'{"text": "good two", "id": "\\udc00", "title": "pair \\ud83d\\ude00 ok"}',
    ]) + b"\n")
    docs, tally = read_all(path, Options(title_field="title"))
    assert [d.text for d in docs] == ["good one", "good two"]
    assert docs[1].meta["record"] == "line 11"
    assert docs[1].title == "pair \U0001f600 ok" and docs[1].key.startswith("bad.jsonl:")  # bad id dropped
    assert tally.counts["skipped.invalid_utf8"] == 2
    for reason, line in [("invalid_json", 2), ("missing_text", 3), ("text_not_string", 4), ("invalid_utf8", 5),
                         ("not_an_object", 6), ("empty_text", 8)]:
        assert tally.examples[reason][0]["record"] == f"line {line}", reason
        assert tally.examples[reason][0]["file"] == str(path)
    assert tally.counts["skipped.missing_text"] == 2  # absent and null
    assert tally.counts["jsonl.blank_lines"] == 1
    assert tally.counts["jsonl.unusable_field.id"] == 1  # the lone-surrogate id: keyed by offset, counted


def test_records_in_later_splits_are_named_by_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    good = b'{"text": "' + b"x" * 50 + b'"}\n'
    path.write_bytes(good * 3 + b"not json\n")
    docs, tally = read_all(path, Options(split_bytes=len(good)))
    assert len(docs) == 3 and docs[2].meta["record"] == f"byte {2 * len(good)}"
    assert tally.examples["invalid_json"][0]["record"] == f"byte {3 * len(good)}"


def test_crlf_bom_and_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "one"}\r\n{"text": "two"}')
    docs, tally = read_all(path, Options())
    assert [d.text for d in docs] == ["one", "two"] and not tally.counts


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress),
                                               (".zst", zstandard.ZstdCompressor().compress)])
def test_compressed_file_is_one_split(tmp_path: Path, suffix: str, compress) -> None:
    plain = corpus(tmp_path, 50)
    path = tmp_path / f"big.jsonl{suffix}"
    path.write_bytes(compress(plain.read_bytes()))
    splits = READER.plan(str(path), path.stat().st_size, Options(split_bytes=16))
    assert len(splits) == 1
    docs, tally = read_all(path, Options(split_bytes=16))
    expected, _ = read_all(plain, Options())
    assert [d.key for d in docs] == [d.key.replace("big.jsonl", f"big.jsonl{suffix}") for d in expected]
    assert docs[49].meta["record"] == "line 50" and docs[49].meta["offset"] is None
    assert not tally.counts


def test_corrupt_archive_is_a_counted_skip(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(b"this is not gzip")
    docs, tally = read_all(path, Options())
    assert docs == [] and tally.counts["skipped.corrupt_file"] == 1


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    docs, tally = read_all(path, Options())
    assert docs == [] and tally.counts == {"skipped.empty_file": 1}


def test_missing_file_raises_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gone.jsonl"):
        read_all(tmp_path / "gone.jsonl", Options(), size=0)
