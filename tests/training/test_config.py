"""The training config: unknown keys refused, each error names the key path, the bad value and what is
allowed; relative paths resolve against the config's folder; the shipped configs validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.trainer_helpers import config_dict, write_config
from training.config import ConfigError, load_config, parse_config
from training.optim import lr_at
from pipeline.manifest import load_manifest
from training.train import batch_layout, main

REPO = Path(__file__).resolve().parents[2]


def errors_of(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "test.yaml")
    return str(info.value)


def test_unknown_keys_are_refused_with_what_is_allowed() -> None:
    data = config_dict(Path("t"), Path("o"))
    data["optim"]["learning_rate"] = 1e-3
    data["colour"] = "blue"
    message = errors_of(data)
    assert message.startswith("invalid training config test.yaml:")
    assert ("  - optim.learning_rate: unknown key; allowed here: batch_tokens, beta1, beta2, grad_clip, lr, "
            "max_steps, micro_batch, min_lr, warmup_steps, weight_decay") in message
    assert ("  - colour: unknown key; allowed here: checkpoint, data, eval, init_from, model, optim, out_dir, seed, "
            "system") in message


def test_bad_values_name_the_key_the_value_and_the_rule() -> None:
    message = errors_of(config_dict(Path("t"), Path("o"), optim={"lr": -1, "max_steps": "many"},
                                    system={"dtype": "float16"}, model={"preset": "huge"}))
    assert "  - optim.lr: Input should be greater than 0 (got -1)" in message
    assert "  - optim.max_steps: Input should be a valid integer, unable to parse string as an integer " \
           '(got "many")' in message
    assert "  - system.dtype: Input should be 'auto', 'float32' or 'bfloat16' (got \"float16\")" in message
    assert "  - model.preset: Input should be 'tiny', 'cpu-small' or 'gpt2-124m' (got \"huge\")" in message


def test_cross_field_and_model_override_errors() -> None:
    assert "optim: min_lr (0.1) must not exceed lr (0.01)" in errors_of(
        config_dict(Path("t"), Path("o"), optim={"lr": 0.01, "min_lr": 0.1}))
    assert "model: unknown GPTConfig fields ['n_layers']" in errors_of(
        config_dict(Path("t"), Path("o"), model={"preset": "tiny", "overrides": {"n_layers": 3}}))
    assert "n_embd=102 is not divisible by n_head=4" in errors_of(
        config_dict(Path("t"), Path("o"), model={"preset": "tiny", "overrides": {"n_embd": 102}}))


def test_missing_sections_and_non_mapping() -> None:
    message = errors_of({"out_dir": "o"})
    assert "  - data: required key is missing" in message and "  - optim: required key is missing" in message
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_config([1, 2], "list.yaml")


def test_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path / "sub" / "c.yaml", config_dict(Path("../tokens"), Path("runs/x")))
    config = load_config(path)
    assert config.data.dataset == str(tmp_path / "tokens")
    assert config.out_dir == str(tmp_path / "sub" / "runs" / "x")


def test_shipped_demo_config_validates() -> None:
    config = load_config(REPO / "training" / "configs" / "demo.yaml")
    assert config.model.preset == "cpu-small"
    assert config.data.dataset == str(REPO / "runs" / "demo" / "tokens")
    assert (config.system.dtype, config.system.compile) == ("auto", "auto")


def test_command_line_reports_errors_without_a_traceback(tmp_path: Path, capsys) -> None:
    data = config_dict(tmp_path / "tokens", tmp_path / "out")
    data["optim"]["lrr"] = 1
    assert main([str(write_config(tmp_path / "bad.yaml", data))]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid training config {tmp_path / 'bad.yaml'}:\n  - optim.lrr: unknown key")
    assert main([str(tmp_path / "absent.yaml")]) == 2
    assert "training config" in capsys.readouterr().err
    (tmp_path / "broken.yaml").write_text("optim: [unclosed")
    assert main([str(tmp_path / "broken.yaml")]) == 2
    assert "is not valid YAML" in capsys.readouterr().err


def test_lr_schedule_worked_example() -> None:
    """The example in training/optim.py's docstring."""
    schedule = dict(lr=1e-3, min_lr=1e-4, warmup_steps=10, max_steps=110)
    assert lr_at(0, **schedule) == pytest.approx(1e-4)
    assert lr_at(9, **schedule) == pytest.approx(1e-3)
    assert lr_at(60, **schedule) == pytest.approx(5.5e-4)
    assert lr_at(110, **schedule) == lr_at(500, **schedule) == 1e-4
    values = [lr_at(s, **schedule) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_shipped_gpt2_124m_config_is_the_documented_recipe() -> None:
    """GPT-2 small, 0.5 M tokens per step by accumulation, 6e-4 peak with warm-up and cosine, bf16, compiled;
    19,073 steps = the 10 B-token budget its comments state, split 4 micro-steps x 16 sequences on 8 GPUs."""
    config = load_config(REPO / "training" / "configs" / "gpt2-124m.yaml")
    assert config.model.preset == "gpt2-124m" and not config.model.overrides
    assert config.data.dataset == str(REPO / "runs" / "demo-gpt2" / "tokens")
    optim = config.optim
    assert (optim.batch_tokens, optim.lr, optim.min_lr, optim.warmup_steps) == (2**19, 6e-4, 6e-5, 700)
    assert optim.max_steps * optim.batch_tokens == 9_999_745_024  # "about 10 B"
    assert batch_layout(config, 1024, 8) == (512, 4) and batch_layout(config, 1024, 1) == (512, 32)
    assert (config.system.device, config.system.dtype, config.system.compile) == ("cuda", "bfloat16", True)
    assert config.eval.batch_size % 8 == 0
    assert lr_at(0, lr=6e-4, min_lr=6e-5, warmup_steps=700, max_steps=optim.max_steps) < 1e-6
    assert load_manifest(REPO / "manifests" / "demo-gpt2.yaml").run_dir == REPO / "runs" / "demo-gpt2"
