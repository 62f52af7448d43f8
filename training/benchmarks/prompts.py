"""Prompt text for an item: few-shot examples drawn deterministically, then the item, in the bundle's format.

What the model sees, per task type (``cd`` = continuation_delimiter, ``ed`` = example_delimiter, default
" " and "\\n\\n"; each shot is one example rendered with its gold answer, followed by ``ed``):

    multiple_choice    shots + query + cd | choice                 one request per choice
    schema             shots + context_option + cd | continuation  one request per context option
    language_modeling  shots + context.strip() + cd | continuation one request
    minimal_pair       (end-of-text) | sentence                    one request per sentence

``|`` separates context from continuation. Whitespace at the end of the context moves to the start of the
continuation (lm-evaluation-harness's rule), so "Answer: " + "Paris" is scored as "Answer:" | " Paris",
the way a BPE tokenizer splits the joined text.

The shots for item i are ``random.Random(seed + i).sample`` of the other items' indices (nanochat's CORE
rule, seed 1234 by default): the same seed gives the same prompts on every machine and under any number
of ranks, and an item never sees itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from training.benchmarks.items import Item

DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Request:
    """One string pair to score: the log-likelihood of ``continuation`` given ``context``."""

    context: str
    continuation: str


def shot_indices(n_items: int, index: int, shots: int, seed: int) -> list[int]:
    """Which items serve as the few-shot examples of item ``index`` (never itself)."""
    if shots == 0:
        return []
    if shots > n_items - 1:
        raise ValueError(f"{shots} shots asked for, but the task has only {n_items - 1} other items")
    others = [i for i in range(n_items) if i != index]
    return random.Random(seed + index).sample(others, shots)


def render_shot(task_type: str, example: Item, cd: str) -> str:
    """One solved example, as the bundle writes it."""
    if task_type == "multiple_choice":
        return f"{example.query}{cd}{example.choices[example.gold]}"
    if task_type == "schema":
        return f"{example.choices[example.gold]}{cd}{example.continuation}"
    if task_type == "language_modeling":
        return f"{example.query.strip()}{cd}{example.continuation}"
    raise ValueError(f"{task_type} tasks take no few-shot examples")


def split_trailing_space(context: str, continuation: str) -> Request:
    stripped = context.rstrip()
    return Request(stripped, context[len(stripped):] + continuation)


def item_requests(task_type: str, items: Sequence[Item], index: int, shots: int, seed: int,
                  continuation_delimiter: str = " ", example_delimiter: str = "\n\n") -> list[Request]:
    """The requests that score item ``index``: one per choice (or one for language modelling)."""
    item, cd = items[index], continuation_delimiter
    prefix = "".join(render_shot(task_type, items[i], cd) + example_delimiter
                     for i in shot_indices(len(items), index, shots, seed))
    if task_type == "multiple_choice":
        return [split_trailing_space(prefix + item.query + cd, choice) for choice in item.choices]
    if task_type == "schema":
        return [split_trailing_space(prefix + option + cd, item.continuation) for option in item.choices]
    if task_type == "language_modeling":
        return [split_trailing_space(prefix + item.query.strip() + cd, item.continuation)]
    if task_type == "minimal_pair":
        return [Request("", sentence) for sentence in item.choices]
    raise ValueError(f"unknown task type {task_type!r}")
