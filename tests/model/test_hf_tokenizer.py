"""model.hf_tokenizer: an exported folder's tokenizer, loaded by transformers' AutoTokenizer, gives our ids
on the shared books (English, German, Chinese) for GPT-2's and cl100k's ranks and the CJK pre-tokenizer;
the two regex rewrites Oniguruma needs are each shown to matter; a tokenizer.json converts back to ranks;
an import of weights alone takes a named ranks file."""

from __future__ import annotations

import json
import shutil
from functools import lru_cache
from pathlib import Path

import pytest
import tiktoken
import transformers  # test-only dependency (the `test` extra)
from tokenizers import Tokenizer as HfTokenizer

from contracts.tiktoken_ranks import CL100K_PATTERN, CL100K_SPECIAL_TOKENS, GPT2_PATTERN, parse_ranks
from model.checkpoint_io import load_checkpoint
from model.hf_interop import export_checkpoint, import_hf, main
from model.hf_tokenizer import (TokenizerLayoutError, oniguruma_pattern, ranks_from_tokenizer_json,
                                tokenizer_json, write_hf_tokenizer)
from model.tokenizer import build_tokenizer
from pipeline.tokenizer import CJK_CHARS_PATTERN
from tests.tiny_checkpoint import save_tiny_checkpoint

BOOKS = ("the-verdict.txt", "de-goethe-faust1-pg2229.txt", "zh-hongloumeng-pg24264.txt",
         "gutenberg-972-the-devils-dictionary.txt")
BOOK_CHARS = 150_000  # of each book: every script and layout in them, in a few seconds
HARD = ("Hi  there\n\n  123456789 ١٢٣٤ x\u00a0y\u3000z\x85w\x0b \t\r\n <|endoftext|> don't DON'T 'Ll I'VE\n"
        "trailing   \n  \r\n\r\n   end  ")
ENCODINGS = {"gpt2": (GPT2_PATTERN, {"<|endoftext|>": 50256}),
             "cl100k_base": (CL100K_PATTERN, dict(CL100K_SPECIAL_TOKENS)),
             "gpt2-cjk": (CJK_CHARS_PATTERN, {"<|endoftext|>": 50256})}


@lru_cache(maxsize=None)
def encoding(name: str, shared: str) -> tiktoken.Encoding:
    pattern, specials = ENCODINGS[name]
    ranks_file = Path(shared) / "tokenizers" / f"{name.removesuffix('-cjk')}.tiktoken"
    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=parse_ranks(ranks_file.read_bytes(), name),
                             special_tokens=specials)


@lru_cache(maxsize=None)
def exported(name: str, shared: str, folder: str) -> transformers.PreTrainedTokenizerBase:
    write_hf_tokenizer(encoding(name, shared), folder, 1024, "<|endoftext|>")
    return transformers.AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    return lambda name: tmp_path_factory.getbasetemp() / f"hf-{name}"


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_autotokenizer_gives_our_ids_on_the_books(shared_data, hf_folder, name):
    ours = encoding(name, str(shared_data))
    theirs = exported(name, str(shared_data), str(hf_folder(name)))
    for book in BOOKS:
        text = (shared_data / "books" / book).read_text(encoding="utf-8")[:BOOK_CHARS]
        ids = ours.encode_ordinary(text)
        assert theirs(text)["input_ids"] == ids, book
        assert theirs.decode(ids) == text, book
    assert theirs(HARD)["input_ids"] == ours.encode(HARD, allowed_special="all")
    assert theirs.decode(ours.encode(HARD, allowed_special="all")) == HARD
    assert theirs.eos_token == "<|endoftext|>" and theirs.eos_token_id == ours.eot_token


def test_special_token_ids_survive_cl100k_gaps(shared_data, hf_folder):
    """cl100k has no id 100256 and none from 100261 to 100275: the special tokens keep their own ids."""
    theirs = exported("cl100k_base", str(shared_data), str(hf_folder("cl100k_base")))
    for token, token_id in CL100K_SPECIAL_TOKENS.items():
        assert theirs(f"a{token}b")["input_ids"][1] == token_id
        assert theirs.convert_ids_to_tokens(token_id) == token


