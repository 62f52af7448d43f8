"""The trainer end to end on real shards: it overfits a fixed batch, its loss falls, its metrics are
complete, its checkpoints load with weights_only and generate text, and its errors are clear."""

from __future__ import annotations

import math
from typing import Any
from pathlib import Path

import pytest
import torch

from contracts.token_dataset import DatasetError, TokenDataset
from model.checkpoint_io import load_checkpoint
from model.generate import main as generate_main
from model.gpt import GPT
from tests.training.trainer_helpers import bpe_dataset, config_dict, train_losses
from training.config import parse_config
from training.metrics import read_metrics
from training.optim import lr_at
from training.sampler import MixtureSampler
from training.train import batch_layout, model_config, train


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpe_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def finished_run(tokens: Path, tmp_path_factory: pytest.TempPathFactory):
    """40 steps of the tiny model on the three book sources (a few seconds)."""
    out = tmp_path_factory.mktemp("run")
    config = parse_config(config_dict(tokens, out, optim={"max_steps": 40}, eval={"every": 20}))
    return config, train(config, echo=None)


def test_overfits_one_fixed_batch(tokens: Path) -> None:
    """The model, optimiser groups and schedule the trainer builds can memorise one real batch."""
    config = parse_config(config_dict(tokens, Path("unused")))
    dataset = TokenDataset.open(tokens)
    gpt_config = model_config(config, dataset)
    torch.manual_seed(0)
    model = GPT(gpt_config)
    optimizer = model.configure_optimizer(0.0, 3e-3, (0.9, 0.95), "cpu")
    sampler = MixtureSampler(dataset, context_length=gpt_config.context_length, global_batch=8, seed=1)
    x, y = sampler.batch(0)
    losses = []
    for step in range(80):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, lr=3e-3, min_lr=3e-3, warmup_steps=5, max_steps=80)
        _, loss = model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(gpt_config.vocab_size), abs=0.3)  # uniform at start
    assert losses[-1] < 0.5, losses[::10]


def test_loss_falls_on_real_shards(finished_run) -> None:
    config, result = finished_run
    losses = [loss for _, loss in train_losses(result.metrics)]
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < losses[0] - 0.7, losses  # ln(512) = 6.24 to below the unigram level
    evals = read_metrics(result.metrics, "eval")
    assert [e["step"] for e in evals] == [0, 20, 40]
    assert evals[-1]["val_loss_overall"] < evals[0]["val_loss_overall"] - 0.7
    assert set(evals[-1]["val_loss"]) == {"books", "plays", "dictionary"}
    assert result.step == 40 and result.last_eval == {k: v for k, v in evals[-1].items() if k not in ("kind", "step")}


def test_metrics_records_are_complete(finished_run) -> None:
    config, result = finished_run
    start = read_metrics(result.metrics, "start")
    assert len(start) == 1
    assert (start[0]["peak_flops"], start[0]["peak_flops_source"]) == (1e10, "config")
    assert (start[0]["global_batch"], start[0]["micro_steps"], start[0]["dtype"]) == (16, 4, "float32")
    train_records = read_metrics(result.metrics, "train")
    for record in train_records:
        assert set(record) >= {"loss", "lr", "grad_norm", "tokens_per_s", "mfu", "mixture", "tokens_seen"}
        assert record["mfu"] == pytest.approx(start[0]["flops_per_token"] * record["tokens_per_s"] / 1e10)
    assert train_records[0]["lr"] == pytest.approx(1e-3)  # warm-up: 3e-3 * 1/3
    assert train_records[-1]["lr"] == lr_at(39, lr=3e-3, min_lr=3e-4, warmup_steps=3, max_steps=40)
    assert 3e-4 < train_records[-1]["lr"] < 3.1e-4  # the cosine has nearly reached min_lr
    assert train_records[-1]["tokens_seen"] == 40 * 1024
    mixture = train_records[-1]["mixture"]  # 640 samples under the 0.5/0.3/0.2 weights of the index
    assert mixture == pytest.approx({"books": 0.5, "plays": 0.3, "dictionary": 0.2}, abs=1 / 640)


def test_checkpoint_loads_with_weights_only_and_bare_keys(finished_run) -> None:
    config, result = finished_run
    raw = torch.load(result.checkpoint, map_location="cpu", weights_only=True)
    assert not [k for k in raw["model"] if k.startswith(("module.", "_orig_mod."))]
    assert raw["trainer"] == {"version": 1, "step": 40, "tokens_seen": 40 * 1024}
    assert raw["sampler"]["samples_consumed"] == 40 * 16
    assert raw["tokenizer"]["n_vocab"] == 512 and raw["dataset"]["n_vocab"] == 512
    model, _ = load_checkpoint(result.checkpoint)
    assert model.config.vocab_size == 512


def test_generation_from_a_trainer_checkpoint_is_seeded_and_self_sufficient(finished_run, tmp_path, capsys) -> None:
    _, result = finished_run
    moved = tmp_path / "elsewhere.pt"  # the ranks file recorded in it is not needed: they are embedded
    checkpoint = torch.load(result.checkpoint, map_location="cpu", weights_only=True)
    checkpoint["tokenizer"]["ranks_path"] = str(tmp_path / "gone.tiktoken")
    torch.save(checkpoint, moved)
    texts = []
    for path in (result.checkpoint, moved, moved):
        assert generate_main(["--checkpoint", str(path), "--prompt", "The river", "--max-tokens", "30",
                              "--seed", "3", "--temperature", "1.0"]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1] == texts[2]
    assert texts[0].startswith("The river") and len(texts[0]) > len("The river") + 10
    assert generate_main(["--checkpoint", str(moved), "--prompt", "The river", "--max-tokens", "30",
                          "--seed", "4", "--temperature", "1.0"]) == 0
    assert capsys.readouterr().out != texts[0]


