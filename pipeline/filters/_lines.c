/* The line and paragraph counts of the word filters in one compiled pass each, without a str per line.
 *
 * Why C: Gopher repetition, Gopher quality and FineWeb each split the whole text into lines (and Gopher
 * repetition into paragraphs), strip them and count repeats with a Counter, which hashes every line with
 * SipHash. On Chinese text (two bytes per character, and about four times fewer characters per document than
 * English in the shared dumps) those per-character str passes were about a tenth of the word chain's
 * instructions (issue 13, sixth pass). Here a scan over the str's code points finds the same lines, and a
 * table of (hash, start, length) ranges of the text finds the repeats, comparing the code points of equal
 * hashes. The Python code each function replaces stays in gopher.py and fineweb.py as the path where this
 * extension is not built, and the tests compare the two.
 *
 *   repetition(text) -> (paragraphs, repeated paragraphs, their characters, lines, repeated lines, their
 *       characters): gopher.split_paragraphs(text.strip()) and gopher.split_lines(text), through
 *       gopher.duplicates
 *   quality(text) -> (lines, bullet lines, ellipsis lines, "#", "...", "…"): over text.splitlines() or
 *       [""] stripped, the lines starting with "•" or "-" and ending with "..." or "…"; str.count of the rest
 *   fineweb(text, terminal, short) -> (lines, ending in a terminal mark, of <= short characters, characters
 *       of repeated lines, "\n"): over the lines of text.split("\n") that are not blank; ``terminal`` is a
 *       str of marks in code point order
 *   line_ends(text) -> int64 bytes: the end of each line of text.splitlines(keepends=True) (C4 finds the
 *       line of a position with them)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* str.splitlines()'s breaks (CPython's _PyUnicode_IsLinebreak: the only code points it accepts), tested
 * against Py_UNICODE_ISLINEBREAK over every code point. */
static inline int is_linebreak(Py_UCS4 c) {
    return (c >= 0x0a && c <= 0x0d) || (c >= 0x1c && c <= 0x1e) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* A set of text ranges (one text, one kind), for counting the ranges equal to an earlier one. */
typedef struct {
    uint64_t *hash;
    Py_ssize_t *start, *len;
    uint8_t *used;
    size_t mask;
} Seen;

static int seen_init(Seen *s, Py_ssize_t items) {
    size_t cap = 16;
    while (cap < 2 * (size_t)items) cap <<= 1;
    s->mask = cap - 1;
    s->hash = malloc(cap * sizeof(uint64_t));
    s->start = malloc(cap * sizeof(Py_ssize_t));
    s->len = malloc(cap * sizeof(Py_ssize_t));
    s->used = calloc(cap, 1);
    return s->hash && s->start && s->len && s->used ? 0 : -1;
}

static void seen_free(Seen *s) {
    free(s->hash);
    free(s->start);
    free(s->len);
    free(s->used);
}

/* A hash of ``n`` bytes, eight at a time (equal ranges of one text have equal bytes). */
static uint64_t hash_bytes(const unsigned char *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

/* 1 when text[start:start+len] equals a range added before; else adds it and returns 0. */
static int seen_repeat(Seen *s, const unsigned char *base, int kind, Py_ssize_t start, Py_ssize_t len) {
    uint64_t h = hash_bytes(base + start * kind, (size_t)(len * kind));
    size_t i = (size_t)h & s->mask;
    for (; s->used[i]; i = (i + 1) & s->mask)
        if (s->hash[i] == h && s->len[i] == len &&
            memcmp(base + s->start[i] * kind, base + start * kind, (size_t)(len * kind)) == 0)
            return 1;
    s->used[i] = 1;
    s->hash[i] = h;
    s->start[i] = start;
    s->len[i] = len;
    return 0;
}

/* Index of the next "\n" at or after i, or n. */
static Py_ssize_t next_newline(int kind, const void *data, Py_ssize_t i, Py_ssize_t n) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *p = memchr((const char *)data + i, '\n', (size_t)(n - i));
        return p ? p - (const char *)data : n;
    }
    if (kind == PyUnicode_2BYTE_KIND) { /* four code units per 64-bit word: a lane equal to "\n" is a zero lane
                                         * of word ^ NL, found with the borrow of (x - 1) per lane */
        const Py_UCS2 *d = data;
        for (; i + 4 <= n; i += 4) {
            uint64_t w;
            memcpy(&w, d + i, 8);
            w ^= 0x000A000A000A000AULL;
            if ((w - 0x0001000100010001ULL) & ~w & 0x8000800080008000ULL) break;
        }
        while (i < n && d[i] != '\n') i++;
        return i;
    }
    const Py_UCS4 *d = data;
    while (i < n && d[i] != '\n') i++;
    return i;
}

