"""Tokenizers load offline from a ranks file or tiktoken's cache, and say where to put a missing file."""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pytest

from contracts.tiktoken_ranks import ranks_bytes
from pipeline.tokenizer import (ENDOFTEXT, GPT2_PATTERN, TiktokenSpec, TokenizerUnavailable, load_tiktoken,
                                tiktoken_cache_dirs)


def test_gpt2_from_ranks_file_round_trips_real_text(shared_data: Path) -> None:
    tok = load_tiktoken(TiktokenSpec(name="gpt2", ranks_path=str(shared_data / "tokenizers/gpt2.tiktoken")))
    text = (shared_data / "books/the-verdict.txt").read_text(encoding="utf-8")
    tokens = tok.encode(text)
    assert tok.decode(tokens) == text
    assert tok.encode("Hello world").tolist() == [15496, 995]  # GPT-2's well-known ids
    assert tok.encode("<|endoftext|>").tolist() != [50256]  # special strings in text stay plain text
    info = tok.info
    assert (info.eot_id, info.n_vocab, tok.dtype.name) == (50256, 50257, "uint16")
    canonical = ranks_bytes(tok.ranks())
    assert info.ranks_sha256 == hashlib.sha256(canonical).hexdigest()
    assert canonical == (shared_data / "tokenizers/gpt2.tiktoken").read_bytes()


def test_cl100k_needs_uint32(shared_data: Path) -> None:
    tok = load_tiktoken(TiktokenSpec(name="cl100k_base",
                                     ranks_path=str(shared_data / "tokenizers/cl100k_base.tiktoken")))
    assert tok.dtype.name == "uint32" and tok.info.eot_id == 100257
    assert tok.decode(tok.encode("naïve café 123456")) == "naïve café 123456"


