"""Fine-tuning's --config FILE.yaml (training.finetune_common.parse_options on training.config.load_options):
the shipped examples load, flags override the file, paths resolve against the file, a bad file names the
file and key with exit 2, and a run records the merged settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tiny_checkpoint import save_tiny_checkpoint
from training import finetune_classify, finetune_instruct

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "training" / "configs"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("finetune-config") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def refused(parse, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What a refused command line prints, after checking it exits with status 2."""
    with pytest.raises(SystemExit) as exited:
        parse(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_the_shipped_examples_load_with_their_paths_resolved(shared_data):
    sms = finetune_classify.parse_args(["--config", str(CONFIGS / "finetune-sms.yaml")])
    assert sms.checkpoint == str(REPO / "runs" / "demo" / "train" / "checkpoint.pt")
    assert Path(sms.data).resolve() == (shared_data / "finetune" / "SMSSpamCollection").resolve()
    assert sms.labels == ("ham", "spam") and sms.max_length == 96 and sms.lr == 1e-4
    assert sms.config == str(CONFIGS / "finetune-sms.yaml")
    alpaca = finetune_instruct.parse_args(["--config", str(CONFIGS / "finetune-alpaca.yaml")])
    assert Path(alpaca.data).resolve() == (shared_data / "finetune" / "instruction-data.json").resolve()
    assert alpaca.overlong == "truncate" and alpaca.min_lr == 5e-6 and alpaca.warmup_steps == 20


def test_flags_override_the_file_and_fill_what_it_leaves_out(tmp_path):
    config = write(tmp_path / "c.yaml", "checkpoint: models/base.pt\ndata: data.tsv\nepochs: 4\nlr: 1.0e-3\n"
                   "labels: ham, spam\ntrainable_blocks: all\nresume: true\n")
    cfg = finetune_classify.parse_args(["--config", str(config), "--epochs", "2", "--out", "o",
                                        "--data", "elsewhere.tsv"])
    assert cfg.epochs == 2 and cfg.data == "elsewhere.tsv" and cfg.out == "o"  # the command line's, as given
    assert cfg.lr == 1e-3 and cfg.labels == ("ham", "spam") and cfg.trainable_blocks is None and cfg.resume
    assert cfg.checkpoint == str(tmp_path / "models" / "base.pt")  # the file's path, relative to the file
    plain = finetune_classify.parse_args(["--checkpoint", "c.pt", "--data", "d.tsv", "--out", "o"])
    assert plain.config is None and plain.epochs == 3  # no file: the defaults, as before


@pytest.mark.parametrize("parse, text, expected", [
    (finetune_classify.parse_args, "epoch: 2\n",
     ["  - epoch: unknown key; allowed here: balanced, batch_size, checkpoint,"]),
    (finetune_classify.parse_args, "batch_size: many\nformat: xml\ntrainable_blocks: some\n",
     ["  - batch_size: Input should be a valid integer, unable to parse string as an integer (got \"many\")",
      "  - format: Input should be 'tsv', 'csv' or 'jsonl' (got \"xml\")",
      "  - trainable_blocks: expected 'all' or a number of last blocks, got 'some'"]),
    (finetune_instruct.parse_args, "overlong: cut\ntrain_on_prompt: maybe\nlr: [1]\n",
     ["  - overlong: Input should be 'skip' or 'truncate' (got \"cut\")",
      "  - train_on_prompt: Input should be a valid boolean", "  - lr: Input should be a valid number"]),
    (finetune_instruct.parse_args, "stop_after: 3\n", ["  - stop_after: unknown key"]),  # not an option
])
def test_a_bad_file_names_the_file_and_each_key(tmp_path, capsys, parse, text, expected):
    config = write(tmp_path / "bad.yaml", "checkpoint: c.pt\ndata: d\nout: o\n" + text)
    err = refused(parse, ["--config", str(config)], capsys)
    assert err.startswith(f"error: invalid fine-tuning config {config}:")
    for line in expected:
        assert line in err, err
    assert "Traceback" not in err


def test_unreadable_files_and_refused_values_exit_2(tmp_path, capsys):
    parse = finetune_instruct.parse_args
    assert "fine-tuning config" in refused(parse, ["--config", str(tmp_path / "none.yaml")], capsys)
    listed = write(tmp_path / "list.yaml", "- epochs\n")
    assert "must be a mapping of option names" in refused(parse, ["--config", str(listed)], capsys)
    broken = write(tmp_path / "broken.yaml", "epochs: [1\n")
    assert "is not valid YAML" in refused(parse, ["--config", str(broken)], capsys)
    missing = write(tmp_path / "missing.yaml", "data: d.json\nout: o\n")
    assert "required: --checkpoint" in refused(parse, ["--config", str(missing)], capsys)
    zero = write(tmp_path / "zero.yaml", "checkpoint: c.pt\ndata: d\nout: o\nepochs: 0\n")
    err = refused(finetune_classify.parse_args, ["--config", str(zero)], capsys)
    assert f"epochs and batch_size must be positive (settings from {zero} and the command line)" in err


def test_a_run_records_the_merged_settings(tmp_path, tiny_checkpoint, shared_data):
    data = tmp_path / "sms.tsv"
    lines = (shared_data / "finetune" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()[:120]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write(tmp_path / "run.yaml", f"checkpoint: {tiny_checkpoint}\ndata: sms.tsv\nout: run\n"
                   "labels: [ham, spam]\nepochs: 1\nmax_steps: 5\nbatch_size: 8\nmax_length: 24\nthreads: 1\n")
    assert finetune_classify.main(["--config", str(config), "--max-steps", "2"]) == 0
    out = tmp_path / "run"
    recorded = json.loads((out / "metrics.json").read_text())["config"]
    assert recorded["max_steps"] == 2 and recorded["batch_size"] == 8 and recorded["data"] == str(data)
    assert recorded["labels"] == ["ham", "spam"] and recorded["config"] == str(config)
    start = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert start["kind"] == "start" and start["config"]["max_steps"] == 2 and start["config"]["config"] == str(config)
    # the resume check compares settings, not where they came from: the same settings as flags resume
    assert finetune_classify.main(["--checkpoint", str(tiny_checkpoint), "--data", str(data), "--out", str(out),
                                   "--labels", "ham,spam", "--epochs", "1", "--max-steps", "2", "--batch-size", "8",
                                   "--max-length", "24", "--threads", "1", "--resume"]) == 0
