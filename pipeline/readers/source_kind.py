"""The contract of a source kind: everything the pipeline knows about one kind of input, in one place.

A reader module (``pipeline.readers.<kind>``) defines ``KIND = SourceKind(...)`` and is listed once in
``pipeline.readers.KINDS``. The manifest takes its options and extra keys from here, the crawl stage its
input resolution, record identity and reader, the filter stage its default filter chain, and the report
whether its documents are web pages. Adding a kind is adding one module and one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from pydantic import BaseModel

from contracts.fsio import expand_paths
from pipeline.readers.base import Reader

ALL_FILTERS = "all"  # default_filters: every filter of ``pipeline.filters.FILTERS`` with its defaults

# How a reader names documents. "file_name": ids start from the input's base name (so they do not depend
# on where a corpus sits), and two inputs of one source with the same base name are refused. "record":
# ids come from the records themselves (WARC record ids, wiki page ids).
Identity = Literal["file_name", "record"]


def listed_paths(source: Any) -> list[str]:
    """The default input resolution: the source's ``paths`` with globs expanded."""
    return expand_paths(source.paths) if source.paths else []


@dataclass(frozen=True)
class SourceKind:
    """One source kind, declared by its reader module.

    ``default_filters`` maps filter names to the option keys the kind changes (``ALL_FILTERS``: the full
    web chain), the base that ``stages.filter`` overrides. ``source_fields`` are manifest keys a source
    of this kind takes besides ``paths`` (as ``create_model`` field definitions), and ``resolve_inputs``
    turns a validated source into its input files; ``input_hint`` says how else than ``paths`` a source
    can name its inputs, for the error when it names none.
    """

    name: str
    options: type[BaseModel]
    reader: Reader
    identity: Identity
    default_filters: Mapping[str, Mapping[str, Any]] | str
    web: bool = False  # documents are web pages with URLs worth counting by domain (the report)
    resolve_inputs: Callable[[Any], list[str]] = listed_paths
    source_fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    input_hint: str = ""

    def names_inputs(self, source: Any) -> bool:
        """Whether ``source`` names any input (paths, or one of the kind's own keys such as a crawl)."""
        return bool(source.paths) or any(getattr(source, key, None) is not None for key in self.source_fields)
