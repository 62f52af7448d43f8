"""The ``.tiktoken`` ranks file: one ``base64(token) rank`` line per mergeable token, in rank order.

The tokenize stage writes it (the run's tokenizer and the copy in the token dataset), the token dataset
and model generation read it back, and the Hugging Face export writes it beside the weights: all through
this one reader and one writer, so a file one side accepts the other side accepts too.
"""

from __future__ import annotations

import base64

# GPT-2's pre-tokenisation regex (possessive form, as tiktoken ships it) and cl100k_base's: the tokenize
# stage builds encodings with them, the Hugging Face interop recognises a published ranks file by them.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
                  r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
CL100K_SPECIAL_TOKENS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                         "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}


def ranks_bytes(ranks: dict[bytes, int]) -> bytes:
    """tiktoken's file format, in rank order: the canonical form we hash and write.

    An empty token (some published encodings hold one) is written ``=``, which decodes to ``b""`` as
    tiktoken reads it; its plain base64, the empty string, would leave a line tiktoken cannot split.
    """
    return b"".join((base64.b64encode(token) or b"=") + b" " + str(rank).encode() + b"\n"
                    for token, rank in sorted(ranks.items(), key=lambda item: item[1]))


def parse_ranks(data: bytes | str, origin: str) -> dict[bytes, int]:
    """A ranks file read exactly as ``tiktoken.load.load_tiktoken_bpe`` reads it; ``origin`` names it.

    Same rules as tiktoken's loader: lines split on whitespace into token and rank, blank lines skipped,
    base64 decoded leniently (``=`` is the empty token). tiktoken's loader raises a bare ValueError for
    anything else; we name the file and line. Ranks must be unique, as tiktoken's ``Encoding`` refuses
    duplicates later with a message that names neither.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    ranks: dict[bytes, int] = {}
    seen: dict[int, int] = {}
    for number, line in enumerate(data.splitlines(), 1):
        if not line:
            continue
        try:
            token, rank_text = line.split()
            token_bytes, rank = base64.b64decode(token), int(rank_text)
        except Exception:
            raise ValueError(f"{origin}, line {number}: not a tiktoken ranks line (base64 token, space, rank): "
                             f"{line[:80]!r}; fix or remove the line, or point ranks_path at the encoding's "
                             "original .tiktoken file") from None
        if rank in seen:
            raise ValueError(f"{origin}, line {number}: rank {rank} was already given on line {seen[rank]}; "
                             "each rank must name one token")
        seen[rank] = number
        ranks[token_bytes] = rank
    return ranks
