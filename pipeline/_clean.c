/* Compiled scans for pipeline.clean: each does in one pass over the string's own storage what a regular
 * expression there does with one Python-level call per match (or, for a search, the regex engine's
 * per-character dispatch). Exact equivalents of the regex paths, which stay as the fallback when this module
 * is not built; tests compare both on generated and real texts.
 *
 *   mojibake_suspect(text) -> bool      bool(MOJIBAKE_RE.search(text))
 *   mojibake_at(text, start) -> int     where MOJIBAKE_RE.search(text, start) matches, or -1
 *   space_separators(text) -> str       SPACES_RE.sub(" ", text)   (the same object when nothing changes)
 *   collapse_spaces(text)  -> str       TRAILING_RE.sub("\n", ...) then the inner-run collapse of
 *                                        _collapse_runs (the same object when nothing changes)
 *   remove_control(text)   -> str       CONTROL_RE.sub("", text)   (the same object when nothing changes)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The continuation-byte characters of MOJIBAKE_RE: 0x80..0xBF as Latin-1 shows them, and the characters
 * cp1252 puts at 0x80..0x9F. */
static inline int is_continuation(Py_UCS4 c) {
    if (c >= 0x80 && c <= 0xBF) return 1;
    switch (c) {
    case 0x152: case 0x153: case 0x160: case 0x161: case 0x178: case 0x17D: case 0x17E: case 0x192:
    case 0x2C6: case 0x2DC: case 0x2013: case 0x2014: case 0x2018: case 0x2019: case 0x201A: case 0x201C:
    case 0x201D: case 0x201E: case 0x2020: case 0x2021: case 0x2022: case 0x2026: case 0x2030: case 0x2039:
    case 0x203A: case 0x20AC: case 0x2122:
        return 1;
    }
    return 0;
}

/* The first position at or after ``start`` where a MOJIBAKE_RE match begins, or -1: one scan behind both
 * mojibake_suspect (any match) and mojibake_at (the line-by-line repair visits only the lines holding one). */
#define MOJIBAKE_LOOP(TYPE)                                                                     \
    {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                     \
        for (Py_ssize_t i = start; i < n; i++) {                                                \
            Py_UCS4 c = s[i];                                                                   \
            if (c < 0x80 || c > 0xF4) continue;                                                 \
            if (c <= 0x9F) return i;                                                            \
            if (c >= 0xC2 && i + 1 < n) {                                                       \
                Py_UCS4 d = s[i + 1];                                                           \
                if (is_continuation(d) || (c <= 0xC3 && d == ' ')) return i;                    \
            }                                                                                   \
        }                                                                                       \
    }

static Py_ssize_t find_mojibake(PyObject *text, Py_ssize_t start) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    if (start < 0) start = 0;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: MOJIBAKE_LOOP(Py_UCS1) break;
    case PyUnicode_2BYTE_KIND: MOJIBAKE_LOOP(Py_UCS2) break;
    default: MOJIBAKE_LOOP(Py_UCS4) break;
    }
    return -1;
}

static PyObject *mojibake_suspect(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "mojibake_suspect() takes a str");
        return NULL;
    }
    return PyBool_FromLong(find_mojibake(arg, 0) >= 0);
}

static PyObject *mojibake_at(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "Un:mojibake_at", &text, &start)) return NULL;
    return PyLong_FromSsize_t(find_mojibake(text, start));
}

/* SPACES_RE's class: NBSP, OGHAM SPACE MARK, EN QUAD..HAIR SPACE, NNBSP, MMSP, IDEOGRAPHIC SPACE. */
static inline int is_space_separator(Py_UCS4 c) {
    return c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

static PyObject *space_separators(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "space_separators() takes a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), first = -1;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (is_space_separator(PyUnicode_READ(kind, data, i))) { first = i; break; }
    }
    if (first < 0) return Py_NewRef(arg);
    PyObject *out = PyUnicode_New(n, PyUnicode_MAX_CHAR_VALUE(arg));
    if (out == NULL) return NULL;
    void *odata = PyUnicode_DATA(out);
    memcpy(odata, data, (size_t)n * kind);  /* same kind: the same maximum character */
    for (Py_ssize_t i = first; i < n; i++) {
        if (is_space_separator(PyUnicode_READ(kind, data, i))) PyUnicode_WRITE(kind, odata, i, ' ');
    }
    /* The result may now fit a narrower kind ("a\u3000b" -> "a b"); a str must be stored in its narrowest
     * kind to compare and hash like an equal str, so rebuild it from its characters when that happens. */
    PyObject *narrow = PyUnicode_FromKindAndData(kind, odata, n);
    Py_DECREF(out);
    return narrow;
}

