"""model.hf_interop against transformers' own GPT2LMHeadModel (random weights; no network): import gives
its logits, export loads in it with our logits, round trips are exact, and what GPT-2's layout cannot
hold is refused with the reason."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

import transformers  # test-only dependency (the `test` extra); `make test` installs it

from model.checkpoint_io import load_checkpoint  # noqa: E402
from model.tokenizer import build_tokenizer  # noqa: E402
from model.hf_interop import LayoutError, export_checkpoint, import_hf, main  # noqa: E402
from tests.tiny_checkpoint import save_tiny_checkpoint  # noqa: E402

TOLERANCE = 1e-4


def random_gpt2(activation: str = "gelu_new", seed: int = 0) -> "transformers.GPT2LMHeadModel":
    """A small GPT-2 with every weight random, biases and LayerNorms included, so no mapping hides."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=50257, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                                     activation_function=activation, resid_pdrop=0.0, embd_pdrop=0.0,
                                     attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "ln" in name or name.endswith("bias"):
                param.add_(torch.randn_like(param) * 0.2)
    return model


def tokens(n: int = 48, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 50257, (2, n), generator=torch.Generator().manual_seed(seed))


def hf_logits(model, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(idx).logits


def our_logits(model, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(idx, all_logits=True)[0]


@pytest.mark.parametrize("activation", ["gelu_new", "gelu", "relu"])
def test_import_matches_transformers_logits(tmp_path, shared_data, activation):
    reference = random_gpt2(activation)
    reference.save_pretrained(tmp_path / "hf")
    out = import_hf(tmp_path / "hf", tmp_path / "imported.pt", shared_data / "tokenizers" / "gpt2.tiktoken")
    ours, checkpoint = load_checkpoint(out)
    assert ours.config.activation == {"gelu_new": "gelu_tanh", "gelu": "gelu", "relu": "relu"}[activation]
    assert ours.config.bias and ours.config.tie_embeddings and ours.config.context_length == 64
    idx = tokens()
    assert (our_logits(ours, idx) - hf_logits(reference, idx)).abs().max() < TOLERANCE
    assert build_tokenizer(checkpoint["tokenizer"]).encode("Hello world") == [15496, 995]

    # ... and back out: transformers loads the export and computes the same logits again.
    export_checkpoint(out, tmp_path / "hf_again")
    again = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf_again").eval()
    assert (hf_logits(again, idx) - hf_logits(reference, idx)).abs().max() < TOLERANCE


@pytest.mark.parametrize("overrides", [{}, {"activation": "gelu_tanh", "bias": True}, {"activation": "relu"}])
def test_export_loads_in_transformers_with_our_logits(tmp_path, shared_data, overrides):
    """The tiny preset has no biases: exported as zeros, the function is unchanged."""
    ours = save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data, **overrides)
    with torch.no_grad():
        for param in ours.parameters():  # LayerNorm gains of exactly 1 would hide a missing LayerNorm
            param.add_(torch.randn_like(param) * 0.05)
    torch.save({**torch.load(tmp_path / "tiny.pt", weights_only=True), "model": ours.state_dict()},
               tmp_path / "tiny.pt")
    folder = export_checkpoint(tmp_path / "tiny.pt", tmp_path / "hf")
    config = json.loads((folder / "config.json").read_text())
    assert config["activation_function"] == {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu"}[
        ours.config.activation]
    assert config["eos_token_id"] == 50256
    theirs = transformers.GPT2LMHeadModel.from_pretrained(folder).eval()
    idx = tokens()
    assert (hf_logits(theirs, idx) - our_logits(ours, idx)).abs().max() < TOLERANCE

    back, checkpoint = load_checkpoint(import_hf(folder, tmp_path / "back.pt"))  # tokenizer from the export
    assert (our_logits(back, idx) - our_logits(ours, idx)).abs().max() < TOLERANCE
    assert checkpoint["tokenizer"]["ranks_path"].endswith("gpt2.tiktoken")


def test_import_converts_vocab_json_and_merges(tmp_path, shared_data):
    """A folder as downloaded (vocab.json + merges.txt, no .tiktoken): the tokenizer is converted."""
    random_gpt2().save_pretrained(tmp_path / "hf")
    shutil.copy(shared_data / "tokenizers" / "gpt2-encoder.json", tmp_path / "hf" / "vocab.json")
    shutil.copy(shared_data / "tokenizers" / "gpt2-vocab.bpe", tmp_path / "hf" / "merges.txt")
    _, checkpoint = load_checkpoint(import_hf(tmp_path / "hf", tmp_path / "gpt2.pt"))
    reference = build_tokenizer({"name": "gpt2", "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken"),
                                 "pattern": checkpoint["tokenizer"]["pattern"],
                                 "special_tokens": {"<|endoftext|>": 50256}})
    converted = build_tokenizer(checkpoint["tokenizer"])
    text = "Hello world, it's 2024 <|endoftext|> naïve café"
    assert converted.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")


