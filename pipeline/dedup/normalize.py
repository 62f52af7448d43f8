"""Text normalisation for deduplication, once as a readable reference and once vectorised over a shard.

Normalised text is the text lowercased (``str.lower``), with every character that is not a letter, mark or
number replaced by a space (punctuation, symbols, controls, separators), every decimal digit (Unicode
category Nd, any script) replaced by ``0``, and runs of spaces collapsed to one, without leading or trailing
space. Its words are what exact and near dedup compare: "Page 12, Chapter IV." and "page 97 chapter iv" are
the same normalised text, ``page 00 chapter iv``.

Scripts written without spaces: every Han, hiragana and katakana character is a word of its own
(``split_cjk``), so "数学是研究数量的学科" has ten words and a shingle of n words is a character n-gram,
the usual unit of near-duplicate detection for Chinese and Japanese. Without this a whole clause between two
punctuation marks is one word and a paragraph has a handful of shingles. Why characters and not segmented
words: the rule depends only on the characters, never on a detected language or a segmenter's dictionary,
so a mixed Chinese-English document, or the same paragraph in two sources whose language ID disagrees,
gives the same shingles everywhere (deterministic and comparable across sources); Latin, Cyrillic and
other spaced scripts keep their words, so mixed text is shingled over both kinds of word at once.

The other scripts written without spaces between words (``CLUSTER_SCRIPTS``: Unicode's line-break class SA,
i.e. Thai, Lao, Myanmar (Burmese, Mon, Shan), Khmer, the Tai scripts and Ahom, plus Javanese, Balinese,
Buginese and Yi) follow the same rule with the unit a character can't be cut below: every extended grapheme
cluster (UAX #29, Unicode 16+, as the ``regex`` package's ``\\X`` finds it) is a word: a base letter with the
marks that extend it (Thai vowel and tone marks, Myanmar medials) and the consonant after a conjunct linker (a
Khmer subscript consonant after COENG, a Myanmar stacked one after U+1039), so "ភាសាខ្មែរ" has the words
"ភា សា ខ្មែ រ". A letter or digit of any other script next to such a cluster starts a new word, so mixed
Thai-English text keeps its English words; a digit run stays one number. As for Chinese, spaces between
these clusters no longer count: two Thai texts that differ only in where a space falls (Thai spaces mark
phrases, inconsistently) are the same normalised text, so exact dedup sees them as one. Why clusters
(bench/dedup_accuracy_scripts.py, UDHR paragraphs with 1-30 % edited copies): whole runs find 2-18 % of the
copies with true cluster 5-gram Jaccard >= 0.85 in Thai, Lao, Khmer and Burmese, clusters 100 % and merge no
two distinct paragraphs. Single code points find as many, but cut a tone mark or subscript off its letter:
their 5-grams span about one syllable, so a document has 1.2-1.9x the shingles and verification at 0.85 lets
through edited copies whose cluster Jaccard is below it. PyThaiNLP's dictionary words (Thai only: no
segmenter covers every script, and the words change with the dictionary) find 33-40 % at a third of the
speed. Tibetan needs no rule: its syllable mark (tsheg) is punctuation, a separator, so syllables are words.

Why a batch version: calling Python per word or per character is the slow part of MinHash dedup.
``normalize_batch`` works on the UTF-8 bytes of a whole batch of documents and classifies characters through
one table over all code points (``codepoint_classes``: class and word-break flags, CJK included), so the only
Python calls are per document (``str.lower``). It runs ``_normalize.c``, which decodes, classifies and writes
each character once; where the extension was not built, the same pass in numpy (~30 array passes, 2.5-12x
slower: bench/README.md, dedup normalisation in one pass). Both insert the CJK and the grapheme-cluster word
breaks in that pass; ``split_cjk``'s regex is the reference's only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

SEP, WORD, DIGIT = 0, 1, 2
# Han (iteration marks, extension A, unified, compatibility, extensions B+), hiragana, katakana (phonetic
# extensions, halfwidth forms): each character a word. One list for the reference's regex and the batch's table.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3005, 0x3007), (0x3041, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3134F))
_CJK_RUN = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES) + "]+")
# Blocks of the scripts written without spaces whose letters and marks form one word per grapheme cluster:
# the scripts of line-break class SA (UAX #14: breaks need a dictionary, as no spaces mark words), and
# Javanese, Balinese and Buginese (written in scriptio continua, Unicode Standard ch. 17) and Yi (a syllable
# per character, line-broken like ideographs). Digits and punctuation of these blocks keep their classes.
CLUSTER_SCRIPTS: dict[str, tuple[int, int]] = {
    "Thai": (0x0E00, 0x0E7F), "Lao": (0x0E80, 0x0EFF), "Myanmar": (0x1000, 0x109F),
    "Khmer": (0x1780, 0x17FF), "Tai Le": (0x1950, 0x197F), "New Tai Lue": (0x1980, 0x19DF),
    "Buginese": (0x1A00, 0x1A1F), "Tai Tham": (0x1A20, 0x1AAF), "Balinese": (0x1B00, 0x1B7F),
    "Yi": (0xA000, 0xA4CF), "Javanese": (0xA980, 0xA9DF), "Myanmar Extended-B": (0xA9E0, 0xA9FF),
    "Myanmar Extended-A": (0xAA60, 0xAA7F), "Tai Viet": (0xAA80, 0xAADF), "Ahom": (0x11700, 0x1174F),
}
# Conjunct linkers (UAX #29's Indic_Conjunct_Break=Linker in these scripts, Unicode 16+): the consonant
# after one is written below (or in) the cluster, so it belongs to it: Myanmar VIRAMA, Khmer COENG, Tai Tham
# SAKOT, Balinese ADEG ADEG, Javanese PANGKON
STACKERS = frozenset("\u1039\u17d2\u1a60\u1b44\ua9c0")
# UAX #29's exceptions to "a mark extends the cluster before it", in these scripts: spacing vowel and tone
# signs that are clusters of their own (Grapheme_Cluster_Break=Other though General_Category=Mc), and the
# two vowel letters AM that extend one (GCB=SpacingMark though Lo)
NOT_EXTENDING = frozenset("\u102b\u102c\u1038\u1062\u1063\u1064\u1067\u1068\u1069\u106a\u106b\u106c"
                          "\u106d\u1083\u1087\u1088\u1089\u108a\u108b\u108c\u108f\u109a\u109b\u109c"
                          "\u1a61\u1a63\u1a64\uaa7b\uaa7d\U00011720\U00011721")
EXTENDING_LETTERS = frozenset("\u0e33\u0eb3")
# flags above the class in ``codepoint_classes``: a letter or mark of a cluster script, a conjunct linker,
# a character that extends the grapheme cluster before it (a mark, with the exceptions above), a CJK
# character (``CJK_RANGES``: a word of its own, marks after it included)
_IN_CLUSTER_SCRIPT, _STACKER, _MARK, _CJK = 4, 8, 16, 32
_CLASS_BITS = 3


def _spaced(run: re.Match) -> str:
    return " " + " ".join(run.group()) + " "


def split_cjk(text: str) -> str:
    """``text`` with a space on both sides of every CJK character: each becomes a word of its own. One
    substitution per run of CJK characters, spaced by ``str.join``: a template substitution per character
    (``\1``) cost ~1 us of Python each, most of the dedup signatures' time on Chinese text."""
    return _CJK_RUN.sub(_spaced, text)


