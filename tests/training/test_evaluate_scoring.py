"""Batched benchmark scoring equals a direct, unbatched forward pass per request, for every task type, on a
tiny random GPT with the real GPT-2 tokenizer and real benchmark items."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.tiny_checkpoint import save_tiny_checkpoint
from training.benchmarks.bits_per_byte import bits_per_byte
from training.benchmarks.harness import evaluate_task
from training.benchmarks.items import Item
from training.benchmarks.metrics import argmax, item_outcome
from training.benchmarks.model_source import LoadedModel, load_model
from training.benchmarks.prompts import item_requests
from training.benchmarks.scoring import (MIN_SHARED_PREFIX, encode_pair, model_input, score_groups, score_requests,
                                         shared_prefix_length)
from training.benchmarks.tasks import load_registry


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> LoadedModel:
    path = tmp_path_factory.mktemp("eval") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data, seed=3, context_length=128)
    return load_model(path)


@pytest.fixture(scope="module")
def registry(shared_data: Path):
    return load_registry(data_dir=shared_data / "eval")


def direct_logprob(loaded: LoadedModel, context: list[int], continuation: list[int]) -> tuple[float, bool]:
    """Log-likelihood of continuation after context from one unbatched full forward, in float64."""
    ids = (context + continuation)[-(loaded.context_length + 1):]
    with torch.no_grad():
        logits, _ = loaded.model(torch.tensor([ids[:-1]]), all_logits=True)
    logprobs = torch.log_softmax(logits[0].double(), dim=-1)
    n = len(continuation)
    total, greedy = 0.0, True
    for k in range(n):
        position = len(ids) - 1 - n + k  # the input position whose output predicts continuation token k
        total += float(logprobs[position, ids[position + 1]])
        greedy &= int(logits[0, position].argmax()) == ids[position + 1]
    return total, greedy


@pytest.mark.parametrize("task, index", [("core.copa", 3), ("core.arc_easy", 5), ("core.winograd", 7),
                                         ("core.lambada_openai", 11), ("core.jeopardy", 2), ("hellaswag", 4)])
def test_batched_scores_equal_direct_forward(loaded, registry, task: str, index: int) -> None:
    spec = registry.tasks[task]
    items = spec.load_items()
    requests = item_requests(spec.type, items, index, spec.shots, 1234, spec.continuation_delimiter,
                             spec.example_delimiter)
    pairs = [encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text) for r in requests]
    # other items in the same batch: padding and batch composition must not change a request's score
    others = [encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text)
              for r in item_requests(spec.type, items, index + 1, spec.shots, 1234, spec.continuation_delimiter,
                                     spec.example_delimiter)]
    scores = score_requests(loaded, others + pairs, device="cpu", batch_tokens=512)[len(others):]
    for (context, continuation), score in zip(pairs, scores):
        expected, greedy = direct_logprob(loaded, context, continuation)
        assert score.tokens == len(continuation)
        assert score.logprob == pytest.approx(expected, abs=1e-5)
        assert score.greedy == greedy
    assert len(scores) == (1 if spec.type == "language_modeling" else len(items[index].choices))


def test_minimal_pair_is_scored_from_end_of_text(loaded) -> None:
    item = Item(choices=("The cats sleep on the mat.", "The cats sleeps on the mat."))
    requests = item_requests("minimal_pair", [item], 0, 0, 1234)
    pairs = [encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text) for r in requests]
    assert [p[0] for p in pairs] == [[50256], [50256]]
    scores = score_requests(loaded, pairs, device="cpu")
    expected = [direct_logprob(loaded, *pair)[0] for pair in pairs]
    assert [s.logprob for s in scores] == pytest.approx(expected, abs=1e-5)
    assert item_outcome("minimal_pair", item, scores)["acc"] == float(expected[0] > expected[1])


def test_trailing_space_of_the_context_is_scored_with_the_continuation(loaded) -> None:
    """'Answer: ' + 'Paris' is scored as 'Answer:' | ' Paris', the tokens GPT-2 makes of the joined text."""
    context, continuation = encode_pair(loaded.encode, "Question: capital of France?\nAnswer:", " Paris", 50256)
    assert loaded.encode("Question: capital of France?\nAnswer: Paris") == context + continuation
    assert continuation == loaded.encode(" Paris")


def test_metrics_rank_choices_by_sum_per_character_and_per_token() -> None:
    from training.benchmarks.scoring import Score

    item = Item(query="q", choices=("a", "bbbbbbbbbb"), gold=1)
    # choice 0: -2.0 over 1 char / 1 token; choice 1: -5.0 over 10 chars / 5 tokens
    outcome = item_outcome("multiple_choice", item, [Score(-2.0, 1, False), Score(-5.0, 5, False)])
    assert outcome == {"acc": 0.0, "acc_norm": 1.0, "acc_per_token": 1.0}
    assert argmax([1.0, 1.0, 0.5]) == 0  # ties go to the first choice, as numpy's argmax


def test_lambada_accuracy_and_perplexity_follow_their_definitions(loaded, registry) -> None:
    spec = registry.tasks["lambada_openai"]
    result = evaluate_task(loaded, spec, limit=6, progress=None)
    items = spec.load_items()[:6]
    lls, hits = [], []
    for item in items:
        context, continuation = encode_pair(loaded.encode, item.query, " " + item.continuation, loaded.end_of_text)
        ll, greedy = direct_logprob(loaded, context, continuation)
        lls.append(ll)
        hits.append(greedy)
    assert result.metrics["acc"] == pytest.approx(sum(hits) / 6)
    assert result.metrics["perplexity"] == pytest.approx(math.exp(-sum(lls) / 6), rel=1e-5)
    assert result.items == 6 and result.random_baseline == 0.0


def test_bits_per_byte_is_total_nats_over_bytes(loaded, shared_data: Path) -> None:
    text = (shared_data / "books" / "the-verdict.txt").read_text(encoding="utf-8")[:2500]  # > 4 windows of 128
    result = bits_per_byte(loaded, text, batch_tokens=300)
    ids = [50256] + loaded.encode(text)
    nats = 0.0
    for start in range(0, len(ids) - 1, 128):  # independent: one window at a time
        window = ids[start:start + 129]
        with torch.no_grad():
            logits, _ = loaded.model(torch.tensor([window[:-1]]), all_logits=True)
        logprobs = torch.log_softmax(logits[0].double(), dim=-1)
        nats -= float(logprobs[torch.arange(len(window) - 1), torch.tensor(window[1:])].sum())
    assert result["tokens"] == len(ids) - 1 and len(ids) - 1 > 4 * 128
    assert result["bytes"] == len(text.encode("utf-8"))
    assert result["nats"] == pytest.approx(nats, rel=1e-6)
    assert result["bits_per_byte"] == pytest.approx(nats / math.log(2) / result["bytes"], rel=1e-6)


def test_random_weights_score_near_the_random_baselines(loaded, registry) -> None:
    """A model that knows nothing picks choices at chance: accuracy within 4 binomial standard errors of
    the random baseline on multiple-choice and schema tasks (the full CORE of a random model is a measured
    figure in bench/README.md)."""
    for name, limit in (("core.copa", 100), ("core.winogrande", 150), ("core.openbook_qa", 120)):
        result = evaluate_task(loaded, registry.tasks[name], limit=limit, progress=None)
        b = result.random_baseline
        assert abs(result.value - b) < 4 * math.sqrt(b * (1 - b) / result.items), (name, result.value, b)


@pytest.fixture(scope="module")
def loaded_long(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> LoadedModel:
    """A context of 1024, so ten-shot prompts fit uncropped and their choices share the shots."""
    path = tmp_path_factory.mktemp("eval") / "tiny1024.pt"
    save_tiny_checkpoint(path, shared_data, seed=5, context_length=1024)
    return load_model(path)


SHARED = {"core.arc_easy": True, "hellaswag": True,
          "core.winograd": False, "core.jeopardy": False}
"""Task -> whether its items' choices share at least MIN_SHARED_PREFIX tokens at a 1024-token context
(winograd: zero shots, the options differ early; jeopardy: one request per item)."""


@pytest.mark.parametrize("task", sorted(SHARED))
def test_shared_prefix_scores_equal_direct_forward_and_repeat(loaded_long, registry, task: str) -> None:
    """Choices sharing their few-shot context read it once (KV cache), yet score as a full forward per
    choice does, within 1e-5, and the same twice; a group below the threshold takes the direct path."""
    loaded, index = loaded_long, 5
    spec = registry.tasks[task]
    items = spec.load_items()
    groups = [[encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text)
               for r in item_requests(spec.type, items, i, spec.shots, 1234, spec.continuation_delimiter,
                                      spec.example_delimiter)] for i in (index, index + 1)]
    calls = {"shared": 0}
    original = loaded.hidden_after_prefix

    def counting(*args, **kwargs):
        calls["shared"] += 1
        return original(*args, **kwargs)

    loaded.hidden_after_prefix = counting
    try:
        first = score_groups(loaded, groups, device="cpu", batch_tokens=512)
        again = score_groups(loaded, groups, device="cpu", batch_tokens=512)
    finally:
        del loaded.hidden_after_prefix
    eligible = 0
    for pairs, scores in zip(groups, first):
        inputs = [model_input(pair, loaded.context_length) for pair in pairs]
        prefix = shared_prefix_length(inputs, [len(c) for _, c in pairs])
        eligible += len(pairs) > 1 and prefix >= MIN_SHARED_PREFIX
        assert len(scores) == len(pairs)
        for (context, continuation), score in zip(pairs, scores):
            expected, greedy = direct_logprob(loaded, context, continuation)
            assert score.tokens == len(continuation)
            assert score.logprob == pytest.approx(expected, abs=1e-5)
            assert score.greedy == greedy
    assert first == again
    assert calls["shared"] == 2 * eligible
    assert eligible == (2 if SHARED[task] else 0)


def test_shared_prefix_stops_before_the_first_scored_position() -> None:
    # the two inputs agree on 5 tokens, but request 0 is scored from position 7 - 1 - 3 = 3 on
    assert shared_prefix_length([[1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 9, 9, 9]], [3, 2]) == 3
    assert shared_prefix_length([[1, 2, 3, 4], [8, 2, 3, 4]], [1, 1]) == 0


def test_task_scores_do_not_depend_on_prefix_sharing(loaded_long, registry) -> None:
    spec = registry.tasks["core.arc_easy"]
    shared = evaluate_task(loaded_long, spec, limit=12, progress=None)
    direct = evaluate_task(loaded_long, spec, limit=12, progress=None, min_shared_prefix=None)
    assert shared.metrics == direct.metrics
    for a, b in zip(shared.per_item, direct.per_item):
        assert a.keys() == b.keys()


def test_items_with_a_continuation_longer_than_the_context_are_counted_not_scored(tmp_path: Path, shared_data: Path,
                                                                                  registry) -> None:
    """A PIQA solution longer than a 16-token context cannot be scored: its item is left out of the metrics
    and counted, and the accuracy is that of the items that fit."""
    path = tmp_path / "short.pt"
    save_tiny_checkpoint(path, shared_data, seed=1, context_length=16)
    short = load_model(path)
    spec = registry.tasks["piqa"]
    items = spec.load_items()
    result = evaluate_task(short, spec, limit=30, progress=None)
    kept, skipped = [], 0
    for i in range(30):
        pairs = [encode_pair(short.encode, r.context, r.continuation, short.end_of_text)
                 for r in item_requests(spec.type, items, i, spec.shots, 1234, spec.continuation_delimiter,
                                        spec.example_delimiter)]
        if any(len(continuation) > 16 for _, continuation in pairs):
            skipped += 1
        else:
            kept.append(item_outcome(spec.type, items[i], score_requests(short, pairs, device="cpu"))["acc"])
    assert 0 < skipped < 30
    assert (result.skipped_too_long, result.items) == (skipped, 30 - skipped)
    assert result.to_json()["skipped_too_long"] == skipped
    assert result.metrics["acc"] == pytest.approx(sum(kept) / len(kept))
