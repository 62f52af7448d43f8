/* Whitespace chunk ids of a text in one compiled pass: the front half of pipeline.filters.words.
 *
 * Why C: the word filters map every whitespace-separated chunk of a document to an id of a process-wide
 * vocabulary. In Python that is ``text.split()`` (one new str object per chunk) followed by one dict
 * lookup per chunk, and a Python ``__missing__`` call per chunk never seen; together about half of the
 * word splitting's time. Here one scan over the str's code points finds the chunks exactly as
 * ``str.split()`` does (``Py_UNICODE_ISSPACE``), hashes each one in place and looks it up in an
 * open-addressing table; only chunks never seen before become str objects (handed back to Python, which
 * splits them into tokens once). The same scan counts the chunks of every line of ``str.splitlines()``
 * (``Py_UNICODE_ISLINEBREAK``, "\r\n" one break), which C4's line rules need. Chinese chunks, nearly all new,
 * need not become str at all: ``lookup(text, lines, False)`` only counts them, and ``jieba_entry_tokens``
 * segments and interns them from the table's stored code points. The segmenters whose libraries do not cut at
 * every whitespace (the Indic languages, Khmer, Burmese: pipeline.filters.segment_lib.CHUNK_KEEP) name the
 * whitespace that stays inside a chunk (``keep``), and get the chunks words.joined_chunks gives.
 *
 *   table = ChunkTable()
 *   ids, new, per_line = table.lookup(text, lines)   # ids: bytes of int64, one per chunk;
 *                                                     # new: the chunks seen for the first time, in id order
 *                                                     # (their number with lookup(text, lines, False));
 *                                                     # per_line: bytes of int64 per splitlines() line,
 *                                                     # or None unless ``lines``
 *   table.lookup(text, lines, True, keep)             # the same, the whitespace in ``keep`` not a cut
 *   len(table)                                        # distinct chunks so far
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_unicode.h"

/* Why so compact: a vocabulary holds up to MAX_CHUNKS (500,000) distinct chunks per process, and its
 * tokens in a second table, and every byte per entry is a byte of every filter worker's resident set
 * (issue 19: "peak RSS per worker flat"). A slot is 8 bytes: the top 32 bits of the entry's hash (which
 * also pick its home slot, so the table grows without rehashing any text) beside its id + 1 (0: empty).
 * Each entry's code points are stored at the narrowest width that holds them (1, 2 or 4 bytes, as CPython's
 * str does), so an ASCII word costs its length in bytes, not four times it. */
/* The probe, compare and interning of a token: inlined into their loops (a call per token was ~30 instructions
 * of a Chinese character). */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Code points are read and written through load_cp and store_cp, never through a Py_UCS2 * or Py_UCS4 *: an entry
 * of the arena starts where the one before it ends, so a UCS-2 or UCS-4 entry after one of odd length is not
 * aligned to its width, and an access through such a pointer is undefined behaviour (-fsanitize=alignment traps
 * it, as do CPUs that fault on misaligned loads; tests/pipeline/filters/test_alignment.py). Why not pad each
 * entry to its width instead: the padding would be skipped at every read of an entry's length and start, a few
 * instructions per probe, where a fixed-size memcpy compiles to the same one load or store as the typed access.
 * Used on a str's data too (the scans read both through one code path): there it is the same load. */
ALWAYS_INLINE Py_UCS4 load_cp(int kind, const void *data, Py_ssize_t i) {
    const unsigned char *p = (const unsigned char *)data;
    if (kind == PyUnicode_1BYTE_KIND) return p[i];
    if (kind == PyUnicode_2BYTE_KIND) {
        uint16_t v;
        memcpy(&v, p + 2 * i, sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, p + 4 * i, sizeof v);
    return v;
}

ALWAYS_INLINE void store_cp(int kind, void *data, Py_ssize_t i, Py_UCS4 c) {
    unsigned char *p = (unsigned char *)data;
    if (kind == PyUnicode_1BYTE_KIND) {
        p[i] = (unsigned char)c;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        uint16_t v = (uint16_t)c;
        memcpy(p + 2 * i, &v, sizeof v);
    } else {
        uint32_t v = c;
        memcpy(p + 4 * i, &v, sizeof v);
    }
}

typedef struct {
    PyObject_HEAD
    uint64_t *slots;      /* tag << 32 | (id + 1), tag = hash >> 32; 0: empty */
    size_t mask;
    Py_ssize_t count;     /* distinct chunks */
    int64_t *offset;      /* chunk id -> byte offset in the arena; offset[count] is the arena's length */
    uint8_t *shift;       /* chunk id -> log2 of its bytes per code point (0, 1 or 2) */
    Py_ssize_t id_cap;    /* capacity of ``shift``; ``offset`` holds one more */
    unsigned char *arena; /* every distinct chunk's code points, concatenated */
    Py_ssize_t arena_cap;
    uint32_t *single;     /* code point - SINGLE_LO -> id + 1 of that one-character entry (0: not known yet), for
                           * the interning of jieba's words (intern_range); NULL until it meets such a token */
    uint64_t *shorts;     /* SHORT_SLOTS keys, then SHORT_SLOTS uint32 ids: the cache of Han words of 2-4 characters
                           * (intern_run_ucs2); NULL until it meets such a word */
} ChunkTable;

/* Why a direct table for one-character tokens: jieba cuts about two in five Chinese words as one character,
 * and they are nearly always seen before; an array index replaces their hash, probe and compare. From
 * U+3000 (CJK punctuation, then kana, ideographs, full-width forms) to the end of the BMP: 208 KiB, only in
 * a token table that segments CJK text. */
#define SINGLE_LO 0x3000
#define SINGLE_HI 0x10000

/* Why a cache of short Han words: jieba's words of two to four characters (three in five of its words on zhwiki)
 * cost ~90 instructions each through hash, probe and compare (loads of the slot, the entry's offsets, width and
 * code points from four arrays); their code points packed into 64 bits (zero above the last: no Han character is
 * U+0000) index a direct-mapped cache of key and id, and a hit costs ~15. A miss takes the table's path and
 * overwrites the cached pair: the cache holds no word the table does not. 16,384 slots, 12 bytes each (192 KiB),
 * only in a token table that interns Han runs of UCS-2 text; counted in ``nbytes``. */
#define SHORT_BITS 14
#define SHORT_SLOTS ((size_t)1 << SHORT_BITS)

/* A growable int64 buffer for the per-call outputs. */
typedef struct {
    int64_t *data;
    Py_ssize_t len, cap;
} Buf;

/* The growth out of line and the push inlined: a push per token is then a compare, a store and an increment
 * (issue 13, tenth pass). */
static __attribute__((noinline, cold)) int buf_grow(Buf *b) {
    Py_ssize_t cap = b->cap ? 2 * b->cap : 256;
    int64_t *grown = realloc(b->data, cap * sizeof(int64_t));
    if (!grown) return -1;
    b->data = grown;
    b->cap = cap;
    return 0;
}

static inline int buf_push(Buf *b, int64_t v) {
    if (__builtin_expect(b->len == b->cap, 0) && buf_grow(b) < 0) return -1;
    b->data[b->len++] = v;
    return 0;
}

static int table_alloc_slots(ChunkTable *t, size_t cap) {
    t->slots = calloc(cap, sizeof(uint64_t));
    if (!t->slots) return -1;
    t->mask = cap - 1;
    return 0;
}

static int table_grow(ChunkTable *t) {
    uint64_t *old = t->slots;
    size_t old_cap = t->mask + 1;
    if (table_alloc_slots(t, 2 * old_cap) < 0) {
        t->slots = old;
        t->mask = old_cap - 1;
        return -1;
    }
    for (size_t s = 0; s < old_cap; s++) {
        if (!old[s]) continue;
        size_t d = (size_t)(old[s] >> 32) & t->mask;
        while (t->slots[d]) d = (d + 1) & t->mask;
        t->slots[d] = old[s];
    }
    free(old);
    return 0;
}

static inline Py_ssize_t entry_length(const ChunkTable *t, int64_t id) {
    return (Py_ssize_t)((t->offset[id + 1] - t->offset[id]) >> t->shift[id]);
}

/* FNV-1a over the code points of data[start:end] (lookup_scan's hash of a chunk) and their largest in *top, in
 * one pass, one loop per kind (a test of the kind inside the loop was most of the cost of adding a chunk:
 * nearly every Chinese chunk is new). A token is hashed once, and when new its width comes from *top without a
 * second scan. Inlined everywhere, so that where only one of the two is used the other is not computed. */
ALWAYS_INLINE uint64_t fnv_top(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Py_UCS4 *top) {
    uint64_t h = 0xcbf29ce484222325ULL;
    Py_UCS4 m = 0;
    if (kind == PyUnicode_2BYTE_KIND) {
        for (Py_ssize_t i = start; i < end; i++) {
            Py_UCS4 c = load_cp(PyUnicode_2BYTE_KIND, data, i);
            h = (h ^ c) * 0x100000001b3ULL;
            m = c > m ? c : m;
        }
    } else if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        for (Py_ssize_t i = start; i < end; i++) {
            h = (h ^ p[i]) * 0x100000001b3ULL;
            m = p[i] > m ? p[i] : m;
        }
    } else {
        for (Py_ssize_t i = start; i < end; i++) {
            Py_UCS4 c = load_cp(PyUnicode_4BYTE_KIND, data, i);
            h = (h ^ c) * 0x100000001b3ULL;
            m = c > m ? c : m;
        }
    }
    *top = m;
    return h;
}

