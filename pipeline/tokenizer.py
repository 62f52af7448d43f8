"""Tokenizers for the tokenize stage: tiktoken encodings from a local ranks file, offline.

A tokenizer is a tiktoken ``Encoding`` built from three things: the mergeable ranks (bytes -> rank, a
``.tiktoken`` file of ``base64(token) rank`` lines), the pre-tokenisation regex and the special tokens.
Its identity (``TokenizerInfo``) hashes the ranks in canonical form, so a dataset records exactly which
tokenizer made it, whether the ranks came from tiktoken's cache, a shared folder or our own BPE trainer
(``pipeline.bpe``). Nothing here touches the network: clusters are often offline, and a tokenizer fetched
at run time could differ from the one the dataset claims.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

# GPT2_PATTERN and CL100K_PATTERN live in contracts (the HF interop needs them too); re-exported here.
from contracts.tiktoken_ranks import (CL100K_PATTERN, CL100K_SPECIAL_TOKENS, GPT2_PATTERN,  # noqa: F401
                                      parse_ranks, ranks_bytes)

ENDOFTEXT = "<|endoftext|>"

# GPT-2's regex with each Han, kana and Hangul character a pre-token of its own. GPT-2's `` ?\p{L}++`` takes
# a whole Chinese clause (no spaces between words) as one piece, so a trained BPE spends ranks on long
# strings of its training text. Measured on a 4,096-rank BPE trained on Chinese and English books and
# zhwiki (bench/README.md): 3 % more tokens on unseen Chinese, 4 % fewer on English, 15x faster training.
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
CJK_CHARS_PATTERN = (rf"""'(?:[sdmt]|ll|ve|re)|[{_CJK}]| ?(?:(?![{_CJK}])\p{{L}})++| ?\p{{N}}++| ?[^\s\p{{L}}\p{{N}}]++|"""
                     r"""\s++$|\s+(?!\S)|\s""")
PRETOKENIZERS = {"gpt2": GPT2_PATTERN, "cjk_chars": CJK_CHARS_PATTERN}

_OPENAI = "https://openaipublic.blob.core.windows.net"


@dataclass(frozen=True)
class KnownEncoding:
    """A published encoding we can load from a local copy of its ranks file."""

    file_name: str  # the name under which we ship / expect the ranks file
    urls: tuple[str, ...]  # where tiktoken downloads it from (its cache is keyed by sha1 of the URL)
    pattern: str
    special_tokens: dict[str, int]


KNOWN_ENCODINGS: dict[str, KnownEncoding] = {
    # gpt2 and r50k_base are the same ranks; tiktoken fetches gpt2 in the data-gym format instead.
    "gpt2": KnownEncoding("gpt2.tiktoken", (f"{_OPENAI}/encodings/r50k_base.tiktoken",), GPT2_PATTERN,
                          {ENDOFTEXT: 50256}),
    "r50k_base": KnownEncoding("gpt2.tiktoken", (f"{_OPENAI}/encodings/r50k_base.tiktoken",), GPT2_PATTERN,
                               {ENDOFTEXT: 50256}),
    "cl100k_base": KnownEncoding("cl100k_base.tiktoken", (f"{_OPENAI}/encodings/cl100k_base.tiktoken",),
                                 CL100K_PATTERN, dict(CL100K_SPECIAL_TOKENS)),
}


