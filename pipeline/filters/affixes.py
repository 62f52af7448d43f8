"""spaCy's tokenizer algorithm (affixes, infixes, URLs, special cases) with per-language rule tables of our own.

Why: datatrove (FineWeb-2) counts a whitespace language's words with ``spacy.blank(lang)``. Its tokenizer does
not split a chunk at every symbol, as our English-like regex does (``pipeline.filters.words``): it strips
prefixes (opening punctuation, quotes, currency) and suffixes (closing punctuation, a period after a lower-case
letter or a digit, a unit after a number) off the ends, then splits the rest only at its language's *infixes*
(a hyphen between letters, "/" ":" "=" before a letter, ...), and keeps a string whole that looks like a URL or
host name. So "/etc/apt/sources.list" is "/etc", "/", "apt", "/", "sources.list", "--level=0" is one token,
"systemd[1]:" is "systemd[1", "]", ":". On the Debian handbook's technical prose these strings were most of the
tokens we counted differently (bench/README.md, "spaCy's tokenizer algorithm for the whitespace languages").

The algorithm (spaCy 3.8, ``Tokenizer._split_affixes`` / ``_attach_tokens``), per whitespace chunk:

1. a special case (a string the language lists with its tokens) is replaced by its tokens;
2. repeatedly: stop at a special case; else strip a prefix (the first prefix rule matching at the start)
   and a suffix (the rule matching at the leftmost position that reaches the end), where a remainder that is
   a special case stops the loop; until nothing changes;
3. what is left: a special case, else whole when it looks like a URL or host name, else split at every infix
   match (an infix at its very start is ignored; an empty match splits without a token).

The tables are written here from spaCy's rules as documented by its source (``spacy/lang/punctuation.py``,
``char_classes.py``, ``tokenizer_exceptions.py`` and each language's ``punctuation.py``), in Unicode property
terms where spaCy lists code point ranges (letters: ``\\p{L}``; its "icons": ``\\p{So}`` but the degree sign).
One known difference: spaCy's letter class covers the scripts of its languages (Latin, Greek, Cyrillic, Arabic,
Hebrew, Ethiopic, the main Indic scripts, CJK, kana, Hangul) by whole blocks, so it splits no hyphen between two
Armenian or Georgian letters, which ``\\p{L}`` here does, and counts the Persian digits and the CJK punctuation
block as letters, which ``\\p{L}`` does not; deriving spaCy's exact class from the Unicode database cost ~0.4 s per
process. The tables of the languages where it decides tokens (``XX`` and those after it: Armenian, Georgian,
Thaana, Serbian, Tajik, Yiddish, ..., and Arabic and Persian) take spaCy's classes themselves, written as data.
Special cases split across a chunk's tokens are merged back afterwards, as spaCy's special-case matcher does
(``_merge_specials``: "a", ".", "B" is "a.", "B"; "'", "'" is "''"). The exceptions spaCy generates by rule are
generated here (French's productive hyphen prefixes, Spanish and Greek clock times, Danish day ordinals, Finnish
contractions, Romanian ordinals, Hungarian initials, Indonesian case variants); spaCy's long lists that are
dictionaries are data (``pipeline.filters.exceptions``, loaded when a table is first compiled) for nl, da, fa, sl
and id, where they changed the token agreement on held-out text, and otherwise a few frequent abbreviations per
language (French's ~15,000 hyphenated words and Hungarian's ~630 abbreviations are not loaded; Greek's ~540
changed no token of the held-out text).

Cost: Python per *distinct* chunk (the vocabulary of ``pipeline.filters.words`` splits each chunk once), a few
regex calls each; a chunk of letters, or of letters and one mark that always splits off ("monde,"), never reaches
them; the patterns are gated and the suffix decided from a chunk's end (``_Compiled``). The next commonest shapes
take fast paths derived per table by running the loop on samples ("2019", "2019,", "word),", "(word)") or the
loop's own steps with one regex call each in place of a search ("word-word", "word's"); ``_Compiled(rules,
fast_paths=False)`` is the loop alone, and bench/affix_split_check.py compares the module with a git revision's on
every real chunk here (bench/README.md, "English's cold word split cheaper").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import regex

from pipeline.filters.exceptions import load_exceptions
from pipeline.filters.spaced_specials import SpacedSpecial, spaced_specials

ALPHA = r"\p{L}"
# spaCy's "lower" and "upper" letter classes both hold the letters of scripts without case (Arabic, Hebrew, CJK)
LOWER = r"\p{Ll}\p{Lo}\p{Lm}"
UPPER = r"\p{Lu}\p{Lt}\p{Lo}\p{Lm}"
# quotation marks and the CJK brackets spaCy treats as quotes (also the comma, which it lists among them)
QUOTES = "'\"\u201d\u201c`\u2018\u00b4\u2019\u201a,\u201e\u00bb\u00ab\u300c\u300d\u300e\u300f\uff08\uff09\u3014\u3015" \
         "\u3010\u3011\u300a\u300b\u3008\u3009\u2329\u232a\u27e6\u27e7"
# punctuation that is a prefix and a suffix wherever it stands at a chunk's end
PUNCT = "\u2026,:;!?\u00bf\u061f\u00a1()\\[\\]{}<>_#*&\u3002\uff1f\uff01\uff0c\u3001\uff1b\uff1a\uff5e\u00b7\u0964" \
        "\u060c\u06d4\u061b\u066a"
# spaCy's "icons" (other symbols, the degree sign among them: "20°" is "20", "°"); Norwegian, Romanian and
# Hungarian leave the degree sign out ("20°" whole)
ICONS = r"\p{So}"
ICONS_NO_DEGREE = r"(?:(?!\u00b0)\p{So})"
# the characters after which a final period is split off (spaCy's class also holds "|", "(", "?", ":", ")")
PERIOD_AFTER = rf"0-9{LOWER}%\u00b2\-+{PUNCT}{QUOTES}|()?:"
# a number's unit, split off after its digits (SI and data units, and their Cyrillic and Arabic forms)
UNITS = ("km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh "
         "mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм "
         "кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб").split()
HYPHENS = "(?:---|--|——|-|–|—|~)"




def _units(units: list[str] | tuple[str, ...]) -> str:
    """A suffix alternative: one of ``units`` after a digit. The lookahead of the units' first characters matches
    what the alternation alone matches, but the engine tries the ~100 alternatives only where one can start (after
    most digits of a number it would try them all: 40 % of the suffix search of "1,000" or "10:30:00Z")."""
    first = "".join(sorted({u[0] for u in units}))
    return f"(?<=[0-9])(?=[{regex.escape(first)}])(?:{'|'.join(regex.escape(u) for u in units)})"


_UNIT = _units(UNITS)

# spaCy's base rules (spacy/lang/punctuation.py), each a list of alternatives in spaCy's order of precedence
BASE_PREFIXES = ["[§%=—–]", r"\+(?![0-9])", r"\.\.+", f"[{PUNCT}]", f"[{QUOTES}]", r"\p{Sc}", ICONS]
BASE_SUFFIXES = ["……", f"[{PUNCT}]", r"\.\.+", f"[{QUOTES}]", ICONS, "['’][sS]", "[—–]", r"(?<=[0-9])\+",
                 r"(?<=°[FfCcKk])\.", r"(?<=[0-9])\p{Sc}", _UNIT, f"(?<=[{PERIOD_AFTER}])\\.",
                 f"(?<=[{UPPER}][{UPPER}])\\."]
BASE_INFIXES = [r"\.\.+", "…", ICONS, r"(?<=[0-9])[+\-*^](?=[0-9-])", f"(?<=[{LOWER}{QUOTES}])\\.(?=[{UPPER}{QUOTES}])",
                f"(?<=[{ALPHA}]),(?=[{ALPHA}])", f"(?<=[{ALPHA}]){HYPHENS}(?=[{ALPHA}])",
                f"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"]

# A URL or host name (spaCy's URL_MATCH, written here): optional scheme and user, then a public IPv4 address
# or dot-separated labels ending in a top-level domain of lower-case letters, optional port and path.
_LABEL = r"(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\."
_PUBLIC_IPV4 = (r"(?!(?:10|127)(?:\.[0-9]{1,3}){3})(?!(?:169\.254|192\.168)(?:\.[0-9]{1,3}){2})"
                r"(?!172\.(?:1[6-9]|2[0-9]|3[01])(?:\.[0-9]{1,3}){2})"
                r"(?:22[0-3]|2[01][0-9]|1[0-9][0-9]|[1-9][0-9]?)(?:\.(?:1?[0-9]{1,2}|2[0-4][0-9]|25[0-5])){2}"
                r"\.(?:25[0-4]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]?)")
_HOST_AND_PATH = rf"(?:{_PUBLIC_IPV4}|(?:{_LABEL})+[{LOWER}]{{2,63}})(?::[0-9]{{2,5}})?(?:[/?#]\S*)?"
URL = regex.compile(rf"(?:[\w+.-]{{2,}}://)?(?:\S+(?::\S*)?@)?{_HOST_AND_PATH}")
_URL_WITHOUT_USER = regex.compile(rf"(?:[\w+.-]{{2,}}://)?{_HOST_AND_PATH}")  # the same where no "@" is
# Longer strings are not taken for URLs: the user part's backtracking is quadratic in the colons of a string
# (0.7 s for "a:" x 5,000; spaCy, with the same pattern, would take minutes on a megabyte of minified code)
URL_MAX_CHARS = 2048
# Nor are longer strings tried against a language's whole-token rule (Turkish and Hungarian numbers, dates and
# ordinals: their nested repetitions backtrack quadratically, 6 s for "1." x 50,000; no number or date is this long)
TOKEN_MATCH_MAX_CHARS = 256
# At most this many prefixes and suffixes are stripped off one chunk (each strip copies the rest: a chunk of
# 200,000 "(" took ~20 s); the rest goes to the infix split as it is. spaCy has no such bound.
MAX_AFFIXES = 100


# The default gates of ``Rules``: no infix or suffix alternative can start between two letters or digits, but a suffix
# after an ASCII digit (a unit). In a chunk of letters and digits alone they let the engine try an infix at its very
# start only (which ``affix_split`` ignores) and a suffix only after an ASCII digit: ``_Compiled`` skips the search
# there (str.isalnum's letters and digits are all ``\p{L}`` or ``\p{N}`` to the regex module, whose Unicode is newer:
# a test checks every code point)
_SUFFIX_GATE = r"(?:(?=[^\p{L}\p{N}])|(?<=[0-9]))"
_INFIX_GATE = r"(?:^|(?=[^\p{L}\p{N}])|(?<=[^\p{L}\p{N}]))"


@dataclass(frozen=True)
class Rules:
    """One language's tokenizer rules: prefix, suffix and infix alternatives (in precedence order), special cases
    (string -> its tokens; a string of one token is kept whole) and an optional whole-token pattern."""

    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    infixes: tuple[str, ...]
    special: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    token_match: str | None = None
    token_match_needs: str = ""  # characters one of which every token_match match holds (a cheap test first)
    # how far from a chunk's end the suffix search starts (``_Compiled.suffix_length``): every suffix alternative
    # of the other tables but a run of periods is at most 12 characters long, so a suffix is looked for in a
    # chunk's last 12 characters, then in the whole chunk where what was found starts with a period (a run may
    # start earlier); None: the whole chunk, for a table with a longer alternative (Greek's hyphenated words,
    # whose leftmost start may lie anywhere in the chunk)
    suffix_window: int | None = 12
    # where in a chunk a suffix or an infix alternative may start (a cheap test the engine runs first; an infix
    # also at a chunk's start: Portuguese's hyphenated-word infix starts with a letter, at the start or after a
    # mark): a table whose alternatives start with a letter or digit without a lookbehind needs a wider one (Greek)
    suffix_gate: str = _SUFFIX_GATE
    infix_gate: str = _INFIX_GATE
    # spaCy's exception lists kept as data (``exceptions.py``): the files' names, loaded when the table is
    # first compiled; the table's own special cases come after them
    data: tuple[str, ...] = ()
    # the characters one of which comes before every suffix that ends in a letter or digit (a digit before a
    # unit, an apostrophe, a hyphen); Slovenian's initials ("J.K") add the period
    alnum_suffix_after: str = "0-9'’\\-–—‐‑"
    # how many of a chunk's last characters decide a one-character suffix mark (``_Compiled.suffix_length``):
    # the mark and the two characters its lookbehinds see, three more for Slovenian's "J.K."
    tail_chars: int = 3
    # prefix alternatives made of letters only (Indonesian's currency codes: "USDA" is "USD", "A"): a word of
    # letters that starts with one is not taken as one token without the rules
    letter_prefixes: str | None = None

    def compiled(self) -> "_Compiled":
        return _Compiled(self)


# Words of letters in several scripts and cases, and the characters tried after them, to find the characters that
# every table splits off any word of letters unconditionally (``_Compiled.plain_suffixes``)
_SAMPLE_WORDS = ("word", "Word", "WORD", "WorD", "words", "Anders", "box", "buzz", "x", "X", "I", "été", "ÉTÉ",
                 "слово", "СЛОВО", "كلمة", "λέξη", "Ǆ",
                 # letters outside spaCy's own letter classes (``XX``'s tables): a period after them stays on
                 "помоћ", "სიტყვა")
_SAMPLE_MARKS = PUNCT.replace("\\", "") + QUOTES + ".-–—%'’+"
# The shapes tried by the loop itself to derive the other fast paths (``_Compiled``): two marks after a word of
# letters ("word),", 'word."'), a mark on either side of one ("(word)", '"word",'), a number and a mark after it
# ("2019,", "1990."), each kept for a table only where the loop splits every sample so
_SAMPLE_SUFFIX_PAIRS = tuple(a + b for a in ')"”’]' for b in ",.;:") + tuple(a + b for a in ".,!?" for b in '"”’)')
_SAMPLE_ENCLOSURES = ("()", "[]", '""', "“”", "‘’", "''", "«»", "„“", "»«", "(,", '",')
_SAMPLE_NUMBERS = ("0", "7", "10", "42", "99", "100", "365", "2019", "1990", "0123", "123456")
_SAMPLE_NUMBER_MARKS = ",.;:)%!?\"”’'"



class _AnyString(frozenset):
    """Holds every string (``_Compiled(fast_paths=False)``: special-case runs never pruned)."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY_STRING = _AnyString()