def in_cluster_script(ch: str) -> bool:
    """Whether ``ch`` is a letter or mark of a script whose grapheme clusters are words."""
    cp = ord(ch)
    if cp < 0x0E00 or cp > 0x1174F:  # outside every cluster script's block: the common case, first
        return False
    return (any(lo <= cp <= hi for lo, hi in CLUSTER_SCRIPTS.values())
            and unicodedata.category(ch)[0] in "LM")


def extends_cluster(ch: str) -> bool:
    """Whether ``ch`` belongs to the grapheme cluster before it (UAX #29: Extend or SpacingMark)."""
    if unicodedata.category(ch)[0] == "M":
        return ch not in NOT_EXTENDING
    return ch in EXTENDING_LETTERS


def cluster_break(prev: str, ch: str) -> bool:
    """Whether a word ends between two adjacent word characters ``prev`` and ``ch`` (letters, marks or
    digits): before a letter of a cluster script, or after one, unless ``ch`` extends the cluster of
    ``prev`` (a combining mark, or a consonant after a conjunct linker)."""
    if extends_cluster(ch):
        return False
    here = in_cluster_script(ch)
    if here and prev in STACKERS:
        return False
    return here or in_cluster_script(prev)


_DELETE = 3  # continuation byte of a non-ASCII digit, which becomes the single byte "0"
SPACE, ZERO = 0x20, 0x30


