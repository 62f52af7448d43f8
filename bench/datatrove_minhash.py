"""Datatrove's MinHash signature stage on given texts; runs inside .bench-venv-datatrove
(bench/make_datatrove_venv.sh). Called by bench/dedup_speed.py, which times ours on the same texts in
the same run.

Input: a JSONL file of {"text"}. Output: a JSON file with the median seconds of --repeats runs of
(a) the whole stage as a pipeline runs it (``MinhashDedupSignature.run``: English word tokenizer, 5-gram
shingles, 64-bit xxhash, signatures written to one file per band, then each band file sorted) and
(b) signatures alone (``get_shingles`` + ``get_signature`` per document, nothing written).

    .bench-venv-datatrove/bin/python bench/datatrove_minhash.py texts.jsonl out.json \
        [--repeats 3] [--bands 16] [--rows 8] [--ngram 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

from datatrove.data import Document
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig
from loguru import logger

logger.remove()  # its per-run "Sorting buckets..." lines would interleave with the caller's table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("texts")
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bands", type=int, default=16)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--ngram", type=int, default=5)
    args = parser.parse_args()
    with open(args.texts) as fh:
        texts = [json.loads(line)["text"] for line in fh]
    config = MinhashConfig(n_grams=args.ngram, num_buckets=args.bands, hashes_per_bucket=args.rows,
                           hash_config=HashConfig(precision=64))

    def stage() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            step = MinhashDedupSignature(output_folder=tmp, config=config)
            docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
            started = time.perf_counter()
            step.run(docs, rank=0, world_size=1)
            return time.perf_counter() - started

    def signatures_only() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            step = MinhashDedupSignature(output_folder=tmp, config=config)
            step.get_signature(step.get_shingles("warm up the tokenizer and the parameters " * 3))
            started = time.perf_counter()
            for text in texts:
                shingles = step.get_shingles(text)
                if shingles.size:
                    step.get_signature(shingles)
            return time.perf_counter() - started

    stage()  # warm-up: imports, tokenizer load
    result = {"stage_seconds": statistics.median(stage() for _ in range(args.repeats)),
              "signature_seconds": statistics.median(signatures_only() for _ in range(args.repeats)),
              "docs": len(texts), "hashes": args.bands * args.rows}
    with open(args.out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
