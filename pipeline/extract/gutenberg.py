"""Plain-text books: Project Gutenberg boilerplate removal, header metadata, and paragraph unwrapping.

Pure functions on ``str`` so the books reader stays a thin I/O shell and every rule here can be tested on
strings. The marker grammar is the one seen across PG's eras:

* ``*** START OF THIS PROJECT GUTENBERG EBOOK X ***`` (2000s), ``***START OF THE PROJECT GUTENBERG EBOOK
  X***`` (no spaces), and the post-2020 ``*** START OF THE PROJECT GUTENBERG EBOOK X ***``; the END markers
  mirror them;
* the 1990s ``*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*...*END*`` line (``*END THE SMALL PRINT! FOR
  PUBLIC DOMAIN EBOOKS*Ver.02/11/02*END*`` in the early 2000s; ``["Small Print" V.12.08.93]`` in 1993)
  closing a licence that sits *before* the book, with ``End of (the) Project Gutenberg Etext of X`` after it;
* the 2000-2002 files with the small print at the bottom and no start marker: their header is the banner
  and the paragraphs after it that read like PG's (``_banner_header_end``);
* copyrighted texts (``*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK``), German ("Ende dieses
  Project Gutenberg Etextes") and French ("Fin de Project Gutenberg") end lines.

``bench/gutenberg_markers.py`` checks these against the marker lists other projects collected.

Everything before the start marker (title page, licence summary) and from the end of the book on (the
"End of Project Gutenberg's X" line right before the END marker, the marker, the full licence) is
dropped, and so are the transcriber credits and "also available as HTML" notes that open the book. Those
notes are cut line by line, never by paragraph: a book without blank lines would otherwise be all
"credits" and vanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pipeline.extract.cjk_headings import opens_with_heading

_EBOOK = r"(?:E-?BOOK|E-?TEXT)"
_PG = r"(?:COPYRIGHTED )?PROJECT GUTENBERG"  # "*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK X ***"
START_RE = re.compile(
    r"^[ \t\ufeff]*(?:\*{3}[ \t]*START OF (?:THIS|THE) " + _PG + " " + _EBOOK + r"\b.*"
    r"|\*END\*?[ \t]*THE SMALL PRINT\b.*"  # "*END*THE SMALL PRINT!" (1990s), "*END THE SMALL PRINT!" (2000s)
    r"|\[\"Small Print\" V\.[^\]\n]*\]"  # the last line of the 1993-94 small print ("V.12.08.93"), no *END* line
    r"|\W{0,3}Beginning of (?:this |the )?Project Gutenberg\b.*)$",
    re.IGNORECASE | re.MULTILINE,
)
END_RE = re.compile(
    r"^[ \t\ufeff]*(?:\*{3}[ \t]*END OF (?:THIS|THE) " + _PG + " " + _EBOOK + r"\b.*"
    r"|END OF (?:THE |THIS )?(?:IS )?" + _PG + r"(?:'S)?\b.*"  # "End of this is COPYRIGHTED Project Gutenberg ..."
    r"|END OF (?:THE |THIS )E-?TEXT OF\b.*"  # "End of this Etext of The Complete Works of William Shakespeare"
    r"|\**[ \t]*This is a COPYRIGHTED Project Gutenberg " + _EBOOK + r", Details Above\W*"  # "... Below" opens it
    r"|Ende diese[sr]? (?:Proje[ck]t Gutenberg?|" + _EBOOK + r"(?:E?S)?)\b.*"  # German e-texts, a PG typo included
    r"|Fin d[eu] (?:Proje[ck]t|Projet) Gutenberg\b.*)$",  # French e-texts
    re.IGNORECASE | re.MULTILINE,
)
# The "***"-marker alone: when a book has one, only an end line right before it ends the book, so an
# "End of the Project Gutenberg EBook of ..., Volume I" between two volumes of one file cuts nothing.
MARKER_END_RE = re.compile(
    r"^[ \t\ufeff]*\*{3}[ \t]*END OF (?:THIS|THE) " + _PG + " " + _EBOOK + r"\b.*$",
    re.IGNORECASE | re.MULTILINE,
)
# Where a footer begins when its end line is missing; past the header only: the small print's first line
# (2000-2002 e-texts; in the 1990s the same line opened the small print in the header, before "*END*THE
# SMALL PRINT!") and the full licence's (a file's header may quote the licence too).
FOOTER_SMALL_PRINT_RE = re.compile(r"^[ \t]*\*{2,}[ \t]*START\*+[ \t]*THE SMALL PRINT!.*$",
                                   re.IGNORECASE | re.MULTILINE)
FULL_LICENCE_RE = re.compile(r"^[ \t]*\*{3}[ \t]*START: FULL LICEN[CS]E[ \t]*\*{3}[ \t]*$",
                             re.IGNORECASE | re.MULTILINE)
END_LINE_REACH = 1000  # chars between an "End of Project Gutenberg's X" line and the marker it goes with
# A marker whose title wraps ("***START OF THE PROJECT GUTENBERG EBOOK THE LOG SCHOOL-HOUSE ON THE" /
# "COLUMBIA***") ends on the first of the next lines that closes with "***", if one comes before a blank line.
MARKER_TAIL_LINES = 3
MARKER_TAIL_CHARS = 100
# Packaging notes right after the start marker: transcriber credits and pointers to other editions. Each
# is a block that starts with one of these phrases and runs on only while its lines read as its
# continuation (see ``_note_end``), so a book with no blank line after "Produced by A" keeps its text.
CREDIT_RE = re.compile(
    r"\W{0,3}(?:Produced by|Transcribed (?:from|by)|"
    r"This (?:Project Gutenberg )?(?:e-?text|e-?book|file) was (?:prepared|produced|created)|"
    r"E-?(?:text|book) prepared by|Prepared by|Images of the original pages are available|Credits?:|"
    r"Nous remercions la Biblioth)",  # French e-texts: "... la Bibliothèque nationale de France qui a mis à"
    re.IGNORECASE,
)
HTML_NOTE_RE = re.compile(
    r"[^\n]{0,80}?\bHTML\b[^\n]{0,12}?\b(?:version|format|file|edition|copy)\b|[^\n]{0,80}?\bavailable "
    r"(?:as|in) HTML\b",
    re.IGNORECASE,
)
# A line carrying one of these continues the note it follows (URLs, file names, proofreading teams).
NOTE_VOCABULARY_RE = re.compile(
    r"https?://|www\.|\S@\w|\be-?mail\b|\.html?\b|\.zip\b|\bpgdp\b|proofread|\bdistributed\b|\barchive\.org\b|"
    r"\bInternet Archive\b|\bimages?\b|\bscans?\b|\bLibrary\b|\bTeam\b|\bgenerously\b|\bmade available\b",
    re.IGNORECASE,
)
# A line that ends mid-phrase ("... Ronald Holder and the") is continued by the next one.
CONNECTIVE_END_RE = re.compile(r"(?:\b(?:and|the|of|by|from|at|with|for|in|on|to)|[,&(:/-])\s*$", re.IGNORECASE)
CONTINUATION_START_RE = re.compile(r"\s*(?:[a-z(&]|and\b|or\b)")
MAX_NOTE_LINES = 8  # a credit or note never takes more lines than this
MAX_LEADING_NOTES = 4
FIELD_RE = re.compile(r"^(Title|Author|Language|Release Date|Posting Date):[ \t]*(.*)$",  # "Release date:" since 2021
                      re.MULTILINE | re.IGNORECASE)
BANNER_RE = re.compile(r"^\W*The Project Gutenberg E-?(?:book|text),? (?:of )?(.+?), by (.+?)[\s*]*$",
                       re.IGNORECASE | re.MULTILINE)
TRAILER_CHARS = 500  # a small-print end with less than this after it closes the file, not a header
HEADER_SCAN = 4000  # without a start marker, look for "Title:" etc. only this far
# A file with no start marker that opens with PG's banner ("The Project Gutenberg Etext of X, by Y", as
# the 2000-2002 e-texts with the small print at the bottom do) has a header all the same: the paragraphs
# that open like PG's boilerplate, or hold only "Field: value" lines and [bracketed] notes. It ends at the
# first other paragraph; credits after it go as after a marker (``_drop_leading_notes``).
BANNER_OPEN_RE = re.compile(r"\s*\W{0,5}The Project Gutenberg E-?(?:book|text)\b", re.IGNORECASE)
HEADER_PARAGRAPH_RE = re.compile(
    r"\W{0,5}(?:(?:The |This )?Project Gutenberg\b|Copyright laws are changing|This header should be the first|"
    r"Please read the \"legal small print|Please take a look at the important information|"
    r"We encourage you to keep this file|Welcome To The World of Free|E-?(?:texts|books) Readable By|"
    r"These E-?(?:texts|books) (?:Were )?Prepared By|Information on contacting Project Gutenberg|"
    r"We need your donations|This e-?(?:book|text) is for the use of anyone|\W*SMALL PRINT!|#\d+ in our series|"
    r"Corrected EDITIONS of our|Versions based on separate sources|\[?E-?(?:text|book) #\d+|Text encoding is)",
    re.IGNORECASE,
)
HEADER_FIELD_RE = re.compile(
    r"\s*(?:(?:Title|Sub-?title|Authors?|Editors?|Translators?|Illustrators?|Contributors?|Commentator|"
    r"Release Date|Posting Date|First Posted|Last Updated|Most recently updated|Edition|Language|"
    r"Character set encoding|Original publication|Series|Credits|Produced by):[ \t]*\S|"
    r"\[[^\]]*(?:#\d|updated|posted|schedule)[^\]]*\]\s*$|"  # "[EBook #2701]", "[Most recently updated: ...]"
    r"This file was (?:first posted|last updated)\b)",
    re.IGNORECASE,
)
HEADER_MAX_PARAGRAPH_LINES = 40  # longer is never a header paragraph (a book without blank lines)
HEADER_MAX_CHARS = 12000
# Copyright notes inside the text of some early e-texts (the Complete Works of Shakespeare repeats one
# between plays): "<<THIS ELECTRONIC VERSION OF ... SERVICE THAT CHARGES FOR DOWNLOAD TIME OR FOR MEMBERSHIP.>>"
INLINE_NOTICE_RE = re.compile(r"^<<THIS ELECTRONIC VERSION OF\b[^\n]*?(?:\n[^\n]*?){0,15}?>>[ \t]*$\n?", re.MULTILINE)
DATE_FORMATS = (("%B %d, %Y", "%Y-%m-%d"), ("%b %d, %Y", "%Y-%m-%d"), ("%B, %Y", "%Y-%m"), ("%B %Y", "%Y-%m"))


@dataclass
class Book:
    """A book split into its text and the metadata PG's header gave (``None`` where absent)."""

    body: str
    title: str | None = None
    author: str | None = None
    language: str | None = None
    date: str | None = None  # ISO-8601 (day or month precision) from "Release Date"/"Posting Date"
    has_markers: bool = False


