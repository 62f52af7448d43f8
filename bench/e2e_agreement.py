"""Why the kept pages of bench/e2e_bench.py differ between refinery and datatrove: extraction or filters.

One copy of the shared HTML WARCs (the 15-copy run repeats the same pages). Four decisions per page:

* A: refinery end to end (``python -m pipeline run`` in process: resiliparse + our rules, our filters);
* D: datatrove end to end (bench/datatrove_e2e.py: WarcReader, trafilatura(favour_precision), its filters);
* B: datatrove's filters on refinery's extracted text (e2e_bench's ``agreement_filters``);
* C: refinery's filters (the e2e manifest's chain, our cleaning first) on datatrove's extracted text
  (bench/datatrove_extract.py: what WarcReader + Trafilatura hand to datatrove's filters).

A vs D is e2e_bench's end-to-end agreement. A page where A != D is put down to datatrove's reader when
its WarcReader skips the record (no payload type and libmagic does not call it HTML, or neither UTF-8 nor
cchardet's guess decodes it), to extraction when the filters agree on both texts (A = B and C = D: each
tool's filters decide the same on the same text), and to the filters otherwise; and to datatrove's timeout
when its chain keeps the page without the sandbox but the real run dropped it: datatrove's extractor runs in
a sandbox that gives each page 1 s of wall time, so on a loaded machine the real run loses pages whose
extraction takes milliseconds of CPU (the run's count of them is printed). C vs D is what the end-to-end agreement would be if refinery extracted with
trafilatura(favour_precision) as datatrove does. Also printed: the pages datatrove reads that refinery does
not (its reader keeps non-200 responses and decodes differently), and each disagreement with both texts'
word counts and every decision's reason.

``--extractor trafilatura``: A is refinery with the commoncrawl option ``extractor: trafilatura`` (FineWeb's
extractor with datatrove's settings, our decoding, trafilatura's deduplication per split). The pages are
then those refinery's default run gives text (run too, untimed), so a page trafilatura returns nothing for
counts as read and dropped ("no text"). An extraction difference is then split by its source: the
trafilatura *version* (ours against datatrove's venv's, on datatrove's own decoded HTML with one
deduplication cache over all its pages in its order, as its worker process has it) or the *input* (our
decoding of the bytes and our per-split deduplication, same version); the texts are compared after our
cleaning, which the crawl stage applies to ours.

    .venv/bin/python bench/e2e_agreement.py [--extractor resiliparse|trafilatura] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import e2e_bench  # noqa: E402
from pipeline.clean import clean_text  # noqa: E402
from pipeline.filters.base import compute_signals, decide, signal_schema  # noqa: E402
from pipeline.filters.chain import ChainSpec, build, resolve  # noqa: E402
from pipeline.filters.language import bundled_model_path  # noqa: E402

DT_PYTHON = e2e_bench.DT_PYTHON
ANALYSIS_MAX_CHARS = 1_000_000  # the filter stage's default


def refinery_filters(texts: list[str], urls: list[str | None], lid_model: str) -> list[str | None]:
    """The e2e manifest's filter chain (commoncrawl defaults without url/length/pii) on ``texts``, after our
    cleaning as the crawl stage applies it: None = kept, else ``filter:rule``."""
    spec = resolve("commoncrawl", {}, ChainSpec.model_validate(
        {"url": None, "length": None, "pii": None, "language": {"model_path": lid_model}}))
    chain = build(spec)
    cleaned = [clean_text(t) for t in texts]
    columns = compute_signals(chain, cleaned, urls, ANALYSIS_MAX_CHARS)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    out = decide(chain, table, ANALYSIS_MAX_CHARS)
    return [None if f is None else f"{f}:{r}" for f, r in zip(out.filter, out.rule)]


def datatrove_filters(rows: list[dict], lid_model: str, work: Path) -> dict[str, str | None]:
    """datatrove's chain (bench/datatrove_decisions.py) on ``rows`` ({id, text}): id -> first reason."""
    texts, out = work / f"texts-{len(list(work.iterdir()))}.jsonl", work / "decisions.json"
    texts.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n"
                             for r in rows), encoding="utf-8")
    subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_decisions.py"), str(texts), str(out),
                    "--lid-model", lid_model], check=True, capture_output=True)
    return {i: d["chain"] for i, d in json.loads(out.read_text())["docs"].items()}


def words(text: str) -> int:
    return len(text.split())


def kept(decision: str) -> bool:
    return decision == "kept"


