"""Log-likelihoods of continuations, in batched forward passes with padding masked.

Each request becomes ``context_ids + continuation_ids``; the model reads all but the last token (cropped
to its context length from the left, as lm-evaluation-harness does) and the log-probabilities of the
continuation tokens are read off the last positions. Requests are sorted by length and packed into
batches of at most ``batch_tokens`` padded tokens, right-padded: a causal model's real positions never
attend to the padding after them, and padded positions are never read, so a request scores the same
alone or in any batch (to float rounding). Results come back in request order.

An empty context (a minimal pair's sentence) is conditioned on the end-of-text token, as lm-eval does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from training.benchmarks.model_source import LoadedModel


@dataclass(frozen=True)
class Score:
    """Sum of the continuation's token log-probabilities (nats), its token count, and whether every token
    was the model's argmax (greedy decoding would have produced it)."""

    logprob: float
    tokens: int
    greedy: bool


def encode_pair(encode: Callable[[str], list[int]], context: str, continuation: str,
                end_of_text: int | None) -> tuple[list[int], list[int]]:
    """Token ids of (context, continuation): the whole string is encoded once and the continuation is what
    follows the context's own tokens, so a merge across the boundary is scored as the model would see it."""
    if not context:
        if end_of_text is None:
            raise ValueError("an empty context is conditioned on end-of-text, but the tokenizer has none")
        return [end_of_text], encode(continuation)
    context_ids = encode(context)
    whole = encode(context + continuation)
    if whole[:len(context_ids)] != context_ids:  # a merge across the boundary changed the context's tokens
        return context_ids, encode(continuation)
    return context_ids, whole[len(context_ids):]


@torch.no_grad()
def score_requests(loaded: LoadedModel, pairs: Sequence[tuple[list[int], list[int]]], *,
                   device: torch.device | str, batch_tokens: int = 4096, pad_id: int = 0) -> list[Score]:
    """A ``Score`` per (context_ids, continuation_ids) pair, in order."""
    context_length = loaded.context_length
    inputs: list[list[int]] = []
    for context_ids, continuation_ids in pairs:
        if not continuation_ids:
            raise ValueError("a continuation encodes to no tokens; nothing to score")
        if len(continuation_ids) > context_length:
            raise ValueError(f"a continuation of {len(continuation_ids)} tokens does not fit the model's "
                             f"context of {context_length}")
        inputs.append((context_ids + continuation_ids)[-(context_length + 1):])
    order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))
    results: list[Score | None] = [None] * len(inputs)
    start = 0
    while start < len(order):
        width = len(inputs[order[start]]) - 1  # longest in the batch, since sorted
        batch = order[start:start + max(1, batch_tokens // max(width, 1))]
        start += len(batch)
        x = torch.full((len(batch), width), pad_id, dtype=torch.long)
        rows, cols, targets, counts = [], [], [], []
        for row, i in enumerate(batch):
            tokens, n = inputs[i], len(pairs[i][1])
            x[row, :len(tokens) - 1] = torch.tensor(tokens[:-1])
            # position t predicts token t + 1: the continuation's n tokens are read at the last n inputs
            rows += [row] * n
            cols += range(len(tokens) - 1 - n, len(tokens) - 1)
            targets += tokens[-n:]
            counts.append(n)
        logits = loaded.logits_at(x.to(device), torch.tensor(rows, device=device),
                                  torch.tensor(cols, device=device)).float()
        target = torch.tensor(targets, device=logits.device)
        picked = torch.log_softmax(logits, dim=-1).gather(1, target[:, None])[:, 0].double().cpu()
        hits = (logits.argmax(dim=-1) == target).cpu()
        offset = 0
        for i, n in zip(batch, counts):
            results[i] = Score(float(picked[offset:offset + n].sum()), n, bool(hits[offset:offset + n].all()))
            offset += n
    return [r for r in results if r is not None]
