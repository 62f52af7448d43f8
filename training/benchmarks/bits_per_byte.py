"""Bits per byte of a text file or of a token dataset's split: a model's compression of raw text,
comparable across tokenizers.

Loss per token depends on how much text a token holds, so two tokenizers' losses cannot be compared; the
total information the model assigns to the text can. bits/byte = (sum of token NLLs in nats) / ln 2 /
(UTF-8 bytes of the text). The text's tokens, after one end-of-text token, are cut into consecutive
windows of the model's context length; each window is scored given the tokens before it in the window,
so every token is scored exactly once.

A token split (the pipeline's shards) is first decoded with the dataset's own tokenizer and re-encoded
with the model's, so a model scores the same documents, and the same bytes, whatever tokenizer made the
dataset. Each document follows an end-of-text token, as in training, in the order of the documents' ids;
the end-of-text tokens between documents are context, not scored, since they stand for no bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from training.benchmarks.model_source import LoadedModel


@torch.no_grad()
def stream_nats(loaded: LoadedModel, ids: Sequence[int], scored: Sequence[bool] | None = None, *,
                device: torch.device | str = "cpu", batch_tokens: int = 4096) -> float:
    """Sum of the NLLs (nats) of ``ids[1:]`` read in consecutive context-length windows; ``scored[k]``
    False leaves target ``ids[k + 1]`` out of the sum (all scored by default)."""
    L = loaded.context_length
    windows = [(s, min(s + L, len(ids) - 1)) for s in range(0, len(ids) - 1, L)]
    rows = max(1, batch_tokens // L)
    nats = 0.0
    for b in range(0, len(windows), rows):
        chunk = windows[b:b + rows]
        width = max(e - s for s, e in chunk)
        x = torch.zeros((len(chunk), width), dtype=torch.long)
        y = torch.full((len(chunk), width), -100, dtype=torch.long)  # -100: padding or unscored
        for r, (s, e) in enumerate(chunk):
            x[r, :e - s] = torch.tensor(ids[s:e])
            y[r, :e - s] = torch.tensor(ids[s + 1:e + 1])
            if scored is not None:
                y[r, :e - s][~torch.tensor(scored[s:e], dtype=torch.bool)] = -100
        logits, _ = loaded.model(x.to(device), all_logits=True)
        nats += float(F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), ignore_index=-100,
                                      reduction="sum").double())
    return nats


def require_end_of_text(loaded: LoadedModel) -> int:
    if loaded.end_of_text is None:
        raise ValueError("bits per byte conditions the first token on end-of-text, but the tokenizer has none")
    return loaded.end_of_text


def bits_per_byte(loaded: LoadedModel, text: str, *, device: torch.device | str = "cpu",
                  batch_tokens: int = 4096) -> dict[str, float]:
    """{"bits_per_byte", "nats", "tokens", "bytes"} for ``text``."""
    n_bytes = len(text.encode("utf-8"))
    if n_bytes == 0:
        raise ValueError("empty text has no bits per byte")
    ids = [require_end_of_text(loaded)] + loaded.encode(text)
    nats = stream_nats(loaded, ids, device=device, batch_tokens=batch_tokens)
    return {"bits_per_byte": nats / math.log(2) / n_bytes, "nats": nats, "tokens": len(ids) - 1,
            "bytes": n_bytes}


def file_bits_per_byte(loaded: LoadedModel, path: Path, **kwargs) -> dict[str, float]:
    """Bits per byte of a UTF-8 text file; names the file when it is not UTF-8."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); bits per byte needs UTF-8") from None
    return {"file": str(path), **bits_per_byte(loaded, text, **kwargs)}


def split_documents(dataset: Any, split: str, source: str, max_docs: int | None) -> list[bytes]:
    """The raw bytes of a source's documents in ``split``, without their end-of-text, in document-id order:
    the order (and so each token's context) depends on which documents the split holds, not on how the
    tokenize stage laid them into shards, so two datasets of the same documents give the same figure."""
    eot, rows = dataset.eot_id, []
    for shard in dataset.shards(split, source):
        rows += [(doc_id, shard, row) for row, doc_id in enumerate(shard.batch.column("id").to_pylist())]
    rows.sort(key=lambda r: r[0])
    documents = []
    for _, shard, row in rows[:max_docs]:
        tokens = shard.values[shard.offsets[row]:shard.offsets[row + 1]]
        if len(tokens) and tokens[-1] == eot:
            tokens = tokens[:-1]
        documents.append(dataset.encoding.decode_bytes([int(t) for t in tokens]))
    return documents


def split_bits_per_byte(loaded: LoadedModel, dataset_dir: Path, split: str = "val", *,
                        max_docs: int | None = None, device: torch.device | str = "cpu",
                        batch_tokens: int = 4096) -> dict[str, Any]:
    """Bits per byte of a token dataset's ``split``, per source and over all of them (sources weighted by
    their bytes); ``max_docs`` takes each source's first documents (by id) only."""
    from contracts.token_dataset import SPLITS, TokenDataset

    if split not in SPLITS:
        raise ValueError(f"split {split!r}: a token dataset has the splits {list(SPLITS)}")
    eot = require_end_of_text(loaded)
    dataset = TokenDataset.open(dataset_dir)
    sources: dict[str, dict[str, float]] = {}
    for source in dataset.sources:
        documents = split_documents(dataset, split, source, max_docs)
        if not documents:
            continue
        ids: list[int] = []
        scored: list[bool] = []  # per target ids[k + 1]
        for i, raw in enumerate(documents):
            encoded = loaded.encode(raw.decode("utf-8", errors="replace"))
            if i:
                scored.append(False)  # this document's end-of-text, the previous document's last target
            scored += [True] * len(encoded)
            ids += [eot] + encoded
        n_bytes = sum(map(len, documents))
        nats = stream_nats(loaded, ids, scored, device=device, batch_tokens=batch_tokens)
        sources[source] = {"bits_per_byte": nats / math.log(2) / n_bytes if n_bytes else float("nan"),
                           "nats": nats, "tokens": sum(scored), "bytes": n_bytes, "docs": len(documents)}
    total_bytes = sum(s["bytes"] for s in sources.values())
    if not total_bytes:
        raise ValueError(f"{dataset_dir}: the {split!r} split holds no text to score")
    total_nats = sum(s["nats"] for s in sources.values())
    return {"dataset": str(dataset_dir), "split": split, "bits_per_byte": total_nats / math.log(2) / total_bytes,
            "nats": total_nats, "tokens": sum(s["tokens"] for s in sources.values()), "bytes": total_bytes,
            "sources": sources}
