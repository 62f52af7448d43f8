"""Which filters run on a source, with which thresholds: built-in defaults per source kind, then the
manifest's ``stages.filter.defaults_by_kind.<kind>``, then ``stages.filter.per_source.<name>``.

Each level names filters and only the keys it changes; ``{c4: null}`` or ``{c4: {enabled: false}}``
turns a filter off. Example::

    stages:
      filter:
        per_source:
          web: {gopher_quality: {min_words: 40}, url: {domains_file: lists/domains.txt}}
          books: {length: {min_chars: 2000}}

Built-in defaults, decided on the real corpora in shared/data (tests/pipeline/filters/test_chain.py
shows each misfire): web-like kinds (commoncrawl, jsonl, parquet) get the full FineWeb chain.

* wikipedia: length, language, Gopher quality without its alphabetic-words rule, PII. With the web chain
  12 of 103 real articles are removed (Aldous Huxley, Alain Connes, Ampere ...), all by Gopher's "80 % of
  words contain a letter": dates, years in filmographies, table cells and the punctuation of citations
  are words without letters. C4's curly-bracket rule (formulas) and FineWeb's line-punctuation ratio
  (lists, table rows) also misfire; Gopher repetition removed none and is left out as it guards
  against generated spam, which an edited encyclopedia does not have.
* Languages (issue 13): a Wikipedia dump keeps its own language (``language.source_language``: the
  dump's xml:lang), books keep whatever language they are written in (``language.languages: null``; the
  score minimum stays), web kinds keep the manifest's keep-list, English by default.
* books: length, language and PII only. The web chain removes 4 of 7 real books: a novel passes
  Gopher's 100,000-word maximum (Jack Sheppard), C4's curly-bracket rule fires on editorial notes,
  and a collected works (tinyshakespeare, 1.1 M characters) is beyond the analysis cap; verse and plays
  are short lines without terminal punctuation that FineWeb's rules are built to remove.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from pipeline.filters import FILTERS, lang_params
from pipeline.filters.base import SIGNAL_VERSION, Filter

ChainSpec: type[BaseModel] = create_model(
    "ChainSpec",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{name: (cls.Options | None, None) for name, cls in FILTERS.items()},  # type: ignore[misc]
)
ChainSpec.__doc__ = "Filters of one source (or kind) by name, each with the option keys it sets."

_WEB = {name: {} for name in FILTERS}
KIND_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "commoncrawl": _WEB,
    "jsonl": _WEB,
    "parquet": _WEB,
    "wikipedia": {"length": {}, "language": {"source_language": True},
                  "gopher_quality": {"min_alpha_words": None}, "pii": {}},
    "books": {"length": {}, "language": {"languages": None}, "pii": {}},
}


def merge(base: BaseModel, over: BaseModel) -> BaseModel:
    """``over`` applied to ``base``: only the filters and keys ``over`` sets explicitly change."""
    updates: dict[str, Any] = {}
    for name in over.model_fields_set:
        new, old = getattr(over, name), getattr(base, name)
        if new is None or old is None:
            updates[name] = new
        else:
            updates[name] = old.model_copy(update={k: getattr(new, k) for k in new.model_fields_set})
    return base.model_copy(update=updates)


def resolve(kind: str, defaults_by_kind: dict[str, BaseModel], per_source: BaseModel | None) -> BaseModel:
    spec = ChainSpec.model_validate(KIND_DEFAULTS.get(kind, _WEB))
    if kind in defaults_by_kind:
        spec = merge(spec, defaults_by_kind[kind])
    if per_source is not None:
        spec = merge(spec, per_source)
    return spec


def build(spec: BaseModel) -> list[Filter]:
    """The enabled filters of ``spec``, in chain order."""
    chain = []
    for name, cls in FILTERS.items():
        options = getattr(spec, name)
        if options is not None and options.enabled:
            chain.append(cls(options))
    return chain


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def signal_hash(chain: list[Filter], analysis_max_chars: int) -> str:
    """Hash of what the signals depend on: filters and their signal options, never thresholds."""
    return _digest({"version": SIGNAL_VERSION, "analysis_max_chars": analysis_max_chars,
                    "languages": lang_params.signature(),
                    "filters": [[f.name, f.options.signal_options()] for f in chain]})


def decision_hash(chain: list[Filter], signals: str) -> str:
    """Hash of everything a decision depends on: the signals plus every threshold and rewrite option."""
    return _digest({"signals": signals,
                    "filters": [[f.name, f.options.model_dump(mode="json")] for f in chain]})