class _Compiled:
    __slots__ = ("prefix", "_suffix", "infix", "special", "_spaced", "_spaced_by_first", "_spaced_edges",
                 "_token_match", "_token_match_needs", "plain_suffixes",
                 "lower_suffixes", "plain_prefixes", "_tails", "_rules", "_patterns", "max_special_chars", "_window",
                 "_before_alnum_suffix", "_tail_chars", "letter_prefix", "alnum_whole", "_letters_no_suffix",
                 "_special_heads", "_suffix_at_marks", "_suffix_match", "suffix_pairs", "enclosures", "digits_whole",
                 "digit_suffixes")

    def __init__(self, rules: Rules, fast_paths: bool = True) -> None:
        self.prefix = regex.compile("|".join(f"(?:{p})" for p in rules.prefixes)).match
        # Each pattern starts with a test every one of its alternatives passes where it can match (a mark that is
        # neither letter nor digit there, or for a unit a digit just before; an infix may also follow a mark:
        # the empty match after an elided "l'"): the engine then tries the alternatives at those positions only
        # (about 5x faster on the handbook's chunks; the tests compare with the plain alternations).
        suffixes = "(?:" + "|".join(f"(?:{s})$" for s in rules.suffixes) + ")"
        self._suffix = regex.compile(rules.suffix_gate + suffixes).search
        # ...and in a string without an ASCII digit the default gate passes at a mark only: its lookbehind branch
        # makes the engine test every position, so the search gated by the lookahead alone is 2-4x faster there
        self._suffix_at_marks = (regex.compile(r"(?=[^\p{L}\p{N}])" + suffixes).search
                                 if rules.suffix_gate == _SUFFIX_GATE else None)
        self._suffix_match = regex.compile(suffixes).match  # (``suffix_at_mark``)
        self.infix = regex.compile(rules.infix_gate + "(?:" + "|".join(f"(?:{i})" for i in rules.infixes)
                                   + ")").finditer
        self._window = rules.suffix_window
        self._tail_chars = -rules.tail_chars
        self.letter_prefix = regex.compile(rules.letter_prefixes).match if rules.letter_prefixes else None
        self._before_alnum_suffix = regex.compile(f"[{rules.alnum_suffix_after}]").search
        self._rules = rules
        self._patterns: _Compiled | None = None  # the same rules without special cases (``pattern``)
        self.special = {**load_exceptions(rules.data), **rules.special} if rules.data else dict(rules.special)
        # the longest special case that the affix rules may split into several tokens of one chunk
        # (``_merge_specials``; the cases that hold a space span chunks: ``spaced_specials``)
        self.max_special_chars = max((len(k) for k in self.special if not k.isalpha() and not _spaced(k)), default=0)
        self._spaced: tuple[SpacedSpecial, ...] | None = None  # built on first use (``spaced_specials``)
        self._spaced_by_first: dict[str, tuple[SpacedSpecial, ...]] | None = None
        self._spaced_edges: tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]], int] | None = None
        self._token_match = regex.compile(rules.token_match).fullmatch if rules.token_match else None
        self._token_match_needs = rules.token_match_needs
        # the default gates: a string of letters and digits has no infix, one of letters no suffix (``_SUFFIX_GATE``)
        self.alnum_whole = rules.infix_gate == _INFIX_GATE
        self._letters_no_suffix = rules.suffix_gate == _SUFFIX_GATE
        self._special_heads: frozenset[str] | None = None  # built on first use (``special_heads``)
        self._tails: dict[str, int] = {}  # suffix length of a chunk's last three characters (``suffix_length``)
        self.plain_suffixes = self.lower_suffixes = self.plain_prefixes = frozenset()
        self.suffix_pairs = self.enclosures = self.digit_suffixes = frozenset()
        self.digits_whole = False
        if not fast_paths:  # the loop alone, every search run (spaCy's algorithm as written; the tests' reference)
            self.alnum_whole = self._letters_no_suffix = False
            self._suffix_at_marks, self._special_heads = None, _ANY_STRING
            return
        # marks that are one suffix token after any word of letters, whatever its last letters (not "." after
        # an upper-case letter, not Swedish "'" after an s): "word," is ("word", ",") without running the loop
        # (nor a prefix: Greek's "όνομα*" is one prefix token)
        self.plain_suffixes = frozenset(c for c in _SAMPLE_MARKS if all(
            self.suffix_length(w + c) == 1 and not self.token_match(w + c) and not self.prefix(w + c)
            for w in _SAMPLE_WORDS))
        # ...and the marks that are one suffix token after a word of letters ending in an ASCII lower-case letter
        # (English's "." : "word." is ("word", "."), where "U.S." and "Word." after an upper-case letter stay
        # whole): the most frequent chunk that is not a word of letters in English text (a third of the others on
        # the enwiki sample), which took the whole loop of ``affix_split``
        self.lower_suffixes = frozenset(c for c in _SAMPLE_MARKS if c not in self.plain_suffixes and all(
            self.suffix_length(w + c) == 1 and not self.token_match(w + c) and not self.prefix(w + c)
            for w in _SAMPLE_WORDS if "a" <= w[-1] <= "z"))
        # marks that are one prefix token before any word of letters: '"word' and "(word" are ('"', "word") and
        # ("(", "word"), the next most frequent such chunks
        plain_prefixes = frozenset(c for c in _SAMPLE_MARKS if all(
            (found := self.prefix(c + w)) is not None and found.end() == 1 and not self.token_match(c + w)
            and not self.suffix_length(c + w) for w in _SAMPLE_WORDS))
        # The next most frequent shapes that took the loop (a fifth of its chunks on enwiki, and numbers: "2019" is
        # most chunks of digits), each where the loop itself, the fast paths still off, splits every sample as the
        # path does (so not "):", which the loop merges into an emoticon after any word)
        self.suffix_pairs = frozenset(m for m in _SAMPLE_SUFFIX_PAIRS if all(
            affix_split(w + m, self) == (w, m[0], m[1]) for w in _SAMPLE_WORDS))
        self.enclosures = frozenset(m for m in _SAMPLE_ENCLOSURES if all(
            affix_split(m[0] + w + m[1], self) == (m[0], w, m[1]) for w in _SAMPLE_WORDS))
        self.digits_whole = all(affix_split(n, self) == (n,) for n in _SAMPLE_NUMBERS)
        self.digit_suffixes = frozenset(c for c in _SAMPLE_NUMBER_MARKS if all(
            affix_split(n + c, self) == (n, c) for n in _SAMPLE_NUMBERS))
        self.plain_prefixes = plain_prefixes

    def pattern(self, string: str) -> tuple[str, ...]:
        """The tokens of ``string`` by the rules without special cases: the token sequence spaCy's special-case
        matcher looks for to merge a special case split across tokens (``Tokenizer.add_special_case``)."""
        if self._patterns is None:
            self._patterns = _Compiled(replace(self._rules, special={}, data=()), fast_paths=False)
        return affix_split(string, self._patterns)

    def suffix_at_mark(self, string: str, at: int) -> int:
        """``suffix_length`` of a string whose one character other than a letter is the mark at ``at`` (not a
        period, no digit; the default suffix gate): the search's steps, its one gated position tried alone."""
        n = len(string)
        start = max(0, n - self._window) if self._window is not None else 0
        if at < start or not self._before_alnum_suffix(string, start):
            return 0  # (the mark before the window: nothing found in it; see ``suffix_length``)
        return n - at if self._suffix_match(string, at) else 0

    def spaced_by_first(self) -> dict[str, tuple[SpacedSpecial, ...]]:
        """``spaced_specials`` by their first token (what ``special_runs`` looks them up by)."""
        if self._spaced_by_first is None:
            by_first: dict[str, list[SpacedSpecial]] = {}
            for case in self.spaced_specials():
                by_first.setdefault(case.pattern[0], []).append(case)
            self._spaced_by_first = {k: tuple(v) for k, v in by_first.items()}
        return self._spaced_by_first

    def spaced_edges(self, tokens: tuple[str, ...]) -> int:
        """For a chunk's tokens before the matcher merged any (``affix_split(merge=False)``): bit 1 where they start
        with the end of a spaced case's tokens (a case can reach into them from the chunk before), bit 2 where they
        end with a start of one (from them into the next chunk); 0 where no case that holds a space can cross them."""
        starts, ends, longest = self._edges()
        reach = min(len(tokens), longest - 1)
        left = any(tokens[:k] in ends for k in range(1, reach + 1))
        right = any(tokens[-k:] in starts for k in range(1, reach + 1))
        return left | right << 1

    def spaced_edge_texts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The texts of the token runs ``spaced_edges`` looks for: a chunk can only end with a case's first tokens
        if its text ends with one of the first, only start with a case's last tokens if it starts with one of the
        second (a test of the chunk's str before splitting it again)."""
        starts, ends, _ = self._edges()
        return tuple(sorted({"".join(t) for t in starts})), tuple(sorted({"".join(t) for t in ends}))

    def _edges(self) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]], int]:
        if self._spaced_edges is None:
            starts, ends = set(), set()
            for case in self.spaced_specials():
                for k in range(1, len(case.pattern)):
                    starts.add(case.pattern[:k])
                    ends.add(case.pattern[k:])
            self._spaced_edges = (frozenset(starts), frozenset(ends),
                                  max((len(c.pattern) for c in self.spaced_specials()), default=0))
        return self._spaced_edges

    def spaced_specials(self) -> tuple[SpacedSpecial, ...]:
        """The special cases that hold a space, which spaCy merges across chunks after splitting them
        (``pipeline.filters.spaced_specials``); empty for most tables."""
        if self._spaced is None:
            self._spaced = spaced_specials(self.special, self.pattern)
        return self._spaced

    def special_heads(self) -> frozenset[str]:
        """Every start of a special case up to ``max_special_chars`` long: a run of tokens whose text is none
        cannot grow into a special case (``_merge_specials`` stops there)."""
        if self._special_heads is None:
            longest = self.max_special_chars
            self._special_heads = frozenset(key[:i] for key in self.special if len(key) <= longest
                                            and not _spaced(key) for i in range(1, len(key) + 1))
        return self._special_heads

    def token_match(self, string: str) -> bool:
        if self._token_match is None or len(string) > TOKEN_MATCH_MAX_CHARS:
            return False
        if self._token_match_needs and not any(c in string for c in self._token_match_needs):
            return False
        return self._token_match(string) is not None

    def suffix_length(self, string: str) -> int:
        """Length of the suffix at the leftmost start from which some alternative reaches the end (spaCy's
        ``re.search``), 0 when none."""
        if string.isalpha() and self._letters_no_suffix:
            return 0  # the gate lets no alternative start between two letters (a prefix is stripped: "(word")
        n = len(string)
        last = string[-1:]
        if n >= 2 and not last.isalnum() and string[-2] != last:
            # Ending in a mark not doubled: the only alternatives that end in such a mark are one character long
            # (runs of periods and "……" end in a doubled mark, units and "'s" in a letter or digit) and look at
            # most two characters back, so the last three characters decide (cached: "word." and "x)," are most
            # of the chunks that reach here)
            key = string[self._tail_chars:]
            length = self._tails.get(key)
            if length is None:
                found = self._suffix(key)
                length = len(key) - found.start() if found else 0
                if length > 1:
                    length = -1  # not so after all: the search below decides
                if len(self._tails) >= 8192:  # bounded: ~1 MiB at most
                    self._tails.clear()
                self._tails[key] = length
            if length >= 0:
                return length
        window = self._window
        if last.isalnum() and not self._before_alnum_suffix(string, max(0, n - window) if window is not None else 0):
            return 0  # a suffix ending in a letter or digit follows a digit (a unit), an apostrophe or a hyphen
        search = self._suffix if self._suffix_at_marks is None or _ascii_digit(string) else self._suffix_at_marks
        if window is not None and n > window:
            found = search(string, n - window)  # lookbehinds still see the characters before
            if found is None:
                return 0
            if string[found.start()] != ".":
                return n - found.start()
        found = search(string)
        return n - found.start() if found else 0


def _spaced(key: str) -> bool:
    """True for a special case holding whitespace: never one chunk's tokens (``spaced_specials``)."""
    return not key.isalpha() and any(c.isspace() for c in key)


_ascii_digit = re.compile("[0-9]").search  # (the standard library's engine: a third of the regex module's call cost)
# letters (to the regex module), one mark that is neither a letter, a digit nor a period, letters
_one_mark = regex.compile(r"\p{L}+([^\p{L}\p{N}.])\p{L}+").fullmatch


