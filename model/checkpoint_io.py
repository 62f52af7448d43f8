"""The checkpoint file format, for every kind of checkpoint the project writes; the one place that saves and
opens them.

A checkpoint is ``torch.save`` of a dict of plain containers and tensors:

* ``format_version`` (``FORMAT_VERSION``) and ``kind`` (one of ``KINDS``): what the file is, so a tool
  refuses a file it cannot use with a message instead of a missing-keys traceback;
* ``model`` (a state_dict), ``config`` (``GPTConfig`` as a dict), ``tokenizer`` (what
  ``model.generate.build_tokenizer`` reads): every kind has these;
* per kind: ``optimizer``, ``trainer``, ``sampler``, ``rng``, ``train_config``, ``dataset`` (pretrain: what
  ``--resume`` reads, see ``training.checkpoint``); ``prompt_template`` and ``finetune`` (instruct);
  ``classifier`` and ``finetune`` (classifier: a GPT body plus a class head, not a language model);
  ``source`` (hf-import); a fine-tuning run's ``last.pt`` adds ``resume`` (what its ``--resume`` reads, see
  ``training.finetune_common.Checkpoints``) and its ``best.pt`` adds ``best``.

Loading uses ``weights_only=True``, so a checkpoint from elsewhere cannot run code on load; that is why it
holds plain dicts, not a pickled config object. Saving goes through ``contracts.fsio.atomic_write`` (a
temporary name, fsync, rename) and then fsyncs the folder, so a process killed at any moment leaves the old
file or the new one, and the rename survives a power cut.

Files written before ``kind`` existed still open: the trainer's (``format_version`` 1) are ``pretrain``;
files without a version (instruct, classifier, imported and hand-made checkpoints of that time) get their
kind from what they hold (``kind_of``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import torch

from model.gpt import GPT, GPTConfig
from contracts.fsio import atomic_write  # the project's one temporary-name-then-rename writer (fsyncs file and folder)

FORMAT_VERSION = 1
PRETRAIN, INSTRUCT, CLASSIFIER, HF_IMPORT = "pretrain", "instruct", "classifier", "hf-import"
KINDS = {PRETRAIN: "a pretraining run's checkpoint (python -m training.train)",
         INSTRUCT: "an instruction-tuned language model (python -m training.finetune_instruct)",
         CLASSIFIER: "a text classifier: a GPT body with a class head, no language-model head "
                     "(python -m training.finetune_classify)",
         HF_IMPORT: "a language model imported from transformers (python -m model.hf_interop import)"}
LANGUAGE_MODEL_KINDS = (PRETRAIN, INSTRUCT, HF_IMPORT)
"""Kinds whose weights are a whole ``GPT``: what generate, serve, export and fine-tuning open."""

COMPILE_PREFIX = "_orig_mod."  # torch.compile wraps the model; its state_dict keys gain this
DDP_PREFIX = "module."  # DistributedDataParallel wraps the model; its state_dict keys start with this


class CheckpointLoadError(ValueError):
    """A checkpoint that cannot be used here (damaged, foreign, the wrong kind or format version, or
    refused by ``weights_only``); the message names the file and what to do."""


class CheckpointNotFound(CheckpointLoadError, FileNotFoundError):
    """No file at the checkpoint path."""


BAD_CHECKPOINT_ERRORS = (OSError, KeyError, ValueError, TypeError, AttributeError, RuntimeError)
"""What loading a bad checkpoint or its tokenizer spec can raise; every tool turns them into one line."""


def exit_with_error(error: BaseException) -> NoReturn:
    """Print ``error: <message>`` (one line, no traceback) and exit with status 2 (bad input).

    The raised ``SystemExit`` keeps the message as its text, so callers (and tests) can still read it.
    """
    message = f"error: {error.args[0] if error.args else error}"
    print(message, file=sys.stderr)
    exit_ = SystemExit(message)
    exit_.code = 2
    raise exit_ from error


def save_atomic(payload: dict[str, Any], path: str | Path) -> Path:
    """torch.save to a temporary file beside ``path`` and rename it over ``path``; ``atomic_write`` fsyncs
    the file and then the folder, so the rename itself survives a power cut."""
    path = Path(path)
    with atomic_write(path) as fh:
        torch.save(payload, fh)
    return path


def stamp(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    """``payload`` with this format's version and ``kind``: what every writer puts in its file."""
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}; the kinds are {sorted(KINDS)}")
    return {**payload, "format_version": FORMAT_VERSION, "kind": kind}


def save_checkpoint(payload: dict[str, Any], path: str | Path, kind: str) -> Path:
    """Write ``payload`` as a checkpoint of ``kind``, atomically (see ``save_atomic``)."""
    return save_atomic(stamp(payload, kind), path)


def kind_of(checkpoint: dict[str, Any]) -> str:
    """The checkpoint's kind: its ``kind`` entry, else what a file written before kinds existed holds."""
    kind = checkpoint.get("kind")
    if kind is not None:
        return str(kind)
    finetune, source = checkpoint.get("finetune"), checkpoint.get("source")
    if isinstance(finetune, dict) and finetune.get("kind") == INSTRUCT:
        return INSTRUCT
    if isinstance(source, dict) and source.get("kind") == "transformers-gpt2":
        return HF_IMPORT
    return PRETRAIN


