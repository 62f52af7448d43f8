/* The class/id scan of pipeline.extract.html in one compiled pass over the page.
 *
 * Why C: the extractor turns the page's furniture class tokens and ids into skip selectors. In Python
 * that is two regex ``findall`` passes over the raw HTML (``class=["']([^"'<>]*)`` and
 * ``id=["']([^"'<>\s]*)``), a join and split of every value, and a ``str.find`` loop for each furniture
 * word: about a quarter of the extraction time on 150 kB pages (bench/README.md, "Crawl + extract").
 * Here one scan finds every ``=`` (memchr on one-byte pages), takes exactly the matches those two
 * ``findall`` calls take (leftmost first, a match never starting inside the previous one), splits the
 * values at the characters ``str.split()`` splits at (``Py_UNICODE_ISSPACE``) and keeps only the tokens
 * whose ASCII-lower-cased form starts with one of the given words. The whole-word rule itself
 * (``is_furniture``) stays in Python, applied to those few candidates.
 *
 *   classes, ids, mediawiki = scan(html, ("comment", "related", ...))
 *   # classes, ids: sets of distinct candidate tokens; mediawiki: whether any class or id value holds "mw-"
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_WORDS 64

typedef struct {
    const char *text[MAX_WORDS]; /* lower-case ASCII */
    Py_ssize_t len[MAX_WORDS];
    int count;
} Words;

static inline int is_value_end(Py_UCS4 c) {
    return c == '"' || c == '\'' || c == '<' || c == '>';
}