static Py_ssize_t count_newlines(int kind, const void *data, Py_ssize_t n) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = next_newline(kind, data, 0, n); i < n; i = next_newline(kind, data, i + 1, n)) count++;
    return count;
}

static PyObject *repetition(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "repetition: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const unsigned char *base = data;
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), breaks = count_newlines(kind, data, n);
    long long paras = 0, para_dups = 0, para_chars = 0, lines = 0, line_dups = 0, line_chars = 0;
    Seen seen;
    if (seen_init(&seen, breaks + 1) < 0) {
        seen_free(&seen);
        return PyErr_NoMemory();
    }
    /* paragraphs: text.strip().split("\n\n"), empty pieces dropped and a leading "\n" cut when there are two
     * or more pieces */
    Py_ssize_t a = 0, b = n;
    while (a < b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, a))) a++;
    while (b > a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, b - 1))) b--;
    Py_ssize_t pos = a;
    int several = 0;
    for (;;) {
        Py_ssize_t sep = pos;
        for (;;) { /* the next "\n\n" in [pos, b) */
            sep = next_newline(kind, data, sep, b);
            if (sep + 1 >= b) {
                sep = b;
                break;
            }
            if (PyUnicode_READ(kind, data, sep + 1) == '\n') break;
            sep++;
        }
        if (sep == b && !several) { /* one piece: the stripped text itself */
            paras = 1;
            break;
        }
        several = 1;
        Py_ssize_t ps = pos, pe = sep;
        if (pe > ps) {
            if (PyUnicode_READ(kind, data, ps) == '\n') ps++;
            paras++;
            if (seen_repeat(&seen, base, kind, ps, pe - ps)) {
                para_dups++;
                para_chars += pe - ps;
            }
        }
        if (sep == b) break;
        pos = sep + 2;
    }
    /* lines: text.split("\n"), empty pieces dropped but the first and the last (when three or more) */
    memset(seen.used, 0, seen.mask + 1);
    Py_ssize_t start = 0;
    for (Py_ssize_t piece = 0; piece <= breaks; piece++) {
        Py_ssize_t end = next_newline(kind, data, start, n);
        if (end > start || breaks < 2 || piece == 0 || piece == breaks) {
            lines++;
            if (seen_repeat(&seen, base, kind, start, end - start)) {
                line_dups++;
                line_chars += end - start;
            }
        }
        start = end + 1;
    }
    seen_free(&seen);
    return Py_BuildValue("LLLLLL", paras, para_dups, para_chars, lines, line_dups, line_chars);
}

static PyObject *quality(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "quality: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    long long lines = 0, bullets = 0, ellipsis_lines = 0, hashes = 0, dots = 0, ellipses = 0;
    Py_ssize_t start = 0, run = 0; /* run: consecutive "." not yet counted as "..." */
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : 0;
        if (c > 0x2029) { /* most characters of Chinese text: no mark counted here, no line break */
            run = 0;
            continue;
        }
        if (c == '.') {
            if (++run == 3) {
                dots++;
                run = 0;
            }
            continue;
        }
        run = 0;
        if (c == '#') hashes++;
        else if (c == 0x2026) ellipses++;
        int brk = i < n && is_linebreak(c);
        if (!brk && (i < n || start == n)) continue; /* inside a line, or no unterminated last line */
        /* the line text[start:i], stripped */
        Py_ssize_t a = start, b = i;
        while (a < b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, a))) a++;
        while (b > a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, b - 1))) b--;
        lines++;
        if (b > a) {
            Py_UCS4 first = PyUnicode_READ(kind, data, a), last = PyUnicode_READ(kind, data, b - 1);
            bullets += first == 0x2022 || first == '-';
            ellipsis_lines += last == 0x2026 || (b - a >= 3 && last == '.' &&
                                                 PyUnicode_READ(kind, data, b - 2) == '.' &&
                                                 PyUnicode_READ(kind, data, b - 3) == '.');
        }
        if (c == '\r' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '\n') i++; /* "\r\n": one break */
        start = i + 1;
    }
    if (!lines) lines = 1; /* text.splitlines() or [""]: one empty line */
    return Py_BuildValue("LLLLLL", lines, bullets, ellipsis_lines, hashes, dots, ellipses);
}

