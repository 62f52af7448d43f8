"""Project Gutenberg header/footer removal against marker lists that other projects collected.

Held-out evidence for ``pipeline.extract.gutenberg``: the marker strings that PyPI packages which clean PG
texts found in the real corpus (c-w's ``gutenberg``, ``gutenberg-cleaner``, ``gutenbergpy``,
``gutenberg2zim``, ``gutenfetchen``), none of them written with our rules in mind.

    python bench/gutenberg_markers.py [--cache DIR] [--json OUT] [--repo REPO]

1. Each package's newest wheel is fetched with ``pip download --no-deps`` into ``--cache`` (default: a
   folder under the system temp dir; nothing is committed) and unpacked. Its marker strings are read from
   its source with ``ast`` (module-level or local assignments named ``*START*MARKERS*``/``*END*MARKERS*``/
   ``*END_OF_*PREFIXES``, and gutenberg2zim's ``patterns`` list of (start, end) pairs); nothing is imported.
2. Every marker is classified (``kind``) by what such a line is in a PG file: a ``marker`` (where the
   header ends or the footer begins: START/END OF, the small print's end, "End of the Project Gutenberg
   ...", "Ende dieses ...", "Fin de ..."), a ``credit`` (a transcriber's or scanner's line, "Produced by"),
   a ``header`` line (banner, the small print's opening, donation pleas) or ``other`` (a URL, a
   decorative rule, a French or German aside).
3. For each marker and each shared Project Gutenberg book (5 English, 1 German, 1 Chinese: their real
   header, body and licence), test books are built: the book's own START (or END) line is replaced by
   the marker, completed the way PG completes it ("*** START OF THE PROJECT GUTENBERG" + " EBOOK TITLE
   ***", "End of the Project Gutenberg" + " EBook of Title, by Author"), with a real body of about 200
   lines from the middle of the same book in between. Three layouts:

   * ``full``: real header, the marker, body, real footer (for an end marker: real header and START line,
     body, the marker, the real licence without the book's own "End of"/END lines);
   * ``alone``: the marker is the file's only one (a start marker: header, marker, body; an end marker:
     body, marker, licence);
   * ``as_listed``: like ``full`` with the string exactly as the package lists it, not completed.

   Each is read by the ``books`` reader (unwrap off, so lines can be compared) and scored: (a) no header
   or licence line longer than 20 characters (and not the marker line) is left, (b) every body line is
   kept, in order, (c) the reader counts it ``books.gutenberg_stripped``, not ``gutenberg_unmarked``.
4. The packages' own cleaners that run offline (c-w's and gutenbergpy's ``strip_headers``,
   gutenberg-cleaner's ``_strip_headers``, gutenfetchen's ``clean_text``) are run on the same ``full``
   books, in a subprocess with the unpacked wheel on its path (gutenbergpy's ``chardet`` is installed
   with pip into the cache), and scored on (a) and (b). gutenberg2zim cleans HTML only: its pairs are
   measured with our reader, its cleaner is not run.

Yield, not speed: the figures are the same on any machine.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

PACKAGES = ("gutenberg", "gutenberg-cleaner", "gutenbergpy", "gutenberg2zim", "gutenfetchen")
# The cleaner each package ships, run on the built books: (module file under the wheel, function, kind).
CLEANERS = {
    "gutenberg": ("gutenberg/cleanup/strip_headers.py", "gutenberg.cleanup.strip_headers", "strip_headers", "str"),
    "gutenberg-cleaner": ("_cleaning_options/strip_headers.py", "_cleaning_options.strip_headers", "_strip_headers",
                          "str"),
    "gutenbergpy": ("gutenbergpy/textget.py", "gutenbergpy.textget", "strip_headers", "bytes"),
    "gutenfetchen": ("gutenfetchen/cleaner.py", "gutenfetchen.cleaner", "clean_text", "str"),
}
CLEANER_DEPS = {"gutenbergpy": ["chardet"]}
BOOKS = ("gutenberg-972-the-devils-dictionary.txt", "gutenberg-3261-news-from-nowhere.txt",
         "gutenberg-9198-the-complete-angler-1653.txt", "gutenberg-16215-jack-sheppard.txt",
         "gutenberg-14263-katrine.txt", "de-goethe-faust1-pg2229.txt", "zh-hongloumeng-pg24264.txt")
BODY_LINES = 200
LAYOUTS = ("full", "alone", "as_listed")

# What a listed string is in a PG file. Written from PG's files, apart from the extractor's own patterns.
KINDS = (
    ("marker", re.compile(r"START OF|END OF|\bEnd of\b|END\*? ?THE SMALL PRINT|PROTECTED ETEXTS\*END\*|"
                          r"^\s*Ende dies|^\s*Fin de|COPYRIGHTED|START: FULL LICEN|Beginning of th|"
                          r"\[\"Small Print\" V\.",
                          re.I)),
    ("credit", re.compile(r"(?<!Were )prepared by|produced by|Proofread|Distributed Proofreaders|Internet Archive|"
                          r"Google Print|pgdp|archive\.org|Mary Meehan|gallica|ibiblio|edition\.$|"
                          r"Gutenberg Online Distributed|etext through OCR|Nous remercions|l'authorization", re.I)),
    ("header", re.compile(r"Project Gutenberg|SMALL PRINT|Small Print|donations|Volunteers|restrictions|"
                          r"top of this file|Text encoding is", re.I)),
)


def kind_of(marker: str) -> str:
    for kind, pattern in KINDS:
        if pattern.search(marker):
            return kind
    return "other"


# --- fetching and reading the packages' lists ------------------------------------------------------------


def fetch(package: str, cache: Path) -> Path | None:
    """The unpacked newest wheel of ``package`` (downloaded once into ``cache``), or None if pip has none."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[-_.]+", "_", package).lower()
    found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem + "-")]
    if not found:
        run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                              "--quiet", package, "-d", str(wheels)], capture_output=True, text=True)
        if run.returncode:
            print(f"  {package}: pip download failed: {run.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem + "-")]
    if not found:
        return None
    wheel = max(found)
    target = cache / "unpacked" / wheel.stem
    if not target.is_dir():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def markers_of(root: Path) -> dict[str, list[str]]:
    """{"start": [...], "end": [...], "interior": [...]}: the marker strings in a package's source."""
    found: dict[str, list[str]] = {"start": [], "end": [], "interior": []}
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts[-1] or "/tests/" in str(path):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = target.id.upper() if isinstance(target, ast.Name) else ""
                if name == "PATTERNS" and isinstance(node.value, ast.List):  # gutenberg2zim: (start, end) pairs
                    for pair in node.value.elts:
                        if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                            start, end = (_strings(e) for e in pair.elts)
                            found["start"] += ["".join(start)]
                            found["end"] += ["".join(end)]
                elif "LEGALESE" in name and "START" in name:
                    found["interior"] += [f"start:{s}" for s in _strings(node.value)]
                elif "LEGALESE" in name and "END" in name:
                    found["interior"] += [f"end:{s}" for s in _strings(node.value)]
                elif "CHAPTER" in name:  # gutenfetchen's chapter headings: where a book's text begins, not PG's
                    continue
                elif "MARKER" in name and "START" in name:
                    found["start"] += _strings(node.value)
                elif ("MARKER" in name and "END" in name) or "END_OF" in name:
                    found["end"] += _strings(node.value)
    return {role: list(dict.fromkeys(values)) for role, values in found.items()}


# --- building test books from the shared ones ------------------------------------------------------------


def parts_of(path: Path) -> dict[str, Any]:
    """A shared PG book cut into header, START line, body, "End of" line, END line and licence."""
    raw = path.read_bytes().decode("utf-8")
    eol = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if re.match(r"\*{3} ?START OF TH", line))
    end = next(i for i, line in enumerate(lines) if re.match(r"\*{3} ?END OF TH", line))
    end_line = next((i for i in range(end - 1, end - 6, -1) if lines[i].lower().startswith("end of")), end)
    body = lines[start + 1:end_line]
    middle = len(body) // 2  # a paragraph boundary near the middle, then BODY_LINES lines to the next one
    first = next(i for i in range(middle, len(body)) if not body[i].strip()) + 1
    last = next((i for i in range(first + BODY_LINES, len(body)) if not body[i].strip()), len(body))
    title = re.search(r"^Title:\s*(.+)$", text, re.M).group(1).strip()
    author = re.search(r"^Author:\s*(.+)$", text, re.M).group(1).strip()
    return {"eol": eol, "bom": raw.startswith("\ufeff"), "header": lines[:start], "start": lines[start],
            "body": body[first:last], "end_line": lines[end_line:end], "end": lines[end], "licence": lines[end + 1:],
            "title": title, "author": author}