def char_class(ch: str) -> int:
    """SEP, WORD or DIGIT for one (already lowercased) character."""
    category = unicodedata.category(ch)
    if category == "Nd":
        return DIGIT
    if category[0] in "LMN":
        return WORD
    return SEP


@functools.cache
def codepoint_classes() -> np.ndarray:
    """The class of every code point in the low two bits, with the word-break flags above them
    (``_IN_CLUSTER_SCRIPT``, ``_STACKER``, ``_MARK``: ``extends_cluster``, and ``_CJK``); 1.1 MB, built
    once per process in about half a second."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for cp in range(0x110000):
        category = unicodedata.category(chr(cp))
        if category == "Nd":
            table[cp] = DIGIT
        elif category[0] == "M":
            table[cp] = WORD | _MARK
        elif category[0] in "LN":
            table[cp] = WORD
    for lo, hi in CLUSTER_SCRIPTS.values():
        for cp in range(lo, hi + 1):
            if in_cluster_script(chr(cp)):
                table[cp] |= _IN_CLUSTER_SCRIPT
    for ch in STACKERS:
        table[ord(ch)] |= _STACKER
    for ch in NOT_EXTENDING:
        table[ord(ch)] &= ~np.uint8(_MARK)
    for ch in EXTENDING_LETTERS:
        table[ord(ch)] |= _MARK
    for lo, hi in CJK_RANGES:
        table[lo:hi + 1] |= _CJK
    return table


def normalize_text(text: str) -> str:
    """Reference normalisation of one document (readable; ``normalize_batch`` must agree with it)."""
    mapped = []
    prev, prev_cls = " ", SEP
    for ch in split_cjk(text).lower():
        cls = char_class(ch)
        if cls != SEP and prev_cls != SEP and cluster_break(prev, ch):
            mapped.append(" ")
        mapped.append(ch if cls == WORD else "0" if cls == DIGIT else " ")
        prev, prev_cls = ch, cls
    return " ".join(w for w in "".join(mapped).split(" ") if w)


@dataclass
class NormalizedBatch:
    """Normalised text of several documents in one buffer.

    ``data`` holds each document's words separated by single spaces; word ``k`` is
    ``data[word_starts[k]:word_ends[k]]`` and document ``d`` owns words
    ``doc_words[d]:doc_words[d + 1]``.
    """

    data: np.ndarray  # uint8
    word_starts: np.ndarray  # int64
    word_ends: np.ndarray  # int64
    doc_words: np.ndarray  # int64, len = docs + 1

    @property
    def num_docs(self) -> int:
        return len(self.doc_words) - 1

    def doc_bytes(self, d: int) -> bytes:
        """The normalised UTF-8 text of document ``d`` (``b""`` when it has no words)."""
        lo, hi = self.doc_words[d], self.doc_words[d + 1]
        if lo == hi:
            return b""
        return self.data[self.word_starts[lo]:self.word_ends[hi - 1]].tobytes()


_ASCII = np.zeros(128, dtype=np.uint8)
for _cp in range(128):
    _ASCII[_cp] = char_class(chr(_cp))


def _byte_classes(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class of every byte (SEP, WORD, DIGIT: the byte becomes ``0``, or _DELETE) and the sorted byte
    positions where ``cluster_break`` puts a word boundary (each before a character's first byte)."""
    classes = np.empty(len(raw), dtype=np.uint8)
    ascii_mask = raw < 0x80
    classes[ascii_mask] = _ASCII[raw[ascii_mask]]
    high = np.flatnonzero(~ascii_mask)
    if len(high) == 0:
        return classes, _NO_BREAKS
    padded = np.concatenate([raw, np.zeros(3, dtype=np.uint8)]).astype(np.uint32)
    b0 = padded[high]
    lead = b0 >= 0xC0
    starts = high[lead]
    c0, c1, c2, c3 = (padded[starts + k] for k in range(4))
    two, three = c0 < 0xE0, (c0 >= 0xE0) & (c0 < 0xF0)
    cp = np.where(two, ((c0 & 0x1F) << 6) | (c1 & 0x3F),
                  np.where(three, ((c0 & 0x0F) << 12) | ((c1 & 0x3F) << 6) | (c2 & 0x3F),
                           ((c0 & 0x07) << 18) | ((c1 & 0x3F) << 12) | ((c2 & 0x3F) << 6) | (c3 & 0x3F)))
    lead_info = codepoint_classes()[np.minimum(cp, 0x10FFFF)]
    lead_class = lead_info & _CLASS_BITS
    # every high byte takes the class of the lead byte before it; digit continuations are deleted
    lead_of = np.maximum.accumulate(np.where(lead, np.arange(len(high)), 0))
    cont_class = np.where(lead_class == DIGIT, _DELETE, lead_class).astype(np.uint8)
    per_high = np.empty(len(high), dtype=np.uint8)
    lead_rank = np.cumsum(lead) - 1  # index into lead_class of the lead each high byte belongs to
    per_high[:] = cont_class[lead_rank[lead_of]]
    per_high[lead] = lead_class
    classes[high] = per_high
    if not (lead_info & (_IN_CLUSTER_SCRIPT | _CJK)).any():  # no CJK or cluster script in the batch: no breaks
        return classes, _NO_BREAKS
    return classes, _word_breaks(raw, classes, starts, lead_info, np.where(two, 2, np.where(three, 3, 4)))