/* Copies data[start:start + len] (of ``kind``) to ``dst`` at 1 << ``shift`` bytes per code point, which holds
 * every one of them (the range's top decides the shift): a memcpy where the widths agree. */
static void copy_range(unsigned char *dst, int shift, int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    if ((1 << shift) == kind) {
        memcpy(dst, (const unsigned char *)data + start * kind, (size_t)(len * kind));
    } else if (shift == 0 && kind == PyUnicode_2BYTE_KIND) {
        for (Py_ssize_t i = 0; i < len; i++) dst[i] = (Py_UCS1)load_cp(PyUnicode_2BYTE_KIND, data, start + i);
    } else if (shift == 0) {
        for (Py_ssize_t i = 0; i < len; i++) dst[i] = (Py_UCS1)load_cp(PyUnicode_4BYTE_KIND, data, start + i);
    } else if (shift == 1) {
        for (Py_ssize_t i = 0; i < len; i++)
            store_cp(PyUnicode_2BYTE_KIND, dst, i, load_cp(PyUnicode_4BYTE_KIND, data, start + i));
    } else { /* a narrower text never needs 4 bytes */
        for (Py_ssize_t i = 0; i < len; i++) store_cp(PyUnicode_4BYTE_KIND, dst, i, load_cp(kind, data, start + i));
    }
}

/* Adds text[start:start + len] as entry ``count`` (the caller then counts it); its largest code point in *top
 * (found here unless the caller knows it: *top > 0). */
static int table_add_chunk(ChunkTable *t, int kind, const void *data, Py_ssize_t start, Py_ssize_t len,
                           Py_UCS4 *top) {
    if (t->count >= 0xfffffffeLL) { /* ids must fit the slot's 32 bits */
        PyErr_SetString(PyExc_OverflowError, "ChunkTable: more than 2**32 - 2 entries");
        return -1;
    }
    if (t->count == t->id_cap) {
        Py_ssize_t cap = t->id_cap ? 2 * t->id_cap : 4096;
        int64_t *off = realloc(t->offset, (cap + 1) * sizeof(int64_t));
        if (!off) return PyErr_NoMemory(), -1;
        t->offset = off;
        uint8_t *sh = realloc(t->shift, cap);
        if (!sh) return PyErr_NoMemory(), -1;
        t->shift = sh;
        t->id_cap = cap;
    }
    if (!*top) fnv_top(kind, data, start, start + len, top); /* the largest code point alone */
    int shift = *top < 0x100 ? 0 : *top < 0x10000 ? 1 : 2;
    Py_ssize_t used = t->count ? t->offset[t->count] : 0, need = len << shift;
    if (used + need > t->arena_cap) {
        Py_ssize_t cap = t->arena_cap ? t->arena_cap : 65536;
        while (cap < used + need) cap *= 2;
        unsigned char *grown = realloc(t->arena, cap);
        if (!grown) return PyErr_NoMemory(), -1;
        t->arena = grown;
        t->arena_cap = cap;
    }
    copy_range(t->arena + used, shift, kind, data, start, len);
    t->offset[t->count] = used;
    t->offset[t->count + 1] = used + need;
    t->shift[t->count] = (uint8_t)shift;
    return 0;
}

ALWAYS_INLINE int same_chunk(const ChunkTable *t, int64_t id, int kind, const void *data, Py_ssize_t start,
                            Py_ssize_t len) {
    if (entry_length(t, id) != len) return 0;
    const unsigned char *stored = t->arena + t->offset[id];
    int skind = 1 << t->shift[id]; /* PyUnicode_1BYTE_KIND is 1, 2BYTE 2, 4BYTE 4 */
    if (skind == kind) {
        /* a word of a few characters: compared in place (a memcmp call cost more than the compare) */
        if (kind == PyUnicode_2BYTE_KIND && len <= 4) {
            for (Py_ssize_t i = 0; i < len; i++)
                if (load_cp(PyUnicode_2BYTE_KIND, stored, i) != load_cp(PyUnicode_2BYTE_KIND, data, start + i))
                    return 0;
            return 1;
        }
        return memcmp(stored, (const unsigned char *)data + start * kind, (size_t)(len * kind)) == 0;
    }
    for (Py_ssize_t i = 0; i < len; i++)
        if (load_cp(skind, stored, i) != load_cp(kind, data, start + i)) return 0;
    return 1;
}

/* The slot where ``h`` (FNV-1a over the code points) is or would be, its id in *id (-1: not there). */
ALWAYS_INLINE size_t find_slot(const ChunkTable *t, int kind, const void *data, Py_ssize_t start,
                               Py_ssize_t end, uint64_t *h, int64_t *id) {
    uint64_t x = *h;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    *h = x >> 32; /* the tag */
    size_t s = (size_t)*h & t->mask;
    for (uint64_t e; (e = t->slots[s]); s = (s + 1) & t->mask) {
        if ((e >> 32) == *h && same_chunk(t, (int64_t)(e & 0xffffffffULL) - 1, kind, data, start, end - start)) {
            *id = (int64_t)(e & 0xffffffffULL) - 1;
            return s;
        }
    }
    *id = -1;
    return s;
}

/* The id of text[start:end], adding it (and a new str to ``fresh``, unless ``fresh`` is NULL) when never seen;
 * -1 on error. ``top``: its largest code point where the caller found it, else 0. The str is made from the
 * entry's stored copy at the width its largest code point needs (what PyUnicode_Substring gives, without its
 * second scan for that code point). */
