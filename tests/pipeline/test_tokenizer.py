"""Tokenizers load offline from a ranks file or tiktoken's cache, and say where to put a missing file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pipeline.tokenizer import (TiktokenSpec, TokenizerUnavailable, load_tiktoken, ranks_bytes,
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
    with pytest.raises(TokenizerUnavailable, match=r"nope\.tiktoken not found.*shared/data/tokenizers"):
        load_tiktoken(TiktokenSpec(name="gpt2", ranks_path=str(tmp_path / "nope.tiktoken")))


def test_manifest_spec_kind_defaults_to_tiktoken() -> None:
    from pipeline.stages.tokenize import Options

    assert isinstance(Options.model_validate({"tokenizer": {"name": "gpt2"}}).tokenizer, TiktokenSpec)
    bpe = Options.model_validate({"tokenizer": {"kind": "bpe", "vocab_size": 512}}).tokenizer
    assert bpe.kind == "bpe" and bpe.vocab_size == 512
    with pytest.raises(Exception, match="vocab_size"):
        Options.model_validate({"tokenizer": {"kind": "bpe", "vocab_size": 100}})
