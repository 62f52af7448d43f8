"""HTML -> main text with trafilatura as FineWeb extracted it: the ``extractor: trafilatura`` option of web sources.

Why offered: FineWeb's text is what datatrove's ``Trafilatura(favour_precision=True)`` step makes of each
page. Our filters decide as datatrove's do on the same text (99.4-100 %), but end to end only ~88 % of pages
agree, and 18 of the 21 that differ differ because the extractors keep different lines (bench/README.md,
"Whole chain, third pass ... why the kept pages differ"). A user reproducing FineWeb, or comparing a corpus
with it, needs its extractor; this runs trafilatura's own ``extract`` in process (the library, not a copy).

Why not the default: it is about ten times slower than resiliparse's C DOM walk (bench/README.md, "Crawl +
extract"; in datatrove's whole chain it is most of the time), and on the four shared extraction sets our
resiliparse path scores as well or better against human gold.

Settings, as datatrove passes them: ``favor_precision=True``, ``include_comments=False``,
``deduplicate=True``; everything else trafilatura's defaults (plain text, tables kept, no links, images,
formatting or metadata). Charset decoding stays ours (``pipeline.extract.charsets``): trafilatura gets the
decoded text, so both extractors see the same characters.

Deduplication: trafilatura counts every text segment it meets (and each whole document) in an LRU cache of
4,096 entries and drops a segment it has seen more than twice before, across pages. datatrove keeps that
cache in one long-lived process, so a page's text depends on the pages extracted before it there. Here each
split (one reader call: its pages in file order) gets a cache of its own, passed to ``extract`` instead of
trafilatura's process-wide one, so the output depends only on the split, never on which worker ran which
split before it (byte-identical reruns, resumable tasks). Within a split this is datatrove's behaviour; a
file cut into several splits (``split_bytes``) forgets at each cut, and so does the next file.

Pathological pages: trafilatura's cost grows faster than the page's element count on some markup (a 1 MB
page of 95,000 links took 2.2 CPU s, 4 MB of 381,000 links 24 s; bench/README.md). datatrove bounds it with
1 s of *wall* time in a sandbox process, so which pages survive depends on the machine's load. Here a page
with more than ``max_tags`` ``<`` characters is skipped, counted as ``extract_too_many_tags``: the same page
gets the same decision on any machine (the largest shared page, 70,535 tags, is under the default).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

PIP_HINT = "pip install 'refinery[trafilatura]'"
MIN_VERSION = (2, 3)  # extract(deduplicate=LRUCache) takes a cache of the caller's; tested with 2.3.1
DEFAULT_MAX_TAGS = 100_000


def require() -> Any:
    """The trafilatura module, or an ImportError naming the option and the pip command."""
    try:
        import trafilatura
        from trafilatura.deduplication import LRUCache  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"the commoncrawl source option `extractor: trafilatura` needs the trafilatura "
                          f"package (>= {'.'.join(map(str, MIN_VERSION))}): {PIP_HINT}") from exc
    version = tuple(int(p) for p in trafilatura.__version__.split(".")[:2] if p.isdigit())
    if version < MIN_VERSION:
        raise ImportError(f"the commoncrawl source option `extractor: trafilatura` needs trafilatura >= "
                          f"{'.'.join(map(str, MIN_VERSION))} (installed: {trafilatura.__version__}): {PIP_HINT}")
    return trafilatura


class TooManyTags(Exception):
    """A page over the tag limit: skipped as ``extract_too_many_tags`` rather than extracted."""


class TrafilaturaText:
    """One split's extractor: FineWeb's trafilatura settings and the split's own deduplication cache."""

    def __init__(self, max_tags: int | None = DEFAULT_MAX_TAGS) -> None:
        trafilatura = require()
        from trafilatura.deduplication import LRUCache
        from trafilatura.settings import LRU_SIZE

        # trafilatura logs each page it discards ("discarding data", "empty HTML tree") at WARNING/ERROR, and
        # with no handler configured Python prints them all to stderr; the reader counts these pages itself
        # (empty_text, extract_error), so its records go to a NullHandler unless the user configured logging
        log = logging.getLogger("trafilatura")
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())
        self.max_tags = max_tags
        self._extract: Callable[..., str | None] = trafilatura.extract
        self._dedup = LRUCache(maxsize=LRU_SIZE)  # the size of trafilatura's own process-wide cache

    def __call__(self, page: str) -> str:
        """The main text of ``page`` ("" when trafilatura finds none); ``TooManyTags`` over the limit."""
        if self.max_tags is not None:
            tags = page.count("<")
            if tags > self.max_tags:
                raise TooManyTags(f"{tags} tags, over trafilatura_max_tags {self.max_tags}")
        text = self._extract(page, favor_precision=True, include_comments=False, deduplicate=self._dedup)
        return text or ""