def _url(string: str) -> bool:
    """spaCy's ``URL_MATCH`` of the whole string (a host needs a "."), for strings up to ``URL_MAX_CHARS``."""
    if "." not in string or len(string) > URL_MAX_CHARS:
        return False
    return (URL if "@" in string else _URL_WITHOUT_USER).fullmatch(string) is not None


def affix_split(chunk: str, rules: _Compiled, merge: bool = True) -> tuple[str, ...]:
    """spaCy's tokens of one whitespace-free chunk under ``rules`` (the algorithm in the module docstring);
    ``merge=False``: before its special-case matcher merges runs of them (what the matcher sees)."""
    special = rules.special
    if chunk in special:
        return special[chunk]
    letter_prefix = rules.letter_prefix
    if chunk.isalpha() and (letter_prefix is None or not letter_prefix(chunk)):
        return (chunk,)  # most chunks: every affix and infix rule needs a character other than a letter
    whole = rules.token_match if rules._token_match is not None else None  # (most tables have no such rule)
    head, last = chunk[:-1], chunk[-1]
    if ((last in rules.plain_suffixes or (last in rules.lower_suffixes and "a" <= head[-1:] <= "z"))
            and head.isalpha() and head not in special and (whole is None or not whole(chunk))
            and (letter_prefix is None or not letter_prefix(chunk))):  # "word,"  "word."
        # (a special head goes through the loop: its last token and the mark may spell another special case,
        # Catalan "al." is "a", "l.")
        return (head, last)
    tail = chunk[1:]
    if (chunk[0] in rules.plain_prefixes and tail.isalpha() and tail not in special
            and (whole is None or not whole(chunk))
            and (letter_prefix is None or not letter_prefix(tail))):  # '"word'  "(word"
        return (chunk[0], tail)
    if head.isdigit() and head.isascii():  # (every character 0-9)
        if last.isdigit() and last.isascii():  # "2019"
            if rules.digits_whole:
                return (chunk,)
        elif last in rules.digit_suffixes and head not in special and (whole is None or not whole(chunk)):  # "2019,"
            return (head, last)
    elif len(chunk) > 2:
        # A special case among the strings the loop's steps leave goes through the loop (it stops there). Nor can
        # the tokens merge into one (``_merge_specials``): their runs spell the chunk and the strings checked here,
        # and the two marks, whose merging no word changes (it is the samples'; "):" is no pair but in Turkish)
        core = chunk[:-2]
        if (chunk[-2:] in rules.suffix_pairs and core.isalpha() and core not in special and head not in special
                and (whole is None or not whole(chunk))
                and (letter_prefix is None or not letter_prefix(core))):  # "word),"
            return (core, chunk[-2], last)
        core = chunk[1:-1]
        if (chunk[0] + last in rules.enclosures and core.isalpha() and core not in special and head not in special
                and tail not in special and (whole is None or not whole(chunk))
                and (letter_prefix is None or not letter_prefix(core))):  # "(word)"
            return (chunk[0], core, last)
    if rules._suffix_at_marks is not None and letter_prefix is None:
        # "word-word" "don't" "word's": letters, one mark that is not a period, letters (the commonest chunks left
        # for the loop: a fifth of them on enwiki), and those with one suffix mark after them ("word-word,")
        if (found := _one_mark(chunk)) is not None:
            tokens = _one_mark_split(chunk, found.start(1), rules, whole)
            if tokens is not None:
                if len(tokens) == 3 and tokens[0] + tokens[1] not in special and tokens[1] + tokens[2] not in special:
                    return tokens  # (no run of them spells a special case: the merge would keep them)
                if merge and len(tokens) > 1 and rules.max_special_chars:
                    return _merge_specials(tokens, rules)
                return tokens
        elif ((found := _one_mark(head)) is not None and head not in special and (whole is None or not whole(chunk))
              and rules.prefix(chunk) is None and rules.suffix_length(chunk) == 1):
            # the loop's first step strips the mark (not leaving a special case), its next ones split the rest
            tokens = _one_mark_split(head, found.start(1), rules, whole)
            if tokens is not None:
                tokens = (*tokens, last)
                return _merge_specials(tokens, rules) if merge and rules.max_special_chars else tokens
    prefixes: list[str] = []
    suffixes: list[str] = []
    string = chunk
    last = -1
    token_match = rules.token_match
    while string and len(string) != last and len(prefixes) + len(suffixes) < MAX_AFFIXES:
        if ((string.isalpha() and (letter_prefix is None or not letter_prefix(string))) or token_match(string)
                or string in special):  # no rule splits a word of letters (but a letter prefix)
            break
        last = len(string)
        found = rules.prefix(string)
        pre = found.end() if found else 0
        if pre and string[pre:] in special:
            prefixes.append(string[:pre])
            string = string[pre:]
            break
        suf = rules.suffix_length(string[pre:] if pre else string)
        if suf and string[:-suf] in special:
            suffixes.append(string[-suf:])
            string = string[:-suf]
            break
        if pre and suf and pre + suf <= len(string):
            prefixes.append(string[:pre])
            suffixes.append(string[-suf:])
            string = string[pre:-suf]
        elif pre:
            prefixes.append(string[:pre])
            string = string[pre:]
        elif suf:
            suffixes.append(string[-suf:])
            string = string[:-suf]
    middle: tuple[str, ...] | list[str] = ()
    if string:
        if string in special:
            middle = special[string]
        elif (string.isalpha() or (rules.alnum_whole and string.isalnum()) or token_match(string)
              or _url(string)):  # (no infix splits a word of letters, nor of letters and digits: the gate)
            middle = (string,)
        else:
            middle = _infix_split(string, rules)
    tokens = (*prefixes, *middle, *reversed(suffixes))
    return _merge_specials(tokens, rules) if merge and len(tokens) > 1 and rules.max_special_chars else tokens


def _one_mark_split(string: str, at: int, rules: _Compiled, whole) -> tuple[str, ...] | None:
    """The loop's tokens, before the merge, of letters, the mark at ``at`` and letters (``_one_mark``; not a
    special case), or None where the loop must decide: its own steps, but the suffix search (with the default gate
    and no digit, a suffix can start at the mark alone, so one match there decides it)."""
    head = string[:at]
    # (Python's letters at both ends: the loop's own tests)
    if (not string[-1].isalpha() or not head.isalpha() or (whole is not None and whole(string))
            or rules.prefix(string) is not None):
        return None
    if rules.suffix_at_mark(string, at):  # "word's": the suffix, then the word (or its special case)
        return (*rules.special.get(head, (head,)), string[at:])
    return tuple(_infix_split(string, rules))  # the infixes split the rest (not special, nor a URL: no period)


def _infix_split(string: str, rules: _Compiled) -> list[str]:
    """``string`` split at every infix match (one at its very start ignored, an empty one splitting without a
    token)."""
    middle, start = [], 0
    for m in rules.infix(string):
        if m.start() == 0:
            continue
        if m.start() != start:
            middle.append(string[start:m.start()])
        if m.end() != m.start():
            middle.append(m.group())
        start = m.end()
    if start < len(string):
        middle.append(string[start:])
    return middle


def _without(rules: list[str], *dropped: str) -> list[str]:
    missing = [d for d in dropped if d not in rules]
    if missing:
        raise ValueError(f"not among the rules: {missing}")
    return [r for r in rules if r not in dropped]


# The emoticons among spaCy's base special cases (every language but Turkish has them): one token each, also where
# the affix rules split them off a word or from each other ("(==)" is "(=", "=)"; "x:)" is "x", ":)"), because spaCy
# merges special cases found across the tokens of a chunk after splitting it (``_merge_specials``).
EMOTICONS = frozenset("""(*_*) (-8 (-: (-; (-_-) (._.) (: (; (= (>_<) (^_^) (o: )-: ): -_- -__- ._. 0.0 0.o 0_0 0_o 8)
8-) 8-D :'( :') :'-( :'-) :( :(( :((( :() :) :)) :))) :* :-( :-(( :-((( :-) :-)) :-))) :-* :-/ :-0 :-3 :-> :-D :-O :-P
:-X :-] :-o :-p :-x :-| :-} :/ :0 :1 :3 :> :D :O :P :X :] :o :o) :p :x :| :} ;) ;-) ;-D ;D ;_; <.< </3 <3 <33 <333 =(
=) =/ =3 =D =[ =] =| >.< >.> >:( >:o ><(((*> @_@ O.O O.o O_O O_o V.V V_V [-: [: [= ]= ^_^ ^__^ ^___^ o.0 o.O o.o o_0
o_O o_o v.v v_v""".split())


class MatchedTokens(tuple):
    """A chunk's tokens in which spaCy's special-case matcher found some run (merged or not): the cases that hold a
    space are matched across such a chunk's tokens as they were before (``words._spaced_merged``)."""

    __slots__ = ()


def _merge_specials(tokens: tuple[str, ...], rules: _Compiled) -> tuple[str, ...]:
    """Tokens of a chunk with every run of consecutive tokens that spells a special case, split as the rules
    without special cases split it, replaced by the special case's tokens ("a", ".", "B" is "a.", "B" where "a." is
    one; "'", "'" is "''"), as ``special_runs`` finds them; a ``MatchedTokens`` where it found any run."""
    runs, matched = special_runs(tokens, rules)
    if not matched:
        return tokens
    out: list[str] = []
    at = 0
    for start, end, new in runs:
        out += tokens[at:start]
        out += new
        at = end
    return MatchedTokens((*out, *tokens[at:]))


def special_runs(tokens: Sequence[str], rules: _Compiled, glue: Sequence[str | None] | None = None
                 ) -> tuple[list[tuple[int, int, tuple[str, ...]]], bool]:
    """spaCy's special-case matcher over ``tokens`` (``_apply_special_cases``, ``_filter_special_spans``): the runs
    it replaces, ``(start, end, new tokens)`` in order, and whether it matched any run at all.

    A run matches a case when its tokens are the case's split by the rules without special cases; of overlapping
    runs the longest wins, of equal length the earliest, a run whose first or last token an earlier-chosen one
    covers is dropped, and a dropped run still covers its tokens ("0.0.0.0" is "0.0", ".", "0", ".", "0"). A chosen
    run is replaced only where its text is a case. ``glue[i]`` is what lies between ``tokens[i]`` and
    ``tokens[i + 1]``: "" inside a chunk, " " between chunks one space apart, None between chunks otherwise apart
    (a whitespace token in spaCy: no run crosses it); None for the tokens of one chunk. The cases that hold a space
    are looked for by their tokens (``spaced_specials``), also run together inside one chunk ("тер.СНП" is the
    tokens of "тер. СНП": matched, kept as the longest, left as it is)."""
    special, longest, heads = rules.special, rules.max_special_chars, rules.special_heads()
    n = len(tokens)
    runs = []
    for i in range(n - 1):
        text = tokens[i]
        if len(text) >= longest or text not in heads:
            continue
        for j in range(i + 1, n):
            if glue is not None and glue[j - 1] is None:
                break
            text += tokens[j]
            if len(text) > longest or text not in heads:
                break
            if text in special and rules.pattern(text) == tuple(tokens[i:j + 1]):
                runs.append((i - j, i, j + 1))
    by_first = rules.spaced_by_first()
    if by_first and not by_first.keys().isdisjoint(tokens):
        for i in range(n):
            for case in by_first.get(tokens[i], ()):
                end = i + len(case.pattern)
                if end <= n and tuple(tokens[i:end]) == case.pattern and (
                        glue is None or all(glue[k] is not None for k in range(i, end - 1))):
                    runs.append((i + 1 - end, i, end))
    if not runs:
        return [], False
    taken = [False] * n
    chosen = []
    for _, start, end in sorted(runs):
        if not taken[start] and not taken[end - 1]:
            chosen.append((start, end))
        taken[start:end] = [True] * (end - start)
    out = []
    for start, end in sorted(chosen):
        text = "".join(tokens[k] + (glue[k] or "" if glue is not None else "") for k in range(start, end - 1))
        new = special.get(text + tokens[end - 1])
        if new is not None:
            out.append((start, end, tuple(new)))
    return out, True


# spaCy's base special cases that every language has and that change counts in prose: a lower-case letter with
# its period ("a." in a list, "q." for "quit"), kept whole where the suffix rule would split the period off.
_LETTER_PERIODS = {f"{ch}.": (f"{ch}.",) for ch in "abcdefghijklmnopqrstuvwxyzäöü"}
_LETTER_PERIODS.update((f"°{u}.", (f"°{u}.",)) for u in "CFKcfk")  # and a temperature's unit before a period
_BASE_SPECIAL = {**_LETTER_PERIODS, "''": ("''",), "C++": ("C++",)}
_BASE_SPECIAL.update((e, (e,)) for e in EMOTICONS)  # and the emoticons
# where a language lists exceptions of its own, spaCy adds their variants with "’" for "'" (``update_exc``)
_OWN_SPECIAL = {**_BASE_SPECIAL, **{e: (e,) for e in ("’’", ":’(", ":’)", ":’-(", ":’-)")}}
_ELISION = "['’]"
# an apostrophe ends an elided article or preposition (French l', d', Italian dell', Catalan l') before a word
_ELISION_INFIX = f"(?<=[{ALPHA}]{_ELISION})(?=[{ALPHA}])"
_PERIOD_SUFFIX = BASE_SUFFIXES[-2]
_QUOTE_SUFFIX = f"[{QUOTES}]"


def _abbreviations(words: str) -> dict[str, tuple[str, ...]]:
    """Abbreviations a language's spaCy exceptions keep whole with their period (a few of its most frequent)."""
    return {w: (w,) for w in words.split()}


