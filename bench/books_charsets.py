"""Legacy charsets of plain-text books (issue 13): real texts of five languages written in the charsets
their e-texts circulate in, read back with the books reader's ``decode``; one row per language and charset.

Usage: ``python bench/books_charsets.py [REPO]`` (REPO: the checkout whose reader to measure; default this one).

Texts: the shared Chinese Gutenberg book (first 300,000 characters), the German one, the English ones,
jawiki's and ruwiki's article samples (the wikipedia reader's text). Each is encoded in the charset with
``errors="replace"`` (characters the charset cannot hold become "?"), and decoded whole and as its first
3,000 and 500 bytes (a cut multi-byte character at the end may become U+FFFD: ignored). A row counts the
decodes whose text is the original's.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

REPO = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers.base import Split  # noqa: E402
from pipeline.readers.books import decode  # noqa: E402
from pipeline.readers.wikipedia import Options, read  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CHARSETS = {"zh": ("gb18030", "gbk", "big5", "cp950"), "ja": ("cp932", "shift_jis", "euc_jp", "iso2022_jp"),
            "ru": ("cp1251", "koi8_r", "iso8859_5", "cp866", "mac_cyrillic"),
            "de": ("cp1252", "latin-1", "iso8859_15"), "en": ("cp1252", "latin-1")}
SIZES = (None, 3000, 500)


def texts() -> dict[str, list[str]]:
    def wiki(name: str) -> str:
        return "\n\n".join(d.text for d in read(Split(str(DATA / "wiki" / name)), Options(), Tally()))

    books = DATA / "books"
    return {"zh": [(books / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8")[:300_000]],
            "ja": [wiki("jawiki-2023-truncated-100k-lines.xml.xz")[:400_000]],
            "ru": [wiki("ruwiki-sample-pages-articles.xml.bz2")],
            "de": [(books / "de-goethe-faust1-pg2229.txt").read_text(encoding="utf-8"), wiki("dewiki-20170701-sample.xml")],
            "en": [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(str(books / "gutenberg-*.txt")))]}


def main() -> None:
    print(f"books reader's decode from {REPO}")
    print("| language | charset | decoded right (whole, 3,000 bytes, 500 bytes) | charsets named |")
    print("|---|---|---|---|")
    total = right = 0
    for language, originals in texts().items():
        for charset in CHARSETS[language]:
            good, named = 0, set()
            for original in originals:
                data = original.encode(charset, errors="replace")
                for size in SIZES:
                    part = data[:size]
                    got = decode(part)
                    named.add(got[1])
                    good += got[0].replace("\ufffd", "") == part.decode(charset, errors="replace").replace("\ufffd", "")
            n = len(originals) * len(SIZES)
            total, right = total + n, right + good
            print(f"| {language} | {charset} | {good} / {n} | {', '.join(sorted(named))} |")
    print(f"| all | | **{right} / {total}** | |")


if __name__ == "__main__":
    main()
