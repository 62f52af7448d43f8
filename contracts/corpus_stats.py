"""Per-shard corpus statistics that stages add to their Tally counts, so the report never re-reads a corpus.

Every statistic is a plain count under a flat key, so the runner's per-shard merge (a sum of Counters) is
already the exact merge of the statistic. Keys, with ``<source>`` the manifest's source name:

* ``source.<source>.<field>``: ``docs_in``, ``chars_in``, ``docs_out``, ``chars_out`` (characters are
  Python code points), and for the tokenize stage ``tokens_out``, ``tokens_train``, ``tokens_val``.
* ``hist.<measure>.<source>.<lower edge>``: documents per length bucket of a stage's output, for
  ``chars`` and ``tokens``. Buckets are fixed powers of two, ``[2^k, 2^(k+1))``, plus ``0`` for empty
  documents: the same edges in every shard and every run, so histograms add and compare.
  Worked example: lengths 0, 1, 700, 1023 and 1024 give ``0: 1, 1: 1, 512: 2, 1024: 1``.
* ``language_in.<source>.<code>`` / ``language_out.<source>.<code>``: documents per detected language
  (only where the filter stage measured one).
* ``domains.<source>.<host>``: documents per host, from each output shard's ``TOP_DOMAINS`` most frequent
  hosts; ``domains_other.<source>`` counts the rest, so the two sum to the documents that have a URL.
  Capping per shard keeps a crawl's million hosts out of the completion records; a host's merged count is
  exact when it is among the top of every shard it appears in, and a lower bound otherwise.

Source names may contain dots (``NAME_PATTERN``), so readers of these keys split with ``split_source``,
which takes the list of source names.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TOP_DOMAINS = 50
MEASURES = ("chars", "tokens")


def bucket_edges(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Lower edge of each length's power-of-two bucket (``0`` for ``0``); exact below 2**53."""
    n = np.asarray(lengths, dtype=np.int64)
    if n.size and n.min() < 0:
        raise ValueError("lengths must be >= 0")
    _, exponent = np.frexp(n.astype(np.float64))  # n = m * 2**e with m in [0.5, 1): bucket 2**(e-1)
    edges = np.left_shift(np.int64(1), np.maximum(exponent - 1, 0).astype(np.int64))
    return np.where(n == 0, 0, edges)


def edge_range(edges: Iterable[int]) -> list[int]:
    """Every bucket edge from the smallest of ``edges`` to the largest (``0`` first when present): the buckets
    a plot or table shows, so that one step is always one power of two, also where no document fell."""
    present = set(edges)
    positive = sorted(e for e in present if e > 0)
    out = [0] if 0 in present else []
    edge = positive[0] if positive else 1
    while positive and edge <= positive[-1]:
        out.append(edge)
        edge <<= 1
    return out


def add_histogram(counts: Counter, measure: str, source: str, lengths: Sequence[int] | np.ndarray) -> None:
    edges, per_edge = np.unique(bucket_edges(lengths), return_counts=True)
    for edge, k in zip(edges.tolist(), per_edge.tolist()):
        counts[f"hist.{measure}.{source}.{edge}"] += k


