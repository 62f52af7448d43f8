"""What every filter shares: options, the per-document view, and signals-then-decisions.

A filter is two pure functions: ``compute`` measures a batch of documents once (its *signals*, stored as
columns beside the documents), and ``rules`` turns stored signals into *drop, because rule R fired with
value V* by comparing them with thresholds. Changing a threshold therefore only reruns ``rules``, which
is vectorised over a whole shard. Counting, the removal ledger and the rewrite bookkeeping live here once,
so a filter module holds only its measurements and its thresholds.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from pipeline.filters.words import Tokens, split_words, tokenize

# Bump when the definition of any signal changes: stored signals of older versions are then recomputed.
SIGNAL_VERSION = 1
N_CHARS = "n_chars"  # base column of every signals table: characters of the original text


class FilterOptions(BaseModel):
    """A filter's manifest section. ``SIGNAL_FIELDS`` change what is measured; all other fields are
    thresholds that only change decisions (and the rewrites applied to kept documents)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)
    SIGNAL_FIELDS: ClassVar[tuple[str, ...]] = ()
    enabled: bool = True

    def signal_options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SIGNAL_FIELDS}


class Doc:
    """One document as a filter sees it: text (after earlier rewrites), URL, and lazily shared words.

    The word filters read ``tokens`` (numpy arrays of token hashes, lengths, classes and line numbers,
    ``pipeline.filters.words.Tokens``), made once per text and shared by every filter; a line filter (C4)
    hands the tokens of the lines it keeps to the rewritten document instead of splitting it again.
    ``words`` and ``line_words`` are the same tokens as strings.
    """

    __slots__ = ("text", "url", "_tokens")

    def __init__(self, text: str, url: str | None = None, tokens: Tokens | None = None):
        self.text, self.url, self._tokens = text, url, tokens

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = tokenize(self.text)
        return self._tokens

    @property
    def line_words(self) -> list[list[str]]:
        """Words of each line of ``text.splitlines()``."""
        return [split_words(line) for line in self.text.splitlines()]

    @property
    def words(self) -> list[str]:
        return split_words(self.text)


@dataclass(frozen=True)
class Rule:
    """One rule evaluated over a shard: which documents it removes and the value it tested."""

    name: str
    fired: np.ndarray  # bool per document
    value: np.ndarray  # float per document: the signal the rule compared
    threshold: float | None = None
    detail: Sequence[str | None] | None = None  # e.g. the matched domain or the detected language


class Filter(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[FilterOptions]]
    SIGNALS: ClassVar[dict[str, pa.DataType]]
    PREFIX: ClassVar[bool] = True  # columns are "<filter>.<signal>"; language stores bare columns
    uses_words: ClassVar[bool] = False  # skipped (and removed as not_analysed) above the analysis cap
    rewrites: ClassVar[bool] = False  # changes the text of kept documents (and of what later filters see)

    def __init__(self, options: FilterOptions):
        self.options = options

    def column(self, signal: str) -> str:
        return f"{self.name}.{signal}" if self.PREFIX else signal

    def compute(self, docs: list[Doc]) -> dict[str, list[Any]]:
        """Signals of a batch; override where batching pays (language ID)."""
        rows = [self.signal(doc) for doc in docs]
        return {key: [row[key] for row in rows] for key in self.SIGNALS}

    def signal(self, doc: Doc) -> dict[str, Any]:
        raise NotImplementedError

    def measure(self, docs: list[Doc]) -> tuple[dict[str, list[Any]], list[Doc]]:
        """Signals and the documents later filters see (rewritten by a rewriting filter); one pass
        where a filter can do both at once (C4)."""
        signals = self.compute(docs)
        if self.rewrites:
            docs = [Doc(self.rewrite(doc.text, Counter()), doc.url) for doc in docs]
        return signals, docs

    @abstractmethod
    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        """The rules in the order they are tested; ``s`` maps signal names to per-document arrays."""

    def rewrite(self, text: str, counts: Counter) -> str:
        return text


