"""The generation engine: sampling from a GPT with a KV cache, shared by ``python -m model.generate``, the
server (``model.serve``), instruction tuning's sample answers and evaluation.

* ``sample_next``: one token per row from logits, with temperature (0 = greedy), top-k and top-p (nucleus).
* ``next_tokens``: the sampling loop itself, one (B, 1) tensor of new ids per step. Context-window policy:
  the prompt (cropped to its last context_length tokens) is run once to fill the KV cache, then each new
  token costs one single-position forward. Once the sequence reaches the context length the cache is
  dropped and every further step recomputes the last context_length tokens without a cache, exactly as a
  cache-free sampler would. Rolling the cache instead would be wrong for learned and sinusoidal positions,
  whose cached keys have their absolute positions baked in. So output with and without the cache is the
  same token for token, and only speed differs.
* ``generate``: a batch of token sequences in, longer ones out, with an optional stop token.
* ``Engine``: one model with its tokenizer, for text: ``stream_text`` yields decoded text as it is sampled
  and ends at end-of-text, ``max_tokens`` or a stop sequence (never sending any part of the stop sequence).

Randomness comes only from a ``torch.Generator`` seeded per call (``seed``), never the global RNG, so a seed
reproduces a sample whatever else ran in the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import tiktoken
import torch

from model.checkpoint_io import load_checkpoint
from model.gpt import GPT
from model.templates import TEMPLATES
from model.tokenizer import build_tokenizer, end_of_text_id


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


def seeded_generator(device: torch.device, seed: int | None) -> torch.Generator:
    """A generator of its own on ``device``: seeded with ``seed``, or from the OS when there is none."""
    generator = torch.Generator(device=device)
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    return generator


@torch.inference_mode()
def next_tokens(model: GPT, idx: torch.Tensor, max_new_tokens: int, *, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None, generator: torch.Generator | None = None,
                use_kv_cache: bool = True) -> Iterator[torch.Tensor]:
    """The sampling loop: up to ``max_new_tokens`` steps, each yielding the (B, 1) ids sampled for every row
    of idx (B, T). The caller stops early by leaving the loop. The model must already be in eval mode."""
    context_length = model.config.context_length
    kv_cache = model.new_kv_cache(idx.size(0)) if use_kv_cache else None
    out = idx
    pending = idx[:, -context_length:]  # tokens the cache has not seen yet
    for _ in range(max_new_tokens):
        if kv_cache is not None and kv_cache.pos + pending.size(1) <= context_length:
            logits, _ = model(pending, kv_cache=kv_cache)
        else:
            kv_cache = None  # context full: recompute the cropped window from here on
            logits, _ = model(out[:, -context_length:])
        pending = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)
        out = torch.cat((out, pending), dim=1)
        yield pending


@torch.inference_mode()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
             generator: torch.Generator | None = None, stop_token: int | None = None,
             use_kv_cache: bool = True) -> torch.Tensor:
    """Continue each row of idx (B, T) by up to max_new_tokens tokens; returns (B, T + new) ids.

    Randomness comes only from `generator` (or a fresh one seeded with `seed`). With stop_token, a row that
    emits it is padded with it afterwards, and generation ends early once every row has emitted it. The
    model is put in eval mode for the call and restored afterwards.
    """
    if idx.dim() != 2 or idx.size(1) == 0:
        raise ValueError(f"idx must be (batch, time) with at least one token, got shape {tuple(idx.shape)}")
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if seed is not None:
        generator = torch.Generator(device=idx.device).manual_seed(seed)

    was_training = model.training
    model.eval()
    try:
        finished = torch.zeros(idx.size(0), dtype=torch.bool, device=idx.device)
        new: list[torch.Tensor] = []
        for next_token in next_tokens(model, idx, max_new_tokens, temperature=temperature, top_k=top_k,
                                      top_p=top_p, generator=generator, use_kv_cache=use_kv_cache):
            if stop_token is not None:
                next_token = next_token.masked_fill(finished[:, None], stop_token)
                finished |= next_token[:, 0] == stop_token
            new.append(next_token)
            if stop_token is not None and bool(finished.all()):
                break
    finally:
        model.train(was_training)
    return torch.cat((idx, *new), dim=1)


@dataclass(frozen=True)
class Sampling:
    """One request's generation settings: at most ``max_tokens`` new tokens; temperature 0 is greedy; top_p
    1.0 and top_k None filter nothing; generation also ends where the text reaches one of ``stop``."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_k: int | None = None


