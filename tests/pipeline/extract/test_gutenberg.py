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


# Hongloumeng's first lines as the shared Gutenberg file wraps them (36 characters, 71 columns a line), and a
# paragraph that starts with the ideographic spaces its paragraphs start with
_CJK_WRAPPED = ("人過去請時，那家人去了回來說：“和尚說，賈爺今日五鼓已進京去了，也\n"
                "曾留下話与和尚轉達老爺，說`讀書人不在黃道黑道，總以事理為要，不及\n"
                "面辭了．真是閒處光陰易過，倏忽又是元霄佳節士隱命家人霍啟抱了英蓮去\n"
                "看社火花燈．\n"
                "　　不想這日三月十五，葫蘆廟中炸供，那些和尚不加小心，致使油鍋火逸，\n"
                "便燒著窗紙．\n")


def test_hard_wrapped_chinese_is_joined_without_spaces_and_keeps_its_paragraphs() -> None:
    # measured in characters the lines were 36 wide, under MIN_WRAP: every mid-sentence break stayed
    out = unwrap_paragraphs(_CJK_WRAPPED * 5)
    paragraphs = out.rstrip("\n").split("\n")
    assert paragraphs[0] == ("人過去請時，那家人去了回來說：“和尚說，賈爺今日五鼓已進京去了，也曾留下話与和尚轉達老爺，說`讀書人不在"
                             "黃道黑道，總以事理為要，不及面辭了．真是閒處光陰易過，倏忽又是元霄佳節士隱命家人霍啟抱了英蓮去看社火花燈．")
    assert paragraphs[1] == "　　不想這日三月十五，葫蘆廟中炸供，那些和尚不加小心，致使油鍋火逸，便燒著窗紙．"
    assert " " not in out and len(paragraphs) == 10


def test_headings_rules_and_sentence_ends_keep_their_breaks_in_wrapped_chinese() -> None:
    # Hongloumeng's chapter openings: a heading, a rule of dashes wider than any line, the chapter's title; and
    # a chapter that ends on a full line right above the next heading
    opening = "第五回\n" + "-" * 70 + "\n游幻境指迷十二釵　飲仙醪曲演紅樓夢\n\n"
    ending = "方出來叫人打藥去煎給秦氏吃．不知秦氏服了此藥病勢如何，下回分解．\n第十一回　慶壽辰宁府排家宴\n"
    out = unwrap_paragraphs((_CJK_WRAPPED + "\n") * 5 + opening + ending)
    assert "\n第五回\n" + "-" * 70 + "\n游幻境" in out
    assert "下回分解．\n第十一回" in out


def test_a_numbered_heading_after_an_open_line_starts_its_own_line() -> None:
    # Hongloumeng's chapter 71 ends mid-sentence on a full line ending in "——" (no sentence end), right above the
    # next heading: the heading still starts a line; an ordinal in running text ("第一回也") and a round of a fight
    # ("第三回合") are no headings and join
    ending = "司棋听了，只得松手讓他去了，又說了許多話，眾人也都听見了，這才罷了——\n第七十二回　王熙鳳恃強羞說病\n"
    out = unwrap_paragraphs((_CJK_WRAPPED + "\n") * 5 + ending)
    assert "罷了——\n第七十二回　王熙鳳" in out
    prose = "此書開卷第一段說的是甄士隱夢幻識通靈，賈雨村風塵怀閨秀，又說了許多話，\n第三回合眾人都听見了，這才罷了．\n"
    out = unwrap_paragraphs((_CJK_WRAPPED + "\n") * 5 + prose)
    assert "許多話，第三回合眾人" in out


def test_mixed_width_lines_are_measured_in_columns() -> None:
    from pipeline.extract.gutenberg import columns, wrap_width

    assert columns("abc") == 3 and columns("也曾") == 4 and columns("Faust，也") == 9 and columns("") == 0
    assert wrap_width(["也" * 36] * 20) == 72 and wrap_width(["é" * 70] * 20) == 70


# --- no body is ever lost -----------------------------------------------------------------------------------

