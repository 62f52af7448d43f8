"""Word segmentation by language for the filters that count words, and the script of a text.

Whitespace languages split at whitespace first, each chunk then by the language's rules (below); a language
without an entry keeps the shared regex splitter (``pipeline.filters.words``, ``WHITESPACE``). Languages written
without spaces need a segmenter, else a Chinese paragraph is one "word" and Gopher's word minimum, C4's
words-per-line rule and every n-gram ratio lose their meaning:

* Chinese (``zh`` and the Chinese varieties lid.176 labels ``yue``, ``wuu``): jieba's default mode
  (dictionary DAG + HMM for unknown words). Why jieba: it is the segmenter datatrove's multilingual word
  tokenizers use for Chinese (spaCy's Chinese tokenizer with ``segmenter: jieba``, which FineWeb-2 ran);
  it needs no model download and is deterministic. Run through ``pipeline.filters._jieba``, our compiled
  cut with jieba's dictionary and HMM tables (from the ``jieba`` package), which hands back word lengths:
  rjieba (the Python binding of jieba-rs, jieba's algorithm in Rust) spent half its time building a
  Python str per word, and rjieba's words are what it reproduces exactly (tests/pipeline/filters/
  test_jieba.py). rjieba cuts where the extension is not built. On every run of Han characters of the
  shared Chinese texts (Hongloumeng, zhwiki, BELLE: 105,482 runs) rjieba gives pure-Python jieba's words,
  20x faster; pure-Python jieba was 95 % of the Chinese filter time. Every chunk, also one without Han, is cut
  as jieba cuts the whole text (datatrove hands it the whole text): a run of Han characters and ASCII letters,
  digits and ``+#&._%-`` (``JIEBA_RUN``, jieba's blocks) is cut together, so that its dictionary words across
  ASCII and Han ("C++", "T恤", "IP地址") are found and the ASCII the route leaves single is split as Python
  jieba's HMM step splits it ("/dev/md1": "/", "dev", "/", "md1"; "RAID-1": "RAID", "-", "1"); every other
  character is a word of its own ("１２", "é", "Москва" one word a letter). Before (branch zhmix47) a chunk
  without Han went to the English regex splitter and only Han runs were cut, which kept "/dev/md1" whole: our
  words were jieba's in 10 of 55 Debian handbook sections and 10 of 23 zhwiki articles, now in all of them, and
  FineWeb-2's keep/drop agreed on 264/267 Chinese documents, now 267/267 (bench/README.md, "Chinese documents'
  ASCII cut as jieba cuts it").
* Japanese (``ja``): SudachiPy, the morphological analyser datatrove's multilingual word tokenizers use
  for Japanese (spaCy's Japanese tokenizer, which FineWeb-2 ran for jpn_Jpan), with the same dictionary
  (SudachiDict core) and split mode (A, the shortest units: spaCy's default). Why a dictionary analyser and
  not character classes: FineWeb-2's Japanese thresholds were derived on Sudachi's words, and a
  character-class split (a new word where kanji, hiragana or katakana begin) counted a hiragana run such as
  "している" or "である" as one word where Sudachi finds "し て いる" and "で ある" (0.76x its words), so the
  share of words with a letter and the mean word length were off and keep/drop agreed with datatrove on
  77 % of the jawiki sample (bench/README.md, Languages); a segmenter of our own would have to reproduce a
  dictionary. Cost: about 200 MB of dictionary (memory-mapped, so shared by the workers of a machine) and
  about 2 us per new character. Every chunk, also an ASCII one, goes through Sudachi, as in datatrove.
* Other whitespace languages (``SPACED``, ``spaced_split``): the whitespace splitter mimics spaCy's *English*
  tokenizer (``pipeline.filters.words``), and datatrove (FineWeb-2) counts each language's words with that
  language's spaCy rules, which differ in three ways that move the share of words with a letter: French,
  Italian and Catalan split an elided article or preposition off with its apostrophe ("l'" + "homme", one
  word with a letter, where the English rules give "l", "'", "homme"); the other languages keep a word with
  an inner apostrophe whole ("doesn't"), and split a final "'s" or not, by language; most keep words joined by
  hyphens whole ("non-free", "2021-07-25"; French and Catalan only letters: "RAID-1" but "2021", "-", "07"),
  a letters-digits pair ("RAID-1") and a trailing hyphen ("Nord-") everywhere, and a path's leading slash
  ("/dev"). With the English rules our filters agreed with datatrove's on 69-86 % of the French, Italian,
  Arabic and Catalan sections of the Debian handbook, all of the difference Gopher's letter share
  (bench/README.md, "FineWeb-2's values beyond Chinese, Japanese and German"). Where a language has a rule table
  in ``pipeline.filters.affixes`` (``AFFIX_SEGMENTERS``: fr, it, ru, ar, sv, ca, es, pt, nl, pl, tr, da, nb, fi, uk,
  bg, ro, hu, fa, lt, el, sl, id, de, and spaCy's base rules for sk, cs, hr, lv, et, is, af, eu, hy), spaCy's
  tokenizer algorithm itself runs instead of these regex behaviours: it also keeps URLs, paths, options and version
  strings as spaCy does, which the behaviours split at every symbol. Every whitespace language of ``lang_params`` now has a
  table (German's since de46); the behaviours remain in ``SPACED`` (no language of ``lang_params`` uses them).
* English (``en``): spaCy's algorithm with English's table (``spacy-en``), as datatrove counts English words. The
  regex splitter (``WHITESPACE``), which approximates spaCy's English, split what spaCy keeps whole ("L'homme",
  ".int", "/dev/md1", "and/or", "-t", "RAID-1": tokens as spaCy's on 98.65 % of the shared web pages, 93.67 % of the
  Debian handbook's English sections), so Gopher's letter share, mean word length and C4's sentences differed:
  keep/drop with datatrove's filters on the same texts 268/284 (web, handbook, UDHR parts), with ``spacy-en`` 284/284
  (bench/README.md, "English words as spaCy's English tokenizer cuts them"). It stays the splitter of the lid.176
  languages without an entry.
* Korean, Thai, the Indic languages, Khmer, Lao and Burmese: the libraries FineWeb-2 counted their words with
  (Kiwi, PyThaiNLP, the Indic NLP Library, khmer-nltk, LaoNLP, pyidaungsu), in ``pipeline.filters.segment_lib``,
  imported only when a chunk of the language is split.
* Languages written without spaces that none covers (Tibetan, Dzongkha; Khmer, Lao or Burmese where its library
  is not installed): no segmenter; ``pipeline.filters.lang_params`` skips the word-counting rules for them instead
  of letting them remove every document.

A segmenter splits one whitespace-free chunk; the shared vocabulary of ``pipeline.filters.words`` caches
each distinct chunk's split, so a chunk is segmented once per process however often the filters ask.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain
from typing import Any, Callable, Mapping

import numpy as np

from pipeline.filters.affixes import LANGUAGE_RULES, affix_split
from pipeline.filters.spaced_specials import SpacedSpecial
from pipeline.filters.segment_lib import BURMESE, KHMER, LAO, LIBRARY_SEGMENTERS, THAI
from pipeline.memory import IdleRelease, clear_between_steps

try:
    from pipeline.filters import _lines
except ImportError:  # not built: the scripts are counted in numpy (python_script_counts, the same counts)
    _lines = None

WHITESPACE, JIEBA, SUDACHI = "whitespace", "jieba", "sudachi"
# spaCy's rules of other whitespace languages than English (``spaced_split``), by what they do with
# apostrophes and hyphens
ELISION_HYPHENS, ELISION_S, HYPHENS, HYPHENS_S, PLAIN, PLAIN_S = (
    "elision-hyphens", "elision-s", "hyphens", "hyphens-s", "plain", "plain-s")
SPACED = {ELISION_HYPHENS: (True, False, "letters"), ELISION_S: (True, True, None), HYPHENS: (False, False, "all"),
          HYPHENS_S: (False, True, "all"), PLAIN: (False, False, None), PLAIN_S: (False, True, None)}
# Languages whose spaCy rules are followed by spaCy's own algorithm with tables written for them
# (``pipeline.filters.affixes``): one segmenter each, named after the language
AFFIX_SEGMENTERS = {f"spacy-{code}": code for code in LANGUAGE_RULES}
SEGMENTERS = (WHITESPACE, JIEBA, SUDACHI, *SPACED, *AFFIX_SEGMENTERS, *LIBRARY_SEGMENTERS)
# segmenters of scripts written without spaces (C4 counts their words per line)
UNSPACED = (JIEBA, SUDACHI, THAI, KHMER, LAO, BURMESE)

# Han ideographs (unified, extension A, compatibility, extensions B+), the CJK iteration marks 々 〆 〇.
HAN = "\u3005\u3006\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HIRAGANA, KATAKANA = "\u3041-\u309f", "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"


@lru_cache(maxsize=1)
def _rjieba_cut() -> Callable[[str, bool], list[str]]:
    """rjieba's ``cut`` (its dictionary loads once per process, on first use)."""
    import rjieba

    return rjieba.cut


