"""``pipeline check`` and the start of ``run`` load every run-time resource the manifest names: a tokenizer
that cannot load offline, a bad ranks file, a missing language-ID model or block list fail there, before
any stage works (before this, the run failed at tokenize after every other stage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main as cli_main
from tests.pipeline.helpers import write_manifest


def _manifest(tmp_path: Path, shared_data: Path, **stages) -> Path:
    book = str(shared_data / "books/the-verdict.txt")
    return write_manifest(tmp_path, [{"name": "books", "kind": "books", "paths": [book]}], stages=stages)


def _fails_before_work(tmp_path: Path, manifest: Path, capsys, *expected: str) -> None:
    for command in ("check", "run"):
        assert cli_main([command, str(manifest)]) == 2, command
        err = capsys.readouterr().err
        assert "Traceback" not in err and all(text in err for text in expected), (command, err)
    assert not (tmp_path / "out").exists()  # run stopped before the run folder, Ray or any stage


def test_tokenizer_unavailable_offline_fails_at_check_and_run_start(tmp_path: Path, shared_data: Path, capsys,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    manifest = _manifest(tmp_path, shared_data, order=["crawl", "tokenize"], tokenize={"tokenizer": {"name": "gpt2"}})
    _fails_before_work(tmp_path, manifest, capsys, "stages.tokenize.tokenizer", "not available offline")


def test_bad_ranks_file_fails_at_check_naming_file_and_line(tmp_path: Path, shared_data: Path, capsys) -> None:
    ranks = tmp_path / "broken.tiktoken"
    ranks.write_bytes((shared_data / "tokenizers/gpt2.tiktoken").read_bytes()[:5000] + b"!!!\n")
    bad_line = ranks.read_bytes().count(b"\n")
    manifest = _manifest(tmp_path, shared_data, order=["crawl", "tokenize"],
                         tokenize={"tokenizer": {"name": "gpt2", "ranks_path": str(ranks)}})
    _fails_before_work(tmp_path, manifest, capsys, f"{ranks}, line {bad_line}")


def test_missing_language_model_and_block_list_fail_at_check(tmp_path: Path, shared_data: Path, capsys) -> None:
    missing = tmp_path / "no-such-lid.bin"
    manifest = _manifest(tmp_path, shared_data, order=["crawl", "filter"],
                         filter={"per_source": {"books": {"language": {"model_path": str(missing)}}}})
    _fails_before_work(tmp_path, manifest, capsys, "stages.filter.per_source.books.language.model_path",
                       str(missing))
    manifest = _manifest(tmp_path, shared_data, order=["crawl", "filter"],
                         filter={"defaults_by_kind": {"books": {"url": {"domains_file": str(tmp_path / "no.txt")}}}})
    _fails_before_work(tmp_path, manifest, capsys, "stages.filter.defaults_by_kind.books", "no.txt")


def test_check_lists_what_it_loaded(tmp_path: Path, shared_data: Path, capsys) -> None:
    manifest = _manifest(tmp_path, shared_data, order=["crawl", "filter", "tokenize"],
                         tokenize={"tokenizer": {"name": "gpt2",
                                                 "ranks_path": str(shared_data / "tokenizers/gpt2.tiktoken")}})
    assert cli_main(["check", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "language-ID model (bundled lid.176.ftz)" in out
    assert "tokenizer 'gpt2'" in out and "50,257 tokens, end-of-text id 50256" in out
