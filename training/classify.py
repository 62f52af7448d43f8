"""Label texts with a fine-tuned classifier (``python -m training.finetune_classify``'s classifier.pt).

    python -m training.classify runs/spam/classifier.pt --text "WINNER! claim your prize" --text "see you"
    python -m training.classify runs/spam/classifier.pt --file messages.txt > labels.jsonl

Prints one JSON line per text: its label, each class's probability and, for --file, its line number. In a
file every line is one text; empty lines and lines that are not UTF-8 are skipped and counted on stderr
(with their line numbers), so the output lines can always be matched to the input. Any checkpoint that is
not a classifier is refused in one line saying what to pass instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Iterator, Sequence

import torch

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error
from training.finetune_classify import load_classifier
from training.finetune_common import SkipLedger, num_threads

PURPOSE = "python -m training.classify"


def file_texts(path: Path, ledger: SkipLedger) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-empty UTF-8 line (split at ``\\n`` only, as the fine-tuner reads)."""
    if not path.is_file():
        raise FileNotFoundError(f"text file {path} does not exist")
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.removesuffix(b"\n").removesuffix(b"\r")
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                ledger.skip("not UTF-8", f"{path}:{number}")
                continue
            if not text.strip():
                ledger.skip("empty line", f"{path}:{number}")
                continue
            yield number, text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PURPOSE, description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="classifier.pt written by python -m training.finetune_classify")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", help="a text to label (repeat for more)")
    source.add_argument("--file", type=Path, help="a UTF-8 file with one text per line")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default torch's choice)")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.text is not None and not all(t.strip() for t in args.text):
        parser.error("--text must not be empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ledger = SkipLedger()
    try:
        with num_threads(args.threads):
            classifier = load_classifier(args.checkpoint, args.ranks_path, PURPOSE)
            classifier.model.to(torch.device(args.device))
            items = (file_texts(args.file, ledger) if args.file is not None
                     else iter([(None, text) for text in args.text]))
            while chunk := list(itertools.islice(items, args.batch_size)):
                probabilities = classifier.probabilities([text for _, text in chunk], args.batch_size)
                for (line, text), probs in zip(chunk, probabilities, strict=True):
                    best = max(range(len(probs)), key=probs.__getitem__)
                    record = {**({"line": line} if line is not None else {}), "text": text,
                              "label": classifier.labels[best],
                              "probabilities": dict(zip(classifier.labels, (round(p, 6) for p in probs)))}
                    print(json.dumps(record, ensure_ascii=False))
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a wrong or damaged checkpoint, a missing file
    if ledger.total:
        print(f"note: {ledger.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