def test_a_book_without_blank_lines_keeps_its_text() -> None:
    """The credit is one line; the chapter right below it is the book, not more credit."""
    book = split_gutenberg("*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nProduced by A\nCHAPTER I\n"
                           "It was night.\n*** END OF THIS PROJECT GUTENBERG EBOOK X ***\n")
    assert book.body == "CHAPTER I\nIt was night."


LOG_SCHOOL_HOUSE = (
    "Title: The Log School-House on the Columbia\n\nAuthor: Hezekiah Butterworth\n\n"
    "***START OF THE PROJECT GUTENBERG EBOOK THE LOG SCHOOL-HOUSE ON THE\nCOLUMBIA***\n\n\n"
    "E-text prepared by Roger Frank\nand the Project Gutenberg Online Distributed Proofreading Team\n"
    "(http://www.pgdp.net)\n\n\n\n"
    "Note: Project Gutenberg also has an HTML version of this\n"
    "      file which includes the original illustrations.\n      See 19583-h.htm or 19583-h.zip:\n"
    "      (http://www.gutenberg.org/dirs/1/9/5/8/19583/19583-h/19583-h.htm)\n      or\n"
    "      (http://www.gutenberg.org/dirs/1/9/5/8/19583/19583-h.zip)\n\n\n"
    "THE LOG SCHOOL-HOUSE ON THE COLUMBIA\n\nCHAPTER I\n\nThe river was wide.\n\n"
    "***END OF THE PROJECT GUTENBERG EBOOK THE LOG SCHOOL-HOUSE ON THE\nCOLUMBIA***\n\nlicence text\n"
)
LOG_BODY = "THE LOG SCHOOL-HOUSE ON THE COLUMBIA\n\nCHAPTER I\n\nThe river was wide."


@pytest.mark.parametrize("layout", ["lf", "crlf", "bom-crlf", "bare-cr", "no-blank-lines"])
def test_wrapped_marker_credits_and_html_note_go_the_book_stays(layout: str) -> None:
    text, body = LOG_SCHOOL_HOUSE, LOG_BODY
    if layout == "no-blank-lines":
        text = "\n".join(line for line in text.split("\n") if line.strip())
        body = "\n".join(line for line in body.split("\n") if line.strip())
    text = {"crlf": text.replace("\n", "\r\n"), "bom-crlf": "\ufeff" + text.replace("\n", "\r\n"),
            "bare-cr": text.replace("\n", "\r")}.get(layout, text)
    book = split_gutenberg(text)
    assert book.body == body
    assert (book.title, book.author) == ("The Log School-House on the Columbia", "Hezekiah Butterworth")


@pytest.mark.parametrize("credit", [
    "Produced by Rick Niles, Melissa Er-Raqabi, Ronald Holder and the\nOnline Distributed Proofreading Team.",
    "Transcribed from the 1908 Longmans, Green, and Co. edition by David\nPrice, email ccx074@pglaf.org",
    "Produced by Jason Isbell, Ben Beasley and the Online\nDistributed Proofreading Team at http://www.pgdp.net",
    "(This file was produced from images generously made\navailable by The Internet Archive)",
    "Produced by: Wei-yi Kao",
    "This eBook is also available in HTML format,\n    with the original illustrations.",
])
def test_a_credit_ends_where_the_book_begins_even_without_a_blank_line(credit: str) -> None:
    body = "[Illustration: THE MILL]\nKATRINE\nIt was a dark night, and the miller slept."
    for gap in ("\n", "\n\n\n"):
        book = split_gutenberg(f"*** START OF THE PROJECT GUTENBERG EBOOK K ***\n{credit}{gap}{body}\n")
        assert book.body == body, (credit, gap)


def test_a_body_that_opens_like_a_note_is_cut_at_most_a_few_lines() -> None:
    """A credit never swallows more than MAX_NOTE_LINES lines, whatever follows it."""
    lines = [f"and the line {i} of a long run-on credit" for i in range(30)]
    book = split_gutenberg("*** START OF THE PROJECT GUTENBERG EBOOK K ***\nProduced by A and\n" + "\n".join(lines))
    assert book.body.split("\n")[-22:] == lines[-22:]