ALWAYS_INLINE int64_t chunk_id(ChunkTable *t, int kind, const void *data, Py_ssize_t start, Py_ssize_t end,
                               uint64_t h, PyObject *fresh, Py_UCS4 top) {
    int64_t found;
    size_t s = find_slot(t, kind, data, start, end, &h, &found);
    if (found >= 0) return found;
    if (table_add_chunk(t, kind, data, start, end - start, &top) < 0) return -1;
    if (fresh) {
        PyObject *chunk = PyUnicode_New(end - start, top);
        if (!chunk) return -1;
        memcpy(PyUnicode_DATA(chunk), t->arena + t->offset[t->count], (size_t)(t->offset[t->count + 1] - t->offset[t->count]));
        if (PyList_Append(fresh, chunk) < 0) {
            Py_DECREF(chunk);
            return -1;
        }
        Py_DECREF(chunk);
    }
    int64_t id = t->count++;
    t->slots[s] = h << 32 | (uint64_t)(id + 1);
    if ((size_t)t->count * 2 > t->mask + 1 && table_grow(t) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return id;
}

static PyObject *as_bytes(Buf *b) {
    return PyBytes_FromStringAndSize((const char *)b->data, b->len * (Py_ssize_t)sizeof(int64_t));
}

/* Py_UNICODE_ISSPACE (str.split()'s whitespace) and Py_UNICODE_ISLINEBREAK (str.splitlines()'s breaks:
 * is_linebreak, _unicode.h) as inline tests: the CPython functions behind them are a call and a table lookup
 * per character beyond ASCII, about a tenth of this scan's cost on Chinese text. The code points are
 * CPython's (its unicodetype_db); tests/pipeline/filters/test_words.py checks both over every code point. */
static inline int is_space(Py_UCS4 c) {
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    if (c < 0x85 || c > 0x3000) return 0;
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* The per-line bookkeeping of both scans at a whitespace character ``ch`` at ``*i`` that ends no kept run: the
 * line grows by it, and a line break (``str.splitlines()``: one line per break, "\r\n" is one) records the
 * line's chunk count and starts the next line. -1 on error. */
ALWAYS_INLINE int line_step(int kind, const void *data, Py_ssize_t n, Py_UCS4 ch, Py_ssize_t *i, Buf *lines,
                            Py_ssize_t *line_chunks, Py_ssize_t *line_len) {
    (*line_len)++;
    if (is_linebreak(ch)) {
        if (ch == '\r' && *i + 1 < n && load_cp(kind, data, *i + 1) == '\n') (*i)++;
        if (buf_push(lines, *line_chunks) < 0) return -1;
        *line_chunks = *line_len = 0;
    }
    return 0;
}

/* The whitespace that does not end a chunk (``lookup``'s ``keep``): the chunks of the segmenters whose libraries
 * cut a text at some whitespace only (pipeline.filters.segment_lib.CHUNK_KEEP: the Indic NLP Library at spaces and
 * tabs, khmer-nltk not at spaces and the line breaks it deletes, pyidaungsu not at spaces). A bit per ASCII code
 * point; the few others (every whitespace beyond ASCII, 19 code points, at most) in a list, read only at such a
 * character, which is rare in text. */
typedef struct {
    uint64_t ascii[2];
    Py_UCS4 other[32];
    int n_other;
    int has_break; /* some kept whitespace is a line break: a chunk can span lines, no count per line */
} Keep;

static int keep_parse(PyObject *keep, Keep *k) {
    memset(k, 0, sizeof *k);
    Py_ssize_t n = PyUnicode_GET_LENGTH(keep);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(keep, i);
        if (!is_space(c)) {
            PyErr_Format(PyExc_ValueError, "lookup: keep holds U+%04X, which is not whitespace", (unsigned)c);
            return -1;
        }
        if (is_linebreak(c)) k->has_break = 1;
        if (c < 128) {
            k->ascii[c >> 6] |= 1ULL << (c & 63);
        } else {
            int seen = 0;
            for (int j = 0; j < k->n_other; j++) seen |= k->other[j] == c;
            if (!seen) k->other[k->n_other++] = c; /* at most the 19 whitespace code points beyond ASCII */
        }
    }
    return 0;
}

ALWAYS_INLINE int keeps(const Keep *k, Py_UCS4 c) {
    if (c < 128) return (int)((k->ascii[c >> 6] >> (c & 63)) & 1);
    for (int j = 0; j < k->n_other; j++)
        if (k->other[j] == c) return 1;
    return 0;
}

/* The scan of ``lookup``: the chunk ids of data[0:n] into ``ids`` and, with ``want_lines``, the chunks per line
 * into ``lines``; -1 on error. Inlined once per kind with ``kind`` a constant, so that reading a character is a
 * load, not a switch on the kind (issue 13, tenth pass), and once with ``k`` NULL: every whitespace then ends a
 * chunk (``str.split()``) and the kept-whitespace test is compiled out. With ``k``, its whitespace does not end a
 * chunk: a chunk is a piece between the other whitespace, stripped of all whitespace at its ends
 * (``words.joined_chunks``: ``piece.strip()`` of each piece the library's cut gives), so kept whitespace is in a
 * chunk only between two of its other characters. The hash (FNV-1a over the chunk's code points) runs over the
 * kept whitespace too and is taken at the chunk's last other character. The counts per line need no kept line
 * break (``lookup`` checks): a line break then ends a chunk. */
ALWAYS_INLINE int lookup_scan(ChunkTable *t, int kind, const void *data, Py_ssize_t n, int want_lines,
                              PyObject *fresh, Buf *ids, Buf *lines, const Keep *k) {
    Py_ssize_t start = -1, end = 0, line_chunks = 0, line_len = 0;
    uint64_t h = 0, h_end = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 ch = i < n ? load_cp(kind, data, i) : ' ';
        if (i < n && !is_space(ch)) {
            if (start < 0) {
                start = i;
                h = 0xcbf29ce484222325ULL;
            }
            h_end = h = (h ^ ch) * 0x100000001b3ULL;
            end = i + 1;
            line_len++;
            continue;
        }
        if (k != NULL && i < n && keeps(k, ch)) { /* inside a chunk, or at its ends where the strip drops it */
            if (start >= 0) h = (h ^ ch) * 0x100000001b3ULL;
            line_len++;
            continue;
        }
        if (start >= 0) { /* a chunk ends at its last character before i */
            int64_t id = chunk_id(t, kind, data, start, end, h_end, fresh, 0);
            if (id < 0 || buf_push(ids, id) < 0) return -1;
            line_chunks++;
            start = -1;
        }
        if (!want_lines || i == n) continue;
        if (line_step(kind, data, n, ch, &i, lines, &line_chunks, &line_len) < 0) return -1;
    }
    if (want_lines && line_len > 0 && buf_push(lines, line_chunks) < 0) return -1;
    return 0;
}

/* lookup(text, lines=False, strings=True, keep=""): with ``strings`` false the new chunks are not made into str:
 * their number comes back instead of their list (they hold the table's last ids; ``jieba_entry_tokens`` reads
 * them from the table). ``keep``: whitespace that does not end a chunk (``lookup_scan``); with a line break
 * in it there are no counts per line (``lines`` must be false). */
static PyObject *ChunkTable_lookup(ChunkTable *t, PyObject *args) {
    PyObject *text, *keep_str = NULL;
    int want_lines = 0, strings = 1;
    Keep keep;
    if (!PyArg_ParseTuple(args, "U|ppU", &text, &want_lines, &strings, &keep_str)) return NULL;
    int with_keep = keep_str != NULL && PyUnicode_GET_LENGTH(keep_str) > 0;
    if (with_keep && keep_parse(keep_str, &keep) < 0) return NULL;
    if (with_keep && want_lines && keep.has_break) {
        PyErr_SetString(PyExc_ValueError, "lookup: no chunks per line where keep holds a line break");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), held = t->count;
    PyObject *fresh = strings ? PyList_New(0) : NULL;
    Buf ids = {0}, lines = {0};
    PyObject *result = NULL;
    if (strings && !fresh) return NULL;
    int failed =
        with_keep
            ? (kind == PyUnicode_1BYTE_KIND   ? lookup_scan(t, PyUnicode_1BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, &keep)
               : kind == PyUnicode_2BYTE_KIND ? lookup_scan(t, PyUnicode_2BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, &keep)
                                              : lookup_scan(t, PyUnicode_4BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, &keep))
        : kind == PyUnicode_1BYTE_KIND ? lookup_scan(t, PyUnicode_1BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, NULL)
                 : kind == PyUnicode_2BYTE_KIND ? lookup_scan(t, PyUnicode_2BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, NULL)
                                                : lookup_scan(t, PyUnicode_4BYTE_KIND, data, n, want_lines, fresh, &ids, &lines, NULL);
    if (failed) goto fail;
    PyObject *ids_bytes = as_bytes(&ids);
    PyObject *lines_obj = want_lines ? as_bytes(&lines) : (Py_INCREF(Py_None), Py_None);
    PyObject *new_obj = fresh ? (Py_INCREF(fresh), fresh) : PyLong_FromSsize_t(t->count - held);
    if (ids_bytes && lines_obj && new_obj) result = PyTuple_Pack(3, ids_bytes, new_obj, lines_obj);
    Py_XDECREF(ids_bytes);
    Py_XDECREF(lines_obj);
    Py_XDECREF(new_obj);
fail:
    if (!result && !PyErr_Occurred()) PyErr_NoMemory();
    free(ids.data);
    free(lines.data);
    Py_XDECREF(fresh);
    return result;
}

