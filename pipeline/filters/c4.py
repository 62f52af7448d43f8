"""C4's line and document rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a
Unified Text-to-Text Transformer", section 2.2, "Colossal Clean Crawled Corpus"), as in the C4 reference
code (line cleaning: words over 1,000 characters, Wikipedia citation marks, cookie/terms-of-use lines).

Line rules *rewrite* the document (the lines they remove are gone from the kept text, and later filters
measure what remains); their settings therefore change signals. Document rules (fewer than 5 sentences,
"lorem ipsum", a curly bracket) are thresholds over stored signals.

Terminal punctuation: C4 keeps only lines ending in . ! ? or a quote; FineWeb (Penedo et al. 2024,
"Adding C4's filters") turned this line rule off because its own line-punctuation ratio replaces it, and we default
to FineWeb's setting (``terminal_punct: false``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule
from pipeline.filters.lang_params import segmenter_of
from pipeline.filters.segment import HAN, JIEBA, SUDACHI, UNSPACED, WHITESPACE
from pipeline.filters.segment_lib import CHUNK_HOLDS_WORDS, SPANS_LINES
from pipeline.filters.words import (MARK, TERMINAL_PUNCTUATION, WORDSPACE, WORDSPACE_SPLIT, Tokens, is_mark,
                                    sentences_per_line, split_words, tokenize, tokenize_by_line)

try:
    from pipeline.filters import _chunks
except ImportError:  # not built: the Han runs are counted with a regex per line (the same counts)
    _chunks = None
try:
    from pipeline.filters import _lines
except ImportError:  # not built: the line ends come from str.splitlines(keepends=True)
    _lines = None

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
LINE_END = (".", "?", "!", '"', "'")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_POLICY_RE = re.compile("|".join(map(re.escape, POLICY)))
_SENTENCE_END = frozenset(TERMINAL_PUNCTUATION)


class C4Options(FilterOptions):
    SIGNAL_FIELDS = ("max_word_length", "remove_citations", "terminal_punct", "min_words_per_line",
                     "javascript_lines", "policy_lines")
    max_word_length: int | None = Field(1000, description="drop lines with a longer word (C4 code)")
    remove_citations: bool = Field(True, description="strip [1], [edit], [citation needed]")
    terminal_punct: bool = Field(False, description="drop lines not ending in . ? ! \" ' (C4: true; "
                                 "FineWeb: false)")
    min_words_per_line: int | None = Field(3, description="drop lines with fewer words (C4: 3)")
    javascript_lines: bool = Field(True, description="drop lines mentioning javascript (C4)")
    policy_lines: bool = Field(True, description="drop cookie / terms-of-use lines (C4 code)")
    min_sentences: int | None = Field(5, ge=0, description="fewest sentences in kept lines (C4: 5)")
    lorem_ipsum: bool = Field(True, description="drop documents containing 'lorem ipsum' (C4)")
    curly_bracket: bool = Field(True, description="drop documents containing '{' (C4)")


def count_sentences(tokens: list[str]) -> int:
    """Sentences as a rule-based sentencizer sees them: a terminal mark followed by a non-punctuation
    token starts a new sentence (abbreviations such as "U.S." are one token and do not)."""
    n, seen_end = 1, False
    for token in tokens:
        if token in _SENTENCE_END:
            seen_end = True
        elif seen_end and not all(unicodedata.category(ch)[0] == "P" for ch in token):
            n, seen_end = n + 1, False
    return n


def scan(text: str, o: C4Options, counts: Counter, chunks_per_line: list[int] | None = None,
         known_chunks_per_line: np.ndarray | None = None, segmenter: str = WHITESPACE,
         tokens: Tokens | None = None) -> tuple[list[str], list[int], list[int], bool, bool]:
    """Apply the line rules; returns the kept lines, their numbers in ``text.splitlines()``, the numbers
    of the kept lines a citation was cut from, and the document-rule flags (lorem ipsum, curly bracket).
    ``chunks_per_line`` receives the number of whitespace-separated chunks of every line;
    ``known_chunks_per_line`` gives them when the word splitter already counted them (the compiled
    chunk scan does), which spares splitting every line again. With the ``segmenter`` of a script
    written without spaces (Chinese, Japanese) a line's words are its segmented tokens that are not marks
    (``words.MARK``), so the words-per-line and word-length rules count words, not whole unspaced clauses; with the text's
    ``tokens`` (``words.tokenize``) and its chunks per line they are counted per line from the tokens'
    line numbers and classes instead of segmenting every line again.

    Most lines can only be removed by the word-count rule; ``_special_lines`` finds the others from
    the whole text at C speed, and only those go through every rule in ``_line_rules``."""
    lines = list(map(str.strip, text.splitlines()))
    known = known_chunks_per_line is not None and len(known_chunks_per_line) == len(lines)
    words: list[list[str]] | None = None
    n_words: list[int] | np.ndarray  # an int64 array where counted in numpy (no list made per document)
    if segmenter in UNSPACED:
        n_chunks = known_chunks_per_line.tolist() if known else [len(line.split()) for line in lines]
        stats = tokens.line_stats() if known and tokens is not None and (
            known_chunks_per_line is tokens.chunks_per_line) else None
        if stats is not None:  # counted per line in one compiled pass (the same words)
            n_words = stats[0]
        elif known and tokens is not None:  # one bincount over the tokens' line numbers (same words)
            is_word = (tokens.flags & MARK) == 0
            n_words = np.bincount(tokens.lines(n_chunks)[is_word], minlength=len(lines))
        elif segmenter == JIEBA and o.min_words_per_line is not None:
            # jieba cuts each Han run on its own into words of letters, so a line has at least as many
            # words as Han runs: only a line with fewer runs than the minimum is segmented to decide
            # (the line counts below are then lower bounds, which decide the same)
            least = o.min_words_per_line
            n_words = _letter_runs_per_line(lines)
            short = [i for i, runs in enumerate(n_words) if runs < least]
            for i, n in zip(short, _words_per_line([lines[i] for i in short], segmenter)):
                n_words[i] = n
        else:
            words = [_unspaced_words(line, segmenter) for line in lines]
            n_words = list(map(len, words))
    elif known and segmenter in CHUNK_HOLDS_WORDS:  # a line's chunks are not its whitespace words
        words = list(map(str.split, lines))
        n_chunks, n_words = known_chunks_per_line.tolist(), list(map(len, words))
    elif known:
        n_chunks, n_words = known_chunks_per_line.tolist(), known_chunks_per_line
    else:
        words = list(map(str.split, lines))
        n_words = n_chunks = list(map(len, words))
    if segmenter not in UNSPACED and WORDSPACE in text:  # Ethiopic words separated by the wordspace, not spaces
        words = [_whitespace_words(line) for line in lines]
        n_words = list(map(len, words))
    if chunks_per_line is not None:
        chunks_per_line += n_chunks
    if o.min_words_per_line is None:
        keep = np.ones(len(lines), dtype=bool)
    else:
        keep = np.asarray(n_words, dtype=np.int64) >= o.min_words_per_line
    special = _special_lines(text, lines, o)
    few = len(lines) - int(keep.sum()) - sum(1 for i in special if not keep[i])  # plain lines removed
    if few:
        counts["lines_few_words"] += few
    cited: list[int] = []
    lorem = curly = False
    for i in special:
        if words is not None:
            line_words = words[i]
        else:
            line_words = _unspaced_words(lines[i], segmenter) if segmenter in UNSPACED else _whitespace_words(lines[i])
        line, cited_i, lorem_i, curly_i = _line_rules(lines[i], line_words, o, counts)
        keep[i] = line is not None
        lines[i] = line
        if cited_i:
            cited.append(i)
        lorem, curly = lorem or lorem_i, curly or curly_i
    numbers = np.flatnonzero(keep).tolist()
    return list(map(lines.__getitem__, numbers)), numbers, cited, lorem, curly


def _whitespace_words(line: str) -> list[str]:
    """C4's words of a line of a language written with spaces: its whitespace-separated chunks, and a chunk
    split where the Ethiopic wordspace separates two words (``words.WORDSPACE_SPLIT``, as the word splitter
    does). Why: Ethiopic text written the traditional way has no space in a line ("የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡..."),
    so every line was one "word" under C4's minimum of 3 and the Amharic declaration lost every line
    (bench/udhr_languages.py). C4 and datatrove count ``line.split()``; no text without U+1361 changes."""
    chunks = line.split()
    if WORDSPACE not in line:
        return chunks
    return [part for chunk in chunks for part in WORDSPACE_SPLIT.split(chunk)]


_HAN_RUN = re.compile(f"[{HAN}]+")
# Ideographs assigned since Unicode 3.0 (letters, category Lo): a word that holds one is not a mark. The
# HAN class also spans unassigned code points (category Cn, marks to ``is_mark``).
_ASSIGNED_HAN = re.compile("[\u3400-\u4db5\u4e00-\u9fa5]")


def _letter_runs(line: str) -> int:
    """Han runs of ``line`` with an assigned ideograph: a lower bound of its jieba words that are not
    marks (jieba cuts each run on its own, and the word holding that ideograph is a word)."""
    return sum(1 for run in _HAN_RUN.findall(line) if _ASSIGNED_HAN.search(run))


def _letter_runs_per_line(lines: list[str]) -> list[int]:
    """``_letter_runs`` of every line: in one compiled pass where ``_chunks`` is built."""
    if _chunks is None:
        return list(map(_letter_runs, lines))
    return np.frombuffer(_chunks.letter_runs(lines), dtype=np.int64).tolist()


def _words_per_line(lines: list[str], segmenter: str) -> list[int]:
    """Words (tokens that are not marks) of each of ``lines`` (no line breaks inside), segmented in one call."""
    if not lines:
        return []
    text = "\n".join(lines) + "\n"  # each line ends with its break, also an empty last one
    tokens = tokenize(text, segmenter)
    if tokens.chunks_per_line is None or len(tokens.chunks_per_line) != len(lines):
        return [len(_unspaced_words(line, segmenter)) for line in lines]  # without the compiled scan
    is_word = (tokens.flags & MARK) == 0
    return np.bincount(tokens.lines(tokens.chunks_per_line.tolist())[is_word], minlength=len(lines)).tolist()


def _unspaced_words(line: str, segmenter: str) -> list[str]:
    """The words of one line of an unspaced script: its segmented tokens that are not marks (``words.MARK``)."""
    return [w for w in split_words(line, segmenter) if not is_mark(w)]


_PHRASES = ("lorem ipsum", "javascript") + POLICY


def _special_lines(text: str, lines: list[str], o: C4Options) -> list[int]:
    """Numbers of the lines that a rule other than the word count may remove or change, or that hold
    "lorem ipsum" or "{" (document flags): over-long lines, and lines with "[", "{" or a phrase. In one
    compiled pass where ``_lines`` is built, the Kelvin sign and "İ" included (whose lower case is ASCII or
    two characters: before, such a text fell back to the str searches over the whole text);
    ``python_special_lines`` otherwise."""
    if o.terminal_punct:
        return list(range(len(lines)))
    if _lines is not None:
        return _lines.special_lines(text, "{[" if o.remove_citations else "{", _PHRASES,
                                    -1 if o.max_word_length is None else o.max_word_length)
    return python_special_lines(text, lines, o)


def python_special_lines(text: str, lines: list[str], o: C4Options) -> list[int]:
    """``_special_lines`` (without the terminal punctuation rule) from the stripped ``lines`` of
    ``text.splitlines()``, with str and bytes searches (the path without ``_lines``, the reference)."""
    found: list[int] = []
    if o.max_word_length is not None:
        found += np.flatnonzero(np.fromiter(map(len, lines), np.int64, len(lines)) > o.max_word_length).tolist()
    marks = ("{", "[") if o.remove_citations else ("{",)
    lower = _ascii_lower(text)
    phrases = _PHRASES if isinstance(lower, str) else _PHRASE_BYTES
    if any(m in text for m in marks) or any(p in lower for p in phrases):
        if len(lower) != len(text):  # a character lowercased to two: positions no longer match lines
            return list(range(len(lines)))
        positions = [i for m in marks for i in _find_all(text, m)]
        positions += [i for p in phrases for i in _find_all(lower, p)]
        ends = line_ends(text, len(lines))
        found += np.searchsorted(ends, positions, side="right").tolist()
    return sorted(set(found))


def line_ends(text: str, n_lines: int) -> np.ndarray:
    """Where each of the ``n_lines`` lines of ``text.splitlines(keepends=True)`` ends: in one compiled scan
    where ``_lines`` is built (no str per line; issue 13)."""
    if _lines is not None:
        return np.frombuffer(_lines.line_ends(text), dtype=np.int64)
    return np.cumsum(np.fromiter(map(len, text.splitlines(keepends=True)), np.int64, n_lines))


_PHRASE_BYTES = tuple(p.encode("ascii") for p in _PHRASES)
# The only characters beyond ASCII whose lower() holds an ASCII character or is longer than one character
# (checked over every code point in tests/pipeline/filters/test_c4.py): the Kelvin sign ("k") and "İ" ("i̇").
_LOWER_TO_ASCII = ("\u212a", "\u0130")


def _ascii_lower(text: str) -> str | bytes:
    """Where the phrases (ASCII letters and spaces) occur in ``text.lower()``, at the same positions: the
    text's ASCII characters lowered and every other one a "?" (bytes), unless the text holds a character
    whose lower case is ASCII or two characters (then ``text.lower()`` itself). Why: ``str.lower()`` looks
    up every character of a Chinese text in the Unicode tables (~50 instructions each), about as much as
    the rest of C4 costs per character; no character beyond ASCII lowers to a phrase's letters otherwise."""
    if text.isascii():
        return text.lower()
    if _lines is not None:  # the same bytes in one compiled pass (None: a character of _LOWER_TO_ASCII)
        lowered = _lines.ascii_lower(text)
        return text.lower() if lowered is None else lowered
    if any(c in text for c in _LOWER_TO_ASCII):
        return text.lower()
    return text.encode("ascii", "replace").lower()  # one "?" per code point beyond ASCII: same positions