def test_a_header_that_is_not_gutenbergs_keeps_all_text_and_gives_title_and_author() -> None:
    text = ("Title: A Modest Proposal\nAuthor: Jonathan Swift\nSource: Wikisource\n\n"
            "It is a melancholy object to those who walk through this great town.\n")
    book = split_gutenberg(text)
    assert book.body == text and not book.has_markers
    assert (book.title, book.author) == ("A Modest Proposal", "Jonathan Swift")
    plain = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    assert split_gutenberg("\ufeff" + plain).body == plain and split_gutenberg(plain).title is None


def test_an_end_line_between_volumes_does_not_end_the_book() -> None:
    volume_two = "VOLUME II\n\nThe second volume begins here.\n" * 60  # far more than END_LINE_REACH
    text = ("*** START OF THIS PROJECT GUTENBERG EBOOK WORKS ***\n\nVOLUME I\n\nThe first volume.\n\n"
            "End of the Project Gutenberg EBook of Works, Volume I\n\n" + volume_two +
            "\nEnd of the Project Gutenberg EBook of Works, by A\n\n*** END OF THIS PROJECT GUTENBERG EBOOK WORKS ***\n"
            "licence")
    body = split_gutenberg(text).body
    assert body.startswith("VOLUME I\n") and body.endswith("The second volume begins here.")
    assert "Works, by A" not in body and "licence" not in body


# --- marker variants from other projects' lists of real PG files (bench/gutenberg_markers.py) ---------------

LICENCE = "\n\nTHE FULL PROJECT GUTENBERG LICENSE\nPlease read this before you distribute or use this work.\n"


@pytest.mark.parametrize("start, end", [
    ("*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK SAMPLE ***",
     "*** END OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK SAMPLE ***"),
    ("Beginning of this Project Gutenberg Etext of Sample Book", "End of this Project Gutenberg Etext of Sample Book"),
])
def test_copyrighted_and_beginning_of_markers(start: str, end: str) -> None:
    book = split_gutenberg(f"{HEADER}{start}\n\n{BODY}\n\n{end}{LICENCE}")
    assert book.body == BODY and book.has_markers and book.title == "Sample Book A Subtitle"


@pytest.mark.parametrize("end", [
    "End of this is COPYRIGHTED Project Gutenberg Etext of Sample Book",
    "**This is a COPYRIGHTED Project Gutenberg Etext, Details Above**",
    "Ende dieses Project Gutenberg Etextes Faust",
    "Ende dieses Projekt Gutenberg Etextes Faust",
    "Ende diese Project Gutenberg Etextes Faust",
    "Ende dieses Project Gutenber Etextes Faust",  # PG's own typo
    "Ende dieses Etextes Faust",
    "Fin de Project Gutenberg Etext de Madame Bovary",
])
def test_end_lines_of_other_eras_and_languages(end: str) -> None:
    for header in (f"{HEADER}*** START OF THIS PROJECT GUTENBERG EBOOK SAMPLE ***\n\n", ""):
        book = split_gutenberg(f"{header}{BODY}\n\n{end}{LICENCE}")
        assert book.body == BODY and book.has_markers, (header[:20], end)


def test_the_full_licence_ends_a_book_whose_end_line_is_missing_but_not_one_whose_header_quotes_it() -> None:
    start = "*** START OF THIS PROJECT GUTENBERG EBOOK SAMPLE ***\n\n"
    assert split_gutenberg(f"{HEADER}{start}{BODY}\n\n*** START: FULL LICENSE ***{LICENCE}").body == BODY
    quoted = f"{HEADER}*** START: FULL LICENSE ***{LICENCE}\n{start}{BODY}\n\nEnd of Project Gutenberg's Sample\n"
    assert split_gutenberg(quoted).body == BODY


def test_body_lines_in_other_languages_that_open_like_end_lines_are_kept() -> None:
    body = ("Ende dieses Jahres zog er fort.\n\nFin de la première partie.\n\nEnd of the chapter, and of the day.\n\n"
            "This is a COPYRIGHTED work, Details Below.\n\n" + BODY)
    book = split_gutenberg(f"*** START OF THIS PROJECT GUTENBERG EBOOK S ***\n{body}\n")
    assert book.body == body