# French (spacy/lang/fr): the elided articles d', l', n' are prefixes and an apostrophe after a letter an infix;
# the final period splits after a lower-case letter, a digit or a quote but not other punctuation; a subject
# pronoun after a hyphen ("dit-il", "peut-on") is a suffix; no "'s" suffix, no symbol or dash suffix.
_FR_PRONOUNS = "ce clés elle en il ils je là moi nous on t vous"
_FR_PRONOUN_ALTERNATION = "|".join(_FR_PRONOUNS.split() + _FR_PRONOUNS.upper().split())
# French words spaCy keeps whole however its hyphens split: its ``token_match`` (spacy/lang/fr/tokenizer_exceptions.py,
# case-insensitive), copied as data (tests/data/spacy/fr_token_match.json, checked against spaCy 3.8.7 where the bench
# venv is built): a prefix of its list joined by a hyphen to a lower-case word ("non-free", "sous-système", "e-mail",
# "sub-projects", "Saint-Étienne", "arrière-plan"), an elided prefix ("entr'ouvert"), a compound whose middle part is a
# linking word ("arc-en-ciel", "face-à-face") and ~50 listed words ("black-out"). Before words47 we had 42 of its 201
# prefixes and only "-" and U+2010 of its five hyphens: Gopher's words were datatrove's in 59 of 112 French held-out
# documents (bench/README.md, "French words as spaCy's French tokenizer keeps them").
_FR_HYPHENS, _FR_ELISIONS = "-–—‐‑", "'’"
_FR_HYPHEN_PREFIXES = tuple((
    "a[ée]ro,abat,a[fg]ro,after,aigues?,am[ée]ricano,anglo,anti,apr[èe]s,arabo,arcs?,archi,arrières?,audio,avant,"
    "avion,auto,banc,bas(?:ses?)?,bateaux?,bec?,belles?,beau,best,bio?,bien,blanc,bo[îi]te,bonn?e?s?,bois,"
    "bou(?:c|rg),b[êe]ta,cache,cap(?:ello)?,casse,castel,champ,chapelle,ch[âa]teau(?:neuf)?,chasse,"
    "cha(?:ud|t)e?s?,chauffe,chou,chromo,claire?s?,co(?:de|ca)?,compte,contre,cordon,coupe?,courte?s?,couvre,"
    "crash,crise,croche,cross,cyber,côte,demi,di(?:sney)?,dix,d[ée]s?,dys,ex?,émirato,entre,est,ethno,ex,extra,"
    "extrême,[ée]co,faux,fil,fort,franco?s?,gallo,gardes?,gastro,grande?,gratte,gr[ée]co,gros,g[ée]o,haute?s?,"
    "homm?es?,hors,hyper,indo,infra,inter,intra,islamo,italo,jean,labio,latino,live,lot,louis,m[ai]cro,mal,médio,"
    "mesnil,mi(?:ni)?,mono,mont?s?,moyen,multi,m[ée]cano,m[ée]dico,m[ée]do,m[ée]ta,mots?,neuro,noix,non,nord,"
    "notre,n[ée]o,ouest,outre,ouvre,passe,perce,pharmaco,ph[oy]to,pieds?,pique,poissons?,ponce,pont,po[rs]t,"
    "pousse,primo,pro(?:cès|to)?,pare,petite?s?,plessis,porte,pré,prêchi,protège,pseudo,pêle,péri,puy,quasi,"
    "quatre,radio,recourt,rythmo,(?:re)?doubles?,r[ée],r[ée]tro,requin,sans?,sa?inte?s?,semi,serre,sino,socio,"
    "sociale?s?,soixante,sous,su[bdrs],super,taille,tire,thermo,tiers,tourne,toute?s?,tra[iî]ne?,trans,trente,"
    "trois,trousse,tr(?:i|ou),t[ée]l[ée],utéro,vaso,vi[cd]e,vid[ée]o,vie(?:ux|i?lles?|i?l),"
    "vill(?:e|eneuve|ers|ette|iers|y),vingt,voitures?,wagons?,ultra,à,[ée]lectro,[ée]qui,Fontaine,La Chapelle,"
    "Marie,Le Mesnil,Neuville,Pierre,Val,Vaux").split(","))
_FR_WORDS = tuple((
    "a{h}sexualis{a}+ arginine{h}méthyl{a}+ binge{h}watch{a}+ black{h}out{a}* bouche{h}por{a}+ burn{h}out{a}* "
    "by{h}pass{a}* ch{e}tiis{a}+ chape{h}chut{a}+ down{h}load{a}* [ée]tats{h}uni{a}* droits?{h}de{h}l'homm{a}+ "
    "fac{h}simil{a}* fleur{h}bleuis{a}+ flic{h}flaqu{a}+ fox{h}trott{a}+ google{h}is{a}+ hard{h}discount{a}* "
    "hip{h}hop{a}* jet{h}set{a}* knock{h}out{a}* lèche{h}bott{a}+ litho{h}typographi{a}+ lock{h}out{a}* "
    "lombri{h}compost{a}+ mac{h}adamis{a}+ marque{h}pag{a}+ mouton{h}noiris{a}+ new{h}york{a}* "
    "pair{h}programm{a}+ people{h}is{a}+ plan{h}socialis{a}+ premier{h}ministr{a}* prud{e}hom{a}+ "
    "réarc{h}bout{a}+ refox{h}trott{a}+ remicro{h}ond{a}+ repique{h}niqu{a}+ repetit{h}déjeun{a}+ rick{h}roll{a}* "
    "rond{h}ponn{a}+ shift{h}cliqu{a}+ soudo{h}bras{a}+ stabilo{h}boss{a}+ strip{h}teas{a}+ terra{h}form{a}* "
    "teuf{h}teuf{a}* yo{h}yo{a}+ zig{h}zag{a}* z{e}yeut{a}+").split())
_FR_ELISION_PREFIXES = ("r?é?entr", "grande?s?", "r")
_FR_LINKS = ("l[èe]s?", "la", "en", "des?", "d[eu]", "sur", "sous", "aux?", "à", "et", "près", "saint")
_FR_TOKEN_MATCH = "(?i)" + "|".join(
    [f"(?:{w.format(h=f'[{_FR_HYPHENS}]', e=f'[{_FR_ELISIONS}]', a=f'[{LOWER}]')})" for w in _FR_WORDS]
    + [f"(?:{p}[{_FR_HYPHENS}][{LOWER}][{_FR_HYPHENS}{LOWER}{_FR_ELISIONS}]*)" for p in _FR_HYPHEN_PREFIXES]
    + [f"(?:{p}[{_FR_ELISIONS}][{LOWER}][{_FR_HYPHENS}{LOWER}{_FR_ELISIONS}]*)" for p in _FR_ELISION_PREFIXES]
    + [f"(?:[{ALPHA}]+[{_FR_HYPHENS}]{c}[{_FR_HYPHENS}](?:l[{_FR_ELISIONS}])?[{ALPHA}]+)" for c in _FR_LINKS])
FRENCH = Rules(
    prefixes=(*BASE_PREFIXES, f"[dlnDLN]{_ELISION}(?=[{ALPHA}])"),
    suffixes=(*_without(BASE_SUFFIXES, ICONS, "['’][sS]", "[—–]", _PERIOD_SUFFIX), r"(?<=[0-9])%",
              f"(?<=[0-9{LOWER}%\u00b2\\-+{QUOTES}()?:])\\.",
              f"(?<=[{ALPHA}])[-–—‐‑](?:{_FR_PRONOUN_ALTERNATION})"),
    infixes=(*BASE_INFIXES, _ELISION_INFIX),
    special={**_OWN_SPECIAL, **_abbreviations("etc. cf. av. apr. janv. févr. avr. juill. sept. oct. nov. déc. "
                                                  "M. MM. Mme. Mlle. Dr. St. Ste. pp. No. Vol.")},
    data=("fr",),  # its 102 own exceptions ("lui-même", "peut-être", "celui-ci", "a-t-il", "n°"), words47
    token_match=_FR_TOKEN_MATCH, token_match_needs=_FR_HYPHENS + _FR_ELISIONS)
# Italian (spacy/lang/it): an apostrophe after a letter is an infix before a letter, digit or quote; a hyphen
# splits only before a lower-case letter ("CD-Rom" whole, "apt-get" split); a year "'68" and "20°" are prefixes.
ITALIAN = Rules(
    prefixes=("'[0-9][0-9]", "[0-9]+°", *BASE_PREFIXES),
    suffixes=tuple(BASE_SUFFIXES),
    infixes=(*_without(BASE_INFIXES, f"(?<=[{ALPHA}]){HYPHENS}(?=[{ALPHA}])"),
             f"(?<=[{ALPHA}]){HYPHENS}(?=[{LOWER}])", f"(?<=[{ALPHA}]{_ELISION})(?=[{ALPHA}0-9\"])"),
    special={**_OWN_SPECIAL, **_abbreviations("etc. ecc. art. Art. pag. tel. prof. e-mail e/o")},
    data=("it",))  # its 66 own exceptions ("po'", "E'", "n°"), words47
# Russian (spacy/lang/ru): the base rules
RUSSIAN = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=tuple(BASE_SUFFIXES), infixes=tuple(BASE_INFIXES),
                special={**_OWN_SPECIAL, **_abbreviations("т.е. т.к. т.д. т.п. см. стр. г. гг. ул. тыс. руб.")},
                data=("ru",))  # its 480 own exceptions ("п.", "к.", "им.", "др."), words47; the 91 that hold a
# space ("и др.", "в т.ч.") spaCy merges after splitting, across chunks: not here (a chunk holds no space)
# Swedish (spacy/lang/sv): an apostrophe is a suffix only after a letter other than s, x, z ("Anders'" whole);
# infixes: no hyphen, no operator between digits; "," "!" "?" "<" ">" "=" and quotes or brackets between letters,
# "--" between letters, "/" before a letter, ":" between upper-case letters or a digit and an upper-case letter
_QUOTES_NO_APOSTROPHE = QUOTES.replace("'", "")
SWEDISH = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=(*_without(BASE_SUFFIXES, _QUOTE_SUFFIX, "['’][sS]"), f"[{_QUOTES_NO_APOSTROPHE}]", "(?<=[^sSxXzZ])'"),
    infixes=(r"\.\.+", "…", ICONS, f"(?<=[{ALPHA}]),(?=[{ALPHA}])", f"(?<=[{LOWER}])\\.(?=[{UPPER}])",
             f"(?<=[{ALPHA}])[,!?](?=[{ALPHA}])", f"(?<=[{ALPHA}])[<>=](?=[{ALPHA}])", f"(?<=[{UPPER}]):(?=[{UPPER}])",
             f"(?<=[{ALPHA}])[{_QUOTES_NO_APOSTROPHE})\\](\\[](?=[{ALPHA}])", f"(?<=[{ALPHA}])--(?=[{ALPHA}])",
             f"(?<=[{ALPHA}0-9])[<>=/](?=[{ALPHA}])", f"(?<=[{UPPER}0-9]):(?=[{UPPER}])"),
    special={**_OWN_SPECIAL, **_abbreviations("etc. t.ex. bl.a. d.v.s. dvs. m.m. osv. s.k. jan. feb. kl. fr.o.m. "
                                                  "p.g.a. resp.")})
# Catalan (spacy/lang/ca): a hyphen is a prefix and a suffix but no infix between letters (words joined by hyphens
# stay whole) except before a clitic pronoun ("dóna-li"); an apostrophe after a letter is an infix; the
# contractions del, dels, al, als, pel, pels are two tokens each (de + el, a + els, per + el)
_CA_CLITICS = ("(?:'ls|'l|'ns|'t|'m|'n|-les|-la|-lo|-li|-los|-me|-nos|-te|-vos|-se|-hi|-ne|-ho)(?![A-Za-z])"
               "|(?:-l'|-m'|-t'|-n')")
CATALAN = Rules(
    prefixes=(*BASE_PREFIXES, "-"),
    suffixes=(*_without(BASE_SUFFIXES, "['’][sS]"), "-"),
    infixes=(*_without(BASE_INFIXES, f"(?<=[{ALPHA}]){HYPHENS}(?=[{ALPHA}])"),
             f"(?<=[{ALPHA}]{_ELISION})(?=[{ALPHA}0-9])", _CA_CLITICS),
    special={**_OWN_SPECIAL, **_abbreviations("p.ex. aprox. pàg. Dr. Sr. Sra."), "del": ("d", "el"), "dels": ("d", "els"), "al": ("a", "l"), "als": ("a", "ls"),
             "pel": ("p", "el"), "pels": ("p", "els")})

# The tables below (spaCy 3.8.7's es, pt, nl, pl, tr, da, nb, fi, uk, bg rules, written here in the same terms)
# differ from the base in the ways each comment names; a language's exception list is data: a few frequent
# abbreviations each, its rule-generated exceptions (Spanish clock times, Danish day ordinals, Finnish
# conjunction + negation contractions) in full.
_UNIT_NO_PERCENT = _units([u for u in UNITS if u != "%"])
_S_SUFFIX = "['’][sS]"
_QUOTES_NO_APOSTROPHE = QUOTES.replace("'", "")
_BRACKET_INFIX = f"(?<=[{ALPHA}])[{_QUOTES_NO_APOSTROPHE})\\](\\[](?=[{ALPHA}])"  # a quote or bracket between letters
_PUNCT_INFIX = f"(?<=[{ALPHA}])[,!?](?=[{ALPHA}])"
_COMMA_INFIX = f"(?<=[{ALPHA}]),(?=[{ALPHA}])"
_ALNUM_SYMBOL_INFIX = f"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"  # the base's last infix
_CASE_PERIOD_INFIX = f"(?<=[{LOWER}])\\.(?=[{UPPER}])"  # "word.Word" without the quotes the base allows
_DOUBLE_HYPHEN_INFIX = f"(?<=[{ALPHA}])--(?=[{ALPHA}])"

