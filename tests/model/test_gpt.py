"""model.gpt: shapes, initial loss, learning, causality, position kinds, tying, sizes, optimiser groups."""

from __future__ import annotations

import math

import pytest
import torch

from model.gpt import GPT, IGNORE_INDEX, PRESETS, GPTConfig, KVCache

POSITIONS = ("learned", "sinusoidal", "rotary")


def tiny(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("tiny", **overrides))


def random_batch(config: GPTConfig, batch: int = 4, length: int | None = None, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    length = config.context_length if length is None else length
    tokens = torch.randint(0, config.vocab_size, (batch, length + 1), generator=generator)
    return tokens[:, :-1], tokens[:, 1:]


def test_logits_shapes():
    model = tiny()
    idx, targets = random_batch(model.config, batch=3, length=20)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 20, model.config.vocab_size) and loss.shape == ()
    logits, loss = model(idx)
    assert logits.shape == (3, 1, model.config.vocab_size) and loss is None
    logits, _ = model(idx, all_logits=True)
    assert logits.shape == (3, 20, model.config.vocab_size)


def test_last_position_logits_match_full_forward():
    model = tiny().eval()
    idx, _ = random_batch(model.config, batch=2, length=16)
    last, _ = model(idx)
    full, _ = model(idx, all_logits=True)
    torch.testing.assert_close(last[:, 0], full[:, -1])


def test_initial_loss_is_uniform_guess():
    model = tiny()
    idx, targets = random_batch(model.config)
    _, loss = model(idx, targets)
    assert abs(loss.item() - math.log(model.config.vocab_size)) < 0.15


def test_ignored_targets_do_not_count():
    model = tiny().eval()
    idx, targets = random_batch(model.config, batch=2, length=12)
    masked = targets.clone()
    masked[:, :6] = IGNORE_INDEX
    logits, loss = model(idx, masked)
    expected = torch.nn.functional.cross_entropy(logits[:, 6:].reshape(-1, logits.size(-1)),
                                                 targets[:, 6:].reshape(-1))
    torch.testing.assert_close(loss, expected)


def test_overfits_one_batch():
    model = tiny()
    idx, targets = random_batch(model.config, batch=4, length=32)
    optimizer = model.configure_optimizer(weight_decay=0.0, lr=3e-3, betas=(0.9, 0.95), device_type="cpu")
    initial = model(idx, targets)[1].item()
    for _ in range(100):
        _, loss = model(idx, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1 * initial, (initial, loss.item())


@pytest.mark.parametrize("positions", POSITIONS)
def test_future_tokens_do_not_change_earlier_logits(positions):
    model = tiny(positions=positions).eval()
    idx, _ = random_batch(model.config, batch=1, length=24)
    changed = idx.clone()
    changed[0, 15] = (idx[0, 15] + 1) % model.config.vocab_size
    before, _ = model(idx, all_logits=True)
    after, _ = model(changed, all_logits=True)
    torch.testing.assert_close(before[:, :15], after[:, :15])
    assert not torch.allclose(before[:, 15:], after[:, 15:])


@pytest.mark.parametrize("positions", POSITIONS)
@pytest.mark.parametrize("activation", ("gelu", "relu"))
def test_every_position_kind_and_activation_trains(positions, activation):
    model = tiny(positions=positions, activation=activation, dropout=0.1, bias=True)
    idx, targets = random_batch(model.config, batch=2)  # the full context, to reach every position
    _, loss = model(idx, targets)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_positions_matter():
    """Each position kind must tell a token at position 3 from the same token at position 5."""
    for positions in POSITIONS:
        model = tiny(positions=positions).eval()
        idx = torch.tensor([[7, 8, 9, 7, 8, 9]])
        logits, _ = model(idx, all_logits=True)
        assert not torch.allclose(logits[0, 2], logits[0, 5]), positions


@pytest.mark.parametrize("positions", POSITIONS)
def test_kv_cache_forward_matches_full_forward(positions):
    """Prefill, several tokens at once after a prefix (explicit mask), then one at a time."""
    model = tiny(positions=positions).eval()
    idx, _ = random_batch(model.config, batch=2, length=30)
    full, _ = model(idx, all_logits=True)
    cache = model.new_kv_cache(batch_size=2)
    pieces = [model(idx[:, :10], kv_cache=cache, all_logits=True)[0],
              model(idx[:, 10:25], kv_cache=cache, all_logits=True)[0]]
    pieces += [model(idx[:, t:t + 1], kv_cache=cache)[0] for t in range(25, 30)]
    assert cache.pos == 30
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=1e-4, atol=1e-5)


def test_overlong_input_is_refused_with_advice():
    model = tiny()
    with pytest.raises(ValueError, match="crop the input"):
        model(torch.zeros(1, model.config.context_length + 1, dtype=torch.long))
    cache = model.new_kv_cache(1)
    cache.pos = model.config.context_length
    with pytest.raises(ValueError, match="exceed the context length"):
        model(torch.zeros(1, 1, dtype=torch.long), kv_cache=cache)