static Py_ssize_t ChunkTable_len(ChunkTable *t) { return t->count; }

static int ChunkTable_init(ChunkTable *t, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "", kwlist)) return -1;
    if (!t->slots && table_alloc_slots(t, 1 << 12) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void ChunkTable_dealloc(ChunkTable *t) {
    free(t->slots);
    free(t->offset);
    free(t->shift);
    free(t->arena);
    free(t->single);
    free(t->shorts);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

/* The str of n code points of ``kind`` at ``data``, the narrowest width that holds them (as every entry is
 * stored): a copy into a new str of that width, not PyUnicode_FromKindAndData, whose loads assume ``data``
 * aligned to its width (an entry's code points need not be: load_cp). */
static PyObject *stored_str(int kind, const void *data, Py_ssize_t n) {
    if (kind == PyUnicode_1BYTE_KIND) return PyUnicode_FromKindAndData(kind, data, n); /* ASCII or not: it looks */
    PyObject *s = PyUnicode_New(n, kind == PyUnicode_2BYTE_KIND ? 0xffff : 0x10ffff);
    if (s) memcpy(PyUnicode_DATA(s), data, (size_t)(n * kind));
    return s;
}

/* table[id] -> the entry's str (as it was added). */
static PyObject *entry_str(const ChunkTable *t, int64_t id) {
    return stored_str(1 << t->shift[id], t->arena + t->offset[id], entry_length(t, id));
}

static PyObject *ChunkTable_item(ChunkTable *t, Py_ssize_t id) {
    if (id < 0 || id >= t->count) {
        PyErr_SetString(PyExc_IndexError, "ChunkTable index out of range");
        return NULL;
    }
    return entry_str(t, id);
}

/* find(s) -> the id of ``s``, or -1 when the table does not hold it (nothing is added). */
static PyObject *ChunkTable_find(ChunkTable *t, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "find: a str is needed, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Py_UCS4 top;
    uint64_t h = fnv_top(kind, data, 0, n, &top); /* the hash alone */
    int64_t id;
    find_slot(t, kind, data, 0, n, &h, &id);
    return PyLong_FromLongLong(id);
}

/* strings(ids) -> list of the entries' str, for a buffer of int64 ids (a numpy array, bytes). */
static PyObject *ChunkTable_strings(ChunkTable *t, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % (Py_ssize_t)sizeof(int64_t)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "strings: ids must be int64");
        return NULL;
    }
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        int64_t id;
        memcpy(&id, (const char *)view.buf + i * (Py_ssize_t)sizeof(int64_t), sizeof id);
        PyObject *item = id >= 0 && id < t->count ? entry_str(t, id) : NULL;
        if (!item) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_IndexError, "strings: id %lld out of range", (long long)id);
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, item);
    }
    PyBuffer_Release(&view);
    return out;
}

/* Checks ``first`` against the table: the entries first, first + 1, ... are a batch of chunks. */
static int table_first(ChunkTable *t, PyObject *arg, const char *fn, Py_ssize_t *first) {
    *first = PyLong_AsSsize_t(arg);
    if (*first == -1 && PyErr_Occurred()) return -1;
    if (*first < 0 || *first > t->count) {
        PyErr_Format(PyExc_IndexError, "%s: first id %zd out of range (0..%zd)", fn, *first, t->count);
        return -1;
    }
    return 0;
}

/* columns(first) -> (length int64 bytes, isalpha uint8 bytes) of the entries first, first + 1, ...: the
 * vocabulary's per-token tables for its new tokens, read from the stored code points (``len`` and
 * ``str.isalpha`` of tokens that never became a str: ``jieba_tokens`` without a dict). */
static PyObject *ChunkTable_columns(ChunkTable *t, PyObject *arg) {
    Py_ssize_t first;
    if (table_first(t, arg, "columns", &first) < 0) return NULL;
    Py_ssize_t n = t->count - first;
    PyObject *lengths = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    PyObject *alpha = PyBytes_FromStringAndSize(NULL, n);
    if (!lengths || !alpha) {
        Py_XDECREF(lengths);
        Py_XDECREF(alpha);
        return NULL;
    }
    int64_t *l = (int64_t *)PyBytes_AS_STRING(lengths);
    unsigned char *a = (unsigned char *)PyBytes_AS_STRING(alpha);
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t id = first + i;
        Py_ssize_t len = entry_length(t, id);
        int kind = 1 << t->shift[id];
        const unsigned char *data = t->arena + t->offset[id];
        int is_alpha = len > 0; /* str.isalpha() */
        for (Py_ssize_t j = 0; j < len && is_alpha; j++) is_alpha = Py_UNICODE_ISALPHA(load_cp(kind, data, j));
        l[i] = len;
        a[i] = (unsigned char)is_alpha;
    }
    return Py_BuildValue("NN", lengths, alpha);
}

/* nbytes -> the bytes the table has allocated (slots, per-entry offsets and widths, text arena). */
static PyObject *ChunkTable_nbytes(ChunkTable *t, void *closure) {
    size_t n = (t->mask + 1) * sizeof(uint64_t) + (size_t)t->id_cap * (sizeof(int64_t) + 1) +
               (t->offset ? sizeof(int64_t) : 0) + (size_t)t->arena_cap +
               (t->single ? (SINGLE_HI - SINGLE_LO) * sizeof(uint32_t) : 0) +
               (t->shorts ? SHORT_SLOTS * (sizeof(uint64_t) + sizeof(uint32_t)) : 0);
    return PyLong_FromSize_t(t->slots ? n : 0);
}

static PyObject *ChunkTable_han_runs(ChunkTable *t, PyObject *arg);
static PyObject *ChunkTable_han_ucs4(ChunkTable *t, PyObject *arg);

/* chars(first) -> the code points of the entries first, first + 1, ... together. */
static PyObject *ChunkTable_chars(ChunkTable *t, PyObject *arg) {
    Py_ssize_t first;
    if (table_first(t, arg, "chars", &first) < 0) return NULL;
    Py_ssize_t total = 0;
    for (Py_ssize_t id = first; id < t->count; id++) total += entry_length(t, id);
    return PyLong_FromSsize_t(total);
}

