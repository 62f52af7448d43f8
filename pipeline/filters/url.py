"""URL filter: blocked domains and URLs from user-given lists, and banned words in the URL.

Lists are plain text files, one entry a line, ``#`` starts a comment (the format of the UT1
blocklist that FineWeb used, Penedo et al. 2024, "Base filtering"). A domain entry blocks the host
and all its subdomains, so no public-suffix table is needed. Banned words match whole alphanumeric
tokens of the lower-cased URL (``example.com/free-casino`` contains "casino", ``casinoroyale`` does not).
The lists' contents are part of the signal options: editing a list recomputes the URL signals.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=16)
def read_list(path: str) -> frozenset[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FileNotFoundError(f"URL filter list {path} cannot be read ({exc.strerror}); check "
                                "stages.filter ... url.*_file in the manifest") from None
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.lstrip().startswith("#"))


def normalise_url(url: str) -> str:
    return re.sub(r"^[a-z]+://", "", url.strip().lower()).removeprefix("www.").rstrip("/")


class UrlOptions(FilterOptions):
    SIGNAL_FIELDS = ("domains_file", "urls_file", "banned_words", "banned_words_file")
    domains_file: str | None = Field(None, description="blocked domains, one a line")
    urls_file: str | None = Field(None, description="blocked URLs, one a line")
    banned_words: list[str] = Field(default_factory=list, description="words that may not occur in a URL")
    banned_words_file: str | None = Field(None, description="more banned words, one a line")

    def signal_options(self) -> dict[str, Any]:
        """Option values plus a digest of each list's contents."""
        out = super().signal_options()
        for key in ("domains_file", "urls_file", "banned_words_file"):
            if out[key]:
                out[key + "_sha256"] = hashlib.sha256(Path(out[key]).read_bytes()).hexdigest()
        return out


class UrlFilter(Filter):
    name = "url"
    Options = UrlOptions
    SIGNALS = {"blocked_domain": pa.string(), "blocked_url": pa.bool_(), "banned_word": pa.string()}

    def __init__(self, options: UrlOptions):
        super().__init__(options)
        self.domains = read_list(options.domains_file) if options.domains_file else frozenset()
        urls = read_list(options.urls_file) if options.urls_file else frozenset()
        self.urls = frozenset(normalise_url(u) for u in urls)
        words = read_list(options.banned_words_file) if options.banned_words_file else frozenset()
        self.words = words | {w.lower() for w in options.banned_words}

    def signal(self, doc: Doc) -> dict[str, Any]:
        if not doc.url:
            return {"blocked_domain": None, "blocked_url": False, "banned_word": None}
        host = (urlsplit(doc.url.strip()).hostname or "").rstrip(".")
        labels = host.split(".")
        domain = next((d for d in (".".join(labels[i:]) for i in range(len(labels))) if d in self.domains),
                      None)
        tokens = _TOKEN_SPLIT.split(doc.url.lower())
        word = next((t for t in tokens if t in self.words), None)
        return {"blocked_domain": domain, "blocked_url": normalise_url(doc.url) in self.urls,
                "banned_word": word}

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        domain, word = s["blocked_domain"], s["banned_word"]
        has_domain = np.array([d is not None for d in domain], dtype=bool)
        has_word = np.array([w is not None for w in word], dtype=bool)
        return [Rule("blocked_domain", has_domain, has_domain.astype(float), None, domain),
                Rule("blocked_url", s["blocked_url"] == 1, s["blocked_url"]),
                Rule("banned_word", has_word, has_word.astype(float), None, word)]