_JIEBA_STATES = "BEMS"  # the state order of the compiled segmenter's tables


@lru_cache(maxsize=1)
def compiled_jieba() -> Any | None:
    """The compiled segmenter (``pipeline.filters._jieba``: jieba's default cut as word lengths, rjieba's
    words exactly) with jieba's dictionary and HMM tables loaded, or None when the extension was not built
    (rjieba then cuts). The data come from the ``jieba`` package (dict.txt and ``finalseg/prob_*.py``, the
    files jieba-rs embeds), read once per process on first use; the HMM modules are executed from their
    files so that jieba's own package (and its logging set-up) is not imported."""
    try:
        from pipeline.filters import _jieba
    except ImportError:
        return None
    if not _jieba.loaded():
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec("jieba")
        if spec is None or spec.origin is None:
            raise ImportError("Chinese word segmentation reads jieba's dictionary from the jieba package, a "
                              "dependency of this project (pyproject.toml): pip install jieba")
        root = Path(spec.origin).parent

        def table(name: str) -> Any:
            module_spec = importlib.util.spec_from_file_location(f"_jieba_{name}", root / "finalseg" / f"{name}.py")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            return module.P

        start, trans, emit = table("prob_start"), table("prob_trans"), table("prob_emit")
        _jieba.load((root / "dict.txt").read_bytes(), [start[y] for y in _JIEBA_STATES],
                    [trans[y0].get(y, -3.14e100) for y0 in _JIEBA_STATES for y in _JIEBA_STATES],
                    [emit[y] for y in _JIEBA_STATES])
    return _jieba


