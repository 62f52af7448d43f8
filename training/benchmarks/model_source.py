"""The one place the benchmarks touch ``model/``: a model and its tokenizer from a checkpoint file or a
Hugging Face GPT-2 folder. Everything else sees only ``LoadedModel``, so a change in how checkpoints load
is a change here alone (``hidden_at`` reaches two submodules by name to skip the output projection at
positions nobody reads)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:
    from model.gpt import KVCache


@dataclass
class LoadedModel:
    """A GPT in eval mode with its text encoder (no special tokens parsed from text) and end-of-text id."""

    model: torch.nn.Module
    encode: Callable[[str], list[int]]
    end_of_text: int | None
    context_length: int
    source: str

    def hidden_at(self, idx: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                  kv_cache: "KVCache | None" = None) -> torch.Tensor:
        """States (N, C) at positions (rows[i], cols[i]) of the batch ``idx`` (B, T), which continues
        ``kv_cache``'s positions when one is given; ``project`` turns them into logits (N, V).

        The vocabulary projection dominates a small model's forward pass and the benchmarks read only the
        continuation's few positions, so the final hidden states are caught at ``ln_f`` and only the
        wanted rows go through ``lm_head``, in chunks, by the caller. A model without those two modules
        gets a full forward and its logits are the "states" (``project`` is then the identity).
        """
        ln_f, lm_head = getattr(self.model, "ln_f", None), getattr(self.model, "lm_head", None)
        if ln_f is None or lm_head is None:
            logits, _ = self.model(idx, kv_cache=kv_cache, all_logits=True)
            return logits[rows, cols]
        caught: list[torch.Tensor] = []
        handle = ln_f.register_forward_hook(lambda module, args, output: caught.append(output))
        try:
            self.model(idx, kv_cache=kv_cache)  # computes the output projection for the last position only
        finally:
            handle.remove()
        return caught[-1][rows, cols]

    def project(self, states: torch.Tensor) -> torch.Tensor:
        """Logits of states from ``hidden_at``."""
        ln_f, lm_head = getattr(self.model, "ln_f", None), getattr(self.model, "lm_head", None)
        return states if ln_f is None or lm_head is None else lm_head(states)

    def hidden_after_prefix(self, prefix: torch.Tensor, suffixes: torch.Tensor, rows: torch.Tensor,
                            cols: torch.Tensor) -> torch.Tensor:
        """``hidden_at`` (rows[i], cols[i]) of ``suffixes`` (B, S), every row continuing the same ``prefix``
        (P,): the prefix is read once and its keys and values serve all B rows (a multiple-choice item's
        few-shot context, read once instead of once per choice). Positions are those of the whole
        sequence, so the states equal ``hidden_at`` of prefix + suffix, to float rounding."""
        from model.gpt import KVCache

        config = self.model.config
        weight = self.model.tok_emb.weight
        P, (B, S) = prefix.numel(), suffixes.shape
        once = KVCache(config.replace(context_length=P), 1, device=weight.device, dtype=weight.dtype)
        self.model(prefix[None], kv_cache=once)
        shared = KVCache(config.replace(context_length=P + S), B, device=weight.device, dtype=weight.dtype)
        shared.k[:, :, :, :P] = once.k  # (layers, 1, H, P, D) broadcast over the B rows
        shared.v[:, :, :, :P] = once.v
        shared.pos = P
        return self.hidden_at(suffixes, rows, cols, kv_cache=shared)


def from_trained(model: torch.nn.Module, tokenizer_spec: dict) -> LoadedModel:
    """A model in training with the tokenizer description its checkpoint records (in-training evaluation)."""
    from model.tokenizer import build_tokenizer, end_of_text_id

    encoding = build_tokenizer(tokenizer_spec)
    return LoadedModel(model=model, encode=encoding.encode_ordinary, end_of_text=end_of_text_id(tokenizer_spec),
                       context_length=model.config.context_length, source="training")


def load_model(path: str | Path, ranks_path: str | Path | None = None) -> LoadedModel:
    """A trainer checkpoint (``checkpoint.pt``) or a transformers GPT-2 folder (imported through
    ``model.hf_interop``, which converts its vocab.json + merges.txt unless ``ranks_path`` is given)."""
    from model.checkpoint_io import load_checkpoint
    from model.tokenizer import build_tokenizer, end_of_text_id
    from model.hf_interop import import_hf

    path = Path(path)
    if path.is_dir():
        with tempfile.TemporaryDirectory(prefix="refinery-eval-") as tmp:
            converted = import_hf(path, Path(tmp) / "imported.pt", ranks_path)
            model, checkpoint = load_checkpoint(converted, "evaluation")
            encoding = build_tokenizer(checkpoint["tokenizer"])  # ranks read now, before tmp goes
    else:
        model, checkpoint = load_checkpoint(path, "evaluation")
        if "tokenizer" not in checkpoint:
            raise KeyError(f"checkpoint {path} has no 'tokenizer' entry, so benchmark text cannot be encoded")
        encoding = build_tokenizer(checkpoint["tokenizer"], ranks_path)
    model.eval()
    return LoadedModel(model=model, encode=encoding.encode_ordinary,
                       end_of_text=end_of_text_id(checkpoint["tokenizer"]),
                       context_length=model.config.context_length, source=str(path))
