"""The source-kind registry: every kind declares the whole contract in its reader module, and an unknown
kind is an error naming the known ones (never the web filter chain by default)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from pipeline.filters import FILTERS
from pipeline.filters.chain import kind_defaults, resolve
from contracts.fsio import InputError
from pipeline.manifest import ManifestError, load_manifest, parse_manifest, source_models
from pipeline.readers import KINDS, UnknownSourceKind, get_reader, source_kind
from pipeline.readers.source_kind import SourceKind
from pipeline.stage import RunContext
from pipeline.stages import crawl
from tests.pipeline.helpers import write_manifest


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_registered_kind_declares_its_contract_in_its_module(kind: str) -> None:
    module = importlib.import_module(KINDS[kind])
    declared = source_kind(kind)
    assert isinstance(declared, SourceKind) and declared.name == kind
    assert declared.options is module.Options and declared.reader is module.READER is get_reader(kind)
    assert declared.identity in ("file_name", "record")
    assert set(kind_defaults(kind)) <= set(FILTERS) and kind_defaults(kind)


def test_the_manifest_and_the_filter_chains_come_from_the_registry() -> None:
    assert set(source_models()) == set(KINDS)
    assert "crawl" in source_models()["commoncrawl"].model_fields  # a kind's own manifest keys
    assert "crawl" not in source_models()["books"].model_fields
    assert set(kind_defaults("commoncrawl")) == set(FILTERS)  # the web chain
    assert set(kind_defaults("books")) == {"length", "language", "pii"}
    assert resolve("wikipedia", {}, None).gopher_quality.min_alpha_words is None


def test_unknown_kind_is_an_error_naming_the_known_kinds() -> None:
    for call in (lambda: source_kind("webz"), lambda: resolve("webz", {}, None), lambda: get_reader("webz")):
        with pytest.raises(UnknownSourceKind, match=r"unknown source kind 'webz'; known kinds: \['books', "
                                                    r"'commoncrawl', 'jsonl', 'parquet', 'wikipedia'\]"):
            call()
    text = "run: {name: r, output_dir: out}\nsources: [{name: s, kind: webz, paths: [a.txt]}]\n"
    with pytest.raises(ManifestError, match="webz"):
        parse_manifest(text)


def test_source_without_input_gets_its_kinds_hint() -> None:
    for kind, hint in (("commoncrawl", "or a crawl: {id, files}"), ("books", "(files, globs, URLs)\n")):
        with pytest.raises(ManifestError, match="has no input") as err:
            parse_manifest(f"run: {{name: r, output_dir: out}}\nsources: [{{name: s, kind: {kind}}}]\n")
        assert hint in str(err.value) + "\n"


def test_file_name_identity_refuses_two_inputs_with_one_name(tmp_path: Path, shared_data: Path) -> None:
    book = (shared_data / "books" / "the-verdict.txt").read_bytes()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_bytes(book)
    paths = [str(tmp_path / "a" / "same.txt"), str(tmp_path / "b" / "same.txt")]
    manifest = load_manifest(write_manifest(tmp_path, [{"name": "s", "kind": "books", "paths": paths}]))
    with pytest.raises(InputError, match="have the same file name"):
        crawl.plan(RunContext(manifest))