# Spanish (spacy/lang/es): a dash is a suffix before anything else; no "'s" suffix, no hyphen infix (words joined by
# hyphens stay whole) nor "-" between digits; "%" is no unit ("50%" whole); a final period also splits after a dash
# and the lower-case/upper-case period infix takes dashes as quotes; clock times "10am", "3p.m." are two tokens
_ES_QUOTES = QUOTES + "—–"
SPANISH = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=(*_without(BASE_SUFFIXES, _S_SUFFIX, _UNIT, _PERIOD_SUFFIX), _UNIT_NO_PERCENT,
              f"(?<=[{PERIOD_AFTER}—–])\\."),
    infixes=(r"\.\.+", "…", ICONS, r"(?<=[0-9])[+*^](?=[0-9-])", f"(?<=[{LOWER}{_ES_QUOTES}])\\.(?=[{UPPER}{_ES_QUOTES}])",
             _COMMA_INFIX, _ALNUM_SYMBOL_INFIX),
    special={**_OWN_SPECIAL, **_abbreviations("etc. p.ej. pág. ej. aprox. núm. vol. fig. Sr. Sra. Dr. Av. S.A. "
                                                  "EE.UU. Prof. n° °C"),
             **{f"{h}{m}": (str(h), m) for h in range(1, 13) for m in ("a.m.", "am", "p.m.", "pm")},
             "12m.": ("12", "m."), "pal": ("pa", "l")},
    data=("es",))  # its 106 own exceptions, words47 (not "EE. UU.", which holds a space)
# Portuguese (spacy/lang/pt): up to three word characters before "$" are a prefix ("R$", "US$"); a run of word
# characters joined by hyphens is an infix token of its own, found before the base infixes ("guarda-chuva",
# "apt-get", "2021-07-25" whole; "x/apt-get" is "x", "/", "apt-get"); otherwise the base rules
_WORD = r"[\p{L}\p{N}_]"
PORTUGUESE = Rules(
    prefixes=(f"{_WORD}{{1,3}}\\$", *BASE_PREFIXES),
    suffixes=tuple(BASE_SUFFIXES),
    infixes=(f"{_WORD}+-{_WORD}+(?:-{_WORD}+)*", *BASE_INFIXES),
    special={**_OWN_SPECIAL, **_abbreviations("etc. e.g. i.e. Sr. Sra. Dr. pág. pag. art. Art. Av. km/h e/ou")})
# Dutch (spacy/lang/nl): ",," is a prefix and "''" a suffix; no "'s" suffix, "%" no unit; infixes: no hyphen
# (words joined by hyphens whole), no "/", no operator between digits; ",", "!", "?", a quote or bracket, "--"
# between letters, ":" "<" ">" "=" after a letter or '"' before a letter; the elided articles "'s", "'t", "'n" whole;
# spaCy's ~4,500 abbreviations are data (the frequent ones below were written before they were)
NL_SPECIAL_ELISIONS = "'s 't 'n 'S 'T 'N 'ns 'm"
DUTCH = Rules(
    prefixes=(",,", *BASE_PREFIXES),
    suffixes=("''", *_without(BASE_SUFFIXES, _S_SUFFIX, _UNIT), _UNIT_NO_PERCENT),
    infixes=(r"\.\.+", "…", ICONS, _CASE_PERIOD_INFIX, _PUNCT_INFIX, f"(?<=[{ALPHA}\"])[:<>=](?=[{ALPHA}])",
             _COMMA_INFIX, _BRACKET_INFIX, _DOUBLE_HYPHEN_INFIX),
    special={**_OWN_SPECIAL, **_abbreviations(NL_SPECIAL_ELISIONS + " bijv. o.a. d.w.z. enz. m.b.t. i.p.v. etc. e.g. "
                                                 "i.e. nr. blz. evt. max. min. ca. resp. e.d. m.a.w. t.o.v. vs. "
                                                 "a.u.b. z.s.m. n.a.v. i.v.m. t.z.t. s.v.p. c.q. m.n. dhr. mevr. dr. "
                                                 "prof. ir. drs. mr. fig. art.")}, data=("nl",))
# Polish (spacy/lang/pl): every final period is a suffix ("r." -> "r", "."; no "a." special case kept whole), as
# are "''" and "’’"; no "'s" or dash suffix; every hyphen or dash is an infix (also between digits, "-t" whole:
# an infix at a chunk's start is ignored); a period between a letter or digit and a digit or upper-case letter; a
# quote or bracket between a letter and a letter or hyphen; "długo-", "trzy-" (a numeral before a hyphen) a prefix
_PL_NUMERAL_PREFIX = "(?:długo|krótko|jedno|dwu|trzy|cztero)-"
POLISH = Rules(
    prefixes=(_PL_NUMERAL_PREFIX, *BASE_PREFIXES),
    suffixes=("''", "’’", r"\.", "…", f"[{PUNCT}]", f"[{QUOTES}]", ICONS, r"(?<=[0-9])\+", r"(?<=[0-9])\p{Sc}",
              _UNIT),
    infixes=(r"\.\.+", "…", ICONS, "-", "–", "—", "--", "---", "——", "~", f"(?<=[{ALPHA}0-9])\\.(?=[0-9{UPPER}])",
             _PUNCT_INFIX, f"(?<=[{ALPHA}])[:<>=/](?=[{ALPHA}])", _COMMA_INFIX,
             f"(?<=[{ALPHA}])[{_QUOTES_NO_APOSTROPHE})\\](\\[](?=[\\-{ALPHA}])"),
    special={k: v for k, v in _BASE_SPECIAL.items() if k not in _LETTER_PERIODS and k != "._."})
# Turkish (spacy/lang/tr): the base affixes, none of the base special cases (no emoticon merged, "a." split), and a
# whole-token rule: a number, date, time, ordinal ("3."), fraction ("1/2", "12/a"), Roman numeral or Roman ordinal
# ("XII."), each with an optional suffix after an apostrophe ("2021'de", "1990'lı"), or an abbreviation with such a
# suffix at a chunk's start ("Av.'ın...")
_TR_NUMBER = r"[+-]?\d+(?:[,.]\d+)*"
_TR_DATE = r"(?:(?:\d{1,2}[./-]){2})?\d{4}|\d{1,2}[./]\d{1,2}\.?"
_TR_ROMAN = "M{0,3}(?:C[MD]|D?C{0,3})(?:X[CL]|L?X{0,3})(?:I[XV]|V?I{0,3})"
_TR_TOKEN_MATCH = (f"(?s)[{ALPHA}]+\\.'[{LOWER}]+.*"
                   f"|(?:{_TR_DATE}|[{ALPHA}\\d]+/\\d+|\\d+/[{ALPHA}]|\\d+(?::\\d+)*|\\d+\\.|{_TR_NUMBER}"
                   f"|{_TR_ROMAN}\\.|{_TR_ROMAN})(?:'[{LOWER}]+)?")
TURKISH = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=tuple(BASE_SUFFIXES), infixes=tuple(BASE_INFIXES),
                special=_abbreviations("vb. vs. Dr. Prof. Av. yy. Cad. Sok. Mah. Dz. Ltd. Şti. Doç. Alb. Apt."),
                token_match=_TR_TOKEN_MATCH)
# Danish (spacy/lang/da): an apostrophe is a suffix only after a letter other than s, x, z (as Swedish); infixes: no
# hyphen, no operator between digits; ",", "!", "?", ":", "<", ">", "=", a quote or bracket, "--" between letters,
# the base's "/" ":" ... before a letter; a day of the month with its period ("1." to "31.") one token; spaCy's
# ~1,000 abbreviations are data
_NORDIC_SUFFIXES = (*_without(BASE_SUFFIXES, _QUOTE_SUFFIX, _S_SUFFIX), f"[{_QUOTES_NO_APOSTROPHE}]",
                    "(?<=[^sSxXzZ])'")
DANISH = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=_NORDIC_SUFFIXES,
    infixes=(r"\.\.+", "…", ICONS, _CASE_PERIOD_INFIX, _PUNCT_INFIX, f"(?<=[{ALPHA}])[:<>=](?=[{ALPHA}])",
             _COMMA_INFIX, _BRACKET_INFIX, _DOUBLE_HYPHEN_INFIX, _ALNUM_SYMBOL_INFIX),
    special={**_OWN_SPECIAL, **{f"{d}.": (f"{d}.",) for d in range(1, 32)},
             **_abbreviations("f.eks. bl.a. dvs. osv. ca. evt. mht. nr. kl. jf. etc. i.e. inkl. ekskl. pga. vha. s. tlf. m.m. "
                              "o.l. fx. iflg.")}, data=("da",))
# Norwegian Bokmål (spacy/lang/nb): "#" is no prefix; the degree sign no icon ("20°" whole); an apostrophe a suffix
# only after a letter other than s, x, z; a final period splits after a lower-case letter or mark but not after a
# digit ("2." whole) nor an apostrophe; infixes as Danish's but "/" between letters only and nothing after a digit
_PUNCT_NO_HASH = PUNCT.replace("#", "")
_NB_QUOTES = _QUOTES_NO_APOSTROPHE
NORWEGIAN = Rules(
    prefixes=(*_without(BASE_PREFIXES, f"[{PUNCT}]"), f"[{_PUNCT_NO_HASH}]"),
    suffixes=(*_without(BASE_SUFFIXES, _QUOTE_SUFFIX, _S_SUFFIX, ICONS, _PERIOD_SUFFIX), f"[{_NB_QUOTES}]",
              ICONS_NO_DEGREE, f"(?<=[{LOWER}%\u00b2\\-+{PUNCT}{_NB_QUOTES}|()?:])\\.", "(?<=[^sSxXzZ])'"),
    infixes=(r"\.\.+", "…", ICONS_NO_DEGREE, _CASE_PERIOD_INFIX, _PUNCT_INFIX, f"(?<=[{ALPHA}])[:<>=/](?=[{ALPHA}])",
             _COMMA_INFIX, _BRACKET_INFIX, _DOUBLE_HYPHEN_INFIX),
    special={**_OWN_SPECIAL, **_abbreviations("f.eks. bl.a. dvs. osv. ca. evt. mht. nr. kl. jf. etc. inkl. pga. vha. "
                                                  "s. tlf. m.m. o.l. el. bla. mv. ifm. iht. ev.")})
# Finnish (spacy/lang/fi): no "'s" suffix; infixes: no hyphen-minus (words joined by "-" whole) but the other dashes
# and "~"; no ":" nor operator between digits; ",", "!", "?", a quote or bracket between letters; "<" ">" "=" "/"
# before a letter; a conjunction contracted with the negation verb ("ettei", "jollen") is two tokens
_FI_CONJUNCTIONS = "ett jott kosk mutt vaikk ehk miks siks joll ell"
_FI_NEGATIONS = "en et ei emme ette eivat eivät"
FINNISH = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=tuple(_without(BASE_SUFFIXES, _S_SUFFIX)),
    infixes=(r"\.\.+", "…", ICONS, _CASE_PERIOD_INFIX, _PUNCT_INFIX, _BRACKET_INFIX,
             f"(?<=[{ALPHA}])(?:–|—|--|---|——|~)(?=[{ALPHA}])", f"(?<=[{ALPHA}0-9])[<>=/](?=[{ALPHA}])"),
    special={**_OWN_SPECIAL, **_abbreviations("esim. ks. mm. jne. ym. ns. n. yms. tms. v. ao. ts."),
             **{c + n: (c, n) for conj in _FI_CONJUNCTIONS.split() for c in (conj, conj.title())
                for n in _FI_NEGATIONS.split()}})
# Ukrainian and Bulgarian (spacy/lang/uk, bg): the base rules, and a period, comma, hyphen or symbol after a letter
# with a combining stress mark splits as after the letter alone ("сло́во-сло́во", "сло́во.")
_STRESS = r"\u0300-\u036f"
_STRESSED_SUFFIXES = (*BASE_SUFFIXES, f"(?<=[{ALPHA}][{_STRESS}])\\.")
_STRESSED_INFIXES = (*BASE_INFIXES, f"(?<=[{LOWER}][{_STRESS}])\\.(?=[{UPPER}{QUOTES}])",
                     f"(?<=[{ALPHA}][{_STRESS}]),(?=[{ALPHA}])", f"(?<=[{ALPHA}][{_STRESS}]){HYPHENS}(?=[{ALPHA}])",
                     f"(?<=[{ALPHA}][{_STRESS}])[:<>=/](?=[{ALPHA}])")
UKRAINIAN = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_STRESSED_SUFFIXES, infixes=_STRESSED_INFIXES,
                  special={**_OWN_SPECIAL, **_abbreviations("м. вул. ст. п. проф. ім. р-н обл. г.")})
BULGARIAN = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_STRESSED_SUFFIXES, infixes=_STRESSED_INFIXES,
                  special={**_OWN_SPECIAL, **_abbreviations("г. т.е. т.нар. напр. др. гр. ул. бул. стр. д-р г-н г-жа")})

