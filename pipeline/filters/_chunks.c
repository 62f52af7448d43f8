/* Whitespace chunk ids of a text in one compiled pass: the front half of pipeline.filters.words.
 *
 * Why C: the word filters map every whitespace-separated chunk of a document to an id of a process-wide
 * vocabulary. In Python that is ``text.split()`` (one new str object per chunk) followed by one dict
 * lookup per chunk, and a Python ``__missing__`` call per chunk never seen; together about half of the
 * word splitting's time. Here one scan over the str's code points finds the chunks exactly as
 * ``str.split()`` does (``Py_UNICODE_ISSPACE``), hashes each one in place and looks it up in an
 * open-addressing table; only chunks never seen before become str objects (handed back to Python, which
 * splits them into tokens once). The same scan counts the chunks of every line of ``str.splitlines()``
 * (``Py_UNICODE_ISLINEBREAK``, "\r\n" one break), which C4's line rules need.
 *
 *   table = ChunkTable()
 *   ids, new, per_line = table.lookup(text, lines)   # ids: bytes of int64, one per chunk;
 *                                                     # new: the chunks seen for the first time, in id order;
 *                                                     # per_line: bytes of int64 per splitlines() line,
 *                                                     # or None unless ``lines``
 *   len(table)                                        # distinct chunks so far
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Why so compact: a vocabulary holds up to MAX_CHUNKS (500,000) distinct chunks per process, and its
 * tokens in a second table, and every byte per entry is a byte of every filter worker's resident set
 * (issue 19: "peak RSS per worker flat"). A slot is 8 bytes: the top 32 bits of the entry's hash (which
 * also pick its home slot, so the table grows without rehashing any text) beside its id + 1 (0: empty).
 * Each entry's code points are stored at the narrowest width that holds them (1, 2 or 4 bytes, as CPython's
 * str does), so an ASCII word costs its length in bytes, not four times it. */
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
} ChunkTable;