def test_a_copyrighted_notice_at_the_top_is_not_an_end() -> None:
    text = ("**This is a COPYRIGHTED Project Gutenberg Etext, Details Below**\n\n"
            f"{HEADER}*** START OF THE PROJECT GUTENBERG EBOOK SAMPLE ***\n\n{BODY}\n\n"
            "**This is a COPYRIGHTED Project Gutenberg Etext, Details Above**\n" + LICENCE)
    assert split_gutenberg(text).body == BODY


SMALL_PRINT_FOOTER = ("\n\n***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN EBOOKS**START***\n"
                      "Why is this \"Small Print!\" statement here? You know: lawyers.\n"
                      "*END THE SMALL PRINT! FOR PUBLIC DOMAIN EBOOKS*Ver.02/11/02*END*\n")


def test_the_small_print_in_the_footer_ends_the_book_without_an_end_line() -> None:
    text = f"{HEADER}*** START OF THE PROJECT GUTENBERG EBOOK SAMPLE ***\n\n{BODY}{SMALL_PRINT_FOOTER}"
    assert split_gutenberg(text).body == BODY


# The 2000-2002 e-texts: no start marker, the small print at the bottom; the header is the banner, PG's
# paragraphs and the fields, then the credits and the book.
HEADER_2001 = (
    "The Project Gutenberg Etext of Sample Book, by Some One\n\n"
    "Copyright laws are changing all over the world, be sure to check\nthe laws for your country.\n\n"
    "Please read the \"legal small print,\" and other information about the\n"
    "eBook and Project Gutenberg at the bottom of this file.  Included is\n"
    "important information about your specific rights and restrictions in\nhow the file may be used.\n\n\n"
    "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
    "**eBooks Readable By Both Humans and By Computers, Since 1971**\n\n"
    "*****These eBooks Were Prepared By Thousands of Volunteers!*****\n\n\n"
    "Title: Sample Book\n\nAuthor: Some One\n\n"
    "Release Date: July, 2001  [Etext #2701]\n[Yes, we are more than one year ahead of schedule]\n"
    "This file was first posted on July 6, 2001\n\nEdition: 10\n\nLanguage: English\n\n"
    "Character set encoding: ASCII\n\n"
    "*The Project Gutenberg Etext of Sample Book, by Some One*\n\n"
    "This etext was prepared by A Volunteer and the\nOnline Distributed Proofreading Team.\n\n\n"
)


@pytest.mark.parametrize("footer", [
    "\n\nEnd of The Project Gutenberg Etext of Sample Book" + SMALL_PRINT_FOOTER,
    SMALL_PRINT_FOOTER,
])
def test_a_banner_header_without_a_start_marker_goes(footer: str) -> None:
    for text in (HEADER_2001 + BODY + footer, (HEADER_2001 + BODY + footer).replace("\n", "\r\n")):
        book = split_gutenberg(text)
        assert book.body == BODY and book.has_markers
        assert (book.title, book.author, book.language, book.date) == ("Sample Book", "Some One", "English", "2001-07")


def test_a_banner_header_with_nothing_at_the_end_keeps_the_file_whole() -> None:
    """No end line at all (a truncated file, or markers of an unknown form): all of it stays, to be counted."""
    book = split_gutenberg(HEADER_2001 + BODY + "\n")
    assert not book.has_markers and book.body == HEADER_2001 + BODY + "\n"


def test_after_a_banner_header_a_body_that_names_gutenberg_stays() -> None:
    body = ("[Illustration: THE MILL]\n\nPlease read the letter below.\n\n"
            "I first read this story as a Project Gutenberg etext, on a train.\n\n"
            "Produced in 1901, the play ran for a year.\n\n" + BODY)
    book = split_gutenberg(HEADER_2001.split("*The Project")[0] + body + "\n\nEnd of the Project Gutenberg Etext\n")
    assert book.body == body


def test_a_banner_without_a_header_keeps_the_book() -> None:
    """No blank line after the banner: the only "paragraph" is the whole file, never a header."""
    lines = ["The Project Gutenberg Etext of Sample Book, by Some One", "Title: Sample Book"]
    lines += [f"It was the {i}th night of the voyage, and the sea was calm." for i in range(60)]
    assert split_gutenberg("\n".join(lines)).body == "\n".join(lines)


