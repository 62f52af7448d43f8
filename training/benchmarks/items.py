"""Reading a task's data file into items, for every file format the registry knows.

One item shape serves every task type (``Item``); which fields matter depends on the type:

    multiple_choice   query = shared context, choices = continuations, gold = index of the right one
    schema            choices = the contexts (one per option), continuation = shared, gold = right context
    language_modeling query = context, continuation = the answer the model must produce greedily
    minimal_pair      choices = (good sentence, bad sentence); gold is always 0

Formats (``format:`` in a task entry):

    jsonl        one JSON object per line; ``fields`` maps item fields to keys. A key may be dotted
                 (``question.stem``) and may map over a list with ``[]`` (``question.choices[].text``);
                 ``choices`` may also be a list of keys (``[sol1, sol2]``). ``gold`` is an integer index,
                 or a label found in ``fields.labels`` (ARC's "A"/"1" answer keys). ``text`` with
                 ``split: last_word`` makes a LAMBADA item (context = all but the last word).
    tsv          a tab-separated file with a header row; ``fields`` name columns; ``choices_pattern`` is a
                 regex splitting one column into (label, text) pairs, e.g. OpenBookQA's "(A) x (B) y".
    line_blocks  fixed-size blocks of lines, ``block`` naming each line: the HellaSwag text form is
                 [query, gold, choice, choice, choice, choice].

``labels_file`` (any format) takes gold from a separate file, one label per line, minus ``label_base``
(PIQA's and WinoGrande's official label files). Every error names the file and line.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator


@dataclass(frozen=True)
class Item:
    """One scored example; ``line`` is its 1-based line in the data file, for error messages."""

    query: str = ""
    choices: tuple[str, ...] = ()
    continuation: str = ""
    gold: int = 0
    line: int = 0


class TaskDataError(ValueError):
    """A data file that does not hold what its task entry says; the message names file and line."""


def open_text(path: Path):
    """Text lines of a plain, .gz or .bz2 file (UTF-8)."""
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8", newline="\n")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return path.open("r", encoding="utf-8", newline="\n")


def lookup(record: Any, path: str) -> Any:
    """``record`` at a dotted path; ``name[]`` maps the rest of the path over the list at ``name``."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        values = record[head[:-2]]
        if not isinstance(values, list):
            raise TypeError(f"'{head[:-2]}' is a {type(values).__name__}, not a list")
        return [lookup(v, rest) if rest else v for v in values]
    if not isinstance(record, dict):
        raise TypeError(f"cannot look up '{head}' in a {type(record).__name__}")
    value = record[head]
    return lookup(value, rest) if rest else value


def resolve_gold(value: Any, labels: list[str] | None) -> int:
    """An index from an integer gold, or from a label looked up among ``labels``."""
    if labels is not None:
        if str(value) not in labels:
            raise ValueError(f"gold label {value!r} is not one of the choice labels {labels}")
        return labels.index(str(value))
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        raise ValueError(f"gold {value!r} is not an integer index")
    return int(value)


def make_item(task_type: str, fields: dict[str, Any], values: dict[str, Any], line: int) -> Item:
    """An ``Item`` of ``task_type`` from raw field values (already looked up in the record)."""
    if task_type == "language_modeling":
        if fields.get("split") == "last_word":
            text = str(values["text"])
            context, space, word = text.rpartition(" ")
            if not space or not word:
                raise ValueError("text has no last word after a space to predict")
            return Item(query=context, continuation=word, line=line)  # the delimiter adds the space
        return Item(query=str(values["context"]), continuation=str(values["continuation"]), line=line)
    if task_type == "minimal_pair":
        return Item(choices=(str(values["good"]), str(values["bad"])), gold=0, line=line)
    if task_type == "schema":
        options = values["context_options"]
        if not isinstance(options, list) or len(options) < 2:
            raise ValueError(f"context_options must be a list of at least 2 strings, got {options!r}")
        item = Item(choices=tuple(map(str, options)), continuation=str(values["continuation"]), line=line)
    else:
        choices = values["choices"]
        if not isinstance(choices, list) or len(choices) < 2:
            raise ValueError(f"choices must be a list of at least 2 strings, got {choices!r}")
        item = Item(query=str(values["query"]), choices=tuple(map(str, choices)), line=line)
    gold = resolve_gold(values["gold"], values.get("labels"))
    if not 0 <= gold < len(item.choices):
        raise ValueError(f"gold index {gold} is outside the {len(item.choices)} choices")
    return Item(query=item.query, choices=item.choices, continuation=item.continuation, gold=gold, line=line)


