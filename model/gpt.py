"""A decoder-only GPT in one file: config and presets, the blocks, the model, the KV cache, optimiser groups
and the FLOPs/MFU estimate.

Everything the trainer and the sampler need to know about the network lives here, with nothing hidden
behind registries, so the file can be read top to bottom. Generation (sampling loop, top-k/top-p) lives in
`model.engine`; the checkpoint format in `model.checkpoint_io`.

Shapes in comments: B batch, T time (tokens in this call), C width (n_embd), H heads, D head width (C/H),
V vocabulary, P positions already in the KV cache.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE_INDEX = -100
"""Targets equal to this add nothing to the loss, so fine-tuning can mask prompt tokens."""

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")
"""gelu is the exact (erf) GELU; gelu_tanh is its tanh approximation, which GPT-2 was trained with
(transformers calls it gelu_new), so imported GPT-2 weights reproduce GPT-2's logits exactly."""
POSITIONS = ("learned", "sinusoidal", "rotary")
ROPE_BASE = 10_000.0


@dataclass(frozen=True)
class GPTConfig:
    """Hyper-parameters of the network; `dataclasses.asdict` of this goes into every checkpoint.

    Frozen so a config shared between the trainer, the checkpoint and the sampler cannot drift; derive
    variants with `GPTConfig.preset(name, **overrides)` or `dataclasses.replace`.
    """

    vocab_size: int = 50304
    context_length: int = 1024
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = False  # biases in Linear and LayerNorm; GPT-2 had them, small models train as well without
    activation: str = "gelu"  # "gelu" (exact erf) | "gelu_tanh" (GPT-2's approximation) | "relu"
    positions: str = "learned"  # "learned" | "sinusoidal" | "rotary"
    tie_embeddings: bool = True  # the output projection reuses the token embedding matrix

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPTConfig.{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig.n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"GPTConfig.activation={self.activation!r}; choose one of {ACTIVATIONS}")
        if self.positions not in POSITIONS:
            raise ValueError(f"GPTConfig.positions={self.positions!r}; choose one of {POSITIONS}")
        if self.positions == "rotary" and self.head_dim % 2:
            raise ValueError(f"rotary positions rotate pairs of channels: head width {self.head_dim} "
                             f"(n_embd/n_head) must be even")
        if self.positions == "sinusoidal" and self.n_embd % 2:
            raise ValueError(f"sinusoidal positions pair sin/cos channels: n_embd={self.n_embd} must be even")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def block_size(self) -> int:
        """nanoGPT's name for `context_length`, kept so code written against it reads naturally."""
        return self.context_length

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> GPTConfig:
        """A named configuration, optionally with some fields changed (e.g. vocab_size of your tokenizer)."""
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}; the presets are: {', '.join(sorted(PRESETS))}")
        return PRESETS[name].replace(**overrides)

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> GPTConfig:
        """Rebuild a config from `dataclasses.asdict` output (a checkpoint), naming any unknown key."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"model config has unknown keys {unknown}; known keys are {sorted(known)}. "
                             "Was it written by a newer version of refinery?")
        return cls(**fields)

    def replace(self, **overrides: Any) -> GPTConfig:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown GPTConfig fields {unknown}; known fields are {sorted(known)}")
        return dataclasses.replace(self, **overrides)


PRESETS: dict[str, GPTConfig] = {
    # Unit tests: builds and runs a step in milliseconds.
    "tiny": GPTConfig(vocab_size=512, context_length=64, n_layer=2, n_head=4, n_embd=64),
    # Learns visibly within minutes on a 2-core CPU with a small BPE vocabulary (~4.3M parameters).
    "cpu-small": GPTConfig(vocab_size=4096, context_length=256, n_layer=4, n_head=4, n_embd=256),
    # GPT-2 small. 50304 = 50257 padded to a multiple of 64, which GPU matmuls prefer.
    "gpt2-124m": GPTConfig(vocab_size=50304, context_length=1024, n_layer=12, n_head=12, n_embd=768,
                           bias=True),
}


class KVCache:
    """Keys and values of every layer for the positions seen so far, preallocated to the context length.

    Preallocating avoids a `torch.cat` per generated token. `pos` is the number of positions already
    cached, i.e. the absolute position of the next token: learned and sinusoidal embeddings look it up and
    rotary attention rotates by it, which is how one cache serves all three position kinds.
    """

    def __init__(self, config: GPTConfig, batch_size: int, device: torch.device | str,
                 dtype: torch.dtype) -> None:
        shape = (config.n_layer, batch_size, config.n_head, config.context_length, config.head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.pos = 0

    @property
    def capacity(self) -> int:
        return self.k.shape[3]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this call's (B, H, T, D) keys/values for `layer`; return all keys/values up to them."""
        end = self.pos + k.shape[2]
        if end > self.capacity:
            raise ValueError(f"KV cache holds {self.capacity} positions; cannot add {k.shape[2]} at {self.pos}")
        self.k[layer, :, :, self.pos:end] = k
        self.v[layer, :, :, self.pos:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advance(self, n_tokens: int) -> None:
        """Called once per forward, after every layer has appended, so all layers agree on `pos`."""
        self.pos += n_tokens


def sinusoidal_table(n_positions: int, width: int) -> torch.Tensor:
    """(n_positions, width) fixed embeddings of "Attention Is All You Need" (sec. 3.5): sin on even
    channels, cos on odd ones, wavelengths from 2*pi to 10000*2*pi."""
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    inv_freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10_000.0) / width))
    table = torch.zeros(n_positions, width)
    table[:, 0::2] = torch.sin(position * inv_freq)
    table[:, 1::2] = torch.cos(position * inv_freq)
    return table


