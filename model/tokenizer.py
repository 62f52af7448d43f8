"""A checkpoint's tokenizer: the tiktoken ``Encoding`` its ``tokenizer`` entry describes, and its
end-of-text id. Every tool that turns a checkpoint's ids into text (generate, serve, fine-tuning, export)
builds it here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tiktoken

from contracts.tiktoken_ranks import parse_ranks  # the project's one ranks parser, as tiktoken reads the file

END_OF_TEXT = "<|endoftext|>"


def build_tokenizer(spec: dict[str, Any], ranks_path: str | Path | None = None) -> tiktoken.Encoding:
    """A tiktoken Encoding from a checkpoint's tokenizer description
    {"name", "ranks_path", "pattern", "special_tokens"}, optionally with "ranks": the .tiktoken file's text
    embedded, so a checkpoint copied to another machine still decodes. ranks_path overrides both the
    embedded ranks and the recorded file."""
    missing = [key for key in ("name", "ranks_path", "pattern") if key not in spec]
    if missing:
        raise KeyError(f"tokenizer description lacks {missing}; it has keys {sorted(spec)}")
    if ranks_path is None and isinstance(spec.get("ranks"), str):
        mergeable_ranks = parse_ranks(spec["ranks"], "the checkpoint's embedded tokenizer ranks")
    else:
        path = Path(ranks_path if ranks_path is not None else spec["ranks_path"])
        if not path.is_file():
            raise FileNotFoundError(f"tokenizer ranks file {path} does not exist; pass --ranks-path to point "
                                    "at a copy of it")
        mergeable_ranks = parse_ranks(path.read_bytes(), str(path))
    return tiktoken.Encoding(name=spec["name"], pat_str=spec["pattern"], mergeable_ranks=mergeable_ranks,
                             special_tokens=dict(spec.get("special_tokens", {})))


def end_of_text_id(spec: dict[str, Any]) -> int | None:
    """The end-of-text id of a checkpoint's tokenizer: its recorded ``eot_id`` (an own encoding may name
    its end-of-text token differently), else the id of ``<|endoftext|>``; None when it has neither."""
    if spec.get("eot_id") is not None:
        return int(spec["eot_id"])
    return spec.get("special_tokens", {}).get(END_OF_TEXT)