def test_tied_weights_are_one_tensor():
    model = tiny()
    assert model.lm_head.weight is model.tok_emb.weight
    model.lm_head.weight.data[0, 0] = 123.0
    assert model.tok_emb.weight[0, 0].item() == 123.0
    untied = tiny(tie_embeddings=False)
    assert untied.lm_head.weight is not untied.tok_emb.weight
    vocab_matrix = untied.config.vocab_size * untied.config.n_embd
    assert untied.num_params() == model.num_params() + vocab_matrix


def test_gpt2_124m_parameter_count_matches_nanogpt():
    """nanoGPT's GPT-2 small (vocab 50257, context 1024, biases, tied) reports 124.44M parameters with
    get_num_params(non_embedding=False) and 123.65M without the position table."""
    with torch.device("meta"):  # count without allocating half a gigabyte
        model = GPT(GPTConfig.preset("gpt2-124m", vocab_size=50257))
    assert model.num_params() == 124_439_808
    assert model.num_params(exclude_embeddings=True) == 124_439_808 - 1024 * 768


def test_flops_and_mfu():
    with torch.device("meta"):
        model = GPT(GPTConfig.preset("gpt2-124m"))
    n = model.num_params(exclude_embeddings=True)
    assert model.flops_per_token() == 6 * n + 12 * 12 * 768 * 1024
    assert model.flops_per_token(seq_len=512) == 6 * n + 12 * 12 * 768 * 512
    tokens_per_s = 1e12 / model.flops_per_token()
    assert model.estimate_mfu(tokens_per_s, peak_flops=2e12) == pytest.approx(0.5)


def test_gpt2_initialisation_scales_residual_projections():
    config = GPTConfig.preset("tiny", n_embd=256, n_layer=8, n_head=4)
    torch.manual_seed(0)
    model = GPT(config)
    assert model.tok_emb.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.02, rel=0.05)
    residual_std = 0.02 / math.sqrt(2 * config.n_layer)
    assert model.blocks[0].attn.proj.weight.std().item() == pytest.approx(residual_std, rel=0.05)
    assert model.blocks[-1].mlp.down.weight.std().item() == pytest.approx(residual_std, rel=0.05)


def test_optimizer_decays_only_matrices():
    model = tiny(bias=True)
    optimizer = model.configure_optimizer(weight_decay=0.1, lr=1e-3, betas=(0.9, 0.95), device_type="cpu")
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in plain["params"])
    assert sum(p.numel() for g in optimizer.param_groups for p in g["params"]) == model.num_params()
    assert not optimizer.defaults["fused"]


def test_presets():
    assert set(PRESETS) >= {"tiny", "cpu-small", "gpt2-124m"}
    small = GPTConfig.preset("cpu-small")
    assert (small.n_layer, small.n_embd, small.context_length, small.vocab_size) == (4, 256, 256, 4096)
    assert GPTConfig.preset("cpu-small", positions="rotary").positions == "rotary"
    assert small.block_size == small.context_length
    with pytest.raises(ValueError, match="cpu-small, gpt2-124m, tiny"):
        GPTConfig.preset("gpt5")
    with pytest.raises(ValueError, match="unknown GPTConfig fields"):
        GPTConfig.preset("tiny", n_layers=3)


@pytest.mark.parametrize("fields, message", [
    ({"n_embd": 65}, "not divisible"),
    ({"activation": "swish"}, "activation"),
    ({"positions": "alibi"}, "positions"),
    ({"positions": "rotary", "n_embd": 12, "n_head": 4}, "must be even"),
    ({"n_layer": 0}, "positive integer"),
    ({"dropout": 1.0}, "dropout"),
])
def test_invalid_configs_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig.preset("tiny", **fields)


def test_config_round_trips_through_dict():
    import dataclasses

    config = GPTConfig.preset("tiny", positions="rotary")
    assert GPTConfig.from_dict(dataclasses.asdict(config)) == config
    with pytest.raises(ValueError, match="unknown keys"):
        GPTConfig.from_dict({**dataclasses.asdict(config), "n_kv_head": 2})


def test_kv_cache_refuses_overflow():
    config = GPTConfig.preset("tiny")
    cache = KVCache(config, batch_size=1, device="cpu", dtype=torch.float32)
    k = torch.zeros(1, config.n_head, config.context_length + 1, config.head_dim)
    with pytest.raises(ValueError, match="KV cache holds"):
        cache.append(0, k, k)


# --- positions against their references -------------------------------------------------------------

def _llama_rotary(head_dim: int, n_positions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin from transformers' LLaMA rotary module, base 10000 given explicitly (RoFormer's value)."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig(hidden_size=head_dim * 4, num_attention_heads=4, max_position_embeddings=n_positions,
                         rope_parameters={"rope_type": "default", "rope_theta": 10_000.0})
    positions = torch.arange(n_positions)[None]
    cos, sin = LlamaRotaryEmbedding(config)(torch.zeros(1, dtype=torch.float32), positions)
    return cos[0], sin[0]


