"""Per-language keep rates and filter cost per character on the shared zh/ja/de/en files (issue 13).

Usage: ``python bench/multilingual_bench.py [--runs 3]`` from the repository root.

1. Keep rates: every shared wiki dump and the Chinese and German books through their kind's default
   chain, with per-language rules (this project now) and with the English rules and the English keep-list
   (what the pipeline did before issue 13: language unknown, ``languages: [en]``).
2. Speed, CPU time (``time.process_time``: the machine is shared, so wall time would carry other work),
   medians of ``--runs`` runs in this process, the languages alternated within each run: our segmenters
   through the shared vocabulary (what the filters call), cold, against the plain ones on the same text:
   jieba via rjieba against pure-Python ``jieba.lcut`` on zhwiki, SudachiPy through the vocabulary
   (each distinct whitespace chunk once) against plain SudachiPy on jawiki (the whole text in pieces of at
   most 40,000 bytes, as datatrove hands it over, surfaces of its morphemes); and the word filters' signal
   time per character on zhwiki (Chinese rules) and jawiki (Japanese rules) against enwiki (English rules).
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
from pipeline.filters.segment import JIEBA, SUDACHI  # noqa: E402
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
    ja = "\n\n".join(d.text for d in corpus["jawiki"])
    en = "\n\n".join(d.text for d in corpus["enwiki"])
    import logging

    import jieba  # the bench extra: plain jieba, the segmenter ours reproduces (through rjieba)

    from pipeline.filters.segment import _sudachi_pieces, _sudachi_tokenize

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    sudachi = _sudachi_tokenize()  # plain SudachiPy: mode A, core dictionary (loaded here, not timed)

    def plain_sudachi(text: str) -> list[str]:
        return [m.surface() for piece in _sudachi_pieces(text) for m in sudachi(piece)]

    def cpu(fn, *args, **kwargs) -> float:
        started = time.process_time()
        fn(*args, **kwargs)
        return time.process_time() - started

    def cold(fn, *args, **kwargs) -> float:
        words.clear_cache()
        return cpu(fn, *args, **kwargs)

    chain = build(ChainSpec.model_validate(WORD_RULES))
    texts = {"zh": zh, "ja": ja, "en": en}
    seg: dict[str, list[float]] = {k: [] for k in ("jieba.lcut", "ours zh", "sudachi", "ours ja")}
    filters: dict[str, list[float]] = {k: [] for k in texts}
    for _ in range(args.runs):
        seg["jieba.lcut"].append(cpu(jieba.lcut, zh))
        seg["ours zh"].append(cold(words.tokenize, zh, JIEBA))
        seg["sudachi"].append(cpu(plain_sudachi, ja))
        seg["ours ja"].append(cold(words.tokenize, ja, SUDACHI))
        for lang, text in texts.items():
            filters[lang].append(cold(compute_signals, chain, [text], [None], 100_000_000, declared=[lang]) / len(text) * 1e6)
    med = {k: statistics.median(v) for k, v in seg.items()}
    print(f"\nsegmentation, CPU seconds, median of {args.runs}: zhwiki ({len(zh):,} chars) plain jieba.lcut "
          f"{med['jieba.lcut']:.3f}, ours (cold vocabulary) {med['ours zh']:.3f}, ratio "
          f"{med['jieba.lcut'] / med['ours zh']:.2f}x; jawiki ({len(ja):,} chars) plain SudachiPy "
          f"{med['sudachi']:.3f}, ours (cold vocabulary) {med['ours ja']:.3f}, ratio "
          f"{med['sudachi'] / med['ours ja']:.2f}x")
    per_char = {lang: statistics.median(v) for lang, v in filters.items()}
    for lang, text in texts.items():
        print(f"word filters on {lang}wiki as one text ({len(text):,} chars): {per_char[lang]:.3f} us/char "
              f"(runs: {', '.join(f'{v:.3f}' for v in filters[lang])})")
    print(f"Chinese / English cost per character: {per_char['zh'] / per_char['en']:.2f}x; "
          f"Japanese / English: {per_char['ja'] / per_char['en']:.2f}x")


if __name__ == "__main__":
    main()
