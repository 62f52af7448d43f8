"""Word segmenters that call the libraries FineWeb-2 counted the words of Korean, Thai, the Indic languages, Khmer, Lao,
Burmese and Vietnamese with.

Why these libraries and not rules of our own: FineWeb-2 derived each language's thresholds (mean word length, share
of words with a letter, n-gram fractions, stop words) from the words of datatrove's tokenizer for that language
(``datatrove/assets/tokenizer_assignment.csv``, ``datatrove.utils.word_tokenizers``), so the same words are what
make its thresholds mean what they meant there; each is a well-kept library that does the job:

* Korean (``KIWI``): Kiwi's morphemes (kiwipiepy, datatrove's ``KiwiTokenizer``), the span of the text each one
  covers, with Kiwi's skip-bigram model (``model_type="sbg"``, datatrove's choice). A Korean whitespace word is
  an eojeol (a stem and its particles and endings), and FineWeb-2's kor_Hang stop words are particles ("의", "는",
  "에서"): they only exist as words after morphological analysis. kiwipiepy 0.22 dropped the sbg model from its
  default files, so it is pinned to 0.21 (pyproject.toml's ``korean`` extra, about 100 MB installed: optional).
  A contracted syllable that holds two morphemes ("했" = 하 + 었) is the span of each, so it counts twice, as in
  datatrove. Datatrove removes runs of 20 or more digits and commas before Kiwi (Kiwi has trouble with very long
  numbers) and then slices the unmodified text with the offsets; we do the same within the chunk.
* Thai (``THAI``): PyThaiNLP's ``word_tokenize`` with the ``newmm-safe`` engine (dictionary maximal matching on
  Thai character clusters, cut where a text has no break point), whitespace dropped: datatrove's
  ``ThaiTokenizer``. Thai separates phrases, not words, with spaces, so a whitespace "word" was a clause.
* Indic languages (``INDIC``, Urdu's script ``INDIC_URDU``): the Indic NLP Library's ``trivial_tokenize``
  (datatrove's ``IndicNLPTokenizer``): every ASCII punctuation mark and the danda (U+0964, U+0965) and a few
  other scripts' marks are tokens of their own, digits joined by one separator stay one number ("1,000").
* Khmer (``KHMER``): khmer-nltk's ``word_tokenize`` (a CRF over Khmer character clusters: datatrove's
  ``KhmerTokenizer``). Khmer writes no spaces between words (a space separates phrases), so a whitespace "word"
  was a phrase. khmer-nltk declares sklearn-crfsuite, which declares scikit-learn and scipy (about 86 MB new in
  all); its tokenizer only unpickles a ``sklearn_crfsuite.CRF`` (pycrfsuite underneath) and never imports
  scikit-learn, so ``make`` installs it with ``--no-deps`` (pyproject.toml's ``khmer`` extra; 25 MB).
* Lao (``LAO``): LaoNLP's ``word_tokenize`` (maximal matching on LaoNLP's dictionary with PyThaiNLP's
  ``multi_cut``: datatrove's ``LaoTokenizer``); 12 MB besides PyThaiNLP, a dependency. A zero-width space is a
  word of its own there (``"\u200b"``, not whitespace to ``str.strip``): the first of FineWeb-2's lao_Laoo stop
  words.
* Burmese (``BURMESE``): pyidaungsu's word segmentation (``pyidaungsu.tokenize(text, form="word")``, a CRF over
  characters: datatrove's ``BurmeseTokenizer``). The library opens its CRF model file on every call (about
  1.5 MB read); we keep one tagger open and call the library's own ``Tokenize.segment_sentence`` with it, which
  is what ``tokenize`` does after opening it (same tokens). pyidaungsu-numpy2 declares fasttext-numpy2-wheel,
  whose ``fasttext`` module would replace fasttext-predict's (language ID): ``make`` installs it with
  ``--no-deps`` (pyproject.toml's ``burmese`` extra: it, python-crfsuite and emoji, 28 MB); its Zawgyi detector
  loads through fasttext-predict's ``load_model``.
* Vietnamese (``VIETNAMESE``): spaCy's Vietnamese tokenizer with pyvi (datatrove's tokenizer of vie_Latn,
  ``spacy.blank("vi")``): the text cut into syllables and marks by spaCy's patterns, pyvi's CRF labels each one as
  beginning or inside a word, and the syllables of a word are joined with the whitespace between them ("Hà Nội"
  is one word). FineWeb-2's vie_Latn values (stop words "người", "loài"; a mean word length of 3 to 11) were set
  on those words; a syllable is not one. The CRF labels a whole text as one sequence, so a Vietnamese text is one
  chunk. pyvi declares scikit-learn, which its tokenizer never imports: ``make`` installs it with ``--no-deps``
  (pyproject.toml's ``vietnamese`` extra; 8 MB, sklearn-crfsuite and python-crfsuite come with khmer-nltk).
* Tibetan has no segmenter here: datatrove's ``TibetanTokenizer`` is botok, whose dictionary (the "general"
  dialect pack) botok downloads from GitHub on first use, into the home folder; a filter worker should not
  fetch data from the network, and it cannot be fetched where this was written, so its words could not be
  checked. Its word rules stay skipped (``lang_params``).

How they meet the word vocabulary (``pipeline.filters.words``): each splits one chunk, and a chunk is split once
per process. The libraries see the text a chunk at a time where datatrove hands them the whole document. A chunk is
a run between whitespace, but for the three libraries that do not split at every whitespace (``CHUNK_CUT``):
the Indic tokenizer splits only at spaces and tabs, so two words with only a line break (or a no-break space)
between them are one token there, the break inside it and counted in its length; khmer-nltk deletes line breaks
(and U+2028, U+200A) before its CRF runs, so the last word of a line and the first of the next can be one word, and
its CRF reads across spaces; pyidaungsu deletes spaces, so its CRF can make one word of two space-separated
chunks. FineWeb-2's thresholds for these languages (mean word length, words per document, newlines per word,
n-gram fractions) were set on those tokens, so such whitespace stays inside a chunk and the library splits the
chunk as datatrove's call would (bench/README.md, "Words across line breaks"). C4 counts each line's words, as
datatrove's C4 tokenizes each line: it takes chunks that never span a line (``words.tokenize_by_line``). What
stays different: Kiwi's choice between two analyses of an eojeol can depend on the words around it (its language
model scores a sentence), and the two CRFs read three characters or clusters either side: at a chunk's ends
(Khmer: tabs, "\r", no-break spaces; Burmese: line breaks) they see its edge where datatrove's call sees the next
chunk (bench/README.md, "Korean, Thai and the Indic languages" and "Khmer, Lao and Burmese").

Each library is imported on the first chunk of its language, never at import time: an English run does not load
Kiwi's model (about 2 s and ~450 MiB resident; freed again after two tasks without Korean) or PyThaiNLP's
dictionary (about 2 s and ~75 MiB), nor khmer-nltk's, LaoNLP's or pyidaungsu's models (bench/README.md, "Khmer,
Lao and Burmese": their first call and memory). Where an optional library is missing, ``lang_params`` skips the
language's word rules and says so (``missing_library``) instead of failing on its first document.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import string
import warnings
from functools import lru_cache
from typing import Any, Callable

from pipeline.memory import IdleRelease, clear_between_steps

KIWI, THAI, INDIC, INDIC_URDU = "kiwi", "thai", "indic", "indic-urdu"
KHMER, LAO, BURMESE = "khmer", "lao", "burmese"
VIETNAMESE = "vietnamese"
LIBRARY_SEGMENTERS = (KIWI, THAI, INDIC, INDIC_URDU, KHMER, LAO, BURMESE, VIETNAMESE)
# The module each library segmenter imports, and how to install it (named when it is missing)
LIBRARY_MODULES = {KIWI: ("kiwipiepy", "pip install 'refinery[korean]'"),
                   THAI: ("pythainlp", "pip install pythainlp"),
                   INDIC: ("indicnlp", "pip install --no-deps indic-nlp-library==0.92 (the 'indic' extra)"),
                   INDIC_URDU: ("indicnlp", "pip install --no-deps indic-nlp-library==0.92 (the 'indic' extra)"),
                   KHMER: ("khmernltk", "pip install --no-deps khmer-nltk==1.6 sklearn-crfsuite==0.5.0 "
                                        "python-crfsuite tabulate (the 'khmer' extra; make installs it)"),
                   LAO: ("laonlp", "pip install laonlp"),
                   BURMESE: ("pyidaungsu", "pip install --no-deps pyidaungsu-numpy2==0.1.4 python-crfsuite emoji "
                                           "(the 'burmese' extra; make installs it)"),
                   VIETNAMESE: ("pyvi", "pip install --no-deps pyvi==0.1.1 sklearn-crfsuite==0.5.0 python-crfsuite "
                                        "(the 'vietnamese' extra; make installs it)")}


# How the segmenter's library, called on the whole text as datatrove calls it, cuts it at whitespace: the pieces,
# stripped, are the vocabulary's chunks (``words.joined_chunks``), so a run of whitespace it does not cut at stays
# inside a chunk. The Indic NLP Library's ``trivial_tokenize`` turns tabs into spaces and splits at spaces only (the
# same two str calls); khmer-nltk's ``cleanup_str`` deletes "\n", U+2028 and U+200A before it segments and its CRF
# reads across a space (a token of its own, stripped); pyidaungsu's ``segment_sentence`` deletes spaces (U+0020) and
# splits its output at all other whitespace. A Vietnamese text is one chunk: spaCy's pyvi tokenizer labels the
# syllables of the whole text as one sequence, so a line's first words depend on the line before (their labels, cut
# at lines, differed from datatrove's on 16 of the handbook's 36 pages, 99.68 % of its tokens alike; 100 % whole),
# and it joins syllables across any whitespace, a line break too.
_KHMER_CUT = re.compile("[^\\S \n\u2028\u200a]+").split
_BURMESE_CUT = re.compile("[^\\S ]+").split
CHUNK_CUT: dict[str, Callable[[str], list[str]]] = {
    INDIC: lambda text: text.replace("\t", " ").split(" "),
    INDIC_URDU: lambda text: text.replace("\t", " ").split(" "),
    KHMER: _KHMER_CUT,
    BURMESE: _BURMESE_CUT,
    VIETNAMESE: lambda text: [text],
}
# Of these, the ones whose chunks can hold a line break: their text's chunks are not each on one line
SPANS_LINES = frozenset({INDIC, INDIC_URDU, KHMER, VIETNAMESE})
# Of these, the ones whose chunk holds several whitespace words (Vietnamese: a line, by line): C4, which counts a
# line's whitespace words as datatrove's C4 does (``line.split()``), cannot count its chunks instead
CHUNK_HOLDS_WORDS = frozenset({VIETNAMESE})
# str.split()'s whitespace (none beyond U+3000) and, of it, str.splitlines()'s line breaks
WHITESPACE_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
LINE_BREAKS = "".join(c for c in WHITESPACE_CHARS if len(f"a{c}b".splitlines()) == 2)
# The same cut for the compiled chunk table (``_chunks.ChunkTable.lookup``'s ``keep``): the whitespace each
# ``CHUNK_CUT`` does not cut at, which stays inside a chunk (tests/pipeline/filters/test_segment_lib_lines.py
# checks both give the same chunks)
CHUNK_KEEP: dict[str, str] = {
    INDIC: "".join(c for c in WHITESPACE_CHARS if c not in " \t"),
    INDIC_URDU: "".join(c for c in WHITESPACE_CHARS if c not in " \t"),
    KHMER: " \n\u2028\u200a",
    BURMESE: " ",
    VIETNAMESE: WHITESPACE_CHARS,
}


def missing_library(segmenter: str) -> str | None:
    """None when ``segmenter``'s library can be imported, else what to install (the module is found, not
    imported: an English run loads none of them)."""
    if segmenter not in LIBRARY_MODULES:
        return None
    module, install = LIBRARY_MODULES[segmenter]
    return None if importlib.util.find_spec(module) is not None else f"{module} is not installed: {install}"


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    """Kiwi with the skip-bigram model, as datatrove's ``KiwiTokenizer`` builds it (its default
    ``model_type="sbg"``); one worker thread: the filter workers are one process per core."""
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise ImportError("Korean word segmentation needs kiwipiepy 0.21 and its model (about 100 MB installed), "
                          "an optional dependency of this project: pip install 'refinery[korean]' "
                          "(make installs it)") from None
    return Kiwi(num_workers=1, model_type="sbg")


def unload_kiwi() -> None:
    """Drop Kiwi (its model: about 450 MiB resident once loaded), so that the next Korean chunk loads it again."""
    _kiwi.cache_clear()


clear_between_steps(unload_kiwi)

# As jieba's dictionary (``pipeline.memory.IdleRelease``): a worker frees Kiwi once this many of its tasks in a row
# split no Korean chunk, so that one Korean page does not leave ~450 MiB in a worker for the rest of its tasks.
KIWI_IDLE_TASKS = 2
_kiwi_idle = IdleRelease(lambda: bool(_kiwi.cache_info().currsize), unload_kiwi, KIWI_IDLE_TASKS)
unload_idle_kiwi = _kiwi_idle.task_ended  # run when each task ends; True when it freed Kiwi


_LONG_NUMBER = re.compile("[0-9,]{20,}")  # removed before Kiwi, as datatrove does


def kiwi_split_many(chunks: list[str]) -> list[tuple[str, ...]]:
    """Kiwi's morphemes of each whitespace-free chunk, as the spans of the chunk they cover (one batch call)."""
    if not chunks:
        return []
    kiwi = _kiwi()
    _kiwi_idle.used()
    out = []
    for chunk, tokens in zip(chunks, kiwi.tokenize([_LONG_NUMBER.sub("", c) for c in chunks])):
        out.append(tuple(piece for t in tokens if (piece := chunk[t.start:t.end].strip())))
    return out


