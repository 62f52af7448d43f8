"""Our tiktoken tokenizers as Hugging Face ``tokenizers`` files, and back.

An export writes ``tokenizer.json`` (plus ``tokenizer_config.json`` and ``special_tokens_map.json``), so
``transformers.AutoTokenizer.from_pretrained(folder)`` gives the ids our tokenizer gives, on any text. An
import of a folder that has only a ``tokenizer.json`` turns it back into ranks.

Why the translation is exact:

* tiktoken's BPE merges, again and again, the adjacent pair whose concatenation has the lowest rank. A
  ``tokenizers`` BPE merges the adjacent pair listed first in its merges. So every split of every token into
  two tokens becomes a merge, ordered by the merged token's rank (ties: by the halves' ranks), and both
  pick the same pair at every step.
* tiktoken uses a pre-token that is itself a token whole, without merging (ranks can hold tokens no merge
  sequence reaches). ``ignore_merges`` does the same.
* Bytes are spelled in GPT-2's byte-to-character alphabet (what the ByteLevel pre-tokenizer and decoder
  use), so no text is lost to normalisation.
* The pre-tokenisation regex runs on Oniguruma (Ruby syntax) there and on fancy-regex in tiktoken. Two
  constructs mean something else there (``oniguruma_pattern``): ``$`` is end of *line* in Ruby (tiktoken's
  is end of text: ``\\z``), and ``X{1,3}+`` is not possessive in Ruby but "one or more of X{1,3}", so
  cl100k's digit groups would swallow any number of digits (written as the atomic group ``(?>X{1,3})``).
* Special tokens are also entries of the BPE vocabulary with their ids: ``tokenizers`` numbers an added
  token that the model's vocabulary lacks from the vocabulary's size, which renumbers cl100k's
  ``<|endoftext|>`` (100257) into the gap at 100256.

A special token's text inside a document (``<|endoftext|>`` typed in a page) becomes that special token in
transformers, as in tiktoken's ``encode(text, allowed_special="all")``; the tokenize stage and the
fine-tuners read it as plain text (``encode_ordinary``). Ordinary text gets the same ids either way.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import tiktoken

from contracts.fsio import atomic_write
from contracts.tiktoken_ranks import CL100K_PATTERN, CL100K_SPECIAL_TOKENS, GPT2_PATTERN, ranks_bytes
from model.tokenizer import END_OF_TEXT

HF_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")

# Published encodings recognised by their ranks (sha256 of the canonical ranks file, ``ranks_bytes``), so a
# ranks file named on import gets its own pre-tokenisation regex and special tokens, whatever its file name.
PUBLISHED_RANKS = {
    "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930":
        ("gpt2", GPT2_PATTERN, {END_OF_TEXT: 50256}),
    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7":
        ("cl100k_base", CL100K_PATTERN, dict(CL100K_SPECIAL_TOKENS)),
}
PATTERNS = {"gpt2": GPT2_PATTERN, "cl100k_base": CL100K_PATTERN}


class TokenizerLayoutError(ValueError):
    """A tokenizer.json whose tokenization tiktoken cannot reproduce; the message says what differs."""


def byte_alphabet() -> dict[int, str]:
    """GPT-2's byte -> character map: printable Latin-1 bytes stand for themselves, the other 68 bytes for
    the characters from U+0100 on, so every byte string is a printable string of the same length."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


BYTE_CHARS = byte_alphabet()
CHAR_BYTES = {char: byte for byte, char in BYTE_CHARS.items()}


def spell(token: bytes) -> str:
    return "".join(BYTE_CHARS[b] for b in token)


def unspell(text: str, where: str) -> bytes:
    try:
        return bytes(CHAR_BYTES[c] for c in text)
    except KeyError as error:
        raise TokenizerLayoutError(f"{where}: vocabulary entry {text!r} is not in the byte-level alphabet "
                                   f"(character {error.args[0]!r}): not a byte-level BPE") from None


# One pattern atom: \p{..}, an escape, a character class, a group's closing parenthesis is not handled.
_ATOM = r"(\\[pP]\{\w+\}|\\.|\[(?:\\.|[^\]\\])*\]|[^\\()\[\]|])"


def oniguruma_pattern(pattern: str) -> str:
    """tiktoken's (fancy-regex) pattern written for Oniguruma's Ruby syntax, same matches (module docstring)."""
    pattern = re.sub(_ATOM + r"(\{\d+(?:,\d*)?\})\+", r"(?>\1\2)", pattern)
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\z")
            continue
        out.append(char)
    return "".join(out)


def merges_for(ranks: dict[bytes, int]) -> list[tuple[str, str]]:
    """Every two-token split of every token, in the order tiktoken would merge them (module docstring)."""
    merges = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            if left in ranks and right in ranks:
                merges.append((rank, ranks[left], ranks[right], spell(left), spell(right)))
    merges.sort()
    return [(left, right) for *_, left, right in merges]


def added_token(content: str) -> dict[str, Any]:
    return {"content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
            "special": True}


def tokenizer_json(encoding: tiktoken.Encoding) -> dict[str, Any]:
    """The ``tokenizers`` description of ``encoding``: byte-level BPE, its regex, its special tokens."""
    ranks: dict[bytes, int] = encoding._mergeable_ranks  # tiktoken keeps them; there is no public getter
    specials: dict[str, int] = dict(encoding._special_tokens)
    vocab = {spell(token): rank for token, rank in ranks.items()}
    clash = sorted(name for name in specials if name in vocab)
    if clash:
        raise TokenizerLayoutError(f"special tokens {clash} are spelled like ordinary tokens of the vocabulary")
    vocab.update(specials)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": token_id, **added_token(name)} for name, token_id in sorted(specials.items(),
                                                                                          key=lambda kv: kv[1])],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": oniguruma_pattern(encoding._pat_str)}, "behavior": "Isolated",
             "invert": False}, byte_level]},
        "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": [list(pair) for pair in merges_for(ranks)]},
    }


