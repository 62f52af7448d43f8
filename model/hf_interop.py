"""Hugging Face interop: our checkpoints to and from the transformers GPT-2 layout (config.json +
model.safetensors), so a model trained here loads in `GPT2LMHeadModel` and a downloaded GPT-2 runs here.

    python -m model.hf_interop export --checkpoint runs/demo/checkpoint.pt --out hf/demo
    python -m model.hf_interop import --hf-dir path/to/gpt2 --out gpt2.pt [--ranks gpt2.tiktoken]

An export also writes the tokenizer as transformers reads it (tokenizer.json and its config, see
``model.hf_tokenizer``), so ``AutoTokenizer.from_pretrained(folder)`` gives our ids, and our own description
(refinery_tokenizer.json) so the folder re-imports whole. An import takes the tokenizer from, in order: the
ranks file named with --ranks (a folder of weights alone needs one), refinery_tokenizer.json, GPT-2's
vocab.json + merges.txt, or a byte-level BPE tokenizer.json.

How the layouts differ (worked for layer 0, width C):

    ours                          transformers GPT-2                    change
    tok_emb.weight (V, C)         transformer.wte.weight (V, C)         -
    pos_emb.weight (T, C)         transformer.wpe.weight (T, C)         -
    blocks.0.attn.qkv.weight      transformer.h.0.attn.c_attn.weight    (3C, C) -> (C, 3C): transposed,
    blocks.0.attn.proj.weight     transformer.h.0.attn.c_proj.weight      since GPT-2's Conv1D computes
    blocks.0.mlp.up.weight        transformer.h.0.mlp.c_fc.weight         x @ W where nn.Linear computes
    blocks.0.mlp.down.weight      transformer.h.0.mlp.c_proj.weight       x @ W.T
    blocks.0.ln_1 / ln_2, ln_f    transformer.h.0.ln_1 / ln_2, ln_f     -
    lm_head.weight                (absent: tied to wte)                 -

Both split the fused qkv output as [q | k | v] and each of those as heads of width C/H, so no reordering
is needed. What GPT-2's layout cannot hold is refused with the reason: rotary or sinusoidal positions and
untied embeddings. A model without biases is exported with zero biases, which computes the same function
(a zero bias adds nothing), and comes back as bias=True. GELU maps exactly: our exact-erf "gelu" is
transformers' "gelu"; our "gelu_tanh" is GPT-2's own "gelu_new".

Only safetensors is needed at run time; transformers itself is used by the tests alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from contracts.fsio import atomic_write
from contracts.tiktoken_ranks import GPT2_PATTERN, parse_ranks, ranks_bytes
from model.checkpoint_io import (BAD_CHECKPOINT_ERRORS, HF_IMPORT, exit_with_error, load_checkpoint,
                                 save_checkpoint)
from model.hf_tokenizer import (PATTERNS, published_encoding, ranks_from_tokenizer_json, write_hf_tokenizer)
from model.tokenizer import END_OF_TEXT, build_tokenizer, end_of_text_id
from model.gpt import GPT, GPTConfig

LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default, which model.gpt uses; GPT-2's too
TO_HF_ACTIVATION = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}
FROM_HF_ACTIVATION = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "relu": "relu"}
TOKENIZER_FILE = "refinery_tokenizer.json"  # our tokenizer description, so an export re-imports whole
TRANSPOSED = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
BLOCK_NAMES = {  # transformers' name within a block -> ours
    "ln_1.weight": "ln_1.weight", "ln_1.bias": "ln_1.bias", "ln_2.weight": "ln_2.weight", "ln_2.bias": "ln_2.bias",
    "attn.c_attn.weight": "attn.qkv.weight", "attn.c_attn.bias": "attn.qkv.bias",
    "attn.c_proj.weight": "attn.proj.weight", "attn.c_proj.bias": "attn.proj.bias",
    "mlp.c_fc.weight": "mlp.up.weight", "mlp.c_fc.bias": "mlp.up.bias",
    "mlp.c_proj.weight": "mlp.down.weight", "mlp.c_proj.bias": "mlp.down.bias",
}


class LayoutError(ValueError):
    """A model or folder the GPT-2 layout cannot carry; the message says which setting and what to do."""


def check_exportable(config: GPTConfig) -> None:
    problems = []
    if config.positions != "learned":
        problems.append(f"positions={config.positions!r} (GPT-2 has a learned position table only)")
    if not config.tie_embeddings:
        problems.append("tie_embeddings=False (GPT-2's output layer is its token embedding)")
    if config.activation not in TO_HF_ACTIVATION:
        problems.append(f"activation={config.activation!r}")
    if problems:
        raise LayoutError("cannot export to the GPT-2 layout: " + "; ".join(problems) +
                          ". Train with positions='learned' and tie_embeddings=True to get an exportable model.")


def to_hf_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """transformers GPT2LMHeadModel tensor names and shapes, contiguous, lm_head left out (tied)."""
    check_exportable(model.config)
    ours = model.state_dict()
    n_embd = model.config.n_embd

    def get(name: str, bias_width: int) -> torch.Tensor:
        if name in ours:
            return ours[name]
        if name.endswith(".bias"):
            return torch.zeros(bias_width, dtype=ours["tok_emb.weight"].dtype)  # bias=False: same function
        raise KeyError(name)

    hf = {"transformer.wte.weight": ours["tok_emb.weight"], "transformer.wpe.weight": ours["pos_emb.weight"],
          "transformer.ln_f.weight": ours["ln_f.weight"], "transformer.ln_f.bias": get("ln_f.bias", n_embd)}
    for layer in range(model.config.n_layer):
        for hf_name, our_name in BLOCK_NAMES.items():
            weight_name = f"blocks.{layer}.{our_name.rsplit('.', 1)[0]}.weight"
            bias_width = ours[weight_name].shape[0]  # out_features of the Linear, or LayerNorm's width
            tensor = get(f"blocks.{layer}.{our_name}", bias_width)
            hf[f"transformer.h.{layer}.{hf_name}"] = tensor.t() if hf_name in TRANSPOSED else tensor
    return {name: tensor.detach().cpu().contiguous() for name, tensor in hf.items()}


def hf_config(config: GPTConfig, end_of_text: int | None) -> dict[str, Any]:
    """config.json for transformers' GPT2Config, written without importing transformers."""
    check_exportable(config)
    special = end_of_text if end_of_text is not None and end_of_text < config.vocab_size else None
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": config.vocab_size, "n_positions": config.context_length, "n_ctx": config.context_length,
        "n_embd": config.n_embd, "n_layer": config.n_layer, "n_head": config.n_head, "n_inner": None,
        "activation_function": TO_HF_ACTIVATION[config.activation],
        "resid_pdrop": config.dropout, "embd_pdrop": config.dropout, "attn_pdrop": config.dropout,
        "layer_norm_epsilon": LAYER_NORM_EPS, "initializer_range": 0.02,
        "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True, "use_cache": True, "bos_token_id": special, "eos_token_id": special,
        "torch_dtype": "float32",
    }