static inline Py_UCS4 ascii_lower(Py_UCS4 c) {
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Whether the token at [start, end) starts, ASCII case-insensitively, with one of the words. */
static inline __attribute__((always_inline)) int starts_with_word(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, const Words *w) {
    Py_UCS4 first = ascii_lower(PyUnicode_READ(kind, data, start));
    for (int k = 0; k < w->count; k++) {
        Py_ssize_t n = w->len[k];
        if ((Py_UCS4)(unsigned char)w->text[k][0] != first || end - start < n) continue;
        Py_ssize_t i = 1;
        while (i < n && ascii_lower(PyUnicode_READ(kind, data, start + i)) == (Py_UCS4)(unsigned char)w->text[k][i])
            i++;
        if (i == n) return 1;
    }
    return 0;
}

/* Split the value [start, end) at str.split()'s whitespace; add candidate tokens to ``out``; note "mw-". */
static inline __attribute__((always_inline)) int take_value(PyObject *html, int kind, const void *data, Py_ssize_t start, Py_ssize_t end,
                      const Words *w, PyObject *out, int *mediawiki) {
    Py_ssize_t i = start;
    while (i < end) {
        while (i < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
        Py_ssize_t t = i;
        while (i < end && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
        if (t == i) break;
        if (!*mediawiki) {
            for (Py_ssize_t j = t; j + 3 <= i; j++) {
                if (PyUnicode_READ(kind, data, j) == 'm' && PyUnicode_READ(kind, data, j + 1) == 'w'
                        && PyUnicode_READ(kind, data, j + 2) == '-') {
                    *mediawiki = 1;
                    break;
                }
            }
        }
        if (starts_with_word(kind, data, t, i, w)) {
            PyObject *token = PyUnicode_Substring(html, t, i);
            if (!token) return -1;
            int rc = PySet_Add(out, token);
            Py_DECREF(token);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* Whether html[at:at+len(lit)] == lit (ASCII literal). */
static inline __attribute__((always_inline)) int has_literal(int kind, const void *data, Py_ssize_t n, Py_ssize_t at, const char *lit, Py_ssize_t len) {
    if (at < 0 || at + len > n) return 0;
    for (Py_ssize_t i = 0; i < len; i++)
        if (PyUnicode_READ(kind, data, at + i) != (Py_UCS4)(unsigned char)lit[i]) return 0;
    return 1;
}

/* The next "=" at or after ``from`` (n when there is none). */
static inline __attribute__((always_inline)) Py_ssize_t next_equals(int kind, const void *data, Py_ssize_t n, Py_ssize_t from) {
    if (from >= n) return n;
    /* memchr (vectorised in libc) for the byte '=' in the raw buffer; on 2- and 4-byte strings a hit is
     * '=' only when the whole code unit it falls in is '=' (any byte order), else the search goes on. */
    const char *bytes = (const char *)data;
    const char *stop = bytes + (size_t)n * kind;
    const char *p = bytes + (size_t)from * kind;
    while (p < stop) {
        const char *hit = memchr(p, '=', (size_t)(stop - p));
        if (!hit) return n;
        Py_ssize_t i = (hit - bytes) / kind;
        if (PyUnicode_READ(kind, data, i) == '=') return i;
        p = bytes + (size_t)(i + 1) * kind;
    }
    return n;
}

/* Every match of the two patterns, as re.findall takes them: a candidate "class=" + quote (or "id=" + quote)
 * counts only when it starts at or after the end of that pattern's previous match. */
static inline __attribute__((always_inline)) int scan_kind(int kind, PyObject *html, const Words *w,
                                                           PyObject *classes, PyObject *ids, int *mediawiki) {
    const void *data = PyUnicode_DATA(html);
    Py_ssize_t n = PyUnicode_GET_LENGTH(html);
    Py_ssize_t class_from = 0, id_from = 0;
    for (Py_ssize_t eq = next_equals(kind, data, n, 0); eq + 1 < n; eq = next_equals(kind, data, n, eq + 1)) {
        Py_UCS4 quote = PyUnicode_READ(kind, data, eq + 1);
        if (quote != '"' && quote != '\'') continue;
        Py_ssize_t v = eq + 2, end;
        if (eq - 5 >= class_from && has_literal(kind, data, n, eq - 5, "class", 5)) {
            end = v;
            while (end < n && !is_value_end(PyUnicode_READ(kind, data, end))) end++;
            if (take_value(html, kind, data, v, end, w, classes, mediawiki) < 0) return -1;
            class_from = end;
        } else if (eq - 2 >= id_from && has_literal(kind, data, n, eq - 2, "id", 2)) {
            end = v;
            while (end < n) {
                Py_UCS4 c = PyUnicode_READ(kind, data, end);
                if (is_value_end(c) || Py_UNICODE_ISSPACE(c)) break;
                end++;
            }
            if (take_value(html, kind, data, v, end, w, ids, mediawiki) < 0) return -1;
            id_from = end;
        }
    }
    return 0;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *html, *words_arg;
    if (!PyArg_ParseTuple(args, "UO!:scan", &html, &PyTuple_Type, &words_arg)) return NULL;
    Words w = {.count = 0};
    Py_ssize_t nwords = PyTuple_GET_SIZE(words_arg);
    if (nwords > MAX_WORDS) {
        PyErr_Format(PyExc_ValueError, "scan: at most %d words, got %zd", MAX_WORDS, nwords);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nwords; k++) {
        PyObject *word = PyTuple_GET_ITEM(words_arg, k);
        if (!PyUnicode_Check(word) || !PyUnicode_IS_ASCII(word) || PyUnicode_GET_LENGTH(word) == 0) {
            PyErr_SetString(PyExc_ValueError, "scan: the words must be non-empty lower-case ASCII str");
            return NULL;
        }
        w.text[k] = (const char *)PyUnicode_1BYTE_DATA(word);
        w.len[k] = PyUnicode_GET_LENGTH(word);
        for (Py_ssize_t i = 0; i < w.len[k]; i++) {
            if (w.text[k][i] >= 'A' && w.text[k][i] <= 'Z') {
                PyErr_SetString(PyExc_ValueError, "scan: the words must be non-empty lower-case ASCII str");
                return NULL;
            }
        }
        w.count++;
    }
    PyObject *classes = PySet_New(NULL), *ids = PySet_New(NULL);
    if (!classes || !ids) goto fail;
    int mediawiki = 0, rc;
    /* One copy of the loop per string kind, so that every character read is a plain array access. */
    switch (PyUnicode_KIND(html)) {
    case PyUnicode_1BYTE_KIND: rc = scan_kind(PyUnicode_1BYTE_KIND, html, &w, classes, ids, &mediawiki); break;
    case PyUnicode_2BYTE_KIND: rc = scan_kind(PyUnicode_2BYTE_KIND, html, &w, classes, ids, &mediawiki); break;
    default: rc = scan_kind(PyUnicode_4BYTE_KIND, html, &w, classes, ids, &mediawiki); break;
    }
    if (rc < 0) goto fail;
    return Py_BuildValue("(NNO)", classes, ids, mediawiki ? Py_True : Py_False);
fail:
    Py_XDECREF(classes);
    Py_XDECREF(ids);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(html, words) -> (class tokens, id tokens, mediawiki): the distinct tokens of the page's class and id "
     "values (as re.findall of class=[\"']([^\"'<>]*) and id=[\"']([^\"'<>\\s]*) takes them, split as str.split()) "
     "whose ASCII-lower-cased form starts with one of the lower-case ASCII words, and whether any value holds \"mw-\"."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_attrs", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__attrs(void) { return PyModule_Create(&module); }
