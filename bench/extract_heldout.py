"""Our HTML extractor on gold that nobody here tuned on: other packages' test pages with their expected text.

Why: ``bench/extract_bench.py`` scores the extractor on the four shared sets it was tuned on. This one downloads
pinned sdists from PyPI (``pip download``, into a cache folder outside the repo, never committed), reads their
test pages and expected texts from the archives in memory, and scores, per set and per page,

* ours as the crawl stage runs it (``decode_html`` of the file's bytes, then ``extract`` with the
  ``main_content_max_tags`` a manifest gets by default; on the whole-page set also ``main_content: false``);
* trafilatura (favor_precision, extract_bench's reference, and default) and resiliparse's plain
  ``extract_plain_text(main_content=True)`` on the same decoded text;
* with ``--peers``, the package's own extractor on its own tests (fitted: the expected texts are its output).

The sets (what each gold is, read from the package's tests):

* ``newspaper4k`` 0.9.6, ``tests/data/html/X.html`` with ``tests/data/txt/X.txt``: the expected ``article.text``
  of newspaper4k (written by its ``tests/helpers/create_test_data.py``; the body without the title), compared
  exactly by its language tests. Main-content gold, but a tool's reviewed output, not a human's. Scored with
  extract_bench's shingle precision / recall / F1 (one home: ``extract_bench.page_scores``), per language too.
* ``html_text`` 0.7.1, ``tests/test_webpages/X.html`` with ``X.txt``: all the visible text of the page (not its
  main content). Used as a "nothing invented, no markup leaked" check: precision against it should be ~1 for
  any extractor; its recall is the share of the page kept (only ``main_content: false`` should be ~1).
* ``trafilatura`` 1.1.0, ``tests/cache/*.html`` with ``tests/realworld_tests.py``'s assertions: strings that must
  / must not be in the extracted text (German blogs, shops, municipal pages). The last sdist that ships them.
  Some must-have strings are reader comments, which trafilatura keeps by default and we drop by policy.
* ``trafilatura`` 2.3.1, ``tests/resources``: the two text assertions its tests make on real pages
  (``webpage.html.gz``, ``apache.html``).

Searched and holding no HTML with expected text (sdists unless named): readabilipy 0.3.0, boilerpy3 1.0.7, goose3
3.1.22 (tests without their data), news-please 1.6.16, readability-lxml 0.9, justext 3.0.2 (inline snippets),
trafilatura 1.2.2 and 2.3.1 beyond the two above (no tests/cache), extractnet and dragnet (no installable
sdist); npm: @mozilla/readability 0.3.0 and 0.6.0 (no test-pages), @postlight/parser 2.2.3,
@extractus/article-extractor 9.0.1, article-parser 7.2.5 (8 synthetic pages, assertions on titles and links).

Per page: wipe-out (we return nothing, or under 10 % of the gold's ``\\w+`` tokens), extract_bench's lost /
reverse against the reference, and leaks that the gold lacks: markup (tags, entities), script (JS syntax),
cookie-banner lines, and navigation (three or more short lines, under 30 characters, found nowhere in the gold).

    taskset -c 0 python bench/extract_heldout.py [--cache DIR] [--json OUT] [--peers] [--worst N]
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from extract_bench import REFERENCE, WIPE_HIGH, WIPE_LOW, page_scores, score  # noqa: E402

from pipeline.extract.html import decode_html, extract, furniture_selectors  # noqa: E402
from pipeline.readers.commoncrawl import Options, _full_text  # noqa: E402

# (name, version): the sdists read. Pinned, so the tables can be reproduced.
SDISTS = [("newspaper4k", "0.9.6"), ("html_text", "0.7.1"), ("trafilatura", "1.1.0"), ("trafilatura", "2.3.1")]
# --peers: the packages' own extractors, installed with --no-deps into CACHE/site (never into the venv); the
# dependencies our venv lacks, pinned to what pip resolved for these versions on 6 December 2026.
PEER_PACKAGES = ["newspaper4k==0.9.6", "html_text==0.7.1", "beautifulsoup4==4.15.0", "feedparser==6.0.14",
                 "feedparser-sgmllib==2.1.0", "requests-file==3.0.1", "soupsieve==4.1.4", "tldextract==5.4.0",
                 "w3lib==2.5.0"]
# newspaper4k's language tests pass these languages to its Article (tests/conftest.py); the rest of its pages
# are English (their metadata's ``language``), except the two its fixtures do not cover.
LANGUAGES = {"arabic_article": "ar", "burmese_article": "my", "chinese_article": "zh", "chinese_article_001": "zh",
             "chinese_article_002": "zh", "japanese_article": "ja", "japanese_article2": "ja",
             "latvian_article": "lv", "spanish_article": "es", "thai_article": "th"}
# trafilatura 2.3.1's own assertions on its real pages (tests/unit_tests.py, tests/cli_tests.py): (file, must
# have, must not have). apache.html's string is in a table, kept with include_tables=True (ours keeps tables).
TRAFILATURA_231 = [
    ("webpage.html.gz", ["Long story short,", "in deep-red West Virginia."], []),
    ("apache.html", ["localhost:80"], []),
]


def download(cache: Path) -> dict[tuple[str, str], Path]:
    """The sdists of ``SDISTS`` in ``cache`` (fetched once with ``pip download``). One that cannot be had is
    left out and said so. Build isolation stays on: newspaper4k's metadata needs hatchling."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, version in SDISTS:
        stem = f"{name.lower().replace('_', '-')}-{version}.tar.gz"

        def cached() -> list[Path]:
            return [p for p in cache.iterdir() if p.name.lower().replace("_", "-") == stem]

        if not cached():
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                       f"{name}=={version}", "-d", str(cache)]
            try:
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"left out {name} {version}: {exc}", file=sys.stderr)
        if cached():
            out[(name, version)] = cached()[0]
    return out


