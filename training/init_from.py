"""``init_from``: start pretraining from another model's weights (continued pretraining on a new corpus),
as nanoGPT's ``init_from`` does.

The source is a refinery language-model checkpoint (a pretraining run's, an instruction-tuned one, an
imported one) or a Hugging Face GPT-2 folder, read through ``model.hf_interop``'s importer. Only the
weights and the architecture come from it: the optimiser, the learning-rate schedule and the data order
start afresh, as the config says (``--resume`` is what continues a run's own optimiser and data order).

The source's tokenizer must be the dataset's: the same ranks (by the sha256 of their canonical file, the
identity the tokenize stage records) and the same end-of-text id; otherwise the token ids of the new
corpus would mean other tokens to the model, and the run is refused before it starts.

What the run started from (``InitSource.record``: kind, path, the weights' sha256, the source's step when
it was a pretraining run) goes into the ``start`` record of metrics.jsonl and into every checkpoint the
run writes, so a model's lineage can be read back from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from contracts.tiktoken_ranks import ranks_bytes
from model.checkpoint_io import (BAD_CHECKPOINT_ERRORS, LANGUAGE_MODEL_KINDS, clean_state_dict, kind_of,
                                 read_checkpoint)
from model.gpt import GPTConfig
from model.hf_interop import read_hf
from model.tokenizer import build_tokenizer, end_of_text_id

HF_FOLDER = "transformers-gpt2"


class InitFromError(ValueError):
    """An init_from source that cannot start this run; the message names the source and what to do."""


@dataclass
class InitSource:
    """The weights a run starts from, their architecture and tokenizer, and the record of where they came from."""

    config: GPTConfig
    state_dict: dict[str, torch.Tensor]
    tokenizer: dict[str, Any]
    record: dict[str, Any]


def file_sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def weight_files(folder: Path) -> list[Path]:
    """The files of a transformers folder that hold its weights, in a fixed order."""
    names = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    return [folder / "config.json", *names]


def load_init_source(path: str | Path) -> InitSource:
    """The source at ``path``: a folder is a transformers GPT-2 folder, a file a refinery checkpoint."""
    path = Path(path)
    purpose = "init_from (starting a pretraining run from its weights)"
    try:
        if path.is_dir():
            model, spec = read_hf(path)
            return InitSource(model.config, model.state_dict(), spec,
                              {"kind": HF_FOLDER, "path": str(path.resolve()),
                               "sha256": file_sha256(weight_files(path))})
        checkpoint = read_checkpoint(path, LANGUAGE_MODEL_KINDS, purpose)
        missing = [key for key in ("model", "config", "tokenizer") if key not in checkpoint]
        if missing:
            raise InitFromError(f"init_from {path}: the checkpoint lacks {missing}")
        config = GPTConfig.from_dict(checkpoint["config"])
        trainer = checkpoint.get("trainer") if isinstance(checkpoint.get("trainer"), dict) else {}
        record = {"kind": "checkpoint", "checkpoint_kind": kind_of(checkpoint), "path": str(path.resolve()),
                  "sha256": file_sha256([path]), "step": trainer.get("step"),
                  "tokens_seen": trainer.get("tokens_seen")}
        if isinstance(checkpoint.get("init_from"), dict):
            record["init_from"] = checkpoint["init_from"]  # the source's own lineage
        return InitSource(config, clean_state_dict(checkpoint["model"]), checkpoint["tokenizer"], record)
    except InitFromError:
        raise
    except BAD_CHECKPOINT_ERRORS as error:
        message = str(error.args[0]) if error.args else str(error)
        if path.is_dir() and "--ranks" in message:
            message += (f"; for init_from, import it first (python -m model.hf_interop import --hf-dir {path} "
                        "--ranks FILE --out model.pt) and point init_from at model.pt")
        raise InitFromError(f"init_from {path}: {message}") from None


def ranks_identity(spec: dict[str, Any], where: str) -> tuple[str, int | None]:
    """(sha256 of the canonical ranks, end-of-text id) of a tokenizer description."""
    try:
        encoding = build_tokenizer(spec)
    except BAD_CHECKPOINT_ERRORS as error:
        raise InitFromError(f"init_from {where}: its tokenizer cannot be built ({error})") from None
    return hashlib.sha256(ranks_bytes(encoding._mergeable_ranks)).hexdigest(), end_of_text_id(spec)


def check_tokenizer(source: InitSource, dataset_info: dict[str, Any], dataset_root: Path) -> None:
    """Refuse a source whose tokenizer is not the dataset's (module docstring)."""
    where = source.record["path"]
    ranks_sha, eot = ranks_identity(source.tokenizer, where)
    if ranks_sha != dataset_info.get("ranks_sha256"):
        raise InitFromError(
            f"init_from {where} was trained with tokenizer {source.tokenizer.get('name')!r} (ranks sha256 "
            f"{ranks_sha[:16]}...), but dataset {dataset_root} is tokenized with {dataset_info.get('name')!r} "
            f"({str(dataset_info.get('ranks_sha256'))[:16]}...): the token ids mean different things. Tokenize "
            "the new corpus with the source's tokenizer (stages.tokenize.tokenizer with its ranks_path)")
    if eot != dataset_info.get("eot_id"):
        raise InitFromError(f"init_from {where}: end-of-text id {eot}, the dataset's is "
                            f"{dataset_info.get('eot_id')}: documents would be separated by another token")
    n_vocab = int(dataset_info.get("n_vocab", 0))
    if source.config.vocab_size < n_vocab:
        raise InitFromError(f"init_from {where}: vocabulary of {source.config.vocab_size} ids, the dataset's "
                            f"tokenizer has {n_vocab}")
