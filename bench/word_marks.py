"""Which characters datatrove's Gopher quality counts as a word where ``words.is_symbol`` counts a symbol, and the
other way round (issue 13, punct46), and how often the held-out text of each language has a token they class apart.

    .venv/bin/python bench/word_marks.py                               # the difference set over all of Unicode
    .venv/bin/python bench/word_marks.py --language fa es ... --udhr-cache DIR [--handbook-cache DIR] [--udhr-parts N]

datatrove (0.10.1, ``GopherQualityFilter.filter``) keeps as words the tokens with a character outside
``datatrove.utils.text.PUNCTUATION_SET`` (its ``PUNCTUATION`` string, control characters included, and its
``TERMINAL_PUNCTUATION`` set): its word count and mean word length are over those. Its letter share and stop words
count every token, its FineWeb quality and C4 filters count no symbols. Ours: ``words._flags``' SYMBOL bit (what
Gopher quality counts by); until punct46 a token whose every character is of general category P*, S* or C* but the
Arabic comma (C4's unspaced lines still count by that, the MARK bit), since then one whose every character is in
``words.GOPHER_PUNCTUATION``, a copy of datatrove's list (run this on main's tree for the former difference).
Per character both are decided on a one-character token, so a token's class differs exactly when its characters fall
in the difference (a token is a symbol on a side when all its characters are). The set is read from datatrove's venv
(``.bench-venv-datatrove``) and compared on every code point, with the Unicode database of our Python.

With ``--language``: the documents of ``multilingual_agreement.documents`` (held-out UDHR parts and handbook sections),
split with the language's segmenter, and per language the tokens whose class differs (ours symbol / datatrove's word
and the reverse), the documents that hold one, and Gopher quality's word count and mean word length under each
definition on our words (what a change of the definition moves).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline.filters import words  # noqa: E402

DT_PYTHON = REPO / ".bench-venv-datatrove" / "bin" / "python"
_READ_SET = ("import json, sys, unicodedata; from importlib.metadata import version; "
             "from datatrove.utils.text import PUNCTUATION_SET; "
             "json.dump({'version': version('datatrove'), 'unidata': unicodedata.unidata_version, "
             "'points': sorted(map(ord, PUNCTUATION_SET))}, sys.stdout)")
# categories whose every character is either unassigned, private or a surrogate: counted, not listed
_UNLISTED = ("Cn", "Co", "Cs")


def datatrove_punctuation() -> frozenset[str]:
    """datatrove's ``PUNCTUATION_SET`` as its venv has it (checked to use our Unicode database's version)."""
    out = json.loads(subprocess.run([str(DT_PYTHON), "-c", _READ_SET], check=True, capture_output=True,
                                    text=True).stdout)
    if out["unidata"] != unicodedata.unidata_version:
        raise SystemExit(f"datatrove's venv has Unicode {out['unidata']}, ours {unicodedata.unidata_version}: "
                         "the categories differ; run both on the same Python")
    return frozenset(map(chr, out["points"]))


def ours_symbol(token: str) -> bool:
    """Gopher quality's class of ``token`` in the checkout this runs from (the SYMBOL bit, as the vocabulary sets it)."""
    return bool(words._flags(token) & words.SYMBOL)


def difference(dt_set: frozenset[str]) -> tuple[list[str], list[str]]:
    """(characters ours counts as symbols and datatrove as words, characters datatrove counts as symbols and ours as
    words), each over every code point, in code point order."""
    ours_only, dt_only = [], []
    for cp in range(0x110000):
        ch = chr(cp)
        mine, theirs = ours_symbol(ch), ch in dt_set
        if mine and not theirs:
            ours_only.append(ch)
        elif theirs and not mine:
            dt_only.append(ch)
    return ours_only, dt_only


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.category(ch)} {ch if unicodedata.category(ch)[0] != 'C' else ' '} " \
           f"{unicodedata.name(ch, '(no name)')}"


def print_difference(ours_only: list[str], dt_only: list[str]) -> None:
    by_cat = Counter(map(unicodedata.category, ours_only))
    print(f"symbols to ours, words to datatrove: {len(ours_only):,} code points; per category: "
          + ", ".join(f"{c} {n:,}" for c, n in sorted(by_cat.items())))
    print(f"  ({', '.join(_UNLISTED)}: unassigned, private use, surrogates; counted only)")
    for ch in ours_only:
        if unicodedata.category(ch) not in _UNLISTED:
            print("  " + _describe(ch))
    print(f"symbols to datatrove, words to ours: {len(dt_only)} code points")
    for ch in dt_only:
        print("  " + _describe(ch))


def held_out(languages: list[str], handbook: Path | None, udhr: Path | None, parts: int,
             dt_set: frozenset[str]) -> dict:
    from multilingual_agreement import documents

    from pipeline.filters.lang_params import segmenter_of

    report = {}
    for lang in languages:
        rows = documents(lang, handbook, udhr, shared=False, udhr_parts=parts)
        if not rows:
            continue
        apart: Counter[str] = Counter()
        docs_apart, n_tokens, sums = 0, 0, {"ours": [0, 0], "datatrove": [0, 0]}  # [words, their characters]
        for row in rows:
            tokens = words.split_words(row["text"], segmenter_of(lang))
            n_tokens += len(tokens)
            moved = 0
            for token in tokens:
                mine, theirs = ours_symbol(token), all(ch in dt_set for ch in token)
                for side, symbol in (("ours", mine), ("datatrove", theirs)):
                    if not symbol:
                        sums[side][0] += 1
                        sums[side][1] += len(token)
                if mine != theirs:
                    apart[("ours symbol: " if mine else "datatrove symbol: ") + token] += 1
                    moved += 1
            docs_apart += moved > 0
        report[lang] = {"documents": len(rows), "documents_apart": docs_apart, "tokens": n_tokens,
                        "tokens_apart": sum(apart.values()), "top": apart.most_common(12),
                        "words": {s: v[0] for s, v in sums.items()},
                        "mean_word_length": {s: v[1] / max(v[0], 1) for s, v in sums.items()}}
        r = report[lang]
        if r["tokens_apart"]:
            print(f"{lang}: {r['documents_apart']}/{len(rows)} documents, {r['tokens_apart']:,} of {n_tokens:,} "
                  f"tokens apart; words ours {r['words']['ours']:,} / datatrove's definition "
                  f"{r['words']['datatrove']:,}, mean length {r['mean_word_length']['ours']:.3f} / "
                  f"{r['mean_word_length']['datatrove']:.3f}; "
                  + ", ".join(f"{t!r} {n}" for t, n in r["top"]))
        else:
            print(f"{lang}: {len(rows)} documents, {n_tokens:,} tokens, none apart")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", nargs="*", default=[], help="also count the tokens apart in these languages")
    parser.add_argument("--handbook-cache", type=Path, default=None)
    parser.add_argument("--udhr-cache", type=Path, default=None)
    parser.add_argument("--udhr-parts", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    dt_set = datatrove_punctuation()
    ours_only, dt_only = difference(dt_set)
    print_difference(ours_only, dt_only)
    out = {"ours_symbol_datatrove_word": Counter(map(unicodedata.category, ours_only)),
           "listed": [f"U+{ord(c):04X}" for c in ours_only if unicodedata.category(c) not in _UNLISTED],
           "datatrove_symbol_ours_word": [f"U+{ord(c):04X}" for c in dt_only]}
    if args.language:
        print()
        out["held_out"] = held_out(args.language, args.handbook_cache, args.udhr_cache, args.udhr_parts, dt_set)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
