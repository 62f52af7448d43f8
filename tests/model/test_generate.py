"""model.generate and model.checkpoint_io: cache-equivalent sampling, determinism, filters, stop tokens,
checkpoint loading and the command line on a real GPT-2 tokenizer."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from model.checkpoint_io import load_checkpoint
from model.engine import generate, sample_next, top_k_filter, top_p_filter
from model.generate import main
from model.tokenizer import build_tokenizer
from model.gpt import GPT, GPTConfig

POSITIONS = ("learned", "sinusoidal", "rotary")
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_END_OF_TEXT = 50256


def tiny(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("tiny", **overrides)).eval()


def prompt(batch: int = 2, length: int = 5) -> torch.Tensor:
    return torch.randint(0, 512, (batch, length), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("positions", POSITIONS)
@pytest.mark.parametrize("sampling", [dict(temperature=0.0), dict(temperature=1.0, seed=3),
                                      dict(temperature=0.9, top_k=50, top_p=0.9, seed=4)])
def test_kv_cache_generation_equals_recomputation(positions, sampling):
    """90 new tokens after a 5-token prompt cross the 64-token context, so the fallback is covered too."""
    model = tiny(positions=positions)
    with_cache = generate(model, prompt(), 90, use_kv_cache=True, **sampling)
    without_cache = generate(model, prompt(), 90, use_kv_cache=False, **sampling)
    assert with_cache.shape == (2, 95)
    assert torch.equal(with_cache, without_cache)
    assert torch.equal(with_cache[:, :5], prompt())


def test_prompt_longer_than_context_is_cropped():
    model = tiny()
    long_prompt = prompt(batch=1, length=100)
    out = generate(model, long_prompt, 3, temperature=0.0)
    reference = generate(model, long_prompt[:, -64:], 3, temperature=0.0, use_kv_cache=False)
    assert torch.equal(out[:, 100:], reference[:, 64:])


def test_seeded_generation_is_deterministic_and_ignores_global_rng():
    model = tiny()
    first = generate(model, prompt(), 20, temperature=1.0, seed=7)
    torch.manual_seed(12345)
    torch.rand(10)
    assert torch.equal(first, generate(model, prompt(), 20, temperature=1.0, seed=7))
    assert not torch.equal(first, generate(model, prompt(), 20, temperature=1.0, seed=8))
    generator = torch.Generator().manual_seed(7)
    assert torch.equal(first, generate(model, prompt(), 20, temperature=1.0, generator=generator))
    with pytest.raises(ValueError, match="either seed or generator"):
        generate(model, prompt(), 1, seed=1, generator=torch.Generator())


def test_generation_restores_training_mode():
    model = tiny(dropout=0.5).train()
    first = generate(model, prompt(), 10, temperature=0.0)
    assert model.training
    assert torch.equal(first, generate(model, prompt(), 10, temperature=0.0))  # dropout was off


def test_stop_token_ends_generation_and_pads_finished_rows():
    model = tiny()
    greedy = generate(model, prompt(), 10, temperature=0.0)
    stop = int(greedy[0, 7])  # row 0's third new token
    out = generate(model, prompt(), 10, temperature=0.0, stop_token=stop)
    row0 = out[0, 5:].tolist()
    assert row0[:3] == greedy[0, 5:8].tolist()
    assert all(t == stop for t in row0[row0.index(stop):])
    if stop not in greedy[1, 5:].tolist():
        assert out.shape[1] == greedy.shape[1]  # row 1 never stops, so no early end


def test_top_k_keeps_the_k_largest():
    logits = torch.tensor([[1.0, 5.0, 3.0, 4.0, 2.0]])
    kept = top_k_filter(logits, 2)
    assert torch.isfinite(kept).tolist() == [[False, True, False, True, False]]
    assert torch.equal(kept[0, [1, 3]], logits[0, [1, 3]])
    assert torch.isfinite(top_k_filter(logits, 100)).all()  # k beyond the vocabulary keeps everything


def test_top_p_keeps_the_smallest_nucleus():
    probs = torch.tensor([[0.05, 0.5, 0.25, 0.15, 0.05]])
    logits = probs.log()
    assert torch.isfinite(top_p_filter(logits, 0.6)).tolist() == [[False, True, True, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.4)).tolist() == [[False, True, False, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.85)).tolist() == [[False, True, True, True, False]]
    assert torch.isfinite(top_p_filter(logits, 1.0)).all()
    with pytest.raises(ValueError):
        top_p_filter(logits, 0.0)


def test_sampling_respects_filters_and_greedy():
    logits = torch.tensor([[0.0, 3.0, 2.9, -1.0]]).repeat(500, 1)
    generator = torch.Generator().manual_seed(0)
    assert sample_next(logits, 0.0).unique().tolist() == [1]
    assert set(sample_next(logits, 1.0, top_k=2, generator=generator).unique().tolist()) == {1, 2}
    assert set(sample_next(logits, 1.0, generator=generator).unique().tolist()) == {0, 1, 2, 3}


def save_tiny_checkpoint(path, model: GPT, prefix: str = "", ranks_path=None) -> None:
    torch.save({
        "model": {prefix + key: value for key, value in model.state_dict().items()},
        "config": dataclasses.asdict(model.config),
        "tokenizer": {"name": "gpt2", "ranks_path": str(ranks_path or path.parent / "missing.tiktoken"),
                      "pattern": GPT2_PATTERN, "special_tokens": {"<|endoftext|>": GPT2_END_OF_TEXT}},
        "step": 17,
    }, path)


@pytest.mark.parametrize("prefix", ["", "_orig_mod.", "module._orig_mod."])
def test_load_checkpoint_strips_wrapper_prefixes(tmp_path, prefix):
    model = tiny(positions="rotary")
    path = tmp_path / "ckpt.pt"
    save_tiny_checkpoint(path, model, prefix)
    loaded, checkpoint = load_checkpoint(path)
    assert checkpoint["step"] == 17 and loaded.config == model.config and not loaded.training
    assert loaded.lm_head.weight is loaded.tok_emb.weight
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_load_checkpoint_explains_what_is_missing(tmp_path):
    path = tmp_path / "bad.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(KeyError, match="lacks \\['config'\\]"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.fixture
def gpt2_checkpoint(tmp_path, shared_data):
    ranks = shared_data / "tokenizers" / "gpt2.tiktoken"
    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("tiny", vocab_size=50304))
    path = tmp_path / "gpt2-tiny.pt"
    save_tiny_checkpoint(path, model, ranks_path=ranks)
    return path, ranks


def test_build_tokenizer_reproduces_gpt2(gpt2_checkpoint):
    path, ranks = gpt2_checkpoint
    spec = torch.load(path, weights_only=True)["tokenizer"]
    encoding = build_tokenizer(spec)
    assert encoding.encode("Hello world") == [15496, 995]
    assert encoding.encode("<|endoftext|>", allowed_special="all") == [GPT2_END_OF_TEXT]
    moved = {**spec, "ranks_path": "/nowhere/gpt2.tiktoken"}
    with pytest.raises(FileNotFoundError, match="--ranks-path"):
        build_tokenizer(moved)
    assert build_tokenizer(moved, ranks_path=ranks).encode("Hello world") == [15496, 995]


def test_cli_main_is_seeded(gpt2_checkpoint, capsys):
    path, ranks = gpt2_checkpoint
    argv = ["--checkpoint", str(path), "--ranks-path", str(ranks), "--prompt", "The river",
            "--max-tokens", "8", "--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "5"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith("The river") and len(first) > len("The river\n")
    main(argv)
    assert capsys.readouterr().out == first


def test_cli_runs_as_module(gpt2_checkpoint, repo_root):
    path, _ = gpt2_checkpoint
    result = subprocess.run(
        [sys.executable, "-m", "model.generate", "--checkpoint", str(path),
         "--prompt", "Once upon a time", "--max-tokens", "5", "--temperature", "0"],
        cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Once upon a time")


def _greedy_completion(path, ranks, text: str, max_tokens: int = 6) -> str:
    model, checkpoint = load_checkpoint(path)
    encoding = build_tokenizer(checkpoint["tokenizer"], ranks)
    ids = encoding.encode(text, allowed_special="all")
    out = generate(model, torch.tensor([ids]), max_tokens, temperature=0.0, stop_token=GPT2_END_OF_TEXT)
    return encoding.decode([t for t in out[0, len(ids):].tolist() if t < encoding.n_vocab and t != GPT2_END_OF_TEXT])


def test_cli_wraps_prompts_in_the_checkpoints_template(gpt2_checkpoint, capsys):
    from model.templates import alpaca_prompt

    path, ranks = gpt2_checkpoint
    checkpoint = torch.load(path, weights_only=True)
    torch.save({**checkpoint, "prompt_template": "alpaca"}, path)  # as instruction tuning records it
    argv = ["--checkpoint", str(path), "--ranks-path", str(ranks), "--prompt", "Name a river.",
            "--max-tokens", "6", "--temperature", "0"]
    assert main(argv) == 0  # --template auto: the checkpoint's alpaca
    assert capsys.readouterr().out == _greedy_completion(path, ranks, alpaca_prompt("Name a river.")) + "\n"
    assert main(argv + ["--template", "none"]) == 0  # a raw continuation of the prompt
    assert capsys.readouterr().out == "Name a river." + _greedy_completion(path, ranks, "Name a river.") + "\n"


def test_cli_prompt_file_and_samples_write_one_json_line_each(gpt2_checkpoint, tmp_path, capsys):
    import json

    path, ranks = gpt2_checkpoint
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("The river\n\nOnce upon a time\n")
    argv = ["--checkpoint", str(path), "--ranks-path", str(ranks), "--prompt-file", str(prompts),
            "--num-samples", "3", "--max-tokens", "5", "--temperature", "1.0", "--seed", "11"]
    assert main(argv) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["prompt"], r["sample"], r["seed"]) for r in rows] == [
        (p, s, 11 + s) for p in ("The river", "Once upon a time") for s in range(3)]
    assert len({r["completion"] for r in rows[:3]}) > 1  # different seeds, different samples
    single = ["--checkpoint", str(path), "--ranks-path", str(ranks), "--prompt", "Once upon a time",
              "--max-tokens", "5", "--temperature", "1.0", "--seed", "12"]
    assert main(single) == 0  # sample 1 of a prompt is what that prompt gives alone with seed + 1
    assert capsys.readouterr().out == "Once upon a time" + rows[4]["completion"] + "\n"
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(path), "--num-samples", "0"])