@dataclass
class Engine:
    """The model, its tokenizer and prompt template; every call gets its own KV cache and generator, so
    calls share nothing mutable and may run in parallel threads."""

    model: GPT
    encoding: tiktoken.Encoding
    end_of_text: int | None
    template: str
    model_name: str

    @classmethod
    def from_checkpoint(cls, path: str | Path, model_name: str | None = None, template: str | None = None,
                        ranks_path: str | Path | None = None, device: str = "cpu",
                        purpose: str = "generation") -> Engine:
        """The engine for a language-model checkpoint (a classifier checkpoint is refused, naming both)."""
        model, checkpoint = load_checkpoint(path, purpose)
        if "tokenizer" not in checkpoint:
            raise KeyError(f"checkpoint {path} has no 'tokenizer' entry, so text cannot be turned into its ids")
        template = template or checkpoint.get("prompt_template") or "plain"
        if template not in TEMPLATES:
            raise ValueError(f"unknown prompt template {template!r}; choose one of {TEMPLATES}")
        return cls(model=model.to(device).eval(), encoding=build_tokenizer(checkpoint["tokenizer"], ranks_path),
                   end_of_text=end_of_text_id(checkpoint["tokenizer"]),
                   template=template, model_name=model_name or Path(path).parent.name or Path(path).stem)

    @property
    def context_length(self) -> int:
        return self.model.config.context_length

    def tokens(self, prompt_ids: list[int], sampling: Sampling,
               cancel: threading.Event | None = None) -> Iterator[int]:
        """Sampled token ids of one sequence, one at a time (``next_tokens`` on a batch of one). Setting
        ``cancel`` (from any thread) ends it before the next forward pass: a server whose client left."""
        device = self.model.tok_emb.weight.device
        generator = seeded_generator(device, sampling.seed)
        prompt = torch.tensor([prompt_ids], dtype=torch.long, device=device)
        for token in next_tokens(self.model, prompt, sampling.max_tokens, temperature=sampling.temperature,
                                 top_k=sampling.top_k, top_p=sampling.top_p if sampling.top_p < 1.0 else None,
                                 generator=generator):
            yield int(token[0, 0])
            if cancel is not None and cancel.is_set():
                return

    def stream_text(self, prompt_ids: list[int], sampling: Sampling,
                    cancel: threading.Event | None = None) -> Iterator[tuple[str, str | None, int]]:
        """(text delta, finish reason or None, tokens generated so far) as generation goes.

        Text is held back while it ends in an incomplete UTF-8 character or in what may be the start of a
        stop sequence, so no stop sequence is ever sent, even split across tokens. The finish reason comes
        with the last delta: "stop" (end-of-text or a stop sequence) or "length" (max_tokens reached, or
        ``cancel`` set: see ``tokens``).
        """
        generated: list[int] = []
        sent = 0  # characters of the decoded text already yielded
        text = ""
        for token in self.tokens(prompt_ids, sampling, cancel):
            if token == self.end_of_text:
                yield text[sent:], "stop", len(generated) + 1
                return
            generated.append(token)
            if token >= self.encoding.n_vocab:
                continue  # a padded vocabulary slot: no text
            text = self.encoding.decode([t for t in generated if t < self.encoding.n_vocab])
            if text.endswith("\ufffd"):
                continue  # a character split across tokens: wait for the rest
            hits = [i for i in (text.find(s, max(0, sent - len(s))) for s in sampling.stop) if i >= 0]
            if hits:
                yield text[sent:max(sent, min(hits))], "stop", len(generated)
                return
            held = max((k for s in sampling.stop for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
            if len(text) - held > sent:
                yield text[sent:len(text) - held], None, len(generated)
                sent = len(text) - held
        yield text[sent:], "length", len(generated)

    def complete(self, prompt_ids: list[int], sampling: Sampling) -> tuple[str, str, int]:
        """A whole completion: text, finish reason ("stop" or "length"), tokens generated."""
        return collect(self.stream_text(prompt_ids, sampling))


def collect(stream: Iterator[tuple[str, str | None, int]]) -> tuple[str, str, int]:
    """A whole completion from `Engine.stream_text`: text, finish reason, tokens generated."""
    parts, finish, n = [], "length", 0
    for delta, reason, n in stream:
        parts.append(delta)
        finish = reason or finish
    return "".join(parts), finish, n
