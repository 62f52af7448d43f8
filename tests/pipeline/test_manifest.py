"""Manifest loading: validation errors name the key path, the bad value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.manifest import ManifestError, load_manifest, parse_manifest

BASE = {
    "run": {"name": "t", "output_dir": "out", "seed": 3},
    "sources": [{"name": "books", "kind": "books", "paths": ["books/*.txt"]}],
}


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def error_of(tmp_path: Path, data: dict | str) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, data))
    return str(info.value)


def test_valid_manifest_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, BASE))
    assert manifest.run_dir == (tmp_path / "out" / "t").resolve()
    assert manifest.sources[0].paths == [str(tmp_path / "books/*.txt")]
    assert manifest.stages.order[0] == "crawl"
    assert manifest.ray.address is None


def test_hash_ignores_formatting_and_ray_but_not_content(tmp_path: Path) -> None:
    a = parse_manifest(yaml.safe_dump(BASE))
    b = parse_manifest("# comment\n" + yaml.safe_dump({**BASE, "ray": {"address": "127.0.0.1:1"}}))
    c = parse_manifest(yaml.safe_dump({**BASE, "run": {**BASE["run"], "seed": 4}}))
    assert a.hash == b.hash
    assert a.hash != c.hash


def test_unknown_key_is_named_with_allowed_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, {**BASE, "run": {**BASE["run"], "sed": 1}})
    assert "run.sed" in message and "unknown key" in message
    assert "seed" in message and "output_dir" in message


def test_unknown_source_option_is_named_with_its_path(tmp_path: Path) -> None:
    source = {**BASE["sources"][0], "options": {"no_such_option": 1}}
    message = error_of(tmp_path, {**BASE, "sources": [source]})
    assert "sources.0.books.options.no_such_option" in message and "unknown key" in message


def test_bad_kind_lists_allowed_kinds(tmp_path: Path) -> None:
    message = error_of(tmp_path, {**BASE, "sources": [{"name": "x", "kind": "pdf", "paths": ["a"]}]})
    assert "sources.0" in message and "pdf" in message
    for kind in ("commoncrawl", "wikipedia", "books", "jsonl", "parquet"):
        assert kind in message


def test_bad_value_shows_value_and_constraint(tmp_path: Path) -> None:
    source = {**BASE["sources"][0], "weight": -1}
    message = error_of(tmp_path, {**BASE, "sources": [source]})
    assert "sources.0.books.weight" in message and "-1" in message and "greater than 0" in message


def test_missing_required_and_empty_sources(tmp_path: Path) -> None:
    assert "run: required key is missing" in error_of(tmp_path, {"sources": BASE["sources"]})
    assert "sources" in error_of(tmp_path, {**BASE, "sources": []})


def test_source_without_input_and_duplicate_names(tmp_path: Path) -> None:
    assert "has no input" in error_of(tmp_path, {**BASE, "sources": [{"name": "b", "kind": "books"}]})
    twice = {**BASE, "sources": BASE["sources"] * 2}
    assert "duplicate source names ['books']" in error_of(tmp_path, twice)


def test_unknown_stage_in_order(tmp_path: Path) -> None:
    message = error_of(tmp_path, {**BASE, "stages": {"order": ["crawl", "magic"]}})
    assert "stages.order.1" in message and "magic" in message


def test_crawl_spec_validated(tmp_path: Path) -> None:
    source = {"name": "cc", "kind": "commoncrawl", "crawl": {"id": "2024-22", "files": 1}}
    message = error_of(tmp_path, {**BASE, "sources": [source]})
    assert "sources.0.commoncrawl.crawl.id" in message and "2024-22" in message


def test_yaml_object_tags_are_refused(tmp_path: Path) -> None:
    """safe_load: a manifest can never construct Python objects or run code."""
    text = yaml.safe_dump(BASE) + "extra: !!python/object/apply:os.system ['echo pwned']\n"
    assert "not valid YAML" in error_of(tmp_path, text)


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    assert "must be a mapping" in error_of(tmp_path, "- a\n- b\n")
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "nope.yaml")


def test_bad_run_name_cannot_escape(tmp_path: Path) -> None:
    message = error_of(tmp_path, {**BASE, "run": {**BASE["run"], "name": "../../etc"}})
    assert "run.name" in message


def test_demo_manifest_is_valid(repo_root: Path) -> None:
    manifest = load_manifest(repo_root / "manifests" / "demo.yaml")
    assert {s.kind for s in manifest.sources} >= {"commoncrawl", "wikipedia", "books"}
    assert manifest.run_dir == (repo_root / "runs" / "demo").resolve()