def _find_all(text: str | bytes, part: str | bytes) -> list[int]:
    out, i = [], text.find(part)
    while i >= 0:
        out.append(i)
        i = text.find(part, i + 1)
    return out


def _line_rules(line: str, words: list[str], o: C4Options, counts: Counter
                ) -> tuple[str | None, bool, bool, bool]:
    """Every line rule on one stripped line: (the line after citation removal, or None when removed;
    whether a citation was cut; lorem ipsum seen; curly bracket seen)."""
    if (o.max_word_length is not None and len(line) > o.max_word_length
            and any(len(w) > o.max_word_length for w in words)):
        counts["lines_long_word"] += 1
        return None, False, False, False
    cited = 0
    if o.remove_citations and "[" in line:
        line, cited = CITATION.subn("", line)
    if o.terminal_punct and (not line.endswith(LINE_END) or line.endswith("...")):
        counts["lines_no_terminal_punct"] += 1
        return None, False, False, False
    if o.min_words_per_line is not None and len(words) < o.min_words_per_line:
        counts["lines_few_words"] += 1
        return None, False, False, False
    lower = line.lower()
    lorem = "lorem ipsum" in lower
    if o.javascript_lines and "javascript" in lower:
        counts["lines_javascript"] += 1
        return None, False, lorem, False
    curly = "{" in line
    if o.policy_lines and _POLICY_RE.search(lower):
        counts["lines_policy"] += 1
        return None, False, lorem, curly
    return line, cited > 0, lorem, curly


