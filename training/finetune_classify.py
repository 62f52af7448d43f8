"""Classification fine-tuning: a pretrained GPT plus a linear head over N classes, read from the final
hidden state of each text's last real token.

Why the last token: attention is causal, so only the last position has seen the whole text. Batches are
right-padded, which leaves every real position's state untouched (padding comes after it), and the head
reads position length-1 of each row.

    python -m training.finetune_classify --checkpoint runs/demo/checkpoint.pt \
        --data ../shared/data/finetune/SMSSpamCollection --out runs/spam

Data: TSV, CSV or JSONL records of (text, label), read strictly (``training.classify_data``): a malformed
line (an extra tab, a stray quote, not UTF-8) is skipped and counted with its file and line, never cut or
merged; the classes are --labels or the training file's labels, and a record with another label is a
counted skip. Writes `<out>/classifier.pt` (a checkpoint of kind `classifier`: label texts with
`python -m training.classify`, or `load_classifier`), `<out>/metrics.jsonl` (the trainer's start / train /
eval records, step by step, appended line by line) and `<out>/metrics.json` (atomically): held-out accuracy
beside the majority-class baseline, per-class precision/recall/F1 and the confusion matrix (rows: true
class, columns: predicted). ``--lora-rank`` trains adapters and the head only (``model.lora``), merged on save.

Validation runs at every epoch's end and every ``--eval-every`` steps; each writes `<out>/last.pt` (the
weights plus optimiser, step, random state and data position: what ``--resume`` continues from, refused if
the settings or data changed) and, when validation accuracy (then loss) improves, `<out>/best.pt`; both are
classifier checkpoints the tools open (``training.finetune_common.Checkpoints``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import tiktoken
import torch
import torch.nn as nn
import torch.nn.functional as F

from contracts.fsio import atomic_write
from model.tokenizer import build_tokenizer
from model.gpt import GPT, GPTConfig
from model.checkpoint_io import CLASSIFIER, CheckpointLoadError, read_checkpoint, save_checkpoint
from model.lora import LoraSettings, add_lora, merge_lora, trainable_parameters
from training.classify_data import (FORMATS, LAYOUTS, Example, fix_labels, keep_known,  # noqa: F401
                                    read_examples)
from training.distributed import Dist
from training.finetune_common import (Checkpoints, FinetuneLoop, OptimSettings, Progress, SkipLedger,
                                      build_config, check_schedule, fingerprint, limited, num_threads, on_ranks,
                                      open_pretrained, open_resume, parse_options, run_cli, split_indices,
                                      steps_planned)

def classification_report(true: Sequence[int], predicted: Sequence[int], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix (rows true, cols predicted).

    A class never predicted has precision 0 by convention here (scikit-learn's zero_division=0), so the
    report never divides by zero.
    """
    n = len(labels)
    confusion = [[0] * n for _ in range(n)]
    for t, p in zip(true, predicted, strict=True):
        confusion[t][p] += 1
    per_class = {}
    for k, label in enumerate(labels):
        tp = confusion[k][k]
        predicted_k = sum(confusion[row][k] for row in range(n))
        support = sum(confusion[k])
        precision = tp / predicted_k if predicted_k else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    total = len(true)
    return {"accuracy": sum(confusion[k][k] for k in range(n)) / total if total else float("nan"),
            "n": total, "per_class": per_class, "labels": list(labels), "confusion_matrix": confusion}