def complete(marker: str, role: str, title: str, author: str) -> str:
    """The marker as a whole PG line: the listed strings are line prefixes, PG's lines go on with the title."""
    core = marker.rstrip()
    upper = core.upper() == core and any(c.isalpha() for c in core)
    if re.search(r"END\*? ?THE SMALL PRINT!?$", core, re.I):
        return core + ("" if core.endswith("!") else "!") + " FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*"
    elif core.startswith('["Small Print" V.'):
        tail = "12.08.93]"
    elif core.startswith("COPYRIGHT PROTECTED ETEXTS"):  # the tail of the copyrighted etexts' small print end
        return "*END*THE SMALL PRINT! FOR " + core
    elif re.search(r"^\s*\*{3} ?(?:START|END) OF TH\w+ PROJECT GUTENBERG$", core, re.I):
        tail = f" EBOOK {title.upper()}" + ("***" if re.match(r"\s*\*{3}\S", core) else " ***")
    elif re.search(r"(?:START|END) OF THE COPYRIGHTED$", core):
        tail = f" PROJECT GUTENBERG EBOOK {title.upper()} ***"
    elif core.endswith("COPYRIGHTED"):
        tail = f" Project Gutenberg Etext of {title}"
    elif re.search(r"^\s*Ende dies", core) and re.search(r"Gutenberg?$", core, re.I):
        tail = ("g" if core.endswith("Gutenber") else "") + f" Etextes {title}"
    elif re.search(r"^\s*Fin de", core):
        tail = (" de " if core.endswith("Etext") else " Etext de ") + title
    elif re.search(r"^\W*The Project Gutenberg$", core, re.I):  # the banner
        tail = f" Etext of {title}, by {author}" + ("**" if core.startswith("**") else "")
    elif re.search(r"GUTENBERG$", core, re.I):
        tail = f" EBook of {title}, by {author}"
    elif re.search(r"^\W*end of (?:the )?project$", core, re.I):
        tail = f" Gutenberg EBook of {title}, by {author}"
    elif re.search(r"\b(?:of|Etextes)$", core):
        tail = " " + title
    elif core.endswith(" by"):
        tail = " Anne Volunteer and the Online Distributed Proofreading Team"
    else:
        tail = ""
    return core + (tail.upper() if upper else tail)


