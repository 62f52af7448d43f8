"""Pretraining checkpoints: everything a resume needs, on top of the file format of ``model.checkpoint_io``
(format version, kind ``pretrain``, atomic save, weights-only load).

One file, ``<out_dir>/checkpoint.pt``, a dict of plain containers and tensors:

* ``model`` - the bare GPT's state_dict (no ``_orig_mod.`` / ``module.`` prefixes), ``config`` - its
  GPTConfig as a dict, ``tokenizer`` - what ``model.generate.build_tokenizer`` reads, with the ranks file's
  text embedded so the checkpoint decodes on a machine without the dataset: these three are all
  ``python -m model.generate`` needs;
* ``optimizer``, ``trainer`` (``TrainState``: step, tokens seen), ``sampler`` (samples consumed and what the
  order depends on), ``rng`` (every rank's torch RNG states: the CPU generator and the generator of the
  rank's own GPU, never the other GPUs it can see), ``train_config`` (the validated config),
  ``dataset`` (index hash, manifest hash, tokenizer identity) - for ``--resume``;
* ``init_from`` (only a run started from another model's weights): where it started, see
  ``training.init_from``.

Written to a temporary name in the same folder, fsynced, then renamed over the old file (``save_atomic``):
a process killed at any moment leaves either the previous checkpoint or the new one, never a torn file.
``CheckpointWriter`` copies the state to CPU memory and writes it on a background thread, so the ranks
train on while rank 0 writes (~1.5 GB with fsync for gpt2-124m: seconds the whole job would otherwise wait).

Resuming is decided once, on rank 0 (``load_for_resume``): on several nodes without a shared filesystem
the other ranks may see no checkpoint, or an old one, and ranks that decided for themselves would train
different steps and hang in the next collective. Ranks that cannot read rank 0's checkpoint get it from
rank 0 over the process group.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import torch

# The file format (version, kind, atomic save, weights-only load) is model.checkpoint_io's; FORMAT_VERSION,
# PRETRAIN and stamp are re-exported for the trainer, save_atomic is looked up here so tests can wrap it.
from model.checkpoint_io import (FORMAT_VERSION, PRETRAIN, CheckpointLoadError, read_checkpoint,  # noqa: F401
                                 save_atomic, stamp)
from contracts.token_dataset import TOKENIZER_FILE, TokenDataset
from training.distributed import Dist, any_rank, broadcast_object

CHECKPOINT_NAME = "checkpoint.pt"


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


def check_dataset(saved: dict[str, Any], dataset: TokenDataset, origin: Path) -> None:
    """Refuse to resume on a different dataset: a different tokenizer makes the weights meaningless, and
    a different index changes the data order."""
    now = dataset_identity(dataset)
    if saved.get("tokenizer_ranks_sha256") != now["tokenizer_ranks_sha256"]:
        raise CheckpointError(
            f"checkpoint {origin} was trained with tokenizer {saved.get('tokenizer_name')!r} (ranks sha256 "
            f"{str(saved.get('tokenizer_ranks_sha256'))[:16]}...), but dataset {dataset.root} uses "
            f"{now['tokenizer_name']!r} ({str(now['tokenizer_ranks_sha256'])[:16]}...): the token ids mean "
            "different things. Point data.dataset at the original dataset, or start a new run (another out_dir)")
    if saved.get("index_sha256") != now["index_sha256"]:
        raise CheckpointError(
            f"checkpoint {origin} was trained on dataset {saved.get('root')} (index sha256 "
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


class DeviceRNG(Protocol):
    """The per-device generator calls of ``torch.cuda`` that checkpoints use (tests pass a CPU stand-in)."""

    def get_rng_state(self, device: torch.device) -> torch.Tensor: ...

    def set_rng_state(self, new_state: torch.Tensor, device: torch.device) -> None: ...


def rng_state(device: torch.device, accelerator: DeviceRNG | None = None) -> dict[str, Any]:
    """This process's torch RNG states: the CPU generator and, on a GPU, that GPU's generator only.

    Only the rank's own device: saving every visible GPU's state (``get_rng_state_all``) tied the
    checkpoint to the GPU layout, and a job saved on 1 x 8 GPUs could not be restored on 2 x 4.
    """
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["device"] = (accelerator or torch.cuda).get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device, accelerator: DeviceRNG | None = None) -> str | None:
    """Restore ``rng_state``'s output on ``device``, whatever GPU it was saved on; a note if only part was."""
    torch.set_rng_state(state["cpu"])
    if device.type != "cuda":
        return None
    own = state.get("device")
    if own is None and isinstance(state.get("cuda"), (list, tuple)):  # written before: every visible GPU's
        legacy = state["cuda"]
        own = legacy[device.index] if device.index is not None and device.index < len(legacy) else None
    if own is None:
        return (f"note: the checkpoint holds no GPU RNG state for {device}: dropout masks will differ from an "
                "uninterrupted run")
    (accelerator or torch.cuda).set_rng_state(own, device)
    return None