class SequenceClassifier(nn.Module):
    """A GPT body whose language-model head is replaced by a linear map from the last real token's final
    hidden state to class scores.

    The body's lm_head becomes `nn.Identity`, so the body's own forward (with all_logits=True) returns the
    final LayerNorm's output (B, T, C) and no change to `model.gpt` is needed. The token embedding stays,
    tied or not: only the output side of the tie goes away.
    """

    def __init__(self, config: GPTConfig, n_classes: int) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        self.gpt = GPT(config)
        self.gpt.lm_head = nn.Identity()
        self.head = nn.Linear(config.n_embd, n_classes)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_pretrained(cls, gpt: GPT, n_classes: int) -> SequenceClassifier:
        classifier = cls(gpt.config, n_classes)
        body = {k: v for k, v in gpt.state_dict().items() if not k.startswith("lm_head.")}
        classifier.gpt.load_state_dict(body)
        return classifier

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits (B, N) for right-padded ids (B, T) whose real lengths are `lengths` (B,)."""
        hidden, _ = self.gpt(idx, all_logits=True)  # (B, T, C): lm_head is the identity
        last = hidden[torch.arange(idx.size(0), device=idx.device), lengths - 1]
        return self.head(last)

    def set_trainable(self, trainable_blocks: int | None) -> None:
        """None trains every weight; k >= 0 trains only the last k blocks, the final LayerNorm and the head
        (k = 0: the head and final LayerNorm only). Freezing early blocks is cheaper and, with little
        data, often generalises as well, since the lower layers hold general features."""
        n_layer = len(self.gpt.blocks)
        if trainable_blocks is not None and not 0 <= trainable_blocks <= n_layer:
            raise ValueError(f"trainable_blocks must be between 0 and {n_layer} (the model's blocks), "
                             f"got {trainable_blocks}")
        for p in self.parameters():
            p.requires_grad = trainable_blocks is None
        if trainable_blocks is not None:
            trainable = [self.head, self.gpt.ln_f, *list(self.gpt.blocks)[n_layer - trainable_blocks:]]
            for module in trainable:
                for p in module.parameters():
                    p.requires_grad = True


@dataclass(frozen=True)
class ClassifyConfig:
    """Everything one fine-tuning run depends on; `asdict` of it goes into the checkpoint and metrics."""

    checkpoint: str
    data: str
    out: str
    data_format: str | None = None
    test_data: str | None = None  # a separate held-out file; otherwise test_fraction of --data
    labels: tuple[str, ...] | None = None  # the classes, in order; default: the training file's, sorted
    columns: str | None = None  # a headerless file's layout, "label,text" or "text,label"; default: by values
    min_class_examples: int = 5  # without --labels, a label with fewer records stops the run (a typo?)
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    trainable_blocks: int | None = None  # None: all layers
    balanced: bool = False  # draw training examples with equal probability per class
    epochs: int = 3
    max_steps: int | None = None
    batch_size: int = 16
    lr: float = 5e-5
    min_lr: float | None = None  # the cosine schedule's floor; None keeps lr constant after warm-up
    warmup_steps: int = 0
    weight_decay: float = 0.1
    max_length: int | None = None  # tokens per text; longer texts keep their first max_length tokens
    limit: int | None = None  # use `limit` records drawn at random (seeded) from the file (quick runs)
    seed: int = 1234
    device: str = "cpu"
    ranks_path: str | None = None
    threads: int | None = None  # torch intra-op threads; default torch's own choice
    progress_seconds: float = 10.0  # a progress line at most this often within an epoch
    lora_rank: int = 0  # > 0: train low-rank adapters on the blocks' linear layers and the head, merged on save
    lora_alpha: float = 16.0
    eval_every: int | None = None  # steps between validations and checkpoints (and at every epoch's end)
    resume: bool = False  # continue from <out>/last.pt
    stop_after: int | None = None  # end this launch after that many steps, as a kill would (tests)
    config: str | None = None  # the --config file the settings were read from (flags override it)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if self.eval_every is not None and self.eval_every < 1:
            raise ValueError(f"eval_every must be at least 1, got {self.eval_every}")
        if self.stop_after is not None and self.stop_after < 1:
            raise ValueError(f"stop_after must be at least 1, got {self.stop_after}")
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0 (0 = no adapters), got {self.lora_rank}")
        if self.lora_rank and self.trainable_blocks is not None:
            raise ValueError("choose LoRA (--lora-rank) or freezing (--trainable-blocks), not both: with LoRA "
                             "the whole body is frozen and only the adapters and the head train")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")
        if self.min_class_examples < 1:
            raise ValueError(f"min_class_examples must be at least 1, got {self.min_class_examples}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        check_schedule(self.lr, self.min_lr, self.warmup_steps)
        fractions = (self.val_fraction, 0.0 if self.test_data else self.test_fraction)
        if any(f < 0 for f in fractions) or sum(fractions) >= 1:
            raise ValueError(f"val_fraction + test_fraction must leave some training data, got {fractions}")


@dataclass
class Encoded:
    ids: list[list[int]]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.labels)


def encode_examples(examples: Sequence[Example], encoding: tiktoken.Encoding, label_index: dict[str, int],
                    max_length: int, ledger: SkipLedger) -> tuple[Encoded, int]:
    """Token ids and class indices; unknown labels and texts with no tokens are skipped into the ledger.
    Returns also how many texts were cut to max_length."""
    out, truncated = Encoded([], []), 0
    for example in examples:
        if example.label not in label_index:
            ledger.skip(f"unknown label {example.label!r}", example.position)
            continue
        ids = encoding.encode_ordinary(example.text)  # "<|endoftext|>" typed in a text is just text
        if not ids:
            ledger.skip("text has no tokens", example.position)
            continue
        if len(ids) > max_length:
            ids, truncated = ids[:max_length], truncated + 1
        out.ids.append(ids)
        out.labels.append(label_index[example.label])
    return out, truncated


def collate(rows: Sequence[list[int]], pad_id: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) ids and (B,) lengths."""
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    idx = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        idx[i, :len(row)] = torch.tensor(row, dtype=torch.long)
    return idx.to(device), lengths.to(device)