def kiwi_split(chunk: str) -> tuple[str, ...]:
    return kiwi_split_many([chunk])[0]


@lru_cache(maxsize=1)
def _thai_tokenize() -> Callable[..., list[str]]:
    try:
        from pythainlp.tokenize import word_tokenize
    except ImportError:
        raise ImportError("Thai word segmentation needs PyThaiNLP, a dependency of this project "
                          "(pyproject.toml): pip install pythainlp") from None
    return word_tokenize


def thai_split(chunk: str) -> tuple[str, ...]:
    """PyThaiNLP's words of a whitespace-free chunk (``newmm-safe``, whitespace dropped: datatrove's call)."""
    tokens = _thai_tokenize()(chunk, keep_whitespace=False, engine="newmm-safe")
    return tuple(piece for t in tokens if (piece := t.strip()))


@lru_cache(maxsize=1)
def _indic_tokenize() -> Any:
    """The Indic NLP Library's ``indic_tokenize`` module (its ``trivial_tokenize`` and punctuation patterns)."""
    try:
        from indicnlp.tokenize import indic_tokenize
    except ImportError:
        raise ImportError("Indic word segmentation needs the Indic NLP Library, an optional dependency of this "
                          "project: pip install 'refinery[indic]' (make installs it)") from None
    return indic_tokenize