/* A growable int64 buffer for the per-call outputs. */
typedef struct {
    int64_t *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_push(Buf *b, int64_t v) {
    if (b->len == b->cap) {
        Py_ssize_t cap = b->cap ? 2 * b->cap : 256;
        int64_t *grown = realloc(b->data, cap * sizeof(int64_t));
        if (!grown) return -1;
        b->data = grown;
        b->cap = cap;
    }
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

/* The largest code point of data[start:start + len], one loop per kind (PyUnicode_READ's switch on the kind
 * inside the loop was most of the cost of adding a chunk: nearly every Chinese chunk is new). */
static Py_UCS4 range_top(int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    Py_UCS4 top = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = (const Py_UCS1 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) top = p[i] > top ? p[i] : top;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *p = (const Py_UCS2 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) top = p[i] > top ? p[i] : top;
    } else {
        const Py_UCS4 *p = (const Py_UCS4 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) top = p[i] > top ? p[i] : top;
    }
    return top;
}

/* Copies data[start:start + len] (of ``kind``) to ``dst`` at 1 << ``shift`` bytes per code point, which holds
 * every one of them (the range's top decides the shift): a memcpy where the widths agree. */
static void copy_range(unsigned char *dst, int shift, int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    if ((1 << shift) == kind) {
        memcpy(dst, (const unsigned char *)data + start * kind, (size_t)(len * kind));
    } else if (shift == 0 && kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *p = (const Py_UCS2 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) dst[i] = (Py_UCS1)p[i];
    } else if (shift == 0) {
        const Py_UCS4 *p = (const Py_UCS4 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) dst[i] = (Py_UCS1)p[i];
    } else if (shift == 1) {
        const Py_UCS4 *p = (const Py_UCS4 *)data + start;
        for (Py_ssize_t i = 0; i < len; i++) ((Py_UCS2 *)dst)[i] = (Py_UCS2)p[i];
    } else { /* a narrower text never needs 4 bytes */
        for (Py_ssize_t i = 0; i < len; i++) ((Py_UCS4 *)dst)[i] = PyUnicode_READ(kind, data, start + i);
    }
}

/* Adds text[start:start + len] as entry ``count`` (the caller then counts it); its largest code point in *top. */
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
    *top = range_top(kind, data, start, len);
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

static inline int same_chunk(const ChunkTable *t, int64_t id, int kind, const void *data, Py_ssize_t start,
                             Py_ssize_t len) {
    if (entry_length(t, id) != len) return 0;
    const unsigned char *stored = t->arena + t->offset[id];
    int skind = 1 << t->shift[id]; /* PyUnicode_1BYTE_KIND is 1, 2BYTE 2, 4BYTE 4 */
    if (skind == kind) return memcmp(stored, (const unsigned char *)data + start * kind, (size_t)(len * kind)) == 0;
    for (Py_ssize_t i = 0; i < len; i++)
        if (PyUnicode_READ(skind, stored, i) != PyUnicode_READ(kind, data, start + i)) return 0;
    return 1;
}

/* The slot where ``h`` (FNV-1a over the code points) is or would be, its id in *id (-1: not there). */
static inline size_t find_slot(const ChunkTable *t, int kind, const void *data, Py_ssize_t start,
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
 * -1 on error. The str is made from the entry's stored copy at the width its largest code point needs (what
 * PyUnicode_Substring gives, without its second scan for that code point). */
static int64_t chunk_id(ChunkTable *t, int kind, const void *data, Py_ssize_t start, Py_ssize_t end, uint64_t h,
                        PyObject *fresh) {
    int64_t found;
    size_t s = find_slot(t, kind, data, start, end, &h, &found);
    if (found >= 0) return found;
    Py_UCS4 top;
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

static inline uint64_t fnv_range(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the code points, as ChunkTable_lookup */
    for (Py_ssize_t i = start; i < end; i++) h = (h ^ PyUnicode_READ(kind, data, i)) * 0x100000001b3ULL;
    return h;
}

static PyObject *as_bytes(Buf *b) {
    return PyBytes_FromStringAndSize((const char *)b->data, b->len * (Py_ssize_t)sizeof(int64_t));
}

/* Py_UNICODE_ISSPACE (str.split()'s whitespace) and Py_UNICODE_ISLINEBREAK (str.splitlines()'s breaks) as
 * inline tests: the CPython functions behind them are a call and a table lookup per character beyond ASCII,
 * about a tenth of this scan's cost on Chinese text. The code points are CPython's (its unicodetype_db);
 * tests/pipeline/filters/test_words.py checks both over every code point. */
static inline int is_space(Py_UCS4 c) {
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    if (c < 0x85 || c > 0x3000) return 0;
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

static inline int is_linebreak(Py_UCS4 c) {
    return (c >= 0x0a && c <= 0x0d) || (c >= 0x1c && c <= 0x1e) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static PyObject *ChunkTable_lookup(ChunkTable *t, PyObject *args) {
    PyObject *text;
    int want_lines = 0;
    if (!PyArg_ParseTuple(args, "U|p", &text, &want_lines)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *fresh = PyList_New(0);
    Buf ids = {0}, lines = {0};
    PyObject *result = NULL;
    if (!fresh) return NULL;
    Py_ssize_t start = -1, line_chunks = 0, line_len = 0;
    uint64_t h = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 ch = i < n ? PyUnicode_READ(kind, data, i) : ' ';
        if (i < n && !is_space(ch)) {
            if (start < 0) {
                start = i;
                h = 0xcbf29ce484222325ULL;
            }
            h = (h ^ ch) * 0x100000001b3ULL;
            line_len++;
            continue;
        }
        if (start >= 0) { /* a chunk ends at i */
            int64_t id = chunk_id(t, kind, data, start, i, h, fresh);
            if (id < 0 || buf_push(&ids, id) < 0) goto fail;
            line_chunks++;
            start = -1;
        }
        if (!want_lines || i == n) continue;
        line_len++;
        if (is_linebreak(ch)) { /* str.splitlines(): one line per break, "\r\n" is one */
            if (ch == '\r' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '\n') i++;
            if (buf_push(&lines, line_chunks) < 0) goto fail;
            line_chunks = line_len = 0;
        }
    }
    if (want_lines && line_len > 0 && buf_push(&lines, line_chunks) < 0) goto fail; /* unterminated last line */
    PyObject *ids_bytes = as_bytes(&ids);
    PyObject *lines_obj = want_lines ? as_bytes(&lines) : (Py_INCREF(Py_None), Py_None);
    if (ids_bytes && lines_obj) result = PyTuple_Pack(3, ids_bytes, fresh, lines_obj);
    Py_XDECREF(ids_bytes);
    Py_XDECREF(lines_obj);
fail:
    if (!result && !PyErr_Occurred()) PyErr_NoMemory();
    free(ids.data);
    free(lines.data);
    Py_DECREF(fresh);
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
    Py_TYPE(t)->tp_free((PyObject *)t);
}

/* table[id] -> the entry's str (as it was added). */
static PyObject *entry_str(const ChunkTable *t, int64_t id) {
    int kind = 1 << t->shift[id];
    return PyUnicode_FromKindAndData(kind, t->arena + t->offset[id], entry_length(t, id));
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
    uint64_t h = fnv_range(kind, data, 0, n);
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

/* columns(first) -> (length int64 bytes, isalpha uint8 bytes) of the entries first, first + 1, ...: the
 * vocabulary's per-token tables for its new tokens, read from the stored code points (``len`` and
 * ``str.isalpha`` of tokens that never became a str: ``jieba_tokens`` without a dict). */
static PyObject *ChunkTable_columns(ChunkTable *t, PyObject *arg) {
    Py_ssize_t first = PyLong_AsSsize_t(arg);
    if (first == -1 && PyErr_Occurred()) return NULL;
    if (first < 0 || first > t->count) {
        PyErr_Format(PyExc_IndexError, "columns: first id %zd out of range (0..%zd)", first, t->count);
        return NULL;
    }
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
        for (Py_ssize_t j = 0; j < len && is_alpha; j++) is_alpha = Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, j));
        l[i] = len;
        a[i] = (unsigned char)is_alpha;
    }
    return Py_BuildValue("NN", lengths, alpha);
}

/* nbytes -> the bytes the table has allocated (slots, per-entry offsets and widths, text arena). */
static PyObject *ChunkTable_nbytes(ChunkTable *t, void *closure) {
    size_t n = (t->mask + 1) * sizeof(uint64_t) + (size_t)t->id_cap * (sizeof(int64_t) + 1) +
               (t->offset ? sizeof(int64_t) : 0) + (size_t)t->arena_cap;
    return PyLong_FromSize_t(t->slots ? n : 0);
}

static PyMethodDef ChunkTable_methods[] = {
    {"lookup", (PyCFunction)ChunkTable_lookup, METH_VARARGS,
     "lookup(text, lines=False) -> (ids: bytes of int64, new chunks: list[str], chunks per line: bytes | None)"},
    {"find", (PyCFunction)ChunkTable_find, METH_O, "find(s) -> id of s, or -1 when not held (adds nothing)"},
    {"strings", (PyCFunction)ChunkTable_strings, METH_O, "strings(int64 ids) -> list of the entries' str"},
    {"columns", (PyCFunction)ChunkTable_columns, METH_O,
     "columns(first) -> (length int64 bytes, isalpha uint8 bytes) of the entries from id first on"},
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
            int64_t id = chunk_id(tt, kind, data, 0, len, fnv_range(kind, data, 0, len), fresh);
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
 * the pieces between Han runs are found as ``segment._NON_HAN_PIECE`` finds them, each run's words are
 * the next words of rjieba's list, and every token is interned as it is found. */

/* The ``segment.HAN`` class: ideographs (unified, extension A, compatibility, B+) and 々 〆 〇. */
static inline int is_han(Py_UCS4 c) {
    return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3005 && c <= 0x3007) ||
           (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

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

/* han_runs(chunks) -> str: every maximal Han run of every chunk, in order, joined by "\n" ("" when none). */
static PyObject *han_runs(PyObject *self, PyObject *args) {
    PyObject *chunks;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &chunks)) return NULL;
    if (check_str_list(chunks, "han_runs", "chunk") < 0) return NULL;
    Py_ssize_t n_chunks = PyList_GET_SIZE(chunks), total = 0, n_runs = 0;
    Py_UCS4 top = '\n';
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        PyObject *chunk = PyList_GET_ITEM(chunks, i);
        int kind = PyUnicode_KIND(chunk);
        const void *data = PyUnicode_DATA(chunk);
        Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
        if (kind == PyUnicode_1BYTE_KIND) continue; /* no Han character below U+0100 */
        int in_run = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, j);
            if (is_han(c)) {
                n_runs += !in_run;
                in_run = 1;
                total++;
                if (c > top) top = c;
            } else {
                in_run = 0;
            }
        }
    }
    if (!n_runs) return PyUnicode_New(0, 0);
    PyObject *out = PyUnicode_New(total + n_runs - 1, top); /* top: the largest character written */
    if (!out) return NULL;
    int okind = PyUnicode_KIND(out);
    void *odata = PyUnicode_DATA(out);
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        PyObject *chunk = PyList_GET_ITEM(chunks, i);
        int kind = PyUnicode_KIND(chunk);
        const void *data = PyUnicode_DATA(chunk);
        Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
        if (kind == PyUnicode_1BYTE_KIND) continue;
        int in_run = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, j);
            if (is_han(c)) {
                if (!in_run && k) PyUnicode_WRITE(okind, odata, k++, '\n');
                in_run = 1;
                PyUnicode_WRITE(okind, odata, k++, c);
            } else {
                in_run = 0;
            }
        }
    }
    return out;
}

