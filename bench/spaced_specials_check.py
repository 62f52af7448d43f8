"""Our words against spaCy's on texts built around its special cases that hold a space (issue 13).

Why: spaCy merges "и", "др", "." into "и др." across whitespace chunks (``pipeline.filters.spaced_specials``),
and the outcome depends on the spaces between the chunks, on the marks around them and on what else its matcher
finds nearby. The held-out texts hold few such cases (bench/spacy_token_agreement.py --whole), so this builds
texts that hold many: each table's cases with and without marks around them, the space between their parts
replaced now and then by other whitespace or none, and words of the language between them (seeded). spaCy
(in the datatrove bench venv) and ``words.split_words`` tokenize each text whole; the script prints, per table,
how many texts give the same tokens, and the first differences.

    .venv/bin/python bench/spaced_specials_check.py [--texts 400] [--seed 7] [--examples 4]
        [--fixture tests/data/spacy/spaced_specials.json --fixture-texts 40]

``--fixture`` writes, per table, the first ``--fixture-texts`` texts on which both agree, with spaCy's tokens:
the stored copy ``tests/pipeline/filters/test_spaced_specials.py`` checks on every run (CI has no spaCy).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

# words of each language to put between the cases, some of them the cases' own parts
FILLERS = {"ru": "и в по до он т.д. т.ч. др. сл. наук сотр. , . ( ) \" - ст. п. время",
           "es": "los y de EE. UU. Ee. Uu. EE.UU. . , ( )",
           "mk": "и на пр. н. др. сл. , .",
           "sr": "да л' л’ је и сл. , .",
           "id": "Dr. med phil. rer. nat. iur. oec pol. , .",
           "ms": "1 2 Kor. Ptr. Sam. Tim. , . ("}
SEPARATORS = [" ", " ", " ", "  ", "\n", "\t", "\u00a0", "", " \n"]
BEFORE, AFTER = ["", "", "(", "\"", "«"], ["", "", ",", ")", ".", "»", "x"]


def texts_for(lang: str, keys: list[str], n: int, rng: random.Random) -> list[str]:
    fill = FILLERS[lang].split()
    out = []
    for _ in range(n):
        text = ""
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.4:
                key = rng.choice(keys)
                if rng.random() < 0.3:  # the space between its parts replaced
                    key = key.replace(" ", rng.choice(SEPARATORS), 1)
                part = rng.choice(BEFORE) + key + rng.choice(AFTER)
            else:
                part = rng.choice(fill)
            text += part + rng.choice(SEPARATORS)
        out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=400, help="texts per table")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=4)
    parser.add_argument("--fixture", type=Path, default=None)
    parser.add_argument("--fixture-texts", type=int, default=40)
    args = parser.parse_args()
    from spacy_token_agreement import spacy_tokens

    from pipeline.filters.segment import affix_spaced_specials
    from pipeline.filters.words import split_words

    rng = random.Random(args.seed)
    fixture: dict[str, object] = {}
    total = same_total = 0
    for lang in FILLERS:
        segmenter = f"spacy-{lang}"
        keys = [case.key for case in affix_spaced_specials(segmenter)]
        texts = texts_for(lang, keys, args.texts, rng)
        version, theirs = spacy_tokens(texts, lang)
        agreeing, differing = [], []
        for text, toks in zip(texts, theirs):
            spacy_words = [t.strip() for _, t in toks]
            ours = split_words(text, segmenter)
            (agreeing if ours == spacy_words else differing).append((text, ours, spacy_words))
        merged = sum(" " in w for _, _, s in agreeing + differing for w in s)
        print(f"{segmenter} ({len(keys)} cases; spaCy {version}): {len(agreeing)}/{len(texts)} texts give spaCy's "
              f"tokens ({merged} merged tokens of spaCy's in all)")
        for text, ours, spacy_words in differing[:args.examples]:
            print(f"    {text!r}\n      ours  {ours}\n      spaCy {spacy_words}")
        total += len(texts)
        same_total += len(agreeing)
        fixture[segmenter] = [{"text": t, "tokens": s} for t, _, s in agreeing[:args.fixture_texts]]
    print(f"all: {same_total}/{total} texts")
    if args.fixture:
        args.fixture.write_text(json.dumps({"spacy": version, "seed": args.seed, "texts": fixture},
                                           ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
