"""Pre-tokenisation for a trained BPE on Chinese and English: GPT-2's regex against ``cjk_chars``.

Trains a 4,096-rank BPE on 300k characters of Hongloumeng, 200k of the zhwiki sample's wikitext and 400k of an
English book (all from ../shared/data), with each pattern, and prints training seconds and bytes per token on
held-out text: the rest of Hongloumeng, other zhwiki pages, BELLE answers (modern Chinese from another
domain) and another English book. Run: ``python bench/bpe_pretokenize_bench.py``.
"""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.bpe import train_bpe  # noqa: E402
from pipeline.tokenizer import ENDOFTEXT, PRETOKENIZERS, Tokenizer  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    zh_book = (SHARED / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")
    wiki = " ".join(t.text or "" for t in ET.parse(SHARED / "wiki" / "zhwiki-test-pages.xml").iter()
                    if t.tag.endswith("text"))
    en = (SHARED / "books" / "gutenberg-3261-news-from-nowhere.txt").read_text(encoding="utf-8", errors="replace")
    en2 = (SHARED / "books" / "gutenberg-14263-katrine.txt").read_text(encoding="utf-8", errors="replace")
    belle = "\n".join(json.loads(line)["output"] for line in
                      (SHARED / "finetune" / "zh-belle-dev1K-alpaca.jsonl").read_text(encoding="utf-8").splitlines())
    train = [zh_book[:300_000], wiki[:200_000], en[:400_000]]
    held = {"zh-belle": belle[:100_000], "zh-book": zh_book[500_000:560_000], "zh-wiki": wiki[250_000:320_000],
            "en": en2[:200_000]}
    for name, pattern in PRETOKENIZERS.items():
        start = time.perf_counter()
        ranks = train_bpe(train, 4095, pattern)
        seconds = time.perf_counter() - start
        tok = Tokenizer.from_ranks(name, "bpe", ranks, pattern, {ENDOFTEXT: len(ranks)})
        rates = {k: round(len(v.encode()) / len(tok.encode(v)), 3) for k, v in held.items()}
        print(json.dumps({"pretokenize": name, "train_seconds": round(seconds, 2), "bytes_per_token": rates}))


if __name__ == "__main__":
    main()