# Romanian (spacy/lang/ro): a closed-class word before a hyphen is a prefix ("într-", "s-", "dintr-") and after one a
# suffix ("-l", "-ului", "-mi"), each in lower, upper and title case and with or without its diacritics (ă â as a,
# î as i, ș ş as s, ț ţ as t); the degree sign no icon after a word; no "'s" suffix, no unit; infixes: no hyphen
# (words joined by hyphens whole), no "/", no "-" between digits; ordinals "1-a", "2-lea" and a few abbreviations
_RO_BARE = {"ă": "ăa", "â": "âa", "î": "îi", "ș": "șşs", "ț": "țţt"}
_RO_PREFIX_WORDS = "a c ce cu d de dintr e făr i l le m mi n ne p pe prim printr s se te v într ș și ți"
_RO_SUFFIX_WORDS = ("a aceasta ai al ale alta am ar astea atâta au aș ați i ilor l le lea mea meu mi mă n ndărătul ne "
                    "o oi or s se si te ul ului un uri urile urilor veți vă ăștia și ți")


def _ro_variants(words: str) -> list[str]:
    """Each word in lower, upper and title case, each letter with a diacritic also without it (spaCy's rule)."""
    out: set[str] = set()
    for word in words.split():
        forms = [""]
        for ch in word:
            forms = [f + c for f in forms for c in _RO_BARE.get(ch, ch)]
        out.update(v for f in forms for v in (f, f.upper(), f.title()))
    return sorted(out)


_RO_PREFIXES = "|".join(regex.escape(w + "-") for w in _ro_variants(_RO_PREFIX_WORDS))
_RO_SUFFIXES = "|".join(regex.escape("-" + w) for w in _ro_variants(_RO_SUFFIX_WORDS))
ROMANIAN = Rules(
    prefixes=("[§%=—–]", r"\+(?![0-9])", f"(?:{_RO_PREFIXES})", *_without(BASE_PREFIXES, "[§%=—–]", r"\+(?![0-9])")),
    suffixes=(f"(?:{_RO_SUFFIXES})", *_without(BASE_SUFFIXES, _S_SUFFIX, _UNIT, ICONS), ICONS_NO_DEGREE),
    infixes=(r"\.\.+", "…", ICONS_NO_DEGREE, r"(?<=[0-9])[+*^](?=[0-9-])",
             f"(?<=[{LOWER}{QUOTES}])\\.(?=[{UPPER}{QUOTES}])", _COMMA_INFIX, f"(?<=[{ALPHA}0-9])[:<>=](?=[{ALPHA}])"),
    special={**_OWN_SPECIAL, **{v: (v,) for v in _ro_variants(
        "dvs. ing. dr. str. nr. etc. ex. fig. d-voastră d-lui d-l rom. art. alin. lit.")},
             **{f"{n}-a": (f"{n}-a",) for n in range(1, 13)}, "1-ul": ("1-ul",),
             **{f"{n}-lea": (f"{n}-lea",) for n in range(2, 13)}})
# Hungarian (spacy/lang/hu): no "§ % = — – +" or currency prefix, but ",", "." or ":" before a letter is one; "+" is a
# suffix anywhere, "-e" (the question particle) after a lower-case letter or ")"; a final period splits after a
# lower-case letter, "%", "²", "-", "+", a quote or a currency sign, not after a digit or an upper-case letter;
# the degree sign no icon, "%" no unit, no dash or "'s" suffix; infixes without hyphen (words joined by
# hyphens whole), "/" or digit operators; a whole-token rule for numbers, expressions ("2+2=4", "10%"), times,
# dates and ordinals ("2021.", "III/2."), each with a case ending after a hyphen ("2021-ben"); initials ("A.")
_HU_CURRENCY = r"\p{Sc}"
_HU_QUOTES = _QUOTES_NO_APOSTROPHE
_HU_NUMBER = r"[+\-]?\d+(?:[,.]\d+)*"
_HU_TOKEN_MATCH = (f"(?:{_HU_NUMBER}(?:[=<>+\\-*/^()÷%²]{_HU_NUMBER})*%?|\\d+(?::\\d+)*(?:\\.\\d+)?"
                   f"|(?:[A-Z0-9]+[./-])*\\d+\\.?|{_HU_CURRENCY}|US\\$|C\\$|A\\$)(?:-[{LOWER}]+)?")
HUNGARIAN = Rules(
    prefixes=(f"[{PUNCT}]", r"\.\.+", "…", f"[{QUOTES}]", ICONS_NO_DEGREE, f"[,.:](?=[{ALPHA}])"),
    suffixes=(r"\+", f"[{PUNCT}]", r"\.\.+", "…", f"[{QUOTES}]", ICONS_NO_DEGREE, r"(?<=°[FfCcKk])\.",
              f"(?<=[0-9]){_HU_CURRENCY}", _UNIT_NO_PERCENT, f"(?<=[{LOWER}%\u00b2\\-+{QUOTES}()?:\\p{{Sc}}])\\.",
              f"(?<=[{LOWER})])-e"),
    infixes=(r"\.\.+", "…", ICONS_NO_DEGREE, _CASE_PERIOD_INFIX, _PUNCT_INFIX, f"(?<=[{ALPHA}])[:<>=](?=[{ALPHA}])",
             _DOUBLE_HYPHEN_INFIX, _COMMA_INFIX, f"(?<=[{ALPHA}])[{_HU_QUOTES})\\](\\[](?=[\\-{ALPHA}])"),
    special={**_OWN_SPECIAL, **{f"°{u}": (f"°{u}",) for u in "CFKcfk"}, **{f"°{u}.": (f"°{u}", ".") for u in "CFKcfk"},
             **{f"{c}.": (f"{c}.",) for c in "ABCDEFGHIJKLMNOPRSTUVWXYZÁÉ"},
             **_abbreviations("stb. pl. ill. kb. vö. ún. Dr. dr. u. ld. min. max. ua. uo. évf. sz. ford. kft. Kft. Bt. etc. "
                              "jan. febr. márc. ápr. jún. júl. aug. szept. okt. nov. dec. -e")},
    token_match=_HU_TOKEN_MATCH)


# Lithuanian (spacy/lang/lt): every final period is a suffix ("a." split, as none of the base's letter-period special
# cases is kept), no operator "-" between digits ("3-4" whole); otherwise the base rules
LITHUANIAN = Rules(
    prefixes=tuple(BASE_PREFIXES), suffixes=(r"\.", *BASE_SUFFIXES),
    infixes=(*_without(BASE_INFIXES, r"(?<=[0-9])[+\-*^](?=[0-9-])"), r"(?<=[0-9])[+*^](?=[0-9-])"),
    special={**{k: v for k, v in _OWN_SPECIAL.items() if k not in _LETTER_PERIODS and k not in ("._.", "8)")},
             "?!": ("?!",), "n-tosios": ("n-tosios",)})

# Greek (spacy/lang/el): spaCy's Greek rules name their letters by hand: the capitals Α-Ω and small letters α-ω
# with the small accented ones (tonos, dialytika); some rules add capitals with tonos. Prefixes: "''", "§", "%",
# "=", "+90%", a year "'12" (also "'12-'13"), a negative decimal "-12.13", a word in quotes "'αβγ'", up to three
# Greek letters elided before an apostrophe ("παρ'", "κατ'"), a hyphenated "http://www" host, a Greek word
# before "*", "$" with a number, then the base's punctuation, quotes, currency and icons (no dash, no "+").
# Suffixes: the base's punctuation, quotes and icons, "12+", "12'", an apostrophe with at most one Latin letter
# before it ("abc'" is "ab", "c'"), a whole chunk "12." or "1)" or "Α." (an initial), "12&", currency and units
# ("%" none) after a digit, a period after a digit, lower-case letter or quote, or two capitals, or a Greek letter;
# a hyphen after a Greek letter; a whole hyphenated Greek word ("πρώτος-δεύτερος-τρίτος", kept whole as one suffix token:
# its start may lie anywhere in the chunk, so this table searches suffixes in the whole chunk, not in the last
# 12 characters), "13mg", "1.2m". Infixes: the base's ellipses and icons, an operator or "/" between digits,
# Latin words joined by two "/" or by hyphens, numbers joined by hyphens ("10.9-6", "1ης-2"), dates "15/2/17", a
# Latin e-mail address, each as one infix token; then a period between cases, a comma, a hyphen or ":<>=/"
# between letters. Rules anchored on a space (" 12.", "12) ") cannot match inside a chunk and are left out.
# spaCy's currency list also holds "US$", "C$", "A$" (a prefix each: "C$5"; the base tables take "$" alone)
_CURRENCY_CODES = r"US\$|C\$|A\$"
_EL_SMALL = "α-ωάέήίόύώϊϋΐΰ"
_EL = "Α-Ω" + _EL_SMALL  # Greek letters of spaCy's Greek rules
_EL_COMPOUND = "ΆΈΊΌΎΏ" + _EL  # and in a hyphenated Greek word, the capitals with tonos but Ή
_EL_STARRED = "ΆΈΊ" + _EL  # and in a word before "*", three of them
# spaCy's general letter classes (the base's lookbehinds of Greek's own rules) leave out the small letters with
# dialytika ϊ ϋ ΐ ΰ and the polytonic letters (Greek Extended): "ταπεινωτική." with U+1F75 keeps its period,
# "Ευρωπαϊ-x" its hyphen; ``\p{L}`` holds them, so Greek's table takes them out where spaCy's classes apply
_EL_NOT_LETTERS = "ϊϋΐΰ\u1f00-\u1fff"
_EL_ALPHA = f"(?![{_EL_NOT_LETTERS}])[{ALPHA}]"
_EL_LOWER = f"(?![{_EL_NOT_LETTERS}])[{LOWER}]"
_EL_UPPER = f"(?![{_EL_NOT_LETTERS}])[{UPPER}]"
GREEK = Rules(
    prefixes=("''", "[§%=]", r"\+[0-9]+%", "'[0-9]{2}(?:-'[0-9]{2})*", r"-[0-9]{1,9}\.[0-9]{1,9}", f"'[{_EL}]+'",
              f"[{_EL}]{{1,3}}'",
              # spaCy's "www." has an unescaped period: any character
              r"http://www.[A-Za-z]+-[A-Za-z]+(?:\.[A-Za-z]+)+(?:/[A-Za-z]+)*(?:\.[A-Za-z]+)*",
              f"[{_EL_STARRED}]+\\*", r"\$[0-9]+(?:[,.][0-9]+)?",
              f"[{PUNCT}]", r"\.\.+", f"[{QUOTES}]", r"\p{Sc}", _CURRENCY_CODES, ICONS),
    suffixes=("……", f"[{PUNCT}]", r"\.\.+", f"[{QUOTES}]", ICONS, r"(?<=[0-9])\+", "[0-9]+'", "[A-Za-z]?'",
              r"^[0-9]{1,2}\.", r"^[0-9]\)", r"(?<=°[FfCcKk])\.", "[0-9]+&", r"(?<=[0-9])\p{Sc}", _UNIT_NO_PERCENT,
              f"(?<=[0-9\u00b2\\-+{QUOTES}()?:]|{_EL_LOWER})\\.", f"(?<={_EL_UPPER}{_EL_UPPER})\\.", f"(?<=[{_EL}])-",
              f"(?<=[{_EL}])\\.", r"^[Α-Ω]\.", f"[{_EL_COMPOUND}]+(?:-[{_EL_COMPOUND}]+)+", "[0-9]+mg",
              r"[0-9]+\.[0-9]+m"),
    infixes=(r"\.\.+", "…", ICONS, r"(?<=[0-9])[+/\-*^](?=[0-9])", "[a-zA-Z]+/[a-zA-Z]+/[a-zA-Z]+",
             r"[0-9]+(?:\.[0-9]+)*(?:-[0-9]+)+", "[0-9]+,[0-9]+-[0-9]+,[0-9]+", "[0-9]+[ης]+(?:-[0-9]+)+",
             "[0-9]{1,4}/[0-9]{1,2}(?:/[0-9]{0,4})?", r"[A-Za-z]+@[A-Za-z]+(?:-[A-Za-z]+)*\.[A-Za-z]+",
             "[a-zA-Z]+(?:-[a-zA-Z]+)+", f"(?<={_EL_LOWER})\\.(?={_EL_UPPER})", f"(?<={_EL_ALPHA}),(?={_EL_ALPHA})",
             f"(?<={_EL_ALPHA}){HYPHENS}(?={_EL_ALPHA})", f"(?<={_EL_ALPHA})[:<>=/](?={_EL_ALPHA})"),
    special={**_OWN_SPECIAL, **{f"{h}{m}": (str(h), m) for h in range(1, 13) for m in ("π.μ.", "πμ", "μ.μ.", "μμ")},
             # spaCy's case that holds a space, merged across chunks (``spaced_specials``); its other, "Αγ. Γρ.", never
             # merges in spaCy, whose exceptions keep "Αγ." whole (a list not loaded here, see the module docstring)
             "Μ. Ασία": ("Μ. Ασία",)},
    suffix_window=None,
    # a suffix may also start where a run of Greek letters or digits starts, at a Latin letter before an
    # apostrophe, or at the chunk's start; an infix at the start of a run of Latin letters or digits, or up to
    # four digits before "/" (a date's day may start inside a run of digits: "12345/123" is "1", "2345/12", "3")
    suffix_gate=(rf"(?:(?=[^\p{{L}}\p{{N}}])|(?<=[0-9])|^|(?<![{_EL_COMPOUND}])(?=[{_EL_COMPOUND}])"
                 r"|(?<![0-9])(?=[0-9])|(?=[A-Za-z]'))"),
    infix_gate=(r"(?:^|(?=[^\p{L}\p{N}])|(?<=[^\p{L}\p{N}])|(?<![0-9])(?=[0-9])|(?=[0-9]{1,4}/)"
                r"|(?<![A-Za-z])(?=[A-Za-z]))"))


