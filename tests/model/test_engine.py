"""model.engine: the one sampling loop behind generate, the server and evaluation. The server's per-request
path (Engine.tokens) and the batched generate() give the same tokens for the same seed, also past the
context length, where both drop the KV cache and recompute."""

from __future__ import annotations

import threading

import pytest
import torch

from model.engine import Engine, Sampling, generate
from model.gpt import GPT, GPTConfig


def tiny() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("tiny")).eval()


@pytest.mark.parametrize("sampling", [Sampling(max_tokens=30, temperature=0.0),
                                      Sampling(max_tokens=90, temperature=0.9, top_p=0.8, top_k=40, seed=2)])
def test_engine_tokens_equal_generate(sampling: Sampling) -> None:
    model = tiny()
    engine = Engine(model=model, encoding=None, end_of_text=None, template="plain", model_name="t")
    prompt = [3, 1, 4, 1, 5]
    expected = generate(model, torch.tensor([prompt]), sampling.max_tokens, temperature=sampling.temperature,
                        top_k=sampling.top_k, top_p=sampling.top_p, seed=sampling.seed)[0, len(prompt):]
    assert list(engine.tokens(prompt, sampling)) == expected.tolist()


def test_unseeded_requests_draw_fresh_randomness() -> None:
    engine = Engine(model=tiny(), encoding=None, end_of_text=None, template="plain", model_name="t")
    draws = {tuple(engine.tokens([1, 2], Sampling(max_tokens=12, temperature=1.0))) for _ in range(3)}
    assert len(draws) > 1


def test_generate_leaves_train_mode_as_it_found_it() -> None:
    model = tiny().train()
    generate(model, torch.tensor([[1, 2, 3]]), 4, temperature=0.0)
    assert model.training


def test_cancel_stops_generation_before_the_next_forward_pass() -> None:
    """What the server sets when a client leaves: no token is sampled after ``cancel`` is set."""
    engine = Engine(model=tiny(), encoding=None, end_of_text=None, template="plain", model_name="t")
    cancel = threading.Event()
    tokens = []
    for token in engine.tokens([1, 2], Sampling(max_tokens=50, temperature=0.0), cancel):
        tokens.append(token)
        if len(tokens) == 3:
            cancel.set()
    assert len(tokens) == 3
    assert tokens == list(engine.tokens([1, 2], Sampling(max_tokens=3, temperature=0.0)))
