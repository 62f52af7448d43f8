/* Dedup normalisation of a batch of documents in one compiled pass (pipeline.dedup.normalize).
 *
 * Why C: the numpy version (normalize.numpy_normalize_batch, kept as the fallback) makes ~30 passes over
 * the batch's bytes (UTF-8 decoding, classes, word breaks, an insertion for them, collapsing, word bounds,
 * document bounds), each allocating a temporary of 1-8 bytes per text byte; on Chinese text, where every
 * character is a word, that was most of the signature stage. Here each character is decoded, classified
 * through the same code-point table and written out once, so the output is equal byte for byte
 * (tests/pipeline/dedup/test_normalize.py compares both paths and the pure-Python reference).
 *
 *   normalize(parts: list[bytes], table: uint8 buffer of 0x110000 entries)
 *       -> (data, word_starts, word_ends, doc_words): bytearrays (uint8, int64, int64, int64)
 *
 * ``parts``: each document lowercased and UTF-8 encoded (surrogatepass: lone surrogates are 3-byte
 * sequences, class SEP in the table). ``table``: normalize.codepoint_classes(), the class in the low two
 * bits (SEP, WORD, DIGIT) and the flags below (their values are exported as FLAGS and checked on import).
 * The rules, as normalize.py states them: a SEP character is a space, a DIGIT one "0" (one byte whatever its
 * length), a WORD one is copied; a word ends between two word characters before or after a CJK character,
 * and at a grapheme-cluster break of a cluster script (``cluster_break``); spaces collapse to one, and
 * documents are separated by one space, as if joined by b" " (the numpy path joins them so).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SEP = 0, WORD = 1, DIGIT = 2, CLASS_BITS = 3, IN_CLUSTER_SCRIPT = 4, STACKER = 8, MARK = 16, CJK = 32 };
#define TABLE_SIZE 0x110000

typedef struct {
    int64_t *p;
    Py_ssize_t len, cap;
} words_t;

static int push(words_t *w, int64_t value) {
    if (w->len == w->cap) {
        Py_ssize_t cap = w->cap ? 2 * w->cap : 1024;
        int64_t *p = realloc(w->p, (size_t)cap * sizeof(int64_t));
        if (!p) return 0;
        w->p = p;
        w->cap = cap;
    }
    w->p[w->len++] = value;
    return 1;
}

/* Whether a word ends between the word characters ``prev`` and ``cur`` (their table entries): normalize.py's
 * split_cjk, then cluster_break (a mark or a consonant after a conjunct linker extends a cluster). */
static inline int word_break(uint8_t prev, uint8_t cur) {
    if ((cur | prev) & CJK) return 1;
    if (cur & MARK) return 0;
    if ((cur & IN_CLUSTER_SCRIPT) && (prev & STACKER)) return 0;
    return ((cur | prev) & IN_CLUSTER_SCRIPT) != 0;
}

static PyObject *bytearray_of(const void *p, Py_ssize_t n) {
    return PyByteArray_FromStringAndSize(n ? (const char *)p : "", n);
}