def host_of(url: str | None) -> str | None:
    """The URL's lower-cased host without port or ``www.``; None when there is no usable host."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def add_domains(counts: Counter, source: str, urls: Iterable[str | None], top: int = TOP_DOMAINS) -> None:
    hosts = Counter(h for h in map(host_of, urls) if h)
    kept = hosts.most_common(top)
    for host, k in kept:
        counts[f"domains.{source}.{host}"] += k
    other = sum(hosts.values()) - sum(k for _, k in kept)
    if other:
        counts[f"domains_other.{source}"] += other


def add_values(counts: Counter, prefix: str, values: Iterable[Any]) -> None:
    """Count each non-null value under ``<prefix>.<value>`` (dots in values become ``_``)."""
    for value, k in Counter(v for v in values if v is not None).items():
        counts[f"{prefix}.{str(value).replace('.', '_')}"] += k


def record_in(counts: Counter, source: str, docs: int, chars: int, languages: Iterable[Any] | None = None) -> None:
    """What a stage read of one source in one shard."""
    counts[f"source.{source}.docs_in"] += int(docs)
    counts[f"source.{source}.chars_in"] += int(chars)
    if languages is not None:
        add_values(counts, f"language_in.{source}", languages)


def record_out(counts: Counter, source: str, chars: Sequence[int] | np.ndarray, *,
               urls: Iterable[str | None] | None = None, languages: Iterable[Any] | None = None) -> None:
    """What a stage wrote of one source in one output shard: totals, length histogram, hosts, languages."""
    chars = np.asarray(chars, dtype=np.int64)
    counts[f"source.{source}.docs_out"] += int(chars.size)
    counts[f"source.{source}.chars_out"] += int(chars.sum())
    add_histogram(counts, "chars", source, chars)
    if urls is not None:
        add_domains(counts, source, urls)
    if languages is not None:
        add_values(counts, f"language_out.{source}", languages)


def record_tokens(counts: Counter, source: str, split: str, lengths: Sequence[int] | np.ndarray) -> None:
    """Tokens per document of one source and split (``train``/``val``) written by the tokenize stage."""
    lengths = np.asarray(lengths, dtype=np.int64)
    counts[f"source.{source}.docs_out"] += int(lengths.size)
    counts[f"source.{source}.tokens_out"] += int(lengths.sum())
    counts[f"source.{source}.tokens_{split}"] += int(lengths.sum())
    add_histogram(counts, "tokens", source, lengths)


def record_language_tokens(counts: Counter, source: str, languages: Sequence[Any],
                           utf8_bytes: Sequence[int], tokens: Sequence[int]) -> None:
    """UTF-8 bytes and tokens per language of one source (``lang_bytes.<source>.<code>``,
    ``lang_tokens.<source>.<code>``): the tokenizer's bytes per token for each language, which a single
    corpus-wide figure hides (a BPE trained mostly on English can spend 3x the tokens on Chinese)."""
    for language, n_bytes, n_tokens in zip(languages, utf8_bytes, tokens):
        code = language or "und"
        counts[f"lang_bytes.{source}.{code}"] += int(n_bytes)
        counts[f"lang_tokens.{source}.{code}"] += int(n_tokens)


def language_tokens(counts: dict[str, int], source: str) -> dict[str, dict[str, float]]:
    """``{code: {bytes, tokens, bytes_per_token}}`` of one source from the counts above."""
    out: dict[str, dict[str, float]] = {}
    prefix = f"lang_tokens.{source}."
    for key, n_tokens in counts.items():
        if key.startswith(prefix):
            code = key[len(prefix):]
            n_bytes = counts.get(f"lang_bytes.{source}.{code}", 0)
            out[code] = {"bytes": n_bytes, "tokens": n_tokens,
                         "bytes_per_token": round(n_bytes / n_tokens, 4) if n_tokens else None}
    return dict(sorted(out.items()))


def _by_source(table: pa.Table) -> Iterable[tuple[str, pa.Table | None, np.ndarray | None]]:
    sources = table.column("source")
    unique = pc.unique(sources).to_pylist()
    if len(unique) == 1:
        yield unique[0], table, None
        return
    for source in unique:
        mask = pc.equal(sources, source)
        yield source, table.filter(mask), np.asarray(mask)


def record_table(counts: Counter, table: pa.Table, side: str, languages: pa.Array | None = None,
                 lengths: np.ndarray | None = None) -> None:
    """``record_in``/``record_out`` for a document table (DOC_SCHEMA columns), per source it holds.

    ``side`` is ``in`` or ``out``; a ``language`` column of the table, or ``languages`` (one per row), is
    counted too. ``lengths``: each row's text characters where the caller knows them (the filter stage has
    them from the signals), else counted here (a pass over every UTF-8 byte: ~0.5 ns a Chinese character).
    """
    if side not in ("in", "out"):
        raise ValueError(f"side must be 'in' or 'out', got {side!r}")
    if languages is None and "language" in table.column_names:
        languages = table.column("language")
    for source, part, mask in _by_source(table):
        if lengths is None:
            part_lengths = pc.utf8_length(part.column("text")).to_numpy(zero_copy_only=False)
        else:
            part_lengths = np.asarray(lengths) if mask is None else np.asarray(lengths)[mask]
        langs = None
        if languages is not None:
            values = languages.to_pylist() if hasattr(languages, "to_pylist") else list(languages)
            langs = values if mask is None else [v for v, m in zip(values, mask) if m]
        if side == "in":
            record_in(counts, source, len(part_lengths), int(part_lengths.sum()), langs)
        else:
            urls = part.column("url").to_pylist() if "url" in part.column_names else None
            record_out(counts, source, part_lengths, urls=urls, languages=langs)


def split_source(rest: str, sources: Sequence[str]) -> tuple[str, str] | None:
    """``"<source>.<tail>"`` -> ``(source, tail)`` for the longest known source that prefixes it."""
    best = None
    for source in sources:
        if rest.startswith(source + ".") and (best is None or len(source) > len(best)):
            best = source
    return None if best is None else (best, rest[len(best) + 1:])
