"""The generation engine's output, pinned: the tokens a seeded tiny model sampled before the sampling loops
of ``model.generate`` and ``model.serve`` were merged into ``model.engine``. Same seed + same inputs must
keep giving the same tokens (a refactoring that changes them changes every published sample).

The pins were taken on CPU in float32; they check this refactoring's promise, so they run on CPU only.
"""

from __future__ import annotations

import hashlib

import pytest
import torch

from model.engine import generate
from model.gpt import GPT, GPTConfig

PROMPT_TOKENS = 5
NEW_TOKENS = 90  # crosses the tiny preset's 64-token context: the cache-free fallback is pinned too

SETTINGS = {"greedy": dict(temperature=0.0), "seed3": dict(temperature=1.0, seed=3),
            "topk_topp": dict(temperature=0.9, top_k=50, top_p=0.9, seed=4),
            "stop": dict(temperature=1.0, seed=3, stop_token=290)}
PINNED = {  # (positions, setting) -> (sha256 of out.tolist()[:16], row 0's first ten new tokens)
    ("learned", "greedy"): ("ab9d55b96e187f77", [255, 255, 255, 212, 212, 212, 212, 212, 212, 212]),
    ("learned", "seed3"): ("ab372634863e0579", [246, 46, 192, 290, 252, 398, 251, 34, 117, 281]),
    ("learned", "topk_topp"): ("3b537cf19c78846b", [347, 176, 275, 49, 315, 351, 90, 215, 223, 31]),
    ("learned", "stop"): ("784201fc1e7f0b9a", [246, 46, 192, 290, 290, 290, 290, 290, 290, 290]),
    ("rotary", "greedy"): ("5f149f008e50094c", [255] * 10),
    ("rotary", "seed3"): ("bcb7164a3a7f8ef4", [246, 46, 192, 290, 252, 398, 251, 34, 117, 281]),
    ("rotary", "topk_topp"): ("4e530d9f161d9c5d", [83, 83, 469, 336, 346, 346, 117, 346, 346, 170]),
    ("rotary", "stop"): ("b4a82606b85197b3", [246, 46, 192, 290, 290, 290, 290, 290, 290, 290]),
}
SERVE_SEEDED = [170, 386, 427, 335, 150, 186, 357, 270, 484, 377, 468, 396, 228, 468, 399, 441, 141, 142, 397,
                250, 289, 316, 411, 269, 139, 260, 509, 195, 277, 454, 144, 193, 324, 55, 161, 247, 438, 463,
                134, 437]


def tiny(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("tiny", **overrides)).eval()


def prompt() -> torch.Tensor:
    return torch.randint(0, 512, (2, PROMPT_TOKENS), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("positions, setting", sorted(PINNED))
def test_generate_reproduces_the_pinned_tokens(positions, setting):
    out = generate(tiny(positions=positions), prompt(), NEW_TOKENS, **SETTINGS[setting])
    digest, first_ten = PINNED[positions, setting]
    assert out.shape == (2, PROMPT_TOKENS + NEW_TOKENS)
    assert out[0, PROMPT_TOKENS:PROMPT_TOKENS + 10].tolist() == first_ten
    assert hashlib.sha256(str(out.tolist()).encode()).hexdigest()[:16] == digest


def test_the_server_path_reproduces_the_pinned_tokens():
    """One sequence with a KV cache, as the server streams it: seeded nucleus sampling, then greedy."""
    from model.engine import Engine, Sampling

    engine = Engine(model=tiny(), encoding=None, end_of_text=None, template="plain", model_name="x")
    seeded = Sampling(max_tokens=40, temperature=0.8, top_p=0.9, stop=(), seed=5)
    assert list(engine.tokens([1, 2, 3, 4, 5], seeded)) == SERVE_SEEDED
    greedy = Sampling(max_tokens=30, temperature=0.0, top_p=1.0, stop=(), seed=None)
    assert list(engine.tokens([1, 2, 3, 4, 5], greedy)) == [5] * 30
