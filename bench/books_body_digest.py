"""What the books reader keeps of every shared book, as digests: run it on two checkouts and diff the output.

    python bench/books_body_digest.py [REPO] > digests.txt

One line per book and layout (as the file is; with every blank line removed; with unwrapping off): the
number of documents, characters, the SHA-256 of the text, title, author and the books.* counts. A rule
change that should leave the shared books alone must leave every line the same.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers.base import Split  # noqa: E402
from pipeline.readers.books import READER, Options  # noqa: E402

BOOKS = REPO.parent / "shared" / "data" / "books"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(BOOKS.glob("*.txt")):
            raw = path.read_bytes()
            no_blank_lines = re.sub(rb"(\r?\n)[ \t]*(?:\r?\n[ \t]*)+", rb"\1", raw)
            layouts = {"as_is": (raw, Options()), "no_blank_lines": (no_blank_lines, Options()),
                       "unwrap_off": (raw, Options(unwrap=False))}
            for layout, (data, options) in layouts.items():
                copy = Path(tmp) / path.name
                copy.write_bytes(data)
                tally = Tally()
                docs = list(READER.read(Split(str(copy)), options, tally))
                text = "\n\n".join(d.text for d in docs)
                counts = {k: v for k, v in sorted(tally.counts.items()) if k.startswith(("books.", "skipped."))}
                meta = [(d.title, d.meta.get("author"), d.meta.get("date"), d.meta.get("language")) for d in docs]
                print(f"{path.name} {layout}: {len(docs)} docs, {len(text):,} chars, "
                      f"sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}, {meta}, {counts}")


if __name__ == "__main__":
    main()
