"""Reading labelled texts for classification fine-tuning, strictly: a record is read whole or skipped and
counted with its file and line, never cut at a separator or merged with the next line.

Formats: TSV, CSV or JSON lines of (text, label).

* Every physical line is one record (lines end at ``\\n`` only: a form feed or U+2028 inside an SMS is
  text). A line that is not UTF-8 is skipped, not decoded with replacement characters.
* TSV: a record has exactly as many tab-separated fields as the header (2 without one); a line with an
  extra tab is skipped: cutting it at the tab would train on half a text. Quotes mean nothing in TSV.
* CSV: each line is parsed on its own, strictly, so a stray quote makes *its* line a counted skip instead
  of swallowing the following lines into one text (a quoted field cannot span lines here).
* Header: a first row with a ``label`` column names the columns; the text column is the first of
  ``TEXT_COLUMNS`` (or, in a two-column file, the other one). Without a header the columns are given
  (``--columns label,text`` or ``text,label``) or told apart by their values: the label column is the one
  with few distinct values. A file where neither column looks like labels is refused, not read as 420
  classes.

Which labels are classes (``fix_labels``): the ones ``--labels`` names, else every label of the training
file, provided each has at least ``min_examples`` records; a rarer label is more likely a typo or a
shifted column than a class, and the run stops naming it rather than training a class on it.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from training.finetune_common import SkipLedger

FORMATS = ("tsv", "csv", "jsonl")
LAYOUTS = ("label,text", "text,label")
TEXT_COLUMNS = ("text", "sentence", "review", "message", "content", "document")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    position: str  # file:line, for error messages


def sniff_format(path: Path) -> str:
    """By suffix, else by the first non-empty line: a JSON object, a tab (TSV) or neither (CSV)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix in ("json", "ndjson"):
        return "jsonl"
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                return "jsonl" if line.lstrip().startswith("{") else "tsv" if "\t" in line else "csv"
    raise ValueError(f"{path} is empty: no records to fine-tune on")


def physical_lines(path: Path, ledger: SkipLedger) -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) of every line that is UTF-8 (a BOM on line 1 dropped);
    the others go to the ledger."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.removesuffix(b"\n").removesuffix(b"\r")
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                ledger.skip(f"not UTF-8 ({error.reason} at byte {error.start})", f"{path}:{number}")


def split_fields(line: str, fmt: str) -> list[str]:
    """The fields of one line; ``csv.Error`` for a CSV line that does not parse on its own."""
    if fmt == "tsv":
        return line.split("\t")
    return next(csv.reader([line], strict=True))


