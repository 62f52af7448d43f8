"""python -m training.classify: labels texts given on the command line or in a file with a fine-tuned
classifier (JSON lines matching load_classifier's answers), counts the lines it skips, and refuses any
other kind of checkpoint in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.tiny_checkpoint import save_tiny_checkpoint
from training.classify import main
from training.finetune_classify import ClassifyConfig, finetune_classifier, load_classifier


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path]:
    """(a language model, a classifier fine-tuned from it for a few steps on SMS spam)."""
    folder = tmp_path_factory.mktemp("classify-cli")
    save_tiny_checkpoint(folder / "tiny.pt", shared_data)
    cfg = ClassifyConfig(checkpoint=str(folder / "tiny.pt"), data=str(shared_data / "finetune" / "SMSSpamCollection"),
                         out=str(folder / "run"), limit=100, epochs=1, max_steps=3, batch_size=8, max_length=24,
                         lr=1e-3, threads=1)
    finetune_classifier(cfg, log=lambda _: None)
    return folder / "tiny.pt", folder / "run" / "classifier.pt"


def outputs(capsys: pytest.CaptureFixture) -> tuple[list[dict], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_texts_from_the_command_line(checkpoints, capsys):
    _, classifier = checkpoints
    texts = ["WINNER!! claim your FREE prize now", "see you at lunch", "日本語も大丈夫"]
    assert main([str(classifier), *[arg for text in texts for arg in ("--text", text)], "--threads", "1"]) == 0
    records, err = outputs(capsys)
    assert [r["text"] for r in records] == texts and err == ""
    assert [r["label"] for r in records] == load_classifier(classifier).classify(texts)
    for record in records:
        assert set(record["probabilities"]) == {"ham", "spam"} and "line" not in record
        assert math.isclose(sum(record["probabilities"].values()), 1.0, abs_tol=1e-5)
        assert record["probabilities"][record["label"]] == max(record["probabilities"].values())


def test_texts_from_a_file_keep_their_line_numbers(checkpoints, capsys, tmp_path):
    _, classifier = checkpoints
    path = tmp_path / "texts.txt"
    path.write_bytes("first message\n\nsecond\x0cstill second\n".encode() + b"bad \xff\nlast one")
    assert main([str(classifier), "--file", str(path), "--batch-size", "1"]) == 0
    records, err = outputs(capsys)
    assert [(r["line"], r["text"]) for r in records] == [(1, "first message"), (3, "second\x0cstill second"),
                                                         (5, "last one")]
    assert "skipped 2 records" in err and f"{path}:2" in err and f"{path}:4" in err


def test_other_checkpoint_kinds_and_missing_files_are_one_line_errors(checkpoints, capsys, tmp_path):
    language_model, classifier = checkpoints
    with pytest.raises(SystemExit) as caught:
        main([str(language_model), "--text", "hello"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'pretrain' checkpoint" in err
    assert "python -m training.classify needs kind 'classifier'" in err and "classifier.pt" in err
    with pytest.raises(SystemExit) as caught:
        main([str(classifier), "--file", str(tmp_path / "absent.txt")])
    assert caught.value.code == 2 and "absent.txt does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(classifier), "--text", "  "])
    assert "--text must not be empty" in capsys.readouterr().err