def normalize_newlines(text: str) -> str:
    """CRLF and bare CR (old Mac files, Jack Sheppard) become ``\\n`` so the line rules below see lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _header_fields(header: str) -> dict[str, str]:
    """``Title:``-style fields; an indented line right after one continues it (PG wraps long titles)."""
    fields: dict[str, str] = {}
    lines = header.split("\n")
    for i, line in enumerate(lines):
        m = FIELD_RE.match(line)
        if not m or m.group(1).lower() in fields:
            continue
        parts = [m.group(2).strip()]
        for cont in lines[i + 1:]:
            if not cont[:1].isspace() or not cont.strip():
                break
            parts.append(cont.strip())
        value = " ".join(p for p in parts if p)
        if value:
            fields[m.group(1).lower()] = value
    return fields


def _iso_date(value: str) -> str | None:
    value = re.sub(r"\s*\[.*$", "", value).strip()  # "July 6, 2005 [EBook #16215]"
    for fmt, out in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).strftime(out)
        except ValueError:
            continue
    return None


def _marker_end(text: str, marker: re.Match[str]) -> int:
    """Where a start marker ends: past the lines its title wrapped onto, if it wrapped."""
    line = marker.group().strip(" \t\ufeff")
    if not line.startswith("***") or line.endswith("*"):
        return marker.end()
    pos = marker.end()  # the "\n" that ends the marker line
    for _ in range(MARKER_TAIL_LINES):
        if pos >= len(text):
            break
        nl = text.find("\n", pos + 1)
        nl = len(text) if nl < 0 else nl
        following = text[pos + 1: nl]
        if not following.strip() or len(following) > MARKER_TAIL_CHARS:
            break
        pos = nl
        if following.rstrip().endswith("***"):
            return pos
    return marker.end()


def _bracket_depth(line: str) -> int:
    return line.count("(") + line.count("[") - line.count(")") - line.count("]")


def _note_end(lines: list[str], first: int, indented_continues: bool) -> int:
    """Index just past the credit or note that starts at ``lines[first]``.

    A following line belongs to it while a bracket it opened is still open, the line before ended
    mid-phrase, the line starts in lower case or with "and"/"or", or it carries packaging words (URL,
    "Proofreading Team"); for edition notes also while lines are indented. A blank line always ends it,
    and so does ``MAX_NOTE_LINES``: a body line that follows the note directly stays in the book.
    """
    depth = _bracket_depth(lines[first])
    i = first + 1
    while i < len(lines) and i - first < MAX_NOTE_LINES:
        line = lines[i]
        if not line.strip():
            break
        continues = (
            depth > 0
            or bool(CONNECTIVE_END_RE.search(lines[i - 1]))
            or bool(CONTINUATION_START_RE.match(line))
            or bool(NOTE_VOCABULARY_RE.search(line))
            or (indented_continues and line[:1].isspace())
        )
        if not continues:
            break
        depth += _bracket_depth(line)
        i += 1
    return i


def _drop_leading_notes(body: str) -> str:
    """Remove the credits and "also available as HTML" notes that open the book, nothing after them."""
    lines = body.split("\n")
    i = 0
    for _ in range(MAX_LEADING_NOTES):
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines):
            break
        is_html_note = bool(HTML_NOTE_RE.match(lines[i]))
        if not is_html_note and not CREDIT_RE.match(lines[i]):
            break
        i = _note_end(lines, i, indented_continues=is_html_note)
    return "\n".join(lines[i:])


def _metadata(header: str) -> dict[str, str | None]:
    fields = _header_fields(header)
    title, author = fields.get("title"), fields.get("author")
    banner = BANNER_RE.search(header)
    if banner and not title:
        title = banner.group(1).strip()
    if banner and not author:
        author = banner.group(2).strip()
    date_field = fields.get("release date") or fields.get("posting date")
    return {"title": title, "author": author, "language": fields.get("language"),
            "date": _iso_date(date_field) if date_field else None}


def _book_end(text: str, body_from: int) -> re.Match[str] | None:
    """The end line that closes the book begun at ``body_from``.

    With a ``*** END OF ...`` marker, that marker, or the "End of ..." line just before it (within
    ``END_LINE_REACH``); without one, the first "End of Project Gutenberg's ..." line.
    """
    marker = MARKER_END_RE.search(text, body_from)
    if marker is None:
        ends = [m for m in (END_RE.search(text, body_from), FOOTER_SMALL_PRINT_RE.search(text, body_from),
                            FULL_LICENCE_RE.search(text, body_from)) if m]
        return min(ends, key=lambda m: m.start()) if ends else None
    near = END_RE.search(text, max(body_from, marker.start() - END_LINE_REACH), marker.start())
    return near or marker


_GUTENBERG_NAME = re.compile(r"project\s+gutenberg", re.IGNORECASE)
NAME_REACH = 5000  # PG names itself in its header and in its licence: the first and last characters of a file


def names_gutenberg(text: str) -> bool:
    """Whether ``text`` names Project Gutenberg near its start or end, as every PG file's header or licence
    does: a file that does and has no marker ``split_gutenberg`` knows is worth counting."""
    return bool(_GUTENBERG_NAME.search(text, 0, NAME_REACH)
                or _GUTENBERG_NAME.search(text, max(0, len(text) - NAME_REACH)))


def _banner_header_end(text: str) -> int | None:
    """Where the header of a file that opens with PG's banner but has no start marker ends, or None."""
    if not BANNER_OPEN_RE.match(text):
        return None
    pos, end = 0, None
    for para in re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*", text[:HEADER_MAX_CHARS]):
        lines = para.group().split("\n")
        if text[pos: para.start()].strip() or len(lines) > HEADER_MAX_PARAGRAPH_LINES:
            break
        is_header = HEADER_PARAGRAPH_RE.match(lines[0]) or (  # fields, their indented continuations, [notes]
            HEADER_FIELD_RE.match(lines[0]) and all(HEADER_FIELD_RE.match(x) or x[:1].isspace() for x in lines))
        if not is_header:
            break
        pos = end = para.end()
    return end