FIELDS_BY_TYPE = {
    "multiple_choice": ("query", "choices", "gold"),
    "schema": ("context_options", "continuation", "gold"),
    "language_modeling": ("context", "continuation"),
    "minimal_pair": ("good", "bad"),
}
"""Item fields each task type needs (``gold`` may instead come from ``labels_file``)."""


def default_fields(task_type: str) -> dict[str, Any]:
    """The CORE bundle's own key names: a bundle file needs no ``fields`` entry."""
    return {name: name for name in FIELDS_BY_TYPE[task_type]}


def jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path) as handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise TaskDataError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            yield number, record


def tsv_records(path: Path, choices_column: str | None, pattern: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for record in reader:
            number = reader.line_num
            if choices_column and pattern:
                text = record.get(choices_column) or ""
                parts = re.split(pattern, text)
                # re.split with one group: ['', label, text, label, text, ...]
                labels, texts = parts[1::2], [p.strip() for p in parts[2::2]]
                record = {**record, "_choices": texts, "_labels": labels}
            yield number, record


def line_block_records(path: Path, block: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path) as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % len(block):
        raise TaskDataError(f"{path}: {len(lines)} lines is not a whole number of {len(block)}-line blocks "
                            f"({block}); the file is truncated or not in this format")
    for start in range(0, len(lines), len(block)):
        record: dict[str, Any] = {}
        for name, text in zip(block, lines[start:start + len(block)]):
            if name == "choice":
                record.setdefault("choices", []).append(text)
            else:
                record[name] = text
        yield start + 1, record


def field_values(record: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Item field -> value for one record, following the task's ``fields`` mapping."""
    values: dict[str, Any] = {}
    for name, key in fields.items():
        if name == "split":
            continue
        if isinstance(key, list):
            values[name] = [lookup(record, k) for k in key]
        else:
            values[name] = lookup(record, key)
    return values


def read_items(path: Path, task_type: str, fmt: str, fields: dict[str, Any] | None = None,
               labels_file: Path | None = None, label_base: int = 0, choices_pattern: str | None = None,
               block: list[str] | None = None) -> list[Item]:
    """Every item of a data file, in file order; a bad record raises ``TaskDataError`` naming file and line."""
    if not path.is_file():
        raise TaskDataError(f"{path}: data file does not exist; check the task's 'file' and --data-dir")
    fields = dict(fields or default_fields(task_type))
    if labels_file is not None:
        fields.pop("gold", None)
    if fmt == "jsonl":
        records = jsonl_records(path)
    elif fmt == "tsv":
        choices_column = fields.get("choices") if choices_pattern else None
        if choices_pattern:
            fields = {**fields, "choices": "_choices", "labels": "_labels"}
        records = tsv_records(path, choices_column, choices_pattern)
    elif fmt == "line_blocks":
        if not block:
            raise TaskDataError(f"{path}: format line_blocks needs 'block' (the name of each line)")
        records = line_block_records(path, block)  # keys: the block's names, every "choice" in "choices"
    else:
        raise TaskDataError(f"{path}: unknown format {fmt!r}; known: jsonl, tsv, line_blocks")
    gold_labels = read_labels(labels_file, label_base) if labels_file is not None else None
    items = []
    for index, (number, record) in enumerate(records):
        try:
            values = field_values(record, fields)
            if gold_labels is not None:
                if index >= len(gold_labels):
                    raise ValueError(f"labels file {labels_file} has only {len(gold_labels)} labels")
                values["gold"] = gold_labels[index]
            items.append(make_item(task_type, fields, values, number))
        except KeyError as exc:
            raise TaskDataError(f"{path}:{number}: record lacks the key {exc.args[0]!r} (task fields "
                                f"{fields}); fix the record or the task's 'fields'") from None
        except (TypeError, ValueError) as exc:
            raise TaskDataError(f"{path}:{number}: {exc}") from None
    if gold_labels is not None and len(gold_labels) != len(items):
        raise TaskDataError(f"{labels_file}: {len(gold_labels)} labels for {len(items)} items in {path}")
    if not items:
        raise TaskDataError(f"{path}: holds no items")
    return items


def read_labels(path: Path, base: int) -> list[int]:
    if not path.is_file():
        raise TaskDataError(f"{path}: labels file does not exist")
    labels = []
    with open_text(path) as handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                labels.append(int(text.strip()) - base)
            except ValueError:
                raise TaskDataError(f"{path}:{number}: label {text.strip()!r} is not an integer") from None
    return labels