def trafilatura_on_their_html(records: list[dict]) -> list[str]:
    """Our trafilatura (FineWeb's settings, as pipeline.extract.trafilatura_text calls it) on the HTML
    datatrove decoded, with one deduplication cache over all its records in its order (its worker's)."""
    import trafilatura
    from trafilatura.deduplication import LRUCache
    from trafilatura.settings import LRU_SIZE

    cache = LRUCache(maxsize=LRU_SIZE)
    return [trafilatura.extract(r["html"], favor_precision=True, include_comments=False, deduplicate=cache) or ""
            for r in records]


def cause(row: dict) -> str | None:
    """Why refinery (A) and datatrove (D) decide a page differently end to end; None when they agree."""
    if kept(row["A"]) == kept(row["D"]):
        return None
    if not row["datatrove_reads"]:
        return "reader"  # datatrove's WarcReader skips the record: no text reaches its filters
    if kept(row["D_simulated"]) and not kept(row["D"]):
        return "timeout"  # its own chain keeps the page; the real run's extractor sandbox (1 s, wall) gave up
    if kept(row["A"]) == kept(row["B"]) and kept(row["C"]) == kept(row["D"]):
        if "version_differs" in row:  # refinery ran trafilatura too: which side of it made the texts differ
            source = [s for s, d in (("version", row["version_differs"]), ("input", row["input_differs"])) if d]
            return f"extraction ({' and '.join(source) or 'same text'})"
        return "extraction"  # each tool's filters decide alike on the same text
    return "filters"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extractor", choices=["resiliparse", "trafilatura"], default="resiliparse",
                        help="refinery's commoncrawl extractor for A (see above)")
    parser.add_argument("--json", type=Path, help="also write the per-page table here")
    args = parser.parse_args()
    with_trafilatura = args.extractor == "trafilatura"
    if not DT_PYTHON.exists():
        raise SystemExit("datatrove's virtualenv is missing: run bash bench/make_datatrove_venv.sh first")
    lid_model = bundled_model_path()
    with tempfile.TemporaryDirectory(prefix="e2e-agreement-") as tmp:
        root = Path(tmp)
        e2e_bench.build_input(root / "input", 1)
        ours = e2e_bench.run_refinery(root / "input", root / "ours", 0, lid_model, in_process=True,
                                      extractor=args.extractor)
        run = ours["run_dir"]
        pages: dict[tuple[str, str], dict] = {}
        if with_trafilatura:  # the pages our default run gives text: read by refinery, whatever trafilatura says
            base = e2e_bench.run_refinery(root / "input", root / "base", 0, lid_model, in_process=True)
            for path in sorted((base["run_dir"] / "docs").rglob("*.parquet")):
                for row in pq.read_table(path, columns=["url", "meta"]).to_pylist():
                    key = (Path(row["meta"]["origin"]).name, row["meta"]["record"])
                    pages[key] = {"url": row["url"], "our_text": "", "A": "no text"}
        for path in sorted((run / "docs").rglob("*.parquet")):
            for row in pq.read_table(path, columns=["text", "url", "meta"]).to_pylist():
                key = (Path(row["meta"]["origin"]).name, row["meta"]["record"])
                pages[key] = {"url": row["url"], "our_text": row["text"], "A": "kept"}
        for path in sorted((run / "removed").rglob("*.parquet")):
            for row in pq.read_table(path, columns=["meta", "filter", "rule"]).to_pylist():
                pages[(Path(row["meta"]["origin"]).name, row["meta"]["record"])]["A"] = f"{row['filter']}:{row['rule']}"
        real = e2e_bench.run_datatrove(root / "input", root / "datatrove", 0, lid_model)
        dt_kept = set(real["kept"])
        timeouts = real["timeouts"]
        dt_out = root / "dt_texts.jsonl"
        subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_extract.py"), str(root / "input"),
                        str(dt_out), *(["--html"] if with_trafilatura else [])], check=True, capture_output=True)
        records = [json.loads(line) for line in dt_out.read_text(encoding="utf-8").splitlines()]
        if with_trafilatura:
            for record, text in zip(records, trafilatura_on_their_html(records)):
                record["ours_on_their_html"] = text
                del record["html"]
        theirs = {(r["file"], r["id"]): r for r in records}
        work = root / "decisions"
        work.mkdir()
        b = datatrove_filters([{"id": f"{k[0]}#{k[1]}", "text": p["our_text"]} for k, p in pages.items()
                               if p["our_text"]], lid_model, work)
        d = datatrove_filters([{"id": f"{k[0]}#{k[1]}", "text": r["text"]} for k, r in theirs.items() if r["text"]],
                              lid_model, work)
        c_keys = [k for k, r in theirs.items() if r["text"]]
        c = dict(zip(c_keys, refinery_filters([theirs[k]["text"] for k in c_keys], [theirs[k]["url"] for k in c_keys],
                                              lid_model)))
    table = []
    for key in sorted(set(pages) | set(theirs)):
        page, dt = pages.get(key), theirs.get(key)
        name = f"{key[0]}#{key[1]}"
        a = None if page is None else (None if page["A"] == "kept" else page["A"])
        dt_text = (dt or {}).get("text", "")
        row = {"file": key[0], "record": key[1], "url": (page or {}).get("url") or (dt or {}).get("url"),
               "refinery_reads": page is not None, "datatrove_reads": dt is not None,
               "A": "not read" if page is None else (a or "kept"),
               "B": None if page is None else ("no text" if not page["our_text"] else (b.get(name) or "kept")),
               "C": "no text" if not dt_text else (c[key] or "kept"),
               "D_simulated": "not read" if dt is None else ("no text" if not dt_text else (d.get(name) or "kept")),
               "D": "kept" if key in dt_kept else "dropped",
               "our_words": words(page["our_text"]) if page else 0, "their_words": words(dt_text),
               "extract_seconds": (dt or {}).get("seconds")}
        if with_trafilatura and page is not None and dt is not None:
            # texts after our cleaning; "version": datatrove's trafilatura and ours differ on the same HTML and
            # deduplication history; "input": ours on datatrove's input differs from ours in our pipeline
            same_version = clean_text(dt["ours_on_their_html"])
            row["same_text"] = page["our_text"] == clean_text(dt_text)
            row["version_differs"] = dt["ours_on_their_html"] != dt_text
            row["input_differs"] = same_version != page["our_text"]
        table.append(row)
    ours_pages = [r for r in table if r["refinery_reads"]]
    agree = lambda rows, x, y: sum(kept(r[x]) == kept(r[y]) for r in rows)  # noqa: E731
    both = [r for r in table if r["refinery_reads"] and r["datatrove_reads"]]
    n = len(ours_pages)
    summary = {
        "pages_refinery": n, "records_datatrove": len(theirs), "read_by_both": len(both),
        "datatrove_only_records": sum(not r["refinery_reads"] for r in table),
        "datatrove_only_kept": sum(not r["refinery_reads"] and kept(r["D"]) for r in table),
        "datatrove_extraction_timeouts": timeouts,
        "D_simulated_equals_D": sum(kept(r["D_simulated"]) == kept(r["D"]) for r in table if r["datatrove_reads"]),
        "A_vs_D_end_to_end": agree(ours_pages, "A", "D") / n,
        "A_vs_B_filters_on_our_text": agree(ours_pages, "A", "B") / n,
        "C_vs_D_filters_on_trafilatura_text": agree(both, "C", "D") / max(1, len(both)),
        "A_vs_C_our_filters_extractor_swapped": agree(both, "A", "C") / max(1, len(both)),
        "extractor": args.extractor,
    }
    if with_trafilatura:
        summary["texts_of_pages_read_by_both"] = {
            "same": sum(r["same_text"] for r in both),
            "differ_by_version_only": sum(not r["same_text"] and r["version_differs"] and not r["input_differs"]
                                          for r in both),
            "differ_by_input_only": sum(not r["same_text"] and r["input_differs"] and not r["version_differs"]
                                        for r in both),
            "differ_by_both": sum(not r["same_text"] and r["version_differs"] and r["input_differs"] for r in both),
            "version_differs_on_same_input": sum(r["version_differs"] for r in both),
        }
    causes: dict[str, int] = {"reader": 0, "timeout": 0, "extraction": 0, "filters": 0}
    print(json.dumps(summary, indent=1))
    print("\npages where refinery and datatrove disagree end to end (A vs D):")
    for r in ours_pages:
        r["cause"] = cause(r)
        if r["cause"] is not None:
            causes[r["cause"]] = causes.get(r["cause"], 0) + 1
            print(f"- [{r['cause']}] {r['file']} {r['url']}: A {r['A']}, D {r['D']} (simulated {r['D_simulated']}), "
                  f"B {r['B']}, C {r['C']}; words ours {r['our_words']}, trafilatura {r['their_words']}; "
                  f"extract {r['extract_seconds']} s")
    summary["disagreement_causes"] = causes
    print(json.dumps(causes))
    print("\ndatatrove-only records it keeps:")
    for r in table:
        if not r["refinery_reads"] and kept(r["D"]):
            print(f"- {r['file']} {r['url']}: {r['their_words']} words")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "pages": table}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