def write_hf_tokenizer(encoding: tiktoken.Encoding, out_dir: str | Path, context_length: int,
                       end_of_text: str | None) -> list[Path]:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json in out_dir, each atomically.

    ``tokenizer_class`` is the generic fast tokenizer, so transformers takes tokenizer.json as it is rather
    than rebuilding GPT-2's tokenizer (and its regex) from a vocabulary; ``added_tokens_decoder`` repeats
    the special tokens' ids for the same reason.
    """
    out_dir = Path(out_dir)
    specials = dict(encoding._special_tokens)
    eot = end_of_text if end_of_text in specials else None
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": context_length,
              "add_prefix_space": False, "clean_up_tokenization_spaces": False,
              "bos_token": eot, "eos_token": eot, "unk_token": None, "pad_token": None,
              "added_tokens_decoder": {str(token_id): added_token(name) for name, token_id in specials.items()}}
    special_map = {"bos_token": eot, "eos_token": eot} if eot else {}
    written = []
    for name, payload in (("tokenizer.json", tokenizer_json(encoding)), ("tokenizer_config.json", config),
                          ("special_tokens_map.json", special_map)):
        with atomic_write(out_dir / name) as fh:
            fh.write((json.dumps(payload, ensure_ascii=False, indent=None if name == "tokenizer.json" else 2)
                      + "\n").encode("utf-8"))
        written.append(out_dir / name)
    return written


def published_encoding(ranks: dict[bytes, int]) -> tuple[str, str, dict[str, int]] | None:
    """(name, pattern, special tokens) of a published encoding with exactly these ranks, else None."""
    return PUBLISHED_RANKS.get(hashlib.sha256(ranks_bytes(ranks)).hexdigest())


def pattern_from_pretokenizer(pre: dict[str, Any] | None, where: str) -> str:
    """The regex a tokenizer.json splits with: a Split's regex, or GPT-2's for ByteLevel(use_regex=True)."""
    steps = pre.get("pretokenizers", []) if pre and pre.get("type") == "Sequence" else [pre] if pre else []
    regexes = [step["pattern"]["Regex"] for step in steps if step.get("type") == "Split"
               and isinstance(step.get("pattern"), dict) and "Regex" in step["pattern"]
               and step.get("behavior") == "Isolated" and not step.get("invert")]
    byte_levels = [step for step in steps if step.get("type") == "ByteLevel"]
    if len(steps) == 2 and len(regexes) == 1 and byte_levels and not byte_levels[0].get("use_regex", True) \
            and not byte_levels[0].get("add_prefix_space"):
        return regexes[0]
    if len(steps) == 1 and byte_levels and byte_levels[0].get("use_regex", True) \
            and not byte_levels[0].get("add_prefix_space"):
        return GPT2_PATTERN
    raise TokenizerLayoutError(f"{where}: pre-tokenizer {json.dumps(pre)[:200]} is not one tiktoken can "
                               "reproduce (a byte-level split by one regex)")


def ranks_from_tokenizer_json(path: str | Path) -> tuple[dict[bytes, int], str, dict[str, int]]:
    """(ranks, pattern, special tokens) of a byte-level BPE tokenizer.json, or ``TokenizerLayoutError``
    naming what does not fit. Its merges must make tokens in id order: tiktoken merges by rank (= id), so
    a list in another order would tokenize differently (GPT-2's own list is in id order)."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    if model.get("type") != "BPE" or data.get("normalizer") is not None:
        raise TokenizerLayoutError(f"{path}: model {model.get('type')!r} with normalizer "
                                   f"{(data.get('normalizer') or {}).get('type')!r}; only a byte-level BPE without "
                                   "normalizer converts to tiktoken ranks")
    pattern = pattern_from_pretokenizer(data.get("pre_tokenizer"), str(path))
    specials = {token["content"]: int(token["id"]) for token in data.get("added_tokens", [])}
    ranks = {unspell(text, str(path)): int(token_id) for text, token_id in model.get("vocab", {}).items()
             if text not in specials}
    if len(ranks) < 256:
        raise TokenizerLayoutError(f"{path}: {len(ranks)} ordinary tokens, fewer than the 256 bytes a byte-level "
                                   "BPE starts from: the file has no usable vocabulary")
    vocab, last = model.get("vocab", {}), -1
    for number, merge in enumerate(model.get("merges", [])):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        merged = vocab.get(left + right)
        if merged is None or merged < last:
            raise TokenizerLayoutError(f"{path}: merge {number} ({left!r} + {right!r}) is not in the order of "
                                       "the ids it makes; tiktoken merges by id, so it would tokenize differently")
        last = merged
    return ranks, (pattern if pattern == GPT2_PATTERN else fancy_regex_pattern(pattern)), specials


def fancy_regex_pattern(pattern: str) -> str:
    """``oniguruma_pattern`` undone, so an exported pattern comes back as it was written (fancy-regex
    would read ``\\z`` and atomic groups too; this keeps the recorded pattern the original)."""
    return re.sub(r"\(\?>" + _ATOM + r"(\{\d+(?:,\d*)?\})\)", r"\1\2+", pattern).replace(r"\z", "$")
