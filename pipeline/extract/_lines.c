/* The extractor's line post-processing (pipeline.extract.html ``_trim`` and friends) in one compiled pass.
 *
 * Why C: after resiliparse's passes, Python split the text into stripped lines, flagged the short
 * boilerplate lines, scored them (Kadane's maximum-sum span), dropped the flagged lines inside the span and
 * joined the rest: ~15 ms for one copy of issue 19's corpus (51,000 lines), a loop of Python operations per
 * line. Here the lines are found, measured and scored over the text in place; a str is made only for a line
 * the boilerplate regex must look at (shorter than ``max_len``, first character a key of ``table``, whose
 * value is that letter's ``re.Pattern.match``: the regex itself still decides) and for the kept lines.
 *
 *   text, chars = trim(raw, table, line_cap, threshold, penalty, max_len, min_raw, keep_ratio, sentence_end,
 *                      sentence_score, heading_first, heading)
 *
 * ``raw`` is resiliparse's output. Lines are ``raw.split("\n")`` stripped as ``str.strip()`` strips
 * (``Py_UNICODE_ISSPACE``), the empty ones left out. The kept lines are the best span's lines without the
 * flagged ones (all of the span's lines when every one is flagged; all lines when no span scores above
 * zero; a line scores min(len, line_cap) - threshold, at least ``sentence_score`` when its last character is the
 * code point ``sentence_end``, and 0 at least when it is shorter than ``threshold``, starts with one of the
 * characters of the str ``heading_first`` and ``heading`` (a ``re.Pattern.match``) matches it: a numbered heading);
 * when ``min_raw`` >= 0, the lines hold at least ``min_raw`` characters and the kept
 * ones fewer than ``keep_ratio`` times that, all lines are kept instead (flagged ones dropped, as above). ``text`` is the
 * kept lines joined by "\n\n", ``chars`` the sum of their lengths. tests/pipeline/extract/test_lines.py
 * compares it with the Python code on every page of the shared sets and on generated texts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    Py_ssize_t start, len;
    int flag;    /* a short boilerplate line */
    int heading; /* a numbered heading: its negative score is raised to 0 */
} Line;

/* The stripped, non-empty lines of ``text``, in order; returns their count or -1 (MemoryError set). */
static Py_ssize_t find_lines(PyObject *text, Line **out) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), cap = 64, count = 0, at = 0;
    Line *lines = PyMem_Malloc(cap * sizeof(Line));
    if (!lines) {
        PyErr_NoMemory();
        return -1;
    }
    while (at <= n) {
        Py_ssize_t end = at;
        if (kind == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *p = memchr((const Py_UCS1 *)data + at, '\n', n - at);
            end = p ? p - (const Py_UCS1 *)data : n;
        } else {
            while (end < n && PyUnicode_READ(kind, data, end) != '\n') end++;
        }
        Py_ssize_t s = at, e = end;
        while (s < e && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, s))) s++;
        while (e > s && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, e - 1))) e--;
        if (e > s) {
            if (count == cap) {
                cap *= 2;
                Line *grown = PyMem_Realloc(lines, cap * sizeof(Line));
                if (!grown) {
                    PyMem_Free(lines);
                    PyErr_NoMemory();
                    return -1;
                }
                lines = grown;
            }
            lines[count].start = s;
            lines[count].len = e - s;
            lines[count].flag = 0;
            lines[count].heading = 0;
            count++;
        }
        at = end + 1;
    }
    *out = lines;
    return count;
}

/* Whether ``match`` (a compiled regex's match method) matches the line: 1, 0, or -1 (an exception). */
static int line_matches(PyObject *text, const Line *line, PyObject *match) {
    PyObject *str = PyUnicode_Substring(text, line->start, line->start + line->len);
    if (!str) return -1;
    PyObject *found = PyObject_CallOneArg(match, str);
    Py_DECREF(str);
    if (!found) return -1;
    int matched = found != Py_None;
    Py_DECREF(found);
    return matched;
}

/* The numbered headings: a line shorter than ``threshold`` whose first character is one of ``first``'s (compared
 * here, so other lines cost no Python call) and whose regex ``heading`` matches it. 0 or -1 (an exception). */
static int heading_lines(PyObject *text, Line *lines, Py_ssize_t count, PyObject *first, PyObject *heading,
                         Py_ssize_t threshold) {
    int kind = PyUnicode_KIND(text), first_kind = PyUnicode_KIND(first);
    const void *data = PyUnicode_DATA(text), *first_data = PyUnicode_DATA(first);
    Py_ssize_t firsts = PyUnicode_GET_LENGTH(first);
    for (Py_ssize_t i = 0; i < count && firsts; i++) {
        if (lines[i].len >= threshold) continue;
        Py_UCS4 c = PyUnicode_READ(kind, data, lines[i].start);
        int candidate = 0;
        for (Py_ssize_t j = 0; j < firsts && !candidate; j++)
            candidate = PyUnicode_READ(first_kind, first_data, j) == c;
        if (!candidate) continue;
        if ((lines[i].heading = line_matches(text, &lines[i], heading)) < 0) return -1;
    }
    return 0;
}

/* ``_boilerplate_flags``: a line shorter than max_len whose first character is a key of ``table`` and whose
 * regex (the value) matches it. 0 or -1 (an exception from the lookup or the regex). */
