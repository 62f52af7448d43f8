"""The ``.tiktoken`` ranks file: read exactly as tiktoken reads it, written in one canonical form."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import tiktoken.load

from contracts.tiktoken_ranks import parse_ranks, ranks_bytes


def _ranks_file(path: Path, extra: list[bytes]) -> Path:
    """256 single bytes, then ``extra`` lines as written (e.g. ``b"= 256"``: an empty token)."""
    lines = [base64.b64encode(bytes([b])) + b" " + str(b).encode() for b in range(256)]
    path.write_bytes(b"\n".join(lines + extra) + b"\n")
    return path


def test_gpt2_ranks_read_as_tiktoken_reads_them_and_write_back_byte_identical(shared_data: Path) -> None:
    path = shared_data / "tokenizers" / "gpt2.tiktoken"
    ours = parse_ranks(path.read_bytes(), str(path))
    assert ours == tiktoken.load.load_tiktoken_bpe(str(path)) and len(ours) == 50256
    assert parse_ranks(ranks_bytes(ours), "canonical") == ours
    assert ranks_bytes(parse_ranks(ranks_bytes(ours), "canonical")) == ranks_bytes(ours)


def test_an_empty_token_reads_and_writes_as_tiktoken_does(tmp_path: Path) -> None:
    """Some published encodings hold one rank whose token is empty (``=``); tiktoken's loader accepts it."""
    path = _ranks_file(tmp_path / "own.tiktoken", [b"= 256", base64.b64encode(b"ab") + b" 257"])
    ours = parse_ranks(path.read_bytes(), str(path))
    assert ours == tiktoken.load.load_tiktoken_bpe(str(path)) and ours[b""] == 256
    canonical = tmp_path / "canonical.tiktoken"
    canonical.write_bytes(ranks_bytes(ours))
    assert b"\n= 256\n" in canonical.read_bytes()  # plain base64 of b"" would be an unsplittable line
    assert tiktoken.load.load_tiktoken_bpe(str(canonical)) == ours


def test_text_and_bytes_read_alike_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = _ranks_file(tmp_path / "own.tiktoken", [b"", base64.b64encode(b"ab") + b" 256", b""])
    assert parse_ranks(path.read_text(), "text") == parse_ranks(path.read_bytes(), "bytes")
    assert len(parse_ranks(path.read_bytes(), "bytes")) == 257


@pytest.mark.parametrize("extra, message", [
    ([b"YWI= 256", b"not-a-rank-line"], "line 258: not a tiktoken ranks line"),
    ([b"YWI= 256 7"], "line 257: not a tiktoken ranks line"),
    ([b"YWI= twelve"], "line 257: not a tiktoken ranks line"),
    ([b"YWI= 12"], "line 257: rank 12 was already given on line 13"),
])
def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path, extra: list[bytes], message: str) -> None:
    path = _ranks_file(tmp_path / "bad.tiktoken", extra)
    with pytest.raises(ValueError, match=rf"{path}, {message}"):
        parse_ranks(path.read_bytes(), str(path))
