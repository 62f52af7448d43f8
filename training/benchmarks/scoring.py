"""Log-likelihoods of continuations, in batched forward passes with padding masked.

Each request becomes ``context_ids + continuation_ids``; the model reads all but the last token (cropped
to its context length from the left, as lm-evaluation-harness does) and the log-probabilities of the
continuation tokens are read off the last positions. Requests are sorted by length and packed into
batches of at most ``batch_tokens`` padded tokens, right-padded: a causal model's real positions never
attend to the padding after them, and padded positions are never read, so a request scores the same
alone or in any batch (to float rounding). Results come back in request order.

When the requests of an item (its choices) share a long context, as few-shot prompts do, the shared tokens
are read once and their keys and values reused for every choice (``score_groups``): a four-choice
HellaSwag item with ten shots costs about one context instead of four. A choice's score is the same
either way (to float rounding), since it sees the same tokens at the same positions.

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


def model_input(pair: tuple[list[int], list[int]], context_length: int) -> list[int]:
    """``context + continuation`` cropped from the left to what the model reads plus the last target."""
    context_ids, continuation_ids = pair
    if not continuation_ids:
        raise ValueError("a continuation encodes to no tokens; nothing to score")
    if len(continuation_ids) > context_length:
        raise ValueError(f"a continuation of {len(continuation_ids)} tokens does not fit the model's "
                         f"context of {context_length}")
    return (context_ids + continuation_ids)[-(context_length + 1):]


PROJECT_ROWS = 64
"""Positions projected onto the vocabulary at a time: a (64, 50k) float32 block (13 MB) is read by the
logsumexp, max and gather while it is still in cache, and no (N, V) matrix of a whole batch is made."""


def read_scores(loaded: LoadedModel, states: torch.Tensor, targets: list[int], counts: list[int]) -> list[Score]:
    """Scores from the states (N, C) at the continuations' positions, ``counts`` rows per request.

    Per row: log-softmax at the target only (target logit - logsumexp, the (N, V) log-probabilities never
    made) and greedy = the first maximal logit is the target's (argmax, as lm-eval reads it; ``max``'s
    index, which is the first maximal one and cheaper than ``argmax`` here)."""
    target = torch.tensor(targets, device=states.device)
    picked_parts, hit_parts = [], []
    for start in range(0, len(targets), PROJECT_ROWS):
        logits = loaded.project(states[start:start + PROJECT_ROWS]).float()
        wanted = target[start:start + PROJECT_ROWS]
        picked_parts.append(logits.gather(1, wanted[:, None])[:, 0] - torch.logsumexp(logits, dim=-1))
        hit_parts.append(logits.max(dim=-1).indices == wanted)
    picked = torch.cat(picked_parts).double().cpu() if picked_parts else torch.zeros(0, dtype=torch.float64)
    hits = torch.cat(hit_parts).cpu() if hit_parts else torch.zeros(0, dtype=torch.bool)
    scores, offset = [], 0
    for n in counts:
        scores.append(Score(float(picked[offset:offset + n].sum()), n, bool(hits[offset:offset + n].all())))
        offset += n
    return scores


@torch.no_grad()
def score_requests(loaded: LoadedModel, pairs: Sequence[tuple[list[int], list[int]]], *,
                   device: torch.device | str, batch_tokens: int = 4096, pad_id: int = 0) -> list[Score]:
    """A ``Score`` per (context_ids, continuation_ids) pair, in order."""
    inputs = [model_input(pair, loaded.context_length) for pair in pairs]
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
        states = loaded.hidden_at(x.to(device), torch.tensor(rows, device=device),
                                  torch.tensor(cols, device=device))
        for i, score in zip(batch, read_scores(loaded, states, targets, counts)):
            results[i] = score
    return [r for r in results if r is not None]


MIN_SHARED_PREFIX = 16
"""Below this many shared tokens a group's requests go to the batched direct path: reading a short prefix
once saves less than the per-group forward passes cost."""


def shared_prefix_length(inputs: Sequence[list[int]], counts: Sequence[int]) -> int:
    """Tokens that every request of a group reads first, up to (not into) its first scored position.

    ``inputs`` are ``model_input`` lists (the model reads all but the last token); request i's scores are
    read from input position ``len(inputs[i]) - 1 - counts[i]`` on, which the prefix must not reach.
    """
    limit = min(len(tokens) - 1 - n for tokens, n in zip(inputs, counts))
    first = inputs[0]
    length = 0
    while length < limit and all(tokens[length] == first[length] for tokens in inputs[1:]):
        length += 1
    return length


@torch.no_grad()
def score_shared(loaded: LoadedModel, inputs: Sequence[list[int]], counts: Sequence[int], prefix_length: int, *,
                 device: torch.device | str, pad_id: int = 0) -> list[Score]:
    """Scores of one group whose inputs share their first ``prefix_length`` tokens: the prefix is read
    once, the rest of every request in one right-padded batch after it (padding sits after each row's
    real tokens, which a causal model never lets them see, and padded positions are never read)."""
    suffixes = [tokens[prefix_length:-1] for tokens in inputs]
    x = torch.full((len(inputs), max(map(len, suffixes))), pad_id, dtype=torch.long)
    rows, cols, targets = [], [], []
    for row, (tokens, suffix, n) in enumerate(zip(inputs, suffixes, counts)):
        x[row, :len(suffix)] = torch.tensor(suffix)
        rows += [row] * n
        cols += range(len(suffix) - n, len(suffix))
        targets += tokens[-n:]
    prefix = torch.tensor(inputs[0][:prefix_length], device=device)
    states = loaded.hidden_after_prefix(prefix, x.to(device), torch.tensor(rows, device=device),
                                        torch.tensor(cols, device=device))
    return read_scores(loaded, states, targets, list(counts))


def score_groups(loaded: LoadedModel, groups: Sequence[Sequence[tuple[list[int], list[int]]]], *,
                 device: torch.device | str, batch_tokens: int = 4096,
                 min_shared_prefix: int | None = MIN_SHARED_PREFIX) -> list[list[Score]]:
    """Scores per group of requests (an item's choices), in order: a group whose model inputs share at least
    ``min_shared_prefix`` leading tokens reads them once (``score_shared``); the other groups' requests
    are scored together by ``score_requests``. ``min_shared_prefix=None`` sends every group the direct
    way. Both ways give the same scores to float rounding."""
    results: list[list[Score] | None] = [None] * len(groups)
    direct: list[int] = []
    for g, pairs in enumerate(groups):
        inputs = [model_input(pair, loaded.context_length) for pair in pairs]
        counts = [len(continuation) for _, continuation in pairs]
        shared = shared_prefix_length(inputs, counts) if len(pairs) > 1 and min_shared_prefix is not None else 0
        if len(pairs) > 1 and min_shared_prefix is not None and shared >= max(min_shared_prefix, 1):
            results[g] = score_shared(loaded, inputs, counts, shared, device=device)
        else:
            direct.append(g)
    scores = score_requests(loaded, [pair for g in direct for pair in groups[g]], device=device,
                            batch_tokens=batch_tokens)
    offset = 0
    for g in direct:
        results[g] = scores[offset:offset + len(groups[g])]
        offset += len(groups[g])
    return [r if r is not None else [] for r in results]
