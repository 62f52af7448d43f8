"""What every filter shares: options, the per-document view, and signals-then-decisions.

A filter is two pure functions: ``compute`` measures a batch of documents once (its *signals*, stored as
columns beside the documents), and ``rules`` turns stored signals into *drop, because rule R fired with
value V* by comparing them with thresholds. Changing a threshold therefore only reruns ``rules``, which
is vectorised over a whole shard. Counting, the removal ledger and the rewrite bookkeeping live here once,
so a filter module holds only its measurements and its thresholds.
"""

from __future__ import annotations

import copy
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from pipeline.filters.lang_params import (SCRIPT_SEPARATOR, analysis_key, has_script_entries, localize, rules_off,
                                          segmenter_of)
from pipeline.filters.segment import script_of
from pipeline.filters.words import Tokens, split_words, tokenize, tokenize_many

try:  # compiled UTF-8 decoding of text columns; without it, pyarrow's to_pylist gives the same strs
    from pipeline.filters import _utf8
except ImportError:  # pragma: no cover - the extension is optional
    _utf8 = None

# Bump when the definition of any signal changes: stored signals of older versions are then recomputed.
SIGNAL_VERSION = 4  # 2: words segmented by the document's language (pipeline.filters.lang_params); 3: combining
# marks of every script stay in their word, the Tibetan shad ends a sentence (pipeline.filters.words); 4: the
# Ethiopic wordspace between two words separates them as a space does (pipeline.filters.words)
N_CHARS = "n_chars"  # base column of every signals table: characters of the original text
DECLARED = "@declared"  # key of the sources' declared languages in the signals handed to ``rules``


