"""Which filters run on a source, with which thresholds: built-in defaults per source kind, then the
manifest's ``stages.filter.defaults_by_kind.<kind>``, then ``stages.filter.per_source.<name>``.

Each level names filters and only the keys it changes; ``{c4: null}`` or ``{c4: {enabled: false}}``
turns a filter off. Example::

    stages:
      filter:
        per_source:
          web: {gopher_quality: {min_words: 40}, url: {domains_file: lists/domains.txt}}
          books: {length: {min_chars: 2000}}

Built-in defaults come from each source kind's reader module (``SourceKind.default_filters``, where the
evidence for each choice is written down; tests/pipeline/filters/test_chain.py shows each misfire on the
real corpora in shared/data): web-like kinds (commoncrawl, jsonl, parquet) get the full FineWeb chain,
wikipedia and books shorter ones. An unknown kind is an error, never the web chain by default.
Languages (issue 13): a Wikipedia dump keeps its own language (``language.source_language``: the dump's
xml:lang), books keep whatever language they are written in (``language.languages: null``; the score
minimum stays), web kinds keep the manifest's keep-list, English by default.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from pipeline.filters import FILTERS, lang_params
from pipeline.filters.base import SIGNAL_VERSION, Filter
from pipeline.readers import source_kind  # the registry: an unknown kind raises, naming the known ones
from pipeline.readers.source_kind import ALL_FILTERS

ChainSpec: type[BaseModel] = create_model(
    "ChainSpec",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{name: (cls.Options | None, None) for name, cls in FILTERS.items()},  # type: ignore[misc]
)
ChainSpec.__doc__ = "Filters of one source (or kind) by name, each with the option keys it sets."

def kind_defaults(kind: str) -> dict[str, dict[str, Any]]:
    """The built-in filters of a source kind, as declared by its reader module."""
    declared = source_kind(kind).default_filters
    if declared == ALL_FILTERS:
        return {name: {} for name in FILTERS}
    assert not isinstance(declared, str), f"source kind {kind!r}: default_filters {declared!r} is not a chain"
    unknown = sorted(set(declared) - set(FILTERS))
    if unknown:
        raise ValueError(f"source kind {kind!r} declares unknown default filters {unknown}; filters are "
                         f"{list(FILTERS)}")
    return {name: dict(options) for name, options in declared.items()}


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
    spec = ChainSpec.model_validate(kind_defaults(kind))
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