# A word before the chunk: ``trivial_tokenize`` leaves a number with separators ("1,000") split when it starts
# its input (its join skips a match at position 0), which a chunk in the middle of a document never does there.
_LEAD = "a "


def indic_split(chunk: str, language: str = "hi") -> tuple[str, ...]:
    """The Indic NLP Library's tokens of a whitespace-free chunk: ``trivial_tokenize(text, language)``, whose
    ``language`` only chooses between Urdu's punctuation ("ur") and that of the Brahmi-derived scripts."""
    module = _indic_tokenize()
    marks = module.triv_tokenizer_urdu_pat if language == "ur" else module.triv_tokenizer_indic_pat
    if not marks.search(chunk):  # most chunks: without a mark the library splits at, a chunk is one token
        return (chunk,)
    tokens = module.trivial_tokenize(_LEAD + chunk, language)[1:]
    return tuple(piece for t in tokens if (piece := t.strip()))


def urdu_split(chunk: str) -> tuple[str, ...]:
    return indic_split(chunk, "ur")


@lru_cache(maxsize=1)
def _khmer_tokenize() -> Callable[..., list[str]]:
    """khmer-nltk's ``word_tokenize``, its model loaded and its temporary file gone.

    Why the model is loaded here: khmer-nltk unpickles a ``sklearn_crfsuite.CRF``, whose unpickling writes the
    17.7 MB CRF model to a new ``/tmp/model*.crfsuite`` file that only the object's finalizer deletes. A Ray
    worker is stopped without running finalizers, so every worker that met Khmer left one such file behind, on
    every run. pycrfsuite's tagger reads the model when it opens it, so the file is deleted as soon as the tagger
    is open (``_drop_crf_tempfile``); the words are the same."""
    try:
        from khmernltk import word_tokenize
        module = importlib.import_module("khmernltk.word_tokenize")  # the module (the package exports the function)
    except ImportError:
        raise ImportError(f"Khmer word segmentation needs khmer-nltk: {LIBRARY_MODULES[KHMER][1]}") from None
    # its logger writes a coloured DEBUG line to stderr on loading the model, in every worker: warnings only
    logging.getLogger("khmer-nltk").setLevel(logging.WARNING)
    if getattr(module, "crf_model", None) is None and hasattr(module, "load_model"):
        module.crf_model = module.load_model(module.model_path)  # what its first call would do
    _drop_crf_tempfile(getattr(module, "crf_model", None))
    return word_tokenize