def install_peers(cache: Path) -> None:
    """``PEER_PACKAGES`` into ``cache/site`` (once), put first on ``sys.path``."""
    site = cache / "site"
    if not (site / "newspaper").is_dir() or not (site / "html_text").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                        *PEER_PACKAGES], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sys.path.insert(0, str(site))


def _members(sdist: Path) -> dict[str, bytes]:
    """The sdist's files, by path below its top folder, read in memory."""
    out = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.isfile():
                fh = tar.extractfile(member)
                assert fh is not None
                out[member.name.split("/", 1)[1]] = fh.read()
    return out


@dataclass
class GoldSet:
    """Pages (raw bytes) with a gold text each, or with string checks (``must`` / ``must_not``)."""

    name: str
    kind: str  # "main": main-text gold; "whole": all the page's text; "strings": must / must-not strings
    pages: dict[str, bytes]
    gold: dict[str, str] = field(default_factory=dict)
    must: dict[str, list[str]] = field(default_factory=dict)
    must_not: dict[str, list[str]] = field(default_factory=dict)
    language: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # file -> why it is not scored


def newspaper_set(files: dict[str, bytes]) -> GoldSet:
    html = {p[len("tests/data/html/"):-5]: b for p, b in files.items()
            if p.startswith("tests/data/html/") and p.endswith(".html")}
    txt = {p[len("tests/data/txt/"):-4]: b for p, b in files.items()
           if p.startswith("tests/data/txt/") and p.endswith(".txt")}
    gs = GoldSet("newspaper4k 0.9.6", "main", {})
    seen: dict[bytes, str] = {}
    for stem in sorted(html):
        if stem not in txt:
            gs.left_out[f"html/{stem}.html"] = "no expected text (a refresh, feed or front page)"
        elif html[stem] in seen:
            gs.left_out[f"html/{stem}.html"] = (f"the same bytes as {seen[html[stem]]}.html, with another "
                                                "expected text from an older newspaper run")
        else:
            seen[html[stem]] = stem
            gs.pages[stem], gs.gold[stem] = html[stem], txt[stem].decode("utf-8")
            meta = files.get(f"tests/data/metadata/{stem}.json")
            gs.language[stem] = LANGUAGES.get(stem) or (json.loads(meta).get("language") if meta else None) or "en"
    for stem in sorted(set(txt) - set(html)):
        gs.left_out[f"txt/{stem}.txt"] = "no page (used by its NLP and language-detection tests)"
    return gs