@pytest.mark.parametrize("name, pattern, text", [
    ("gpt2", CL100K_PATTERN, "room 1234567 of 89"),  # cl100k's regex; GPT-2's ranks build faster
    ("gpt2", r"\w+?$|\w|\s+", "ab\ncd")])  # `$` ends only the text in tiktoken, any line in Ruby syntax
def test_each_regex_rewrite_matters(shared_data, name, pattern, text):
    """Unrewritten, Oniguruma reads cl100k's `\\p{N}{1,3}+` as any number of digits and `$` as end of line,
    and the ids differ; rewritten, they agree. (In GPT-2's and cl100k's own patterns `\\s++$` cannot stop
    before a newline, so there `$` happens to agree either way.)"""
    base = encoding(name, str(shared_data))
    ours = tiktoken.Encoding("t", pat_str=pattern, mergeable_ranks=base._mergeable_ranks,
                             special_tokens=base._special_tokens)
    spec = tokenizer_json(ours)
    rewritten = HfTokenizer.from_str(json.dumps(spec))
    spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = pattern
    verbatim = HfTokenizer.from_str(json.dumps(spec))
    assert rewritten.encode(text).ids == ours.encode_ordinary(text)
    assert verbatim.encode(text).ids != ours.encode_ordinary(text)


def test_oniguruma_pattern_rewrites_only_what_differs():
    assert oniguruma_pattern(r"\p{N}{1,3}+|[$]|\$|a{2}|x$") == r"(?>\p{N}{1,3})|[$]|\$|a{2}|x\z"
    assert oniguruma_pattern(CL100K_PATTERN).count(r"\z") == 1


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base"])
def test_tokenizer_json_converts_back_to_the_same_ranks(shared_data, tmp_path, name):
    ours = encoding(name, str(shared_data))
    write_hf_tokenizer(ours, tmp_path, 64, "<|endoftext|>")
    ranks, pattern, specials = ranks_from_tokenizer_json(tmp_path / "tokenizer.json")
    assert ranks == ours._mergeable_ranks and pattern == ours._pat_str
    assert specials == ENCODINGS[name][1]


def test_transformers_own_gpt2_tokenizer_json_converts(shared_data, tmp_path):
    """The layout of GPT-2's tokenizer.json on the hub (ByteLevel with its built-in regex, merges in the
    order of merges.txt), made by the tokenizers library from vocab.json + merges.txt."""
    from tokenizers import AddedToken, decoders, models, pre_tokenizers

    made = HfTokenizer(models.BPE.from_file(str(shared_data / "tokenizers" / "gpt2-encoder.json"),
                                            str(shared_data / "tokenizers" / "gpt2-vocab.bpe")))
    made.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    made.decoder = decoders.ByteLevel()
    made.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    made.save(str(tmp_path / "tokenizer.json"))
    ranks, pattern, specials = ranks_from_tokenizer_json(tmp_path / "tokenizer.json")
    assert ranks == encoding("gpt2", str(shared_data))._mergeable_ranks
    assert pattern == GPT2_PATTERN and specials == {"<|endoftext|>": 50256}


def test_a_tokenizer_json_without_vocabulary_is_refused(tmp_path):
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {}, "merges": []},
                                                         "normalizer": None, "added_tokens": [],
                                                         "pre_tokenizer": {"type": "ByteLevel"}}))
    with pytest.raises(TokenizerLayoutError, match="no usable vocabulary"):
        ranks_from_tokenizer_json(tmp_path / "tokenizer.json")


def test_merges_out_of_id_order_are_refused(shared_data, tmp_path):
    """tiktoken merges by rank; a BPE whose merge list disagrees with its ids would tokenize differently."""
    spec = tokenizer_json(encoding("gpt2", str(shared_data)))
    merges = spec["model"]["merges"]
    merges[10], merges[5000] = merges[5000], merges[10]
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(TokenizerLayoutError, match="merge 11 .* not in the order of the ids"):
        ranks_from_tokenizer_json(tmp_path / "tokenizer.json")


