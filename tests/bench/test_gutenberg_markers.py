"""The Gutenberg marker bench's own parts: lists read from source with ast, markers completed into PG lines,
test books built from a real shared book, and the scoring, so its figures cannot drift unnoticed."""

from __future__ import annotations

from pathlib import Path

from bench.gutenberg_markers import as_credit, build, complete, kind_of, markers_of, parts_of, score


def test_marker_lists_are_read_from_source_without_importing(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "text.py").write_text(
        "import not_installed_anywhere\n"
        'TEXT_START_MARKERS = frozenset(("*** START OF THE PROJECT GUTENBERG", "Produced by"))\n'
        'TEXT_END_MARKERS = frozenset(("End of the Project Gutenberg",))\n'
        'LEGALESE_START_MARKERS = frozenset(("<<THIS ELECTRONIC VERSION OF",))\n'
        '_CHAPTER_START_MARKERS = ["chapter i"]\n'
        "def strip(body):\n"
        '    patterns = [("***START OF THE PROJECT GUTENBERG EBOOK", "***END OF THE PROJECT GUTENBERG EBOOK"),\n'
        '                ("====" "====", "----")]\n'
        "    return body\n", encoding="utf-8")
    found = markers_of(tmp_path)
    assert found["start"] == ["*** START OF THE PROJECT GUTENBERG", "Produced by",
                              "***START OF THE PROJECT GUTENBERG EBOOK", "========"]
    assert found["end"] == ["End of the Project Gutenberg", "***END OF THE PROJECT GUTENBERG EBOOK", "----"]
    assert found["interior"] == ["start:<<THIS ELECTRONIC VERSION OF"]


def test_markers_are_completed_as_pg_writes_them() -> None:
    cases = {
        ("*** START OF THE PROJECT GUTENBERG", "start"): "*** START OF THE PROJECT GUTENBERG EBOOK KATRINE ***",
        ("***END OF THE PROJECT GUTENBERG", "end"): "***END OF THE PROJECT GUTENBERG EBOOK KATRINE***",
        ("End of the Project Gutenberg", "end"): "End of the Project Gutenberg EBook of Katrine, by Elinor Lane",
        ("*END*THE SMALL PRINT", "start"): "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*",
        ("Ende dieses Project Gutenber", "end"): "Ende dieses Project Gutenberg Etextes Katrine",
        ("*** START OF THE COPYRIGHTED", "start"): "*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK KATRINE ***",
        ("We need your donations more than ever!", "end"): "We need your donations more than ever!",
    }
    assert {key: complete(*key, "Katrine", "Elinor Lane") for key in cases} == cases
    fragment = "Distributed Proofreading Team"
    assert as_credit(fragment, fragment) == "Produced by Anne Volunteer and the Online\n" + fragment
    assert kind_of("*** END OF THE COPYRIGHTED") == "marker" and kind_of("Produced by") == "credit"
    assert kind_of("*SMALL PRINT!") == "header" and kind_of("<><><>") == "other"


def test_books_are_built_from_a_real_book_and_scored(shared_data: Path) -> None:
    parts = parts_of(shared_data / "books" / "gutenberg-972-the-devils-dictionary.txt")
    assert parts["eol"] == "\r\n" and parts["title"] == "The Devil's Dictionary" and len(parts["body"]) >= 200
    text, body, gone = build(parts, "start", "*** START OF THE PROJECT GUTENBERG EBOOK X ***", "full")
    assert text.count("*** END OF THIS PROJECT GUTENBERG EBOOK") == 1 and "*** START OF THIS" not in text
    assert "*** START OF THE PROJECT GUTENBERG EBOOK X ***" in gone and body[0] in text
    alone, _, _ = build(parts, "end", "Fin de Project Gutenberg Etext de X", "alone")
    assert "*** START OF" not in alone and "Fin de Project Gutenberg Etext de X\r\n" in alone
    kept = "\n".join(body)
    assert score(kept, body, gone) == {"removed": True, "kept": True}
    assert score("\n".join(body[1:]), body, gone)["kept"] is False
    assert score(kept + "\n" + gone[0], body, gone)["removed"] is False