def split_gutenberg(text: str) -> Book:
    """Cut a text into PG header, book and footer; a text without markers is all book.

    CRLF, bare CR and a leading BOM are normalised first. The first start marker wins (a title that
    wraps onto the next line is part of it); the footer begins at the first end line after it, so the
    "START: FULL LICENSE" line inside the footer never matters. A start marker without an end keeps the
    rest (a truncated download); an end without a start keeps what precedes it. A text without any
    marker keeps all of its text, and its ``Title:``/``Author:`` lines, if it opens with such a header,
    still give the metadata.
    """
    text = normalize_newlines(text).lstrip("\ufeff")
    start = START_RE.search(text)
    end = END_RE.search(text)
    if start and end and end.start() < start.start():
        start = None  # the only "start" (an old small-print line) sits in the footer
    elif start and end is None and len(text[start.end():].strip()) < TRAILER_CHARS and (
            small_print := FOOTER_SMALL_PRINT_RE.search(text, 0, start.start())):
        start, end = None, small_print  # the same, in a file with no "End of" line before its small print
    # a banner-opened header without a start marker counts where an end line shows the file is PG's
    opened = _banner_header_end(text[: end.start()]) if start is None and end is not None else None
    if start is None and end is None:
        return Book(body=text, **_metadata(text[:HEADER_SCAN]))
    if start is not None:
        end = _book_end(text, start.end())
    elif opened is not None:
        end = _book_end(text, opened)
    header = text[: start.start()] if start else text[:opened] if opened else text[: min(end.start(), HEADER_SCAN)]
    body_from = _marker_end(text, start) if start else opened or 0
    body = INLINE_NOTICE_RE.sub("", text[body_from: end.start() if end else len(text)])
    return Book(body=_drop_leading_notes(body).strip("\n"), has_markers=True, **_metadata(header))