CREDIT_OPENER = re.compile(r"^\s*(?:This .{0,30}(?:prepared|produced) by|E-text prepared by|Produced by)", re.I)


def as_credit(marker: str, line: str) -> str:
    """A credit fragment ("Distributed Proofreading Team", "Internet Archive)") never opens a credit in a PG
    file: it continues one. Such a fragment is put on the second line of a "Produced by" credit."""
    return line if CREDIT_OPENER.match(marker) else "Produced by Anne Volunteer and the Online\n" + line


def build(parts: dict[str, Any], role: str, line: str, layout: str) -> tuple[str, list[str], list[str]]:
    """(file text, the body lines that must stay, the boilerplate lines that must go)."""
    p = parts
    body = p["body"]
    if role == "start":
        footer = p["end_line"] + [p["end"]] + p["licence"] if layout != "alone" else []
        lines = p["header"] + line.split("\n") + [""] + body + footer
        boiler = p["header"] + line.split("\n") + footer
    else:
        header = p["header"] + [p["start"]] if layout != "alone" else []
        lines = header + body + ["", line] + p["licence"]
        boiler = header + [line] + p["licence"]
    text = ("\ufeff" if p["bom"] else "") + p["eol"].join(lines)
    body_set = {b.strip() for b in body}
    gone = [b.strip() for b in boiler if len(b.strip()) > 20 and b.strip() not in body_set]
    return text, [b.strip() for b in body if b.strip()], gone