def test_batch_layout_refuses_sizes_that_do_not_divide(tokens: Path) -> None:
    config = parse_config(config_dict(tokens, Path("x"), optim={"batch_tokens": 1000}))
    with pytest.raises(ValueError, match="not a multiple of the context length 64; use e.g. 1024"):
        batch_layout(config, 64, 1)
    config = parse_config(config_dict(tokens, Path("x"), optim={"batch_tokens": 64 * 12, "micro_batch": 4}))
    assert batch_layout(config, 64, 1) == (12, 3)
    with pytest.raises(ValueError, match="multiple of 8"):
        batch_layout(config, 64, 2)


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    config = parse_config(config_dict(tmp_path / "no-such-tokens", tmp_path / "out"))
    with pytest.raises(DatasetError, match="no dataset index here; point at the tokenize stage's output"):
        train(config, echo=None)


def test_too_few_samples_for_max_steps_is_a_clear_error(tokens: Path, tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path / "out", optim={"max_steps": 100_000},
                                      data={"dataset": str(tokens), "max_epochs": {"books": 1, "plays": 1,
                                                                                   "dictionary": 1}}))
    with pytest.raises(IndexError, match="cannot supply 1600000 samples"):
        train(config, echo=None)


def test_vocab_smaller_than_tokenizer_is_refused(tokens: Path, tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path / "out", model={"preset": "tiny",
                                                                       "overrides": {"vocab_size": 256}}))
    with pytest.raises(ValueError, match="vocab_size=256 is smaller than the dataset's tokenizer \\(512 ids\\)"):
        train(config, echo=None)


def test_every_step_is_timed_once_and_prefetching_changes_no_number(tokens: Path, tmp_path: Path) -> None:
    """With log_every 3 each train record times the 3 steps since the previous one (the last record the 1
    left), so tokens/s counts every token; the batches prefetched on a thread give bit-identical records."""
    def run(name: str, prefetch: bool) -> Path:
        data = config_dict(tokens, tmp_path / name, optim={"max_steps": 10}, eval={"every": 4},
                           system={"device": "cpu", "threads": 1, "log_every": 3, "prefetch": prefetch})
        del data["system"]["peak_flops"]  # CPU: MFU against the matmul measured at start-up
        return train(parse_config(data), echo=None).metrics

    on, off = run("on", True), run("off", False)
    records = read_metrics(on, "train")
    assert [(r["step"], r["timed_steps"]) for r in records] == [(3, 3), (6, 3), (9, 3), (10, 1)]
    for record in records:  # tokens/s x seconds = the window's tokens
        seconds = record["step_ms"] * record["timed_steps"] / 1000
        assert record["tokens_per_s"] * seconds == pytest.approx(record["timed_steps"] * 1024)
    start = read_metrics(on, "start")[0]
    assert start["peak_flops_source"] == "measured" and start["peak_flops"] == start["measured_peak_flops"] > 0
    assert (start["prefetch"], read_metrics(off, "start")[0]["prefetch"]) == (True, False)
    timing = {"tokens_per_s", "mfu", "mfu_measured", "step_ms"}

    def untimed(path: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in timing} for r in read_metrics(path) if r["kind"] != "start"]

    assert untimed(on) == untimed(off)


COMPILED: list[list[tuple]] = []
"""Per graph dynamo compiled with the recording backend: each placeholder's shape, SymInts where dynamic."""


def recording_backend(graph: torch.fx.GraphModule, example_inputs: list) -> Any:
    """A real torch.compile backend that records what dynamo hands it and runs the graph as it is."""
    values = [n.meta.get("example_value") for n in graph.graph.nodes if n.op == "placeholder"]
    COMPILED.append([tuple(v.shape) if isinstance(v, torch.Tensor) else v for v in values])
    return graph.forward


def test_evaluation_leaves_the_compiled_training_graph_static(tokens: Path, tmp_path: Path) -> None:
    """Evaluating through the compiled module with another batch size made dynamo recompile the training
    graph with a symbolic batch dimension. Now: static graphs of the training micro-batch only."""
    if "refinery_recording" not in torch._dynamo.list_backends(exclude_tags=()):
        torch._dynamo.register_backend(recording_backend, name="refinery_recording")
    COMPILED.clear()
    torch._dynamo.reset()
    config = parse_config(config_dict(tokens, tmp_path, optim={"max_steps": 4}, eval={"every": 2, "batch_size": 8},
                                      system={"device": "cpu", "threads": 1, "peak_flops": 1e10, "compile": True,
                                              "compile_backend": "refinery_recording"}))
    result = train(config, echo=None)
    assert [e["step"] for e in read_metrics(result.metrics, "eval")] == [0, 2, 4]
    assert COMPILED, "nothing was compiled"
    shapes = [s for graph in COMPILED for s in graph]
    assert not [s for s in shapes if isinstance(s, torch.SymInt) or
                (isinstance(s, tuple) and any(isinstance(d, torch.SymInt) for d in s))], COMPILED
    assert (4, 64) in shapes and (8, 64) not in shapes  # micro-batches of 4; evaluation's 8 not compiled
    torch._dynamo.reset()


def test_an_unknown_compile_backend_is_a_clear_error(tokens: Path, tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path, system={"device": "cpu", "compile": True,
                                                                "compile_backend": "inductr"}))
    with pytest.raises(ValueError, match="system.compile_backend='inductr' is not a torch.compile backend; the "
                       "backends are: .*inductor"):
        train(config, echo=None)
