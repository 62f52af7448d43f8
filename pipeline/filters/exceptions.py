"""spaCy's long tokenizer exception lists, kept as data and read when a language's table is first compiled.

Why: some of spaCy's languages list thousands of strings their tokenizer keeps whole or splits in a fixed way
(Indonesian's ~3,900 and Malay's ~1,900 hyphenated words, reduplications among them, with their case variants;
Dutch and Danish abbreviations; Persian words with a clitic split off). They are dictionaries, not rules: ``Rules.special`` in
``pipeline.filters.affixes`` keeps the few entries a rule generates, and the lists are loaded from the files
under ``spacy_exceptions/`` only for a table that names them (``Rules.data``), only where the token figures
showed they change agreement with spaCy (bench/README.md, "spaCy's Greek, Slovenian and Indonesian rules").

Format: one entry a line, UTF-8, gzip: the string, then a tab and its tokens separated by tabs where spaCy
splits it (a line without a tab is one token). ``bench/spacy_exception_data.py`` writes the files from
``spacy.blank(lang).tokenizer.rules`` (spaCy 3.8.7), leaving out spaCy's base exceptions and, for Indonesian and Malay,
the case variants that ``_indonesian_variants`` generates.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

DATA = Path(__file__).with_name("spacy_exceptions")


def _indonesian_variants(word: str) -> Iterable[str]:
    """The forms spaCy's Indonesian list keeps of each of its words: as written, title case, upper case, lower
    case, the first letter upper-cased, and for a hyphenated word each part title-cased or upper-cased."""
    yield from (word, word.title(), word.upper(), word.lower(), word[0].upper() + word[1:])
    if "-" in word:
        parts = word.split("-")
        yield "-".join(p.title() for p in parts)
        yield "-".join(p.upper() for p in parts)


# files whose every line is a word to be expanded into its variants (one token each)
VARIANTS: dict[str, Callable[[str], Iterable[str]]] = {"id-words": _indonesian_variants,
                                                        "ms-words": _indonesian_variants}  # Malay's are built alike


@lru_cache(maxsize=None)
def _read(name: str) -> dict[str, tuple[str, ...]]:
    path = DATA / f"{name}.txt.gz"
    out: dict[str, tuple[str, ...]] = {}
    variants = VARIANTS.get(name)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if "".join(fields[1:]) not in ("", fields[0]):
                raise ValueError(f"{path}, line {number}: tokens {fields[1:]!r} do not spell {fields[0]!r}")
            if variants is not None:
                out.update((v, (v,)) for v in variants(fields[0]))
            else:
                out[fields[0]] = tuple(fields[1:]) or (fields[0],)
    return out


def load_exceptions(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The special cases of the named files, later files overriding earlier ones."""
    out: dict[str, tuple[str, ...]] = {}
    for name in names:
        out.update(_read(name))
    return out
