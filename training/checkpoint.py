"""Checkpoints: everything a resume needs, written atomically, readable with ``weights_only=True``.

One file, ``<out_dir>/checkpoint.pt``, a dict of plain containers and tensors:

* ``model`` - the bare GPT's state_dict (no ``_orig_mod.`` / ``module.`` prefixes), ``config`` - its
  GPTConfig as a dict, ``tokenizer`` - what ``model.generate.build_tokenizer`` reads, with the ranks file's
  text embedded so the checkpoint decodes on a machine without the dataset: these three are all
  ``python -m model.generate`` needs;
* ``optimizer``, ``trainer`` (``TrainState``: step, tokens seen), ``sampler`` (samples consumed and what the
  order depends on), ``rng`` (every rank's torch RNG states), ``train_config`` (the validated config),
  ``dataset`` (index hash, manifest hash, tokenizer identity) - for ``--resume``.

Written to a temporary name in the same folder, fsynced, then renamed over the old file: a process killed
at any moment leaves either the previous checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pipeline.fsio import atomic_write  # the one temporary-name-then-rename writer
from training.dataset import TOKENIZER_FILE, TokenDataset

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed here; the message says what differs and what to do."""


@dataclass
class TrainState:
    """The trainer's own counters; versioned like every resumable component."""

    VERSION = 1

    step: int = 0  # optimiser steps completed
    tokens_seen: int = 0  # training tokens consumed by those steps, all ranks together

    def state_dict(self) -> dict[str, int]:
        return {"version": self.VERSION, "step": self.step, "tokens_seen": self.tokens_seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.VERSION:
            raise CheckpointError(f"trainer state version {state.get('version')!r}, this trainer is version "
                                  f"{self.VERSION}: start a new run or use the code that wrote it")
        self.step = int(state["step"])
        self.tokens_seen = int(state["tokens_seen"])


def dataset_identity(dataset: TokenDataset) -> dict[str, Any]:
    """What makes a dataset this dataset: the index's hash, the manifest that made it, the tokenizer."""
    info = dataset.tokenizer_info
    return {"root": str(dataset.root), "index_sha256": dataset.fingerprint,
            "manifest_hash": dataset.index.get("manifest_hash"), "tokenizer_name": info.get("name"),
            "tokenizer_ranks_sha256": info.get("ranks_sha256"), "n_vocab": info.get("n_vocab")}


def check_dataset(saved: dict[str, Any], dataset: TokenDataset, where: Path) -> None:
    """Refuse to resume on a different dataset: a different tokenizer makes the weights meaningless, and
    a different index changes the data order."""
    now = dataset_identity(dataset)
    if saved.get("tokenizer_ranks_sha256") != now["tokenizer_ranks_sha256"]:
        raise CheckpointError(
            f"checkpoint {where} was trained with tokenizer {saved.get('tokenizer_name')!r} (ranks sha256 "
            f"{str(saved.get('tokenizer_ranks_sha256'))[:16]}...), but dataset {dataset.root} uses "
            f"{now['tokenizer_name']!r} ({str(now['tokenizer_ranks_sha256'])[:16]}...): the token ids mean "
            "different things. Point data.dataset at the original dataset, or start a new run (another out_dir)")
    if saved.get("index_sha256") != now["index_sha256"]:
        raise CheckpointError(
            f"checkpoint {where} was trained on dataset {saved.get('root')} (index sha256 "
            f"{str(saved.get('index_sha256'))[:16]}..., manifest {str(saved.get('manifest_hash'))[:16]}...), "
            f"but {dataset.root} has index {now['index_sha256'][:16]}... (manifest "
            f"{str(now['manifest_hash'])[:16]}...): resuming would change the data order. Point data.dataset "
            "at the original dataset, or start a new run (another out_dir)")


def tokenizer_spec(dataset: TokenDataset) -> dict[str, Any]:
    """The tokenizer as ``model.generate.build_tokenizer`` reads it, ranks embedded (a few hundred kB at
    most) so the checkpoint is self-sufficient; ``ranks_path`` still records where they came from."""
    info = dataset.tokenizer_info
    ranks_file = (dataset.root / TOKENIZER_FILE).resolve()
    ranks = ranks_file.read_text(encoding="ascii")
    if hashlib.sha256(ranks.encode("ascii")).hexdigest() != info.get("ranks_sha256"):
        raise CheckpointError(f"{ranks_file} does not match the tokenizer identity in {dataset.root}/index.json; "
                              "re-run the tokenize stage")
    return {"name": info["name"], "pattern": info["pattern"], "special_tokens": dict(info["special_tokens"]),
            "ranks_path": str(ranks_file), "ranks": ranks, "ranks_sha256": info["ranks_sha256"],
            "n_vocab": int(info["n_vocab"]), "eot_id": int(info["eot_id"])}


def rng_state() -> dict[str, Any]:
    """This process's torch RNG states (dropout and any other torch randomness)."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(payload: dict[str, Any], path: Path) -> None:
    """torch.save to a temporary file beside ``path``, fsync, rename over ``path``, fsync the folder."""
    with atomic_write(path) as fh:
        torch.save(payload, fh)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # make the rename itself durable
    finally:
        os.close(folder)


def load(path: Path) -> dict[str, Any]:
    """A checkpoint dict, loaded on CPU with ``weights_only=True`` (a checkpoint can never run code)."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged file
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is "
                              "damaged or not a refinery checkpoint") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format_version") != FORMAT_VERSION:
        found = checkpoint.get("format_version") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(f"checkpoint {path} has format version {found!r}; this trainer reads version "
                              f"{FORMAT_VERSION}")
    return checkpoint


def check_resume_entries(checkpoint: dict[str, Any], path: Path) -> None:
    """Refuse a crafted or hand-edited checkpoint here, not with a KeyError deep inside ``--resume``."""
    wrong = [key for key in RESUME_KEYS if not isinstance(checkpoint.get(key), (dict, list))]
    if wrong:
        raise CheckpointError(f"checkpoint {path} lacks or has malformed entries {wrong}; it is damaged or not "
                              "a refinery training checkpoint")


RESUME_KEYS = ("model", "optimizer", "trainer", "sampler", "rng", "train_config", "dataset")
"""Entries ``--resume`` reads, each a dict (``rng``: a list, one state per process)."""