def epoch_order(labels: Sequence[int], balanced: bool, generator: torch.Generator) -> list[int]:
    """One epoch of training indices: a permutation, or (balanced) as many draws with replacement position
    each class is equally likely, so a 13%-spam set trains the head on about half spam."""
    n = len(labels)
    if not balanced:
        return torch.randperm(n, generator=generator).tolist()
    counts = torch.bincount(torch.tensor(labels))
    weights = 1.0 / counts[torch.tensor(labels)].double()
    return torch.multinomial(weights, n, replacement=True, generator=generator).tolist()


@torch.inference_mode()
def predict(classifier: SequenceClassifier, data: Encoded, batch_size: int, pad_id: int,
            device: str) -> tuple[list[int], float]:
    """Predicted classes and mean cross-entropy; the classifier is in eval mode for the call."""
    was_training = classifier.training
    classifier.eval()
    predictions, loss_sum = [], 0.0
    try:
        for start in range(0, len(data), batch_size):
            idx, lengths = collate(data.ids[start:start + batch_size], pad_id, device)
            targets = torch.tensor(data.labels[start:start + batch_size], device=device)
            logits = classifier(idx, lengths)
            loss_sum += float(F.cross_entropy(logits, targets, reduction="sum"))
            predictions.extend(logits.argmax(dim=-1).tolist())
    finally:
        classifier.train(was_training)
    return predictions, loss_sum / max(len(data), 1)


def finetune_classifier(cfg: ClassifyConfig, log: Callable[[str], object] = print) -> dict[str, Any]:
    """Run the whole fine-tuning and return the metrics written to <out>/metrics.json (by rank 0 alone
    under torchrun)."""
    with num_threads(cfg.threads):
        return on_ranks(cfg.device, lambda dist, say: classifier_tuning(cfg, dist, say), log)


def read_splits(cfg: ClassifyConfig, ledger: SkipLedger, log: Callable[[str], object]
                ) -> tuple[list[str], dict[str, list[Example]]]:
    """The classes and the train / val / test examples: labels fixed by --labels or the training file, the
    limit drawn after shuffling, the test split from --test-data or held out of --data."""
    examples, _ = read_examples(cfg.data, cfg.data_format, ledger, cfg.columns, log)
    labels = fix_labels(cfg.labels, examples, cfg.min_class_examples, cfg.data)
    examples = limited(keep_known(examples, labels, ledger), cfg.limit, cfg.seed)
    if cfg.test_data:
        test_examples, _ = read_examples(cfg.test_data, cfg.data_format, ledger, cfg.columns, log)
        train_part, val_part = split_indices(len(examples), (1 - cfg.val_fraction,), cfg.seed)
        parts = {"train": [examples[i] for i in train_part], "val": [examples[i] for i in val_part],
                 "test": keep_known(test_examples, labels, ledger)}
    else:
        test_part, val_part, train_part = split_indices(len(examples), (cfg.test_fraction, cfg.val_fraction),
                                                        cfg.seed)
        parts = {name: [examples[i] for i in part]
                 for name, part in (("train", train_part), ("val", val_part), ("test", test_part))}
    return labels, parts