def html_text_set(files: dict[str, bytes]) -> GoldSet:
    gs = GoldSet("html_text 0.7.1", "whole", {})
    for path in sorted(files):
        if path.startswith("tests/test_webpages/") and path.endswith(".html"):
            stem = path[len("tests/test_webpages/"):-5]
            gold = files.get(path[:-5] + ".txt")
            if gold is None:
                gs.left_out[stem] = "no .txt beside it"
                continue
            gs.pages[stem], gs.gold[stem] = files[path], gold.decode("utf-8")
    return gs


def _string_checks(test: ast.AST) -> list[tuple[str, list[str], list[str]]]:
    """(url, must have, must not have) per ``result = load_mock_page(url, ...)`` and the ``assert`` statements
    that follow it (inside ``if`` blocks too), from realworld_tests.py's syntax tree; comments are not in it."""
    checks: list[tuple[str, list[str], list[str]]] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
                    getattr(stmt.value.func, "id", None) == "load_mock_page":
                checks.append((ast.literal_eval(stmt.value.args[0]), [], []))
            elif isinstance(stmt, ast.Assert) and checks:
                terms = stmt.test.values if isinstance(stmt.test, ast.BoolOp) else [stmt.test]
                for term in terms:
                    if isinstance(term, ast.Compare) and isinstance(term.left, ast.Constant) and \
                            isinstance(term.left.value, str) and len(term.ops) == 1:
                        if isinstance(term.ops[0], ast.In):
                            checks[-1][1].append(term.left.value)
                        elif isinstance(term.ops[0], ast.NotIn):
                            checks[-1][2].append(term.left.value)
            elif isinstance(stmt, ast.If):
                visit(stmt.body)
                visit(stmt.orelse)

    visit(test.body)
    return checks


def trafilatura_110_set(files: dict[str, bytes]) -> GoldSet:
    source = files["tests/realworld_tests.py"].decode("utf-8")
    tree = ast.parse(source)
    mock_pages: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MOCK_PAGES":
            mock_pages = ast.literal_eval(node.value)
    gs = GoldSet("trafilatura 1.1.0 realworld", "strings", {})
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    for test in tests:
        for url, must, must_not in _string_checks(test):
            name = mock_pages.get(url)
            raw = files.get(f"tests/cache/{name}") if name else None
            if raw is None:
                gs.left_out[url] = "no cached page"
                continue
            if not must and not must_not:
                continue
            if name in gs.pages:  # checked twice (xml and text output): one set of strings
                gs.must[name] = sorted(set(gs.must[name]) | set(must))
                gs.must_not[name] = sorted(set(gs.must_not[name]) | set(must_not))
                continue
            gs.pages[name], gs.must[name], gs.must_not[name], gs.urls[name] = raw, must, must_not, url
    cached = {p[len("tests/cache/"):] for p in files if p.startswith("tests/cache/")}
    for name in sorted(cached - set(gs.pages)):
        gs.left_out[name] = "no text assertion in realworld_tests.py"
    return gs


def trafilatura_231_set(files: dict[str, bytes]) -> GoldSet:
    gs = GoldSet("trafilatura 2.3.1 resources", "strings", {})
    for name, must, must_not in TRAFILATURA_231:
        raw = files[f"tests/resources/{name}"]
        gs.pages[name] = gzip.decompress(raw) if name.endswith(".gz") else raw
        gs.must[name], gs.must_not[name] = must, must_not
    return gs


def ours(page: str) -> str:
    """The crawl stage's call (``commoncrawl._document``) with a default manifest's options."""
    return extract(page, max_tags=Options().main_content_max_tags).text