_NO_BREAKS = np.zeros(0, dtype=np.int64)


def _word_breaks(raw: np.ndarray, classes: np.ndarray, starts: np.ndarray, info: np.ndarray,
                 lengths: np.ndarray) -> np.ndarray:
    """Where a word ends between two word characters (first bytes of the characters that start a new word)
    over a batch: ``split_cjk`` (on both sides of a CJK character) and ``cluster_break`` together, so the
    batch needs no per-document regex pass. ``starts``: first byte of every non-ASCII character, ``info``
    its ``codepoint_classes`` entry, ``lengths`` its UTF-8 length. The character before a non-ASCII one is
    either ASCII (no flags) or the previous non-ASCII character; the byte before a character carries the
    previous character's class (``_DELETE`` for a digit: a word character too)."""
    in_script = (info & _IN_CLUSTER_SCRIPT) != 0
    cjk = (info & _CJK) != 0
    # non-ASCII characters: the flags of the character before each
    before = starts - 1
    prev_class = np.where(before >= 0, classes[np.maximum(before, 0)], SEP)
    prev_high = (before >= 0) & (raw[np.maximum(before, 0)] >= 0x80)
    prev_info = np.where(prev_high, np.concatenate([[0], info[:-1]]), 0).astype(np.uint8)
    prev_in_script = (prev_info & _IN_CLUSTER_SCRIPT) != 0
    # a CJK character is a word whatever follows it (a mark too): its rule is outside the mark exception
    cluster = (((info & _MARK) == 0) & (in_script | prev_in_script)
               & ~(in_script & ((prev_info & _STACKER) != 0)))
    word = classes[starts] != SEP
    breaks = word & (prev_class != SEP) & (cluster | cjk | ((prev_info & _CJK) != 0))
    # ASCII letters and digits right after a CJK character or a character of a cluster script
    after = (starts + lengths)[(in_script | cjk) & word]
    after = after[after < len(raw)]
    after = after[(raw[after] < 0x80) & (classes[after] != SEP)]
    return np.sort(np.concatenate([starts[breaks], after])).astype(np.int64)


try:
    from pipeline.dedup import _normalize as _compiled
except ImportError:  # not built (no C compiler at install time): the numpy path gives the same bytes
    _compiled = None