static PyMethodDef ChunkTable_methods[] = {
    {"lookup", (PyCFunction)ChunkTable_lookup, METH_VARARGS,
     "lookup(text, lines=False, strings=True, keep='') -> (ids: bytes of int64, new chunks: list[str] (their "
     "number without strings), chunks per line: bytes | None); keep: whitespace that does not end a chunk"},
    {"find", (PyCFunction)ChunkTable_find, METH_O, "find(s) -> id of s, or -1 when not held (adds nothing)"},
    {"strings", (PyCFunction)ChunkTable_strings, METH_O, "strings(int64 ids) -> list of the entries' str"},
    {"columns", (PyCFunction)ChunkTable_columns, METH_O,
     "columns(first) -> (length int64 bytes, isalpha uint8 bytes) of the entries from id first on"},
    {"han_runs", (PyCFunction)ChunkTable_han_runs, METH_O,
     "han_runs(first) -> the Han runs of the entries from id first on, joined by newlines"},
    {"han_ucs4", (PyCFunction)ChunkTable_han_ucs4, METH_O,
     "han_ucs4(first) -> (UCS4 bytes, int32 bytes): the Han runs of the entries from id first on and their lengths"},
    {"chars", (PyCFunction)ChunkTable_chars, METH_O, "chars(first) -> code points of the entries from id first on"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ChunkTable_getset[] = {
    {"nbytes", (getter)ChunkTable_nbytes, NULL, "bytes allocated by the table", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods ChunkTable_as_sequence = {.sq_length = (lenfunc)ChunkTable_len,
                                                   .sq_item = (ssizeargfunc)ChunkTable_item};

static PyTypeObject ChunkTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pipeline.filters._chunks.ChunkTable",
    .tp_doc = "Whitespace chunk -> consecutive id, for str.split() chunks of many texts.",
    .tp_basicsize = sizeof(ChunkTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)ChunkTable_init,
    .tp_dealloc = (destructor)ChunkTable_dealloc,
    .tp_methods = ChunkTable_methods,
    .tp_getset = ChunkTable_getset,
    .tp_as_sequence = &ChunkTable_as_sequence,
};

/* intern_split(split, table): the token ids of a batch of newly split chunks (split: a list of tuples of
 * str), in one pass, from the ChunkTable ``table`` (each token not in it yet added with the next id):
 * (token ids of every chunk concatenated, int64 bytes; tokens per chunk, int64 bytes; the new tokens in
 * first-seen order). Why: a dict holds each distinct token as a str object, an int
 * object and its entry (~130 bytes for a short word, beside the list of tokens by id); the table holds its
 * code points and 8-24 bytes (the vocabulary's memory, issue 19). Each token costs one FNV pass and one
 * probe, about what the dict's string hash and lookup cost. */
static PyObject *intern_split(PyObject *self, PyObject *args) {
    PyObject *split, *table;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &split, &ChunkTableType, &table)) return NULL;
    ChunkTable *tt = (ChunkTable *)table;
    Py_ssize_t n_chunks = PyList_GET_SIZE(split), total = 0;
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        PyObject *t = PyList_GET_ITEM(split, i);
        if (!PyTuple_Check(t)) {
            PyErr_Format(PyExc_TypeError, "intern_split: chunk %zd: tokens must be a tuple of str, not %.100s",
                         i, Py_TYPE(t)->tp_name);
            return NULL;
        }
        total += PyTuple_GET_SIZE(t);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(int64_t));
    PyObject *counts = PyBytes_FromStringAndSize(NULL, n_chunks * (Py_ssize_t)sizeof(int64_t));
    PyObject *fresh = PyList_New(0);
    if (!out || !counts || !fresh) goto fail;
    int64_t *o = (int64_t *)PyBytes_AS_STRING(out), *c = (int64_t *)PyBytes_AS_STRING(counts);
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        PyObject *t = PyList_GET_ITEM(split, i);
        Py_ssize_t n = PyTuple_GET_SIZE(t);
        c[i] = n;
        for (Py_ssize_t j = 0; j < n; j++) {
            PyObject *w = PyTuple_GET_ITEM(t, j);
            if (!PyUnicode_CheckExact(w)) {
                PyErr_Format(PyExc_TypeError, "intern_split: chunk %zd, token %zd is a %.100s, not a str", i, j,
                             Py_TYPE(w)->tp_name);
                goto fail;
            }
            int kind = PyUnicode_KIND(w);
            const void *data = PyUnicode_DATA(w);
            Py_ssize_t len = PyUnicode_GET_LENGTH(w);
            Py_UCS4 top;
            uint64_t h = fnv_top(kind, data, 0, len, &top);
            int64_t id = chunk_id(tt, kind, data, 0, len, h, fresh, top);
            if (id < 0) goto fail;
            o[k++] = id;
        }
    }
    return Py_BuildValue("NNN", out, counts, fresh);
fail:
    Py_XDECREF(out);
    Py_XDECREF(counts);
    Py_XDECREF(fresh);
    return NULL;
}

/* ---- Chinese: jieba's words of new chunks without a Python step per word (pipeline.filters.segment) ----
 *
 * Why: a Chinese chunk is a clause that rarely repeats, so nearly every chunk of a document is new and
 * goes through the segmenter. rjieba cuts all Han runs of a batch in one call (``han_runs`` joins them);
 * putting its words back into their chunks with regexes and string joins, building a tuple of str per
 * chunk and interning every token cost more than jieba's own cut. ``jieba_tokens`` walks the chunks once:
 * each run's words are the next words of the cut, every character between runs is a word of its own, and
 * every token is interned as it is found. A run: a maximal run of is_jieba_run characters (_unicode.h: Han,
 * ASCII letters, digits and +#&._%-, the ``segment.JIEBA_RUN`` class), so that jieba's dictionary words across
 * ASCII and Han ("T恤", "C++") and its cut of ASCII ("/dev/md1": "/", "dev", "/", "md1") are found as
 * datatrove's jieba finds them on the whole text (branch zhmix47; before, a run held Han only and a chunk
 * without Han went to the whitespace splitter). */

static int check_str_list(PyObject *list, const char *fn, const char *what) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *s = PyList_GET_ITEM(list, i);
        if (!PyUnicode_CheckExact(s)) {
            PyErr_Format(PyExc_TypeError, "%s: %s %zd is a %.100s, not a str", fn, what, i, Py_TYPE(s)->tp_name);
            return -1;
        }
    }
    return 0;
}

/* Where the chunks of a batch come from: a list of str, or the entries ``first``, ``first + 1``, ... of a
 * ChunkTable (the new chunks of ``lookup(text, lines, False)``, which never became str). */
typedef struct {
    PyObject *list;
    ChunkTable *table;
    Py_ssize_t first, count;
} Source;

static inline void source_get(const Source *src, Py_ssize_t i, int *kind, const void **data, Py_ssize_t *n) {
    if (src->list) {
        PyObject *chunk = PyList_GET_ITEM(src->list, i);
        *kind = PyUnicode_KIND(chunk);
        *data = PyUnicode_DATA(chunk);
        *n = PyUnicode_GET_LENGTH(chunk);
    } else {
        int64_t id = src->first + i;
        *kind = 1 << src->table->shift[id];
        *data = src->table->arena + src->table->offset[id];
        *n = entry_length(src->table, id);
    }
}

/* Every maximal run (is_jieba_run: Han and jieba's ASCII) of the source's chunks, in order, joined by "\n" ("" when
 * none). */
static PyObject *source_han_runs(const Source *src) {
    Py_ssize_t total = 0, n_runs = 0;
    Py_UCS4 top = '\n';
    for (int pass = 0; pass < 2; pass++) {
        PyObject *out = NULL;
        int okind = 0;
        void *odata = NULL;
        Py_ssize_t k = 0;
        if (pass) {
            if (!n_runs) return PyUnicode_New(0, 0);
            out = PyUnicode_New(total + n_runs - 1, top); /* top: the largest character written */
            if (!out) return NULL;
            okind = PyUnicode_KIND(out);
            odata = PyUnicode_DATA(out);
        }
        for (Py_ssize_t i = 0; i < src->count; i++) {
            int kind;
            const void *data;
            Py_ssize_t n;
            source_get(src, i, &kind, &data, &n);
            int in_run = 0;
            for (Py_ssize_t j = 0; j < n; j++) {
                Py_UCS4 c = load_cp(kind, data, j);
                if (!is_jieba_run(c)) {
                    in_run = 0;
                } else if (pass) {
                    if (!in_run && k) PyUnicode_WRITE(okind, odata, k++, '\n');
                    in_run = 1;
                    PyUnicode_WRITE(okind, odata, k++, c);
                } else {
                    n_runs += !in_run;
                    in_run = 1;
                    total++;
                    if (c > top) top = c;
                }
            }
        }
        if (pass) return out;
    }
    return NULL; /* not reached */
}

/* han_runs(chunks) -> str: every maximal run (is_jieba_run) of every chunk, in order, joined by "\n" ("" when none). */
static PyObject *han_runs(PyObject *self, PyObject *args) {
    PyObject *chunks;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &chunks)) return NULL;
    if (check_str_list(chunks, "han_runs", "chunk") < 0) return NULL;
    Source src = {chunks, NULL, 0, PyList_GET_SIZE(chunks)};
    return source_han_runs(&src);
}

/* ChunkTable.han_runs(first) -> str: han_runs of the entries from id ``first`` on, without a str per entry. */
static PyObject *ChunkTable_han_runs(ChunkTable *t, PyObject *arg) {
    Py_ssize_t first;
    if (table_first(t, arg, "han_runs", &first) < 0) return NULL;
    Source src = {NULL, t, first, t->count - first};
    return source_han_runs(&src);
}