def extractors(gs: GoldSet, peers: bool) -> dict[str, Callable[[str, str], str]]:
    """name -> f(decoded page, key) for this set; the first is ours."""
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text

    out: dict[str, Callable[[str, str], str]] = {"ours (crawl stage)": lambda h, k: ours(h)}
    if gs.kind == "whole":
        out["ours (main_content: false)"] = lambda h, k: _full_text(h)
    out[REFERENCE] = lambda h, k: trafilatura.extract(h, favor_precision=True) or ""
    out["trafilatura (default)"] = lambda h, k: trafilatura.extract(h) or ""
    out["resiliparse (main_content=True)"] = lambda h, k: extract_plain_text(h, main_content=True)
    if peers and gs.name.startswith("newspaper4k"):
        import newspaper

        def newspaper_text(h: str, k: str) -> str:
            language = LANGUAGES.get(k)
            article = newspaper.Article("http://www.test.com", fetch_images=False,
                                        **({"language": language} if language and language != "my" else {}))
            article.download(h)
            article.parse()
            return article.text

        out["newspaper4k 0.9.6 (fitted: its own tests)"] = newspaper_text
    if peers and gs.name.startswith("html_text"):
        import html_text

        out["html_text 0.7.1 (fitted: its own tests)"] = lambda h, k: html_text.extract_text(h)
    return out