def test_export_writes_a_tokenizer_autotokenizer_loads(shared_data, tmp_path):
    """The finding: an export had no tokenizer files, and AutoTokenizer gave an empty tokenizer."""
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data, vocab_size=50257)
    folder = export_checkpoint(tmp_path / "tiny.pt", tmp_path / "hf")
    theirs = transformers.AutoTokenizer.from_pretrained(folder)
    text = (shared_data / "books" / "the-verdict.txt").read_text(encoding="utf-8")
    assert len(theirs) == 50257
    assert theirs(text)["input_ids"] == encoding("gpt2", str(shared_data)).encode_ordinary(text)
    assert theirs.model_max_length == 64  # the tiny model's context


def test_import_of_weights_alone_takes_a_named_ranks_file(shared_data, tmp_path, capsys):
    """Weights without any tokenizer file: refused with what to pass; with --ranks cl100k_base.tiktoken the
    published encoding is recognised by its ranks (its regex and special tokens, not GPT-2's)."""
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data, vocab_size=100277)  # GPT-2's tokenizer recorded
    export_checkpoint(tmp_path / "tiny.pt", tmp_path / "hf")
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tmp_path / "hf" / name, bare)
    with pytest.raises(SystemExit, match="pass --ranks"):
        main(["import", "--hf-dir", str(bare), "--out", str(tmp_path / "x.pt")])
    ranks = shared_data / "tokenizers" / "cl100k_base.tiktoken"
    with pytest.raises(SystemExit, match=r"special token ids \{'<\|endoftext\|>': 50256\} are ordinary tokens"):
        main(["import", "--hf-dir", str(bare), "--out", str(tmp_path / "y.pt"), "--ranks", str(ranks)])
    config = json.loads((bare / "config.json").read_text())
    (bare / "config.json").write_text(json.dumps({**config, "bos_token_id": 100257, "eos_token_id": 100257}))
    assert main(["import", "--hf-dir", str(bare), "--out", str(tmp_path / "y.pt"), "--ranks", str(ranks)]) == 0
    _, checkpoint = load_checkpoint(tmp_path / "y.pt")
    spec = checkpoint["tokenizer"]
    assert spec["name"] == "cl100k_base" and spec["pattern"] == CL100K_PATTERN
    assert spec["special_tokens"]["<|endofprompt|>"] == 100276
    assert build_tokenizer(spec).encode(HARD, allowed_special="all") == \
        encoding("cl100k_base", str(shared_data)).encode(HARD, allowed_special="all")


def test_import_from_tokenizer_json_alone(shared_data, tmp_path):
    """A folder whose only tokenizer file is tokenizer.json (our description removed) imports whole."""
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data, vocab_size=50257)
    folder = export_checkpoint(tmp_path / "tiny.pt", tmp_path / "hf")
    (folder / "refinery_tokenizer.json").unlink()
    _, checkpoint = load_checkpoint(import_hf(folder, tmp_path / "back.pt"))
    assert Path(checkpoint["tokenizer"]["ranks_path"]) == (tmp_path / "back.tiktoken").resolve()
    text = (shared_data / "books" / "de-goethe-faust1-pg2229.txt").read_text(encoding="utf-8")[:50_000]
    assert build_tokenizer(checkpoint["tokenizer"]).encode_ordinary(text) == \
        encoding("gpt2", str(shared_data)).encode_ordinary(text)


def test_export_with_a_missing_ranks_file_fails_before_writing(shared_data, tmp_path):
    save_tiny_checkpoint(tmp_path / "tiny.pt", shared_data)
    import torch
    payload = torch.load(tmp_path / "tiny.pt", weights_only=True)
    payload["tokenizer"] = {**payload["tokenizer"], "ranks_path": str(tmp_path / "gone.tiktoken")}
    torch.save(payload, tmp_path / "tiny.pt")
    with pytest.raises(SystemExit, match="gone.tiktoken"):
        main(["export", "--checkpoint", str(tmp_path / "tiny.pt"), "--out", str(tmp_path / "hf")])
    assert not (tmp_path / "hf").exists()
    assert main(["export", "--checkpoint", str(tmp_path / "tiny.pt"), "--out", str(tmp_path / "hf"),
                 "--ranks", str(shared_data / "tokenizers" / "gpt2.tiktoken")]) == 0
    assert (tmp_path / "hf" / "tokenizer.json").is_file()