@pytest.mark.parametrize("overrides, reason", [({"positions": "rotary"}, "positions='rotary'"),
                                               ({"positions": "sinusoidal"}, "positions='sinusoidal'"),
                                               ({"tie_embeddings": False}, "tie_embeddings=False")])
def test_export_refuses_what_gpt2_cannot_hold(tmp_path, shared_data, overrides, reason):
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data, **overrides)
    with pytest.raises(LayoutError, match=reason):
        export_checkpoint(tmp_path / "tiny.pt", tmp_path / "hf")
    assert not (tmp_path / "hf" / "model.safetensors").exists()


@pytest.mark.parametrize("change, reason", [({"n_inner": 100}, "n_inner=100"),
                                            ({"activation_function": "silu"}, "activation_function='silu'"),
                                            ({"layer_norm_epsilon": 1e-6}, "layer_norm_epsilon"),
                                            ({"model_type": "llama"}, "only 'gpt2'")])
def test_import_refuses_other_configs(tmp_path, shared_data, change, reason):
    random_gpt2().save_pretrained(tmp_path / "hf")
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    (tmp_path / "hf" / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(LayoutError, match=reason):
        import_hf(tmp_path / "hf", tmp_path / "x.pt", shared_data / "tokenizers" / "gpt2.tiktoken")


def test_cli_round_trip_and_errors(tmp_path, shared_data, capsys):
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data)
    assert main(["export", "--checkpoint", str(tmp_path / "tiny.pt"), "--out", str(tmp_path / "hf")]) == 0
    assert main(["import", "--hf-dir", str(tmp_path / "hf"), "--out", str(tmp_path / "back.pt")]) == 0
    assert str(tmp_path / "back.pt") in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no config.json"):
        main(["import", "--hf-dir", str(tmp_path), "--out", str(tmp_path / "x.pt")])
    (tmp_path / "bare").mkdir()
    shutil.copy(tmp_path / "hf" / "config.json", tmp_path / "bare")
    shutil.copy(tmp_path / "hf" / "model.safetensors", tmp_path / "bare")
    with pytest.raises(SystemExit, match="pass --ranks"):
        main(["import", "--hf-dir", str(tmp_path / "bare"), "--out", str(tmp_path / "y.pt")])


def test_read_hf_converts_in_memory_and_writes_nothing(tmp_path, shared_data):
    """What init_from uses: a downloaded-style folder read without writing a ranks file beside anything."""
    from model.hf_interop import read_hf

    reference = random_gpt2()
    reference.save_pretrained(tmp_path / "hf")
    shutil.copy(shared_data / "tokenizers" / "gpt2-encoder.json", tmp_path / "hf" / "vocab.json")
    shutil.copy(shared_data / "tokenizers" / "gpt2-vocab.bpe", tmp_path / "hf" / "merges.txt")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    model, spec = read_hf(tmp_path / "hf")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert "ranks" in spec and build_tokenizer(spec).encode("Hello world") == [15496, 995]
    idx = tokens()
    assert (our_logits(model, idx) - hf_logits(reference, idx)).abs().max() < TOLERANCE