def rotary_tables(n_positions: int, head_dim: int, base: float = ROPE_BASE) -> tuple[torch.Tensor, torch.Tensor]:
    """(n_positions, head_dim) cos and sin for rotary embeddings (RoFormer, Su et al. 2021).

    Channel i of the first half is paired with channel i of the second half (the GPT-NeoX layout), which
    lets `apply_rotary` work on two contiguous halves instead of interleaved pairs.
    """
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(n_positions, dtype=torch.float32), inv_freq)  # (n_positions, D/2)
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each (i, i + D/2) channel pair of x (B, H, T, D) by its position's angle; cos/sin are (T, D).

    Rotating queries and keys by their absolute positions makes their dot product depend only on the
    distance between them.
    """
    first, second = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-second, first), dim=-1) * sin


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position sees itself and earlier positions only."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # all heads in one matmul
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)  # back onto the residual
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None,
                kv_cache: KVCache | None, layer: int) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B,H,T,D)
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)

        past = 0
        if kv_cache is not None:
            past = kv_cache.pos
            k, v = kv_cache.append(layer, k, v)  # now (B, H, P+T, D)

        dropout_p = self.dropout if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        elif T == 1:
            # The single newest query may look at every cached key: no mask at all.
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        else:
            # Several new queries after a cached prefix: SDPA's is_causal aligns the mask to the top-left
            # corner, which is wrong when there are more keys than queries, so spell the mask out:
            # query i (absolute position P+i) may see keys 0..P+i.
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: widen 4x, non-linearity, project back onto the residual stream."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        activations = {"gelu": nn.GELU(), "gelu_tanh": nn.GELU(approximate="tanh"), "relu": nn.ReLU()}
        self.act = activations[config.activation]
        self.down = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(self.act(self.up(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: normalising the input of each branch, not the residual stream,
    keeps gradients well-behaved at depth without learning-rate warm-up tricks."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None,
                kv_cache: KVCache | None, layer: int) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), rope, kv_cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Token embedding (+ position information) -> n_layer blocks -> final LayerNorm -> vocabulary logits."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.context_length, config.n_embd) if config.positions == "learned" else None
        # Fixed tables are buffers, not parameters, and non-persistent: they are recomputed from the config,
        # so checkpoints stay small and cannot disagree with it.
        if config.positions == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_table(config.context_length, config.n_embd),
                                 persistent=False)
        if config.positions == "rotary":
            cos, sin = rotary_tables(config.context_length, config.head_dim)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_embeddings:
            # One matrix both reads tokens in and scores them out (Press & Wolf 2017): fewer parameters,
            # and rare tokens' input vectors get gradient from every output softmax.
            self.lm_head.weight = self.tok_emb.weight
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2 initialisation: N(0, 0.02) for matrices and embeddings, zero biases, and the projections
        that write onto the residual stream scaled by 1/sqrt(2*n_layer), since each block adds two such
        branches and the stream's variance would otherwise grow with depth."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for block in self.blocks:
            nn.init.normal_(block.attn.proj.weight, mean=0.0, std=residual_std)
            nn.init.normal_(block.mlp.down.weight, mean=0.0, std=residual_std)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, kv_cache: KVCache | None = None,
                all_logits: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits and, given targets, the mean cross-entropy over targets that are not IGNORE_INDEX.

        idx and targets are (B, T) token ids. With targets, logits are (B, T, V). Without, only the last
        position's logits are computed, (B, 1, V), since that is all sampling needs and the output matmul
        dominates small models; pass all_logits=True for every position. With a kv_cache, idx continues
        the cached sequence: its first token sits at position kv_cache.pos.
        """
        B, T = idx.shape
        start = kv_cache.pos if kv_cache is not None else 0
        if start + T > self.config.context_length:
            raise ValueError(f"{T} tokens starting at position {start} exceed the context length "
                             f"{self.config.context_length}; crop the input to its last "
                             f"{self.config.context_length - start} tokens")

        x = self.tok_emb(idx)  # (B, T, C)
        rope = None
        if self.config.positions == "learned":
            x = x + self.pos_emb(torch.arange(start, start + T, device=idx.device))
        elif self.config.positions == "sinusoidal":
            x = x + self.pos_table[start:start + T]
        else:
            rope = (self.rope_cos[start:start + T], self.rope_sin[start:start + T])
        x = self.drop(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, rope, kv_cache, layer)
        if kv_cache is not None:
            kv_cache.advance(T)
        x = self.ln_f(x)

        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                                   ignore_index=IGNORE_INDEX)
            return logits, loss
        if all_logits:
            return self.lm_head(x), None
        return self.lm_head(x[:, [-1], :]), None

    def new_kv_cache(self, batch_size: int) -> KVCache:
        """An empty cache on this model's device and in its dtype."""
        weight = self.tok_emb.weight
        return KVCache(self.config, batch_size, device=weight.device, dtype=weight.dtype)

    def num_params(self, exclude_embeddings: bool = False) -> int:
        """Parameter count (tied matrices counted once).

        exclude_embeddings drops the tables that are only looked up, never multiplied: the learned
        position table and, when untied, the input token table. (Tied, the token table is also the
        output projection, a real matmul, so it stays.) That is the N in FLOPs ~ 6N per token, and with
        learned positions it matches nanoGPT's get_num_params(non_embedding=True).
        """
        total = sum(p.numel() for p in self.parameters())
        if exclude_embeddings:
            if self.pos_emb is not None:
                total -= self.pos_emb.weight.numel()
            if not self.config.tie_embeddings:
                total -= self.tok_emb.weight.numel()
        return total

    def flops_per_token(self, seq_len: int | None = None) -> int:
        """Training FLOPs (forward + backward) per token: 6N for the weight matmuls plus 12*L*C*T for the
        attention scores and their weighted sum (PaLM, Chowdhery et al. 2022, appendix B), where T is the
        sequence length (default: the context length). Causal masking is not discounted, as in PaLM."""
        T = self.config.context_length if seq_len is None else seq_len
        cfg = self.config
        return 6 * self.num_params(exclude_embeddings=True) + 12 * cfg.n_layer * cfg.n_embd * T

    def estimate_mfu(self, tokens_per_s: float, peak_flops: float, seq_len: int | None = None) -> float:
        """Model FLOPs utilisation: the fraction of the hardware's peak (e.g. 989e12 for an H100's dense
        bf16) that training at tokens_per_s achieves."""
        return self.flops_per_token(seq_len) * tokens_per_s / peak_flops

    def configure_optimizer(self, weight_decay: float, lr: float, betas: tuple[float, float],
                            device_type: str) -> torch.optim.AdamW:
        """AdamW that decays only matrices and embeddings (params with >= 2 dims); biases and LayerNorm
        gains are left alone, since shrinking them towards zero only fights the normalisation.

        The fused kernel is used on CUDA only, where it saves a launch per parameter.
        """
        return adamw(self, weight_decay, lr, betas, device_type)


def adamw(module: nn.Module, weight_decay: float, lr: float, betas: tuple[float, float],
          device_type: str) -> torch.optim.AdamW:
    """``GPT.configure_optimizer`` for any module holding GPT parts (a classifier around a GPT body, say):
    AdamW over the trainable parameters, decaying only those with >= 2 dims, fused on CUDA."""
    params = [p for p in module.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=True if device_type == "cuda" else None)
