"""Bits per byte of a text file: a model's compression of raw text, comparable across tokenizers.

Loss per token depends on how much text a token holds, so two tokenizers' losses cannot be compared; the
total information the model assigns to the text can. bits/byte = (sum of token NLLs in nats) / ln 2 /
(UTF-8 bytes of the text). The text's tokens, after one end-of-text token, are cut into consecutive
windows of the model's context length; each window is scored given the tokens before it in the window,
so every token is scored exactly once.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from training.benchmarks.model_source import LoadedModel


@torch.no_grad()
def bits_per_byte(loaded: LoadedModel, text: str, *, device: torch.device | str = "cpu",
                  batch_tokens: int = 4096) -> dict[str, float]:
    """{"bits_per_byte", "nats", "tokens", "bytes"} for ``text``."""
    n_bytes = len(text.encode("utf-8"))
    if n_bytes == 0:
        raise ValueError("empty text has no bits per byte")
    if loaded.end_of_text is None:
        raise ValueError("bits per byte conditions the first token on end-of-text, but the tokenizer has none")
    ids = [loaded.end_of_text] + loaded.encode(text)
    L = loaded.context_length
    windows = [(s, min(s + L, len(ids) - 1)) for s in range(0, len(ids) - 1, L)]
    rows = max(1, batch_tokens // L)
    nats = 0.0
    for b in range(0, len(windows), rows):
        chunk = windows[b:b + rows]
        width = max(e - s for s, e in chunk)
        x = torch.zeros((len(chunk), width), dtype=torch.long)
        y = torch.full((len(chunk), width), -100, dtype=torch.long)  # -100: padding, not scored
        for r, (s, e) in enumerate(chunk):
            x[r, :e - s] = torch.tensor(ids[s:e])
            y[r, :e - s] = torch.tensor(ids[s + 1:e + 1])
        logits, _ = loaded.model(x.to(device), all_logits=True)
        nats += float(F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), ignore_index=-100,
                                      reduction="sum").double())
    return {"bits_per_byte": nats / math.log(2) / n_bytes, "nats": nats, "tokens": len(ids) - 1,
            "bytes": n_bytes}


def file_bits_per_byte(loaded: LoadedModel, path: Path, **kwargs) -> dict[str, float]:
    """Bits per byte of a UTF-8 text file; names the file when it is not UTF-8."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); bits per byte needs UTF-8") from None
    return {"file": str(path), **bits_per_byte(loaded, text, **kwargs)}
