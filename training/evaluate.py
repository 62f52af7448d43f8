"""Validation loss per source and overall, on the dataset's fixed validation split.

The same windows every time (``training.sampler.validation_batches``: the first ``batches x batch_size``
windows of each source's validation stream), so successive evaluations are comparable. Under DDP each rank
scores a disjoint share of the windows and the sums are all-reduced, so the figure does not depend on the
number of processes. "Overall" is the mean over every scored token, i.e. sources weighted by how many
validation tokens were scored, not by the training mixture.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn.functional as F

from contracts.token_dataset import TokenDataset
from training.distributed import Dist, all_reduce_sum
from training.sampler import validation_batches


def sources_with_validation(dataset: TokenDataset, sources: list[str], context_length: int) -> list[str]:
    """Sources with at least one whole validation window (small sources may have none)."""
    return [s for s in sources if dataset.num_tokens("val", s) > context_length]


@torch.no_grad()
def evaluate(model: torch.nn.Module, dataset: TokenDataset, sources: list[str], *, context_length: int,
             batch_size: int, max_batches: int, dist: Dist, autocast: Any = None) -> dict[str, Any]:
    """{"val_loss": {source: mean loss}, "val_loss_overall": mean over all tokens, "val_tokens": count}.

    ``batch_size`` is global (all ranks; divisible by the world size). ``model`` is the bare GPT: not the
    DDP wrapper (evaluation needs no gradient sync), nor the compiled training module (its batch shape
    differs, and dynamo would make the training graph's batch dimension symbolic).
    The model is in eval mode for the call and restored afterwards.
    """
    was_training = model.training
    model.eval()
    sums: list[float] = []
    try:
        for source in sources:
            loss_sum, tokens = 0.0, 0
            # Window k goes to rank k % W in batches of batch_size / W: the ranks together score the first
            # batch_size x max_batches windows, the same ones as a single process.
            batches = validation_batches(dataset, source, context_length=context_length,
                                         batch_size=batch_size // dist.world_size, rank=dist.rank, world_size=dist.world_size,
                                         max_batches=max_batches)
            for x, y in batches:
                x, y = x.to(dist.device), y.to(dist.device)
                with autocast or contextlib.nullcontext():
                    logits, _ = model(x, all_logits=True)
                loss_sum += float(F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1),
                                                  reduction="sum"))
                tokens += y.numel()
            sums += [loss_sum, float(tokens)]
    finally:
        model.train(was_training)
    totals = all_reduce_sum(sums, dist)
    per_source = {s: totals[2 * i] / totals[2 * i + 1] for i, s in enumerate(sources) if totals[2 * i + 1]}
    scored = sum(totals[1::2])
    return {"val_loss": per_source, "val_loss_overall": sum(totals[0::2]) / scored if scored else None,
            "val_tokens": int(scored)}


if __name__ == "__main__":  # python -m training.evaluate CHECKPOINT --tasks ...: the benchmark command line
    import sys

    from training.benchmarks.cli import main

    sys.exit(main())
