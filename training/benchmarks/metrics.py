"""From per-request scores to per-item outcomes, per-task metrics and the CORE score.

Metric definitions are in ``training.benchmarks.tasks.METRICS_BY_TYPE``. CORE (DCLM, Li et al. 2024,
"DataComp-LM", section 3.5 / appendix): each task's accuracy is centred on its random baseline,
(acc - baseline) / (1 - baseline), so chance is 0 and a perfect score 1, and CORE is the mean of the
centred accuracies over the tasks.
"""

from __future__ import annotations

import math
from typing import Sequence

from training.benchmarks.items import Item
from training.benchmarks.scoring import Score


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; the first on a tie (as numpy's argmax, which lm-eval uses)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def item_outcome(task_type: str, item: Item, scores: Sequence[Score]) -> dict[str, float]:
    """Per-item values of every metric of the type (1.0 correct / 0.0 wrong; log-likelihood for perplexity)."""
    if task_type == "language_modeling":
        (score,) = scores
        return {"acc": float(score.greedy), "logprob": score.logprob}
    if task_type == "minimal_pair":
        good, bad = scores
        return {"acc": float(good.logprob > bad.logprob)}
    lls = [s.logprob for s in scores]
    if task_type == "multiple_choice":
        lengths = [max(len(choice), 1) for choice in item.choices]
    else:  # schema: the scored continuation is shared, so per-character is the same ranking as acc
        lengths = [max(len(item.continuation), 1)] * len(scores)
    return {"acc": float(argmax(lls) == item.gold),
            "acc_norm": float(argmax([ll / n for ll, n in zip(lls, lengths)]) == item.gold),
            "acc_per_token": float(argmax([s.logprob / s.tokens for s in scores]) == item.gold)}


def aggregate(task_type: str, outcomes: Sequence[dict[str, float]]) -> dict[str, float]:
    """Means over items; for language modelling also lm-eval's perplexity, exp(-mean item log-likelihood)."""
    if not outcomes:
        return {}
    keys = [k for k in outcomes[0] if k != "logprob"]
    result = {k: sum(o[k] for o in outcomes) / len(outcomes) for k in keys}
    if task_type == "language_modeling":
        result["perplexity"] = math.exp(-sum(o["logprob"] for o in outcomes) / len(outcomes))
    return result


def random_baseline(task_type: str, items: Sequence[Item]) -> float:
    """Chance accuracy when the registry gives none: mean of 1 / choices; 0 for exact-match language
    modelling; 0.5 for a minimal pair."""
    if task_type == "language_modeling":
        return 0.0
    if task_type == "minimal_pair":
        return 0.5
    return sum(1 / len(item.choices) for item in items) / len(items)


def centered(accuracy: float, baseline: float) -> float:
    """DCLM's centring: 0 at chance, 1 at perfect."""
    return (accuracy - baseline) / (1.0 - baseline)


def core_score(results: dict[str, dict[str, float]]) -> float:
    """Mean centred accuracy over tasks; ``results`` maps task -> {"value": accuracy, "random_baseline": b}."""
    if not results:
        raise ValueError("CORE needs at least one task")
    return sum(centered(r["value"], r["random_baseline"]) for r in results.values()) / len(results)