# --- unwrapping -------------------------------------------------------------------------------------------
# Rule: a text counts as hard-wrapped when the 95th percentile of its line widths (its wrap width W) lies
# in [MIN_WRAP, MAX_WRAP] -- PG prose is wrapped at 60-80 columns, verse and plays (tinyshakespeare: W=50)
# stay below, and texts with one paragraph per line (the-verdict: W=648) far above. In such a text a line
# is joined to the next when it ended only because the next word would not fit: width(line) + 1 +
# width(next word) > WRAP_FILL * W. Short lines (verse inside prose, headings, "THE END") and lines
# followed by an indented line (quotations, poems, tables) keep their line break.
# Widths are display columns, as the texts were wrapped: a Chinese or Japanese character (East Asian Wide or
# Fullwidth) takes two. Counted in characters, Hongloumeng's lines of 36 characters (71 columns) were under
# MIN_WRAP and kept every break, mid-sentence ("…也\n曾留下話…"); so were other CJK Gutenberg texts
# (bench/heldout_run.py). Such a text has no spaces: its next "word" is its first character, and lines
# meeting at a wide character join without a space.
MIN_WRAP, MAX_WRAP, WRAP_FILL = 60, 100, 0.92
# East Asian Wide and Fullwidth characters (Unicode's EastAsianWidth W and F): Hangul Jamo, CJK radicals to Yi,
# Hangul syllables, compatibility ideographs, vertical and fullwidth forms, the ideographs of planes 2 and 3
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")


