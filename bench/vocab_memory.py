"""Memory and CPU of the word filters' vocabulary per distinct chunk (issue 19: "peak RSS per worker flat").

A filter worker keeps ``pipeline.filters.words``' vocabulary between tasks, up to ``MAX_CHUNKS`` distinct
whitespace chunks, so its bytes per chunk are part of every filter worker's resident set. This feeds
``--chunks`` distinct chunks (in documents of 1,000 chunks, as ``tokenize`` sees them) to a fresh vocabulary
in this process and prints the resident set it added (after ``gc.collect`` and ``malloc_trim``), per
distinct chunk, and the CPU seconds of the cold pass and of a second, warm pass over the same documents.

Chunks are real words (the shared books and wiki text's distinct words, cycled with a numeric suffix past
their count) with the variants web text has: as they are, capitalised, with a trailing comma or period,
quoted; so distinct chunks share tokens as in real text. ``--repo`` imports another checkout's
``pipeline`` (the code before a change), so both are measured by the same script:

    nice .venv/bin/python bench/vocab_memory.py --chunks 300000
    nice .venv/bin/python bench/vocab_memory.py --chunks 300000 --repo /path/to/main-checkout
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def base_words(limit: int) -> list[str]:
    """Distinct words of the demo's books (``samples/``), in first-seen order."""
    seen: dict[str, None] = {}
    for path in sorted((REPO / "samples").rglob("*.txt")):
        for word in re.findall(r"[^\W\d_]{2,}", path.read_text(errors="replace")):
            seen.setdefault(word.lower())
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


def make_chunks(n: int, seed: int = 1) -> list[str]:
    """``n`` distinct chunks: words with web text's variants, in a shuffled order."""
    rng = random.Random(seed)
    words = base_words(50_000)
    variants = (lambda w: w, str.capitalize, lambda w: w + ",", lambda w: w + ".", lambda w: f"“{w}”",
                lambda w: w + "’s")
    chunks: dict[str, None] = {}
    round_ = 0
    while len(chunks) < n:
        for word in words:
            stem = word if round_ == 0 else f"{word}{round_}"
            for make in variants:
                if rng.random() < 0.5:
                    chunks.setdefault(make(stem))
            if len(chunks) >= n:
                break
        round_ += 1
    out = list(chunks)[:n]
    rng.shuffle(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=300_000)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose pipeline package to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo.resolve()))
    from pipeline.filters import words
    from pipeline.memory import release_freed_memory

    chunks = make_chunks(args.chunks)
    docs = [" ".join(chunks[i:i + 1000]) for i in range(0, len(chunks), 1000)]
    words.tokenize("warm up the modules and regexes, once.")
    words.clear_cache()
    gc.collect()
    release_freed_memory()
    before = rss_kib()
    started = time.process_time()
    for doc in docs:
        words.tokenize(doc)
    cold_s = time.process_time() - started
    started = time.process_time()
    for doc in docs:
        words.tokenize(doc)
    warm_s = time.process_time() - started
    gc.collect()
    release_freed_memory()
    held = rss_kib() - before
    vocabulary = words._vocabularies["whitespace"]
    tokens = vocabulary.n_tokens if hasattr(vocabulary, "n_tokens") else len(vocabulary.token_ids)
    print(json.dumps({"repo": str(args.repo), "chunks": len(vocabulary), "tokens": tokens,
                      "held_mib": round(held / 1024, 1), "bytes_per_chunk": round(held * 1024 / len(vocabulary), 1),
                      "cold_cpu_s": round(cold_s, 3), "warm_cpu_s": round(warm_s, 3)}))


if __name__ == "__main__":
    main()
