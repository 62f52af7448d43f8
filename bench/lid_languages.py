"""Language ID alone (``FastTextLID.predict_batch``, the bundled lid.176), CPU ns per character on Chinese and
English sets, with an empty token cache each run (a fresh worker's shard).

    taskset -c 0 .venv/bin/python bench/lid_languages.py [--runs 15] [--handbook-cache DIR]

Sets: zhwiki and enwiki (the shared dumps, as ``multilingual_bench`` reads them), the Chinese book in pieces of
20,000 characters, the shared WARCs' pages lid.176 labels zh and en, and with ``--handbook-cache`` the Debian
handbook's zh-CN sections (``multilingual_agreement.handbook_sections``). Each text is cut to the language
filter's ``max_chars`` with newlines as spaces. Prints the median and the minimum of ``--runs`` (the minimum is
the steadier on a shared core); alternate checkouts for an A/B (``REPO=<checkout>`` imports that checkout).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("REPO", Path(__file__).resolve().parents[1])).resolve()
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def text_sets(handbook_cache: Path | None) -> dict[str, list[str]]:
    import multilingual_agreement as ma
    import multilingual_bench as mb

    book = [d.text for d in mb.documents("zhbook")]
    sets = {"zhwiki": [d.text for d in mb.documents("zhwiki")],
            "zh book": [t[i:i + 20_000] for t in book for i in range(0, len(t), 20_000)],
            "zh web": [d.text for d in ma.web_pages_in("zh")]}
    if handbook_cache:
        sets["zh handbook"] = [text for _, text in ma.handbook_sections("zh", handbook_cache)]
    sets["enwiki"] = [d.text for d in mb.documents("enwiki")]
    sets["en web"] = [d.text for d in ma.web_pages_in("en")]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--handbook-cache", type=Path, default=None)
    args = parser.parse_args()
    from pipeline.filters.fasttext_lid import FastTextLID
    from pipeline.filters.language import LanguageOptions, bundled_model_path

    cap = LanguageOptions().max_chars
    model = FastTextLID(bundled_model_path())
    print(f"LID alone, cold token cache, CPU ns per character over {args.runs} runs ({ROOT}):")
    print("| set | texts | characters | median | min |")
    print("|---|---|---|---|---|")
    for name, texts in text_sets(args.handbook_cache).items():
        texts = [t[:cap].replace("\n", " ") for t in texts]
        n = sum(len(t) for t in texts)
        times = []
        for _ in range(args.runs):
            model.cache_clear()
            start = time.process_time()
            model.predict_batch(texts, cap)
            times.append(time.process_time() - start)
        print(f"| {name} | {len(texts)} | {n:,} | {statistics.median(times) / n * 1e9:.2f} | "
              f"{min(times) / n * 1e9:.2f} |")


if __name__ == "__main__":
    main()
