"""LoRA (low-rank adapters, Hu et al. 2021) for fine-tuning: the pretrained weights stay frozen and each
targeted linear layer learns ``W + (alpha / r) * B @ A`` through two small matrices.

Why our own and not PEFT: PEFT wraps Hugging Face models; our GPT is a plain ``nn.Module`` and the job is
forty lines (replace the targeted ``nn.Linear`` modules, freeze the rest, fold ``B @ A`` back into the
weights on export), so the checkpoint format stays ours and a merged model is an ordinary GPT that every
tool loads. ``B`` starts at zero, so the adapted model is exactly the pretrained one before the first step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

# The linear layers of each transformer block (model/gpt.py): attention's fused q/k/v and output
# projections, the MLP's up and down projections. The embeddings and the tied output layer are not adapted.
BLOCK_LINEARS = ("qkv", "proj", "up", "down")


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    targets: tuple[str, ...] = BLOCK_LINEARS

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"LoRA rank must be at least 1, got {self.rank}")
        unknown = sorted(set(self.targets) - set(BLOCK_LINEARS))
        if unknown or not self.targets:
            raise ValueError(f"LoRA targets {unknown or list(self.targets)} are not linear layers of a block; "
                             f"choose from {list(BLOCK_LINEARS)}")


class LoraLinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, settings: LoraSettings) -> None:
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.scale = settings.alpha / settings.rank
        self.lora_a = nn.Parameter(torch.empty(settings.rank, base.in_features, device=base.weight.device,
                                               dtype=base.weight.dtype))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, settings.rank, device=base.weight.device,
                                               dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # as nn.Linear initialises its weight
        self.dropout = nn.Dropout(settings.dropout) if settings.dropout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.dropout(x) @ self.lora_a.T @ self.lora_b.T) * self.scale

    @torch.no_grad()
    def merged(self) -> nn.Linear:
        """The equivalent plain linear layer: ``W + scale * B @ A``."""
        out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None,
                        device=self.base.weight.device, dtype=self.base.weight.dtype)
        out.weight.copy_(self.base.weight + self.scale * (self.lora_b @ self.lora_a))
        if self.base.bias is not None:
            out.bias.copy_(self.base.bias)
        return out


def add_lora(model: nn.Module, settings: LoraSettings, trainable: tuple[str, ...] = ()) -> list[str]:
    """Freeze ``model`` and put adapters on the targeted linear layers of every block; returns their names.

    ``trainable`` names parameters (by prefix) that stay trainable beside the adapters, such as a
    classifier's new head.
    """
    for p in model.parameters():
        p.requires_grad_(False)
    adapted = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in settings.targets and isinstance(child, nn.Linear):
                setattr(module, child_name, LoraLinear(child, settings))
                adapted.append(f"{name}.{child_name}" if name else child_name)
    if not adapted:
        raise ValueError(f"no linear layer named {list(settings.targets)} in the model: nothing to adapt")
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in trainable):
            p.requires_grad_(True)
    return adapted


def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every adapter into its layer (in place), leaving the plain architecture and state-dict keys."""
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, LoraLinear):
                setattr(module, child_name, child.merged())
    for p in model.parameters():
        p.requires_grad_(True)
    return model


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapters' tensors (``...lora_a``/``...lora_b``): what a LoRA run learned."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k.endswith((".lora_a", ".lora_b"))}


def trainable_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
