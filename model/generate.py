"""Sampling from a GPT, with a KV cache; and `python -m model.generate`, a thin command line on top.

Context-window policy: the prompt (cropped to its last context_length tokens) is run once to fill the KV
cache, then each new token costs one single-position forward. Once the sequence reaches the context
length the cache is dropped and every further step recomputes the last context_length tokens without a
cache, exactly as a cache-free sampler would. Rolling the cache instead would be wrong for learned and
sinusoidal positions, whose cached keys have their absolute positions baked in. So output with and
without the cache is the same token for token, and only speed differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import tiktoken
import torch

from contracts.tiktoken_ranks import parse_ranks
from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error, load_checkpoint
from model.gpt import GPT

END_OF_TEXT = "<|endoftext|>"


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Logits (..., V) with everything below the k-th largest set to -inf. Ties with the k-th value are
    kept, so slightly more than k tokens may survive."""
    if k <= 0:
        raise ValueError(f"top_k must be positive, got {k}")
    k = min(k, logits.size(-1))
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Logits (..., V) restricted to the nucleus (Holtzman et al. 2020): the fewest most-likely tokens whose
    probabilities sum to at least p. The most likely token always survives."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs  # probability of the strictly more likely tokens
    drop_sorted = mass_before >= p  # the nucleus was already complete without this token
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def sample_next(logits: torch.Tensor, temperature: float, top_k: int | None = None, top_p: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """One token id per row of logits (B, V), as (B, 1). Temperature 0 means greedy (argmax)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits.float() / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1, generator=generator)


@torch.inference_mode()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
             generator: torch.Generator | None = None, stop_token: int | None = None,
             use_kv_cache: bool = True) -> torch.Tensor:
    """Continue each row of idx (B, T) by up to max_new_tokens tokens; returns (B, T + new) ids.

    Randomness comes only from `generator` (or a fresh one seeded with `seed`), never the global RNG,
    so a seed reproduces a sample regardless of what else ran. With stop_token, a row that emits it is
    padded with it afterwards, and generation ends early once every row has emitted it. The model is
    put in eval mode for the call and restored afterwards. See the module docstring for what happens when
    the context fills.
    """
    if idx.dim() != 2 or idx.size(1) == 0:
        raise ValueError(f"idx must be (batch, time) with at least one token, got shape {tuple(idx.shape)}")
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if seed is not None:
        generator = torch.Generator(device=idx.device).manual_seed(seed)

    context_length = model.config.context_length
    was_training = model.training
    model.eval()
    try:
        kv_cache = model.new_kv_cache(idx.size(0)) if use_kv_cache else None
        finished = torch.zeros(idx.size(0), dtype=torch.bool, device=idx.device)
        out = idx
        pending = idx[:, -context_length:]  # tokens the cache has not seen yet
        for _ in range(max_new_tokens):
            if kv_cache is not None and kv_cache.pos + pending.size(1) <= context_length:
                logits, _ = model(pending, kv_cache=kv_cache)
            else:
                kv_cache = None  # context full: recompute the cropped window from here on
                logits, _ = model(out[:, -context_length:])
            next_token = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)
            if stop_token is not None:
                next_token = next_token.masked_fill(finished[:, None], stop_token)
                finished |= next_token[:, 0] == stop_token
            out = torch.cat((out, next_token), dim=1)
            pending = next_token
            if stop_token is not None and bool(finished.all()):
                break
    finally:
        model.train(was_training)
    return out


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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.generate",
                                     description="Sample a continuation of a prompt from a checkpoint.")
    parser.add_argument("--checkpoint", required=True, type=Path, help="file written by the trainer")
    parser.add_argument("--prompt", default="", help="text to continue; empty starts from end-of-text")
    parser.add_argument("--max-tokens", type=int, default=100, help="new tokens to generate at most")
    parser.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None, help="fix for a reproducible sample")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    parser.add_argument("--no-stop", action="store_true", help="keep going past end-of-text")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model, checkpoint = load_checkpoint(args.checkpoint)
        if "tokenizer" not in checkpoint:
            raise KeyError(f"checkpoint {args.checkpoint} has no 'tokenizer' entry, so its ids cannot be "
                           "turned into text")
        encoding = build_tokenizer(checkpoint["tokenizer"], args.ranks_path)
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    end_of_text = end_of_text_id(checkpoint["tokenizer"])
    prompt_ids = encoding.encode(args.prompt, allowed_special="all")
    if not prompt_ids:
        if end_of_text is None:
            raise SystemExit(f"empty prompt and the tokenizer has no {END_OF_TEXT} to start from")
        prompt_ids = [end_of_text]
    if max(prompt_ids) >= model.config.vocab_size:
        raise SystemExit(f"prompt token id {max(prompt_ids)} is outside the model's vocabulary of "
                         f"{model.config.vocab_size}: checkpoint and tokenizer do not match")

    model.to(args.device)
    idx = torch.tensor([prompt_ids], dtype=torch.long, device=args.device)
    out = generate(model, idx, args.max_tokens, temperature=args.temperature, top_k=args.top_k,
                   top_p=args.top_p, seed=args.seed, stop_token=None if args.no_stop else end_of_text)
    new_ids = [t for t in out[0, len(prompt_ids):].tolist() if t != end_of_text or args.no_stop]
    new_ids = [t for t in new_ids if t < encoding.n_vocab]  # padded vocab slots have no text
    sys.stdout.write(args.prompt + encoding.decode(new_ids) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
