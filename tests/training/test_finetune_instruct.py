"""training.finetune_instruct: the Alpaca template, prompt masking, padding, bad records, a short run on
the real instruction data whose checkpoint generation and serving can open, and generation through the
same template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from model.checkpoint_io import load_checkpoint
from model.engine import generate
from model.tokenizer import build_tokenizer
from model.gpt import IGNORE_INDEX
from model.templates import alpaca_prompt, chat_prompt
from tests.tiny_checkpoint import GPT2_END_OF_TEXT, gpt2_tokenizer_spec, save_tiny_checkpoint
from training.finetune_common import SkipLedger
from training.finetune_instruct import (Instruction, InstructConfig, collate, finetune_instructions, main,
                                        read_instructions, respond, tokenize_all, tokenize_example)

EOT = GPT2_END_OF_TEXT


@pytest.fixture(scope="module")
def data(shared_data: Path) -> Path:
    return shared_data / "finetune" / "instruction-data.json"


@pytest.fixture(scope="module")
def encoding(shared_data: Path):
    return build_tokenizer(gpt2_tokenizer_spec(shared_data))


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("instruct") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data, context_length=128)
    return path


def test_template_layout():
    assert alpaca_prompt("Add 2 and 3.") == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the "
        "request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n")
    with_input = alpaca_prompt("Fix the grammar.", "He go home.")
    assert "paired with an input" in with_input and "### Input:\nHe go home.\n\n### Response:\n" in with_input
    # A one-turn chat renders exactly as the training prompt, so a served model sees what it was tuned on.
    assert chat_prompt([{"role": "user", "content": "Add 2 and 3."}], "alpaca") == alpaca_prompt("Add 2 and 3.")


def test_reads_the_real_instruction_data(data):
    examples, ledger = read_instructions(data)
    assert len(examples) == 1100 and ledger.total == 0
    assert examples[2].instruction == "Convert 45 kilometers to meters." and examples[2].input == ""


def test_prompt_tokens_are_masked(encoding):
    example = Instruction("Convert 45 kilometers to meters.", "", "45 kilometers is 45000 meters.", "x:0")
    item = tokenize_example(example, encoding, EOT)
    prompt = encoding.encode_ordinary(alpaca_prompt(example.instruction))
    full = prompt + encoding.encode_ordinary(example.output) + [EOT]
    assert item.inputs == full[:-1]  # targets are the inputs shifted by one...
    assert item.targets == [IGNORE_INDEX] * (len(prompt) - 1) + full[len(prompt):]  # ...prompt masked
    scored = [t for t in item.targets if t != IGNORE_INDEX]
    assert encoding.decode(scored[:-1]) == example.output and scored[-1] == EOT


def test_padding_and_masked_loss_matches_hand_computation(encoding):
    torch.manual_seed(0)
    from model.gpt import GPT, GPTConfig

    model = GPT(GPTConfig.preset("tiny", vocab_size=50257, context_length=128)).eval()
    items = [tokenize_example(Instruction("Say hi.", "", "Hi!", "x:0"), encoding, EOT),
             tokenize_example(Instruction("Name a colour.", "Any one.", "Blue is a colour.", "x:1"), encoding, EOT)]
    inputs, targets = collate(items, EOT, "cpu")
    assert inputs.shape == targets.shape == (2, max(len(i.inputs) for i in items))
    short = min(range(2), key=lambda i: len(items[i].inputs))
    assert (inputs[short, len(items[short].inputs):] == EOT).all()
    assert (targets[short, len(items[short].targets):] == IGNORE_INDEX).all()
    logits, loss = model(inputs, targets)
    keep = targets != IGNORE_INDEX
    by_hand = F.cross_entropy(logits[keep], targets[keep])
    torch.testing.assert_close(loss, by_hand)
    assert int(keep.sum()) == sum(len(encoding.encode_ordinary(o)) + 1 for o in ("Hi!", "Blue is a colour."))


def test_bad_records_are_counted_or_explained(tmp_path, encoding):
    lines = tmp_path / "data.jsonl"
    lines.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "a", "output":\n"just a string"\n'
                     '{"instruction": "a"}\n{"instruction": "", "output": "b"}\n'
                     '{"instruction": "a", "input": 3, "output": "b"}\n'
                     + json.dumps({"instruction": "long " * 200, "output": "b"}) + "\n")
    examples, ledger = read_instructions(lines)
    assert len(examples) == 2 and ledger.total == 5
    assert ledger.counts["missing or non-string 'output'"] == 1 and ledger.counts["non-string 'input'"] == 1
    kept = tokenize_all(examples, encoding, EOT, context_length=64, ledger=ledger)
    assert len(kept) == 1 and ledger.counts["longer than the context of 64 tokens"] == 1

    broken = tmp_path / "broken.json"
    broken.write_text('[{"instruction": "a", "output": "b"},\n {"instruction": }]')
    with pytest.raises(ValueError, match="not valid JSON.*line 2"):
        read_instructions(broken)


def test_finetune_end_to_end_and_generation_template(tmp_path, tiny_checkpoint, data, encoding):
    out = tmp_path / "run"
    cfg = InstructConfig(checkpoint=str(tiny_checkpoint), data=str(data), out=str(out), limit=80, epochs=1,
                         max_steps=6, batch_size=8, lr=3e-3, eval_every=3, generate_examples=2, max_new_tokens=8)
    metrics = finetune_instructions(cfg, log=lambda _: None)
    losses = [h["val_loss"] for h in metrics["history"]]
    assert metrics["steps"] == 6 and losses[-1] < losses[0]
    assert sum(metrics["records"].values()) + metrics["skipped"]["total"] == 80

    model, checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["prompt_template"] == "alpaca" and checkpoint["tokenizer"]["name"] == "gpt2"
    responses = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert len(responses) == 2 and all("reference" in r and "response" in r for r in responses)

    # respond() is greedy generation continuing exactly alpaca_prompt(...)
    prompt = encoding.encode_ordinary(alpaca_prompt("Name a fruit."))
    ids = generate(model, torch.tensor([prompt]), 8, temperature=0.0, stop_token=EOT)[0, len(prompt):].tolist()
    expected = encoding.decode([t for t in ids if t != EOT]).strip()
    assert respond(model, encoding, EOT, "Name a fruit.", max_new_tokens=8) == expected


def test_cli_reports_missing_data(tmp_path, tiny_checkpoint):
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--checkpoint", str(tiny_checkpoint), "--data", str(tmp_path / "none.json"), "--out", str(tmp_path)])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("oops\n")
    with pytest.raises(SystemExit, match="no usable training records.*malformed JSON"):
        main(["--checkpoint", str(tiny_checkpoint), "--data", str(empty), "--out", str(tmp_path / "o")])


def test_skip_ledger_keeps_first_locations():
    ledger = SkipLedger(examples_per_reason=2)
    for i in range(5):
        ledger.skip("r", f"f:{i}")
    assert ledger.as_dict() == {"total": 5, "by_reason": {"r": 5}, "examples": {"r": ["f:0", "f:1"]}}


def test_overlong_examples_can_be_truncated_instead_of_skipped(encoding):
    long_answer = Instruction("Tell a story.", "", "Once upon a time there was a river. " * 30, "x:7")
    short = Instruction("Say hi.", "", "Hi!", "x:8")
    huge_prompt = Instruction("word " * 200, "", "ok", "x:9")
    ledger, truncated = SkipLedger(), []
    kept = tokenize_all([long_answer, short, huge_prompt], encoding, EOT, 64, ledger, "truncate", False, truncated)
    assert len(kept) == 2 and truncated == ["x:7"]
    assert ledger.total == 1 and ledger.counts["longer than the context of 64 tokens"] == 1  # the prompt alone
    cut = kept[0]
    assert len(cut.inputs) == len(cut.targets) == 64
    assert EOT not in cut.targets  # never taught to stop where the context ends
    full = tokenize_example(long_answer, encoding, EOT)
    assert cut.inputs == full.inputs[:64] and cut.targets == full.targets[:64]
    skipped = SkipLedger()
    assert len(tokenize_all([long_answer, short], encoding, EOT, 64, skipped)) == 1 and skipped.total == 1


def test_train_on_prompt_scores_every_token(encoding):
    example = Instruction("Convert 45 kilometers to meters.", "", "45000 meters.", "x:0")
    item = tokenize_example(example, encoding, EOT, train_on_prompt=True)
    assert IGNORE_INDEX not in item.targets and item.targets == item.inputs[1:] + [EOT]


def test_lora_tuning_changes_only_block_linears_and_saves_a_plain_checkpoint(tmp_path, tiny_checkpoint, data):
    out = tmp_path / "lora"
    cfg = InstructConfig(checkpoint=str(tiny_checkpoint), data=str(data), out=str(out), limit=40, epochs=1,
                         max_steps=3, batch_size=8, lr=1e-2, eval_every=3, generate_examples=0, lora_rank=4)
    finetune_instructions(cfg, log=lambda _: None)
    before, _ = load_checkpoint(tiny_checkpoint)
    after, checkpoint = load_checkpoint(out / "checkpoint.pt")  # merged: the plain GPT's keys
    assert checkpoint["finetune"]["lora_rank"] == 4
    old, new = before.state_dict(), after.state_dict()
    assert set(old) == set(new)
    changed = {k for k in old if not torch.equal(old[k], new[k])}
    assert changed and all(k.endswith(("qkv.weight", "proj.weight", "up.weight", "down.weight")) for k in changed)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    start = next(r for r in records if r["kind"] == "start")
    assert start["trainable_params"] < sum(v.numel() for v in old.values()) // 10


def test_chinese_instruction_data_tunes(tmp_path, tiny_checkpoint, shared_data):
    # BELLE's Chinese Alpaca records (shared/data/finetune, see PROVENANCE.md) read and tune like English ones
    belle = shared_data / "finetune" / "zh-belle-dev1K-alpaca.jsonl"
    examples, ledger = read_instructions(belle)
    assert len(examples) == 1000 and ledger.total == 0
    out = tmp_path / "zh"
    cfg = InstructConfig(checkpoint=str(tiny_checkpoint), data=str(belle), out=str(out), limit=60, epochs=1,
                         max_steps=4, batch_size=8, lr=3e-3, eval_every=4, generate_examples=1, max_new_tokens=8,
                         overlong="truncate")
    metrics = finetune_instructions(cfg, log=lambda _: None)
    losses = [h["val_loss"] for h in metrics["history"]]
    assert losses[-1] < losses[0]
    assert sum(metrics["records"].values()) + metrics["skipped"]["total"] == 60
    response = json.loads((out / "responses.jsonl").read_text().splitlines()[0])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response["instruction"])


def test_progress_within_an_epoch_threads_and_metrics_files(tmp_path, tiny_checkpoint, data):
    """As for classification: progress lines inside an epoch, --threads for the run only, metrics.json and
    responses.jsonl written whole (atomically), metrics.jsonl line by line."""
    said: list[str] = []
    threads_seen: list[int] = []

    def log(line: str) -> None:
        said.append(line)
        threads_seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out = tmp_path / "run"
        cfg = InstructConfig(checkpoint=str(tiny_checkpoint), data=str(data), out=str(out), limit=40, epochs=1,
                             max_steps=3, batch_size=8, eval_every=10, generate_examples=1, threads=1,
                             progress_seconds=0.0)
        finetune_instructions(cfg, log=log)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert set(threads_seen) == {1}
    progress = [line for line in said if line.startswith("epoch 1/1 batch ")]
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "checkpoint.pt", "last.pt", "metrics.json",
                                                     "metrics.jsonl", "responses.jsonl"]
    metrics = json.loads((out / "metrics.json").read_text())
    batches = -(-metrics["records"]["train"] // 8)
    assert [line.split(" (")[0] for line in progress] == [f"epoch 1/1 batch {k}/{batches}" for k in (1, 2, 3)]
    assert metrics["config"]["threads"] == 1 and "examples/s" in progress[0]


def test_limit_draws_from_the_whole_file(tmp_path, tiny_checkpoint):
    """--limit took the first N records; now N drawn at random (seeded) from all of them."""
    data = tmp_path / "numbered.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Say {i}.", "output": str(i)}) + "\n" for i in range(200)))
    out = tmp_path / "run"
    cfg = InstructConfig(checkpoint=str(tiny_checkpoint), data=str(data), out=str(out), limit=20, epochs=1,
                         max_steps=1, batch_size=8, eval_every=10, generate_examples=5, max_new_tokens=2,
                         test_fraction=0.25)
    metrics = finetune_instructions(cfg, log=lambda _: None)
    assert sum(metrics["records"].values()) == 20
    asked = [int(json.loads(line)["instruction"][4:-1]) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert len(asked) == 5 and max(asked) >= 20