class FilterOptions(BaseModel):
    """A filter's manifest section. ``SIGNAL_FIELDS`` change what is measured; all other fields are
    thresholds that only change decisions (and the rewrites applied to kept documents)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)
    SIGNAL_FIELDS: ClassVar[tuple[str, ...]] = ()
    enabled: bool = True

    def signal_options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SIGNAL_FIELDS}


class Doc:
    """One document as a filter sees it: text (after earlier rewrites), URL, language, and lazily shared
    words, segmented as the language is (``pipeline.filters.lang_params.segmenter_of``).

    The word filters read ``tokens`` (numpy arrays of token hashes, lengths, classes and line numbers,
    ``pipeline.filters.words.Tokens``), made once per text and shared by every filter; a line filter (C4)
    hands the tokens of the lines it keeps to the rewritten document instead of splitting it again.
    ``words`` are the same tokens as strings (for a vocabulary renewed since ``tokens`` were made).
    ``utf8``: the text's UTF-8 bytes where the caller holds them already (a view of an Arrow column's data,
    ``utf8_views``), else None; a rewritten document has none. Language ID reads them in place instead
    of encoding ``text`` again.
    """

    __slots__ = ("text", "url", "_tokens", "language", "utf8")

    def __init__(self, text: str, url: str | None = None, tokens: Tokens | None = None,
                 language: str | None = None, utf8: memoryview | None = None):
        self.text, self.url, self._tokens, self.language, self.utf8 = text, url, tokens, language, utf8

    @property
    def segmenter(self) -> str:
        return segmenter_of(self.language)

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = tokenize(self.text, self.segmenter)
        return self._tokens

    @property
    def words(self) -> list[str]:
        return split_words(self.text, self.segmenter)


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

    def __init__(self, options: FilterOptions, language: str | None = None):
        self.options, self.language = options, language  # the language the options were localised to

    def for_language(self, language: str | None) -> Filter:
        """This filter with the options of ``language`` (``pipeline.filters.lang_params.localize``)."""
        if language == self.language:
            return self
        cache = self.__dict__.setdefault("_localized", {})
        if language not in cache:
            clone = copy.copy(self)  # shares what __init__ loaded (URL lists, models)
            clone.__dict__.pop("_localized", None)
            clone.options, clone.language = localize(self.options, self.name, language), language
            cache[language] = clone
        return cache[language]

    def column(self, signal: str) -> str:
        return f"{self.name}.{signal}" if self.PREFIX else signal

    def compute(self, docs: list[Doc]) -> dict[str, list[Any]]:
        """Signals of a batch as columns of the documents' ``values``; override where batching pays
        (language ID)."""
        columns = zip(*map(self.values, docs))
        return {key: list(next(columns, ())) for key in self.SIGNALS}

    def values(self, doc: Doc) -> tuple[Any, ...]:
        """The document's signals in ``SIGNALS`` order. A filter defines this or ``signal``: a tuple per
        document is cheaper than a dict and a look-up per signal (~0.8 -> ~0.3 us a document for Gopher
        quality; issue 13: zhwiki's equal-size shard has 23 documents where enwiki's has 5)."""
        if type(self).signal is Filter.signal:
            raise NotImplementedError(f"{type(self).__name__} defines neither signal nor values")
        row = self.signal(doc)
        return tuple(row[key] for key in self.SIGNALS)

    def signal(self, doc: Doc) -> dict[str, Any]:
        """The document's signals by name."""
        return dict(zip(self.SIGNALS, self.values(doc)))

    def measure(self, docs: list[Doc]) -> tuple[dict[str, list[Any]], list[Doc]]:
        """Signals and the documents later filters see (rewritten by a rewriting filter); one pass
        where a filter can do both at once (C4)."""
        signals = self.compute(docs)
        if self.rewrites:
            docs = [Doc(self.rewrite(doc.text, Counter()), doc.url, language=doc.language) for doc in docs]
        return signals, docs

    @abstractmethod
    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        """The rules in the order they are tested; ``s`` maps signal names to per-document arrays."""

    def skipped(self, s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Why -> True per document whose rules this filter left out although it is enabled (counted in the
        stage statistics as ``rules_skipped``, so a document kept unjudged is never kept silently)."""
        return {}

    def rewrite(self, text: str, counts: Counter) -> str:
        return text

    def leaves_out(self, s: dict[str, Any]) -> np.ndarray | None:
        """True per document this filter removes whatever the filters after it measure, known from its signals
        ``s`` and the options among its ``SIGNAL_FIELDS`` (so the signal hash covers the choice); the word
        filters after it measure none of them (their signals stay null, as for a document over the analysis
        cap). None: it knows of none (the default; thresholds only decide, they never stop a measurement)."""
        return None

    def unchanged(self, s: dict[str, np.ndarray]) -> np.ndarray | None:
        """For a rewriting filter: True per document whose signals ``s`` show that ``rewrite`` returns its
        text as it is and counts nothing, so the decision step need not decode and re-encode it (None:
        not known from the signals, every kept document is rewritten)."""
        return None


def analysis_languages(detected: Sequence[str | None] | None, declared: Sequence[str | None] | None,
                       n: int, scripts: Sequence[str | None] | None = None) -> list[str | None]:
    """The language each document's words are counted in: the detected one (language filter), else the
    one its source declares (a Wikipedia dump's xml:lang, a book's header), else unknown (English rules);
    with ``scripts`` (each document's dominant script, or None), the table key of that language in that script
    where the table has one (``lang_params.analysis_key``: "sr-Latn" for a Latin-script "sr" document).
    The signal and the decision step both call this, so they always agree."""
    out: list[str | None] = list(declared) if declared is not None else [None] * n
    if detected is not None:
        out = [d if d and d != "und" else o for d, o in zip(detected, out)]
    if scripts is not None:
        out = [analysis_key(lang, script) for lang, script in zip(out, scripts)]
    return out


def declared_scripts(declared: Sequence[str | None] | None, texts_at: Callable[[list[int]], Sequence[str]]
                     ) -> list[str | None] | None:
    """The dominant script (``segment.script_of``) of each document whose declared language has entries per script
    (``lang_params.has_script_entries``), None for the others; None when no document's has (nothing is computed).
    For a chain without the language filter, whose ``script`` signal covers every document. ``texts_at(rows)``: the
    texts of those rows (the decision step decodes only them)."""
    rows = [i for i, lang in enumerate(declared or ()) if has_script_entries(lang)]
    if not rows:
        return None
    out: list[str | None] = [None] * len(declared or ())
    for i, text in zip(rows, texts_at(rows)):
        out[i] = script_of(text)
    return out


def _groups(languages: Sequence[str | None]) -> dict[str | None, np.ndarray]:
    """Row numbers per language, languages in first-seen order (deterministic)."""
    rows: dict[str | None, list[int]] = {}
    for i, lang in enumerate(languages):
        rows.setdefault(lang, []).append(i)
    return {lang: np.array(r, dtype=np.int64) for lang, r in rows.items()}


def _tokenize_together(docs: list[Doc]) -> None:
    """The tokens of the documents (of one language) that have none, made in one batch
    (``words.tokenize_many``: jieba's cut of all their new chunks at once, its dictionary kept in cache)."""
    todo = [doc for doc in docs if doc._tokens is None]
    if todo:
        for doc, tokens in zip(todo, tokenize_many([doc.text for doc in todo], todo[0].segmenter)):
            doc._tokens = tokens


def utf8_views(column: pa.ChunkedArray | pa.Array) -> list[memoryview | None]:
    """Each value's UTF-8 bytes as a view of the column's own data buffer (no copy; None for a null, and
    for every value of a column that is not ``string`` or ``large_string``). Why: language ID read the
    texts' bytes by encoding their ``str`` again, ~25 instructions per Chinese character (3 bytes each),
    though the stage decoded them from these very bytes."""
    out: list[memoryview | None] = []
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        n = len(chunk)
        large = pa.types.is_large_string(chunk.type)
        if not n or not (large or pa.types.is_string(chunk.type)):
            out += [None] * n
            continue
        _, offsets, data = chunk.buffers()
        width = 8 if large else 4
        ends = np.frombuffer(offsets, np.int64 if large else np.int32, n + 1, chunk.offset * width).tolist()
        view = memoryview(data if data is not None else b"")
        views = [view[start:end] for start, end in zip(ends, ends[1:])]
        if chunk.null_count:
            views = [v if ok else None for v, ok in zip(views, chunk.is_valid().to_pylist())]
        out += views
    return out


def decode_texts(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """``column.to_pylist()``: the same strs (values and kinds) and None for nulls. Why: CPython's UTF-8
    decoder, which ``to_pylist`` uses, takes ~30 instructions per Chinese character (~5 per English one);
    ``_utf8.decode`` sizes each str in a vector pass and decodes 3-byte runs eight characters at a time
    (~10 per Chinese character, ~2.7 per English one; bench/README.md, utf8dec34's section).
    Columns of other types, and every column where the extension is not built, go through ``to_pylist``."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if _utf8 is None:
        return column.to_pylist()
    out: list[str | None] = []
    for chunk in chunks:
        large = pa.types.is_large_string(chunk.type)
        if not len(chunk) or not (large or pa.types.is_string(chunk.type)):
            out += chunk.to_pylist()
            continue
        validity, offsets, data = chunk.buffers()
        values = _utf8.decode(data, offsets, validity if chunk.null_count else None, chunk.offset, len(chunk),
                              large)
        if len(chunks) == 1:
            return values
        out += values
    return out


def compute_signals(filters: list[Filter], texts: list[str], urls: list[str | None],
                    analysis_max_chars: int, seconds: Counter | None = None,
                    declared: Sequence[str | None] | None = None,
                    utf8: Sequence[memoryview | None] | None = None) -> dict[str, list[Any]]:
    """All signals of ``filters`` for a shard, in chain order: a rewriting filter (C4 line removal)
    changes the text that later filters measure, as it does in the decision step. Filters after the
    language filter measure each document with the options and segmenter of its language
    (``analysis_languages``); ``declared`` gives the sources' own languages. ``utf8``, where the caller
    has them: each text's UTF-8 bytes (``utf8_views`` of the column ``texts`` were decoded from, which
    makes them valid UTF-8), read by language ID in place of ``texts``; the signals are the same.
    A document a filter leaves out (``Filter.leaves_out``: the language filter's keep-list) is measured by no
    word filter after it; its word signals stay null."""
    scripts = declared_scripts(declared, lambda rows: [texts[i] for i in rows])
    languages = analysis_languages(None, declared, len(texts), scripts)
    views = utf8 if utf8 is not None else [None] * len(texts)
    docs = [Doc(text, url, language=lang, utf8=view)
            for text, url, lang, view in zip(texts, urls, languages, views)]
    columns: dict[str, list[Any]] = {N_CHARS: [len(t) for t in texts]}
    analysable = [i for i, t in enumerate(texts) if len(t) <= analysis_max_chars]
    first_words = next((flt for flt in filters if flt.uses_words), None)
    for position, flt in enumerate(filters):
        started = time.perf_counter()
        index = analysable if flt.uses_words else range(len(docs))
        full: dict[str, list[Any]] = {key: [None] * len(docs) for key in flt.SIGNALS}
        by_language = _groups([docs[i].language for i in index])
        for lang, rows in by_language.items():
            local = flt.for_language(lang)
            part = [index[r] for r in rows.tolist()]
            batch = [docs[i] for i in part]
            if flt is first_words:
                _tokenize_together(batch)
            if flt.rewrites and position < len(filters) - 1:
                values, batch = local.measure(batch)
                for i, doc in zip(part, batch):
                    docs[i] = doc
            else:
                values = local.compute(batch)
            if len(part) == len(docs):  # every document, in order (one language): the columns as they are
                full = {key: list(values[key]) for key in flt.SIGNALS}
                continue
            for key in flt.SIGNALS:
                for i, v in zip(part, values[key]):
                    full[key][i] = v
        for key in flt.SIGNALS:
            columns[flt.column(key)] = full[key]
        own = {key: full[key] for key in flt.SIGNALS} | ({DECLARED: list(declared)} if declared is not None else {})
        left_out = flt.leaves_out(own)
        if left_out is not None and left_out.any():
            analysable = [i for i in analysable if not left_out[i]]
        if "language" in full:  # the language filter: later filters count words in the detected language, in
            # the entry of the document's script (its ``script`` signal) where the language has several
            for doc, lang in zip(docs, analysis_languages(full["language"], declared, len(docs), full["script"])):
                doc.language = lang
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
    # "<filter>.<why>" -> True per document whose rules that filter skipped (``Filter.skipped``), kept or not
    skipped: dict[str, np.ndarray] = field(default_factory=dict)
    # (language, cause, filter, rule) -> documents of that language whose rule its entry turned off
    # (``lang_params.rules_off``: its segmenter's library missing, no segmenter, no stop-word list), kept or not
    rules_off: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    # per-script entry ("sr-Latn", ``lang_params.analysis_key``) -> documents judged with it
    script_entries: dict[str, int] = field(default_factory=dict)
    # per document, the language (table key) it was judged in (``analysis_languages``), for the steps after the
    # decisions (rewriting the kept texts), which must use the same ones
    languages: list[str | None] = field(default_factory=list)

    @property
    def kept(self) -> np.ndarray:
        return np.array([f is None for f in self.filter], dtype=bool)


def signal_scripts(signals: pa.Table, declared: Sequence[str | None] | None,
                   scripts: Sequence[str | None] | None) -> Sequence[str | None] | None:
    """Each document's script for ``analysis_languages`` in the decision step: the language filter's ``script``
    signal where the chain has one, else ``scripts`` (``declared_scripts`` of the texts), which a caller must give
    where a declared language has entries per script, so that documents are judged with the entry they were
    measured with."""
    if "script" in signals.column_names:
        return signals["script"].to_pylist()
    if scripts is None and any(has_script_entries(lang) for lang in declared or ()):
        raise ValueError("a declared language has entries per script (lang_params.script_entries): pass "
                         "scripts=declared_scripts(declared, ...) of the texts to decide the signals were measured on")
    return scripts


def decide(filters: list[Filter], signals: pa.Table, analysis_max_chars: int,
           declared: Sequence[str | None] | None = None, scripts: Sequence[str | None] | None = None) -> Decisions:
    """Apply every enabled filter's rules to stored signals; the first rule that fires removes. Each
    document is judged with the thresholds of its language (``analysis_languages``, ``Filter.for_language``), in
    the entry of its script (``signal_scripts``; ``scripts``: ``declared_scripts`` for a chain without the
    language filter)."""
    n = signals.num_rows
    out = Decisions(*(np.full(n, None, dtype=object) for _ in range(2)), np.full(n, np.nan),
                    np.full(n, np.nan), np.full(n, None, dtype=object))
    removed = np.zeros(n, dtype=bool)
    n_chars = _as_array(signals[N_CHARS])
    detected = signals["language"].to_pylist() if "language" in signals.column_names else None
    out.languages = analysis_languages(detected, declared, n, signal_scripts(signals, declared, scripts))
    groups = _groups(out.languages)
    out.script_entries = {lang: len(rows) for lang, rows in groups.items() if lang and SCRIPT_SEPARATOR in lang}
    for flt in filters:
        s = {key: _as_array(signals[flt.column(key)]) for key in flt.SIGNALS}
        for lang, rows in groups.items():
            local = flt.for_language(lang)
            part = {key: v[rows] for key, v in s.items()}
            if declared is not None:
                part[DECLARED] = np.asarray(declared, dtype=object)[rows]
            rules = []
            if flt.uses_words:
                rules.append(Rule("not_analysed", n_chars[rows] > analysis_max_chars, n_chars[rows],
                                  analysis_max_chars))
            rules += local.rules(part)
            if lang:
                for rule, cause in rules_off(flt.options, local.options, flt.name, lang).items():
                    key = (lang, cause, flt.name, rule)
                    out.rules_off[key] = out.rules_off.get(key, 0) + len(rows)
            for why, mask in local.skipped(part).items():
                out.skipped.setdefault(f"{flt.name}.{why}", np.zeros(n, dtype=bool))[rows] |= mask
            for rule in rules:
                new = np.zeros(n, dtype=bool)
                new[rows] = np.asarray(rule.fired, dtype=bool)
                new &= ~removed
                if not new.any():
                    continue
                at = new[rows]
                out.filter[new], out.rule[new] = flt.name, rule.name
                out.value[new] = np.asarray(rule.value, dtype=float)[at]
                out.threshold[new] = np.nan if rule.threshold is None else float(rule.threshold)
                if rule.detail is not None:
                    out.detail[new] = np.asarray(rule.detail, dtype=object)[at]
                removed |= new
    return out


def count_removals(counts: Counter, source: str, decisions: Decisions, n_chars: np.ndarray) -> None:
    """Stage statistics: ``removed.<source>.<filter>.<rule>`` documents and ``removed_chars.…`` chars, and
    ``rules_skipped.<source>.<filter>.<why>`` documents a filter did not judge (``Filter.skipped``), and
    ``rules_off.<source>.<language>.<cause>.<filter>.<rule>`` documents judged without a rule their language's
    entry turned off, with the cause (``Decisions.rules_off``), and ``script_entries.<source>.<key>`` documents judged
    with a language's entry for their script ("sr-Latn", ``Decisions.script_entries``)."""
    for i in np.flatnonzero(~decisions.kept):
        key = f"{source}.{decisions.filter[i]}.{decisions.rule[i]}"
        counts[f"removed.{key}"] += 1
        counts[f"removed_chars.{key}"] += int(n_chars[i])
    for key, mask in decisions.skipped.items():
        if mask.any():
            counts[f"rules_skipped.{source}.{key}"] += int(mask.sum())
    for (lang, cause, name, rule), n in decisions.rules_off.items():
        counts[f"rules_off.{source}.{lang}.{cause}.{name}.{rule}"] += n
    for key, n in decisions.script_entries.items():
        counts[f"script_entries.{source}.{key}"] += n


def rewrite_rows(filters: list[Filter], signals: pa.Table,
                 languages: Sequence[str | None] | None = None) -> np.ndarray:
    """True per document whose text a rewriting filter of the chain may change (``Filter.unchanged``, each
    document with the options of its language); ``rewrite_kept`` gives the others back as they are.

    A filter's signals were measured on the text its ``rewrite`` receives: with no rewriting filter before
    it, the document's own text; after one that cannot tell from its signals (C4, ``unchanged`` None),
    every document is a candidate anyway."""
    n = signals.num_rows
    out = np.zeros(n, dtype=bool)
    groups = _groups(languages if languages is not None else [None] * n)
    for flt in filters:
        if not flt.rewrites:
            continue
        s = {key: _as_array(signals[flt.column(key)]) for key in flt.SIGNALS}
        for lang, rows in groups.items():
            same = flt.for_language(lang).unchanged({key: v[rows] for key, v in s.items()})
            if same is None:
                return np.ones(n, dtype=bool)
            out[rows] |= ~np.asarray(same, dtype=bool)
    return out


def rewrite_kept(filters: list[Filter], texts: list[str], counts: Counter, source: str,
                 languages: Sequence[str | None] | None = None) -> list[str]:
    """Apply the rewriting filters (C4 line removal, PII redaction) to kept texts, each with the options
    of the text's language (``languages``, from ``analysis_languages``), counting each edit as
    ``rewritten.<source>.<filter>.<what>``."""
    rewriting = [f for f in filters if f.rewrites]
    if not rewriting:
        return texts
    out = []
    for text, lang in zip(texts, languages if languages is not None else [None] * len(texts)):
        for flt in rewriting:
            flt = flt.for_language(lang)
            local: Counter = Counter()
            text = flt.rewrite(text, local)
            for what, k in local.items():
                counts[f"rewritten.{source}.{flt.name}.{what}"] += k
        out.append(text)
    return out