class TokenizerUnavailable(FileNotFoundError):
    """A tokenizer's ranks file is not on this machine; the message says where to put it."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TiktokenSpec(Strict):
    """A tiktoken encoding: a published one (gpt2, r50k_base, cl100k_base), loaded from ``ranks_path`` or
    tiktoken's local cache, or the user's own from ``ranks_path`` with its special tokens declared here.

    Example of an own encoding::

        tokenizer: {name: my-bpe, ranks_path: my.tiktoken, special_tokens: {"<|end|>": 32000},
                    eot_token: "<|end|>"}
    """

    kind: Literal["tiktoken"] = "tiktoken"
    name: str = Field("gpt2", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                      description=f"a published encoding ({', '.join(KNOWN_ENCODINGS)}) or your own's name")
    ranks_path: str | None = Field(None, description="local .tiktoken ranks file; relative to the manifest's "
                                   "folder. Without it, tiktoken's cache (TIKTOKEN_CACHE_DIR) is searched")
    pattern: str | None = Field(None, description="pre-tokenisation regex; default: the published encoding's, "
                                "or GPT-2's for an own encoding")
    special_tokens: dict[str, int] | None = Field(None, description="special token name -> id; required for "
                                                  "an own encoding; default: the published encoding's")
    eot_token: str = Field(ENDOFTEXT, min_length=1, description="the special token appended to every document")

    @model_validator(mode="after")
    def _own_encoding_is_complete(self) -> "TiktokenSpec":
        own = self.name not in KNOWN_ENCODINGS
        if own and not self.ranks_path:
            raise ValueError(f"encoding {self.name!r} is not a published one ({', '.join(KNOWN_ENCODINGS)}): "
                             "give its ranks_path")
        if own and self.special_tokens is None:
            raise ValueError(f"own encoding {self.name!r}: declare its special_tokens (name: id), including "
                             f"the end-of-text token (eot_token, default {ENDOFTEXT!r})")
        specials = self.special_tokens if self.special_tokens is not None else KNOWN_ENCODINGS[self.name].special_tokens
        if self.eot_token not in specials:
            raise ValueError(f"eot_token {self.eot_token!r} is not among the special_tokens {sorted(specials)}")
        bad = sorted(name for name, token_id in specials.items() if token_id < 0 or not name)
        if bad:
            raise ValueError(f"special_tokens: {bad} need a non-empty name and an id >= 0")
        ids = list(specials.values())
        if len(set(ids)) != len(ids):
            raise ValueError(f"special_tokens: two tokens share an id: {specials}")
        return self

    def resolved(self) -> tuple[str, dict[str, int]]:
        """The pattern and special tokens in force: the declared ones, else the published encoding's."""
        known = KNOWN_ENCODINGS.get(self.name)
        pattern = self.pattern or (known.pattern if known else GPT2_PATTERN)
        specials = self.special_tokens if self.special_tokens is not None else known.special_tokens  # type: ignore[union-attr]
        return pattern, dict(specials)