def interior_book(parts: dict[str, Any], start: str, end: str) -> tuple[str, list[str], list[str]]:
    """A licence note inside the book (c-w's "legalese", the Shakespeare etexts' copyright block between plays)."""
    p = parts
    half = len(p["body"]) // 2
    cut = next(i for i in range(half, len(p["body"])) if not p["body"][i].strip())
    note = [f"{start} THE COMPLETE WORKS IS COPYRIGHT 1990-1993 BY WORLD LIBRARY, INC., AND IS",
            "PROVIDED BY PROJECT GUTENBERG ETEXT OF ILLINOIS BENEDICTINE COLLEGE WITH",
            "PERMISSION.  ELECTRONIC AND MACHINE READABLE COPIES MAY BE DISTRIBUTED SO LONG AS SUCH COPIES (1) ARE",
            "FOR YOUR OR OTHERS PERSONAL USE ONLY, AND (2) ARE NOT DISTRIBUTED OR USED COMMERCIALLY.  PROHIBITED",
            f"COMMERCIAL DISTRIBUTION INCLUDES BY ANY {end} TIME OR FOR MEMBERSHIP.>>"]
    lines = (p["header"] + [p["start"]] + p["body"][:cut] + [""] + note + [""] + p["body"][cut:] + p["end_line"]
             + [p["end"]] + p["licence"])
    text = ("\ufeff" if p["bom"] else "") + p["eol"].join(lines)
    return text, [b.strip() for b in p["body"] if b.strip()], [n.strip() for n in note]


# --- scoring ---------------------------------------------------------------------------------------------


