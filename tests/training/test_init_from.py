"""init_from: continued pretraining from a refinery checkpoint and from a Hugging Face GPT-2 folder (our
run exported, then read back through the importer). The run starts from the source's exact weights (its
first validation loss is the source's last), records where it started in metrics.jsonl and in its
checkpoint, and refuses a source whose tokenizer is not the dataset's, a classifier, a weights-only folder
and a model section that would change the architecture."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model.checkpoint_io import CLASSIFIER, read_checkpoint, save_checkpoint
from model.hf_interop import export_checkpoint
from model.tokenizer import build_tokenizer
from tests.tiny_checkpoint import save_tiny_checkpoint
from tests.training.trainer_helpers import SHARED_DATA, bpe_dataset, config_dict, write_config
from training.config import ConfigError, parse_config
from training.init_from import InitFromError
from training.metrics import read_metrics
from training.train import main, train


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpe_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def source_run(tokens: Path, tmp_path_factory: pytest.TempPathFactory):
    """30 steps of the tiny model, evaluated at the end: the model the other runs continue."""
    out = tmp_path_factory.mktemp("source")
    config = parse_config(config_dict(tokens, out, optim={"max_steps": 30}, eval={"every": 30}))
    return train(config, echo=None)


def continued(tokens: Path, out: Path, init_from: Path, model: dict | None = None, **sections) -> dict:
    """A config starting from init_from: 4 steps by default, no model section unless given."""
    sections = {"optim": {"max_steps": 4, "warmup_steps": 1}, "eval": {"every": 4}, **sections}
    if "optim" in sections:
        sections["optim"] = {"warmup_steps": 1, **sections["optim"]}
    data = config_dict(tokens, out, **sections)
    del data["model"]
    return {**data, **({"model": model} if model is not None else {}), "init_from": str(init_from)}


def records(metrics: Path, kind: str) -> list[dict]:
    return [r for r in read_metrics(metrics) if r["kind"] == kind]


def test_continues_from_a_refinery_checkpoint(tokens, source_run, tmp_path):
    last_eval = records(source_run.metrics, "eval")[-1]
    result = train(parse_config(continued(tokens, tmp_path / "run", source_run.checkpoint)), echo=None)
    first_eval = records(result.metrics, "eval")[0]
    assert first_eval["step"] == 0
    assert first_eval["val_loss_overall"] == pytest.approx(last_eval["val_loss_overall"], abs=1e-6)
    assert first_eval["val_loss_overall"] < 5.5  # far below an untrained model's ln(512) = 6.24

    start = records(result.metrics, "start")[0]["init_from"]
    assert start["kind"] == "checkpoint" and start["checkpoint_kind"] == "pretrain"
    assert start["path"] == str(source_run.checkpoint.resolve()) and start["step"] == 30
    assert len(start["sha256"]) == 64
    saved = read_checkpoint(result.checkpoint, ("pretrain",), "test")
    assert saved["init_from"] == start and saved["trainer"]["step"] == 4
    assert saved["train_config"]["init_from"] == str(source_run.checkpoint)


def test_continues_from_an_exported_hugging_face_folder(tokens, source_run, tmp_path):
    """Exported with its tokenizer files, read back by the importer: the same function, so the same loss.
    The export's tokenizer.json (the dataset's own 512-rank BPE) gives transformers our ids."""
    import transformers  # test-only dependency

    folder = export_checkpoint(source_run.checkpoint, tmp_path / "hf")
    ours = build_tokenizer(read_checkpoint(source_run.checkpoint, ("pretrain",), "test")["tokenizer"])
    text = (SHARED_DATA / "books" / "the-verdict.txt").read_text(encoding="utf-8")
    assert transformers.AutoTokenizer.from_pretrained(folder)(text)["input_ids"] == ours.encode_ordinary(text)
    last_eval = records(source_run.metrics, "eval")[-1]
    config = continued(tokens, tmp_path / "run", folder, model={"overrides": {"dropout": 0.0}},
                       optim={"max_steps": 6}, checkpoint={"every": 2})
    result = train(parse_config(config), stop_after=4, echo=None)  # as if killed after step 4
    first_eval = records(result.metrics, "eval")[0]
    assert first_eval["val_loss_overall"] == pytest.approx(last_eval["val_loss_overall"], abs=1e-4)
    losses = [r["loss"] for r in records(result.metrics, "train")]
    assert len(losses) == 4 and all(loss < 5.5 for loss in losses)
    start = records(result.metrics, "start")[0]["init_from"]
    assert start["kind"] == "transformers-gpt2" and start["path"] == str(folder.resolve())
    assert read_checkpoint(result.checkpoint, ("pretrain",), "test")["init_from"] == start
    # Resuming keeps the record (and needs no source any more: the architecture is the checkpoint's).
    shutil.rmtree(folder)
    resumed = train(parse_config(config), resume=True, echo=None)
    assert resumed.step == 6
    assert read_checkpoint(resumed.checkpoint, ("pretrain",), "test")["init_from"] == start


def test_resume_with_another_init_from_is_refused(tokens, source_run, tmp_path):
    config = continued(tokens, tmp_path / "run", source_run.checkpoint)
    train(parse_config(config), echo=None)
    other = tmp_path / "other.pt"
    shutil.copy(source_run.checkpoint, other)
    with pytest.raises(Exception, match="init_from: checkpoint"):
        train(parse_config({**config, "init_from": str(other)}), resume=True, echo=None)


def test_a_source_with_another_tokenizer_is_refused(tokens, tmp_path, shared_data):
    save_tiny_checkpoint(tmp_path / "gpt2.pt", shared_data)  # GPT-2's tokenizer; the dataset has a 512 BPE
    with pytest.raises(InitFromError, match="tokenizer 'gpt2'.*the token ids mean different things"):
        train(parse_config(continued(tokens, tmp_path / "run", tmp_path / "gpt2.pt")), echo=None)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_classifier_checkpoint_is_refused_by_kind(tokens, source_run, tmp_path):
    saved = read_checkpoint(source_run.checkpoint, ("pretrain",), "test")
    save_checkpoint({"model": saved["model"], "config": saved["config"], "tokenizer": saved["tokenizer"],
                     "classifier": {"labels": ["a", "b"]}}, tmp_path / "classifier.pt", CLASSIFIER)
    with pytest.raises(InitFromError, match="'classifier' checkpoint .* needs kind 'pretrain' or 'instruct'"):
        train(parse_config(continued(tokens, tmp_path / "run", tmp_path / "classifier.pt")), echo=None)


def test_a_weights_only_folder_says_how_to_import_it(tokens, source_run, tmp_path, capsys):
    folder = export_checkpoint(source_run.checkpoint, tmp_path / "hf")
    for name in ("tokenizer.json", "refinery_tokenizer.json"):
        (folder / name).unlink()
    config = write_config(tmp_path / "c.yaml", continued(tokens, tmp_path / "run", folder))
    assert main([str(config)]) == 2
    error = capsys.readouterr().err
    assert "no tokenizer we can read" in error and "python -m model.hf_interop import" in error


@pytest.mark.parametrize("model, match", [({"preset": "tiny"}, "leave model.preset out"),
                                          ({"overrides": {"n_layer": 4}}, r"not \['n_layer'\]")])
def test_a_model_section_that_changes_the_architecture_is_refused(tokens, tmp_path, model, match):
    data = {**continued(tokens, tmp_path, tmp_path / "x.pt"), "model": model}
    with pytest.raises(ConfigError, match=match):
        parse_config(data)


def test_relative_init_from_resolves_against_the_config(tokens, tmp_path):
    config = parse_config(continued(tokens, tmp_path, Path("models/x.pt")), base=tmp_path / "configs")
    assert config.init_from == str((tmp_path / "configs" / "models" / "x.pt").resolve())
    assert json.loads(json.dumps(config.model_dump(mode="json")))["init_from"] == config.init_from
