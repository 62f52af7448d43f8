"""training.finetune_classify: readers on the real SMS Spam Collection and on broken files, last-token
pooling under padding, partial freezing, balanced sampling, the report's arithmetic and a short run end to
end (with the command line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.tiny_checkpoint import save_tiny_checkpoint
from training.finetune_classify import (ClassifyConfig, SequenceClassifier, classification_report, collate,
                                        epoch_order, finetune_classifier, load_classifier, main, read_examples)
from training.finetune_common import SkipLedger


@pytest.fixture(scope="module")
def sms(shared_data: Path) -> Path:
    return shared_data / "finetune" / "SMSSpamCollection"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("classify") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data)
    return path


def test_reads_the_real_sms_collection(sms):
    examples, ledger = read_examples(sms)
    assert len(examples) == 5574 and ledger.total == 0
    assert {e.label for e in examples} == {"ham", "spam"}
    assert sum(e.label == "spam" for e in examples) == 747
    assert examples[0].text.startswith("Go until jurong point") and examples[0].position.endswith(":1")


def test_bad_records_are_counted_not_fatal(tmp_path):
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text('{"text": "fine", "label": "a"}\n{"text": "broken", "label":\n[1, 2]\n'
                     '{"text": "", "label": "a"}\n{"text": "no label"}\n{"text": "ok", "label": 3}\n')
    examples, ledger = read_examples(jsonl)
    assert [(e.text, e.label) for e in examples] == [("fine", "a"), ("ok", "3")]
    assert ledger.total == 4 and any("malformed JSON" in reason for reason in ledger.counts)
    assert ledger.examples["record is not a JSON object"] == [f"{jsonl}:3"]

    tsv = tmp_path / "data.tsv"
    tsv.write_text('ham\tsays "hi" and\tkeeps tabs\nno-tab-here\nspam\tWIN\n')
    examples, ledger = read_examples(tsv)
    assert [e.label for e in examples] == ["ham", "spam"] and examples[0].text == 'says "hi" and'
    assert ledger.counts == {"fewer than 2 fields": 1}

    csv_file = tmp_path / "data.csv"
    csv_file.write_text('id,text,label\n1,"a, quoted text",pos\n2,short\n3,plain,neg\n')
    examples, ledger = read_examples(csv_file)
    assert [(e.text, e.label) for e in examples] == [("a, quoted text", "pos"), ("plain", "neg")]
    assert ledger.total == 1


def test_report_arithmetic():
    report = classification_report([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 1], ["a", "b", "c"])
    assert report["confusion_matrix"] == [[2, 1, 0], [1, 1, 0], [0, 1, 0]]
    assert report["accuracy"] == pytest.approx(3 / 6)
    assert report["per_class"]["a"]["precision"] == pytest.approx(2 / 3)
    assert report["per_class"]["b"]["recall"] == pytest.approx(1 / 2)
    assert report["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_last_token_pooling_ignores_padding():
    torch.manual_seed(0)
    from model.gpt import GPTConfig

    classifier = SequenceClassifier(GPTConfig.preset("tiny"), 3).eval()
    rows = [[5, 6, 7, 8, 9], [1, 2], [3, 4, 5]]
    idx, lengths = collate(rows, pad_id=0, device="cpu")
    batched = classifier(idx, lengths)
    for i, row in enumerate(rows):
        alone = classifier(torch.tensor([row]), torch.tensor([len(row)]))
        torch.testing.assert_close(batched[i], alone[0], rtol=1e-5, atol=1e-5)


def test_partial_freezing_trains_only_the_last_blocks_and_head():
    from model.gpt import GPTConfig

    classifier = SequenceClassifier(GPTConfig.preset("tiny", n_layer=3), 2)
    classifier.set_trainable(1)
    trainable = {name for name, p in classifier.named_parameters() if p.requires_grad}
    assert trainable == {n for n, _ in classifier.named_parameters()
                         if n.startswith(("head.", "gpt.ln_f.", "gpt.blocks.2."))}
    classifier.set_trainable(None)
    assert all(p.requires_grad for p in classifier.parameters())
    with pytest.raises(ValueError, match="between 0 and 3"):
        classifier.set_trainable(4)


def test_balanced_sampling_draws_classes_equally():
    labels = [0] * 900 + [1] * 100
    order = epoch_order(labels, balanced=True, generator=torch.Generator().manual_seed(0))
    share = sum(labels[i] for i in order) / len(order)
    assert len(order) == 1000 and 0.44 < share < 0.56
    plain = epoch_order(labels, balanced=False, generator=torch.Generator().manual_seed(0))
    assert sorted(plain) == list(range(1000))


@pytest.mark.slow  # ~40 s quiet, minutes on a loaded machine: a random 50k-vocabulary body has to learn
def test_finetune_end_to_end(tmp_path, tiny_checkpoint, sms):
    """A short real run on 600 SMS messages with balanced batches beats always answering the majority
    class (ham, 84 % of the held-out 120) by a margin; reports and reloads. The body is random, so every
    layer is trained: with frozen lower layers the run did no better than the majority answer."""
    cfg = ClassifyConfig(checkpoint=str(tiny_checkpoint), data=str(sms), out=str(tmp_path / "run"), limit=600,
                         epochs=3, lr=3e-3, balanced=True, trainable_blocks=None, max_length=48)
    metrics = finetune_classifier(cfg, log=lambda _: None)
    test = metrics["test"]
    assert test["n"] == 120 and sum(map(sum, test["confusion_matrix"])) == 120
    assert set(test["per_class"]) == {"ham", "spam"}
    majority = max(map(sum, test["confusion_matrix"])) / test["n"]  # always answering the larger class
    assert test["accuracy"] >= majority + 0.08, (test["accuracy"], majority, test["confusion_matrix"])
    assert min(c["recall"] for c in test["per_class"].values()) > 0.3  # both classes are predicted
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]["n"] == 120

    loaded = load_classifier(tmp_path / "run" / "classifier.pt")
    assert loaded.labels == ["ham", "spam"]
    assert set(loaded.classify(["see you at lunch", "WINNER!! claim your FREE prize now", ""])) <= {"ham", "spam"}


def test_unknown_labels_and_cli(tmp_path, tiny_checkpoint, sms):
    """--labels names the classes; records with any other label are skipped and counted."""
    data = tmp_path / "three.jsonl"
    rows = [{"text": f"message number {i}", "label": ["ham", "spam", "maybe"][i % 3]} for i in range(60)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    held_out = tmp_path / "held_out.tsv"
    held_out.write_text("".join(sms.read_text(encoding="utf-8").splitlines(keepends=True)[:200]), encoding="utf-8")
    out = tmp_path / "cli"
    assert main(["--checkpoint", str(tiny_checkpoint), "--data", str(data), "--out", str(out), "--labels",
                 "ham,spam", "--epochs", "1", "--trainable-blocks", "0", "--test-data", str(held_out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["skipped"]["by_reason"]["unknown label 'maybe'"] == 20
    assert metrics["skipped"]["by_reason"]["malformed JSON (Expecting value)"] == 1
    assert metrics["test"]["n"] == 200 and metrics["test"]["labels"] == ["ham", "spam"]
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--checkpoint", str(tiny_checkpoint), "--data", str(tmp_path / "nope.tsv"), "--out", str(out)])


def test_skip_ledger_summary():
    ledger = SkipLedger(examples_per_reason=1)
    ledger.skip("bad", "f:1")
    ledger.skip("bad", "f:2")
    assert ledger.summary() == "skipped 2 records: 2 bad (e.g. f:1)"
