"""Load every run-time resource a manifest names before any work starts.

Why: a resource that cannot load (a tokenizer not available offline, a damaged ranks file, a language-ID
model or URL block list that is missing) would otherwise fail inside the stage that uses it, after every
earlier stage has run for hours. ``python -m pipeline check`` and the start of ``run`` call ``load_resources``;
each failure comes back as a ``ResourceError`` naming the manifest key, the file and what to do.

What is loaded, for the stages in ``stages.order``:

* filter: each source's resolved filter chain is built (URL block lists and banned-word files are read),
  and each distinct language-ID model is loaded;
* tokenize: a tiktoken encoding's ranks file is found and parsed, with its special tokens checked. A BPE
  is trained during the run, so there is nothing to load.
"""

from __future__ import annotations

from pipeline.manifest import LoadedManifest, ManifestError


class ResourceError(ManifestError):
    """A resource the manifest names cannot be loaded; the message names the key and the file."""


def load_resources(manifest: LoadedManifest) -> list[str]:
    """Load what the manifest's stages will need; one line per resource loaded, for ``check`` to print."""
    order = list(manifest.stages.order)
    loaded: list[str] = []
    if "filter" in order:
        loaded += _filter_resources(manifest)
    if "tokenize" in order:
        loaded += _tokenizer(manifest)
    return loaded


def _filter_resources(manifest: LoadedManifest) -> list[str]:
    from pipeline.filters.chain import build, resolve
    from pipeline.filters.language import predictor

    options = manifest.stages.filter
    loaded: list[str] = []
    models: set[str | None] = set()
    for source in manifest.sources:
        key = (f"stages.filter.per_source.{source.name}" if source.name in options.per_source
               else f"stages.filter.defaults_by_kind.{source.kind}")
        try:
            chain = build(resolve(source.kind, options.defaults_by_kind, options.per_source.get(source.name)))
        except (OSError, ValueError) as exc:  # a block list that cannot be read, a bad list file
            raise ResourceError(f"source {source.name!r}: a filter resource ({key}) cannot be loaded: {exc}") from None
        for flt in chain:
            for field in ("domains_file", "urls_file", "banned_words_file"):
                path = getattr(flt.options, field, None)
                if path:
                    loaded.append(f"source {source.name}: url.{field} {path}")
            if flt.name == "language" and flt.options.model_path not in models:
                path = flt.options.model_path
                try:
                    predictor(path)
                except (OSError, ValueError) as exc:
                    raise ResourceError(f"source {source.name!r}: the language-ID model ({key}.language.model_path"
                                        f" = {path!r}) cannot be loaded: {exc}") from None
                models.add(path)
                loaded.append(f"language-ID model {path or '(bundled lid.176.ftz)'}")
    return loaded


def _tokenizer(manifest: LoadedManifest) -> list[str]:
    from pipeline.stages.tokenize import load_manifest_tiktoken
    from pipeline.tokenizer import TiktokenSpec

    spec = manifest.stages.tokenize.tokenizer
    if not isinstance(spec, TiktokenSpec):
        return [f"tokenizer {spec.name!r}: a BPE of {spec.vocab_size} tokens, trained during the run"]
    try:
        tokenizer, resolved = load_manifest_tiktoken(manifest)
    except (OSError, ValueError) as exc:  # not available offline; a ranks line or special token that is wrong
        raise ResourceError(f"stages.tokenize.tokenizer ({spec.name!r}) cannot be loaded: {exc}") from None
    info = tokenizer.info
    return [f"tokenizer {info.name!r} from {resolved.ranks_path}: {info.n_vocab:,} tokens, end-of-text id "
            f"{info.eot_id}, special tokens {info.special_tokens}"]