class BpeSpec(Strict):
    """A byte-level BPE trained on this run's own training documents (``pipeline.bpe``)."""

    kind: Literal["bpe"] = "bpe"
    name: str = Field("refinery-bpe", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    vocab_size: int = Field(4096, ge=257, le=2**31, description="tokens including <|endoftext|>")
    train_bytes: int = Field(8_000_000, ge=1, description="UTF-8 bytes of training text to learn from")
    train_docs: int | None = Field(None, ge=1, description="at most this many documents, if set")
    pretokenize: Literal["gpt2", "cjk_chars"] = Field("gpt2", description=(
        "the pre-tokenisation regex: GPT-2's, or GPT-2's with every Han/kana/Hangul character a piece of its "
        "own (so no Chinese clause becomes one piece; faster training, see bench/README.md)"))


def _spec_kind(value: Any) -> str:
    """``kind`` may be left out: a spec without one is a published tiktoken encoding."""
    return value.get("kind", "tiktoken") if isinstance(value, dict) else getattr(value, "kind", "tiktoken")


TokenizerSpec = Annotated[Union[Annotated[TiktokenSpec, Tag("tiktoken")], Annotated[BpeSpec, Tag("bpe")]],
                          Discriminator(_spec_kind)]


@dataclass(frozen=True)
class TokenizerInfo:
    """What identifies a tokenizer; recorded in the dataset index and checked by consumers."""

    name: str
    kind: str
    ranks_sha256: str  # of the canonical ranks file (``ranks_bytes``)
    pattern: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    eot_id: int = 0
    n_vocab: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tiktoken_cache_dirs() -> list[Path]:
    """The folders tiktoken reads its cache from, in its own order of preference."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return [Path(os.environ["TIKTOKEN_CACHE_DIR"])] if os.environ["TIKTOKEN_CACHE_DIR"] else []
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return [Path(os.environ["DATA_GYM_CACHE_DIR"])] if os.environ["DATA_GYM_CACHE_DIR"] else []
    return [Path(tempfile.gettempdir()) / "data-gym-cache"]


def find_ranks_file(spec: TiktokenSpec) -> Path:
    """The local ranks file for ``spec``: its ``ranks_path``, else tiktoken's cache entry for its URL."""
    known = KNOWN_ENCODINGS.get(spec.name)
    if spec.ranks_path:
        path = Path(spec.ranks_path)
        if path.is_file():
            return path
        what = (f"Put a copy of {known.file_name} there (samples/tokenizers/ ships gpt2's), or fix the path"
                if known else "Fix the path")
        raise TokenizerUnavailable(
            f"tokenizer {spec.name!r}: ranks file {path} not found (stages.tokenize.tokenizer.ranks_path). "
            f"{what}; relative paths resolve against the manifest's folder")
    if known is None:
        raise TokenizerUnavailable(f"own encoding {spec.name!r} needs stages.tokenize.tokenizer.ranks_path")
    candidates = [d / hashlib.sha1(url.encode()).hexdigest() for d in tiktoken_cache_dirs() for url in known.urls]
    for path in candidates:
        if path.is_file():
            return path
    raise TokenizerUnavailable(
        f"tokenizer {spec.name!r} is not available offline: no ranks_path is set and tiktoken's cache has no "
        f"copy (looked for {', '.join(str(c) for c in candidates) or 'nothing: the cache is disabled'}). "
        f"Set stages.tokenize.tokenizer.ranks_path to a local {known.file_name} (samples/tokenizers/ ships "
        f"gpt2's), or copy that file to {candidates[0] if candidates else '?'}")


class Tokenizer:
    """A tiktoken encoding plus its identity; encodes documents with end-of-text appended."""

    def __init__(self, info: TokenizerInfo, ranks: dict[bytes, int]):
        import tiktoken  # here: every run's manifest imports this module (the tokenize stage's options)

        self.info = info
        self.encoding = tiktoken.Encoding(info.name, pat_str=info.pattern, mergeable_ranks=ranks,
                                          special_tokens=dict(info.special_tokens))
        self.eot_id = info.eot_id

    @classmethod
    def from_ranks(cls, name: str, kind: str, ranks: dict[bytes, int], pattern: str,
                   special_tokens: dict[str, int], eot_token: str = ENDOFTEXT, origin: str = "") -> "Tokenizer":
        if eot_token not in special_tokens:
            raise ValueError(f"tokenizer {name!r} has no {eot_token} special token")
        rank_ids = set(ranks.values())
        clash = sorted((token_id, token) for token, token_id in special_tokens.items() if token_id in rank_ids)
        if clash:
            raise ValueError(f"tokenizer {name!r}: special token {clash[0][1]!r} has id {clash[0][0]}, which is "
                             f"already a rank in {origin or 'the ranks'}; give special tokens ids above the "
                             f"largest rank ({max(rank_ids)})")
        n_vocab = max([*ranks.values(), *special_tokens.values()]) + 1
        info = TokenizerInfo(name=name, kind=kind, ranks_sha256=hashlib.sha256(ranks_bytes(ranks)).hexdigest(),
                             pattern=pattern, special_tokens=dict(sorted(special_tokens.items())),
                             eot_id=special_tokens[eot_token], n_vocab=n_vocab)
        return cls(info, ranks)

    @classmethod
    def from_file(cls, path: str | Path, name: str, kind: str, pattern: str,
                  special_tokens: dict[str, int], eot_token: str = ENDOFTEXT) -> "Tokenizer":
        path = Path(path)
        return cls.from_ranks(name, kind, parse_ranks(path.read_bytes(), str(path)), pattern, special_tokens,
                              eot_token, str(path))

    @property
    def dtype(self) -> np.dtype:
        """The narrowest unsigned type that holds every token id."""
        return np.dtype(np.uint16) if self.info.n_vocab <= 2**16 else np.dtype(np.uint32)

    def ranks(self) -> dict[bytes, int]:
        return dict(self.encoding._mergeable_ranks)

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` as uint32, special-token strings treated as plain text.

        Uses tiktoken's buffer API, which hands back the Rust token buffer without building a Python list.
        """
        return np.frombuffer(self.encoding._core_bpe.encode_to_tiktoken_buffer(text, set()), dtype=np.uint32)

    def encode_documents(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All documents' tokens, each followed by end-of-text, as one array plus per-document lengths."""
        parts: list[np.ndarray] = []
        eot = np.array([self.eot_id], dtype=np.uint32)
        for text in texts:
            parts.append(self.encode(text))
            parts.append(eot)
        lengths = np.fromiter((len(p) for p in parts[0::2]), dtype=np.int64, count=len(texts)) + 1
        values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
        return values.astype(self.dtype, copy=False), lengths

    def decode(self, tokens: Any) -> str:
        return self.encoding.decode(list(map(int, tokens)))


def load_tiktoken(spec: TiktokenSpec) -> Tokenizer:
    """An encoding from its local ranks file; ``TokenizerUnavailable`` says where to put a missing file."""
    pattern, specials = spec.resolved()
    return Tokenizer.from_file(find_ranks_file(spec), spec.name, "tiktoken", pattern, specials, spec.eot_token)


def load_bpe(path: str | Path, name: str, pattern: str = GPT2_PATTERN) -> Tokenizer:
    """A tokenizer trained by ``pipeline.bpe`` with ``pattern``; end-of-text right after the last rank."""
    path = Path(path)
    if not path.is_file():
        raise TokenizerUnavailable(f"trained tokenizer {path} not found; rerun the tokenize stage to train it")
    ranks = parse_ranks(path.read_bytes(), str(path))
    return Tokenizer.from_ranks(name, "bpe", ranks, pattern, {ENDOFTEXT: len(ranks)})