def unload_jieba() -> None:
    """Free the compiled segmenter's dictionary and HMM tables (~17 MiB of C heap, measured with glibc's
    ``mallinfo2``), so that the next ``compiled_jieba`` loads them again. Why: a filter worker that met
    Chinese text loaded them, and without this it carried them into every dedup and tokenize task it ran
    afterwards (issue 19: they were most of what a worker kept before dedup's largest task at 100x the demo
    beyond what it kept at 1x, where no shard reaches the segmenter)."""
    if compiled_jieba.cache_info().currsize:
        module = compiled_jieba()
        if module is not None and hasattr(module, "unload"):
            module.unload()
    compiled_jieba.cache_clear()


clear_between_steps(unload_jieba)

# A worker frees the dictionary once this many of its tasks in a row ended without cutting Chinese text
# (``pipeline.memory.IdleRelease``): at 100x the demo a filter worker carried it (~12 MiB resident) through its
# ~300 Wikipedia and book tasks after the web ones, memory a 1x worker never holds.
JIEBA_IDLE_TASKS = 2
_jieba_idle = IdleRelease(lambda: bool(compiled_jieba.cache_info().currsize), unload_jieba, JIEBA_IDLE_TASKS)
unload_idle_jieba = _jieba_idle.task_ended  # run when each task ends; True when it freed the dictionary


def _compiled_jieba_to_cut() -> Any | None:
    """``compiled_jieba()`` for a cut: the task is counted as one that cut Chinese text, so that
    ``unload_idle_jieba`` keeps the dictionary after it."""
    _jieba_idle.used()
    return compiled_jieba()


_ASCII_RUN = re.compile(r"[A-Za-z0-9+#&._%\-]+")
_SKIP = re.compile(r"([A-Za-z0-9]+(?:\.[0-9]+)?%?)")  # jieba's finalseg.re_skip (a block's digits are ASCII)