_CJK_SENTENCE_END = "。．！？"
_LETTER = re.compile(r"[^\W_]")
_CLOSING = "”’」』）\"')"


def columns(line: str) -> int:
    """Display width of ``line``: two columns for each wide character, one for any other."""
    return len(line) if line.isascii() else len(line) + len(_WIDE.findall(line))


def wrap_width(lines: list[str]) -> int | None:
    """The text's wrap width (95th percentile of non-blank line widths, in columns), or None for an empty text."""
    lengths = sorted(columns(line) for line in lines if line.strip())
    if not lengths:
        return None
    return lengths[int(0.95 * (len(lengths) - 1))]


def _first_word(line: str) -> str:
    """The next line's first word: its first character where that is wide (unspaced CJK text)."""
    return line[0] if _WIDE.match(line) else line.split(None, 1)[0]


def unwrap_paragraphs(text: str) -> str:
    """Join hard-wrapped lines into one line per paragraph; paragraphs stay ``\\n\\n``-separated.

    Texts that do not look hard-wrapped (see the rule above) are returned unchanged apart from trailing
    spaces, so plays and one-line-per-paragraph files keep their shape.
    """
    lines = [line.rstrip() for line in text.split("\n")]
    width = wrap_width(lines)
    if width is None or not MIN_WRAP <= width <= MAX_WRAP:
        return "\n".join(lines)
    limit = WRAP_FILL * width
    out: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        # a word wider than any line (a rule of dashes) is no reason a line ended, nor is a rule a wrapped line
        joins = (
            bool(line.strip()) and bool(nxt.strip()) and not nxt[0].isspace()
            and columns(line) + 1 + (word := columns(_first_word(nxt))) > limit and word <= limit
            and _LETTER.search(line) is not None
            # a numbered CJK chapter heading starts its own line whatever the last ended with ("……——\n第九回　…")
            and not opens_with_heading(nxt)
        )
        if not joins:
            out.append(line + "\n")
        elif line.endswith("--") or (line.endswith("-") and line[-2:-1].isalpha()):
            out.append(line)  # em-dash or a hyphenated compound: no space ("genius--though", "to-day")
        elif _WIDE.match(line[-1]) or _WIDE.match(nxt):
            # CJK text: no spaces between its characters; a line that ends a sentence keeps its break, where
            # the next may be a chapter heading (Hongloumeng: "…下回分解．\n第七十一回　嫌隙人有心生嫌隙…")
            out.append(line + "\n" if line.rstrip(_CLOSING)[-1:] in _CJK_SENTENCE_END else line)
        else:
            out.append(line + " ")
    # Continuation lines lose their own indentation only when joined; the text keeps blank-line gaps.
    joined = "".join(out)
    return joined[:-1] if joined.endswith("\n") else joined
