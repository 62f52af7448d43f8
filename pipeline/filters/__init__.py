"""Document filters: each rule set measures signals once and decides with thresholds later.

``FILTERS`` lists them in chain order, which is FineWeb's order (Penedo et al. 2024, section 3): cheap URL
and length checks first, then language, Gopher repetition, Gopher quality, C4, FineWeb's own rules, and
PII redaction last because it rewrites what is kept. ``pipeline.filters.chain`` picks the filters and
thresholds of each source from the manifest.
"""

from __future__ import annotations

from pipeline.filters.base import Filter
from pipeline.filters.c4 import C4Filter
from pipeline.filters.fineweb import FineWebFilter
from pipeline.filters.gopher import GopherQualityFilter, GopherRepetitionFilter
from pipeline.filters.language import LanguageFilter
from pipeline.filters.length import LengthFilter
from pipeline.filters.pii import PiiFilter
from pipeline.filters.url import UrlFilter

FILTERS: dict[str, type[Filter]] = {
    cls.name: cls
    for cls in (UrlFilter, LengthFilter, LanguageFilter, GopherRepetitionFilter, GopherQualityFilter,
                C4Filter, FineWebFilter, PiiFilter)
}
