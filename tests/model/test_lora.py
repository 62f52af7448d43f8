"""LoRA: an exact no-op at the start, only adapters learn, and merging gives the same logits."""

from __future__ import annotations

import pytest
import torch

from model.gpt import GPT, GPTConfig
from model.lora import BLOCK_LINEARS, LoraSettings, adapter_state, add_lora, merge_lora, trainable_parameters


def tiny() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("tiny", positions="rotary"))


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 512, (2, 16), generator=g), torch.randint(0, 512, (2, 16), generator=g)


def test_adapters_start_as_the_pretrained_model_and_are_all_that_trains() -> None:
    model = tiny()
    x, y = batch()
    before = model(x)[0].detach()
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    adapted = add_lora(model, LoraSettings(rank=4))
    assert len(adapted) == model.config.n_layer * len(BLOCK_LINEARS)
    assert torch.equal(model(x)[0], before)  # B = 0: exactly the pretrained model
    n_layer, d = model.config.n_layer, model.config.n_embd
    # A is r x in, B is out x r: qkv (d -> 3d), proj (d -> d), up (d -> 4d), down (4d -> d)
    assert trainable_parameters(model) == n_layer * 4 * ((d + 3 * d) + (d + d) + (d + 4 * d) + (4 * d + d))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    state = model.state_dict()
    for key, value in frozen.items():  # every pretrained tensor is untouched, under its adapted name
        adapted_key = key.replace(".weight", ".base.weight").replace(".bias", ".base.bias")
        assert torch.equal(state.get(key, state.get(adapted_key)), value), key
    assert all(v.abs().sum() > 0 for k, v in adapter_state(model).items() if k.endswith("lora_b"))


def test_merged_model_gives_the_same_logits_with_plain_keys() -> None:
    model = tiny()
    add_lora(model, LoraSettings(rank=4, alpha=8))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("lora_b"):
                p.normal_(0, 0.02)  # as after training
    x, _ = batch()
    model.eval()
    adapted_logits = model(x)[0]
    merged = merge_lora(model)
    assert set(merged.state_dict()) == set(tiny().state_dict())
    assert torch.allclose(merged(x)[0], adapted_logits, atol=1e-5)
    fresh = GPT(model.config)
    fresh.load_state_dict(merged.state_dict())  # an ordinary GPT checkpoint again
    assert torch.allclose(fresh.eval()(x)[0], adapted_logits, atol=1e-5)


def test_extra_trainable_parameters_and_bad_settings() -> None:
    model = tiny()
    add_lora(model, LoraSettings(rank=2, targets=("qkv",)), trainable=("tok_emb",))  # (tied to the output)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "tok_emb.weight" in names and all("qkv" in n or n == "tok_emb.weight" for n in names)
    with pytest.raises(ValueError, match="choose from"):
        LoraSettings(targets=("attn",))
    with pytest.raises(ValueError, match="at least 1"):
        LoraSettings(rank=0)