/* Appends the run characters (is_jieba_run) of one entry to out[*k...] and the length of each of its maximal runs to
 * ``runs``. -1 when out of memory. */
ALWAYS_INLINE int gather_han(int kind, const void *data, Py_ssize_t n, Py_UCS4 *out, Py_ssize_t *k, Buf *runs) {
    Py_ssize_t at = *k, w = *k; /* a local count: the compiler cannot tell that *k is not out[j] */
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_UCS4 c = load_cp(kind, data, j);
        if (is_jieba_run(c)) {
            out[w++] = c;
        } else if (w > at) {
            if (buf_push(runs, w - at) < 0) return -1;
            at = w;
        }
    }
    if (w > at && buf_push(runs, w - at) < 0) return -1; /* the run that ends the entry */
    *k = w;
    return 0;
}

/* ChunkTable.han_ucs4(first) -> (UCS4 bytes, int32 bytes): the code points of every maximal run (is_jieba_run) of the
 * entries from id ``first`` on, concatenated, and the runs' lengths: what ``_jieba.cut_ucs4`` cuts, as
 * ``_jieba.cut_runs`` cuts the chunks (one pass, one loop per width; no str of the runs). */
static PyObject *ChunkTable_han_ucs4(ChunkTable *t, PyObject *arg) {
    Py_ssize_t first, bound = 0;
    if (table_first(t, arg, "han_ucs4", &first) < 0) return NULL;
    for (Py_ssize_t id = first; id < t->count; id++) bound += entry_length(t, id);
    PyObject *text = PyBytes_FromStringAndSize(NULL, bound * (Py_ssize_t)sizeof(Py_UCS4));
    Buf runs = {0};
    if (!text) return NULL;
    Py_UCS4 *out = (Py_UCS4 *)PyBytes_AS_STRING(text);
    Py_ssize_t k = 0;
    for (Py_ssize_t id = first; id < t->count; id++) {
        Py_ssize_t n = entry_length(t, id);
        const unsigned char *data = t->arena + t->offset[id];
        int failed = 0; /* one call per width with a constant kind: each inlines into its own loop */
        if (t->shift[id] == 1) failed = gather_han(PyUnicode_2BYTE_KIND, data, n, out, &k, &runs);
        else if (t->shift[id] == 2) failed = gather_han(PyUnicode_4BYTE_KIND, data, n, out, &k, &runs);
        else failed = gather_han(PyUnicode_1BYTE_KIND, data, n, out, &k, &runs);
        if (failed) goto nomem;
    }
    if (_PyBytes_Resize(&text, k * (Py_ssize_t)sizeof(Py_UCS4)) < 0) {
        free(runs.data);
        return NULL;
    }
    PyObject *lengths = PyBytes_FromStringAndSize(NULL, runs.len * (Py_ssize_t)sizeof(int32_t));
    if (lengths) {
        int32_t *l = (int32_t *)PyBytes_AS_STRING(lengths);
        for (Py_ssize_t r = 0; r < runs.len; r++) l[r] = (int32_t)runs.data[r];
    }
    free(runs.data);
    if (!lengths) {
        Py_DECREF(text);
        return NULL;
    }
    return Py_BuildValue("NN", text, lengths);
nomem:
    free(runs.data);
    Py_DECREF(text);
    return PyErr_NoMemory();
}

/* The id of the token text[start:end] in the token table ``t`` (a ChunkTable: consecutive ids in
 * first-seen order), pushed to ``out``. Where a dict ``ids`` (str -> id, a view from Python) is kept, a token
 * never seen becomes a str, appended to ``fresh`` and added to the dict with its id; without one (``ids``
 * and ``fresh`` NULL, what the vocabulary passes) no str is made: the table holds its code points. Why a
 * table over code points and not the dict alone: a token from rjieba or a piece of a chunk is a new str
 * object, so a dict lookup hashes it with SipHash first; most tokens were seen before, and here they cost
 * an FNV pass over a few code points and no str at all. */
