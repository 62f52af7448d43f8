"""Per-language keep rates and filter cost per character on the shared zh/ja/de/en files (issue 13).

Usage: ``python bench/multilingual_bench.py [--runs 3]`` from the repository root.

1. Keep rates: every shared wiki dump and the Chinese and German books through their kind's default
   chain, with per-language rules (this project now) and with the English rules and the English keep-list
   (what the pipeline did before issue 13: language unknown, ``languages: [en]``).
2. Speed, medians of ``--runs`` runs in this process: our segmenter (jieba via rjieba, through the shared vocabulary: what the
   filters call) against plain pure-Python ``jieba.lcut`` on the same zhwiki text, and the word
   filters' signal time per character on zhwiki (Chinese rules) against enwiki (English rules).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.filters import words  # noqa: E402
from pipeline.filters.base import compute_signals, decide, signal_schema  # noqa: E402
from pipeline.filters.chain import ChainSpec, build, resolve  # noqa: E402
from pipeline.filters.segment import JIEBA  # noqa: E402
from pipeline.readers import get_reader, reader_module  # noqa: E402
from contracts.accounting import Tally  # noqa: E402
from pipeline.readers.base import Split

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {"zhwiki": ("wikipedia", "wiki/zhwiki-test-pages.xml"),
         "jawiki": ("wikipedia", "wiki/jawiki-2023-truncated-100k-lines.xml.xz"),
         "dewiki": ("wikipedia", "wiki/dewiki-20170701-sample.xml"),
         "enwiki": ("wikipedia", "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"),
         "zhbook": ("books", "books/zh-hongloumeng-pg24264.txt"),
         "debook": ("books", "books/de-goethe-faust1-pg2229.txt")}
WORD_RULES = {"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}


def documents(name: str) -> list:
    kind, path = FILES[name]
    return list(get_reader(kind).read(Split(str(DATA / path)), reader_module(kind).Options(), Tally()))


def kept(spec, docs: list, declared: bool) -> tuple[int, Counter]:
    chain = build(spec)
    langs = [d.meta.get("language") if declared else None for d in docs]
    cols = compute_signals(chain, [d.text for d in docs], [d.url for d in docs], 1_000_000, declared=langs)
    table = pa.table({"id": [str(i) for i in range(len(docs))], **cols}, schema=signal_schema(chain))
    dec = decide(chain, table, 1_000_000, langs)
    return int(dec.kept.sum()), Counter(f"{f}.{r}" for f, r in zip(dec.filter, dec.rule) if f)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| file | documents | kept before (English rules, keep-list en) | kept now (default chain) | removed now by |")
    print("|---|---|---|---|---|")
    corpus = {name: documents(name) for name in FILES}
    for name, docs in corpus.items():
        kind = FILES[name][0]
        before, _ = kept(resolve(kind, {}, ChainSpec.model_validate({"language": {"languages": ["en"],
                                                                                  "source_language": False}})),
                         docs, declared=False)
        now, why = kept(resolve(kind, {}, None), docs, declared=True)
        print(f"| {name} | {len(docs)} | {before} | {now} | {dict(why) or '-'} |")

    zh = "\n\n".join(d.text for d in corpus["zhwiki"])
    en = "\n\n".join(d.text for d in corpus["enwiki"])
    import logging

    import jieba  # the bench extra: plain jieba, the segmenter ours reproduces (through rjieba)

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    plain, ours = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        jieba.lcut(zh)
        plain.append(time.perf_counter() - started)
        words.clear_cache()
        started = time.perf_counter()
        words.tokenize(zh, JIEBA)
        ours.append(time.perf_counter() - started)
    print(f"\nsegmentation of zhwiki ({len(zh):,} chars), median of {args.runs}: plain jieba.lcut "
          f"{statistics.median(plain):.2f} s, ours (cold vocabulary) {statistics.median(ours):.2f} s, "
          f"ratio {statistics.median(plain) / statistics.median(ours):.2f}x")
    chain = build(ChainSpec.model_validate(WORD_RULES))
    per_char = {}
    for label, text, lang in (("zh", zh, "zh"), ("en", en, "en")):
        times = []
        for _ in range(args.runs):
            words.clear_cache()
            started = time.perf_counter()
            compute_signals(chain, [text], [None], 100_000_000, declared=[lang])
            times.append(time.perf_counter() - started)
        per_char[label] = statistics.median(times) / len(text) * 1e6
        print(f"word filters on {label}wiki as one text ({len(text):,} chars): {per_char[label]:.2f} us/char")
    print(f"Chinese / English cost per character: {per_char['zh'] / per_char['en']:.2f}x")


if __name__ == "__main__":
    main()