# Slovenian (spacy/lang/sl): "+", "/", "•", "¯", "=", "×" and each dash are prefixes and suffixes (a run of up to
# three hyphens one suffix); a final period splits after a lower-case letter, "%", "²", "-", "+", punctuation or a
# quote but not after a digit ("1." whole); an initial after an initial is a suffix ("J.K." is "J.", "K."); no
# "'s" suffix; a hyphen between a letter or digit and a letter is an infix unless what follows it is one of the
# Slovene endings of a word written after an abbreviation or a number ("BTC-jev", "1-ovi", "SMS-ov": spaCy's
# list of 171 endings from the Obeliks tokenizer, generated here: possessive adjectives in -ov/-ev/-jev/-jin,
# adjectives in -ovski/-evski/-jevski, nouns in -ovec/-ovka (each fully declined), case endings, and -ti/-ta/...)
_SL_ADJ = ("", "a", "e", "i", "o", "ega", "emu", "em", "im", "ih", "ima", "imi")
_SL_ENDINGS = sorted(
    {stem + end for stem in ("ov", "ev", "jev", "jin") for end in _SL_ADJ}
    | {stem + "sk" + end for stem in ("ov", "ev", "jev") for end in _SL_ADJ if end}
    | {stem + end for stem in ("ov", "ev", "jev")
       for end in "ec ca cu cem cev cema cih ci ce cimi ka ke ki ko k kama kah kam kami".split()}
    | set("a e i o u om em ema ih im ima imi ja je ji ju jem jema jih oma ega emu".split())
    | {"t" + end for end in _SL_ADJ if end}, key=lambda e: (-len(e), e))
_SL_MARKS = r"[+/•¯=×]"
SLOVENIAN = Rules(
    prefixes=(_SL_MARKS, "[-–—~]", *BASE_PREFIXES[:-1], _CURRENCY_CODES, ICONS),
    suffixes=(_SL_MARKS, HYPHENS, "……", f"[{PUNCT}]", r"\.\.+", f"[{QUOTES}]", ICONS, r"(?<=°[FfCcKk])\.",
              r"(?<=[0-9])\p{Sc}", _UNIT, f"(?<=[{LOWER}%\u00b2\\-+{PUNCT}{QUOTES}|()?:])\\.",
              f"(?<=[{UPPER}][{UPPER}])\\.", r"(?<=[A-Z]\.)[A-Z]."),
    infixes=(r"\.\.+", "…", ICONS, r"(?<=[0-9])[+\-*^](?=[0-9-])",
             f"(?<=[{LOWER}{_QUOTES_NO_APOSTROPHE}])\\.(?=[{UPPER}{_QUOTES_NO_APOSTROPHE}])", _COMMA_INFIX,
             f"(?<=[{ALPHA}0-9]){HYPHENS}(?!(?:{'|'.join(_SL_ENDINGS)})$)(?=[{ALPHA}])", _ALNUM_SYMBOL_INFIX),
    special=dict(_OWN_SPECIAL),
    suffix_gate=r"(?:(?=[^\p{L}\p{N}])|(?<=[0-9])|(?<=[A-Z]\.))", tail_chars=4,
    alnum_suffix_after="0-9'’\\-–—‐‑.",
    data=("sl",))

# Indonesian (spacy/lang/id): no "#" prefix; currency codes ("Rp", "USD", "US$") and "/" are prefixes; "-nya",
# "-ku", "-mu" and a final hyphen or dash are suffixes, as are data-rate, frequency and number-word units after a
# digit ("10Mbps", "5juta"), "%" after a digit and a closing HTML tag after a letter or digit; infixes beyond the
# base: "/" or "\" between digits, "%" between a digit and a letter, digit or "/", a quote or dash after a
# letter's period or comma, a hyphen between a letter and a digit, and a hyphen or "/" between letters (also
# before a currency code); spaCy's ~3,900 hyphenated words (reduplications "anak-anak", loans "e-mail") in five
# case variants each are a dictionary: data (``exceptions.py``)
_ID_CURRENCY_CODES = r"US\$|C\$|A\$|USD|Rp|IDR|RMB|SGD|S\$"
# (spaCy appends "s bit ..." to its base unit string without a space: "s" is no unit, "3s" stays whole)
_ID_UNITS = (r"bit|Gbps|Mbps|mbps|Kbps|kbps|ƒ|ppi|px|Hz|kHz|MHz|GHz|mAh|ratus|rb|ribu|ribuan|juta|jt|jutaan"
             r"|mill?iar|million|bil[l]?iun|bilyun|billion")
_ID_HTML_TAGS = "</(?:b|strong|i|em|p|span|div|a)>"
def _malay_family(currency_codes: str, data: tuple[str, ...]) -> Rules:
    """Indonesian's rules with ``currency_codes`` (spaCy's Malay rules are Indonesian's with "RM" and "MYR" among the
    currency codes, and its own list of hyphenated words)."""
    return Rules(
        prefixes=(*_without(BASE_PREFIXES, f"[{PUNCT}]"), f"[{_PUNCT_NO_HASH}]", currency_codes,
                  r"<(?:b|strong|i|em|p|span|div|br)\s?/>|<a[^>]+>", "/"),
        suffixes=(*BASE_SUFFIXES, "-[Nn]ya", "-[KkMm]u", "[—-]", f"(?<=[0-9])(?:{_ID_UNITS})", "(?<=[0-9])%",
                  f"(?<=[0-9{ALPHA}]){_ID_HTML_TAGS}"),
        infixes=(*BASE_INFIXES, r"(?<=[0-9])[\\/](?=[0-9%-])", f"(?<=[0-9])%(?=[{ALPHA}0-9/])",
                 '(?<=[0-9)][.,])"(?=[0-9])', f"(?<=[{ALPHA})][.,'])[\"—](?=[{ALPHA}])", f"(?<=[{ALPHA}])-(?=[0-9])",
                 f"(?<=[0-9])-(?=[{ALPHA}])", f"(?<=[{ALPHA}])[/-](?=\\p{{Sc}}|{currency_codes}|[{ALPHA}])"),
        special=dict(_OWN_SPECIAL), letter_prefixes=f"(?:{currency_codes})(?=.)", data=data)


INDONESIAN = _malay_family(_ID_CURRENCY_CODES, ("id-words", "id"))

# spaCy's base rules and special cases alone: what spacy.blank gives for sk, cs, hr, lv, et, is, af, eu, hy (checked
# against spaCy 3.8.7: the same prefixes, suffixes, infixes, URL match and special cases as its base), with ``\p{L}``
# for its letters; Armenian takes ``XX`` below, the same rules with spaCy's own letter classes, which leave Armenian out
BASE = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=tuple(BASE_SUFFIXES), infixes=tuple(BASE_INFIXES),
             special=_BASE_SPECIAL)

# non-Latin lid.176 languages (fw2cyr45)
# spaCy's own letter classes (spacy/lang/char_classes.py ALPHA, ALPHA_LOWER, ALPHA_UPPER), for the tables of the
# languages whose letters they leave out or hold beyond ``\p{L}``. Why: the base tables' ``\p{L}`` splits a final
# period or an inner hyphen after any letter, spaCy only after the letters it lists: Latin, the Russian, Ukrainian,
# Macedonian and Tatar Cyrillic letters, basic Greek, and whole blocks of the scripts it treats as caseless
# (Ethiopic, Hebrew, the Arabic letters, Devanagari, Bengali, Tamil, Telugu, Kannada, Sinhala, Hangul, kana, CJK)
# with their marks and punctuation. So datatrove keeps "სიტყვა." (Georgian), "ވަނީ." (Thaana), "помоћ." (Serbian ћ),
# "миллӣ." (Tajik ӣ) whole, and splits the period off "פֿרײַ." (Yiddish, after a vowel point) and "ג׳." (Hebrew, after
# a geresh), where ``\p{L}`` does the opposite. Latin is taken as ``\p{Latin}`` (spaCy lists its blocks by hand).
_SP_CYRILLIC_GREEK_LOWER = "ёа-яіїєґѓѕјљњќѐѝәөүҗңһα-ωάέίόώήύ"
_SP_CYRILLIC_GREEK_UPPER = "ЁА-ЯІЇЄҐЃЅЈЉЊЌЀЍӘӨҮҖҢҺΑ-ΩΆΈΊΌΏΉΎ"
_SP_UNCASED = ("\u1200-\u137f\u0980-\u09ff\u0591-\u05f4\ufb1d-\ufb4f"  # Ethiopic, Bengali, Hebrew
               "\u0620-\u064a\u066e-\u06d5\u06e5-\u06ff\u0750-\u077f\u08a0-\u08bd\ufb50-\ufbb1\ufbd3-\ufd3d"
               "\ufd50-\ufdc7\ufdf0-\ufdfb\ufe70-\ufefc\U0001ee00-\U0001eebb"  # Arabic (letters, not harakat)
               "\u0d80-\u0dff\u0900-\u097f\u0c80-\u0cff\u0b80-\u0bff\u0c00-\u0c7f"  # Sinhala, Devanagari, Dravidian
               "\uac00-\ud7af\u1100-\u11ff\u3040-\u30ff"  # Hangul, kana
               "\u2e80-\u2fdf\u2ff0-\u303f\u31c0-\u31ef\u3200-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
               "\U0001f200-\U0001f2ff\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002f800-\U0002fa1f")  # CJK
_SP_ALPHA = (f"(?:[{_SP_CYRILLIC_GREEK_LOWER}{_SP_CYRILLIC_GREEK_UPPER}{_SP_UNCASED}]"
             r"|(?=\p{Latin})\p{L})")
_SP_LOWER = f"(?:[{_SP_CYRILLIC_GREEK_LOWER}{_SP_UNCASED}]|(?=\\p{{Latin}})\\p{{Ll}})"
_SP_UPPER = f"(?:[{_SP_CYRILLIC_GREEK_UPPER}{_SP_UNCASED}]|(?=\\p{{Latin}})[\\p{{Lu}}\\p{{Lt}}])"
_SP_PERIOD_AFTER_MARKS = f"%\u00b2\\-+{PUNCT}{QUOTES}|()?:"  # the base's final-period lookbehind but its letters
_SP_PERIOD_SUFFIX = f"(?<=[0-9{_SP_PERIOD_AFTER_MARKS}]|{_SP_LOWER})\\."
_SP_UPPERS_PERIOD_SUFFIX = f"(?<={_SP_UPPER}{_SP_UPPER})\\."
_SP_BASE_SUFFIXES = (*_without(BASE_SUFFIXES, _PERIOD_SUFFIX, f"(?<=[{UPPER}][{UPPER}])\\."), _SP_PERIOD_SUFFIX,
                     _SP_UPPERS_PERIOD_SUFFIX)
_SP_CASE_PERIOD_INFIX = f"(?<={_SP_LOWER}|[{QUOTES}])\\.(?={_SP_UPPER}|[{QUOTES}])"
_SP_COMMA_INFIX = f"(?<={_SP_ALPHA}),(?={_SP_ALPHA})"
_SP_SYMBOL_INFIX = f"(?<={_SP_ALPHA}|[0-9])[:<>=/](?={_SP_ALPHA})"
_SP_BASE_INFIXES = (r"\.\.+", "…", ICONS, r"(?<=[0-9])[+\-*^](?=[0-9-])", _SP_CASE_PERIOD_INFIX, _SP_COMMA_INFIX,
                    f"(?<={_SP_ALPHA}){HYPHENS}(?={_SP_ALPHA})", _SP_SYMBOL_INFIX)
# spaCy's base rules and base special cases with its own letter classes: spacy.blank("xx"), which datatrove runs
# for the languages it gives no tokenizer of their own (its WhitespaceTokenizer: ka, yi, dv) and for tg, cv, sah,
# os, ce; spacy.blank("he") is the same (checked: prefixes, suffixes, infixes and special cases equal xx's)
XX = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_SP_BASE_SUFFIXES, infixes=_SP_BASE_INFIXES, special=_BASE_SPECIAL)
# Arabic (spacy/lang/ar): no period suffix after a lower-case letter or digit (Arabic letters have no case, so
# the "two upper-case letters" rule still splits an Arabic word's period off, not a Latin one's), no "'s",
# symbol or dash suffix. With spaCy's own letter classes (above): its Arabic block U+06E5-U+06FF holds the Persian
# digits ۰-۹ (and Quranic marks), which it counts as letters of both cases, so it splits "۱۳." and "۱.۰" at the
# period where ``\p{L}`` keeps them whole (4 tokens of the Debian handbook's Persian sections, 3 of its sections'
# Gopher words; lead48)
ARABIC = Rules(prefixes=tuple(BASE_PREFIXES),
               suffixes=(*_without(BASE_SUFFIXES, ICONS, "['’][sS]", "[—–]", r"(?<=°[FfCcKk])\.", _PERIOD_SUFFIX,
                                   f"(?<=[{UPPER}][{UPPER}])\\."), _SP_UPPERS_PERIOD_SUFFIX),
               infixes=_SP_BASE_INFIXES,
               # and spaCy's three cases that hold a space, merged across chunks (``spaced_specials``)
               special={**_OWN_SPECIAL, **{k: (k,) for k in ("ب. م", "م. س", "م. ن")}})
