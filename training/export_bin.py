"""Export a token dataset to the flat ``train.bin`` / ``val.bin`` files nanoGPT-style trainers read.

Each file is every token of the split (documents back to back, end-of-text after each) as raw
little-endian uint16, in index order: source by source, shard by shard. The mixture is not applied - a
flat file has no notion of sources - so use ``--source`` to export one source at a time if that matters.
A ``meta.pkl`` with ``vocab_size`` is written too, as nanoGPT's train.py looks for one.

    python -m training.export_bin RUN/tokens OUT_DIR [--source web --source books]
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from contracts.fsio import atomic_write
from contracts.token_dataset import SPLITS, DatasetError, TokenDataset


def export_bin(dataset: TokenDataset, out_dir: str | Path, sources: list[str] | None = None) -> dict[str, int]:
    """Write ``<split>.bin`` for both splits; returns the tokens written per split."""
    if dataset.dtype != np.uint16:
        raise DatasetError(f"{dataset.root}: tokens are {dataset.dtype} (vocabulary of "
                           f"{dataset.tokenizer_info['n_vocab']}); the flat .bin layout holds uint16 only")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = sources or dataset.sources
    written = {}
    for split in SPLITS:
        total = 0
        with atomic_write(out / f"{split}.bin") as fh:
            for name in names:
                for shard in dataset.shards(split, name):
                    fh.write(memoryview(np.ascontiguousarray(shard.values.astype("<u2", copy=False))))
                    total += shard.tokens
        written[split] = total
    with atomic_write(out / "meta.pkl") as fh:
        pickle.dump({"vocab_size": int(dataset.tokenizer_info["n_vocab"])}, fh)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export_bin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="the tokenize stage's output folder (<run_dir>/tokens)")
    parser.add_argument("out_dir")
    parser.add_argument("--source", action="append", default=None, help="export only these sources")
    args = parser.parse_args(argv)
    try:
        written = export_bin(TokenDataset.open(args.dataset), args.out_dir, args.source)
    except (DatasetError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for split, tokens in written.items():
        print(f"{Path(args.out_dir) / (split + '.bin')}: {tokens:,} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