def export_checkpoint(checkpoint_path: str | Path, out_dir: str | Path, ranks_path: str | Path | None = None) -> Path:
    """Write config.json, model.safetensors, the tokenizer for transformers and our tokenizer description
    into out_dir. A checkpoint without a tokenizer entry gets weights alone (``main`` says so)."""
    from safetensors.torch import save_file

    model, checkpoint = load_checkpoint(checkpoint_path, "python -m model.hf_interop export")
    tokenizer = checkpoint.get("tokenizer")
    encoding = build_tokenizer(tokenizer, ranks_path) if tokenizer else None  # fails before anything is written
    end_of_text = tokenizer.get("special_tokens", {}).get(END_OF_TEXT) if tokenizer else None
    config = hf_config(model.config, end_of_text)
    tensors = {name: t.float() for name, t in to_hf_state_dict(model).items()}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if tokenizer and encoding is not None:
        spec = {**tokenizer, "ranks": ranks_bytes(encoding._mergeable_ranks).decode("ascii")}  # travels whole
        with atomic_write(out_dir / TOKENIZER_FILE) as fh:
            fh.write((json.dumps(spec, indent=1) + "\n").encode("utf-8"))
        eot_name = next((name for name, token_id in encoding._special_tokens.items()
                         if token_id == end_of_text_id(tokenizer)), None)
        write_hf_tokenizer(encoding, out_dir, model.config.context_length, eot_name)
    return out_dir


