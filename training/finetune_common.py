"""What both fine-tuning commands share: opening a pretrained checkpoint with its tokenizer, a ledger of
skipped records and seeded splitting.

Fine-tuning reads hand-made data (TSV exports, scraped JSON), where a few bad records are normal. Each
reader therefore records *why* it skipped a record and where (file:line or file:record), and the run
reports the counts at the end instead of dying on record 3,812 of 5,000.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tiktoken
import torch

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error, load_checkpoint
from model.tokenizer import END_OF_TEXT, build_tokenizer, end_of_text_id
from model.gpt import GPT


@dataclass
class SkipLedger:
    """Counts skipped records by reason and keeps the first few locations of each, for the report."""

    examples_per_reason: int = 3
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, where: str) -> None:
        self.counts[reason] += 1
        seen = self.examples.setdefault(reason, [])
        if len(seen) < self.examples_per_reason:
            seen.append(where)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_reason": dict(self.counts), "examples": self.examples}

    def summary(self) -> str:
        if not self.total:
            return "skipped 0 records"
        parts = [f"{count} {reason} (e.g. {', '.join(self.examples[reason])})"
                 for reason, count in self.counts.most_common()]
        return f"skipped {self.total} records: " + "; ".join(parts)


@dataclass
class Pretrained:
    """A language-model checkpoint opened for fine-tuning."""

    model: GPT
    checkpoint: dict[str, Any]
    encoding: tiktoken.Encoding
    end_of_text: int  # also the padding id: padded positions are never read or scored

    @property
    def tokenizer_spec(self) -> dict[str, Any]:
        return self.checkpoint["tokenizer"]


def open_pretrained(path: str | Path, ranks_path: str | Path | None = None, purpose: str = "fine-tuning"
                    ) -> Pretrained:
    """The model (CPU, train mode), its checkpoint dict and its tokenizer; errors name what is missing.
    A classifier checkpoint is refused by ``load_checkpoint``: fine-tuning starts from a language model."""
    model, checkpoint = load_checkpoint(path, purpose)
    if "tokenizer" not in checkpoint:
        raise KeyError(f"checkpoint {path} has no 'tokenizer' entry, so text cannot be turned into its ids")
    try:
        encoding = build_tokenizer(checkpoint["tokenizer"], ranks_path)
        end_of_text = end_of_text_id(checkpoint["tokenizer"])
    except BAD_CHECKPOINT_ERRORS as exc:  # a malformed spec is the checkpoint's fault, not a bug here
        raise ValueError(f"checkpoint {path}: its tokenizer entry cannot be used ({type(exc).__name__}: {exc})"
                         ) from None
    if end_of_text is None:
        raise KeyError(f"checkpoint {path}'s tokenizer has no {END_OF_TEXT} special token; fine-tuning uses it "
                       "to end responses and to pad batches")
    if end_of_text >= model.config.vocab_size:
        raise ValueError(f"{END_OF_TEXT} id {end_of_text} is outside the model's vocabulary of "
                         f"{model.config.vocab_size}: checkpoint and tokenizer do not match")
    return Pretrained(model=model.train(), checkpoint=checkpoint, encoding=encoding, end_of_text=end_of_text)


def split_indices(n: int, fractions: tuple[float, ...], seed: int) -> list[list[int]]:
    """Shuffle range(n) with `seed` and cut it into consecutive parts of the given fractions; the last
    part takes the remainder, so every index lands in exactly one part."""
    if any(f < 0 for f in fractions) or sum(fractions) > 1.0 + 1e-9:
        raise ValueError(f"split fractions must be >= 0 and sum to at most 1, got {fractions}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    parts, start = [], 0
    for fraction in fractions:
        end = start + round(fraction * n)
        parts.append(order[start:end])
        start = end
    parts.append(order[start:])
    return parts


def run_cli(work: Callable[[Any], object], config: Any) -> int:
    """Run a fine-tuning entry point; bad data or paths end in one ``error: ...`` line, not a traceback."""
    try:
        work(config)
    except (FileNotFoundError, KeyError, ValueError) as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    return 0
