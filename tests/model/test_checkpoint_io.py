"""model.checkpoint_io, the one checkpoint format: version and kind on every file written, atomic saves,
files of older code still opening, and each tool refusing a checkpoint of the wrong kind (a classifier
handed to generate, serve, export or instruction tuning; a language model handed to load_classifier; a
fine-tuned model handed to --resume) with one message naming the file, the kind found and the kind needed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from model.checkpoint_io import (CLASSIFIER, FORMAT_VERSION, HF_IMPORT, INSTRUCT, PRETRAIN, CheckpointLoadError,
                                 kind_of, load_checkpoint, read_checkpoint, save_checkpoint)
from model.gpt import GPTConfig
from tests.tiny_checkpoint import gpt2_tokenizer_spec, save_tiny_checkpoint

LANGUAGE_MODEL = ("pretrain", "instruct", "hf-import")


def classifier_checkpoint(path: Path, shared_data: Path) -> Path:
    """A classifier.pt as training.finetune_classify writes it (untrained head: only its kind matters)."""
    from training.finetune_classify import SequenceClassifier

    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", vocab_size=50257)
    classifier = SequenceClassifier(config, 2)
    return save_checkpoint({"model": classifier.state_dict(), "config": dataclasses.asdict(config),
                            "tokenizer": gpt2_tokenizer_spec(shared_data),
                            "classifier": {"labels": ["ham", "spam"], "max_length": 64, "pad_id": 50256}},
                           path, CLASSIFIER)


@pytest.fixture
def classifier_pt(tmp_path: Path, shared_data: Path) -> Path:
    return classifier_checkpoint(tmp_path / "cls" / "classifier.pt", shared_data)


def assert_wrong_kind(message: str, path: Path, expected: str = "pretrain") -> None:
    assert str(path) in message and "'classifier' checkpoint" in message and expected in message, message
    assert "fine-tuned from" in message, message  # what to pass instead


def test_saved_checkpoints_carry_version_and_kind_and_leave_no_temporary(tmp_path: Path) -> None:
    path = save_checkpoint({"model": {}, "x": torch.arange(3)}, tmp_path / "c.pt", INSTRUCT)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == FORMAT_VERSION and raw["kind"] == INSTRUCT
    assert torch.equal(read_checkpoint(path, (INSTRUCT,), "a test")["x"], torch.arange(3))
    with pytest.raises(ValueError, match="unknown checkpoint kind 'lora'"):
        save_checkpoint({}, tmp_path / "d.pt", "lora")


def test_files_of_older_code_get_their_kind_from_what_they_hold(tmp_path: Path, shared_data: Path) -> None:
    assert kind_of({"format_version": 1, "model": {}, "optimizer": {}}) == PRETRAIN  # the trainer's, before kinds
    assert kind_of({"model": {}, "finetune": {"kind": "instruct"}}) == INSTRUCT
    assert kind_of({"kind": "classifier", "model": {}}) == CLASSIFIER
    assert kind_of({"model": {}, "source": {"kind": "transformers-gpt2"}}) == HF_IMPORT
    path = tmp_path / "old.pt"
    save_tiny_checkpoint(path, shared_data)  # unversioned, no kind: as hand-made and early checkpoints
    model, checkpoint = load_checkpoint(path)
    assert "format_version" not in checkpoint and model.config.vocab_size == 50257


@pytest.mark.parametrize("version, says", [(FORMAT_VERSION + 1, "newer than the version 1 this refinery reads: "
                                                                 "upgrade refinery"),
                                           (0, "format version 0; this refinery reads version 1"),
                                           ("1", "format version '1'")])
def test_other_format_versions_are_refused_naming_file_and_fix(tmp_path: Path, version, says) -> None:
    path = tmp_path / "c.pt"
    torch.save({"format_version": version, "kind": PRETRAIN, "model": {}, "config": {}}, path)
    with pytest.raises(CheckpointLoadError, match=str(path)) as caught:
        load_checkpoint(path)
    assert says in str(caught.value)


def test_an_unknown_kind_says_it_comes_from_newer_code(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    torch.save({"format_version": 1, "kind": "reward-model", "model": {}}, path)
    with pytest.raises(CheckpointLoadError, match="kind 'reward-model'.*newer version; upgrade refinery"):
        read_checkpoint(path, LANGUAGE_MODEL, "a test")


def test_generate_refuses_a_classifier_in_one_line(classifier_pt: Path, capsys: pytest.CaptureFixture) -> None:
    from model.generate import main

    with pytest.raises(SystemExit) as caught:
        main(["--checkpoint", str(classifier_pt), "--prompt", "The"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python -m model.generate needs kind" in err
    assert_wrong_kind(err, classifier_pt)


def test_serve_and_export_refuse_a_classifier(classifier_pt: Path, tmp_path: Path) -> None:
    from model.engine import Engine
    from model.hf_interop import export_checkpoint

    with pytest.raises(CheckpointLoadError) as caught:
        Engine.from_checkpoint(classifier_pt)
    assert_wrong_kind(str(caught.value), classifier_pt)
    with pytest.raises(CheckpointLoadError) as caught:
        export_checkpoint(classifier_pt, tmp_path / "hf")
    assert_wrong_kind(str(caught.value), classifier_pt)
    assert "hf_interop export" in str(caught.value) and not (tmp_path / "hf").exists()


def test_fine_tuning_refuses_a_classifier(classifier_pt: Path, tmp_path: Path, shared_data: Path) -> None:
    from training import finetune_classify, finetune_instruct

    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"instruction": "Say hi.", "output": "hi", "text": "hi", "label": "ham"}) + "\n")
    for tool in (finetune_instruct, finetune_classify):
        with pytest.raises(SystemExit) as caught:
            tool.main(["--checkpoint", str(classifier_pt), "--data", str(data), "--out", str(tmp_path / "out")])
        assert caught.value.code == 2
        assert_wrong_kind(str(caught.value), classifier_pt)
        assert tool.__name__ in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_load_classifier_refuses_a_language_model(tmp_path: Path, shared_data: Path,
                                                  classifier_pt: Path) -> None:
    from training.finetune_classify import load_classifier

    language_model = tmp_path / "lm.pt"
    save_tiny_checkpoint(language_model, shared_data)
    with pytest.raises(CheckpointLoadError, match=f"{language_model} is a 'pretrain' checkpoint .* needs kind "
                                                  "'classifier': pass the classifier.pt"):
        load_classifier(language_model)
    assert load_classifier(classifier_pt).labels == ["ham", "spam"]


def test_resume_refuses_a_fine_tuned_model(tmp_path: Path) -> None:
    from training import checkpoint as ckpt

    path = save_checkpoint({"model": {}, "config": {}}, tmp_path / "checkpoint.pt", INSTRUCT)
    with pytest.raises(ckpt.CheckpointError, match="'instruct' checkpoint .* resuming training needs kind "
                                                   "'pretrain': --resume continues only a pretraining run"):
        ckpt.load(path)