def test_rotary_tables_and_rotation_equal_transformers_llama():
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    from model.gpt import apply_rotary, rotary_tables

    cos, sin = rotary_tables(64, 16)
    ref_cos, ref_sin = _llama_rotary(16, 64)
    torch.testing.assert_close(cos, ref_cos)
    torch.testing.assert_close(sin, ref_sin)
    q, k = torch.randn(2, 1, 4, 64, 16, generator=torch.Generator().manual_seed(1)).unbind(0)  # (B, H, T, D)
    ref_q, ref_k = apply_rotary_pos_emb(q, k, ref_cos[None], ref_sin[None])
    torch.testing.assert_close(apply_rotary(q, cos, sin), ref_q)
    torch.testing.assert_close(apply_rotary(k, cos, sin), ref_k)


def test_rotary_attention_equals_a_reference_built_on_transformers():
    """One attention layer of a rotary GPT against softmax(R q . R k / sqrt(D)) v written out, with the
    rotation R from transformers' LLaMA: both queries and keys rotated, with the model's own tables."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    model = tiny(positions="rotary").eval()
    T, H, D = 20, model.config.n_head, model.config.head_dim
    cos, sin = _llama_rotary(D, model.config.context_length)
    torch.testing.assert_close(model.rope_cos, cos)
    torch.testing.assert_close(model.rope_sin, sin)
    attn = model.blocks[0].attn
    x = torch.randn(2, T, model.config.n_embd, generator=torch.Generator().manual_seed(2))
    q, k, v = (t.view(2, T, H, D).transpose(1, 2) for t in attn.qkv(x).split(model.config.n_embd, dim=2))
    q, k = apply_rotary_pos_emb(q, k, cos[None, :T], sin[None, :T])
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    expected = attn.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(2, T, -1))
    with torch.no_grad():
        got = attn(x, (model.rope_cos[:T], model.rope_sin[:T]), None, 0)
    torch.testing.assert_close(got, expected.detach(), rtol=1e-5, atol=1e-6)


def test_rotary_scores_depend_only_on_relative_position():
    """q at m and k at n score the same as q at m + s and k at n + s; an attention layer fed the same
    tokens at positions shifted by s gives the same output (the causal mask is relative too)."""
    from model.gpt import apply_rotary, rotary_tables

    cos, sin = rotary_tables(64, 16)
    generator = torch.Generator().manual_seed(3)
    q, k = torch.randn(16, generator=generator), torch.randn(16, generator=generator)

    def score(m: int, n: int) -> torch.Tensor:
        return apply_rotary(q, cos[m], sin[m]) @ apply_rotary(k, cos[n], sin[n])

    for m, n, shift in ((5, 2, 17), (9, 9, 40), (30, 0, 33), (3, 12, 7)):
        torch.testing.assert_close(score(m, n), score(m + shift, n + shift), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(score(5, 2), score(5, 3), atol=1e-3)  # the distance itself does matter

    model = tiny(positions="rotary").eval()
    attn, T = model.blocks[0].attn, 16
    x = torch.randn(1, T, model.config.n_embd, generator=generator)
    with torch.no_grad():
        at_zero = attn(x, (model.rope_cos[:T], model.rope_sin[:T]), None, 0)
        for start in (1, 13, 48):
            shifted = attn(x, (model.rope_cos[start:start + T], model.rope_sin[start:start + T]), None, 0)
            torch.testing.assert_close(shifted, at_zero, rtol=1e-4, atol=1e-5)


def test_sinusoidal_table_is_the_transformer_papers_formula():
    """Vaswani et al. 2017, 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(same),
    evaluated in float64 with math; the model adds row start + t of it to the token embeddings."""
    from model.gpt import sinusoidal_table

    d, n = 64, 64
    expected = torch.tensor([[math.sin(pos / 10_000 ** (2 * (c // 2) / d)) if c % 2 == 0
                              else math.cos(pos / 10_000 ** (2 * (c // 2) / d)) for c in range(d)]
                             for pos in range(n)], dtype=torch.float64)
    torch.testing.assert_close(sinusoidal_table(n, d).double(), expected, rtol=0, atol=2e-5)

    model = tiny(positions="sinusoidal").eval()
    torch.testing.assert_close(model.pos_table.double(), expected, rtol=0, atol=2e-5)
    learned = tiny(positions="learned").eval()  # the same network with the formula as a learned table
    learned.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        learned.pos_emb.weight.copy_(expected.float())
    idx, _ = random_batch(model.config, batch=2, length=24)
    torch.testing.assert_close(model(idx, all_logits=True)[0], learned(idx, all_logits=True)[0],
                               rtol=1e-4, atol=2e-4)
    cache = model.new_kv_cache(batch_size=2)  # a later start reads later rows
    model(idx[:, :10], kv_cache=cache)
    torch.testing.assert_close(model(idx[:, 10:], kv_cache=cache, all_logits=True)[0],
                               learned(idx, all_logits=True)[0][:, 10:], rtol=1e-4, atol=2e-4)