def looks_like_labels(distinct: int, rows: int) -> bool:
    """Few distinct values for the rows: at most 10, or one for every 20 rows."""
    return distinct <= max(10, rows // 20)


def choose_columns(path: Path, rows: list[tuple[int, list[str]]], columns: str | None,
                   log: Callable[[str], object]) -> tuple[int, int]:
    """(text column, label column) of a headerless two-column file (module docstring)."""
    if columns is not None:
        return (1, 0) if columns == "label,text" else (0, 1)
    distinct = [len({fields[c].strip() for _, fields in rows}) for c in (0, 1)]
    candidates = [c for c in (0, 1) if looks_like_labels(distinct[c], len(rows))]
    if not candidates:
        raise ValueError(f"{path} has no header and neither column looks like labels ({distinct[0]} and "
                         f"{distinct[1]} distinct values in {len(rows)} rows): add a header row naming the "
                         "'text' and 'label' columns, or pass --columns label,text or text,label")
    label = min(candidates, key=lambda c: (distinct[c], c))
    log(f"{path}: no header; column {label + 1} read as the label ({distinct[label]} distinct values), "
        f"column {2 - label} as the text (--columns sets this)")
    return 1 - label, label


def read_delimited(path: Path, fmt: str, ledger: SkipLedger, columns: str | None,
                   log: Callable[[str], object]) -> list[Example]:
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for number, line in physical_lines(path, ledger):
        if not line.strip():
            continue
        try:
            fields = split_fields(line, fmt)
        except csv.Error as error:
            ledger.skip(f"malformed CSV line ({error}; a stray quote?)", f"{path}:{number}")
            continue
        if header is None and not rows and "label" in [f.strip().lower() for f in fields]:
            header = [f.strip().lower() for f in fields]
            continue
        rows.append((number, fields))
    width = len(header) if header is not None else 2
    separator = "tab-separated" if fmt == "tsv" else "comma-separated"
    well_formed = []
    for number, fields in rows:
        if len(fields) != width:
            ledger.skip(f"{len(fields)} {separator} fields where {width} are expected"
                        + (" (a tab inside the text?)" if fmt == "tsv" and len(fields) > width else ""),
                        f"{path}:{number}")
        else:
            well_formed.append((number, fields))
    if header is not None:
        label_col = header.index("label")
        named = [i for i, name in enumerate(header) if name in TEXT_COLUMNS]
        if not named and width != 2:
            raise ValueError(f"{path}:1: the header {header} has a 'label' column but no text column (one of "
                             f"{', '.join(TEXT_COLUMNS)})")
        text_col = named[0] if named else 1 - label_col
    elif well_formed:
        text_col, label_col = choose_columns(path, well_formed, columns, log)
    else:
        return []
    return [Example(text=fields[text_col], label=fields[label_col].strip(), position=f"{path}:{number}")
            for number, fields in well_formed]


def read_jsonl(path: Path, ledger: SkipLedger) -> list[Example]:
    examples = []
    for number, line in physical_lines(path, ledger):
        if not line.strip():
            continue
        position = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            ledger.skip(f"malformed JSON ({error.msg})", position)
            continue
        if not isinstance(record, dict):
            ledger.skip("record is not a JSON object", position)
            continue
        label = record.get("label")
        label = str(label) if isinstance(label, (str, int)) and not isinstance(label, bool) else label
        examples.append(Example(text=record.get("text"), label=label, position=position))  # type: ignore[arg-type]
    return examples


def read_examples(path: str | Path, fmt: str | None = None, ledger: SkipLedger | None = None,
                  columns: str | None = None, log: Callable[[str], object] = lambda _: None
                  ) -> tuple[list[Example], SkipLedger]:
    """Every well-formed (text, label) record of the file; the rest go to the ledger with their line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classification data {path} does not exist")
    fmt = fmt or sniff_format(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown data format {fmt!r}; choose one of {FORMATS}")
    if columns is not None and columns not in LAYOUTS:
        raise ValueError(f"columns must be one of {LAYOUTS}, got {columns!r}")
    ledger = ledger if ledger is not None else SkipLedger()
    raw = read_jsonl(path, ledger) if fmt == "jsonl" else read_delimited(path, fmt, ledger, columns, log)
    examples = []
    for example in raw:
        if not isinstance(example.text, str) or not example.text.strip():
            ledger.skip("empty or non-text 'text'", example.position)
        elif not isinstance(example.label, str) or not example.label.strip():
            ledger.skip("missing or non-scalar 'label'", example.position)
        else:
            examples.append(Example(example.text, example.label.strip(), example.position))
    return examples, ledger


def fix_labels(given: Sequence[str] | None, examples: Sequence[Example], min_examples: int,
               origin: str) -> list[str]:
    """The classes, in order: ``given`` (each must occur in the training file), else the training file's
    labels sorted, each with at least ``min_examples`` records (module docstring)."""
    counts = Counter(e.label for e in examples)
    if given:
        if len(set(given)) != len(given):
            raise ValueError(f"--labels names a class twice: {list(given)}")
        absent = [label for label in given if not counts[label]]
        if absent:
            raise ValueError(f"--labels names {absent}, which no record of {origin} has (its labels: "
                             f"{describe(counts)})")
        labels = list(given)
    else:
        first: dict[str, str] = {}
        for e in examples:
            first.setdefault(e.label, e.position)
        rare = sorted((label for label, n in counts.items() if n < min_examples), key=lambda l: (counts[l], l))
        if rare:
            shown = ", ".join(f"{label!r} x{counts[label]} ({first[label]})" for label in rare[:5])
            raise ValueError(f"{origin}: {len(rare)} of its {len(counts)} labels have fewer than {min_examples} "
                             f"records: {shown}{' ...' if len(rare) > 5 else ''}. A typo, or the text read as "
                             "the label? Pass --labels with the classes (records with other labels are then "
                             "skipped and counted), --columns for a headerless file, or --min-class-examples")
        labels = sorted(counts)
    if len(labels) < 2:
        raise ValueError(f"{origin}: {len(labels)} distinct label(s) {labels}; a classifier needs at least 2 "
                         "(is the label column right? see --format and --columns)")
    return labels


def describe(counts: Counter[str], shown: int = 8) -> str:
    items = [f"{label!r} x{n}" for label, n in counts.most_common(shown)]
    return ", ".join(items) + (f" and {len(counts) - shown} more" if len(counts) > shown else "")


def keep_known(examples: Sequence[Example], labels: Sequence[str], ledger: SkipLedger) -> list[Example]:
    """The examples whose label is a class; the others are counted skips."""
    known = set(labels)
    kept = []
    for example in examples:
        if example.label in known:
            kept.append(example)
        else:
            ledger.skip(f"unknown label {example.label!r}", example.position)
    return kept