@lru_cache(maxsize=1)
def _ascii_dictionary_words() -> frozenset[str]:
    """jieba's dictionary words of ASCII characters alone ("C++", "AT&T"): words of its route, not of its HMM."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ImportError("Chinese word segmentation reads jieba's dictionary from the jieba package, a dependency "
                          "of this project (pyproject.toml): pip install jieba")
    lines = (Path(spec.origin).parent / "dict.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for line in lines if (w := line.split(" ", 1)[0]) and _ASCII_RUN.fullmatch(w))


def rjieba_words(text: str) -> list[str]:
    """rjieba's cut (HMM on) with its ASCII words as Python jieba gives them: jieba-rs keeps a stretch of ASCII
    that the route left to the HMM whole ("RAID-1", "1.2.3", "www.debian.org") where Python jieba's ``finalseg``
    splits it (``re_skip``: "RAID", "-", "1"). Such stretches are the consecutive ASCII words that are no
    dictionary word; they are joined and split again as ``finalseg`` does. The words where ``_jieba`` is not
    built (``test_segment.py`` compares them with the compiled cut's)."""
    words = _rjieba_cut()(text, True)
    dictionary = _ascii_dictionary_words()
    out: list[str] = []
    stretch: list[str] = []
    for word in words:
        if _ASCII_RUN.fullmatch(word) and word not in dictionary:
            stretch.append(word)
            continue
        if stretch:
            out += [piece for piece in _SKIP.split("".join(stretch)) if piece]
            stretch = []
        out.append(word)
    if stretch:
        out += [piece for piece in _SKIP.split("".join(stretch)) if piece]
    return out


def _cut_joined_runs(text: str) -> list[str]:
    """jieba's words (HMM on: its default mode) of runs joined by newlines, each newline a word of its own: the
    compiled cut's, else rjieba's (``rjieba_words``: the same words)."""
    compiled = _compiled_jieba_to_cut()
    return compiled.cut(text) if compiled is not None else rjieba_words(text)


# What the Chinese segmenter cuts as one run: jieba's blocks (``re_han_default``) hold Han characters and
# ASCII letters, digits and ``+#&._%-`` together, and its dictionary holds words across them ("C++", "AT&T",
# "T恤", "IP地址", "U盘"), so a run of these is cut whole as jieba cuts it (its DAG, then ``finalseg`` for the
# characters the route leaves single: Han by the HMM, ASCII as ``re_skip`` splits it: "/dev/md1" is "/", "dev",
# "/", "md1"; "1.2.3" is "1.2", ".", "3"). Any other character is a word of its own, as in jieba (full-width
# "１２" two words, "é", "Москва" one a letter, an emoji one). Why whole chunks and not only Han runs: datatrove
# (FineWeb-2) hands jieba the whole text, and with the old whitespace splitter for a chunk without Han and a
# regex between Han runs our words differed from its words on ASCII (bench/README.md, "Chinese documents' ASCII
# cut as jieba cuts it").
JIEBA_RUN = HAN + r"A-Za-z0-9+#&._%\-"
_HAN_RUNS = re.compile(f"([{JIEBA_RUN}]+)")
_RUN_SEPARATOR = "\n"  # between runs handed to the cut at once: never inside a run, a word of its own


def _cut_runs(runs: list[str]) -> list[list[str]]:
    """jieba's words of each run, cut in one call (``_cut_joined_runs``)."""
    if not runs:
        return []
    out: list[list[str]] = [[]]
    for word in _cut_joined_runs(_RUN_SEPARATOR.join(runs)):
        if word == _RUN_SEPARATOR:
            out.append([])
        else:
            out[-1].append(word)
    return out


def _jieba_split_loop(chunks: list[str]) -> list[tuple[str, ...]]:
    """``jieba_split_many`` read part by part in Python: for a batch whose text holds one of its markers."""
    parts_of = [_HAN_RUNS.split(chunk) for chunk in chunks]  # [other, run, other, run, ..., other]
    per_run = iter(_cut_runs([run for parts in parts_of for run in parts[1::2]]))
    out: list[tuple[str, ...]] = []
    for parts in parts_of:
        words: list[str] = []
        for i, part in enumerate(parts):
            words += next(per_run) if i % 2 else part  # between runs: each character alone
        out.append(tuple(words))
    return out


# Markers of the batched split: Unicode noncharacters, which text does not hold (a batch that does is read
# by ``_jieba_split_loop``, the same words).
_CHUNK_END, _RUN, _WORD = "\ufdd0", "\ufdd1", "\ufdd2"


def jieba_split_many(chunks: list[str]) -> list[tuple[str, ...]]:
    """Words of each whitespace-free chunk as jieba cuts it: jieba's words of its runs (``JIEBA_RUN``), every
    other character alone.

    Why in one batch: a call into the segmenter and a regex split per chunk, and a Python step per piece,
    cost more than jieba's own work on zhwiki. Here the chunks are joined, each run is replaced by a
    marker (one regex call); all the runs are cut in one call (``_cut_joined_runs``), joined by
    ``_RUN_SEPARATOR`` (jieba cuts each block on its own and returns the separator as a word of its own, so
    the words are those of one call per run); the runs' words are put in place of their markers by string
    joins and splits, without a Python step per word (``test_segment.py`` compares it with jieba itself).
    """
    joined = _CHUNK_END.join(chunks)
    if _RUN in joined or _WORD in joined or joined.count(_CHUNK_END) != len(chunks) - 1:
        return _jieba_split_loop(chunks)
    runs = _HAN_RUNS.findall(joined)
    if not runs:
        return [tuple(chunk) for chunk in chunks]
    template = _HAN_RUNS.sub(_RUN, joined)
    # then each run's words joined by _WORD, one string per run
    words_of_runs = _cut_joined_runs(_RUN_SEPARATOR.join(runs))
    run_words = _WORD.join(words_of_runs).split(f"{_WORD}{_RUN_SEPARATOR}{_WORD}")
    around = _WORD.join(template).split(_RUN)  # the characters between run markers, each a word
    words = "".join(chain.from_iterable(zip(around, run_words))) + around[-1]
    return [tuple(w.split(_WORD)) for w in words.split(f"{_WORD}{_CHUNK_END}{_WORD}")]


def jieba_token_ids(chunks: list[str], table: Any, ids: dict[str, int] | None) -> tuple[bytes, bytes, list[str]]:
    """``_chunks.intern_split(jieba_split_many(chunks), table)`` in two compiled passes: ``_jieba.cut_runs``
    gives the lengths of jieba's words of every run (``JIEBA_RUN``) of the chunks, and ``_chunks.jieba_tokens``
    interns each chunk's tokens in place (the runs' words, every other character alone) with no tuple or
    string built per chunk and none per word seen before, ids from the compiled token ``table`` (a
    ``_chunks.ChunkTable``; ``ids``, a dict kept in step with it, or None: the vocabulary keeps none). Without
    the ``_jieba`` extension ``_chunks.han_runs`` joins the runs for one rjieba call instead. Needs the
    ``_chunks`` extension; ``test_segment.py`` compares it with ``jieba_split_many``. The vocabulary calls
    ``jieba_entry_token_ids`` instead (its new chunks are no str since issue 13's eighth pass); this list form is
    what the tests compare that one with."""
    from pipeline.filters import _chunks

    compiled = _compiled_jieba_to_cut()
    if compiled is not None:
        return _chunks.jieba_tokens(chunks, compiled.cut_runs(chunks), table, ids)
    runs = _chunks.han_runs(chunks)
    # rjieba returns the "\n" between two runs as a word of its own
    words = rjieba_words(runs) if runs else []
    return _chunks.jieba_tokens(chunks, words, table, ids)


def jieba_entry_token_ids(chunk_table: Any, first: int, table: Any) -> tuple[bytes, bytes, int]:
    """``jieba_token_ids(chunks, table, None)`` of the chunks ``chunk_table[first:]`` (a ``_chunks.ChunkTable``'s
    entries from id ``first`` on), read from the chunk table without a str per chunk: the vocabulary's new
    chunks, which its ``lookup`` no longer makes into str (issue 13, eighth pass). Their runs go to the compiled
    cut as code points (``ChunkTable.han_ucs4``, ``_jieba.cut_ucs4``), or to rjieba joined into one str
    (``ChunkTable.han_runs``; it returns the "\n" between two runs as a word). Returns the token ids, tokens per
    chunk (int64 bytes) and the number of new tokens (the token table's last ids)."""
    from pipeline.filters import _chunks

    compiled = _compiled_jieba_to_cut()
    if compiled is not None:  # the runs' code points cut in place (``_jieba.cut_ucs4``: ``cut_runs``' words)
        words = compiled.cut_ucs4(*chunk_table.han_ucs4(first))
    else:
        runs = chunk_table.han_runs(first)
        words = rjieba_words(runs) if runs else []
    return _chunks.jieba_entry_tokens(chunk_table, first, words, table)


def jieba_split(chunk: str) -> tuple[str, ...]:
    """``jieba_split_many`` of one chunk."""
    return jieba_split_many([chunk])[0]


@lru_cache(maxsize=1)
def _sudachi_tokenize() -> Callable[[str], Any]:
    """SudachiPy's ``tokenize`` in split mode A with the core dictionary, as datatrove's Japanese tokenizer
    (spaCy's ``try_sudachi_import(None)``: ``Dictionary().create(mode=SplitMode.A)``, ``create`` being the
    deprecated name of ``tokenizer``) sets it up."""
    try:
        from sudachipy import Dictionary, SplitMode
    except ImportError:
        raise ImportError("Japanese word segmentation needs SudachiPy and its core dictionary, dependencies of "
                          "this project (pyproject.toml): pip install sudachipy sudachidict_core") from None
    return Dictionary(dict="core").tokenizer(mode=SplitMode.A).tokenize


# SudachiPy refuses inputs over 49,149 bytes; datatrove hands spaCy's Japanese tokenizer pieces of at most
# 40,000 bytes, and so do we, cutting a longer chunk after its last sentence end within the limit (else at
# the limit).
SUDACHI_MAX_BYTES = 40_000
_JAPANESE_SENTENCE_END = re.compile("[。！？!?]")


def _sudachi_pieces(chunk: str) -> list[str]:
    """``chunk`` cut into pieces of at most ``SUDACHI_MAX_BYTES`` UTF-8 bytes (most chunks: itself)."""
    if len(chunk) * 4 <= SUDACHI_MAX_BYTES or len(chunk.encode()) <= SUDACHI_MAX_BYTES:
        return [chunk]
    pieces = []
    while len(chunk.encode()) > SUDACHI_MAX_BYTES:
        head = chunk.encode()[:SUDACHI_MAX_BYTES].decode(errors="ignore")  # whole characters only
        ends = [m.end() for m in _JAPANESE_SENTENCE_END.finditer(head)]
        cut = ends[-1] if ends else len(head)
        pieces.append(chunk[:cut])
        chunk = chunk[cut:]
    return pieces + [chunk] if chunk else pieces


_SURROGATE = re.compile("([\ud800-\udfff])")


def sudachi_split(chunk: str) -> tuple[str, ...]:
    """Words of a whitespace-free chunk: SudachiPy's morphemes (mode A, core dictionary), their surfaces.
    A lone surrogate (undecodable bytes kept by a reader) is a word of its own: SudachiPy takes only text
    that encodes as UTF-8 and would fail the whole shard."""
    tokenize = _sudachi_tokenize()
    parts = _SURROGATE.split(chunk) if not chunk.isascii() and _SURROGATE.search(chunk) else (chunk,)
    words: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            words.append(part)
        elif part:
            words += [surface for piece in _sudachi_pieces(part) for m in tokenize(piece) if (surface := m.surface())]
    return tuple(words)


_LETTERS = r"[^\W\d_]+"
_ELIDED = re.compile(_LETTERS + r"['’](?=[^\W\d_])")  # "l'", "dell'", "qu'" before the word they elide into
_APOSTROPHE_WORD = re.compile(_LETTERS + r"(?:['’]" + _LETTERS + ")+")  # "doesn't", "Debian's"
_FINAL_S = re.compile(r"['’][sS]$")
# hyphen-joined words, starting where no word, number separator or hyphen precedes, ending where none follows
_HYPHENED = {"all": re.compile(r"(?<![\w.,:/-])[^\W_]+(?:-[^\W_]+)+(?![\w-]|\.\w)"),
             "letters": re.compile(r"(?<![\w.,:/-])" + _LETTERS + r"(?:-" + _LETTERS + r")+(?![\w-]|\.\w)")}
# a letters-digits pair ("RAID-1"), a trailing hyphen ("Nord-"), a path's first part with its slash ("/dev",
# "./etc"), a command-line option ("-t", "--detail"): the same in every spaCy tokenizer here (a hyphen, slash or
# period is no prefix there)
_COMMON = (r"(?<![\w.,:/-])" + _LETTERS + r"-\d+(?![\w-]|\.\w)|(?<![\w.,:/-])" + _LETTERS + r"-$"
           r"|(?<![\w/.])\.?/[^\W_]+|(?<![\w.,:/-])--?" + _LETTERS)


_SPACED_MARKS = re.compile("['’/-]")  # a chunk without them splits as in English


@lru_cache(maxsize=None)
def _spaced_pattern(elision: bool, hyphens: str | None) -> re.Pattern[str]:
    parts = [_ELIDED.pattern if elision else _APOSTROPHE_WORD.pattern]
    if hyphens:
        parts.append(_HYPHENED[hyphens].pattern)
    return re.compile("|".join([*parts, _COMMON]))


def spaced_split(chunk: str, fallback: Callable[[str], tuple[str, ...]], segmenter: str) -> tuple[str, ...]:
    """Words of a whitespace-free chunk as the language's spaCy rules split them (``SPACED[segmenter]``: elision,
    a final "'s" split off, which hyphen-joined words stay whole); ``fallback`` (the English rules) for the rest
    and for URLs, e-mail addresses and host names."""
    if (chunk.isalpha() or not _SPACED_MARKS.search(chunk) or "://" in chunk or "@" in chunk
            or chunk.startswith("www.")):
        return fallback(chunk)  # most chunks: a word, or a word and its punctuation ("monde,")
    elision, split_s, hyphens = SPACED[segmenter]
    words: list[str] = []
    at = 0
    if split_s and elision and _FINAL_S.search(chunk) and chunk[:-2].isalpha():
        return (chunk[:-2], chunk[-2:])  # Italian: "Debian" + "'s" (its suffix rule comes before the elision)
    for match in _spaced_pattern(elision, hyphens).finditer(chunk):
        if match.start() > at:
            words.extend(fallback(chunk[at:match.start()]))
        word = match.group(0)
        if split_s and not elision and _FINAL_S.search(word) and word[:-2].isalpha():
            words += [word[:-2], word[-2:]]
        else:
            words.append(word)
        at = match.end()
    if at < len(chunk):
        words.extend(fallback(chunk[at:]))
    return tuple(words)


@lru_cache(maxsize=None)
def _compiled_rules(segmenter: str) -> Any:
    return LANGUAGE_RULES[AFFIX_SEGMENTERS[segmenter]].compiled()


def affix_spaced_specials(segmenter: str) -> tuple[SpacedSpecial, ...]:
    """The special cases of the segmenter's spaCy table that hold a space (merged across chunks by
    ``words._spaced_merged``); empty for the other segmenters and most tables."""
    return _compiled_rules(segmenter).spaced_specials() if segmenter in AFFIX_SEGMENTERS else ()


def affix_specials(segmenter: str) -> Mapping[str, tuple[str, ...]]:
    """Every special case of the segmenter's spaCy table, with its tokens."""
    return _compiled_rules(segmenter).special


def affix_rules(segmenter: str) -> Any:
    """The segmenter's compiled spaCy table (``affixes._Compiled``)."""
    return _compiled_rules(segmenter)


def affix_segment(chunk: str, segmenter: str) -> tuple[str, ...]:
    """Words of a whitespace-free chunk by spaCy's algorithm with the language's tables (``AFFIX_SEGMENTERS``)."""
    return affix_split(chunk, _compiled_rules(segmenter))


# Dominant script: the Unicode script of most letters, by code point ranges (letters only; digits,
# punctuation and symbols do not vote). Names are ISO 15924 codes; Japanese kana vote for "Jpan" and pull
# their kanji with them, Hangul votes for "Kore", as FineWeb-2 names its language-script pairs.
# Each script's Unicode blocks (with their supplements where text uses them), as Deva and Thai were: before
# the Indic scripts other than Devanagari, Thaana, Ethiopic, Georgian, Armenian and the Southeast Asian
# scripts were listed, their documents were "Zyyy", or named after a few borrowed marks: "Arab" for Maldivian
# (Arabic commas and question marks, no Thaana letter counted), "Deva" for Bengali and Panjabi (the danda
# U+0964 they share lies in the Devanagari block) (bench/udhr_languages.py).
_SCRIPT_RANGES: tuple[tuple[str, str], ...] = (
    ("Latn", "A-Za-z\u00c0-\u024f\u1e00-\u1eff"),
    ("Cyrl", "\u0400-\u052f"),
    ("Grek", "\u0370-\u03ff\u1f00-\u1fff"),
    ("Armn", "\u0530-\u058f\ufb13-\ufb17"),
    ("Arab", "\u0600-\u06ff\u0750-\u077f"),
    ("Thaa", "\u0780-\u07bf"),
    ("Hebr", "\u0590-\u05ff"),
    ("Deva", "\u0900-\u097f"),
    ("Beng", "\u0980-\u09ff"),
    ("Guru", "\u0a00-\u0a7f"),
    ("Gujr", "\u0a80-\u0aff"),
    ("Orya", "\u0b00-\u0b7f"),
    ("Taml", "\u0b80-\u0bff"),
    ("Telu", "\u0c00-\u0c7f"),
    ("Knda", "\u0c80-\u0cff"),
    ("Mlym", "\u0d00-\u0d7f"),
    ("Sinh", "\u0d80-\u0dff"),
    ("Thai", "\u0e00-\u0e7f"),
    ("Laoo", "\u0e80-\u0eff"),
    ("Tibt", "\u0f00-\u0fff"),
    ("Mymr", "\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff"),
    ("Geor", "\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f"),
    ("Ethi", "\u1200-\u139f\u2d80-\u2ddf\uab00-\uab2f"),
    ("Khmr", "\u1780-\u17ff\u19e0-\u19ff"),
    ("Lana", "\u1a20-\u1aaf"),
    ("Java", "\ua980-\ua9df"),
    ("Yiii", "\ua000-\ua4cf"),
    ("Hang", "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"),
    ("Kana", HIRAGANA + KATAKANA),
    ("Hani", HAN),
)
SCRIPT_SAMPLE = 20_000  # characters looked at: the script of a document's start decides, as its language


def _class_ranges(chars: str) -> list[tuple[int, int]]:
    """The code point ranges of a regex character class's body as written above (``a-z`` ranges, single
    characters), inclusive."""
    ranges, i = [], 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            ranges.append((ord(chars[i]), ord(chars[i + 2])))
            i += 3
        else:
            ranges.append((ord(chars[i]), ord(chars[i])))
            i += 1
    return ranges


@lru_cache(maxsize=1)
def _script_table() -> np.ndarray:
    """Code point -> 1 + the index of its script in ``_SCRIPT_RANGES`` (0: none), for every code point.

    Why a table: counting letters per script with one regex ``findall`` per script built a list of
    one-character strings per letter, ten times over each document's first 20,000 characters (0.4 ms a
    page, a tenth of the filter stage's time on web pages); one table look-up per character in numpy
    gives the same counts 20x faster. 1.1 MB, built once per process."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for index, (name, chars) in enumerate(_SCRIPT_RANGES, start=1):
        for low, high in _class_ranges(chars):
            if table[low:high + 1].any():
                raise ValueError(f"script {name}'s range {low:#x}-{high:#x} overlaps another script's")
            table[low:high + 1] = index
    return table


def script_counts(text: str) -> dict[str, int]:
    """Letters of each script of ``_SCRIPT_RANGES`` among the first ``SCRIPT_SAMPLE`` characters of ``text``:
    one compiled pass over the str's code points where ``_lines`` is built (``python_script_counts``
    otherwise; the tests compare them)."""
    counts = _count_list(text)
    return {name: counts[index] for index, (name, _) in enumerate(_SCRIPT_RANGES, start=1)}


def _count_list(text: str) -> list[int]:
    """``script_counts``' counts as a list: index 1 + the script's index in ``_SCRIPT_RANGES`` (0: none)."""
    if _lines is None:
        return _python_count_list(text)
    return _lines.class_counts(text, _script_table(), SCRIPT_SAMPLE, len(_SCRIPT_RANGES) + 1)


def _python_count_list(text: str) -> list[int]:
    # UTF-32 gives one code point per 4 bytes; surrogatepass keeps a lone surrogate (a code point that no
    # script claims) instead of failing on it.
    points = np.frombuffer(text[:SCRIPT_SAMPLE].encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return np.bincount(_script_table()[points], minlength=len(_SCRIPT_RANGES) + 1).tolist()


def python_script_counts(text: str) -> dict[str, int]:
    """``script_counts`` in numpy: a table look-up per code point and a ``bincount``."""
    counts = _python_count_list(text)
    return {name: counts[index] for index, (name, _) in enumerate(_SCRIPT_RANGES, start=1)}


def _script_order(han_name: str) -> tuple[tuple[str, int], ...]:
    """The names ``script_of`` compares, in name order (the first of equal counts wins), each with its index
    in ``_count_list`` (-1: Han with kana, named ``han_name``); kana have no entry of their own."""
    renamed = {"Hang": "Kore", "Hani": han_name}
    pairs = [(renamed.get(name, name), -1 if name == "Hani" else index)
             for index, (name, _) in enumerate(_SCRIPT_RANGES, start=1) if name != "Kana"]
    return tuple(sorted(pairs))


_NAMES = [name for name, _ in _SCRIPT_RANGES]
_KANA, _HANI = _NAMES.index("Kana") + 1, _NAMES.index("Hani") + 1
_HANI_ORDER, _JPAN_ORDER = _script_order("Hani"), _script_order("Jpan")


def script_of(text: str) -> str:
    """ISO 15924 code of the text's dominant script ("Zyyy" when it has no letters of a known script).

    Han with kana is Japanese ("Jpan": any text whose kana are at least a tenth of its Han and kana), Han
    alone is "Hani", Hangul is "Kore"; of equal counts the first name in alphabetical order wins.
    A loop over the counts' list, as it runs once per document: with dicts, ``Counter`` and ``max`` with a
    key (the tests' reference) it cost ~4x the count itself on a short text.
    """
    counts = _count_list(text)
    kana, han = counts[_KANA], counts[_HANI]
    order = _JPAN_ORDER if kana and kana * 10 >= han + kana else _HANI_ORDER
    best_name, best = "Zyyy", 0
    for name, index in order:
        n = han + kana if index < 0 else counts[index]
        if n > best:
            best_name, best = name, n
    return best_name


def scripts_of(texts: list[str]) -> np.ndarray:
    return np.array([script_of(t) for t in texts], dtype=object)
