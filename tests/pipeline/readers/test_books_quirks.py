"""books reader on Project Gutenberg header/footer variants of every era, built by re-marking a real book.

The Devil's Dictionary (PG #972, CRLF, 2000s markers) is taken apart into its real header, body and
licence footer, and put back together the way other eras of PG files look. For each, the body must come
out whole and no line of the header or licence may leak into the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.accounting import Tally
from pipeline.readers.base import Split
from pipeline.readers.books import READER, Options

BOOK = "gutenberg-972-the-devils-dictionary.txt"
TITLE = "THE DEVIL'S DICTIONARY"
OPTIONS = Options(unwrap=False)  # lines as in the file, so each body line can be looked for


@pytest.fixture(scope="module")
def parts(shared_data: Path) -> dict[str, str]:
    """The real file's header (before the START marker), body, "End of" line and footer (from the END marker)."""
    text = (shared_data / "books" / BOOK).read_bytes().decode("ascii")
    assert "\r\n" in text
    start = text.index("*** START OF THIS PROJECT GUTENBERG EBOOK")
    start_end = text.index("\r\n", start)
    end_line = text.index("End of Project Gutenberg's The Devil's Dictionary")
    end = text.index("*** END OF THIS PROJECT GUTENBERG EBOOK")
    end_end = text.index("\r\n", end)
    return {"header": text[:start], "body": text[start_end:end_line], "end_line": text[end_line:end],
            "footer": text[end_end:]}


def read(tmp_path: Path, text: str | bytes) -> tuple[list, Tally]:
    path = tmp_path / "book.txt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    tally = Tally()
    docs = list(READER.read(Split(str(path)), OPTIONS, tally))
    return docs, tally


def body_lines(body: str) -> list[str]:
    lines = [line.strip() for line in body.replace("\r\n", "\n").split("\n") if line.strip()]
    return lines[1:]  # "Produced by Aloysius" opens the body: a credit line the reader drops on purpose


def boilerplate_lines(parts: dict[str, str]) -> set[str]:
    """Lines of the header and licence that do not also occur in the body."""
    body = set(body_lines(parts["body"]))
    lines = (parts["header"] + parts["footer"] + parts["end_line"]).replace("\r\n", "\n").split("\n")
    return {line.strip() for line in lines if len(line.strip()) > 20} - body


def assert_body_whole_and_clean(doc, parts: dict[str, str]) -> None:
    out = doc.text.split("\n")
    out_set = {line.strip() for line in out}
    missing = [line for line in body_lines(parts["body"]) if line not in out_set]
    assert missing == [], missing[:5]
    leaked = sorted(boilerplate_lines(parts) & out_set)
    assert leaked == [], leaked[:5]
    assert doc.text.startswith(TITLE) and doc.text.rstrip().endswith("the domestic cow sheds its horn every two years.")


SMALL_PRINT_90S = "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*"
SMALL_PRINT_00S = "*END THE SMALL PRINT! FOR PUBLIC DOMAIN EBOOKS*Ver.02/11/02*END*"
SMALL_PRINT_START_00S = "***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN EBOOKS**START***"


