"""Load a trainer checkpoint back into a `GPT`.

The trainer saves `torch.save({"model": state_dict, "config": dataclasses.asdict(GPTConfig), "tokenizer":
{...}, ...})`. Loading uses `weights_only=True`, so a checkpoint from elsewhere cannot run code on load;
that is why the checkpoint holds plain dicts, not a pickled config object.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import torch

from model.gpt import GPT, GPTConfig

COMPILE_PREFIX = "_orig_mod."  # torch.compile wraps the model; its state_dict keys gain this
DDP_PREFIX = "module."  # DistributedDataParallel wraps the model; its state_dict keys start with this


class CheckpointLoadError(ValueError):
    """A checkpoint that cannot be used (damaged, foreign, or refused by ``weights_only``); names the file."""


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


def clean_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys as a bare `GPT` names them, whether the trainer saved a compiled and/or DDP-wrapped model."""
    cleaned = {}
    for key, tensor in state_dict.items():
        key = key.replace(COMPILE_PREFIX, "")
        if key.startswith(DDP_PREFIX):
            key = key[len(DDP_PREFIX):]
        cleaned[key] = tensor
    return cleaned


def load_checkpoint(path: str | Path) -> tuple[GPT, dict[str, Any]]:
    """The model (on CPU, in eval mode) and the whole checkpoint dict (config, tokenizer, trainer state).

    Move the model with `.to(device)` afterwards; loading on CPU first means a checkpoint written on a GPU
    opens on any machine.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError (refused globals), zip/EOF errors of a damaged file, ...
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointLoadError(f"checkpoint {path} cannot be loaded ({type(exc).__name__}: {first_line[:200]}); "
                                  "it is damaged, not a checkpoint, or holds objects other than tensors and "
                                  "plain values (refused for safety)") from None
    if not isinstance(checkpoint, dict):
        raise ValueError(f"checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict with "
                         "'model' and 'config' keys")
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
