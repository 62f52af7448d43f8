"""A tiny randomly initialised GPT saved in the trainer's checkpoint format with the real GPT-2 tokenizer,
shared by the fine-tuning, interop and serving tests (random weights: the tests check plumbing and
equivalences, not what a trained model says)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from model.gpt import GPT, GPTConfig

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_END_OF_TEXT = 50256
GPT2_VOCAB = 50257


def gpt2_tokenizer_spec(shared_data: Path) -> dict[str, Any]:
    return {"name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken"),
            "pattern": GPT2_PATTERN, "special_tokens": {"<|endoftext|>": GPT2_END_OF_TEXT}}


def save_tiny_checkpoint(path: Path, shared_data: Path, seed: int = 0, **overrides: Any) -> GPT:
    """`tiny` preset with the GPT-2 vocabulary (plus any overrides), saved at path; returns the model."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig.preset("tiny", **{"vocab_size": GPT2_VOCAB, **overrides})).eval()
    torch.save({"model": model.state_dict(), "config": dataclasses.asdict(model.config),
                "tokenizer": gpt2_tokenizer_spec(shared_data), "step": 0}, path)
    return model