def test_inline_copyright_notices_are_removed_and_the_plays_around_them_stay() -> None:
    notice = ("<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS OF WILLIAM\nSHAKESPEARE IS COPYRIGHT 1990-1993 BY "
              "WORLD LIBRARY, INC., AND IS\nPROVIDED BY PROJECT GUTENBERG ETEXT OF ILLINOIS BENEDICTINE COLLEGE\n"
              "WITH PERMISSION.\nSERVICE THAT CHARGES FOR DOWNLOAD TIME OR FOR MEMBERSHIP.>>\n")
    text = (f"*** START OF THIS PROJECT GUTENBERG EBOOK WORKS ***\n\nACT I\n\n{notice}\nSCENE I. Rome.\n\n"
            f"{notice}\nACT II\n\n*** END OF THIS PROJECT GUTENBERG EBOOK WORKS ***\n")
    assert split_gutenberg(text).body == "ACT I\n\n\nSCENE I. Rome.\n\n\nACT II"
    unclosed = "*** START OF THIS PROJECT GUTENBERG EBOOK W ***\n<<THIS ELECTRONIC VERSION OF it, he said\n" + BODY
    assert split_gutenberg(unclosed).body == unclosed.split("\n", 1)[1]  # no ">>": nothing is cut


def test_a_project_gutenberg_credit_line_goes() -> None:
    text = ("*** START OF THE PROJECT GUTENBERG EBOOK S ***\n\n"
            f"This Project Gutenberg Etext was prepared by A. Volunteer.\n\n{BODY}\n")
    assert split_gutenberg(text).body == BODY


def test_field_names_in_any_case() -> None:
    """Since 2021 PG writes "Release date:"; its older files "Release Date:"."""
    header = ("Title: Faust\n\nAuthor: Goethe\n\nRelease date: June 1, 2000 [eBook #2229]\n"
              "                Most recently updated: May 26, 2021\n\nLanguage: German\n\n")
    book = split_gutenberg(f"{header}*** START OF THE PROJECT GUTENBERG EBOOK FAUST ***\n{BODY}\n")
    assert (book.title, book.date, book.language, book.body) == ("Faust", "2000-06-01", "German", BODY)


def test_the_1993_small_print_ends_at_its_version_line() -> None:
    """The Complete Works of 1993-94: the small print opens with "**** SMALL PRINT!" and ends with its
    version in brackets; no *END* line follows."""
    text = ("The Project Gutenberg Etext of The Complete Works of William Shakespeare\n\n"
            "****     SMALL PRINT!     for     COMPLETE SHAKESPEARE     *****\n\nTHIS ELECTRONIC VERSION ...\n\n"
            "[\"Small Print\" V.12.08.93]\n\n" + BODY + "\n\nEnd of this Etext of The Complete Works\n")
    assert split_gutenberg(text).body == BODY


@pytest.mark.parametrize("line", ["*END*THE SMALL PRINT FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*",
                                  "*END THE SMALL PRINT! FOR COPYRIGHT PROTECTED ETEXTS*END*"])
def test_small_print_ends_with_other_punctuation(line: str) -> None:
    text = (f"**The Project Gutenberg Etext of Old Book**\n\nlegal text\n{line}\n\n{BODY}\n\n"
            "End of the Project Gutenberg Etext\n")
    assert split_gutenberg(text).body == BODY


def test_french_credits_and_encoding_line() -> None:
    credit = ("Nous remercions la Bibliothèque Nationale de France qui a mis à\n"
              "notre disposition les images de cette oeuvre (http://gallica.bnf.fr)\n"
              "et l'authorization à les utilizer pour preparer ce texte.")
    body = "CHAPITRE PREMIER\n\nIl faisait nuit."
    text = ("The Project Gutenberg Etext of Madame Bovary, by Gustave Flaubert\n\nTitle: Madame Bovary\n\n"
            f"Text encoding is iso-8859-1\n\n{credit}\n\n{body}\n\nFin de Project Gutenberg Etext de Madame Bovary\n")
    assert split_gutenberg(text).body == body
    marked = f"*** START OF THE PROJECT GUTENBERG EBOOK MADAME BOVARY ***\n\n{credit}\n\n{body}\n"
    assert split_gutenberg(marked).body == body