def _variants(p: dict[str, str]) -> dict[str, str]:
    eol = "\r\n"
    title = "THE DEVIL'S DICTIONARY"
    licence = p["footer"]  # the real licence text, wherever an era put it
    return {
        "2000s": p["header"] + f"*** START OF THIS PROJECT GUTENBERG EBOOK {title} ***" + p["body"] + p["end_line"]
                 + f"*** END OF THIS PROJECT GUTENBERG EBOOK {title} ***" + licence,
        "no_spaces": p["header"] + f"***START OF THE PROJECT GUTENBERG EBOOK {title}***" + p["body"] + p["end_line"]
                     + f"***END OF THE PROJECT GUTENBERG EBOOK {title}***" + licence,
        "2020s": p["header"] + f"*** START OF THE PROJECT GUTENBERG EBOOK {title} ***" + p["body"]
                 + f"*** END OF THE PROJECT GUTENBERG EBOOK {title} ***" + licence,
        "end_of_the_ebook": p["header"] + f"*** START OF THIS PROJECT GUTENBERG EBOOK {title} ***" + p["body"]
                            + f"End of the Project Gutenberg EBook of The Devil's Dictionary, by Ambrose Bierce{eol}{eol}"
                            + f"*** END OF THIS PROJECT GUTENBERG EBOOK {title} ***" + licence,
        "end_line_only": p["header"] + f"*** START OF THIS PROJECT GUTENBERG EBOOK {title} ***" + p["body"]
                         + p["end_line"].rstrip() + eol + licence,  # no *** END marker: the "End of" line ends it
        "1990s_small_print": "**The Project Gutenberg Etext of The Devil's Dictionary, by Ambrose Bierce**" + eol
                             + licence + eol + SMALL_PRINT_90S + p["body"]
                             + f"End of the Project Gutenberg Etext of The Devil's Dictionary{eol}",
        "2000s_small_print": "The Project Gutenberg EBook of The Devil's Dictionary, by Ambrose Bierce" + eol
                             + licence + eol + SMALL_PRINT_00S + p["body"]
                             + f"End of the Project Gutenberg EBook of The Devil's Dictionary{eol}",
        "small_print_licence_after_end": "**The Project Gutenberg Etext of The Devil's Dictionary**" + eol
                                         + SMALL_PRINT_90S + p["body"]
                                         + f"End of the Project Gutenberg Etext of The Devil's Dictionary{eol}"
                                         + licence,
        "lower_case": p["header"] + f"*** start of this project gutenberg ebook {title.lower()} ***" + p["body"]
                      + p["end_line"] + f"*** end of this project gutenberg ebook {title.lower()} ***" + licence,
        "etext": p["header"] + f"*** START OF THIS PROJECT GUTENBERG ETEXT {title} ***" + p["body"] + p["end_line"]
                 + f"*** END OF THIS PROJECT GUTENBERG ETEXT {title} ***" + licence,
        "copyrighted": p["header"] + f"*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK {title} ***" + p["body"]
                       + p["end_line"] + f"*** END OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK {title} ***" + licence,
        # 2000-2002: the banner and fields, no start marker; the small print at the bottom
        "banner_no_start": p["header"] + p["body"] + p["end_line"] + licence,
        "banner_small_print_at_bottom": p["header"] + p["body"] + SMALL_PRINT_START_00S + eol + licence + eol
                                        + SMALL_PRINT_00S + eol,
    }


VARIANTS = ["2000s", "no_spaces", "2020s", "end_of_the_ebook", "end_line_only", "1990s_small_print",
            "2000s_small_print", "small_print_licence_after_end", "lower_case", "etext", "copyrighted",
            "banner_no_start", "banner_small_print_at_bottom"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("encoding", ["crlf", "lf", "bom_crlf", "bom_lf"])
def test_every_era_of_markers_keeps_the_body_and_drops_the_licence(tmp_path: Path, parts: dict[str, str],
                                                                  variant: str, encoding: str) -> None:
    text = _variants(parts)[variant]
    if "lf" in encoding and "crlf" not in encoding:
        text = text.replace("\r\n", "\n")
    data = (b"\xef\xbb\xbf" if encoding.startswith("bom") else b"") + text.encode("utf-8")
    (doc,), tally = read(tmp_path, data)
    assert_body_whole_and_clean(doc, parts)
    assert tally.counts["books.gutenberg_stripped"] == 1 and not doc.text.startswith("\ufeff")


def test_a_book_without_markers_is_kept_whole(tmp_path: Path, parts: dict[str, str]) -> None:
    (doc,), tally = read(tmp_path, parts["body"])
    assert doc.text.split("\n")[0] == "Produced by Aloysius"  # nothing told it was a PG file: all kept
    assert "books.gutenberg_stripped" not in tally.counts
    assert set(body_lines(parts["body"])) <= {line.strip() for line in doc.text.split("\n")}


@pytest.mark.parametrize("start, end", [
    ("***** START OF THE PROJECT GUTENBERG EBOOK", "***** END OF THE PROJECT GUTENBERG EBOOK"),  # not a known form
    ("", ""),
])
def test_a_gutenberg_file_whose_markers_are_not_known_is_kept_whole_and_counted(
        tmp_path: Path, parts: dict[str, str], start: str, end: str) -> None:
    text = parts["header"] + start + parts["body"] + end + parts["footer"]
    (doc,), tally = read(tmp_path, text)
    assert set(body_lines(parts["body"])) <= {line.strip() for line in doc.text.split("\n")}  # never lost
    assert "books.gutenberg_stripped" not in tally.counts and tally.counts["books.gutenberg_unmarked"] == 1


def test_a_book_that_is_not_from_gutenberg_is_not_counted_as_unmarked(tmp_path: Path, shared_data: Path) -> None:
    _, tally = read(tmp_path, (shared_data / "books" / "the-verdict.txt").read_bytes())
    assert "books.gutenberg_unmarked" not in tally.counts and "books.gutenberg_stripped" not in tally.counts