ALWAYS_INLINE int intern_range(ChunkTable *t, PyObject *ids, int kind, const void *data, Py_ssize_t start,
                              Py_ssize_t end, PyObject *fresh, Buf *out) {
    Py_UCS4 c = end - start == 1 ? load_cp(kind, data, start) : 0;
    int single = c >= SINGLE_LO && c < SINGLE_HI; /* a one-character token the direct table covers */
    if (single && t->single && t->single[c - SINGLE_LO]) {
        if (buf_push(out, (int64_t)t->single[c - SINGLE_LO] - 1) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        return 0;
    }
    Py_UCS4 top;
    uint64_t h = fnv_top(kind, data, start, end, &top);
    Py_ssize_t before = t->count;
    int64_t id = chunk_id(t, kind, data, start, end, h, fresh, top);
    if (id < 0) return -1;
    if (single) {
        if (!t->single && !(t->single = calloc(SINGLE_HI - SINGLE_LO, sizeof(uint32_t)))) {
            PyErr_NoMemory();
            return -1;
        }
        t->single[c - SINGLE_LO] = (uint32_t)(id + 1); /* ids fit 32 bits (table_add_chunk) */
    }
    if (ids && t->count > before) { /* new: mirror it in the dict (when one is kept) */
        PyObject *py_id = PyLong_FromLongLong(id);
        if (!py_id) return -1;
        int bad = PyDict_SetItem(ids, PyList_GET_ITEM(fresh, PyList_GET_SIZE(fresh) - 1), py_id) < 0;
        Py_DECREF(py_id);
        if (bad) return -1;
    }
    if (buf_push(out, id) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* A token the probe did not find (or a one-character one the direct table does not hold yet): intern_range out of
 * line, so that the loop of intern_run_ucs2 keeps its values in registers. */
static __attribute__((noinline)) int intern_slow_ucs2(ChunkTable *t, const unsigned char *p, Py_ssize_t len, Buf *out) {
    return intern_range(t, NULL, PyUnicode_2BYTE_KIND, p, 0, len, NULL, out);
}

/* The ids of the words of a Han run of a UCS-2 text, the n code points at p (load_cp), where no dict is kept: ``lengths`` holds the next
 * ``avail`` word lengths of the cut; they are taken while they fit the run (> 0, within it), the number taken is
 * returned (-1 on error) and the characters they cover go to *got (the caller reports words that do not fit).
 * Why a loop of its own: inlined into jieba_chunk's loop, a word of two or more characters cost ~100
 * instructions, ~40 of them loads and stores of values kept on the stack and per-word checks of ``out``'s room,
 * reserved here once. One-character words come from the direct table, two to four characters from the cache of
 * short words (SHORT_BITS), others and misses from find_slot, new words from intern_range (issue 13, tenth
 * pass; kept out of line with ``noinline`` it cost more: 14.3 M instructions on zhwiki against 14.0 M). */
static Py_ssize_t intern_run_ucs2(ChunkTable *t, const unsigned char *p, Py_ssize_t n, const int32_t *lengths,
                                  Py_ssize_t avail, Buf *out, Py_ssize_t *got) {
    if (!t->shorts && !(t->shorts = calloc(SHORT_SLOTS, sizeof(uint64_t) + sizeof(uint32_t))))
        return PyErr_NoMemory(), -1;
    Py_ssize_t most = avail < n ? avail : n; /* every word holds a character at least */
    while (out->cap - out->len < most)
        if (buf_grow(out) < 0) return PyErr_NoMemory(), -1;
    uint64_t *keys = t->shorts;
    uint32_t *short_ids = (uint32_t *)(keys + SHORT_SLOTS);
    int64_t *dst = out->data + out->len;
    Py_ssize_t k = 0, at = 0;
    for (; k < most; k++) {
        Py_ssize_t len = lengths[k];
        if (len <= 0 || len > n - at) break;
        const unsigned char *q = p + 2 * at;
        at += len;
        size_t s = 0;
        uint64_t key = 0;
        Py_UCS4 q0 = load_cp(PyUnicode_2BYTE_KIND, q, 0);
        if (len == 1) {
            if (q0 >= SINGLE_LO && t->single && t->single[q0 - SINGLE_LO]) {
                *dst++ = (int64_t)t->single[q0 - SINGLE_LO] - 1;
                continue;
            }
        } else if (len <= 4) {
            key = q0 | (uint64_t)load_cp(PyUnicode_2BYTE_KIND, q, 1) << 16;
            if (len > 2) key |= (uint64_t)load_cp(PyUnicode_2BYTE_KIND, q, 2) << 32;
            if (len > 3) key |= (uint64_t)load_cp(PyUnicode_2BYTE_KIND, q, 3) << 48;
            s = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - SHORT_BITS));
            if (keys[s] == key) {
                *dst++ = short_ids[s];
                continue;
            }
            uint64_t h = 0xcbf29ce484222325ULL;
            for (Py_ssize_t i = 0; i < len; i++) h = (h ^ load_cp(PyUnicode_2BYTE_KIND, q, i)) * 0x100000001b3ULL;
            int64_t id;
            find_slot(t, PyUnicode_2BYTE_KIND, q, 0, len, &h, &id);
            if (id >= 0) {
                keys[s] = key;
                short_ids[s] = (uint32_t)id; /* ids fit 32 bits (table_add_chunk) */
                *dst++ = id;
                continue;
            }
        }
        out->len = dst - out->data; /* new (or longer than four characters): intern_range pushes its id */
        if (intern_slow_ucs2(t, q, len, out) < 0) return -1;
        dst = out->data + out->len;
        if (key) {
            keys[s] = key;
            short_ids[s] = (uint32_t)dst[-1];
        }
    }
    out->len = dst - out->data;
    *got = at;
    return k;
}

static inline int ascii_alnum(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline int jieba_symbol(Py_UCS4 c) {
    return c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' || c == '-';
}

/* The state of one interning of jieba's words over a batch of chunks. */
typedef struct {
    ChunkTable *tt;           /* the token table */
    PyObject *ids, *fresh;    /* the dict kept in step and its new tokens' str, or both NULL */
    PyObject *words;          /* rjieba's words (a list of str), or NULL where ``lengths`` */
    const int32_t *lengths;   /* the compiled cut's word lengths */
    Py_ssize_t n_words, w, runs;
    Buf flat;
} JiebaState;

/* The tokens of chunk ``i`` (data[0:n]) into the state's ids. Inlined once per kind
 * (``jieba_chunk``) with ``kind`` a constant: the Han scans, the hash, the probe's compare and the one-character
 * table then read code points without a switch on the kind (issue 13, tenth pass). */
ALWAYS_INLINE int jieba_chunk_of(JiebaState *st, int kind, const void *data, Py_ssize_t n, Py_ssize_t i) {
    Py_ssize_t j = 0;
    while (j < n) {
        Py_UCS4 c = load_cp(kind, data, j);
        if (!is_jieba_run(c)) { /* a word of its own, as in jieba */
            if (intern_range(st->tt, st->ids, kind, data, j, j + 1, st->fresh, &st->flat) < 0) return -1;
            j++;
            continue;
        }
        Py_ssize_t e = j + 1;
        while (e < n && is_jieba_run(load_cp(kind, data, e))) e++;
        if (st->runs++ && !st->lengths) { /* the separator rjieba returns between two runs */
            PyObject *sep = st->w < st->n_words ? PyList_GET_ITEM(st->words, st->w) : NULL;
            if (!sep || PyUnicode_GET_LENGTH(sep) != 1 || PyUnicode_READ_CHAR(sep, 0) != '\n') {
                PyErr_Format(PyExc_ValueError, "jieba_tokens: word %zd should be the run separator \"\\n\" "
                             "(are the words rjieba's cut of han_runs(chunks)?)", st->w);
                return -1;
            }
            st->w++;
        }
        Py_ssize_t got = 0;
        if (st->lengths && kind == PyUnicode_2BYTE_KIND && !st->ids) { /* the run's words in a loop of their own */
            Py_ssize_t taken = intern_run_ucs2(st->tt, (const unsigned char *)data + 2 * j, e - j, st->lengths + st->w,
                                               st->n_words - st->w, &st->flat, &got);
            if (taken < 0) return -1;
            st->w += taken;
        }
        if (st->lengths) { /* the compiled cut's lengths: no word str to check, the loop without its branches */
            const int32_t *lengths = st->lengths;
            Py_ssize_t w = st->w;
            while (got < e - j) {
                if (w >= st->n_words) break; /* reported below */
                Py_ssize_t len = lengths[w];
                if (len <= 0 || got + len > e - j) break;
                w++;
                if (intern_range(st->tt, st->ids, kind, data, j + got, j + got + len, st->fresh, &st->flat) < 0) {
                    st->w = w;
                    return -1;
                }
                got += len;
            }
            st->w = w;
        }
        while (got < e - j) {
            if (st->w >= st->n_words) {
                PyErr_Format(PyExc_ValueError, "jieba_tokens: the words end inside Han run %zd (chunk %zd)",
                             st->runs - 1, i);
                return -1;
            }
            PyObject *word = st->lengths ? NULL : PyList_GET_ITEM(st->words, st->w);
            Py_ssize_t len = st->lengths ? st->lengths[st->w] : PyUnicode_GET_LENGTH(word);
            st->w++;
            if (len <= 0 || got + len > e - j ||
                (word && PyUnicode_READ_CHAR(word, 0) != load_cp(kind, data, j + got))) {
                PyErr_Format(PyExc_ValueError, "jieba_tokens: word %zd is not the text of chunk %zd at %zd "
                             "(are the words rjieba's cut of han_runs(chunks)?)", st->w - 1, i, j + got);
                return -1;
            }
            if (intern_range(st->tt, st->ids, kind, data, j + got, j + got + len, st->fresh, &st->flat) < 0) return -1;
            got += len;
        }
        j = e;
    }
    return 0;
}

static int jieba_chunk(JiebaState *st, int kind, const void *data, Py_ssize_t n, Py_ssize_t i) {
    if (kind == PyUnicode_2BYTE_KIND) return jieba_chunk_of(st, PyUnicode_2BYTE_KIND, data, n, i);
    if (kind == PyUnicode_1BYTE_KIND) return jieba_chunk_of(st, PyUnicode_1BYTE_KIND, data, n, i);
    return jieba_chunk_of(st, PyUnicode_4BYTE_KIND, data, n, i);
}

/* The two forms of ``words`` (jieba_tokens, jieba_entry_tokens): rjieba's words (a list of str) or the compiled
 * cut's lengths (int32 bytes); else a TypeError. jieba_tokens checks it before its chunks, jieba_intern for
 * both callers. */
static int check_words_type(PyObject *words) {
    if (PyBytes_Check(words) || PyList_Check(words)) return 0;
    PyErr_Format(PyExc_TypeError, "jieba_tokens: words must be a list or int32 bytes, not %.100s",
                 Py_TYPE(words)->tp_name);
    return -1;
}

/* The interning of jieba's words over the source's chunks: (token ids, tokens per chunk, new tokens: their
 * str where a dict is kept, else their number). */
static PyObject *jieba_intern(const Source *src, PyObject *words, ChunkTable *tt, PyObject *ids) {
    JiebaState st = {tt, ids, NULL, NULL, NULL, 0, 0, 0, {0}};
    if (check_words_type(words) < 0) return NULL;
    if (PyBytes_Check(words)) {
        if (PyBytes_GET_SIZE(words) % sizeof(int32_t)) {
            PyErr_SetString(PyExc_ValueError, "jieba_tokens: word lengths must be int32 bytes");
            return NULL;
        }
        st.lengths = (const int32_t *)PyBytes_AS_STRING(words);
        st.n_words = PyBytes_GET_SIZE(words) / (Py_ssize_t)sizeof(int32_t);
    } else { /* a list */
        if (check_str_list(words, "jieba_tokens", "word") < 0) return NULL;
        st.words = words;
        st.n_words = PyList_GET_SIZE(words);
    }
    if (ids && tt->count != PyDict_GET_SIZE(ids)) {
        PyErr_Format(PyExc_ValueError, "jieba_tokens: the token table holds %zd tokens and the dict %zd: "
                     "they must be filled together", tt->count, PyDict_GET_SIZE(ids));
        return NULL;
    }
    PyObject *counts = PyBytes_FromStringAndSize(NULL, src->count * (Py_ssize_t)sizeof(int64_t));
    st.fresh = ids ? PyList_New(0) : NULL; /* without a dict: no str per new token */
    Py_ssize_t held = tt->count;
    PyObject *result = NULL;
    if (!counts || (ids && !st.fresh)) goto done;
    int64_t *per_chunk = (int64_t *)PyBytes_AS_STRING(counts);
    for (Py_ssize_t i = 0; i < src->count; i++) {
        int kind;
        const void *data;
        Py_ssize_t n, before = st.flat.len;
        source_get(src, i, &kind, &data, &n);
        if (jieba_chunk(&st, kind, data, n, i) < 0) goto done;
        per_chunk[i] = st.flat.len - before;
    }
    if (st.w != st.n_words) {
        PyErr_Format(PyExc_ValueError, "jieba_tokens: %zd words left over after the last Han run", st.n_words - st.w);
        goto done;
    }
    PyObject *flat_bytes = as_bytes(&st.flat);
    if (flat_bytes && st.fresh) result = Py_BuildValue("NOO", flat_bytes, counts, st.fresh);
    else if (flat_bytes) result = Py_BuildValue("NOn", flat_bytes, counts, tt->count - held);
done:
    free(st.flat.data);
    Py_XDECREF(counts);
    Py_XDECREF(st.fresh);
    return result;
}

/* jieba_tokens(chunks, words, table, ids) -> (token ids int64 bytes, tokens per chunk int64 bytes, new tokens):
 * as intern_split over ``segment.jieba_split_many(chunks)``, with ``table`` (a ChunkTable of tokens) assigning the
 * ids and ``ids`` (a dict, in step with it) receiving the new tokens, or None (no dict: the vocabulary finds its
 * tokens in the table; a dict entry per new token was about 3 % of the Chinese word chain). With None, "new
 * tokens" is their number (they hold the table's last ids; ``ChunkTable.columns`` and ``strings`` read them): no
 * str per new token (issue 13, ~30 instructions per Chinese character). ``words``: rjieba's cut of
 * ``han_runs(chunks)``, whose runs it must give back in order, "\n" between two; only their lengths are read (a
 * word is the run's next characters), after a check of its first character. Or ``words`` is bytes of int32, the
 * word lengths of every run in order, no separator (``_jieba.cut_runs(chunks)``: no str per word at all). Every
 * character outside the runs is a token of its own. */
static PyObject *jieba_tokens(PyObject *self, PyObject *args) {
    PyObject *chunks, *words, *table, *ids;
    if (!PyArg_ParseTuple(args, "O!OO!O", &PyList_Type, &chunks, &words, &ChunkTableType, &table, &ids)) return NULL;
    if (ids == Py_None) {
        ids = NULL; /* no dict: the table alone holds the tokens */
    } else if (!PyDict_Check(ids)) {
        PyErr_Format(PyExc_TypeError, "jieba_tokens: ids must be a dict or None, not %.100s", Py_TYPE(ids)->tp_name);
        return NULL;
    }
    if (check_words_type(words) < 0 || check_str_list(chunks, "jieba_tokens", "chunk") < 0) return NULL;
    Source src = {chunks, NULL, 0, PyList_GET_SIZE(chunks)};
    return jieba_intern(&src, words, (ChunkTable *)table, ids);
}

/* jieba_entry_tokens(chunk_table, first, words, table) -> (token ids int64 bytes, tokens per chunk int64 bytes,
 * number of new tokens): ``jieba_tokens(chunks, words, table, None)`` of the chunks ``chunk_table[first:]``, read
 * from the chunk table's stored code points: the vocabulary's new chunks of ``lookup(text, lines, False)``, which
 * never became str (issue 13: a str per new chunk, ~36 instructions per Chinese character with the list).
 * ``words``: the cut of ``chunk_table.han_runs(first)`` (its rjieba words, or the compiled cut's lengths). */
static PyObject *jieba_entry_tokens(PyObject *self, PyObject *args) {
    PyObject *chunk_table, *first_obj, *words, *table;
    if (!PyArg_ParseTuple(args, "O!OOO!", &ChunkTableType, &chunk_table, &first_obj, &words, &ChunkTableType, &table))
        return NULL;
    if (chunk_table == table) { /* adding tokens would move the arena the chunks are read from */
        PyErr_SetString(PyExc_ValueError, "jieba_entry_tokens: the chunk table and the token table must differ");
        return NULL;
    }
    ChunkTable *ct = (ChunkTable *)chunk_table;
    Py_ssize_t first;
    if (table_first(ct, first_obj, "jieba_entry_tokens", &first) < 0) return NULL;
    Source src = {NULL, ct, first, ct->count - first};
    return jieba_intern(&src, words, (ChunkTable *)table, NULL);
}

/* letter_runs(lines) -> int64 bytes: per line, its maximal Han runs that hold an ideograph assigned since
 * Unicode 3.0 (U+3400-U+4DB5, U+4E00-U+9FA5: letters), a lower bound of its jieba words that are not
 * symbols (c4._letter_runs, which this replaces without a str per run). */
static PyObject *letter_runs(PyObject *self, PyObject *args) {
    PyObject *lines;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &lines)) return NULL;
    if (check_str_list(lines, "letter_runs", "line") < 0) return NULL;
    Py_ssize_t n_lines = PyList_GET_SIZE(lines);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n_lines * (Py_ssize_t)sizeof(int64_t));
    if (!out) return NULL;
    int64_t *o = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        int kind = PyUnicode_KIND(line);
        const void *data = PyUnicode_DATA(line);
        Py_ssize_t n = PyUnicode_GET_LENGTH(line);
        int64_t count = 0;
        int in_run = 0, lettered = 0;
        if (kind != PyUnicode_1BYTE_KIND) {
            for (Py_ssize_t j = 0; j <= n; j++) {
                Py_UCS4 c = j < n ? load_cp(kind, data, j) : 0;
                if (j < n && is_han(c)) {
                    in_run = 1;
                    lettered |= (c >= 0x4e00 && c <= 0x9fa5) || (c >= 0x3400 && c <= 0x4db5);
                } else if (in_run) {
                    count += lettered;
                    in_run = lettered = 0;
                }
            }
        }
        o[i] = count;
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"intern_split", intern_split, METH_VARARGS,
     "intern_split(split, table) -> (ids int64 bytes, tokens per chunk int64 bytes, new tokens): token ids of "
     "newly split chunks from the ChunkTable table (new tokens added to it with the next ids)"},
    {"han_runs", han_runs, METH_VARARGS, "han_runs(chunks) -> the Han runs of the chunks joined by newlines"},
    {"jieba_entry_tokens", jieba_entry_tokens, METH_VARARGS,
     "jieba_entry_tokens(chunk_table, first, words, table) -> jieba_tokens of chunk_table[first:] (no dict), read "
     "from the chunk table"},
    {"jieba_tokens", jieba_tokens, METH_VARARGS,
     "jieba_tokens(chunks, words, table, ids) -> as intern_split over jieba's words of the chunks, "
     "``words`` being rjieba's cut of han_runs(chunks) or _jieba.cut_runs(chunks), ids from the ChunkTable ``table``"},
    {"letter_runs", letter_runs, METH_VARARGS,
     "letter_runs(lines) -> int64 bytes: Han runs with an assigned ideograph, per line"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "_chunks",
                                    .m_doc = "Whitespace chunk ids of texts, compiled.", .m_size = -1,
                                    .m_methods = module_methods};

PyMODINIT_FUNC PyInit__chunks(void) {
    if (PyType_Ready(&ChunkTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&ChunkTableType);
    if (PyModule_AddObject(m, "ChunkTable", (PyObject *)&ChunkTableType) < 0) {
        Py_DECREF(&ChunkTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
