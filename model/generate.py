"""`python -m model.generate`: sample a continuation of a prompt from a checkpoint, on the command line.

A thin shell over the generation engine (``model.engine``: KV cache, sampling, context-window policy) and
the checkpoint's tokenizer (``model.tokenizer``); ``generate`` and ``build_tokenizer`` are importable from
here too, as before they had homes of their own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import torch

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error, load_checkpoint
from model.engine import generate
from model.templates import TEMPLATES, prompt_for
from model.tokenizer import END_OF_TEXT, build_tokenizer, end_of_text_id

__all__ = ["END_OF_TEXT", "build_tokenizer", "end_of_text_id", "generate", "main"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.generate",
                                     description="Sample a continuation of a prompt from a checkpoint.")
    parser.add_argument("--checkpoint", required=True, type=Path, help="file written by the trainer")
    parser.add_argument("--prompt", default="", help="text to continue; empty starts from end-of-text")
    parser.add_argument("--max-tokens", type=int, default=100, help="new tokens to generate at most")
    parser.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None, help="fix for a reproducible sample")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    parser.add_argument("--no-stop", action="store_true", help="keep going past end-of-text")
    parser.add_argument("--template", default="auto", choices=("auto", "none") + TEMPLATES,
                        help="wrap each prompt in a prompt template; auto: the checkpoint's own (an instruction-"
                             "tuned checkpoint records it), none for a pretrained one")
    parser.add_argument("--num-samples", type=int, default=1, help="samples per prompt (seeds seed, seed+1, ...)")
    parser.add_argument("--prompt-file", type=Path, default=None,
                        help="one prompt per line ('-' reads standard input); prints one JSON line per sample")
    args = parser.parse_args(argv)
    if args.num_samples < 1:
        parser.error(f"--num-samples must be at least 1, got {args.num_samples}")
    return args


def read_prompts(path: Path) -> list[str]:
    """The non-empty lines of a prompt file (or standard input for ``-``), each one prompt."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    prompts = [line for line in text.splitlines() if line.strip()]
    if not prompts:
        raise SystemExit(f"--prompt-file {path}: no prompts (one per line)")
    return prompts


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model, checkpoint = load_checkpoint(args.checkpoint, "python -m model.generate")
        if "tokenizer" not in checkpoint:
            raise KeyError(f"checkpoint {args.checkpoint} has no 'tokenizer' entry, so its ids cannot be "
                           "turned into text")
        encoding = build_tokenizer(checkpoint["tokenizer"], args.ranks_path)
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    end_of_text = end_of_text_id(checkpoint["tokenizer"])
    template = checkpoint.get("prompt_template") or "none" if args.template == "auto" else args.template
    model.to(args.device)
    prompts = read_prompts(args.prompt_file) if args.prompt_file else [args.prompt]
    for number, prompt in enumerate(prompts):
        text = prompt_for(prompt, template) if prompt or template != "none" else prompt
        prompt_ids = encoding.encode(text, allowed_special="all")
        if not prompt_ids:
            if end_of_text is None:
                raise SystemExit(f"empty prompt and the tokenizer has no {END_OF_TEXT} to start from")
            prompt_ids = [end_of_text]
        if max(prompt_ids) >= model.config.vocab_size:
            raise SystemExit(f"prompt token id {max(prompt_ids)} is outside the model's vocabulary of "
                             f"{model.config.vocab_size}: checkpoint and tokenizer do not match")
        idx = torch.tensor([prompt_ids], dtype=torch.long, device=args.device)
        for sample in range(args.num_samples):
            seed = None if args.seed is None else args.seed + sample
            out = generate(model, idx, args.max_tokens, temperature=args.temperature, top_k=args.top_k,
                           top_p=args.top_p, seed=seed, stop_token=None if args.no_stop else end_of_text)
            new_ids = [t for t in out[0, len(prompt_ids):].tolist() if t != end_of_text or args.no_stop]
            completion = encoding.decode([t for t in new_ids if t < encoding.n_vocab])  # padded slots: no text
            if args.prompt_file:
                print(json.dumps({"prompt_index": number, "prompt": prompt, "sample": sample, "seed": seed,
                                  "template": template, "completion": completion}, ensure_ascii=False))
            else:
                if sample:
                    print("---")
                # a raw continuation reads on from the prompt; a templated answer stands alone
                sys.stdout.write((prompt if template == "none" else "") + completion + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