/* The id of the token text[start:end] in the token table ``t`` (a ChunkTable: consecutive ids in
 * first-seen order), pushed to ``out``. Where a dict ``ids`` (str -> id, a view from Python) is kept, a token
 * never seen becomes a str, appended to ``fresh`` and added to the dict with its id; without one (``ids``
 * and ``fresh`` NULL, what the vocabulary passes) no str is made: the table holds its code points. Why a
 * table over code points and not the dict alone: a token from rjieba or a piece of a chunk is a new str
 * object, so a dict lookup hashes it with SipHash first; most tokens were seen before, and here they cost
 * an FNV pass over a few code points and no str at all. */
static int intern_range(ChunkTable *t, PyObject *ids, int kind, const void *data, Py_ssize_t start,
                        Py_ssize_t end, PyObject *fresh, Buf *out) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the code points, as ChunkTable_lookup */
    for (Py_ssize_t i = start; i < end; i++) h = (h ^ PyUnicode_READ(kind, data, i)) * 0x100000001b3ULL;
    Py_ssize_t before = t->count;
    int64_t id = chunk_id(t, kind, data, start, end, h, fresh);
    if (id < 0) return -1;
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

static inline int ascii_alnum(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline int jieba_symbol(Py_UCS4 c) {
    return c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' || c == '-';
}

/* End of the piece of ``segment._NON_HAN_PIECE`` that starts at ``i`` (r"[A-Za-z0-9]+(?:\.\d+)?%?|
 * [+#&._%\-]+|\S", with re's \d: Py_UNICODE_ISDECIMAL; a chunk holds no whitespace). */
static Py_ssize_t piece_end(int kind, const void *data, Py_ssize_t i, Py_ssize_t n) {
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    Py_ssize_t e = i + 1;
    if (ascii_alnum(c)) {
        while (e < n && ascii_alnum(PyUnicode_READ(kind, data, e))) e++;
        if (e + 1 < n && PyUnicode_READ(kind, data, e) == '.' && Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, e + 1))) {
            e += 2;
            while (e < n && Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, e))) e++;
        }
        if (e < n && PyUnicode_READ(kind, data, e) == '%') e++;
    } else if (jieba_symbol(c)) {
        while (e < n && jieba_symbol(PyUnicode_READ(kind, data, e))) e++;
    }
    return e;
}

