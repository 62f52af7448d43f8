"""Which paths a manifest may read and write: an optional policy checked before any work starts.

A manifest can name any local path (``/proc/self/environ`` would become a document). That is fine for a
user's own manifests; a shared cluster that runs manifests written by others sets allowed roots, either in
the manifest (``io.allowed_roots``) or, where the manifest's author must not be able to lift it, in the
environment of the service that runs them (``REFINERY_ALLOWED_ROOTS``, comma-separated). When both are set
a path must satisfy both.

A root is a local folder (symlinks and ``..`` resolved, on the root and on every path checked, so a link
inside a root that points outside it is refused) or a URL prefix such as ``https://data.commoncrawl.org/``
or ``s3://bucket/corpus/`` (remote inputs are refused unless a URL root admits them).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Iterable

ENV_VAR = "REFINERY_ALLOWED_ROOTS"


class PathPolicyError(ValueError):
    """A source or output outside the allowed roots; the message names the path and the roots."""


def _is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def _normal_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    path = posixpath.normpath("/" + path) if path else "/"
    return f"{scheme.lower()}://{host.lower()}{path}"


class PathPolicy:
    """One or two lists of roots (manifest, environment); an empty policy allows everything."""

    def __init__(self, *root_lists: Iterable[str] | None):
        self.lists = [list(roots) for roots in root_lists if roots]

    @classmethod
    def for_manifest(cls, manifest_roots: list[str] | None) -> "PathPolicy":
        env = [r.strip() for r in os.environ.get(ENV_VAR, "").split(",") if r.strip()]
        return cls(manifest_roots, env)

    @property
    def active(self) -> bool:
        return bool(self.lists)

    def allows(self, path: str) -> bool:
        return all(any(_within(path, root) for root in roots) for roots in self.lists)

    def check(self, path: str, what: str) -> None:
        """Raise ``PathPolicyError`` unless every list of roots admits ``path``."""
        for roots in self.lists:
            if not any(_within(path, root) for root in roots):
                shown = os.path.realpath(path) if not _is_url(path) else path
                raise PathPolicyError(
                    f"{what} {path!r} (resolved: {shown}) is outside the allowed roots {roots} (io.allowed_roots "
                    f"or ${ENV_VAR}); move the data under an allowed root or ask whoever runs the cluster to "
                    "allow it")


def _within(path: str, root: str) -> bool:
    if _is_url(root) or _is_url(path):
        if not (_is_url(root) and _is_url(path)):
            return False
        prefix = _normal_url(root).rstrip("/") + "/"
        return (_normal_url(path).rstrip("/") + "/").startswith(prefix)
    if path.startswith("file://"):
        path = path[len("file://"):]
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    return real == real_root or real_root in real.parents


def glob_base(pattern: str) -> str:
    """The part of a glob pattern before its first wildcard: the folder a listing would read."""
    cut = min((pattern.index(ch) for ch in "*?[" if ch in pattern), default=len(pattern))
    return pattern[:cut] if cut == len(pattern) else posixpath.dirname(pattern[:cut]) or "."


def enforce(manifest: object) -> None:
    """Check the run folder and every source (patterns, crawl listings, expanded files) against the policy.

    Called before the run folder is touched and before Ray starts; raises ``PathPolicyError``.
    """
    policy = PathPolicy.for_manifest(getattr(getattr(manifest, "io", None), "allowed_roots", None))
    if not policy.active:
        return
    from pipeline.readers import source_kind

    policy.check(str(manifest.run_dir), "run folder (run.output_dir/run.name)")  # type: ignore[attr-defined]
    for source in manifest.sources:  # type: ignore[attr-defined]
        what = f"source {source.name!r} path"
        for pattern in source.paths:
            policy.check(glob_base(pattern) if not _is_url(pattern) else pattern, what)
        crawl = getattr(source, "crawl", None)
        if crawl is not None:
            policy.check(crawl.base_url.rstrip("/") + "/", f"source {source.name!r} crawl.base_url")
        for path in source_kind(source.kind).resolve_inputs(source):
            policy.check(path, what)