ADVICE = {  # (kind found, kinds expected) -> what to do instead
    CLASSIFIER: "pass the language-model checkpoint it was fine-tuned from (its metrics.json names it under "
                "config.checkpoint); to label texts with it run python -m training.classify CHECKPOINT --text ...",
    "to-classifier": "pass the classifier.pt that python -m training.finetune_classify wrote",
    "to-pretrain": "--resume continues only a pretraining run's own checkpoint: start a new run (another "
                   "out_dir), or fine-tune this model with python -m training.finetune_instruct",
}


def check_kind(checkpoint: dict[str, Any], path: Path, expected: tuple[str, ...], purpose: str) -> str:
    """The checkpoint's kind, or ``CheckpointLoadError`` naming the file, the kind found and the kinds
    ``purpose`` needs, and what to pass instead."""
    kind = kind_of(checkpoint)
    if kind not in KINDS:
        raise CheckpointLoadError(f"checkpoint {path} is of kind {kind!r}, which this version of refinery does "
                                  f"not know (it knows {sorted(KINDS)}): it was written by a newer version; "
                                  "upgrade refinery to open it")
    if kind in expected:
        return kind
    advice = (ADVICE[CLASSIFIER] if kind == CLASSIFIER else ADVICE["to-classifier"] if expected == (CLASSIFIER,)
              else ADVICE["to-pretrain"] if expected == (PRETRAIN,) else f"pass a checkpoint of kind "
              f"{' or '.join(expected)}")
    raise CheckpointLoadError(f"checkpoint {path} is a {kind!r} checkpoint ({KINDS[kind]}), but {purpose} needs "
                              f"kind {' or '.join(repr(k) for k in expected)}: {advice}")


def check_version(checkpoint: dict[str, Any], path: Path) -> None:
    """Refuse a format version this code does not read; a file without one predates versioning and is read
    as version 1 (its layout is the same)."""
    version = checkpoint.get("format_version")
    if version is None or version == FORMAT_VERSION:
        return
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise CheckpointLoadError(f"checkpoint {path} has format version {version}, newer than the version "
                                  f"{FORMAT_VERSION} this refinery reads: upgrade refinery to open it")
    raise CheckpointLoadError(f"checkpoint {path} has format version {version!r}; this refinery reads version "
                              f"{FORMAT_VERSION} (and unversioned files from before): it is damaged or not a "
                              "refinery checkpoint")


def read_checkpoint(path: str | Path, kinds: tuple[str, ...], purpose: str) -> dict[str, Any]:
    """The checkpoint dict at ``path``, on CPU, loaded with ``weights_only=True``, after checking that it is
    a dict of a format version this code reads and of one of ``kinds`` (``purpose`` names the use, for
    the error: "python -m model.generate", "resuming training", ...)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFound(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError (refused globals), zip/EOF errors of a damaged file, ...
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointLoadError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {first_line[:200]}); "
                                  "it is damaged, not a checkpoint, or holds objects other than tensors and "
                                  "plain values (refused for safety)") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointLoadError(f"checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict with "
                                  "'model' and 'config' keys: it is not a refinery checkpoint")
    check_version(checkpoint, path)
    check_kind(checkpoint, path, kinds, purpose)
    return checkpoint


def clean_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys as a bare `GPT` names them, whether the trainer saved a compiled and/or DDP-wrapped model."""
    cleaned = {}
    for key, tensor in state_dict.items():
        key = key.replace(COMPILE_PREFIX, "")
        if key.startswith(DDP_PREFIX):
            key = key[len(DDP_PREFIX):]
        cleaned[key] = tensor
    return cleaned


def load_checkpoint(path: str | Path, purpose: str = "this command") -> tuple[GPT, dict[str, Any]]:
    """A language-model checkpoint's model (on CPU, in eval mode) and its whole dict.

    Move the model with `.to(device)` afterwards; loading on CPU first means a checkpoint written on a GPU
    opens on any machine. A classifier checkpoint is refused (``check_kind``): it has no language-model head.
    """
    path = Path(path)
    checkpoint = read_checkpoint(path, LANGUAGE_MODEL_KINDS, purpose)
    missing = [key for key in ("model", "config") if key not in checkpoint]
    if missing:
        raise KeyError(f"checkpoint {path} lacks {missing}; it has keys {sorted(map(str, checkpoint))}")
    try:
        model = GPT(GPTConfig.from_dict(checkpoint["config"]))
        model.load_state_dict(clean_state_dict(checkpoint["model"]))
    except Exception as exc:  # a config or weights that do not make this model
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointLoadError(f"checkpoint {path}: its config and weights do not make a GPT "
                                  f"({type(exc).__name__}: {first_line[:200]})") from None
    model.eval()
    return model, checkpoint