def classifier_tuning(cfg: ClassifyConfig, dist: Dist, log: Callable[[str], object]) -> dict[str, Any]:
    torch.manual_seed(cfg.seed)
    pretrained = open_pretrained(cfg.checkpoint, cfg.ranks_path, "python -m training.finetune_classify")
    device = str(dist.device)
    context = pretrained.model.config.context_length
    max_length = min(cfg.max_length or context, context)

    ledger = SkipLedger()
    labels, parts = read_splits(cfg, ledger, log)
    label_index = {label: k for k, label in enumerate(labels)}
    encoded, truncated = {}, 0
    for name, part in parts.items():
        encoded[name], cut = encode_examples(part, pretrained.encoding, label_index, max_length, ledger)
        truncated += cut
    if not len(encoded["train"]):
        raise ValueError(f"no usable training examples in {cfg.data}: {ledger.summary()}")
    if not len(encoded["test"]):
        raise ValueError(f"no test examples ({cfg.test_data or f'test_fraction {cfg.test_fraction} of {cfg.data}'}"
                         f"): the accuracy would be undefined; {ledger.summary()}")
    log(f"classes {labels}; train {len(encoded['train'])}, val {len(encoded['val'])}, "
        f"test {len(encoded['test'])}; {truncated} texts cut to {max_length} tokens; {ledger.summary()}")

    out = Path(cfg.out)
    classifier = SequenceClassifier.from_pretrained(pretrained.model, len(labels)).to(device)
    if cfg.lora_rank:
        adapted = add_lora(classifier, LoraSettings(rank=cfg.lora_rank, alpha=cfg.lora_alpha), trainable=("head.",))
        log(f"LoRA rank {cfg.lora_rank} on {len(adapted)} layers: {trainable_parameters(classifier):,} trainable "
            "parameters (adapters and head), the rest frozen")
    else:
        classifier.set_trainable(cfg.trainable_blocks)
    total = steps_planned(len(encoded["train"]), cfg.batch_size, cfg.epochs, cfg.max_steps)
    now = fingerprint(asdict(cfg), [cfg.data, cfg.test_data])
    saved = open_resume(out, CLASSIFIER, "resuming python -m training.finetune_classify", now, log) \
        if cfg.resume else None
    resume = saved["resume"] if saved else None
    if resume is not None:
        classifier.load_state_dict(resume["module"])
    loop = FinetuneLoop(classifier, OptimSettings(lr=cfg.lr, weight_decay=cfg.weight_decay, total_steps=total,
                                                  min_lr=cfg.min_lr, warmup_steps=cfg.warmup_steps), out, dist,
                        asdict(cfg), resume)
    generator = torch.Generator().manual_seed(cfg.seed)
    pad_id = pretrained.end_of_text
    progress = Progress(log, cfg.progress_seconds, time.perf_counter)
    payload = {"config": pretrained.checkpoint["config"], "tokenizer": pretrained.tokenizer_spec,
               "classifier": {"labels": labels, "max_length": max_length, "pad_id": pad_id}, "finetune": asdict(cfg)}
    checkpoints = Checkpoints(out, CLASSIFIER, lambda r: (r["val_accuracy"], -r["val_loss"])
                              if "val_accuracy" in r else None, now, resume["best"] if resume else None)

    history: list[dict[str, Any]] = list(resume["history"]) if resume else []
    started, train_loss = time.perf_counter(), float("nan")
    first_epoch, first_start = (resume["position"]["epoch"], resume["position"]["next"]) if resume else (0, 0)
    if resume is not None:
        generator.set_state(resume["position"]["generator"])
    classifier.train()
    for epoch in range(first_epoch, cfg.epochs):
        if cfg.max_steps is not None and loop.step >= cfg.max_steps:
            break  # a resume of a run that had finished its steps
        epoch_generator = generator.get_state()  # the order is redrawn from it on resume
        order = epoch_order(encoded["train"].labels, cfg.balanced, generator)
        # a last batch with fewer rows than processes is left out (only under torchrun)
        starts = [s for s in range(0, len(order), cfg.batch_size) if loop.usable(order[s:s + cfg.batch_size])]
        batches = len(starts)
        progress.start_epoch()
        for number, start in enumerate(starts, start=1):
            if epoch == first_epoch and start < first_start:
                continue  # done before the checkpoint this launch resumed from
            batch = loop.share(order[start:start + cfg.batch_size])
            idx, lengths = collate([encoded["train"].ids[i] for i in batch], pad_id, device)
            targets = torch.tensor([encoded["train"].labels[i] for i in batch], device=device)
            train_loss = loop.update(F.cross_entropy(loop.train_module(idx, lengths), targets), epoch=epoch + 1)
            progress.step(epoch + 1, cfg.epochs, number, batches, loop.step, train_loss,
                          len(batch) * dist.world_size)
            done = cfg.max_steps is not None and loop.step >= cfg.max_steps
            end_of_epoch = start == starts[-1]
            if done or end_of_epoch or (cfg.eval_every is not None and loop.step % cfg.eval_every == 0):
                record: dict[str, Any] = {"epoch": epoch + 1, "step": loop.step, "train_loss": train_loss}
                if len(encoded["val"]):
                    val_pred, val_loss = predict(classifier, encoded["val"], cfg.batch_size, pad_id, device)
                    record.update(val_loss=val_loss, val_accuracy=classification_report(
                        encoded["val"].labels, val_pred, labels)["accuracy"])
                history.append(record)
                loop.log({"kind": "eval", **record})
                log(json.dumps(record))
                position = ({"epoch": epoch + 1, "next": 0, "generator": generator.get_state()} if end_of_epoch
                            else {"epoch": epoch, "next": start + cfg.batch_size, "generator": epoch_generator})
                checkpoints.save(loop, payload, record, position, history)
            if cfg.stop_after is not None and loop.step >= cfg.stop_after:
                loop.close()  # ended as a kill would: --resume continues from the last evaluation's last.pt
                return {"stopped_after": loop.step}
            if done:
                break
        if cfg.max_steps is not None and loop.step >= cfg.max_steps:
            break
    step = loop.step
    train_seconds = time.perf_counter() - started

    trainable = trainable_parameters(classifier)
    if cfg.lora_rank:
        merge_lora(classifier)  # a plain classifier again: load_classifier and training.classify open it
    test_pred, test_loss = predict(classifier, encoded["test"], cfg.batch_size, pad_id, device)
    report = classification_report(encoded["test"].labels, test_pred, labels)
    majority = max(map(sum, report["confusion_matrix"])) / report["n"]
    metrics = {"test": {**report, "loss": test_loss, "majority_baseline": majority}, "history": history,
               "steps": step, "train_seconds": train_seconds, "skipped": ledger.as_dict(), "truncated": truncated,
               "trainable_params": trainable, "config": asdict(cfg)}
    loop.close()
    if not dist.is_main:
        return metrics
    save_checkpoint({**payload, "model": classifier.state_dict()}, out / "classifier.pt", CLASSIFIER)
    with atomic_write(out / "metrics.json") as fh:
        fh.write((json.dumps(metrics, indent=1, default=str) + "\n").encode("utf-8"))
    log(f"test accuracy {report['accuracy']:.4f} on {report['n']} held-out examples (always answering the "
        f"largest class: {majority:.4f}); wrote {out}")
    return metrics