/* jieba_tokens(chunks, words, table, ids, fallback) -> (token ids int64 bytes, tokens per chunk int64
 * bytes, new tokens): as intern_split over ``segment.jieba_split_many(chunks, fallback)``, with ``table``
 * (a ChunkTable of tokens) assigning the ids and ``ids`` (a dict, in step with it) receiving the new
 * tokens, or None (no dict: the vocabulary finds its tokens in the table; a dict entry per new token was
 * about 3 % of the Chinese word chain). With None, "new tokens" is their number (they hold the table's last
 * ids; ``ChunkTable.columns`` and ``strings`` read them): no str per new token (issue 13, ~30 instructions
 * per Chinese character). ``words``: rjieba's cut of ``han_runs(chunks)``, whose runs it must give back in order, "\n"
 * between two; only their lengths are read (a word is the run's next characters), after a check of its
 * first character. Or ``words`` is bytes of int32, the word lengths of every run in order, no separator
 * (``_jieba.cut_runs(chunks)``: no str per word at all). A chunk without a Han character is
 * ``fallback(chunk)`` (a tuple of str). */
static PyObject *jieba_tokens(PyObject *self, PyObject *args) {
    PyObject *chunks, *words, *table, *ids, *fallback;
    if (!PyArg_ParseTuple(args, "O!OO!OO", &PyList_Type, &chunks, &words, &ChunkTableType, &table, &ids, &fallback))
        return NULL;
    if (ids == Py_None) {
        ids = NULL; /* no dict: the table alone holds the tokens */
    } else if (!PyDict_Check(ids)) {
        PyErr_Format(PyExc_TypeError, "jieba_tokens: ids must be a dict or None, not %.100s", Py_TYPE(ids)->tp_name);
        return NULL;
    }
    const int32_t *lengths = NULL; /* words given as lengths */
    if (PyBytes_Check(words)) {
        if (PyBytes_GET_SIZE(words) % sizeof(int32_t)) {
            PyErr_SetString(PyExc_ValueError, "jieba_tokens: word lengths must be int32 bytes");
            return NULL;
        }
        lengths = (const int32_t *)PyBytes_AS_STRING(words);
    } else if (!PyList_Check(words)) {
        PyErr_Format(PyExc_TypeError, "jieba_tokens: words must be a list or int32 bytes, not %.100s",
                     Py_TYPE(words)->tp_name);
        return NULL;
    }
    ChunkTable *tt = (ChunkTable *)table;
    if (ids && tt->count != PyDict_GET_SIZE(ids)) {
        PyErr_Format(PyExc_ValueError, "jieba_tokens: the token table holds %zd tokens and the dict %zd: "
                     "they must be filled together", tt->count, PyDict_GET_SIZE(ids));
        return NULL;
    }
    if (check_str_list(chunks, "jieba_tokens", "chunk") < 0 ||
        (!lengths && check_str_list(words, "jieba_tokens", "word") < 0))
        return NULL;
    Py_ssize_t n_chunks = PyList_GET_SIZE(chunks), w = 0, runs = 0;
    Py_ssize_t n_words = lengths ? PyBytes_GET_SIZE(words) / (Py_ssize_t)sizeof(int32_t) : PyList_GET_SIZE(words);
    Buf flat = {0};
    PyObject *counts = PyBytes_FromStringAndSize(NULL, n_chunks * (Py_ssize_t)sizeof(int64_t));
    PyObject *fresh = ids ? PyList_New(0) : NULL; /* without a dict: no str per new token */
    Py_ssize_t held = tt->count;
    PyObject *result = NULL;
    if (!counts || (ids && !fresh)) goto done;
    int64_t *per_chunk = (int64_t *)PyBytes_AS_STRING(counts);
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        PyObject *chunk = PyList_GET_ITEM(chunks, i);
        int kind = PyUnicode_KIND(chunk);
        const void *data = PyUnicode_DATA(chunk);
        Py_ssize_t n = PyUnicode_GET_LENGTH(chunk), before = flat.len, j = 0;
        if (kind != PyUnicode_1BYTE_KIND)
            while (j < n && !is_han(PyUnicode_READ(kind, data, j))) j++;
        if (kind == PyUnicode_1BYTE_KIND || j == n) { /* no Han: the whitespace splitter's tokens */
            PyObject *t = PyObject_CallOneArg(fallback, chunk);
            if (!t) goto done;
            if (!PyTuple_Check(t)) {
                PyErr_Format(PyExc_TypeError, "jieba_tokens: fallback of chunk %zd gave a %.100s, not a tuple", i,
                             Py_TYPE(t)->tp_name);
                Py_DECREF(t);
                goto done;
            }
            for (Py_ssize_t m = 0; m < PyTuple_GET_SIZE(t); m++) {
                PyObject *tok = PyTuple_GET_ITEM(t, m);
                if (!PyUnicode_CheckExact(tok)) {
                    PyErr_Format(PyExc_TypeError, "jieba_tokens: fallback of chunk %zd: token %zd is not a str", i, m);
                    Py_DECREF(t);
                    goto done;
                }
                if (intern_range(tt, ids, PyUnicode_KIND(tok), PyUnicode_DATA(tok), 0, PyUnicode_GET_LENGTH(tok),
                                 fresh, &flat) < 0) {
                    Py_DECREF(t);
                    goto done;
                }
            }
            Py_DECREF(t);
            per_chunk[i] = flat.len - before;
            continue;
        }
        j = 0;
        while (j < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, j);
            if (!is_han(c)) {
                Py_ssize_t e = piece_end(kind, data, j, n);
                if (intern_range(tt, ids, kind, data, j, e, fresh, &flat) < 0) goto done;
                j = e;
                continue;
            }
            Py_ssize_t e = j + 1;
            while (e < n && is_han(PyUnicode_READ(kind, data, e))) e++;
            if (runs++ && !lengths) { /* the separator rjieba returns between two runs */
                PyObject *sep = w < n_words ? PyList_GET_ITEM(words, w) : NULL;
                if (!sep || PyUnicode_GET_LENGTH(sep) != 1 || PyUnicode_READ_CHAR(sep, 0) != '\n') {
                    PyErr_Format(PyExc_ValueError, "jieba_tokens: word %zd should be the run separator \"\\n\" "
                                 "(are the words rjieba's cut of han_runs(chunks)?)", w);
                    goto done;
                }
                w++;
            }
            Py_ssize_t got = 0;
            while (got < e - j) {
                if (w >= n_words) {
                    PyErr_Format(PyExc_ValueError, "jieba_tokens: the words end inside Han run %zd (chunk %zd)",
                                 runs - 1, i);
                    goto done;
                }
                PyObject *word = lengths ? NULL : PyList_GET_ITEM(words, w);
                Py_ssize_t len = lengths ? lengths[w] : PyUnicode_GET_LENGTH(word);
                w++;
                if (len <= 0 || got + len > e - j ||
                    (word && PyUnicode_READ_CHAR(word, 0) != PyUnicode_READ(kind, data, j + got))) {
                    PyErr_Format(PyExc_ValueError, "jieba_tokens: word %zd is not the text of chunk %zd at %zd "
                                 "(are the words rjieba's cut of han_runs(chunks)?)", w - 1, i, j + got);
                    goto done;
                }
                if (intern_range(tt, ids, kind, data, j + got, j + got + len, fresh, &flat) < 0) goto done;
                got += len;
            }
            j = e;
        }
        per_chunk[i] = flat.len - before;
    }
    if (w != n_words) {
        PyErr_Format(PyExc_ValueError, "jieba_tokens: %zd words left over after the last Han run", n_words - w);
        goto done;
    }
    PyObject *flat_bytes = as_bytes(&flat);
    if (flat_bytes && fresh) result = Py_BuildValue("NOO", flat_bytes, counts, fresh);
    else if (flat_bytes) result = Py_BuildValue("NOn", flat_bytes, counts, tt->count - held);
done:
    free(flat.data);
    Py_XDECREF(counts);
    Py_XDECREF(fresh);
    return result;
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
                Py_UCS4 c = j < n ? PyUnicode_READ(kind, data, j) : 0;
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
    {"jieba_tokens", jieba_tokens, METH_VARARGS,
     "jieba_tokens(chunks, words, table, ids, fallback) -> as intern_split over jieba's words of the chunks, "
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