def score(out: str, body: list[str], gone: list[str]) -> dict[str, bool]:
    out_lines = [line.strip() for line in out.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    present = set(out_lines)
    kept, i = [line for line in out_lines if line], 0
    for line in kept:  # the body lines, in order, somewhere in the output
        if i < len(body) and line == body[i]:
            i += 1
    return {"removed": not any(g in present for g in gone), "kept": i == len(body)}


def read_ours(text: str, workdir: Path) -> tuple[str, dict[str, int]]:
    from contracts.accounting import Tally
    from pipeline.readers.base import Split
    from pipeline.readers.books import READER, Options

    path = workdir / "book.txt"
    path.write_bytes(text.encode("utf-8"))
    tally = Tally()
    docs = list(READER.read(Split(str(path)), Options(unwrap=False), tally))
    return (docs[0].text if docs else ""), dict(tally.counts)


RUNNER = r"""
import importlib, json, sys
module, function, kind = sys.argv[1:4]
clean = getattr(importlib.import_module(module), function)
texts = json.load(sys.stdin)
out = []
for text in texts:
    if kind == "bytes":
        got = clean(text.encode("utf-8"))
        out.append(got.decode("utf-8", "replace") if isinstance(got, bytes) else got)
    else:
        out.append(clean(text))
json.dump(out, sys.stdout)
"""


def run_cleaner(package: str, root: Path, cache: Path, texts: list[str]) -> list[str] | str:
    """The package's own cleaner on ``texts`` (a subprocess with the wheel on its path), or why it did not run."""
    _, module, function, kind = CLEANERS[package]
    paths = [str(root)]
    if deps := CLEANER_DEPS.get(package):
        target = cache / "deps" / package
        if not target.is_dir():
            pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                                  str(target), *deps], capture_output=True, text=True)
            if pip.returncode:
                return f"its dependencies {deps} could not be installed"
        paths.append(str(target))
    env = {"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    run = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path[:0] = sys.argv.pop(1).split(':'); "
                          "exec(sys.argv.pop(1))", ":".join(paths), RUNNER, module, function, kind],
                         input=json.dumps(texts), capture_output=True, text=True, env=env)
    if run.returncode:
        return "did not run: " + (run.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(run.stdout)


# --- the run ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "refinery-gutenberg-markers")
    ap.add_argument("--json", type=Path, help="write every case and figure here")
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the checkout whose books reader to measure (default: this one)")
    ap.add_argument("--shared", type=Path, default=None, help="shared data folder (default: REPO/../shared/data)")
    ap.add_argument("--failures", type=int, default=40, help="list at most this many failing cases")
    args = ap.parse_args()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    shared = args.shared or repo.parent / "shared" / "data"
    print(f"books reader from {repo}; packages cached in {args.cache}")

    roots = {pkg: fetch(pkg, args.cache) for pkg in PACKAGES}
    lists = {pkg: markers_of(root) for pkg, root in roots.items() if root is not None}
    books = {name: parts_of(shared / "books" / name) for name in BOOKS}

    # every distinct (role, marker) once; the per-list figures count the list's own entries
    distinct: dict[tuple[str, str], dict[str, Any]] = {}
    for pkg, found in lists.items():
        for role in ("start", "end"):
            for marker in found[role]:
                distinct.setdefault((role, marker), {"lists": []})["lists"].append(pkg)
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for (role, marker), info in distinct.items():
            info["kind"] = kind_of(marker)
            for name, parts in books.items():
                for layout in LAYOUTS:
                    line = marker if layout == "as_listed" else complete(marker, role, parts["title"], parts["author"])
                    if role == "start" and info["kind"] == "credit" and layout != "as_listed":
                        line = as_credit(marker, line)
                    text, body, gone = build(parts, role, line, layout)
                    out, counts = read_ours(text, work)
                    result = score(out, body, gone)
                    result["counted"] = counts.get("books.gutenberg_stripped", 0) == 1
                    cases.append({"role": role, "marker": marker, "line": line, "kind": info["kind"], "book": name,
                                  "layout": layout, "lists": info["lists"], **result,
                                  "unmarked": counts.get("books.gutenberg_unmarked", 0) == 1, "text": text,
                                  "body": body, "gone": gone})
        interiors = []
        for pkg, found in lists.items():
            starts = [s[6:] for s in found["interior"] if s.startswith("start:")]
            ends = [s[4:] for s in found["interior"] if s.startswith("end:")]
            for start, end in zip(starts, ends):
                for name, parts in books.items():
                    text, body, gone = interior_book(parts, start, end)
                    out, counts = read_ours(text, work)
                    interiors.append({"list": pkg, "marker": start, "book": name, **score(out, body, gone)})

    def figures(rows: list[dict[str, Any]]) -> str:
        n = len(rows)
        a, b, c = (sum(r[k] for r in rows) for k in ("removed", "kept", "counted"))
        allok = sum(r["removed"] and r["kept"] and r["counted"] for r in rows)
        unmarked = sum(r["unmarked"] for r in rows)
        return f"{a}/{n} | {b}/{n} | {c}/{n} | {allok}/{n} | {unmarked}/{n}"

    print("\n### Our books reader, per list (cases = markers x 7 shared books)\n")
    print("| list | role | layout | markers | (a) boilerplate gone | (b) body whole | (c) counted stripped | all three "
          "| kept whole, counted unmarked |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary: dict[str, Any] = {}
    for pkg in lists:
        for role in ("start", "end"):
            for layout in LAYOUTS:
                rows = [c for c in cases if pkg in c["lists"] and c["role"] == role and c["layout"] == layout]
                if rows:
                    n_markers = len({r["marker"] for r in rows})
                    print(f"| {pkg} | {role} | {layout} | {n_markers} | {figures(rows)} |")
                    summary[f"{pkg}/{role}/{layout}"] = figures(rows)
    print("\n### Our books reader, distinct markers of all lists by kind (layout full and alone)\n")
    print("| role | kind | markers | layout | (a) | (b) | (c) | all three | counted unmarked |")
    print("|---|---|---|---|---|---|---|---|---|")
    for role in ("start", "end"):
        for kind in ("marker", "credit", "header", "other"):
            for layout in ("full", "alone"):
                rows = [c for c in cases if c["role"] == role and c["kind"] == kind and c["layout"] == layout]
                if rows:
                    print(f"| {role} | {kind} | {len({r['marker'] for r in rows})} | {layout} | {figures(rows)} |")
                    summary[f"kind/{role}/{kind}/{layout}"] = figures(rows)
    body_lost = [c for c in cases if not c["kept"]]
    print(f"\nbody lines lost in {len(body_lost)} of {len(cases)} cases")
    if interiors:
        ok = sum(r["removed"] and r["kept"] for r in interiors)
        print(f"licence notes inside the book (legalese): {ok}/{len(interiors)} removed with the body whole")
        summary["interior"] = f"{ok}/{len(interiors)}"

    # failures, grouped by marker: which books and checks
    fails: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in cases:
        if c["layout"] != "as_listed" and not (c["removed"] and c["kept"] and c["counted"]):
            what = "".join(k for k, flag in (("a", c["removed"]), ("b", c["kept"]), ("c", c["counted"])) if not flag)
            fails[(c["role"], c["kind"], c["marker"])].append(f"{c['layout']}:{c['book'].split('-')[1]}:{what}")
    print(f"\nfailing markers (full and alone layouts: {len(fails)} markers; layout:book:checks failed):")
    for (role, kind, marker), where in list(sorted(fails.items()))[: args.failures]:
        print(f"  {role:5} {kind:6} {marker!r}: {len(where)} cases, e.g. {', '.join(sorted(set(where))[:3])}")

    print("\n### The packages' own cleaners on the same full-layout books\n")
    print("| cleaner | books | (a) boilerplate gone | (b) body whole | both | both, kind marker only "
          "| both, markers not in its own list | body lost in (kind: books) |")
    print("|---|---|---|---|---|---|---|---|")
    full = [c for c in cases if c["layout"] == "full"]

    def row(name: str, own: str | None, scored: list[dict[str, bool]]) -> None:
        a, b = sum(s["removed"] for s in scored), sum(s["kept"] for s in scored)
        both = [s["removed"] and s["kept"] for s in scored]
        marker = [ok for ok, c in zip(both, full) if c["kind"] == "marker"]
        other = [ok for ok, c in zip(both, full) if own not in c["lists"]]
        lost: dict[str, int] = defaultdict(int)
        for s, c in zip(scored, full):
            if not s["kept"]:
                lost[c["kind"]] += 1
        print(f"| {name} | {len(full)} | {a} | {b} | {sum(both)} | {sum(marker)}/{len(marker)} | "
              f"{sum(other)}/{len(other)} | {', '.join(f'{k}: {v}' for k, v in sorted(lost.items())) or '-'} |")
        summary[f"cleaner/{name}"] = {"books": len(full), "removed": a, "kept": b, "both": sum(both),
                                      "marker_kind_both": sum(marker), "not_own_list_both": sum(other),
                                      "body_lost_by_kind": dict(lost)}

    row("refinery books reader", None, [{"removed": c["removed"], "kept": c["kept"]} for c in full])
    for pkg in CLEANERS:
        if roots.get(pkg) is None:
            print(f"| {pkg} | - | not downloadable | | |")
            continue
        outs = run_cleaner(pkg, roots[pkg], args.cache, [c["text"] for c in full])
        if isinstance(outs, str):
            print(f"| {pkg} | - | {outs} | | |")
            summary[f"cleaner/{pkg}"] = outs
            continue
        row(pkg, pkg, [score(out, c["body"], c["gone"]) for out, c in zip(outs, full)])
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "lists": lists, "interior": interiors,
                                         "cases": [{k: v for k, v in c.items() if k not in ("text", "body", "gone")}
                                                   for c in cases]}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