@dataclass
class LoadedClassifier:
    """A fine-tuned classifier ready to label texts."""

    model: SequenceClassifier
    labels: list[str]
    encoding: tiktoken.Encoding
    max_length: int
    pad_id: int

    def probabilities(self, texts: Sequence[str], batch_size: int = 32) -> list[list[float]]:
        """Each text's class probabilities, in the order of ``labels``; a text keeps its first max_length
        tokens, as in training (an empty text is read as the padding token alone)."""
        rows = [(self.encoding.encode_ordinary(t) or [self.pad_id])[:self.max_length] for t in texts]
        device = str(self.model.head.weight.device)
        out: list[list[float]] = []
        with torch.inference_mode():
            for start in range(0, len(rows), batch_size):
                idx, lengths = collate(rows[start:start + batch_size], self.pad_id, device)
                out.extend(F.softmax(self.model(idx, lengths).float(), dim=-1).tolist())
        return out

    def classify(self, texts: Sequence[str], batch_size: int = 32) -> list[str]:
        return [self.labels[max(range(len(p)), key=p.__getitem__)] for p in self.probabilities(texts, batch_size)]


def load_classifier(path: str | Path, ranks_path: str | Path | None = None,
                    purpose: str = "load_classifier") -> LoadedClassifier:
    """A classifier checkpoint ready to label texts; any other kind is refused with what to pass instead."""
    checkpoint = read_checkpoint(path, (CLASSIFIER,), purpose)
    try:
        info = checkpoint["classifier"]
        model = SequenceClassifier(GPTConfig.from_dict(checkpoint["config"]), len(info["labels"]))
        model.load_state_dict(checkpoint["model"])
    except Exception as error:  # a damaged or hand-edited file whose parts do not make a classifier
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointLoadError(f"checkpoint {path}: its entries do not make a classifier "
                                  f"({type(error).__name__}: {first[:200]})") from None
    return LoadedClassifier(model=model.eval(), labels=list(info["labels"]),
                            encoding=build_tokenizer(checkpoint["tokenizer"], ranks_path),
                            max_length=int(info["max_length"]), pad_id=int(info["pad_id"]))