class C4Filter(Filter):
    name = "c4"
    Options = C4Options
    uses_words = True
    rewrites = True
    SIGNALS = {"sentences": pa.int32(), "lorem_ipsum": pa.bool_(), "curly_bracket": pa.bool_(),
               "lines_kept": pa.int32(), "lines_removed": pa.int32()}

    def _measure_one(self, doc: Doc) -> tuple[dict[str, Any], Doc]:
        counts: Counter = Counter()
        chunks_per_line: list[int] = []
        # a line's words, as datatrove's C4 tokenizes each line: where a chunk of the document can span two lines
        # (the Indic languages, Khmer: ``segment_lib.SPANS_LINES``), the lines' own tokens, not handed on
        tokens = doc.tokens if doc.segmenter not in SPANS_LINES else tokenize_by_line(doc.text, doc.segmenter)
        kept, numbers, cited, lorem, curly = scan(doc.text, self.options, counts, chunks_per_line,
                                                  tokens.chunks_per_line, doc.segmenter, tokens)
        rewritten = Doc("\n".join(kept).strip(), doc.url, language=doc.language)
        # the kept lines no citation was cut from have the input's words: count their sentences from the
        # tokens' line numbers; a line a citation was cut from is split again
        stats = tokens.line_stats()  # (words, tokens, sentences) per line, when counted in one compiled pass
        if stats is not None and len(stats[2]) == len(chunks_per_line):  # the lines scan counted
            line, per_line = None, stats[2]
        else:
            stats, line = None, tokens.lines(chunks_per_line)
            per_line = sentences_per_line(tokens, line, len(chunks_per_line))
        cut = set(cited)
        n_sentences = int(per_line[[n for n in numbers if n not in cut]].sum()) + sum(
            count_sentences(split_words(text, doc.segmenter)) for n, text in zip(numbers, kept) if n in cut)
        # the kept lines are the input's lines, but for the cut citations: hand their words on, renumbered,
        # with the words of each cut line split again (its chunks changed), so that the next filters do not
        # split the whole text again; unless the final strip() drops an empty first or last kept line (only
        # with min_words_per_line off), which would shift the line numbers, or the tokens are the lines' own
        # (``SPANS_LINES``: the next filters count the document's, whose chunks join lines)
        if kept and kept[0].strip() and kept[-1].strip() and doc.segmenter not in SPANS_LINES:
            new_number = np.full(len(chunks_per_line), -1, dtype=np.int64)
            new_number[numbers] = np.arange(len(numbers))
            if cut:
                new_number[cited] = -1  # their tokens come from the new split below
            if stats is not None:  # the kept tokens' arrays are made only if a later filter reads them
                handed = tokens.select_lines(new_number, chunks_per_line, int(stats[1][new_number >= 0].sum()))
            else:
                new_line = new_number[line]
                keep = new_line >= 0
                handed = tokens.select(keep, new_line[keep])
            if cut:
                renumber = dict(zip(numbers, range(len(numbers))))
                handed = handed.with_lines([(renumber[n], tokenize(text, doc.segmenter))
                                            for n, text in zip(numbers, kept) if n in cut])
            rewritten._tokens = handed
        return {"sentences": n_sentences, "lorem_ipsum": lorem, "curly_bracket": curly,
                "lines_kept": len(kept), "lines_removed": sum(counts.values())}, rewritten

    def signal(self, doc: Doc) -> dict[str, Any]:
        return self._measure_one(doc)[0]

    def measure(self, docs: list[Doc]) -> tuple[dict[str, list[Any]], list[Doc]]:
        pairs = [self._measure_one(doc) for doc in docs]
        return {k: [p[0][k] for p in pairs] for k in self.SIGNALS}, [p[1] for p in pairs]

    def rewrite(self, text: str, counts: Counter) -> str:
        segmenter = segmenter_of(self.language)
        if segmenter == SUDACHI:  # count words per line from the text's tokens (see ``scan``); Chinese
            # lines are counted from their Han runs, with only the short ones segmented
            tokens = tokenize(text, segmenter)
            kept = scan(text, self.options, counts, None, tokens.chunks_per_line, segmenter, tokens)[0]
        else:
            kept = scan(text, self.options, counts, segmenter=segmenter)[0]
        return "\n".join(kept).strip()

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        # always on: a document whose every line the line rules removed would be kept as empty text
        out = [Rule("no_lines_left", s["lines_kept"] == 0, s["lines_kept"], 0)]
        if o.lorem_ipsum:
            out.append(Rule("lorem_ipsum", s["lorem_ipsum"] == 1, s["lorem_ipsum"]))
        if o.curly_bracket:
            out.append(Rule("curly_bracket", s["curly_bracket"] == 1, s["curly_bracket"]))
        if o.min_sentences is not None:
            out.append(Rule("min_sentences", s["sentences"] < o.min_sentences, s["sentences"], o.min_sentences))
        return out
