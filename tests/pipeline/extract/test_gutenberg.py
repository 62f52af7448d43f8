"""Gutenberg boilerplate removal and paragraph unwrapping, on small texts in each marker style."""

from __future__ import annotations

import pytest

from pipeline.extract.gutenberg import normalize_newlines, split_gutenberg, unwrap_paragraphs

HEADER = (
    "The Project Gutenberg EBook of Sample Book, by Some One\n\n"
    "This eBook is for the use of anyone anywhere at no cost\n\n"
    "Title: Sample Book\n       A Subtitle\n\nAuthor: Some One\n\n"
    "Release Date: July 6, 2005 [EBook #16215]\n\nLanguage: English\n\n"
)
BODY = "CHAPTER I\n\nIt was a dark night.\n\nTHE END"
FOOTER_LICENCE = "\n\n*** START: FULL LICENSE ***\n\nTHE FULL PROJECT GUTENBERG LICENSE\nPlease read this."

MARKER_STYLES = {
    "this-spaced": ("*** START OF THIS PROJECT GUTENBERG EBOOK SAMPLE ***",
                    "*** END OF THIS PROJECT GUTENBERG EBOOK SAMPLE ***"),
    "the-unspaced": ("***START OF THE PROJECT GUTENBERG EBOOK SAMPLE***",
                     "***END OF THE PROJECT GUTENBERG EBOOK SAMPLE***"),
    "post-2020": ("*** START OF THE PROJECT GUTENBERG EBOOK SAMPLE ***",
                  "*** END OF THE PROJECT GUTENBERG EBOOK SAMPLE ***"),
    "lower-case-etext": ("*** start of the project gutenberg etext sample ***",
                         "*** end of the project gutenberg etext sample ***"),
}


@pytest.mark.parametrize("style", sorted(MARKER_STYLES))
def test_every_marker_style_is_stripped(style: str) -> None:
    start, end = MARKER_STYLES[style]
    text = f"{HEADER}{start}\n\n\n\nProduced by A Volunteer and the\nOnline Team\n\n\n{BODY}\n\n\n" \
           f"End of the Project Gutenberg EBook of Sample Book\n\n{end}{FOOTER_LICENCE}"
    book = split_gutenberg(text)
    assert book.body == BODY  # credits, header, end line, marker and licence gone
    assert book.has_markers
    assert (book.title, book.author) == ("Sample Book A Subtitle", "Some One")
    assert (book.language, book.date) == ("English", "2005-07-06")


def test_old_small_print_header() -> None:
    text = ("**The Project Gutenberg Etext of Old Book, by Ann Author**\n\n"
            "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
            "*****SMALL PRINT! for PUBLIC DOMAIN ETEXTS*****\nlegal text\n"
            "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
            f"{BODY}\n\nEnd of the Project Gutenberg Etext of Old Book\n")
    book = split_gutenberg(text)
    assert book.body == BODY
    assert (book.title, book.author) == ("Old Book", "Ann Author")


def test_end_line_without_marker_and_start_without_end() -> None:
    only_end = split_gutenberg(f"{BODY}\n\nEnd of Project Gutenberg's Sample, by X\n\nlicence")
    assert only_end.body == BODY
    truncated = split_gutenberg(f"{HEADER}*** START OF THIS PROJECT GUTENBERG EBOOK S ***\n{BODY}\n")
    assert truncated.body == BODY and truncated.title == "Sample Book A Subtitle"


def test_body_lines_that_mention_end_are_kept() -> None:
    text = f"*** START OF THIS PROJECT GUTENBERG EBOOK S ***\nEND OF THE FIRST EPOCH.\n\n{BODY}\n"
    assert split_gutenberg(text).body == f"END OF THE FIRST EPOCH.\n\n{BODY}"


def test_text_without_markers_is_all_book() -> None:
    book = split_gutenberg("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    assert not book.has_markers and book.title is None
    assert book.body.startswith("First Citizen:")


def test_newlines_normalised() -> None:
    assert normalize_newlines("a\r\nb\rc\n") == "a\nb\nc\n"


PROSE = (
    "It was owing to the untimely end of this poor fellow that Mrs. Sheppard\n"
    "was left a widow, and the child an orphan; and the good carpenter, who\n"
    "had been his master, took compassion on them both.\n"
)


def test_hard_wrapped_prose_is_joined_into_paragraphs() -> None:
    text = f"{PROSE}\n{PROSE}"
    one = PROSE.replace("\n", " ").strip()
    # A text needs enough lines for its wrap width to be measured; repeat the paragraph.
    assert unwrap_paragraphs((text + "\n") * 5).split("\n\n")[0] == one


def test_verse_and_short_lines_inside_prose_keep_their_breaks() -> None:
    verse = "    Jolly nose! the bright rubies that garnish thy tip\n      Are dug from the mines of canary;\n"
    heading = "CHAPTER II\nTHE NIGHT\n"
    text = (PROSE + "\n") * 5 + verse + "\n" + heading
    out = unwrap_paragraphs(text)
    assert verse.rstrip("\n") in out
    assert heading.rstrip("\n") in out


def test_play_and_one_line_paragraphs_unchanged() -> None:
    play = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20
    assert unwrap_paragraphs(play) == play
    long_lines = ("word " * 150 + "\n\n") * 5
    assert unwrap_paragraphs(long_lines).split("\n\n")[0] == ("word " * 150).rstrip()


def test_dash_and_hyphen_ends_join_without_space() -> None:
    lines = ("a" * 60 + " genius--\nthough a good fellow enough, he said, and a great painter to-\nday and always\n\n") * 6
    out = unwrap_paragraphs(lines)
    assert "genius--though" in out and "to-day" in out
