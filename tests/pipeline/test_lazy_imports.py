"""Every run builds the whole manifest model, so it imports every reader and stage module for their options;
what only the wikipedia and books readers, the dedup stage and the tokenize stage use is imported when they
run (issue 19: ~0.02 CPU s of a run's start with bytecode, ~0.06 s without). Checked in a fresh interpreter:
this test process has imported everything already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFERRED = ("numpy.random", "mwparserfromhell", "tiktoken", "xml.etree.ElementTree", "pipeline.extract.wikitext",
            "pipeline.extract.aozora", "pipeline.extract.gutenberg", "trafilatura")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {DEFERRED!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_a_crawl_and_filter_run_builds_its_manifest_without_the_other_kinds_libraries() -> None:
    code = ("from pipeline.manifest import manifest_model\nmanifest_model()\n"
            "import pipeline.cli, pipeline.run, pipeline.stages.crawl, pipeline.stages.filter\n"
            "import pipeline.readers.commoncrawl")
    assert _loaded_after(code) == set()


def test_what_was_deferred_is_imported_where_it_is_used() -> None:
    assert _loaded_after("from pipeline.dedup import shingles\nshingles.shingle_hash(b'a b')") == {"numpy.random"}
    assert _loaded_after("from pipeline.readers.wikipedia import parse_header\n"
                         "parse_header('<mediawiki xml:lang=\"en\"><siteinfo><dbname>x</dbname></siteinfo>')"
                         ) == {"xml.etree.ElementTree"}
    assert _loaded_after("from pipeline.readers.wikipedia import Options\nOptions()") == {"pipeline.extract.wikitext"}
    # the commoncrawl source option extractor: trafilatura (the default, resiliparse, never imports it)
    assert _loaded_after("from pipeline.readers.commoncrawl import Options\nOptions(extractor='trafilatura')") >= {
        "trafilatura"}
    assert _loaded_after("from pipeline.extract.wikitext import to_prose\n"
                         "to_prose('{{lang|fr|[[Paris]]}} x')") == {"pipeline.extract.wikitext", "mwparserfromhell"}
    assert _loaded_after("from pipeline.readers.books import decode\ndecode(b'\\x81 x')") == {
        "pipeline.extract.aozora", "pipeline.extract.gutenberg"}  # aozora's module imports gutenberg's


def test_the_hash_tables_are_made_once_and_shared() -> None:
    from pipeline.dedup import shingles

    assert shingles.BYTE_TABLE is shingles.BYTE_TABLE and shingles.POSITION_MULTIPLIERS is shingles._tables()[1]
    assert len(shingles.BYTE_TABLE) == 256 and len(shingles.POSITION_MULTIPLIERS) == shingles.MAX_NGRAM


def test_the_boilerplate_regexes_are_compiled_when_lines_need_them() -> None:
    """Importing the extractor compiles none of the boilerplate groups (~30 ms of every run's start-up); a
    line compiles its first letter's group only."""
    code = ("import re\nfrom pipeline.extract import html\nt = html._BOILERPLATE_BY_FIRST\n"
            "lazy = lambda: sum(isinstance(m, html._FirstLetterMatch) for m in t.values())\n"
            "before = lazy()\nhtml._boilerplate_flags(['Share this'])\n"
            "print(before == len(t), before - lazy(), t['s'] is t['S'] and not isinstance(t['s'], html._FirstLetterMatch))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True).stdout
    all_lazy, compiled_keys, shared = out.split()
    assert all_lazy == "True" and shared == "True"
    assert int(compiled_keys) == len("sS\u017f")  # s, S and the long s that IGNORECASE folds onto them
