"""What the books and wikipedia readers keep of every shared book and dump: documents, characters, skips.

One row per input file: records in (pages of a dump, 1 for a book), documents out, characters out, the
skips by reason, and markup or boilerplate that leaked into the text. The leak checks are written here,
independently of the extractors they check:

* wiki: table markup (``{|``, a line starting with ``|`` or ``!``, ``||``), ``templatestyles``, ``<br``,
  lines that are a File/Category link in some language (``Kategorie:...``, ``分類:...``), lines that
  start with ``=`` (what a removed formula leaves), ``-{`` language-converter markup;
* books (each also with every blank line removed, where nothing separates the credits from the book):
  Project Gutenberg licence traces, credits ("Produced by"), "HTML version" notes and stray
  ``***`` marker tails.

    .venv/bin/python bench/books_wiki_yield.py [--json out.json]

It measures yield, not speed; the figures are the same on any machine.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.accounting import Tally  # noqa: E402
from contracts.fsio import open_input  # noqa: E402
from pipeline.readers import get_reader  # noqa: E402
from pipeline.readers.books import Options as BookOptions  # noqa: E402
from pipeline.readers.wikipedia import Options as WikiOptions  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# File and Category namespace names and aliases of a few large wikis (MediaWiki's Messages*.php), kept
# apart from the extractor's own table so this check does not trust the code it checks.
NS_WORDS = ("Category|Kategorie|Kategorija|Kategoria|Kategori|Catégorie|Categoría|Categoria|Категория|"
            "Категорија|カテゴリ|分类|分類|File|Image|Datei|Bild|Fichier|Archivo|Imagen|Plik|Файл|ファイル|"
            "画像|文件|檔案|图像|圖像")
WIKI_LEAKS = {
    "table": re.compile(r"\{\||^[ \t]*[|!]|\|\|", re.M),
    "templatestyles": re.compile(r"templatestyles", re.I),
    "br": re.compile(r"<br\b", re.I),
    "namespace_line": re.compile(rf"^[ \t]*(?:{NS_WORDS})[ \t]*:", re.M | re.I),
    "dangling_eq": re.compile(r"^\s*=", re.M),
    "lang_converter": re.compile(r"-\{"),
}
BOOK_LEAKS = {
    "licence": re.compile(r"PROJECT GUTENBERG|Project Gutenberg|gutenberg\.(?:org|net)|SMALL PRINT"),
    "credits": re.compile(r"^\s*(?:Produced by|E-?text prepared by)", re.M | re.I),
    "html_note": re.compile(r"HTML version|-h\.htm", re.I),
    "marker_tail": re.compile(r"^\S[^\n]{0,80}\*\*\*\s*$", re.M),
}


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos: end if end >= 0 else len(text)].strip()


def read_file(kind: str, path: Path) -> dict[str, Any]:
    reader = get_reader(kind)
    options = BookOptions() if kind == "books" else WikiOptions()
    tally = Tally()
    docs = [doc for split in reader.plan(str(path), path.stat().st_size, options)
            for doc in reader.read(split, options, tally)]
    leaks: Counter = Counter()
    checks = BOOK_LEAKS if kind == "books" else WIKI_LEAKS
    raw = ""
    if kind == "wikipedia":
        with open_input(str(path)) as fh:
            raw = fh.read().decode("utf-8", errors="replace")
    for doc in docs:
        for name, pattern in checks.items():
            found = [_line_at(doc.text, m.start()) for m in pattern.finditer(doc.text)]
            if name == "namespace_line":  # a link whose label is "Category:X" shows that text: not a leak
                found = [line for line in found if "|" + line[:20] not in raw]
            leaks[name] += len(found)
    skips = {k.split(".", 1)[1]: v for k, v in sorted(tally.counts.items()) if k.startswith("skipped.")}
    return {
        "file": path.name,
        "records_in": tally.counts.get("pages", 0) if kind == "wikipedia" else 1,
        "docs_out": len(docs),
        "chars_out": sum(len(doc.text) for doc in docs),
        "skips": skips,
        "leaks": {k: v for k, v in leaks.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="books-wiki-yield-"))
    inputs = [("books", p) for p in sorted((SHARED / "books").iterdir())]
    # The same books with every blank line removed: nothing then separates credits from the book.
    for path in sorted((SHARED / "books").iterdir()):
        lines = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        variant = tmp / f"no-blank-lines:{path.name}"
        variant.write_text("\n".join(line for line in lines if line.strip()), encoding="utf-8")
        inputs.append(("books", variant))
    inputs += [("wikipedia", p) for p in sorted((SHARED / "wiki").iterdir())]
    print("| reader | file | records in | documents out | characters out | skips | leaks |")
    print("|---|---|---|---|---|---|---|")
    for kind, path in inputs:
        row = read_file(kind, path)
        rows.append({"kind": kind, **row})
        skips = ", ".join(f"{k} {v}" for k, v in row["skips"].items()) or "-"
        leaks = ", ".join(f"{k} {v}" for k, v in row["leaks"].items()) or "-"
        print(f"| {kind} | {row['file']} | {row['records_in']} | {row['docs_out']} | {row['chars_out']:,} "
              f"| {skips} | {leaks} |", flush=True)
    shutil.rmtree(tmp)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