def config_from_hf(hf: dict[str, Any], where: str) -> GPTConfig:
    """Our config for a transformers GPT-2 config.json, or LayoutError naming what does not fit."""
    if hf.get("model_type") != "gpt2":
        raise LayoutError(f"{where}: model_type is {hf.get('model_type')!r}; only 'gpt2' folders can be imported")
    n_embd = hf.get("n_embd", 768)
    problems = []
    activation = hf.get("activation_function", "gelu_new")
    if activation not in FROM_HF_ACTIVATION:
        problems.append(f"activation_function={activation!r} (supported: {sorted(FROM_HF_ACTIVATION)})")
    if hf.get("n_inner") not in (None, 4 * n_embd):
        problems.append(f"n_inner={hf['n_inner']} (our MLP is 4 * n_embd = {4 * n_embd} wide)")
    if abs(hf.get("layer_norm_epsilon", LAYER_NORM_EPS) - LAYER_NORM_EPS) > 1e-12:
        problems.append(f"layer_norm_epsilon={hf['layer_norm_epsilon']} (ours is {LAYER_NORM_EPS})")
    if not hf.get("scale_attn_weights", True) or hf.get("scale_attn_by_inverse_layer_idx", False):
        problems.append("non-standard attention scaling")
    if not hf.get("tie_word_embeddings", True):
        problems.append("tie_word_embeddings=false")
    if problems:
        raise LayoutError(f"{where}: cannot import into model.gpt: " + "; ".join(problems))
    return GPTConfig(vocab_size=hf.get("vocab_size", 50257), context_length=hf.get("n_positions", 1024),
                     n_layer=hf.get("n_layer", 12), n_head=hf.get("n_head", 12), n_embd=n_embd,
                     dropout=float(hf.get("resid_pdrop", 0.0)), bias=True,
                     activation=FROM_HF_ACTIVATION[activation], positions="learned", tie_embeddings=True)


def read_hf_tensors(hf_dir: Path) -> dict[str, torch.Tensor]:
    """model.safetensors, its sharded form (model.safetensors.index.json) or pytorch_model.bin."""
    from safetensors.torch import load_file

    if (hf_dir / "model.safetensors").is_file():
        return load_file(str(hf_dir / "model.safetensors"))
    index = hf_dir / "model.safetensors.index.json"
    if index.is_file():
        tensors: dict[str, torch.Tensor] = {}
        for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
            tensors.update(load_file(str(hf_dir / shard)))
        return tensors
    if (hf_dir / "pytorch_model.bin").is_file():
        return torch.load(hf_dir / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{hf_dir} has no model.safetensors, model.safetensors.index.json or "
                            "pytorch_model.bin")


