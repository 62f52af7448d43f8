"""Periodic evaluation, best / last checkpoints and --resume for both fine-tuning commands: a run stopped
after k steps and resumed ends with the uninterrupted run's weights, losses and history; a resume with
other settings or data is refused, naming what changed. The model has dropout, so the random state has
to be carried too."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from model.checkpoint_io import load_checkpoint, read_checkpoint
from pipeline.report.html import _training
from pipeline.report.training import collect_training
from tests.tiny_checkpoint import save_tiny_checkpoint
from training.finetune_classify import ClassifyConfig, finetune_classifier, load_classifier
from training.finetune_classify import main as classify_main
from training.finetune_instruct import InstructConfig, finetune_instructions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("resume") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data, context_length=128, dropout=0.1)
    return path


@pytest.fixture(scope="module")
def sms(shared_data: Path) -> Path:
    return shared_data / "finetune" / "SMSSpamCollection"


@pytest.fixture(scope="module")
def instructions(shared_data: Path) -> Path:
    return shared_data / "finetune" / "instruction-data.json"


def classify(checkpoint: Path, data: Path, out: Path, **overrides) -> ClassifyConfig:
    """70 training texts in batches of 8: 9 steps an epoch, 18 in two; a cosine schedule and balanced
    sampling, so the step count and the sampling generator both matter on resume."""
    settings = {"limit": 100, "epochs": 2, "batch_size": 8, "max_length": 24, "lr": 1e-3, "min_lr": 1e-4,
                "balanced": True, "eval_every": 4, "threads": 1, **overrides}
    return ClassifyConfig(checkpoint=str(checkpoint), data=str(data), out=str(out), **settings)


def records(out: Path, kind: str) -> list[dict]:
    return [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == kind]


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def classifier_whole(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path,
                     sms: Path) -> tuple[dict, Path]:
    """The uninterrupted classifier run with ``classify``'s settings (its metrics and its folder, ``run``):
    trained once, read by the evaluation test and the reference of both stopped-run tests (the run is
    deterministic: the same settings give the same weights and records in any folder)."""
    out = tmp_path_factory.mktemp("classifier-whole") / "run"
    return finetune_classifier(classify(tiny_checkpoint, sms, out), log=lambda _: None), out


def test_classifier_evaluates_every_n_steps_and_keeps_best_and_last(classifier_whole):
    metrics, out = classifier_whole
    tmp_path = out.parent
    evals = records(out, "eval")
    assert [r["step"] for r in evals] == [4, 8, 9, 12, 16, 18]  # every 4 steps and at each epoch's end
    assert all({"val_loss", "val_accuracy"} <= set(r) for r in evals)
    assert [r["step"] for r in metrics["history"]] == [r["step"] for r in evals]
    best = max(evals, key=lambda r: (r["val_accuracy"], -r["val_loss"]))
    saved_best = read_checkpoint(out / "best.pt", ("classifier",), "test")
    assert saved_best["best"]["step"] == best["step"] and saved_best["kind"] == "classifier"
    last = read_checkpoint(out / "last.pt", ("classifier",), "test")
    assert last["resume"]["step"] == 18
    assert same_weights(last["model"], torch.load(out / "classifier.pt", weights_only=True)["model"])
    assert load_classifier(out / "best.pt").labels == ["ham", "spam"]  # the tools open both

    # python -m pipeline report --train-dir <out> draws the fine-tuning curves from the same file
    training = collect_training(tmp_path, out, [])
    assert training["files"] == ["run/metrics.jsonl"]
    groups = {name: series["group"] for name, series in training["series"].items()}
    assert groups["train/loss"] == groups["eval/val_loss"] == "loss" and groups["train/lr"] == "lr"
    assert groups["eval/val_accuracy"] == "accuracy"
    assert training["series"]["eval/val_accuracy"]["x"] == [4, 8, 9, 12, 16, 18]
    page = _training({"training": training})
    assert page.count("<img") == 3 and "validation accuracy" in page  # loss, accuracy, learning rate


@pytest.mark.parametrize("stop_after", [7, 11])  # last.pt from step 4 (mid-epoch) / step 9 (epoch's end)
def test_a_stopped_classifier_run_resumes_to_the_uninterrupted_weights(tmp_path, tiny_checkpoint, sms,
                                                                        stop_after, classifier_whole):
    whole, whole_dir = classifier_whole
    out = tmp_path / "stopped"
    assert finetune_classifier(classify(tiny_checkpoint, sms, out, stop_after=stop_after),
                               log=lambda _: None) == {"stopped_after": stop_after}
    assert not (out / "classifier.pt").exists()
    said: list[str] = []
    resumed = finetune_classifier(classify(tiny_checkpoint, sms, out, resume=True), log=said.append)
    assert any(line.startswith("resuming from") for line in said)
    assert same_weights(torch.load(whole_dir / "classifier.pt", weights_only=True)["model"],
                        torch.load(out / "classifier.pt", weights_only=True)["model"])
    assert resumed["history"] == whole["history"] and resumed["test"] == whole["test"]
    # metrics.jsonl reads as one run: the stopped launch's records past its checkpoint were dropped
    assert records(out, "train") == records(whole_dir, "train")
    assert records(out, "eval") == records(whole_dir, "eval")
    assert len(records(out, "start")) == 2


def test_a_lora_run_resumes_with_its_adapters_and_a_finished_run_resumes_to_the_same_file(tmp_path,
                                                                                          tiny_checkpoint, sms):
    settings = {"epochs": 1, "lora_rank": 2}
    finetune_classifier(classify(tiny_checkpoint, sms, tmp_path / "whole", **settings), log=lambda _: None)
    out = tmp_path / "stopped"
    finetune_classifier(classify(tiny_checkpoint, sms, out, stop_after=6, **settings), log=lambda _: None)
    last = read_checkpoint(out / "last.pt", ("classifier",), "test")
    assert any(k.endswith(".lora_a") for k in last["resume"]["module"])  # the adapters, to train on
    assert not any("lora" in k for k in last["model"])  # merged: a plain classifier the tools open
    finetune_classifier(classify(tiny_checkpoint, sms, out, resume=True, eval_every=2, **settings),
                        log=lambda _: None)  # how often it evaluates may change
    final = torch.load(tmp_path / "whole" / "classifier.pt", weights_only=True)["model"]
    assert same_weights(final, torch.load(out / "classifier.pt", weights_only=True)["model"])
    finetune_classifier(classify(tiny_checkpoint, sms, out, resume=True, **settings), log=lambda _: None)
    assert same_weights(final, torch.load(out / "classifier.pt", weights_only=True)["model"])  # nothing redone


def test_a_resume_with_other_settings_or_data_is_refused(tmp_path, tiny_checkpoint, sms):
    data = tmp_path / "sms.tsv"
    data.write_bytes(sms.read_bytes())
    out = tmp_path / "run"
    finetune_classifier(classify(tiny_checkpoint, data, out, stop_after=5), log=lambda _: None)
    with pytest.raises(ValueError, match=r"settings or data changed.*lr: 0\.001 then, 0\.002 now"):
        finetune_classifier(classify(tiny_checkpoint, data, out, resume=True, lr=2e-3), log=lambda _: None)
    data.write_bytes(sms.read_bytes() + b"ham\tone more line\n")
    with pytest.raises(ValueError, match=f"data file {data}: sha256"):
        finetune_classifier(classify(tiny_checkpoint, data, out, resume=True), log=lambda _: None)
    with pytest.raises(SystemExit, match="error: cannot resume from .*last.pt: the settings or data changed") as exit_:
        classify_main(["--checkpoint", str(tiny_checkpoint), "--data", str(data), "--out", str(out), "--resume"])
    assert exit_.value.code == 2  # one line, no traceback


def instruct(checkpoint: Path, data: Path, out: Path, **overrides) -> InstructConfig:
    """26 training records in batches of 4: 7 steps an epoch, the last one short (as 51 in batches of 8 were,
    at half the compute); 2 validation and 3 test records."""
    settings = {"limit": 31, "epochs": 2, "batch_size": 4, "eval_every": 3, "lr": 1e-3, "min_lr": 1e-4,
                "generate_examples": 1, "max_new_tokens": 4, "threads": 1, **overrides}
    return InstructConfig(checkpoint=str(checkpoint), data=str(data), out=str(out), **settings)


def test_a_stopped_instruction_run_resumes_to_the_uninterrupted_weights(tmp_path, tiny_checkpoint, instructions):
    whole = finetune_instructions(instruct(tiny_checkpoint, instructions, tmp_path / "whole"), log=lambda _: None)
    out = tmp_path / "stopped"
    finetune_instructions(instruct(tiny_checkpoint, instructions, out, stop_after=8), log=lambda _: None)
    assert read_checkpoint(out / "last.pt", ("instruct",), "test")["resume"]["step"] == 7  # end of epoch 1
    resumed = finetune_instructions(instruct(tiny_checkpoint, instructions, out, resume=True), log=lambda _: None)
    assert same_weights(load_checkpoint(tmp_path / "whole" / "checkpoint.pt")[0].state_dict(),
                        load_checkpoint(out / "checkpoint.pt")[0].state_dict())
    assert resumed["history"] == whole["history"] and resumed["test_loss"] == whole["test_loss"]
    assert records(out, "train") == records(tmp_path / "whole", "train")
    best = min(whole["history"], key=lambda r: r["val_loss"])
    assert read_checkpoint(out / "best.pt", ("instruct",), "test")["best"]["step"] == best["step"]
    model, saved = load_checkpoint(out / "best.pt")  # generation and serving open it
    assert saved["prompt_template"] and model.config.dropout == 0.1


def test_a_killed_run_resumes_to_the_uninterrupted_weights(tmp_path, tiny_checkpoint, instructions):
    """A real kill -9 once the first last.pt exists (the run is far from done then), then --resume.

    68 training records in batches of 4: 17 steps, the kill after step 2 leaves 15 to redo (as 136 records
    in batches of 8 did, at half the compute: what is checked does not depend on the batch's size)."""
    args = ["--checkpoint", str(tiny_checkpoint), "--data", str(instructions), "--limit", "80", "--epochs", "1",
            "--batch-size", "4", "--eval-every", "2", "--lr", "1e-3", "--generate-examples", "0", "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "training.finetune_instruct"]
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, *args, "--out", str(killed)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (killed / "last.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL and not (killed / "checkpoint.pt").exists()
    subprocess.run([*command, *args, "--out", str(killed), "--resume"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    finetune_instructions(instruct(tiny_checkpoint, instructions, tmp_path / "whole", limit=80, epochs=1,
                                   batch_size=4, eval_every=2, min_lr=None, generate_examples=0), log=lambda _: None)
    assert same_weights(load_checkpoint(tmp_path / "whole" / "checkpoint.pt")[0].state_dict(),
                        load_checkpoint(killed / "checkpoint.pt")[0].state_dict())


def ddp_phases(rank: int, ports: list[int], checkpoint: str, data: str, base: str) -> None:
    """One rank of a two-process launch, three times over: whole, stopped after 7 steps, resumed."""
    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1")
    for port, (out, extra) in zip(ports, [("whole", {}), ("stopped", {"stop_after": 7}),
                                          ("stopped", {"resume": True})]):
        os.environ["MASTER_PORT"] = str(port)
        finetune_classifier(classify(Path(checkpoint), Path(data), Path(base) / out, max_length=128, **extra),
                            log=lambda _: None)  # whole texts: the ranks' rows differ in length


def test_a_two_process_run_resumes_to_the_uninterrupted_weights(tmp_path, tiny_checkpoint, sms):
    """Under DDP each rank's dropout stream is its own (its rows differ in length): last.pt keeps every
    rank's random state, so the resumed two-process run ends where the uninterrupted one does."""
    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    mp.spawn(ddp_phases, args=(ports, str(tiny_checkpoint), str(sms), str(tmp_path)), nprocs=2, join=True)
    assert len(read_checkpoint(tmp_path / "stopped" / "last.pt", ("classifier",), "test")["resume"]["rng"]) == 2
    assert same_weights(torch.load(tmp_path / "whole" / "classifier.pt", weights_only=True)["model"],
                        torch.load(tmp_path / "stopped" / "classifier.pt", weights_only=True)["model"])
    assert records(tmp_path / "stopped", "train") == records(tmp_path / "whole", "train")
