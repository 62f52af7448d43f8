"""Aozora Bunko texts (青空文庫, Japanese public-domain books): markup out, title and author from the head.

An Aozora text file is: the title on line 1, the author on line 2 (sometimes a translator or subtitle
after them), optionally a block that explains the markup between two rules of hyphens
(``【テキスト中に現れる記号について】``), the text, and a bibliography that starts with ``底本：``
(source edition, input and proofreading credits). Inside the text:

* ``《...》`` is a ruby reading of the word before it (``漢字《かんじ》``): removed, the word stays;
* ``｜`` marks where that word starts when it is ambiguous (``｜青空文庫《あおぞらぶんこ》``): removed;
* ``［＃...］`` is an editorial note (indentation, emphasis, a character not in the charset, page
  layout): removed, since none of it is the author's text.

Files are Shift_JIS (cp932) on the Aozora site; ``decode`` reads them when the bytes are not UTF-8.
"""

from __future__ import annotations

import re

from pipeline.extract.gutenberg import Book

RUBY = re.compile(r"《[^《》\n]*》")
RUBY_START = "｜"
NOTE = re.compile(r"［＃[^］\n]*］")
RULE = re.compile(r"^-{10,}[ \t]*$", re.MULTILINE)  # the hyphen rules around the markup explanation
MARKUP_HEAD = "【テキスト中に現れる記号について】"
COLOPHON = re.compile(r"^底本[:：]", re.MULTILINE)
SCAN = 3000  # the head and its markup explanation sit in the first few thousand characters


def is_aozora(text: str) -> bool:
    """True for a text in Aozora Bunko's format: its markup explanation, or ruby with notes or colophon."""
    head = text[:SCAN]
    return MARKUP_HEAD in head or (bool(RUBY.search(text)) and (bool(NOTE.search(text))
                                                                 or bool(COLOPHON.search(text))))


def strip_markup(text: str) -> str:
    """The text without ruby readings, ruby start marks and editorial notes."""
    return NOTE.sub("", RUBY.sub("", text)).replace(RUBY_START, "")


def split_aozora(text: str) -> Book:
    """Title, author and the book's text without the markup explanation, the colophon or any markup."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    title = lines[0].strip() or None
    author = lines[1].strip() if len(lines) > 1 and lines[1].strip() else None
    body_from = 0
    rules = list(RULE.finditer(text, 0, SCAN + len(MARKUP_HEAD)))
    if len(rules) >= 2 and MARKUP_HEAD in text[rules[0].end():rules[1].start()]:
        body_from = rules[1].end()
    else:  # no explanation block: the text starts after the title and author lines
        body_from = len("\n".join(lines[:2])) if author else len(lines[0])
    colophon = COLOPHON.search(text, body_from)
    body = text[body_from: colophon.start() if colophon else len(text)]
    body = strip_markup(body)
    body = re.sub(r"[ \t\u3000]+\n", "\n", body)  # a note that held a whole line leaves its indentation
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    return Book(body=body, title=title and strip_markup(title), author=author and strip_markup(author),
                language="ja", has_markers=True)