#define COLLAPSE_LOOP(TYPE)                                                                     \
    {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                     \
        TYPE *o = (TYPE *)buf;                                                                  \
        Py_ssize_t i = 0;                                                                       \
        while (i < n) {                                                                         \
            Py_UCS4 c = s[i];                                                                   \
            if (c != ' ' && c != '\t') { o[w++] = (TYPE)c; i++; continue; }                     \
            Py_ssize_t start = i;                                                               \
            while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;                                 \
            if (i < n && s[i] == '\n') { changed = 1; continue; } /* trailing: dropped */       \
            if (i - start >= 2 && start > 0 && s[start - 1] != '\n') {                          \
                o[w++] = ' '; changed = 1; /* an inner run: one space */                        \
            } else {                                                                            \
                for (Py_ssize_t k = start; k < i; k++) o[w++] = s[k]; /* indentation, one */    \
            }                                                                                   \
        }                                                                                       \
    }

static PyObject *collapse_spaces(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "collapse_spaces() takes a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), w = 0;
    int kind = PyUnicode_KIND(arg), changed = 0;
    const void *data = PyUnicode_DATA(arg);
    void *buf = PyMem_Malloc(n ? (size_t)n * kind : 1);
    if (buf == NULL) return PyErr_NoMemory();
    switch (kind) {
    case PyUnicode_1BYTE_KIND: COLLAPSE_LOOP(Py_UCS1) break;
    case PyUnicode_2BYTE_KIND: COLLAPSE_LOOP(Py_UCS2) break;
    default: COLLAPSE_LOOP(Py_UCS4) break;
    }
    PyObject *out = changed ? PyUnicode_FromKindAndData(kind, buf, w) : Py_NewRef(arg);
    PyMem_Free(buf);
    return out;
}

/* CONTROL_RE's class: C0 controls but \t and \n, DEL and the C1 controls, SOFT HYPHEN, ZERO WIDTH SPACE,
 * WORD JOINER, ZWNBSP/BOM and the surrogates (lone ones: a str holds no pairs). */
static inline int is_removed_control(Py_UCS4 c) {
    if (c < 0x20) return c != '\t' && c != '\n';
    if (c < 0x7F) return 0;
    return c <= 0x9F || c == 0xAD || c == 0x200B || c == 0x2060 || c == 0xFEFF || (c >= 0xD800 && c <= 0xDFFF);
}

#define FIND_LOOP(TYPE)                                                                         \
    {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                     \
        for (Py_ssize_t i = 0; i < n; i++) {                                                    \
            if (is_removed_control(s[i])) { first = i; break; }                                 \
        }                                                                                       \
    }

#define REMOVE_LOOP(TYPE)                                                                       \
    {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                     \
        TYPE *o = (TYPE *)buf;                                                                  \
        for (Py_ssize_t i = first; i < n; i++) {                                                \
            if (!is_removed_control(s[i])) o[w++] = s[i];                                       \
        }                                                                                       \
    }

static PyObject *remove_control(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "remove_control() takes a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), first = -1;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    switch (kind) {
    case PyUnicode_1BYTE_KIND: FIND_LOOP(Py_UCS1) break;
    case PyUnicode_2BYTE_KIND: FIND_LOOP(Py_UCS2) break;
    default: FIND_LOOP(Py_UCS4) break;
    }
    if (first < 0) return Py_NewRef(arg);
    void *buf = PyMem_Malloc((size_t)n * kind);
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, data, (size_t)first * kind);
    Py_ssize_t w = first;
    switch (kind) {
    case PyUnicode_1BYTE_KIND: REMOVE_LOOP(Py_UCS1) break;
    case PyUnicode_2BYTE_KIND: REMOVE_LOOP(Py_UCS2) break;
    default: REMOVE_LOOP(Py_UCS4) break;
    }
    /* FromKindAndData stores the result in its narrowest kind (removing the only wide character narrows it). */
    PyObject *out = PyUnicode_FromKindAndData(kind, buf, w);
    PyMem_Free(buf);
    return out;
}

static PyMethodDef methods[] = {
    {"mojibake_suspect", mojibake_suspect, METH_O, "bool(pipeline.clean.MOJIBAKE_RE.search(text))"},
    {"mojibake_at", mojibake_at, METH_VARARGS, "where pipeline.clean.MOJIBAKE_RE.search(text, start) matches, or -1"},
    {"space_separators", space_separators, METH_O, "pipeline.clean.SPACES_RE.sub(' ', text)"},
    {"collapse_spaces", collapse_spaces, METH_O,
     "trailing spaces/tabs of every line removed, inner runs of two or more one space (pipeline.clean)"},
    {"remove_control", remove_control, METH_O, "pipeline.clean.CONTROL_RE.sub('', text)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_clean", NULL, -1, methods};

PyMODINIT_FUNC PyInit__clean(void) { return PyModule_Create(&module); }