static PyObject *normalize(PyObject *self, PyObject *args) {
    PyObject *parts;
    Py_buffer tb;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!y*", &PyList_Type, &parts, &tb)) return NULL;
    PyObject *result = NULL;
    uint8_t *out = NULL;
    int64_t *doc_words = NULL;
    words_t starts = {NULL, 0, 0}, ends = {NULL, 0, 0};
    if (tb.len != TABLE_SIZE) {
        PyErr_Format(PyExc_ValueError, "table must have %d entries, got %zd", TABLE_SIZE, tb.len);
        goto done;
    }
    const uint8_t *table = (const uint8_t *)tb.buf;
    const Py_ssize_t docs = PyList_GET_SIZE(parts);
    Py_ssize_t total = 0;
    for (Py_ssize_t d = 0; d < docs; d++) {
        PyObject *part = PyList_GET_ITEM(parts, d);
        if (!PyBytes_Check(part)) {
            PyErr_Format(PyExc_TypeError, "document %zd: expected bytes, got %.100s", d, Py_TYPE(part)->tp_name);
            goto done;
        }
        total += PyBytes_GET_SIZE(part);
    }
    /* a word byte is written at most once and a space at most once per word: a one-byte word between two
     * breaks is the worst case, 2 output bytes per input byte */
    out = malloc((size_t)(2 * total + docs + 1));
    doc_words = malloc((size_t)(docs + 1) * sizeof(int64_t));
    if (!out || !doc_words) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t o = 0;
    int in_word = 0; /* the last byte written is a word byte */
    for (Py_ssize_t d = 0; d < docs; d++) {
        PyObject *part = PyList_GET_ITEM(parts, d);
        const uint8_t *s = (const uint8_t *)PyBytes_AS_STRING(part);
        const Py_ssize_t n = PyBytes_GET_SIZE(part);
        doc_words[d] = starts.len;
        if (in_word) { /* the space between two documents */
            if (!push(&ends, o)) goto nomem;
            out[o++] = ' ';
            in_word = 0;
        }
        uint8_t prev = 0; /* table entry of the character before; a document starts after a separator */
        for (Py_ssize_t i = 0; i < n;) {
            const uint8_t b0 = s[i];
            uint32_t cp;
            Py_ssize_t len;
            if (b0 < 0x80) {
                cp = b0;
                len = 1;
            } else if (b0 >= 0xC0 && b0 < 0xE0) {
                len = 2;
            } else if (b0 >= 0xE0 && b0 < 0xF0) {
                len = 3;
            } else if (b0 >= 0xF0 && b0 < 0xF8) {
                len = 4;
            } else {
                len = 0;
            }
            if (len == 0 || i + len > n) {
                PyErr_Format(PyExc_ValueError, "document %zd: not UTF-8 at byte %zd", d, i);
                goto done;
            }
            if (len == 2)
                cp = ((uint32_t)(b0 & 0x1F) << 6) | (s[i + 1] & 0x3F);
            else if (len == 3)
                cp = ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
            else if (len == 4)
                cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                     ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
            const uint8_t info = table[cp < TABLE_SIZE ? cp : TABLE_SIZE - 1];
            const uint8_t cls = info & CLASS_BITS;
            if (cls == SEP) {
                if (in_word) {
                    if (!push(&ends, o)) goto nomem;
                    out[o++] = ' ';
                    in_word = 0;
                }
            } else {
                if (in_word && word_break(prev, info)) { /* in_word: the character before is a word one */
                    if (!push(&ends, o)) goto nomem;
                    out[o++] = ' ';
                    in_word = 0;
                }
                if (!in_word) {
                    if (!push(&starts, o)) goto nomem;
                    in_word = 1;
                }
                if (cls == DIGIT) {
                    out[o++] = '0';
                } else {
                    memcpy(out + o, s + i, (size_t)len);
                    o += len;
                }
            }
            prev = info;
            i += len;
        }
    }
    if (in_word && !push(&ends, o)) goto nomem;
    doc_words[docs] = starts.len;
    PyObject *data = bytearray_of(out, o), *ws = bytearray_of(starts.p, starts.len * 8),
             *we = bytearray_of(ends.p, ends.len * 8), *dw = bytearray_of(doc_words, (docs + 1) * 8);
    if (data && ws && we && dw) result = PyTuple_Pack(4, data, ws, we, dw);
    Py_XDECREF(data);
    Py_XDECREF(ws);
    Py_XDECREF(we);
    Py_XDECREF(dw);
    goto done;
nomem:
    PyErr_NoMemory();
done:
    free(out);
    free(doc_words);
    free(starts.p);
    free(ends.p);
    PyBuffer_Release(&tb);
    return result;
}

static PyMethodDef methods[] = {
    {"normalize", normalize, METH_VARARGS,
     "normalize(parts, table): the normalised bytes of the lowercased UTF-8 documents ``parts`` and their word "
     "bounds, as (data, word_starts, word_ends, doc_words) bytearrays (uint8, int64, int64, int64)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_normalize",
                                    "Dedup normalisation, compiled (pipeline.dedup.normalize).", -1, methods};

PyMODINIT_FUNC PyInit__normalize(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    /* SEP, WORD, DIGIT, IN_CLUSTER_SCRIPT, STACKER, MARK, CJK: normalize.py checks them against its own */
    PyObject *flags = Py_BuildValue("(iiiiiii)", SEP, WORD, DIGIT, IN_CLUSTER_SCRIPT, STACKER, MARK, CJK);
    if (!flags || PyModule_AddObject(m, "FLAGS", flags) < 0) { /* steals flags only on success */
        Py_XDECREF(flags);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