static int flag_lines(PyObject *text, Line *lines, Py_ssize_t count, PyObject *table, Py_ssize_t max_len) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (lines[i].len >= max_len) continue;
        PyObject *first = PyUnicode_FromOrdinal(PyUnicode_READ(kind, data, lines[i].start));
        if (!first) return -1;
        PyObject *match = PyDict_GetItemWithError(table, first); /* borrowed */
        Py_DECREF(first);
        if (!match) {
            if (PyErr_Occurred()) return -1;
            continue;
        }
        if ((lines[i].flag = line_matches(text, &lines[i], match)) < 0) return -1;
    }
    return 0;
}

/* The unflagged lines of [start, end), or all of them when every one is flagged (``_drop_boilerplate_lines``):
 * marks them in ``keep`` and returns the sum of their lengths. */
static Py_ssize_t keep_unflagged(const Line *lines, Py_ssize_t start, Py_ssize_t end, char *keep) {
    Py_ssize_t chars = 0, kept = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        keep[i] = !lines[i].flag;
        if (keep[i]) {
            chars += lines[i].len;
            kept++;
        }
    }
    if (kept == 0) {
        for (Py_ssize_t i = start; i < end; i++) {
            keep[i] = 1;
            chars += lines[i].len;
        }
    }
    return chars;
}

static PyObject *trim(PyObject *self, PyObject *args) {
    PyObject *text, *table, *heading_first, *heading;
    Py_ssize_t line_cap, threshold, penalty, max_len, min_raw, sentence_end, sentence_score;
    double keep_ratio;
    if (!PyArg_ParseTuple(args, "UO!nnnnndnnUO", &text, &PyDict_Type, &table, &line_cap, &threshold, &penalty,
                          &max_len, &min_raw, &keep_ratio, &sentence_end, &sentence_score, &heading_first, &heading))
        return NULL;
    Line *lines = NULL;
    char *keep = NULL;
    PyObject *joined = NULL;
    Py_ssize_t count = find_lines(text, &lines);
    if (count < 0) return NULL;
    if (flag_lines(text, lines, count, table, max_len) < 0) goto done;
    if (heading_lines(text, lines, count, heading_first, heading, threshold) < 0) goto done;
    keep = PyMem_Malloc(count ? count : 1);
    if (!keep) {
        PyErr_NoMemory();
        goto done;
    }
    /* _span: Kadane's maximum-sum run of line scores */
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    long long best = 0, current = 0;
    Py_ssize_t best_start = 0, best_end = 0, current_start = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        long long score = (lines[i].len < line_cap ? lines[i].len : line_cap) - threshold;
        if (score < sentence_score
            && (Py_ssize_t)PyUnicode_READ(kind, data, lines[i].start + lines[i].len - 1) == sentence_end)
            score = sentence_score;
        if (score < 0 && lines[i].heading) score = 0;
        if (lines[i].flag) score -= penalty;
        if (current <= 0) {
            current = score;
            current_start = i;
        } else {
            current += score;
        }
        if (current > best) {
            best = current;
            best_start = current_start;
            best_end = i + 1;
        }
    }
    if (best <= 0) {
        best_start = 0;
        best_end = count;
    }
    memset(keep, 0, count ? count : 1);
    Py_ssize_t chars = keep_unflagged(lines, best_start, best_end, keep);
    if (min_raw >= 0) {
        Py_ssize_t raw_chars = 0;
        for (Py_ssize_t i = 0; i < count; i++) raw_chars += lines[i].len;
        if (raw_chars >= min_raw && (double)chars < keep_ratio * (double)raw_chars) {
            memset(keep, 0, count ? count : 1);
            chars = keep_unflagged(lines, 0, count, keep);
        }
    }
    /* the kept lines joined by "\n\n", written into one new str of the narrowest kind that holds them */
    Py_ssize_t kept = 0;
    Py_UCS4 maxchar = 127;
    int ascii = PyUnicode_IS_ASCII(text);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!keep[i]) continue;
        kept++;
        if (!ascii) {
            for (Py_ssize_t k = lines[i].start, e = lines[i].start + lines[i].len; k < e; k++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, k);
                if (c > maxchar) maxchar = c;
            }
        }
    }
    joined = PyUnicode_New(chars + (kept ? 2 * (kept - 1) : 0), maxchar);
    if (!joined) goto done;
    Py_ssize_t at = 0;
    int out_kind = PyUnicode_KIND(joined);
    void *out = PyUnicode_DATA(joined);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!keep[i]) continue;
        if (at) {
            PyUnicode_WRITE(out_kind, out, at, '\n');
            PyUnicode_WRITE(out_kind, out, at + 1, '\n');
            at += 2;
        }
        /* not PyUnicode_CopyCharacters: CPython 3.11's check of a Latin-1 range copied into an ASCII str looks
         * at the source's first characters, not at the range, and refuses valid copies */
        if (out_kind == kind) {
            memcpy((char *)out + at * kind, (const char *)data + lines[i].start * kind, lines[i].len * kind);
        } else {
            for (Py_ssize_t k = 0; k < lines[i].len; k++)
                PyUnicode_WRITE(out_kind, out, at + k, PyUnicode_READ(kind, data, lines[i].start + k));
        }
        at += lines[i].len;
    }
    PyMem_Free(lines);
    PyMem_Free(keep);
    return Py_BuildValue("(Nn)", joined, chars);
done:
    PyMem_Free(lines);
    PyMem_Free(keep);
    return NULL;
}

static PyMethodDef methods[] = {
    {"trim", trim, METH_VARARGS,
     "trim(text, table, line_cap, threshold, penalty, max_len, min_raw, keep_ratio, sentence_end, sentence_score, "
     "heading_first, heading) -> "
     "(kept lines joined by \"\\n\\n\", their total length): pipeline.extract.html's line trimming (see the module "
     "comment)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