def _drop_crf_tempfile(model: Any) -> None:
    """Open a ``sklearn_crfsuite.CRF``'s tagger and delete the temporary model file its unpickling wrote (a
    ``FileResource`` it owns; a CRF trained to a named file, or another object, is left alone)."""
    resource = getattr(model, "modelfile", None)
    if resource is None or not getattr(resource, "auto", False) or getattr(resource, "name", None) is None:
        return
    if model.tagger_ is None:  # opens pycrfsuite's tagger on the file, which reads the model into memory
        return
    resource.cleanup()  # closes its descriptor and unlinks the file


def khmer_split(chunk: str) -> tuple[str, ...]:
    """khmer-nltk's words of a whitespace-free chunk (``word_tokenize(text, return_tokens=True)``, stripped,
    empty tokens dropped: datatrove's call)."""
    tokens = _khmer_tokenize()(chunk, return_tokens=True)
    return tuple(piece for t in tokens if (piece := t.strip()))


@lru_cache(maxsize=1)
def _lao_tokenize() -> Callable[[str], list[str]]:
    try:
        from laonlp.tokenize import word_tokenize
    except ImportError:
        raise ImportError(f"Lao word segmentation needs LaoNLP: {LIBRARY_MODULES[LAO][1]}") from None
    return word_tokenize