def from_hf_state_dict(tensors: dict[str, torch.Tensor], config: GPTConfig, where: str) -> dict[str, torch.Tensor]:
    """Our state_dict from transformers names, with or without the 'transformer.' prefix (GPT2Model and
    the original gpt2 upload have none). The causal-mask buffers old uploads carry are dropped."""
    ours: dict[str, torch.Tensor] = {}
    unexpected = []
    for name, tensor in tensors.items():
        name = name.removeprefix("transformer.")
        parts = name.split(".")
        if name in ("wte.weight", "wpe.weight"):
            ours["tok_emb.weight" if name == "wte.weight" else "pos_emb.weight"] = tensor
        elif parts[0] == "ln_f":
            ours[name] = tensor
        elif name == "lm_head.weight":
            continue  # tied to wte (checked below)
        elif parts[0] == "h" and len(parts) >= 3:
            inner = ".".join(parts[2:])
            if inner in ("attn.bias", "attn.masked_bias"):
                continue  # causal-mask buffers, not weights
            if inner not in BLOCK_NAMES:
                unexpected.append(name)
                continue
            ours[f"blocks.{parts[1]}.{BLOCK_NAMES[inner]}"] = tensor.t() if inner in TRANSPOSED else tensor
        else:
            unexpected.append(name)
    if unexpected:
        raise LayoutError(f"{where}: tensors the GPT-2 layout does not have: {sorted(unexpected)[:8]}")
    if "lm_head.weight" in tensors and not torch.equal(tensors["lm_head.weight"], ours["tok_emb.weight"]):
        raise LayoutError(f"{where}: lm_head.weight differs from wte.weight, but the config says they are tied")
    ours["lm_head.weight"] = ours["tok_emb.weight"]
    return {name: tensor.float().contiguous() for name, tensor in ours.items()}


def spec_for_ranks(ranks_path: str | Path, special: dict[str, int], pattern: str | None) -> dict[str, Any]:
    """The description of a named ranks file: a published encoding's (recognised by its ranks) brings its
    own regex and special tokens; another takes ``pattern`` (a name in ``PATTERNS`` or a regex), else GPT-2's."""
    path = Path(ranks_path)
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer ranks file {path} does not exist")
    ranks = parse_ranks(path.read_bytes(), str(path))
    ordinary = set(ranks.values())
    clash = {name: token_id for name, token_id in special.items() if token_id in ordinary}
    if clash:
        raise LayoutError(f"config.json's special token ids {clash} are ordinary tokens of {path}: that ranks "
                          "file is not the vocabulary these weights were trained with")
    published = published_encoding(ranks)
    name, regex, specials = published if published else (path.stem, GPT2_PATTERN, {})
    if pattern is not None:
        regex = PATTERNS.get(pattern, pattern)
    return {"name": name, "ranks_path": str(path.resolve()), "pattern": regex,
            "special_tokens": {**specials, **special}}


def tokenizer_spec(hf_dir: Path, ranks_file: Path | None, hf: dict[str, Any], ranks_path: str | Path | None,
                   pattern: str | None = None) -> dict[str, Any]:
    """A tokenizer description for the checkpoint (module docstring: which source wins). Ranks read from
    the folder's vocabulary are written to ranks_file (.tiktoken), or embedded in the description when
    ranks_file is None."""
    eos = hf.get("eos_token_id")
    special = {END_OF_TEXT: int(eos)} if isinstance(eos, int) else {}
    if ranks_path is not None:
        return spec_for_ranks(ranks_path, special, pattern)
    if (hf_dir / TOKENIZER_FILE).is_file():
        return json.loads((hf_dir / TOKENIZER_FILE).read_text(encoding="utf-8"))
    if (hf_dir / "vocab.json").is_file() and (hf_dir / "merges.txt").is_file():
        import tiktoken.load

        ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(hf_dir / "merges.txt"), str(hf_dir / "vocab.json"))
        special_ids = set(special.values())
        ranks = {token: rank for token, rank in ranks.items() if rank not in special_ids}
        regex = GPT2_PATTERN
    elif (hf_dir / "tokenizer.json").is_file():
        ranks, regex, found = ranks_from_tokenizer_json(hf_dir / "tokenizer.json")
        special = {**found, **special}
    else:
        raise FileNotFoundError(f"{hf_dir} has no tokenizer we can read ({TOKENIZER_FILE}, vocab.json + "
                                "merges.txt, or tokenizer.json); pass --ranks with the .tiktoken file of its "
                                "vocabulary")
    spec = {"name": hf_dir.name, "pattern": PATTERNS.get(pattern, pattern) if pattern else regex,
            "special_tokens": special}
    if ranks_file is None:
        return {**spec, "ranks_path": str(hf_dir.resolve()), "ranks": ranks_bytes(ranks).decode("ascii")}
    with atomic_write(ranks_file) as fh:
        fh.write(ranks_bytes(ranks))
    return {**spec, "ranks_path": str(ranks_file.resolve())}


