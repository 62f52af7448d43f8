"""The task registry: a task is a data file plus a small YAML entry, so a benchmark in a known format needs
no code.

An entry (see ``tasks.yaml`` beside this module for the shipped ones)::

    core.arc_easy:                      # name used on the command line
      file: arc/ARC-Easy-Test.jsonl     # relative to the registry's data_dir (or --data-dir)
      format: jsonl                     # jsonl | tsv | line_blocks  (training.benchmarks.items)
      type: multiple_choice             # multiple_choice | schema | language_modeling | minimal_pair
      fields: {query: question.stem, choices: "question.choices[].text", gold: answerKey,
               labels: "question.choices[].label"}
      query_template: "Question: {query}"   # optional, applied to the query before prompting
      shots: 10                         # few-shot examples drawn from the same file (never the item itself)
      continuation_delimiter: "\\nAnswer: "  # default " "
      example_delimiter: "\\n\\n"       # default "\\n\\n"
      random_baseline: 0.25             # default: the mean of 1 / number of choices (0 for language modelling)
      metric: acc_per_token             # the headline number; every metric of the type is reported too

``groups`` name lists of tasks (``core``). Errors name the registry file and the entry's line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from training.benchmarks.items import FIELDS_BY_TYPE, Item, read_items

DEFAULT_REGISTRY = Path(__file__).with_name("tasks.yaml")
DATA_DIR_ENV = "REFINERY_EVAL_DATA"
TASK_TYPES = tuple(FIELDS_BY_TYPE)
FORMATS = ("jsonl", "tsv", "line_blocks")
METRICS_BY_TYPE = {
    "multiple_choice": ("acc", "acc_norm", "acc_per_token"),
    "schema": ("acc", "acc_norm", "acc_per_token"),
    "language_modeling": ("acc", "perplexity"),
    "minimal_pair": ("acc",),
}
"""acc: highest summed log-likelihood (lm-eval's acc); acc_norm: highest log-likelihood per character of the
choice (lm-eval's acc_norm); acc_per_token: highest mean log-likelihood per continuation token (how
llm-foundry, DCLM and nanochat score the CORE bundle); language modelling acc: every continuation token is
the greedy argmax; perplexity: exp(-mean over items of the continuation's log-likelihood) (lm-eval's)."""
ENTRY_KEYS = {"file", "format", "type", "fields", "query_template", "shots", "continuation_delimiter",
              "example_delimiter", "random_baseline", "metric", "labels_file", "label_base",
              "choices_pattern", "block", "description"}


ITEM_CACHE: dict[tuple, list[Item]] = {}
"""Items per (file, its size and mtime, how it is read): the whole registry's data is ~30 MB of text, and
in-training evaluation rereads the same tasks every few hundred steps."""


class TaskRegistryError(ValueError):
    """A registry file or entry that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class TaskSpec:
    """One task entry, validated; ``line`` is where it starts in ``registry``."""

    name: str
    file: Path
    format: str
    type: str
    metric: str
    shots: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    query_template: str | None = None
    continuation_delimiter: str = " "
    example_delimiter: str = "\n\n"
    random_baseline: float | None = None
    labels_file: Path | None = None
    label_base: int = 0
    choices_pattern: str | None = None
    block: list[str] | None = None
    registry: Path = DEFAULT_REGISTRY
    line: int = 0

    def load_items(self) -> list[Item]:
        """The task's items in file order, with ``query_template`` applied; a file read once per process
        serves every task that reads it the same way (CORE's two HellaSwag entries share one bz2 file)."""
        stat = self.file.stat() if self.file.is_file() else None
        key = (str(self.file), stat and (stat.st_mtime_ns, stat.st_size), self.type, self.format,
               json.dumps(self.fields, sort_keys=True), str(self.labels_file), self.label_base,
               self.choices_pattern, json.dumps(self.block))
        if key not in ITEM_CACHE:
            ITEM_CACHE[key] = read_items(self.file, self.type, self.format, self.fields or None, self.labels_file,
                                         self.label_base, self.choices_pattern, self.block)
        items = ITEM_CACHE[key]
        if self.query_template is None:
            return items
        return [Item(query=self.query_template.format(query=item.query), choices=item.choices,
                     continuation=item.continuation, gold=item.gold, line=item.line) for item in items]


@dataclass(frozen=True)
class Registry:
    tasks: dict[str, TaskSpec]
    groups: dict[str, list[str]]
    path: Path

    def select(self, names: str) -> list[TaskSpec]:
        """Tasks for a comma-separated list of task and group names, in the order given, without repeats."""
        chosen: list[str] = []
        for name in (n.strip() for n in names.split(",") if n.strip()):
            expanded = self.groups.get(name, [name])
            for task in expanded:
                if task not in self.tasks:
                    known = ", ".join(sorted(self.groups)) + "; tasks: " + ", ".join(sorted(self.tasks))
                    raise TaskRegistryError(f"unknown task or group {task!r} (registry {self.path}); groups: {known}")
                if task not in chosen:
                    chosen.append(task)
        if not chosen:
            raise TaskRegistryError("no task named; pass --tasks core or a comma-separated list of task names")
        return [self.tasks[name] for name in chosen]


def entry_lines(text: str) -> dict[str, int]:
    """1-based line of each entry under ``tasks:`` (from the YAML node tree, since safe_load drops marks)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[str, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "tasks" and isinstance(value, yaml.MappingNode):
                for task_key, _ in value.value:
                    lines[str(task_key.value)] = task_key.start_mark.line + 1
    return lines


def load_registry(path: str | Path = DEFAULT_REGISTRY, data_dir: str | Path | None = None) -> Registry:
    """The validated registry at ``path``; data files resolve against ``data_dir``, else $REFINERY_EVAL_DATA,
    else the registry's own ``data_dir`` (relative to the registry file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        lines = entry_lines(text)
    except OSError as exc:
        raise TaskRegistryError(f"{path}: cannot read the task registry ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise TaskRegistryError(f"{position}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), dict):
        raise TaskRegistryError(f"{path}: expected a mapping with a 'tasks' mapping (name -> entry)")
    unknown = sorted(set(raw) - {"tasks", "groups", "data_dir"})
    if unknown:
        raise TaskRegistryError(f"{path}: unknown top-level keys {unknown}; allowed: data_dir, groups, tasks")
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or (path.parent / str(raw.get("data_dir", ".")))
    data_dir = Path(data_dir).resolve()
    tasks = {str(name): parse_entry(str(name), entry, path, lines.get(str(name), 0), data_dir)
             for name, entry in raw["tasks"].items()}
    groups_raw = raw.get("groups") or {}
    if not isinstance(groups_raw, dict):
        raise TaskRegistryError(f"{path}: 'groups' must map a group name to a list of task names")
    groups: dict[str, list[str]] = {}
    for group, members in groups_raw.items():
        if not isinstance(members, list) or not members:
            raise TaskRegistryError(f"{path}: group {group!r} must be a non-empty list of task names")
        missing = [m for m in members if m not in tasks]
        if missing:
            raise TaskRegistryError(f"{path}: group {group!r} names tasks that are not defined: {missing}")
        groups[str(group)] = [str(m) for m in members]
    return Registry(tasks=tasks, groups=groups, path=path)