# Persian (spacy/lang/fa): Arabic's affixes (no final-period split after a lower-case letter or digit, no "'s", icon
# or dash suffix) and none of the base special cases (no emoticon merged, "a." whole anyway); a word joined by a
# zero-width non-joiner ("آب‌نبات") is one token, as in every table (no rule splits at it); spaCy's ~680 Persian
# words listed with a clitic split off ("آثارش" as "آثار", "ش") are data
PERSIAN = Rules(prefixes=ARABIC.prefixes, suffixes=ARABIC.suffixes, infixes=ARABIC.infixes,
                special=_abbreviations(".م .هـ ب.م ق.م"), data=("fa",))
# Macedonian (spacy/lang/mk): the base rules and its ~70 abbreviations (data)
MACEDONIAN = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_SP_BASE_SUFFIXES, infixes=_SP_BASE_INFIXES,
                   special=dict(_OWN_SPECIAL), data=("mk",))
# Serbian (spacy/lang/sr): a final period splits after any letter (of spaCy's) or mark, not after a digit ("2020."
# whole) nor by the two-capitals rule; no "'s" or dash suffix; infixes: no hyphen (words joined by hyphens whole),
# the base's period between cases, comma between letters, ":<>=/" before a letter and operators between digits;
# its ~160 abbreviations (data)
SERBIAN = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=("……", f"[{PUNCT}]", r"\.\.+", f"[{QUOTES}]", ICONS, r"(?<=[0-9])\+", r"(?<=°[FfCcKk])\.",
              r"(?<=[0-9])\p{Sc}", _UNIT, f"(?<=[{_SP_PERIOD_AFTER_MARKS}]|{_SP_ALPHA})\\."),
    infixes=(r"\.\.+", "…", ICONS, r"(?<=[0-9])[+\-*^](?=[0-9-])", _SP_CASE_PERIOD_INFIX, _SP_COMMA_INFIX,
             _SP_SYMBOL_INFIX),
    special=dict(_OWN_SPECIAL), data=("sr",))
# Amharic (spacy/lang/am): Ethiopic punctuation U+1360-U+1368 (wordspace ፡, full stop ።, comma ፣, ...) is a suffix
# (not a prefix, not an infix: words joined by the wordspace "ሰው፡ልጅ" are one token, as in old-style text written
# without spaces); no icon, "'s", dash, degree or lower-case-period suffix: a final period splits only after two
# letters of spaCy's upper class, which holds every (caseless) Ethiopic letter ("ሰላም." is "ሰላም", "."); base infixes
AMHARIC = Rules(
    prefixes=tuple(BASE_PREFIXES),
    suffixes=("……", f"[{PUNCT}\u1360-\u1368]", r"\.\.+", f"[{QUOTES}]", r"(?<=[0-9])\+", r"(?<=[0-9])\p{Sc}", _UNIT,
              _SP_UPPERS_PERIOD_SUFFIX),
    infixes=_SP_BASE_INFIXES, special=dict(_OWN_SPECIAL), data=("am",))
# Kyrgyz and Tatar (spacy/lang/ky, tt; datatrove gives Bashkir Tatar's): base affixes; infixes: a period between
# cases, runs of ",!?/()" between letters, ":<>=" after a letter or quote, "--" and the other dashes (not "-": words
# joined by hyphens whole) between letters, a quote or bracket after a letter, "-" between digits, and (Kyrgyz only)
# "-" between a digit and a letter ("1-класс"); their abbreviations of months and units (data)
_SP_HYPHENS_NO_DASH = "(?:–|—|——|~)"
_KY_TT_INFIXES = (r"\.\.+", "…", ICONS, f"(?<={_SP_LOWER})\\.(?={_SP_UPPER})", f"(?<={_SP_ALPHA})[,!?/()]+(?={_SP_ALPHA})",
                  f"(?<={_SP_ALPHA}|[{QUOTES}])[:<>=](?={_SP_ALPHA})", f"(?<={_SP_ALPHA})--(?={_SP_ALPHA})",
                  _SP_COMMA_INFIX, f"(?<={_SP_ALPHA})[{QUOTES})\\](\\[](?=-|{_SP_ALPHA})",
                  f"(?<={_SP_ALPHA}){_SP_HYPHENS_NO_DASH}(?={_SP_ALPHA})")
KYRGYZ = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_SP_BASE_SUFFIXES,
               infixes=(*_KY_TT_INFIXES, f"(?<=[0-9])-(?={_SP_ALPHA})", "(?<=[0-9])-(?=[0-9])"),
               special=dict(_OWN_SPECIAL), data=("ky",))
TATAR = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=_SP_BASE_SUFFIXES, infixes=(*_KY_TT_INFIXES, "(?<=[0-9])-(?=[0-9])"),
              special=dict(_OWN_SPECIAL), data=("tt",))
# Latin-script lid.176 languages (fw2lat45): the tables of the spaCy languages datatrove's tokenizer assignment gives
# FineWeb-2's codes of them (bench/README.md, "FineWeb-2's values for the Latin-script lid.176 languages"); Bosnian
# takes Serbian's table above
# Malay (spacy/lang/ms: zsm_Latn's, and jav, sun, plt, min, ilo and pam's): Indonesian's rules with "RM" and "MYR"
# among the currency codes; its ~1,900 words kept whole (reduplications "hak-hak" among them, in five case variants
# each) and ~1,500 abbreviations and acronyms are data
_MS_CURRENCY_CODES = r"US\$|C\$|A\$|USD|RM|MYR|Rp|IDR|RMB|SGD|S\$"
MALAY = _malay_family(_MS_CURRENCY_CODES, ("ms-words", "ms"))
# Luxembourgish (spacy/lang/lb: ltz_Latn's): an apostrophe after "d" or "D" at a chunk's start (after its prefixes)
# ends a word ("d'Recht"; spaCy's class, written from a Python tuple, also holds "(", ",", " " and the quote); no
# hyphen infix between letters (words joined by hyphens whole) but one between digits; "," "!" "?" ":" "<" ">" "="
# and "--" between letters, a period between a lower-case and an upper-case letter; its abbreviations are data
LUXEMBOURGISH = Rules(
    prefixes=tuple(BASE_PREFIXES), suffixes=tuple(BASE_SUFFIXES),
    infixes=(r"\.\.+", "…", ICONS, f"(?<=^[('d, D)]{_ELISION})(?=[{ALPHA}])", _CASE_PERIOD_INFIX, _PUNCT_INFIX,
             f"(?<=[{ALPHA}])[:<>=](?=[{ALPHA}])", _COMMA_INFIX, _DOUBLE_HYPHEN_INFIX, r"(?<=[0-9])-(?=[0-9])"),
    special=dict(_OWN_SPECIAL), data=("lb",))
# Ligurian (spacy/lang/lij: vec_Latn's, lmo_Latn's and pms_Latn's): the base rules and an apostrophe between
# letters ends a word ("de’l" is "de’", "l"); its articled prepositions ("a-o", "co-a", "sott'a-o") are data
LIGURIAN = Rules(prefixes=tuple(BASE_PREFIXES), suffixes=tuple(BASE_SUFFIXES), infixes=(*BASE_INFIXES, _ELISION_INFIX),
                 special=dict(_OWN_SPECIAL), data=("lij",))
# Setswana (spacy/lang/tn: swh_Latn's): the base rules, and a hyphen also after a digit before a letter ("2019-nji")
SETSWANA = replace(BASE, infixes=(*_without(BASE_INFIXES, f"(?<=[{ALPHA}]){HYPHENS}(?=[{ALPHA}])",
                                           f"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"),
                                  f"(?<=[{ALPHA}0-9]){HYPHENS}(?=[{ALPHA}])", f"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"))
# English (spacy/lang/en: fry_Latn's and sco_Latn's; English itself keeps its own segmenter): Setswana's infixes (a
# hyphen also after a digit), and its ~1,200 exceptions as data: contractions with and without their apostrophe
# ("don't" is "do", "n't"; "hes" is "he", "s"), a few abbreviations; an apostrophe inside another word splits nothing
# ("dy't" whole in a Frisian text, which the English word rules split)
ENGLISH = replace(SETSWANA, special=dict(_OWN_SPECIAL), data=("en",))
# The base rules and a few exceptions of the language's own, as data: Tagalog (fil_Latn's, and ceb, war's: its
# contractions "siya'y" as "siya", "'y"), Irish (gle_Latn's: "'acha'n" as "'ach", "a'n", abbreviations "M.F."),
# Latin (lat_Latn's: abbreviations "A.D.", "mecum" as "me", "cum") and Upper Sorbian (hsb_Latn's: a few abbreviations)
TAGALOG, IRISH, LATIN, UPPER_SORBIAN = (replace(BASE, special=dict(_OWN_SPECIAL), data=(name,))
                                        for name in ("tl", "ga", "la", "hsb"))

# German (spacy/lang/de: deu_Latn's, and bar_Latn's): "``" is a prefix, "''" and "/" suffixes; no "'s" or dash
# suffix; a final period splits after a lower-case letter or a mark but not after a digit (the ordinal "3." whole)
# nor a single capital; infixes: no hyphen between letters (compounds "Debian-Server", "Rede‐" and suspended
# "Gedanken-" whole), "-" between digits only; a period between cases, ",!?" ":<>=" and "--" between letters, "/"
# between letters or digits, a quote (not "'") or bracket between letters; its ~240 abbreviations and contractions
# ("z.B.", "usw.", "Nr.", "auf'm" as "auf", "'m") are data
GERMAN = Rules(
    prefixes=("``", *BASE_PREFIXES),
    suffixes=("''", "/", *_without(BASE_SUFFIXES, _S_SUFFIX, "[—–]", _PERIOD_SUFFIX),
              f"(?<=[{LOWER}%\u00b2\\-+{PUNCT}{QUOTES}|()?:])\\."),
    infixes=(r"\.\.+", "…", ICONS, _CASE_PERIOD_INFIX, _PUNCT_INFIX, f"(?<=[{ALPHA}])[:<>=](?=[{ALPHA}])",
             _COMMA_INFIX, f"(?<=[0-9{ALPHA}])/(?=[0-9{ALPHA}])", _BRACKET_INFIX, _DOUBLE_HYPHEN_INFIX,
             "(?<=[0-9])-(?=[0-9])"),
    special=dict(_OWN_SPECIAL), data=("de",))

# Stanza-counted languages (stanza45)
# Maltese (mlt_Latn; datatrove counts it with Stanza's Maltese model, which could not be run here): spaCy has no
# Maltese, and its base rules split the definite article from its noun at the hyphen ("il-kelb" is "il", "-",
# "kelb"), so a third of the UDHR's words were hyphens without a letter and FineWeb-2's least share of words with a
# letter (0.823) removed every part (bench/README.md, "The Stanza-counted languages"). FineWeb-2's published Maltese
# stop words are Stanza's tokens: "il-", "l-", "tal-", "fil-", "fl-", "mill-" (the article, alone or joined to a
# preposition, with its hyphen) and "ta'". So xx's rules, and the article with its hyphen a token of its own before a
# word: "l" or a consonant it assimilates to (ċ d n r s t x ż z), after "i" or a preposition (ta, fi, f, mi, bi, b,
# sa, ma, għa, għ, bħa, li, lil; "ll" after "mi", "għa", "li": "mill-", "għall-", "lill-"), as Maltese grammar writes
# it; and "ta'" (the preposition's short form; also with the typographic apostrophe, as the UDHR writes it) whole.
_MT_ARTICLE = ("(?:(?:[Ii]|[Tt]a|[Ff]i|[Ff]|[Mm]i|[Bb]i|[Bb]|[Ss]a|[Mm]a|[Gg]ħa|[Gg]ħ|[Bb]ħa|[Ll]i|[Ll]il)?"
               "(?:[Ll][Ll]?|[ĊċDdNnRrSsTtXxŻżZz]))-(?=\\p{L})")
MALTESE = replace(XX, prefixes=(_MT_ARTICLE, *XX.prefixes),
                  special={**XX.special, **{w: (w,) for w in ("ta'", "Ta'", "ta’", "Ta’")}})

# The tables by name: a language code, or "base" for the languages that have spaCy's base rules only
LANGUAGE_RULES: dict[str, Rules] = {"fr": FRENCH, "it": ITALIAN, "ru": RUSSIAN, "ar": ARABIC, "sv": SWEDISH,
                                    "ca": CATALAN, "es": SPANISH, "pt": PORTUGUESE, "nl": DUTCH, "pl": POLISH,
                                    "tr": TURKISH, "da": DANISH, "nb": NORWEGIAN, "fi": FINNISH, "uk": UKRAINIAN,
                                    "bg": BULGARIAN, "ro": ROMANIAN, "hu": HUNGARIAN, "fa": PERSIAN,
                                    "lt": LITHUANIAN, "el": GREEK, "sl": SLOVENIAN, "id": INDONESIAN,
                                    "base": BASE,
                                    # non-Latin lid.176 languages (fw2cyr45)
                                    "xx": XX, "mk": MACEDONIAN, "sr": SERBIAN, "am": AMHARIC, "ky": KYRGYZ,
                                    "tt": TATAR,
                                    # Latin-script lid.176 languages (fw2lat45)
                                    "ms": MALAY, "lb": LUXEMBOURGISH, "lij": LIGURIAN, "tn": SETSWANA,
                                    "tl": TAGALOG, "ga": IRISH, "la": LATIN, "hsb": UPPER_SORBIAN, "en": ENGLISH,
                                    "de": GERMAN,
                                    # Stanza-counted languages (stanza45)
                                    "mt": MALTESE}