if _compiled is not None and _compiled.FLAGS != (SEP, WORD, DIGIT, _IN_CLUSTER_SCRIPT, _STACKER, _MARK, _CJK):
    raise ImportError(f"pipeline/dedup/_normalize.c's flags {_compiled.FLAGS} are not normalize.py's: a stale "
                      "build; rebuild the extensions (build_ext --inplace)")


def _lowered(texts: list[str]) -> list[bytes]:
    """Each text lowercased and UTF-8 encoded (lone surrogates kept, as separators). Lowercasing first is the
    reference's order (``split_cjk`` then ``lower``): no character changes case into or out of
    ``CJK_RANGES``, so the CJK breaks are the same either way (tests/pipeline/dedup/test_normalize.py)."""
    return [t.lower().encode("utf-8", "surrogatepass") for t in texts]


def normalize_batch(texts: list[str]) -> NormalizedBatch:
    """Normalise ``texts`` together; equals ``normalize_text`` document by document. One pass per batch:
    the compiled ``_normalize`` where it was built, else numpy; both insert the CJK and grapheme-cluster
    word breaks in that pass (no regex per document)."""
    if _compiled is None:
        return numpy_normalize_batch(texts)
    return compiled_normalize_batch(texts)


def compiled_normalize_batch(texts: list[str]) -> NormalizedBatch:
    """``normalize_batch`` by ``_normalize.c``: each character decoded, classified and written once."""
    data, starts, ends, doc_words = _compiled.normalize(_lowered(texts), codepoint_classes())
    return NormalizedBatch(np.frombuffer(data, dtype=np.uint8), np.frombuffer(starts, dtype=np.int64),
                           np.frombuffer(ends, dtype=np.int64), np.frombuffer(doc_words, dtype=np.int64))


def numpy_normalize_batch(texts: list[str]) -> NormalizedBatch:
    """``normalize_batch`` in numpy: the fallback, and the second implementation the tests compare."""
    parts = _lowered(texts)
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    raw = np.frombuffer(b" ".join(parts), dtype=np.uint8)  # a space between documents keeps words apart
    doc_starts = np.concatenate([[0], np.cumsum(lengths[:-1] + 1)]) if len(parts) else np.zeros(0, np.int64)

    classes, breaks = _byte_classes(raw)
    # uint8 throughout (Python-int fill values made two int64 temporaries, 16 bytes per text byte)
    mapped = np.where(classes == WORD, raw, np.where(classes == SEP, np.uint8(SPACE), np.uint8(ZERO)))
    keep = classes != _DELETE
    if len(breaks):  # a space before every character that starts a CJK or grapheme-cluster word
        mapped = np.insert(mapped, breaks, np.uint8(SPACE))
        keep = np.insert(keep, breaks, True)
        doc_starts = doc_starts + np.searchsorted(breaks, doc_starts, side="right")
    is_word = mapped != SPACE
    # collapse: keep word bytes and the first space after a word
    prev_word = np.concatenate([[False], is_word[:-1]])
    keep &= is_word | prev_word
    data = mapped[keep]
    word = data != SPACE
    before = np.empty_like(word)
    before[:1], before[1:] = False, word[:-1]
    after = np.empty_like(word)
    after[-1:], after[:-1] = False, word[1:]
    word_starts = np.flatnonzero(word & ~before).astype(np.int64)
    word_ends = np.flatnonzero(word & ~after).astype(np.int64) + 1
    # new index of each document's first byte: the kept bytes before it (no per-byte position array)
    # (an empty last document starts at len(keep): it has every kept byte before it)
    kept_through = np.cumsum(keep, dtype=np.int64)
    inside = np.minimum(doc_starts, len(keep) - 1)
    new_doc_starts = (np.where(doc_starts < len(keep), kept_through[inside] - keep[inside], kept_through[-1])
                      if len(raw) else np.zeros(len(parts), np.int64))
    doc_words = np.searchsorted(word_starts, new_doc_starts, side="left").astype(np.int64)
    doc_words = np.concatenate([doc_words, [len(word_starts)]]).astype(np.int64)
    return NormalizedBatch(data, word_starts, word_ends, doc_words)
