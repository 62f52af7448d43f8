"""Every tool meets a bad or malicious checkpoint with one clear line and exit status 2, no traceback:
model.generate, model.serve, model.hf_interop export, both fine-tuners and training.train --resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from model.checkpoint_io import CheckpointLoadError, load_checkpoint
from model.generate import main as generate_main
from tests.tiny_checkpoint import save_tiny_checkpoint
from tests.training.trainer_helpers import bpe_dataset, config_dict, write_config

REPO = Path(__file__).resolve().parents[2]


class Payload:
    """Would create a file when unpickled without ``weights_only``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - the classic pickle exploit
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def malicious(tmp_path: Path) -> Path:
    path = tmp_path / "evil" / "checkpoint.pt"
    path.parent.mkdir()
    torch.save({"model": {}, "config": Payload(tmp_path / "pwned")}, path)
    return path


def run_tool(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def assert_one_line_exit_2(done: subprocess.CompletedProcess, path: Path) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and str(path) in lines[0], done.stderr[-2000:]


@pytest.mark.slow
def test_every_tool_refuses_a_malicious_checkpoint_in_one_line(malicious: Path, tmp_path: Path,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    classify = tmp_path / "classify.jsonl"
    classify.write_text("\n".join(json.dumps({"text": f"text {i}", "label": "ab"[i % 2]}) for i in range(20)))
    instruct = tmp_path / "instruct.jsonl"
    instruct.write_text("\n".join(json.dumps({"instruction": f"say {i}", "output": "ok"}) for i in range(20)))
    commands = {
        "generate": ["model.generate", "--checkpoint", str(malicious), "--prompt", "The"],
        "serve": ["model.serve", "--checkpoint", str(malicious), "--port", "0"],
        "export": ["model.hf_interop", "export", "--checkpoint", str(malicious), "--out", str(tmp_path / "hf")],
        "finetune_classify": ["training.finetune_classify", "--checkpoint", str(malicious), "--data",
                              str(classify), "--out", str(tmp_path / "cls")],
        "finetune_instruct": ["training.finetune_instruct", "--checkpoint", str(malicious), "--data",
                              str(instruct), "--out", str(tmp_path / "ins")],
        "classify": ["training.classify", str(malicious), "--text", "hello"],
    }
    # train --resume finds the malicious file as the run's own checkpoint.
    config = write_config(tmp_path / "train.yaml", config_dict(bpe_dataset(tmp_path_factory), malicious.parent))
    commands["train --resume"] = ["training.train", str(config), "--resume"]
    # ... and a new run names it as the weights to start from.
    data = config_dict(bpe_dataset(tmp_path_factory), tmp_path / "continued")
    del data["model"]
    config = write_config(tmp_path / "continue.yaml", {**data, "init_from": str(malicious)})
    commands["train init_from"] = ["training.train", str(config)]
    # The tools are independent processes (each mostly importing torch): two at a time, one per core of the
    # 2-core CI machine, instead of one after the other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for result in pool.map(run_tool, commands.values()):
            assert_one_line_exit_2(result, malicious)
    assert not (tmp_path / "pwned").exists(), "the payload never ran"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not_a_dict", "wrong_config", "wrong_weights"])
def test_damaged_checkpoints_end_in_one_line_and_exit_2(shared_data: Path, tmp_path: Path, damage: str,
                                                        capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "checkpoint.pt"
    save_tiny_checkpoint(path, shared_data)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    elif damage == "not_a_dict":
        torch.save([1, 2, 3], path)
    else:
        checkpoint = torch.load(path, weights_only=True)
        if damage == "wrong_config":
            checkpoint["config"] = {"n_layer": "many"}
        else:
            checkpoint["model"] = {"wte.weight": torch.zeros(3)}
        torch.save(checkpoint, path)
    with pytest.raises((CheckpointLoadError, ValueError, KeyError)):
        load_checkpoint(path)
    with pytest.raises(SystemExit) as caught:
        generate_main(["--checkpoint", str(path), "--prompt", "The"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: checkpoint {path}"), err


def test_resume_from_weights_of_the_wrong_shape_ends_in_one_line(tmp_path: Path,
                                                                 tmp_path_factory: pytest.TempPathFactory,
                                                                 capsys: pytest.CaptureFixture) -> None:
    """The config matches (so resume gets past its checks) but a tensor does not fit the model."""
    from training.config import load_config
    from training.train import main as train_main
    from training.train import train

    out = tmp_path / "run"
    config = write_config(tmp_path / "train.yaml", config_dict(bpe_dataset(tmp_path_factory), out))
    train(load_config(config), stop_after=7, echo=None)  # as if killed after the step-5 checkpoint
    path = out / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    name = next(iter(checkpoint["model"]))
    checkpoint["model"][name] = torch.zeros(3)
    torch.save(checkpoint, path)
    capsys.readouterr()
    assert train_main([str(config), "--resume"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and str(path) in lines[0] and "do not fit this model" in lines[0], err