def parse_entry(name: str, entry: Any, registry: Path, line: int, data_dir: Path) -> TaskSpec:
    position = f"{registry}:{line}: task {name!r}"

    def fail(message: str) -> TaskRegistryError:
        return TaskRegistryError(f"{position}: {message}")

    if not isinstance(entry, dict):
        raise fail(f"entry must be a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise fail(f"unknown keys {unknown}; allowed: {sorted(ENTRY_KEYS)}")
    missing = [key for key in ("file", "format", "type") if key not in entry]
    if missing:
        raise fail(f"missing {missing}")
    task_type, fmt = entry["type"], entry["format"]
    if task_type not in TASK_TYPES:
        raise fail(f"type {task_type!r} is not one of {list(TASK_TYPES)}")
    if fmt not in FORMATS:
        raise fail(f"format {fmt!r} is not one of {list(FORMATS)}")
    metric = entry.get("metric", "acc")
    if metric not in METRICS_BY_TYPE[task_type]:
        raise fail(f"metric {metric!r} does not apply to {task_type}; choose one of {list(METRICS_BY_TYPE[task_type])}")
    shots = entry.get("shots", 0)
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 0:
        raise fail(f"shots must be a non-negative integer, got {shots!r}")
    baseline = entry.get("random_baseline")
    if baseline is not None and (isinstance(baseline, bool) or not isinstance(baseline, (int, float))
                                 or not 0 <= baseline < 1):
        raise fail(f"random_baseline must be a fraction in [0, 1), got {baseline!r}")
    fields = entry.get("fields") or {}
    if not isinstance(fields, dict):
        raise fail("fields must map item fields to record keys")
    for key in ("continuation_delimiter", "example_delimiter", "query_template", "choices_pattern"):
        if key in entry and not isinstance(entry[key], str):
            raise fail(f"{key} must be a string, got {entry[key]!r}")
    template = entry.get("query_template")
    if template is not None and "{query}" not in template:
        raise fail("query_template must contain {query}")
    if fmt == "line_blocks" and not isinstance(entry.get("block"), list):
        raise fail("format line_blocks needs 'block', the name of each line of a block")
    labels_file = entry.get("labels_file")
    return TaskSpec(name=name, file=data_dir / str(entry["file"]), format=fmt, type=task_type, metric=metric,
                    shots=shots, fields=fields, query_template=template,
                    continuation_delimiter=entry.get("continuation_delimiter", " "),
                    example_delimiter=entry.get("example_delimiter", "\n\n"),
                    random_baseline=float(baseline) if baseline is not None else None,
                    labels_file=data_dir / str(labels_file) if labels_file else None,
                    label_base=int(entry.get("label_base", 0)), choices_pattern=entry.get("choices_pattern"),
                    block=entry.get("block"), registry=registry, line=line)