static int in_sorted(const Py_UCS4 *marks, Py_ssize_t n, Py_UCS4 c) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (marks[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && marks[lo] == c;
}

static PyObject *fineweb(PyObject *self, PyObject *args) {
    PyObject *text, *terminal;
    Py_ssize_t short_len;
    if (!PyArg_ParseTuple(args, "UUn", &text, &terminal, &short_len)) return NULL;
    Py_UCS4 *marks = PyUnicode_AsUCS4Copy(terminal);
    if (!marks) return NULL;
    Py_ssize_t n_marks = PyUnicode_GET_LENGTH(terminal);
    for (Py_ssize_t i = 1; i < n_marks; i++) {
        if (marks[i - 1] >= marks[i]) {
            PyMem_Free(marks);
            PyErr_SetString(PyExc_ValueError, "fineweb: the terminal marks must be in code point order, each once");
            return NULL;
        }
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const unsigned char *base = data;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), breaks = count_newlines(kind, data, n);
    long long lines = 0, punct = 0, short_lines = 0, dup_chars = 0;
    Seen seen;
    if (seen_init(&seen, breaks + 1) < 0) {
        seen_free(&seen);
        PyMem_Free(marks);
        return PyErr_NoMemory();
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t piece = 0; piece <= breaks; piece++) {
        Py_ssize_t end = next_newline(kind, data, start, n), a = start;
        while (a < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, a))) a++;
        if (a < end) { /* not blank */
            lines++;
            punct += in_sorted(marks, n_marks, PyUnicode_READ(kind, data, end - 1));
            short_lines += end - start <= short_len;
            if (seen_repeat(&seen, base, kind, start, end - start)) dup_chars += end - start;
        }
        start = end + 1;
    }
    seen_free(&seen);
    PyMem_Free(marks);
    return Py_BuildValue("LLLLn", lines, punct, short_lines, dup_chars, breaks);
}

static PyObject *line_ends(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "line_ends: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), count = 0, start = 0;
    for (Py_ssize_t i = 0; i < n; i++) { /* first the number of lines, for the size of the result */
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c > 0x2029 || !is_linebreak(c)) continue;
        if (c == '\r' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '\n') i++;
        count++;
        start = i + 1;
    }
    count += start < n;
    PyObject *out = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    if (!out) return NULL;
    int64_t *o = (int64_t *)PyBytes_AS_STRING(out);
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c > 0x2029 || !is_linebreak(c)) continue;
        if (c == '\r' && i + 1 < n && PyUnicode_READ(kind, data, i + 1) == '\n') i++;
        o[k++] = i + 1;
    }
    if (k < count) o[k] = n; /* an unterminated last line */
    return out;
}

static PyMethodDef methods[] = {
    {"repetition", repetition, METH_O,
     "repetition(text) -> (paragraphs, repeated, their chars, lines, repeated, their chars) of Gopher repetition"},
    {"quality", quality, METH_O,
     "quality(text) -> (lines, bullet lines, ellipsis lines, '#', '...', '…') of Gopher quality"},
    {"fineweb", fineweb, METH_VARARGS,
     "fineweb(text, terminal, short) -> (lines, ending in a mark, short, repeated line chars, newlines)"},
    {"line_ends", line_ends, METH_O,
     "line_ends(text) -> int64 bytes: where each line of text.splitlines(keepends=True) ends"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines",
                                    "Line and paragraph counts of the word filters, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