def test_found_in_tiktoken_cache(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    key = hashlib.sha1(b"https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken").hexdigest()
    shutil.copy(shared_data / "tokenizers/gpt2.tiktoken", tmp_path / key)
    assert tiktoken_cache_dirs() == [tmp_path]
    assert load_tiktoken(TiktokenSpec(name="gpt2")).info.n_vocab == 50257


def test_missing_offline_says_where_to_put_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    with pytest.raises(TokenizerUnavailable) as err:
        load_tiktoken(TiktokenSpec(name="gpt2"))
    message = str(err.value)
    assert "not available offline" in message and "ranks_path" in message and "gpt2.tiktoken" in message
    assert str(tmp_path / "empty-cache") in message
    with pytest.raises(TokenizerUnavailable, match=r"nope\.tiktoken not found.*samples/tokenizers"):
        load_tiktoken(TiktokenSpec(name="gpt2", ranks_path=str(tmp_path / "nope.tiktoken")))


def test_manifest_spec_kind_defaults_to_tiktoken() -> None:
    from pipeline.stages.tokenize import Options

    assert isinstance(Options.model_validate({"tokenizer": {"name": "gpt2"}}).tokenizer, TiktokenSpec)
    bpe = Options.model_validate({"tokenizer": {"kind": "bpe", "vocab_size": 512}}).tokenizer
    assert bpe.kind == "bpe" and bpe.vocab_size == 512
    with pytest.raises(Exception, match="vocab_size"):
        Options.model_validate({"tokenizer": {"kind": "bpe", "vocab_size": 100}})


def _small_ranks_file(path: Path, extra: list[bytes]) -> Path:
    """256 single bytes, then ``extra`` lines as written (e.g. ``b"= 256"``: an empty token)."""
    lines = [base64.b64encode(bytes([b])) + b" " + str(b).encode() for b in range(256)]
    path.write_bytes(b"\n".join(lines + extra) + b"\n")
    return path


def test_own_encoding_with_an_empty_token_loads_and_round_trips(tmp_path: Path) -> None:
    """Some published encodings hold one rank whose token is empty (``=``); such a file loads as an encoding."""
    path = _small_ranks_file(tmp_path / "own.tiktoken", [b"= 256", base64.b64encode(b"ab") + b" 257"])
    tok = load_tiktoken(TiktokenSpec(name="own", ranks_path=str(path), special_tokens={ENDOFTEXT: 258}))
    assert tok.decode(tok.encode("abab cab")) == "abab cab" and tok.info.n_vocab == 259


def test_bad_ranks_line_is_named_when_the_tokenizer_loads(tmp_path: Path) -> None:
    path = _small_ranks_file(tmp_path / "bad.tiktoken", [b"YWI= 256", b"not-a-rank-line"])
    with pytest.raises(ValueError, match=rf"{path}, line 258: not a tiktoken ranks line"):
        load_tiktoken(TiktokenSpec(name="own", ranks_path=str(path), special_tokens={ENDOFTEXT: 300}))


def test_every_ranks_reader_uses_the_one_parser(tmp_path: Path) -> None:
    """Model generation and the token dataset read ranks files through ``parse_ranks``: same acceptance,
    same error naming file and line."""
    from model.tokenizer import build_tokenizer

    path = _small_ranks_file(tmp_path / "own.tiktoken", [b"= 256"])
    spec = {"name": "own", "ranks_path": str(path), "pattern": GPT2_PATTERN, "special_tokens": {ENDOFTEXT: 257}}
    assert build_tokenizer(spec).encode("hi") == [104, 105]
    assert build_tokenizer({**spec, "ranks": path.read_text()}).n_vocab == 258
    bad = _small_ranks_file(tmp_path / "bad.tiktoken", [b"@@@"])
    with pytest.raises(ValueError, match=rf"{bad}, line 257"):
        build_tokenizer({**spec, "ranks_path": str(bad)})


def test_own_encoding_declares_its_special_tokens(tmp_path: Path) -> None:
    path = _small_ranks_file(tmp_path / "own.tiktoken", [base64.b64encode(b"ab") + b" 256"])
    spec = TiktokenSpec(name="own", ranks_path=str(path), special_tokens={"<|end|>": 300, "<|pad|>": 301},
                        eot_token="<|end|>")
    tok = load_tiktoken(spec)
    assert (tok.info.eot_id, tok.info.special_tokens, tok.info.n_vocab) == (300, {"<|end|>": 300, "<|pad|>": 301}, 302)
    values, lengths = tok.encode_documents(["ab", "b"])
    assert values.tolist() == [256, 300, 98, 300] and lengths.tolist() == [2, 2]
    # a published encoding keeps its own special tokens unless the manifest declares others
    assert TiktokenSpec(name="gpt2").resolved()[1] == {ENDOFTEXT: 50256}


@pytest.mark.parametrize("tokenizer, message", [
    ({"name": "own", "ranks_path": "x.tiktoken"}, "declare its special_tokens"),
    ({"name": "own"}, "give its ranks_path"),
    ({"name": "own", "ranks_path": "x", "special_tokens": {"<|end|>": 9}}, "eot_token '<|endoftext|>' is not among"),
    ({"name": "own", "ranks_path": "x", "special_tokens": {"<|endoftext|>": 9, "<|b|>": 9}}, "share an id"),
])
def test_own_encoding_spec_errors_name_what_is_missing(tokenizer: dict, message: str) -> None:
    from pydantic import ValidationError

    from pipeline.stages.tokenize import Options

    with pytest.raises(ValidationError, match=message):
        Options.model_validate({"tokenizer": tokenizer})


def test_special_token_id_that_is_a_rank_is_refused(tmp_path: Path) -> None:
    path = _small_ranks_file(tmp_path / "own.tiktoken", [])
    with pytest.raises(ValueError, match=rf"'<\|endoftext\|>' has id 255, which is already a rank in {path}"):
        load_tiktoken(TiktokenSpec(name="own", ranks_path=str(path), special_tokens={ENDOFTEXT: 255}))


def test_generation_stops_at_an_own_encoding_s_end_of_text() -> None:
    """A checkpoint records the dataset's eot_id; an own encoding's end-of-text need not be <|endoftext|>."""
    from model.tokenizer import end_of_text_id

    assert end_of_text_id({"special_tokens": {"<|end|>": 300}, "eot_id": 300}) == 300
    assert end_of_text_id({"special_tokens": {ENDOFTEXT: 50256}}) == 50256  # checkpoints without eot_id
    assert end_of_text_id({"special_tokens": {}}) is None