def compute_signals(filters: list[Filter], texts: list[str], urls: list[str | None],
                    analysis_max_chars: int, seconds: Counter | None = None) -> dict[str, list[Any]]:
    """All signals of ``filters`` for a shard, in chain order: a rewriting filter (C4 line removal)
    changes the text that later filters measure, as it does in the decision step."""
    docs = [Doc(text, url) for text, url in zip(texts, urls)]
    columns: dict[str, list[Any]] = {N_CHARS: [len(t) for t in texts]}
    analysable = [i for i, t in enumerate(texts) if len(t) <= analysis_max_chars]
    for position, flt in enumerate(filters):
        started = time.perf_counter()
        index = analysable if flt.uses_words else range(len(docs))
        batch = [docs[i] for i in index]
        if flt.rewrites and position < len(filters) - 1:
            values, batch = flt.measure(batch)
            for i, doc in zip(index, batch):
                docs[i] = doc
        else:
            values = flt.compute(batch)
        for key, dtype in flt.SIGNALS.items():
            full: list[Any] = [None] * len(docs)
            for i, v in zip(index, values[key]):
                full[i] = v
            columns[flt.column(key)] = full
        if seconds is not None:
            seconds[flt.name] += time.perf_counter() - started
    return columns


def signal_schema(filters: list[Filter]) -> pa.Schema:
    fields = [pa.field("id", pa.string()), pa.field(N_CHARS, pa.int64())]
    fields += [pa.field(f.column(k), t) for f in filters for k, t in f.SIGNALS.items()]
    return pa.schema(fields)


def _as_array(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.array(column.to_pylist(), dtype=object)
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)  # nulls -> NaN


@dataclass
class Decisions:
    """Per document: the first (filter, rule) that fired in chain order, or None when kept."""

    filter: np.ndarray
    rule: np.ndarray
    value: np.ndarray
    threshold: np.ndarray
    detail: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        return np.array([f is None for f in self.filter], dtype=bool)


def decide(filters: list[Filter], signals: pa.Table, analysis_max_chars: int) -> Decisions:
    """Apply every enabled filter's rules to stored signals; the first rule that fires removes."""
    n = signals.num_rows
    out = Decisions(*(np.full(n, None, dtype=object) for _ in range(2)), np.full(n, np.nan),
                    np.full(n, np.nan), np.full(n, None, dtype=object))
    removed = np.zeros(n, dtype=bool)
    n_chars = _as_array(signals[N_CHARS])
    for flt in filters:
        s = {key: _as_array(signals[flt.column(key)]) for key in flt.SIGNALS}
        rules = []
        if flt.uses_words:
            rules.append(Rule("not_analysed", n_chars > analysis_max_chars, n_chars, analysis_max_chars))
        rules += flt.rules(s)
        for rule in rules:
            new = np.asarray(rule.fired, dtype=bool) & ~removed
            if not new.any():
                continue
            out.filter[new], out.rule[new] = flt.name, rule.name
            out.value[new] = np.asarray(rule.value, dtype=float)[new]
            out.threshold[new] = np.nan if rule.threshold is None else float(rule.threshold)
            if rule.detail is not None:
                out.detail[new] = np.asarray(rule.detail, dtype=object)[new]
            removed |= new
    return out


def count_removals(counts: Counter, source: str, decisions: Decisions, n_chars: np.ndarray) -> None:
    """Stage statistics: ``removed.<source>.<filter>.<rule>`` documents and ``removed_chars.…`` chars."""
    for i in np.flatnonzero(~decisions.kept):
        key = f"{source}.{decisions.filter[i]}.{decisions.rule[i]}"
        counts[f"removed.{key}"] += 1
        counts[f"removed_chars.{key}"] += int(n_chars[i])


def rewrite_kept(filters: list[Filter], texts: list[str], counts: Counter, source: str) -> list[str]:
    """Apply the rewriting filters (C4 line removal, PII redaction) to kept texts, counting each edit
    as ``rewritten.<source>.<filter>.<what>``."""
    rewriting = [f for f in filters if f.rewrites]
    if not rewriting:
        return texts
    out = []
    for text in texts:
        for flt in rewriting:
            local: Counter = Counter()
            text = flt.rewrite(text, local)
            for what, k in local.items():
                counts[f"rewritten.{source}.{flt.name}.{what}"] += k
        out.append(text)
    return out