def lao_split(chunk: str) -> tuple[str, ...]:
    """LaoNLP's words of a whitespace-free chunk (``word_tokenize``, stripped, empty tokens dropped: datatrove's
    call; a zero-width space stays a word, as there)."""
    return tuple(piece for t in _lao_tokenize()(chunk) if (piece := t.strip()))


@lru_cache(maxsize=1)
def _burmese() -> tuple[Any, Any]:
    """pyidaungsu's ``Tokenize`` and a CRF tagger with its word model open (what its ``tokenize(form="word")``
    opens on every call)."""
    try:
        import pycrfsuite
        with warnings.catch_warnings():  # its regex strings' "\s" warn when its source is compiled (no .pyc yet)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            # the module (the package's ``tokenize`` is a function of the same name)
            pds_tokenize = importlib.import_module("pyidaungsu.tokenize")
    except ImportError:
        raise ImportError(f"Burmese word segmentation needs pyidaungsu: {LIBRARY_MODULES[BURMESE][1]}") from None
    tagger = pycrfsuite.Tagger()
    tagger.open(os.path.join(os.path.dirname(pds_tokenize.__file__), "model", "tokenizer.crfsuite"))
    return pds_tokenize.Tokenize(), tagger


def burmese_split(chunk: str) -> tuple[str, ...]:
    """pyidaungsu's words of a whitespace-free chunk (``tokenize(text, form="word")``, stripped, empty tokens
    dropped: datatrove's call)."""
    segmenter, tagger = _burmese()
    return tuple(piece for t in segmenter.segment_sentence(tagger, chunk).split() if (piece := t.strip()))


