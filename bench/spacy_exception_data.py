"""Write spaCy's long tokenizer exception lists as the data files of ``pipeline/filters/exceptions.py``.

Why: spaCy's exception lists of some languages are dictionaries (thousands of words), not rules; the tables of
``pipeline.filters.affixes`` load them from compact files rather than carrying them as code. This script reads
them from ``spacy.blank(lang).tokenizer.rules`` in the datatrove bench venv (where spaCy is) and writes one gzip
file per language (byte-identical on a rerun: no timestamp), leaving out spaCy's base exceptions (every
language's; ``affixes._BASE_SPECIAL`` keeps those that matter) and, for Indonesian, the case variants generated
by rule (``exceptions._indonesian_variants``: only the ~3,900 words are stored, checked to give spaCy's 15,700).

    .bench-venv-datatrove/bin/python bench/spacy_exception_data.py --language el sl id nl da fa
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "pipeline" / "filters" / "spacy_exceptions"


def _tokens(rules: dict, key: str) -> tuple[str, ...]:
    from spacy.symbols import ORTH

    return tuple(t[ORTH] for t in rules[key])


def _write(name: str, lines: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write("".join(line + "\n" for line in lines).encode("utf-8"))
    (OUT / f"{name}.txt.gz").write_bytes(buf.getvalue())
    print(f"{name}: {len(lines)} lines, {len(buf.getvalue()):,} bytes", file=sys.stderr)


def _line(key: str, tokens: tuple[str, ...]) -> str:
    return key if tokens == (key,) else "\t".join((key, *tokens))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", nargs="+", required=True)
    args = parser.parse_args()
    import spacy

    sys.path.insert(0, str(REPO))
    from pipeline.filters.exceptions import _indonesian_variants

    base = spacy.blank("xx").tokenizer.rules
    for lang in args.language:
        rules = spacy.blank(lang).tokenizer.rules
        own = {k: _tokens(rules, k) for k in rules if k not in base or rules[k] != base[k]}
        if lang == "id":
            from spacy.lang.id._tokenizer_exceptions_list import ID_BASE_EXCEPTIONS

            generated = {v for w in ID_BASE_EXCEPTIONS for v in _indonesian_variants(w)}
            missing = [v for v in generated if own.get(v) != (v,)]
            if missing:
                raise SystemExit(f"id: variants not among spaCy's exceptions: {missing[:10]}")
            _write("id-words", sorted(ID_BASE_EXCEPTIONS))
            own = {k: v for k, v in own.items() if k not in generated}
        _write(lang, [_line(k, v) for k, v in sorted(own.items())])


if __name__ == "__main__":
    main()
