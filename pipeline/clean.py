"""Text cleaning every document goes through after its reader: encoding repair, invisible characters,
Unicode normalisation and whitespace.

One pass runs these steps in order, each skipped when a cheap check shows it has nothing to do:

1. line ends (with ``remove_control`` or ``normalize_whitespace``; both need lines to be lines): CRLF, CR,
   LINE SEPARATOR, vertical tab and form feed become ``\\n``, PARAGRAPH SEPARATOR ``\\n\\n``;
2. space separators (with ``normalize_whitespace``): NBSP, thin/em/ideographic spaces etc. become a plain
   space -- they only fragment tokens. Done before step 3 because ftfy treats "Ã " like "Ã\\xa0";
3. ``fix_mojibake``: ftfy's encoding repair ("cafÃ©" -> "café", stray cp1252 C1 characters -> quotes).
   ftfy is by far the slowest step, so it runs only when a regex finds what UTF-8 read as Latin-1/cp1252
   produces (a lead character Â..ô followed by a continuation-byte character, or a C1 control);
   pure-ASCII text skips even the regex. It runs before step 4 because control removal would destroy the
   C1 characters that ftfy needs to repair "Ã\\x89cole" -> "École";
4. ``remove_control``: C0/C1 controls except ``\\n`` and ``\\t``, plus invisible junk that only breaks
   tokens: zero-width space, word joiner, soft hyphen, BOM/ZWNBSP; and lone surrogates, which no UTF-8
   writer accepts. Zero-width (non-)joiners and bidi marks
   are kept: Persian, Indic scripts and emoji sequences need them;
5. ``nfc``: Unicode NFC;
6. ``normalize_whitespace``: spaces and tabs at line ends go; inside a line a run of two or more
   spaces/tabs becomes one space (a single tab is kept, and so is a line's leading indentation, so verse
   and code keep their shape); at most one blank line between paragraphs; the text's ends are stripped.

The scans behind steps 2, 3, 4 and 6 run compiled (``pipeline/_clean.c``: one pass over the string where the
regexes dispatched per character or called back into Python per match); without the build the regexes
below do the same (tests compare both).

``counts`` gets ``clean.<step>_...`` keys incremented once per document a step changed, so a stage can
report how many documents each step touched. ``clean_text`` is idempotent and never raises on any ``str``
(both tested with hypothesis).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import ftfy
from pydantic import BaseModel, ConfigDict

try:  # the scans below compiled (_clean.c: same results, one pass over the string); the regexes without it
    from pipeline import _clean
except ImportError:
    _clean = None


class CleanOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nfc: bool = True
    fix_mojibake: bool = True
    remove_control: bool = True
    normalize_whitespace: bool = True


LINE_BREAKS_RE = re.compile("\r\n?|[\x0b\x0c\u2028]")
# Cc except \t and \n, then the invisible format characters listed in the module docstring.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ud800-\udfff]+")
# What UTF-8 bytes decoded as Latin-1 or cp1252 look like: a lead byte (U+00C2..U+00F4) followed by a
# continuation byte (0x80..0xBF) as Latin-1 shows it, or as cp1252 maps 0x80..0x9F.
MOJIBAKE_RE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|[\u00c2\u00c3] "  # "à" / NBSP whose 0xA0 byte became a space (ftfy repairs these too)
    "|[\x80-\x9f]"  # a lone C1 control is almost always a cp1252 character decoded as Latin-1
)
ASCII_CONTROLS = bytes([*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f])
SPACES_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# A cheap pre-check for MOJIBAKE_RE: every one of its matches starts with one of these characters, and one
# character class lets the regex engine scan ~3x faster than the alternation (the crawl stage's Chinese and
# Russian pages have none of them).
MOJIBAKE_LEAD_RE = re.compile("[\u0080-\u009f\u00c2-\u00f4]")
TRAILING_RE = re.compile("[ \t]+\n")  # at the very end, strip() does it
INNER_RUN_RE = re.compile("(?<=[^ \t\n])[ \t]{2,}")
TAB_SPACE_RUN_RE = re.compile("[ \t]{2,}")  # INNER_RUN_RE without the look-behind, which slows every position
SPACE_RUN_RE = re.compile("  +")
BLANK_LINES_RE = re.compile("\n\n\n+")


def _line_ends(text: str) -> str:
    # Substring tests and str.replace run at memory speed; the regex only for the rare kinds of break.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x0b" in text or "\x0c" in text or (not text.isascii() and ("\u2028" in text or "\u2029" in text)):
        text = LINE_BREAKS_RE.sub("\n", text.replace("\u2029", "\n\n"))
    return text


def _remove_control(text: str) -> str:
    if _clean is not None:  # one pass over the string; the checks below still ran the regex on ~1 in 4 pages
        return _clean.remove_control(text)
    if text.isascii():  # bytes.translate finds ASCII controls ~10x faster than the regex
        raw = text.encode("ascii")
        if len(raw.translate(None, ASCII_CONTROLS)) == len(raw):
            return text
    # Every character CONTROL_RE removes is Cc, Cf or Cs, which str.isprintable() refuses: a text that is
    # printable once its newlines and tabs are set aside has nothing to remove (a C loop, ~3x the regex's speed).
    elif text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return CONTROL_RE.sub("", text)


def _whitespace(text: str) -> str:
    # Patterns that begin with a literal ("\n\n\n", "  ") let the regex engine scan at memory speed;
    # character-class patterns run ~5x slower, so they only run on the texts that need them. The compiled
    # scan does the trailing spaces and the inner runs in one pass (tables extracted with tab-separated cells
    # gave the regex path tens of thousands of Python callbacks on one page).
    text = _clean.collapse_spaces(text) if _clean is not None else regex_collapse_spaces(text)
    if "\n\n\n" in text:
        text = BLANK_LINES_RE.sub("\n\n", text)
    return text.strip(" \t\n")


def regex_collapse_spaces(text: str) -> str:
    """Trailing spaces and tabs removed, inner runs collapsed: ``_clean.collapse_spaces`` in regexes (the fallback
    where the extension was not built, and the reference its tests and fuzzing compare it with)."""
    if " \n" in text or "\t\n" in text:
        text = TRAILING_RE.sub("\n", text)
    if "\t" in text:
        text = _collapse_runs(TAB_SPACE_RUN_RE, text)
    elif "  " in text:
        text = _collapse_runs(SPACE_RUN_RE, text)
    return text


def _collapse_runs(runs: re.Pattern[str], text: str) -> str:
    """INNER_RUN_RE's substitution: every run ``runs`` finds becomes one space unless it starts the text or
    a line (indentation). ``runs`` is SPACE_RUN_RE for text without tabs, TAB_SPACE_RUN_RE otherwise: the
    look-behind of INNER_RUN_RE makes the regex engine try it at every position (tables extracted with
    tab-separated cells made it a quarter of the cleaning time of the crawl stage)."""

    def one_space(match: re.Match[str]) -> str:
        start = match.start()
        return match.group() if start == 0 or text[start - 1] == "\n" else " "

    return runs.sub(one_space, text)


def _fix_mojibake(text: str) -> str:
    """ftfy's encoding repair only (no quote uncurling, no HTML unescaping): the one fix we want from it.

    Line by line, and only on the lines that look like mojibake: ftfy's badness scan over a whole long page
    was a fifth of the crawl stage's time. ftfy's own ``fix_text`` also works line by line; on the 52
    suspect texts of every shared extraction set, book and WARC the output is identical to repairing the
    whole text, 25x faster."""
    if text.isascii():
        return text
    if _clean is None:
        if not _mojibake_suspect(text):
            return text
        return "\n".join(ftfy.fix_encoding(line) if not line.isascii() and _mojibake_suspect(line) else line
                         for line in text.split("\n"))
    # The same, visiting only the lines that hold a match (a match never spans a line end): a suspect page
    # has tens of thousands of lines and a handful of bad ones.
    at = _clean.mojibake_at(text, 0)
    if at < 0:
        return text
    parts, done = [], 0
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        parts += (text[done:start], ftfy.fix_encoding(text[start:end]))
        done = end
        at = _clean.mojibake_at(text, end)
    parts.append(text[done:])
    return "".join(parts)


def _mojibake_suspect(text: str) -> bool:
    """Whether MOJIBAKE_RE finds anything in ``text`` (the compiled scan: a tenth of the regexes' time on the
    crawl stage's non-ASCII pages, where it ran over every page without finding anything)."""
    if _clean is not None:
        return _clean.mojibake_suspect(text)
    return bool(MOJIBAKE_LEAD_RE.search(text)) and bool(MOJIBAKE_RE.search(text))


def _space_separators(text: str) -> str:
    return _clean.space_separators(text) if _clean is not None else SPACES_RE.sub(" ", text)


def _one_pass(text: str, opts: CleanOptions, changed: set[str]) -> str:
    """All steps once, noting in ``changed`` which of them altered the text."""

    def step(name: str, new: str) -> str:
        if new != text:
            changed.add(name)
        return new

    if opts.remove_control or opts.normalize_whitespace:
        text = step("clean.line_ends_changed", _line_ends(text))
    if opts.normalize_whitespace and not text.isascii():
        text = step("clean.whitespace_changed", _space_separators(text))
    if opts.fix_mojibake:
        text = step("clean.mojibake_fixed", _fix_mojibake(text))
    if opts.remove_control:
        text = step("clean.control_removed", _remove_control(text))
    if opts.nfc and not unicodedata.is_normalized("NFC", text):
        text = step("clean.nfc_changed", unicodedata.normalize("NFC", text))
    if opts.normalize_whitespace:
        text = step("clean.whitespace_changed", _whitespace(text))
    return text


def clean_text(text: str, counts: Counter | None = None, options: CleanOptions | None = None) -> str:
    """Clean one document's text; ``counts`` (if given) gets +1 for each step that changed it.

    For ASCII text one pass is final. Non-ASCII text that changed gets further passes until nothing
    changes (in practice one more): a step can expose work for an earlier one -- removing a control
    character or collapsing spaces can leave "Ã" next to "©", NFC can compose "A" + combining tilde into
    "Ã" -- and a cleaner that a second run would change again is not idempotent. A further pass is skipped
    when ``_settled`` shows it would change nothing.
    """
    opts = options or DEFAULT_OPTIONS
    changed: set[str] = set()
    for _ in range(MAX_PASSES):
        steps: set[str] = set()
        new = _one_pass(text, opts, steps)
        changed |= steps
        if new == text or new.isascii() or _settled(new, steps, opts):
            text = new
            break
        text = new
    if counts is not None:
        counts.update(changed)
    return text


def _settled(text: str, steps: set[str], opts: CleanOptions) -> bool:
    """Whether another pass over ``text`` (a pass's output; ``steps``: what that pass changed) would change
    nothing, known without running it: the second pass cost a third of the crawl stage's cleaning, and on web
    pages it is mostly a table's tab runs, collapsed by the last step, that made the first pass change a text.

    Each step leaves text it would not change again, and only these later steps of a pass can undo that:
    the mojibake repair (ftfy's output can hold any character: an NBSP, a control, a line separator) and, for
    the mojibake check alone, removing controls, NFC and collapsing spaces ("Ã\t\t©" becomes "Ã ©"). Line
    ends, space separators, controls and NFC hold through the steps after them (they remove or join spaces,
    tabs and newlines, and NFC composes no such character nor anything those steps remove; NFC holds when
    spaces go because they are starters that compose with nothing), and the whitespace step is idempotent.
    So with no repair in this pass and nothing left that looks like mojibake, the next pass is a no-op
    (tests/pipeline/test_clean.py compares with always running it).
    """
    if "clean.mojibake_fixed" in steps:
        return False
    return not opts.fix_mojibake or not _mojibake_suspect(text)


MAX_PASSES = 4


DEFAULT_OPTIONS = CleanOptions()