# spaCy's Vietnamese tokenizer with pyvi (datatrove's tokenizer of vie_Latn, ``spacy.blank("vi")``): the text cut into
# syllables and marks (written here from spaCy's rules: whitespace runs; an abbreviation of capitals or a few titles
# with their period; "==>", "->", "...", ">>"; a URL; an e-mail address; a number with "." "," or "_" groups; one
# mark; a run of word characters), then pyvi's CRF labels each one as beginning or inside a word, over the whole
# sequence as one sentence; a syllable labelled inside joins the one before, with the whitespace between them,
# unless either is one ASCII punctuation mark, either starts with a digit, or it starts with a capital after a
# syllable that does not
_VI_SYLLABLE = re.compile(
    r"\s+|[A-ZĐ]+\.|Tp\.|Mr\.|Mrs\.|Ms\.|Dr\.|ThS\.|==>|->|\.\.\.|>>|\w+://\S+"
    r"|[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+|\d+(?:[.,_]\d+)+|[^\w\s]|\w+")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


@lru_cache(maxsize=1)
def _vietnamese() -> Any:
    """pyvi's ``ViTokenizer`` class (its CRF unpickled on import), the CRF's temporary model file gone (as
    Khmer's, ``_drop_crf_tempfile``)."""
    try:
        from pyvi import ViTokenizer
    except ImportError:
        raise ImportError(f"Vietnamese word segmentation needs pyvi: {LIBRARY_MODULES[VIETNAMESE][1]}") from None
    _drop_crf_tempfile(ViTokenizer.ViTokenizer.model)
    return ViTokenizer.ViTokenizer


def vietnamese_split(chunk: str) -> tuple[str, ...]:
    """The words of a chunk (syllables joined by spaces) as spaCy's pyvi tokenizer gives them, stripped (datatrove's
    call): a word of several syllables keeps the spaces between them ("Hà Nội")."""
    pieces = [m.group() for m in _VI_SYLLABLE.finditer(chunk)]
    syllables: list[str] = []
    gaps: list[str] = []  # the whitespace before each syllable
    gap = ""
    for piece in pieces:
        if piece.isspace():
            gap = piece
        else:
            syllables.append(piece)
            gaps.append(gap)
            gap = ""
    if not syllables:
        return ()
    tokenizer = _vietnamese()
    labels = tokenizer.model.predict([tokenizer.sent2features(syllables, False)])[0]
    words = [syllables[0]]
    for i in range(1, len(syllables)):
        here, before = syllables[i], syllables[i - 1]
        if (labels[i] == "I_W" and here not in _ASCII_PUNCTUATION and before not in _ASCII_PUNCTUATION
                and not here[0].isdigit() and not before[0].isdigit()
                and not (here[0].istitle() and not before[0].istitle())):
            words[-1] += gaps[i] + here
        else:
            words.append(here)
    return tuple(piece for w in words if (piece := w.strip()))