def to_cpu(value: Any) -> Any:
    """A copy of ``value`` whose tensors are CPU tensors of their own: nothing aliases the live model,
    so training can go on while a thread writes it."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value


class CheckpointWriter:
    """Writes checkpoints one at a time, in the background unless ``background`` is off.

    ``submit`` first waits for the previous write (two writers never race on one file, and at most one
    CPU copy of the state is alive), copies the payload to CPU memory (``to_cpu``), then writes it with
    ``save_atomic`` on a non-daemon thread, so the interpreter finishes the write before the process
    exits. ``wait`` joins the write and raises its error, if any.
    """

    def __init__(self, background: bool = True):
        self.background = background
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, payload: dict[str, Any], path: Path) -> None:
        self.wait()
        snapshot = to_cpu(payload)
        if not self.background:
            save_atomic(snapshot, path)
            return
        self._thread = threading.Thread(target=self._write, args=(snapshot, path), name="checkpoint-writer")
        self._thread.start()

    def _write(self, snapshot: dict[str, Any], path: Path) -> None:
        try:
            save_atomic(snapshot, path)  # looked up at call time, so a test can wrap it
        except BaseException as error:  # noqa: BLE001 - handed to the training thread by wait()
            self._error = error

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, *, raise_error: bool = True) -> None:
        """Block until the write in flight (if any) is on disk; raise what it raised."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None and raise_error:
            raise error


def fingerprint(checkpoint: dict[str, Any]) -> str:
    """A short hash telling two copies of one checkpoint from two checkpoints: the counters, the config and
    every rank's RNG states (they change with every step)."""
    digest = hashlib.sha256(json.dumps([checkpoint.get("trainer"), checkpoint.get("sampler"),
                                        checkpoint.get("train_config")], sort_keys=True, default=str).encode())
    for state in checkpoint.get("rng", []):
        for key in sorted(state):
            value = state[key]
            for tensor in value if isinstance(value, (list, tuple)) else [value]:
                digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def load_for_resume(path: Path, resume: bool, dist: Dist,
                    check: Callable[[dict[str, Any]], None] = lambda _: None) -> dict[str, Any] | None:
    """The checkpoint this launch continues, or None for a fresh start; rank 0 decides for every rank.

    Rank 0 looks at ``path``: a checkpoint there without ``resume`` is an error; with ``resume`` it is
    loaded and ``check``ed (config and dataset), and any error is raised on every rank at once. A rank whose
    own copy is missing or differs gets rank 0's over the process group.
    """
    decision: dict[str, Any] | None = None
    saved: dict[str, Any] | None = None
    if dist.is_main:
        decision = {"resume": False, "error": None, "fingerprint": None}
        try:
            if path.exists() and not resume:
                raise CheckpointError(f"{path.parent} already holds a checkpoint; pass --resume to continue it, "
                                      "or choose another out_dir")
            if resume and path.exists():
                saved = load(path)
                check(saved)
                decision.update(resume=True, fingerprint=fingerprint(saved))
        except CheckpointError as error:
            decision["error"] = str(error)
        except Exception as error:  # tell the other ranks before failing here, or they wait forever
            broadcast_object({**decision, "error": f"rank 0 failed: {type(error).__name__}: {error}"}, dist)
            raise
    decision = broadcast_object(decision, dist)
    if decision["error"] is not None:
        raise CheckpointError(decision["error"])
    if not decision["resume"]:
        return None
    if not dist.is_main and path.is_file():
        try:
            saved = load(path)
        except CheckpointError:
            saved = None
        if saved is not None and fingerprint(saved) != decision["fingerprint"]:
            saved = None  # a stale checkpoint on this node's own disk
    if any_rank(saved is None, dist):
        received = broadcast_object(saved if dist.is_main else None, dist)
        saved = saved if saved is not None else received
    return saved


def load(path: Path) -> dict[str, Any]:
    """A pretraining checkpoint's dict, read by the one checkpoint module (``model.checkpoint_io``: weights
    only, format version and kind checked); its refusals become ``CheckpointError``."""
    try:
        return read_checkpoint(path, (PRETRAIN,), "resuming training")
    except CheckpointLoadError as error:
        raise CheckpointError(str(error)) from None


def check_resume_entries(checkpoint: dict[str, Any], path: Path) -> None:
    """Refuse a crafted or hand-edited checkpoint here, not with a KeyError deep inside ``--resume``."""
    wrong = [key for key in RESUME_KEYS if not isinstance(checkpoint.get(key), (dict, list))]
    if wrong:
        raise CheckpointError(f"checkpoint {path} lacks or has malformed entries {wrong}; it is damaged or not "
                              "a refinery training checkpoint")


RESUME_KEYS = ("model", "optimizer", "trainer", "sampler", "rng", "train_config", "dataset")
"""Entries ``--resume`` reads, each a dict (``rng``: a list, one state per process)."""