def read_hf(hf_dir: str | Path, ranks_path: str | Path | None = None, pattern: str | None = None,
            ranks_file: Path | None = None) -> tuple[GPT, dict[str, Any]]:
    """A transformers GPT-2 folder as our model (CPU, eval mode) and tokenizer description, nothing written
    except ranks_file when given (see ``tokenizer_spec``); what does not fit is a ``LayoutError``."""
    hf_dir = Path(hf_dir)
    config_file = hf_dir / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{hf_dir} has no config.json: is it a transformers model folder?")
    hf = json.loads(config_file.read_text(encoding="utf-8"))
    config = config_from_hf(hf, str(config_file))
    state = from_hf_state_dict(read_hf_tensors(hf_dir), config, str(hf_dir))
    model = GPT(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise LayoutError(f"{hf_dir}: weights do not match config.json: missing {missing[:8]}, "
                          f"unexpected {unexpected[:8]}")
    if ranks_file is not None:
        ranks_file.parent.mkdir(parents=True, exist_ok=True)
    spec = tokenizer_spec(hf_dir, ranks_file, hf, ranks_path, pattern)
    build_tokenizer(spec)  # a spec that does not make a tokenizer fails here, not in generate
    return model.eval(), spec


def import_hf(hf_dir: str | Path, out_path: str | Path, ranks_path: str | Path | None = None,
              pattern: str | None = None) -> Path:
    """Write our checkpoint format ({"model", "config", "tokenizer", "source"}) for a transformers GPT-2
    folder; `python -m model.generate` and `model.serve` open the result. Ranks converted from the folder's
    vocabulary go beside it (out_path with the suffix .tiktoken)."""
    hf_dir, out_path = Path(hf_dir), Path(out_path)
    model, spec = read_hf(hf_dir, ranks_path, pattern, out_path.with_suffix(".tiktoken"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint({"model": model.state_dict(), "config": dataclasses.asdict(model.config), "tokenizer": spec,
                     "source": {"kind": "transformers-gpt2", "path": str(hf_dir.resolve())}}, out_path, HF_IMPORT)
    return out_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.hf_interop",
                                     description="Convert checkpoints to and from the transformers GPT-2 layout.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="our checkpoint -> config.json + model.safetensors")
    export.add_argument("--checkpoint", required=True)
    export.add_argument("--out", required=True, help="folder to write")
    export.add_argument("--ranks-path", "--ranks", dest="ranks_path", default=None,
                        help="the tokenizer's .tiktoken file, if the checkpoint's recorded one has moved")
    imp = commands.add_parser("import", help="transformers GPT-2 folder -> our checkpoint")
    imp.add_argument("--hf-dir", required=True, help="folder with config.json and model.safetensors")
    imp.add_argument("--out", required=True, help="checkpoint file to write")
    imp.add_argument("--ranks", "--ranks-path", dest="ranks_path", default=None,
                     help=".tiktoken ranks for the vocabulary: needed for a folder of weights alone (else the "
                     "folder's refinery_tokenizer.json, vocab.json + merges.txt or tokenizer.json)")
    imp.add_argument("--pattern", default=None, help="pre-tokenisation regex, or one of "
                     f"{sorted(PATTERNS)} (default: the published encoding's for its ranks, else GPT-2's)")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            out = export_checkpoint(args.checkpoint, args.out, args.ranks_path)
            if not (out / "tokenizer.json").is_file():
                print(f"note: {args.checkpoint} has no tokenizer entry: {out} holds the weights alone",
                      file=sys.stderr)
            print(out)
        else:
            print(import_hf(args.hf_dir, args.out, args.ranks_path, args.pattern))
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    return 0


if __name__ == "__main__":
    sys.exit(main())