# Leak detectors: what an extractor keeps that the gold lacks.
_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,200})?/?>|&(?:nbsp|amp|lt|gt|quot|#\d+|#x[0-9a-f]+);", re.I)
_SCRIPT = re.compile(r"\bfunction\s*\(|\bvar\s+\w+\s*=|\b(?:document|window)\.\w+|\}\s*\)\s*;|\bdataLayer\b|"
                     r"\bgoogletag\b|[{;]\s*\w+\s*:\s*[^;{}]+;\s*\}")
_COOKIE = re.compile(r"(?i)\bcookies?\b")
NAV_LINE_CHARS = 30
NAV_MIN_LINES = 3


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def leaks(got: str, gold: str) -> dict[str, int]:
    """Counts of leaked markup, script, cookie and navigation lines in ``got`` that ``gold`` lacks."""
    gold_norm = _norm(gold)
    out: Counter = Counter()
    out["markup"] = sum(1 for m in _MARKUP.finditer(got) if m.group(0) not in gold)
    out["script"] = sum(1 for m in _SCRIPT.finditer(got) if m.group(0) not in gold)
    nav = 0
    for line in got.split("\n"):
        norm = _norm(line)
        if not norm or norm in gold_norm:
            continue
        if _COOKIE.search(line):
            out["cookie"] += 1
        if len(norm) < NAV_LINE_CHARS:
            nav += 1
    out["nav"] = nav if nav >= NAV_MIN_LINES else 0
    return dict(out)


_WORD = re.compile(r"\w+")


def token_recall(gold: str, got: str) -> float:
    """The share of the gold's ``\\w+`` tokens (with multiplicity) found in ``got``."""
    want, have = Counter(_WORD.findall(gold)), Counter(_WORD.findall(got))
    total = sum(want.values())
    return sum((want & have).values()) / total if total else 1.0


def _score(truth: dict[str, str], pred: dict[str, str]) -> tuple[float, float, float]:
    """extract_bench's ``score``; where every page's output is empty (no precision term) or nothing matches, the
    F1 is 0 (a set of one page can be either)."""
    terms = [page_scores(truth[k], pred[k]) for k in truth]
    if all(p is None for p, _ in terms) or all(not p and not r for p, r in terms):
        return 0.0, 0.0, 0.0
    return score(truth, pred)


def score_text_set(gs: GoldSet, texts: dict[str, dict[str, str]]) -> dict:
    """Per extractor: P/R/F1 (extract_bench's), wipe-outs, lost / reverse, leaks; per page and per language."""
    result: dict = {"extractors": {}, "pages": {}}
    ref_recall = {k: (page_scores(gs.gold[k], texts[REFERENCE][k])[1] or 1.0) for k in gs.gold}
    for name, pred in texts.items():
        p, r, f1 = _score(gs.gold, pred)
        row: dict = {"precision": p, "recall": r, "f1": f1, "wipe_outs": [], "lost": [], "reverse": [],
                     "leak_pages": Counter(), "by_language": {}}
        for k, gold in gs.gold.items():
            pp, rr = page_scores(gold, pred[k])
            rr = 1.0 if rr is None else rr
            page = result["pages"].setdefault(k, {"language": gs.language.get(k), "gold_chars": len(gold)})
            f = 2 * (pp or 0) * rr / ((pp or 0) + rr) if (pp or 0) + rr else 0.0
            tr = token_recall(gold, pred[k])
            lk = leaks(pred[k], gold)
            page[name] = {"precision": pp, "recall": rr, "f1": f, "token_recall": tr, "chars": len(pred[k]),
                          "leaks": lk}
            if not pred[k].strip() or tr < 0.1:
                row["wipe_outs"].append(k)
            if name != REFERENCE and rr < WIPE_LOW and ref_recall[k] >= WIPE_HIGH:
                row["lost"].append(k)
            if name != REFERENCE and ref_recall[k] < WIPE_LOW and rr >= WIPE_HIGH:
                row["reverse"].append(k)
            for kind, n in lk.items():
                if n:
                    row["leak_pages"][kind] += 1
        if gs.language:
            for lang in sorted(set(gs.language.values())):
                keys = [k for k in gs.gold if gs.language[k] == lang]
                lp, lr, lf = _score({k: gs.gold[k] for k in keys}, {k: pred[k] for k in keys})
                row["by_language"][lang] = {"pages": len(keys), "precision": lp, "recall": lr, "f1": lf}
        row["leak_pages"] = dict(row["leak_pages"])
        result["extractors"][name] = row
    return result


def _flat(text: str) -> str:
    return " ".join(text.split())  # extractors differ in line breaks; the strings are within lines


def comment_strings(gs: GoldSet, decoded: dict[str, str]) -> dict[str, set[str]]:
    """Per page, the must-have strings that are reader comments: in the page's whole text, but not once the
    elements resiliparse takes for comments (``comments=False``) and those our furniture rule names comments
    (``[class~="comments"]``, ``[id="comment-list"]``...) are left out. trafilatura keeps comments by default;
    the crawl stage drops them by policy."""
    from resiliparse.extract.html2text import extract_plain_text

    out = {}
    for k, page in decoded.items():
        skip = [sel for sel in furniture_selectors(page) if "comment" in sel.lower()]
        with_c = _flat(extract_plain_text(page, main_content=False, comments=True))
        without = _flat(extract_plain_text(page, main_content=False, comments=False, skip_elements=skip))
        out[k] = {s for s in gs.must[k] if _flat(s) in with_c and _flat(s) not in without}
    return out


def main_content_pass(page: str) -> str:
    """Our extractor's first step alone: resiliparse's main-content text with our skip rules, before the line span
    trims it (``pipeline.extract.html.extract``'s first pass), to tell where ours lost a string."""
    from resiliparse.extract.html2text import extract_plain_text

    from pipeline.extract import html

    furniture, mediawiki = html._page_furniture(page)
    return extract_plain_text(page, main_content=True, comments=False, post_meta=html.POST_META, alt_texts=False,
                              list_bullets=False,
                              skip_elements=html.SKIP_SELECTORS + furniture + (html._MEDIAWIKI if mediawiki else []))


def where_lost(gs: GoldSet, decoded: dict[str, str], ours_text: dict[str, str],
               comments: dict[str, set[str]]) -> Counter:
    """Ours' missed must-have strings by where they went: a comment (policy), cut by the line span (in the
    main-content pass's text), or not in the main-content pass (main-content detection or a skip rule)."""
    out: Counter = Counter()
    for k, page in decoded.items():
        missed = [s for s in gs.must[k] if _flat(s) not in _flat(ours_text[k])]
        if not missed:
            continue
        first = _flat(main_content_pass(page))
        for s in missed:
            out["comment" if s in comments[k] else
                "cut by the line span" if _flat(s) in first else "not in the main-content pass"] += 1
    return out


def score_string_set(gs: GoldSet, texts: dict[str, dict[str, str]], comments: dict[str, set[str]]) -> dict:
    """Per extractor: must-have strings found (and how many of those missed are comments), must-not strings
    present, pages passing every check."""
    result: dict = {"extractors": {}, "pages": {}}
    for name, pred in texts.items():
        found = missing = present = passed = missed_comments = passed_no_comments = 0
        for k in gs.pages:
            text = _flat(pred[k])
            miss = [s for s in gs.must[k] if _flat(s) not in text]
            missed_comments += sum(1 for s in miss if s in comments[k])
            bad = [s for s in gs.must_not[k] if _flat(s) in text]
            found += len(gs.must[k]) - len(miss)
            missing += len(miss)
            present += len(bad)
            passed += not miss and not bad
            passed_no_comments += not bad and all(s in comments[k] for s in miss)
            result["pages"].setdefault(k, {"url": gs.urls.get(k)})[name] = {
                "missing": miss, "unwanted": bad, "chars": len(pred[k])}
        result["extractors"][name] = {
            "must_found": found, "must_total": found + missing, "must_missed_comments": missed_comments,
            "must_not_present": present,
            "must_not_total": sum(len(v) for v in gs.must_not.values()), "pages_passed": passed,
            "pages_passed_without_comments": passed_no_comments,
            "empty": sum(1 for k in gs.pages if not pred[k].strip())}
    return result


def run_set(gs: GoldSet, peers: bool) -> tuple[dict, dict[str, dict[str, str]]]:
    decoded = {k: decode_html(raw).text for k, raw in gs.pages.items()}  # every extractor gets the same text
    texts: dict[str, dict[str, str]] = {}
    failed: dict[str, list[str]] = {}
    for name, fn in extractors(gs, peers).items():
        texts[name], failed[name] = {}, []
        for k, page in decoded.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    texts[name][k] = fn(page, k) or ""
                except Exception as exc:  # noqa: BLE001 - a peer's failure on one page counts as empty
                    print(f"{name} failed on {gs.name} {k}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    texts[name][k] = ""
                    failed[name].append(f"{k}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    if gs.kind == "strings":
        comments = comment_strings(gs, decoded)
        scored = score_string_set(gs, texts, comments)
        scored["ours_missed_by_cause"] = dict(where_lost(gs, decoded, texts["ours (crawl stage)"], comments))
    else:
        scored = score_text_set(gs, texts)
    scored.update(kind=gs.kind, pages_scored=len(gs.pages), left_out=gs.left_out)
    for name, row in scored["extractors"].items():
        row["failed"] = failed[name]
    return scored, texts


def _print_text_set(gs: GoldSet, scored: dict, worst: int) -> None:
    what = "main-text gold" if gs.kind == "main" else "whole-page text (precision = nothing invented or leaked)"
    print(f"\n## {gs.name}: {len(gs.pages)} pages, {what}; {len(gs.left_out)} files left out")
    print("| extractor | precision | recall | F1 | wipe-outs | lost / reverse | pages with leaks "
          "(markup, script, cookie, nav) |\n|---|---:|---:|---:|---:|---|---|")
    for name, row in scored["extractors"].items():
        lk = row["leak_pages"]
        lr = "-" if name == REFERENCE else f"{len(row['lost'])} / {len(row['reverse'])}"
        print(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
              f"{len(row['wipe_outs'])} | {lr} | {lk.get('markup', 0)}, {lk.get('script', 0)}, "
              f"{lk.get('cookie', 0)}, {lk.get('nav', 0)} |")
    if gs.language:
        names = list(scored["extractors"])
        print("\nF1 per language (pages)\n| language | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names))
        for lang in sorted(set(gs.language.values())):
            cells = [f"{scored['extractors'][n]['by_language'][lang]['f1']:.3f}" for n in names]
            pages = scored["extractors"][names[0]]["by_language"][lang]["pages"]
            print(f"| {lang} ({pages}) | " + " | ".join(cells) + " |")
    first = next(iter(scored["extractors"]))
    for name in list(scored["extractors"])[:1]:
        row = scored["extractors"][name]
        if row["wipe_outs"] or row["lost"]:
            print(f"{name} wiped out: {', '.join(row['wipe_outs']) or 'none'}; lost: {', '.join(row['lost']) or 'none'}")
    if worst:
        pages = scored["pages"]
        keys = sorted(pages, key=lambda k: pages[k][first]["f1"])[:worst]
        print(f"ours' worst {len(keys)} pages by F1 ({' / '.join(scored['extractors'])}):")
        for k in keys:
            cells = " / ".join(f"{pages[k][n]['f1']:.2f}" for n in scored["extractors"] if n in pages[k])
            print(f"  {k} [{pages[k]['language']}]: {cells}; ours' leaks {pages[k][first]['leaks']}")


def _print_string_set(gs: GoldSet, scored: dict, worst: int) -> None:
    print(f"\n## {gs.name}: {len(gs.pages)} pages with string assertions; {len(gs.left_out)} files left out")
    print("| extractor | must-have found | of the missed: comments | must-not present | pages passing all | "
          "passing, comments not required | empty |\n|---|---:|---:|---:|---:|---:|---:|")
    for name, row in scored["extractors"].items():
        print(f"| {name} | {row['must_found']} / {row['must_total']} | {row['must_missed_comments']} | "
              f"{row['must_not_present']} / "
              f"{row['must_not_total']} | {row['pages_passed']} / {len(gs.pages)} | "
              f"{row['pages_passed_without_comments']} / {len(gs.pages)} | {row['empty']} |")
    if scored.get("ours_missed_by_cause"):
        print("ours' missed must-have strings by cause: " + ", ".join(
            f"{cause} {n}" for cause, n in sorted(scored["ours_missed_by_cause"].items())))
    if worst:
        first = next(iter(scored["extractors"]))
        failing = [(k, v[first]) for k, v in scored["pages"].items() if v[first]["missing"] or v[first]["unwanted"]]
        print(f"ours' failing pages ({len(failing)}), first {worst}:")
        for k, v in failing[:worst]:
            ref = scored["pages"][k][REFERENCE]
            print(f"  {k}: missing {v['missing']}, unwanted {v['unwanted']} (reference: missing {len(ref['missing'])},"
                  f" unwanted {len(ref['unwanted'])})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "refinery-extract-heldout")
    parser.add_argument("--json", type=Path, help="write the per-set, per-page scores here")
    parser.add_argument("--texts", type=Path, help="write every extractor's text per page here (JSON)")
    parser.add_argument("--peers", action="store_true",
                        help="also run newspaper4k and html_text on their own tests (installed into CACHE/site)")
    parser.add_argument("--worst", type=int, default=8, help="list ours' N worst pages per set")
    args = parser.parse_args()
    sdists = download(args.cache)
    if args.peers:
        install_peers(args.cache)
    builders = {("newspaper4k", "0.9.6"): newspaper_set, ("html_text", "0.7.1"): html_text_set,
                ("trafilatura", "1.1.0"): trafilatura_110_set, ("trafilatura", "2.3.1"): trafilatura_231_set}
    report, all_texts = {}, {}
    for key, sdist in sdists.items():
        gs = builders[key](_members(sdist))
        scored, texts = run_set(gs, args.peers)
        report[gs.name], all_texts[gs.name] = scored, texts
        (_print_string_set if gs.kind == "strings" else _print_text_set)(gs, scored, args.worst)
        for name, row in scored["extractors"].items():
            for line in row["failed"]:
                print(f"  {name} raised on {line} (scored as empty)")
        for what, why in gs.left_out.items():
            if gs.kind != "strings" or why != "no text assertion in realworld_tests.py":
                print(f"  left out {what}: {why}")
        if gs.kind == "strings":
            n = sum(1 for why in gs.left_out.values() if why == "no text assertion in realworld_tests.py")
            if n:
                print(f"  left out {n} cached pages without a text assertion")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=list))
    if args.texts:
        args.texts.write_text(json.dumps(all_texts, ensure_ascii=False))


if __name__ == "__main__":
    main()