def parse_trainable(value: str) -> int | None:
    if value == "all":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'all' or a number of last blocks, got {value!r}") from None


def parse_labels(value: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in value.split(",") if label.strip())


def parse_args(argv: Sequence[str] | None) -> ClassifyConfig:
    parser = argparse.ArgumentParser(prog="python -m training.finetune_classify",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="pretrained language-model checkpoint")
    parser.add_argument("--data", required=True, help="TSV, CSV or JSONL of (text, label)")
    parser.add_argument("--out", required=True, help="folder for classifier.pt and metrics.json")
    parser.add_argument("--format", dest="data_format", choices=FORMATS, default=None,
                        help="default: by suffix, else sniffed from the first line")
    parser.add_argument("--test-data", default=None, help="separate held-out file (else --test-fraction)")
    parser.add_argument("--labels", type=parse_labels, default=None, help="comma-separated classes, in order; "
                        "records with other labels are skipped and counted (default: every label of --data, sorted)")
    parser.add_argument("--columns", choices=LAYOUTS, default=None, metavar="label,text|text,label",
                        help="a headerless file's column order (default: the column with few distinct values "
                        "is the label)")
    parser.add_argument("--min-class-examples", type=int, default=5,
                        help="without --labels, a label with fewer records in --data stops the run (a typo or "
                        "a shifted column?)")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--trainable-blocks", type=parse_trainable, default=None, metavar="all|K",
                        help="'all' (default) or train only the last K blocks + final LayerNorm + head")
    parser.add_argument("--lora-rank", type=int, default=0,
                        help="train low-rank adapters of this rank on every block's linear layers, and the head; "
                        "the body stays frozen; adapters merged into classifier.pt (default 0: no LoRA)")
    parser.add_argument("--lora-alpha", type=float, default=16.0, help="LoRA scale numerator (scale alpha/rank)")
    parser.add_argument("--balanced", action="store_true", help="sample classes equally often in training")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--min-lr", type=float, default=None,
                        help="decay the rate to this by a cosine over the run (default: constant --lr)")
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up steps")
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--max-length", type=int, default=None, help="tokens per text (default: context)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use N records drawn at random (seeded) from --data, not its first N")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default torch's choice; on a busy machine fewer can be faster)")
    parser.add_argument("--progress-seconds", type=float, default=10.0,
                        help="a progress line at most this often within an epoch")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    parser.add_argument("--eval-every", type=int, default=None,
                        help="validate and write last.pt / best.pt every N steps (always at each epoch's end)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/last.pt (refused if the settings or data changed)")
    return build_config(parser, ClassifyConfig, parse_options(parser, argv, ClassifyConfig))


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(finetune_classifier, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
