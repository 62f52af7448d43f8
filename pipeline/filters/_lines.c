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
 *   ascii_lower(text) -> bytes or None: C4's ASCII-lowered view of a text beyond ASCII (see c4._ascii_lower)
 *   line_ends(text) -> int64 bytes: the end of each line of text.splitlines(keepends=True) (C4 finds the
 *       line of a position with them)
 *   length_counts(text, unicode_words) -> (characters not in " \t\n\r\f\v", words): the length filter's
 *       counts; words are len(text.split()) (unicode_words) or runs of characters outside " \t\n\r\f\v"
 *   special_lines(text, marks, phrases, longest) -> list of int: C4's lines that a rule other than the word
 *       count may remove (see c4._special_lines), in one pass without the lowered copy, the phrase searches,
 *       the line ends and their binary searches (the Kelvin sign and "İ" included)
 *   class_counts(text, table, limit, n) -> list of n ints: how many of the first ``limit`` code points c of
 *       text have table[c] == k, for each k < n (``table``: a bytes-like of 0x110000 uint8 classes, each < n);
 *       segment.script_counts without the UTF-32 copy, the index array and the bincount (issue 13: ~2.5 ns
 *       a character on zhwiki, whose articles are shorter than the 20,000 characters looked at)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_unicode.h"

/* Whether any of the four 16-bit lanes of w is below c (c <= 0x8000): a lane below c borrows into its top
 * bit, which its complement has set; a borrow only spreads upwards from such a lane, so "any" is exact. Used
 * to pass over four UCS-2 units at once where none can be a line break or a counted mark (most of a Chinese
 * text: ideographs and full-width punctuation are all above U+3000). */
#define LANES 0x0001000100010001ULL
static inline int any_below16(uint64_t w, uint64_t c) {
    return ((w - LANES * c) & ~w & (LANES << 15)) != 0;
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

/* The positions of every "\n" of text[0:n], then n (a sentinel); their number in *count. NULL: no memory. */
static Py_ssize_t *newline_positions(int kind, const void *data, Py_ssize_t n, Py_ssize_t *count) {
    Py_ssize_t len = 0, cap = 64;
    Py_ssize_t *nl = malloc((size_t)cap * sizeof(Py_ssize_t));
    for (Py_ssize_t i = next_newline(kind, data, 0, n); nl; i = next_newline(kind, data, i + 1, n)) {
        if (len == cap) {
            cap *= 2;
            Py_ssize_t *grown = realloc(nl, (size_t)cap * sizeof(Py_ssize_t));
            if (!grown) free(nl);
            nl = grown;
            if (!nl) break;
        }
        nl[len] = i;
        if (i == n) break;
        len++;
    }
    *count = len;
    return nl;
}

static PyObject *repetition(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "repetition: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const unsigned char *base = data;
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), breaks;
    long long paras = 0, para_dups = 0, para_chars = 0, lines = 0, line_dups = 0, line_chars = 0;
    Py_ssize_t *nl = newline_positions(kind, data, n, &breaks);
    Seen seen = {0};
    if (!nl || seen_init(&seen, breaks + 1) < 0) {
        free(nl);
        seen_free(&seen);
        return PyErr_NoMemory();
    }
    /* paragraphs: text.strip().split("\n\n"), empty pieces dropped and a leading "\n" cut when there are two
     * or more pieces */
    Py_ssize_t a = 0, b = n;
    while (a < b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, a))) a++;
    while (b > a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, b - 1))) b--;
    Py_ssize_t pos = a, k = 0;
    int several = 0;
    for (;;) {
        Py_ssize_t sep = b; /* the next "\n\n" in [pos, b): a newline whose next position is one too */
        while (k < breaks && nl[k] < pos) k++;
        for (; k < breaks && nl[k] + 1 < b; k++) {
            if (nl[k + 1] == nl[k] + 1) {
                sep = nl[k];
                break;
            }
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
        Py_ssize_t end = nl[piece];
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
    free(nl);
    return Py_BuildValue("LLLLLL", paras, para_dups, para_chars, lines, line_dups, line_chars);
}

typedef struct {
    long long lines, bullets, ellipsis_lines, hashes, dots, ellipses;
} Quality;

/* One line text[start:end] of splitlines(), stripped: a bullet first or an ellipsis last. */
static void quality_line(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Quality *q) {
    Py_ssize_t a = start, b = end;
    while (a < b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, a))) a++;
    while (b > a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, b - 1))) b--;
    q->lines++;
    if (b > a) {
        Py_UCS4 first = PyUnicode_READ(kind, data, a), last = PyUnicode_READ(kind, data, b - 1);
        q->bullets += first == 0x2022 || first == '-';
        q->ellipsis_lines += last == 0x2026 || (b - a >= 3 && last == '.' && PyUnicode_READ(kind, data, b - 2) == '.' &&
                                                PyUnicode_READ(kind, data, b - 3) == '.');
    }
}

/* The marks and lines of text[0:n], code units of type T (one loop per storage width). "..." is counted as
 * str.count counts it: non-overlapping, from the left (run: consecutive "." not yet counted). */
#define QUALITY_SCAN(T, WIDE)                                                                         \
    do {                                                                                              \
        const T *d = data;                                                                            \
        Py_ssize_t run = 0;                                                                           \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            if (WIDE && i + 4 <= n) { /* four units above U+2029: nothing to count, no break */      \
                uint64_t w;                                                                           \
                memcpy(&w, d + i, 8);                                                                 \
                if (!any_below16(w, 0x202A)) {                                                        \
                    run = 0;                                                                          \
                    i += 3;                                                                           \
                    continue;                                                                         \
                }                                                                                     \
            }                                                                                         \
            Py_UCS4 c = d[i];                                                                         \
            if (c > 0x2029) { /* most characters of Chinese text: no mark counted here, no break */   \
                run = 0;                                                                              \
                continue;                                                                             \
            }                                                                                         \
            if (c == '.') {                                                                           \
                if (++run == 3) {                                                                     \
                    q.dots++;                                                                         \
                    run = 0;                                                                          \
                }                                                                                     \
                continue;                                                                             \
            }                                                                                         \
            run = 0;                                                                                  \
            if (c == '#') q.hashes++;                                                                 \
            else if (c == 0x2026) q.ellipses++;                                                       \
            if (!is_linebreak(c)) continue;                                                           \
            quality_line(kind, data, start, i, &q);                                                   \
            if (c == '\r' && i + 1 < n && d[i + 1] == '\n') i++; /* "\r\n": one break */              \
            start = i + 1;                                                                            \
        }                                                                                             \
    } while (0)

static PyObject *quality(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "quality: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), start = 0;
    Quality q = {0};
    if (kind == PyUnicode_1BYTE_KIND) QUALITY_SCAN(Py_UCS1, 0);
    else if (kind == PyUnicode_2BYTE_KIND) QUALITY_SCAN(Py_UCS2, 1);
    else QUALITY_SCAN(Py_UCS4, 0);
    if (start < n) quality_line(kind, data, start, n, &q); /* an unterminated last line */
    if (!q.lines) q.lines = 1; /* text.splitlines() or [""]: one empty line */
    return Py_BuildValue("LLLLLL", q.lines, q.bullets, q.ellipsis_lines, q.hashes, q.dots, q.ellipses);
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
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), breaks;
    long long lines = 0, punct = 0, short_lines = 0, dup_chars = 0;
    Py_ssize_t *nl = newline_positions(kind, data, n, &breaks);
    Seen seen = {0};
    if (!nl || seen_init(&seen, breaks + 1) < 0) {
        free(nl);
        seen_free(&seen);
        PyMem_Free(marks);
        return PyErr_NoMemory();
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t piece = 0; piece <= breaks; piece++) {
        Py_ssize_t end = nl[piece], a = start;
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
    free(nl);
    PyMem_Free(marks);
    return Py_BuildValue("LLLLn", lines, punct, short_lines, dup_chars, breaks);
}

/* The positions just after each line break in text[0:n] (str.splitlines(): "\r\n" one break), code units of
 * type T: one loop per storage width, so the common character costs a load and a compare. */
#define BREAK_ENDS(T, WIDE)                                                                            \
    do {                                                                                               \
        const T *d = data;                                                                             \
        for (Py_ssize_t i = 0; i < n; i++) {                                                           \
            if (WIDE && i + 4 <= n) { /* four units above U+2029: no break among them */             \
                uint64_t w;                                                                            \
                memcpy(&w, d + i, 8);                                                                  \
                if (!any_below16(w, 0x202A)) {                                                         \
                    i += 3;                                                                            \
                    continue;                                                                          \
                }                                                                                      \
            }                                                                                          \
            Py_UCS4 c = d[i];                                                                          \
            if (c > 0x2029 || !is_linebreak(c)) continue;                                              \
            if (c == '\r' && i + 1 < n && d[i + 1] == '\n') i++;                                       \
            if (len == cap) {                                                                          \
                cap = cap ? 2 * cap : 1024;                                                            \
                int64_t *grown = realloc(ends, (size_t)cap * sizeof(int64_t));                         \
                if (!grown) goto nomem;                                                                \
                ends = grown;                                                                          \
            }                                                                                          \
            ends[len++] = i + 1;                                                                       \
        }                                                                                              \
    } while (0)

static PyObject *line_ends(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "line_ends: a str is needed");
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), len = 0, cap = 0;
    int64_t *ends = NULL;
    if (kind == PyUnicode_1BYTE_KIND) BREAK_ENDS(Py_UCS1, 0);
    else if (kind == PyUnicode_2BYTE_KIND) BREAK_ENDS(Py_UCS2, 1);
    else BREAK_ENDS(Py_UCS4, 0);
    Py_ssize_t last = len ? ends[len - 1] : 0;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (len + (last < n)) * (Py_ssize_t)sizeof(int64_t));
    if (out) {
        if (len) memcpy(PyBytes_AS_STRING(out), ends, (size_t)len * sizeof(int64_t));
        if (last < n) ((int64_t *)PyBytes_AS_STRING(out))[len] = n; /* an unterminated last line */
    }
    free(ends);
    return out;
nomem:
    free(ends);
    return PyErr_NoMemory();
}

/* The text's ASCII characters lowered and every other one a "?", as bytes (text.encode("ascii", "replace")
 * .lower() in one pass), or None when the text holds the Kelvin sign or "İ" (whose lower() is ASCII or two
 * characters: the caller lowers the str itself). */
#define ASCII_LOWER(T, WIDE)                                                                          \
    do {                                                                                              \
        const T *d = data;                                                                            \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            if (WIDE && i + 4 <= n) { /* four units above U+212A: four "?" */                        \
                uint64_t w;                                                                           \
                memcpy(&w, d + i, 8);                                                                 \
                if (!any_below16(w, 0x212B)) {                                                        \
                    memcpy(o + i, "????", 4);                                                         \
                    i += 3;                                                                           \
                    continue;                                                                         \
                }                                                                                     \
            }                                                                                         \
            Py_UCS4 c = d[i];                                                                         \
            if (c < 0x80) o[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);                           \
            else if (c == 0x212a || c == 0x130) special = 1;                                          \
            else o[i] = '?';                                                                          \
        }                                                                                             \
    } while (0)

static PyObject *ascii_lower(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) return PyErr_Format(PyExc_TypeError, "ascii_lower: a str is needed");
    int kind = PyUnicode_KIND(arg), special = 0;
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (!out) return NULL;
    char *o = PyBytes_AS_STRING(out);
    if (kind == PyUnicode_1BYTE_KIND) ASCII_LOWER(Py_UCS1, 0);
    else if (kind == PyUnicode_2BYTE_KIND) ASCII_LOWER(Py_UCS2, 1);
    else ASCII_LOWER(Py_UCS4, 0);
    if (special) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    return out;
}

/* C4's special lines (c4._special_lines): the numbers of the lines of text.splitlines() that hold a character
 * of ``marks`` (ASCII), that hold a phrase of ``phrases`` (ASCII lower case) in text.lower(), or whose
 * stripped length is above ``longest`` (-1: none is). Why: per document these were a lowered copy, two str
 * and eight bytes searches, the line ends and a binary search per hit, each with its own Python call (issue
 * 13: a fixed cost per document that weighs most on short documents). A phrase holds no line break.
 *
 * text.lower() is read without being made: an ASCII character lowers to ASCII, the Kelvin sign (U+212A) to
 * "k", "İ" (U+0130) to "i" and a combining dot (two characters), every other character to characters
 * beyond ASCII, which no phrase holds. So the Kelvin sign is compared as "k"; "İ" as an "i" that can only
 * end a phrase (the dot after it matches nothing). A text with "İ" has more lowered characters than
 * characters, so C4 (as c4.python_special_lines, the reference) then names every line when a mark or a
 * phrase is found anywhere, and only the over-long lines otherwise. */
#define MAX_PHRASES 16
#define C_BREAK 1
#define C_MARK 2   /* a mark, or a one-character phrase (either case) */
#define C_FIRST 4  /* may start a phrase (either case) */
#define C_SINGLE 8 /* a one-character phrase (lower case) */
#define DOTTED_I 0x169 /* what lowered() gives for "İ": "i" (0x69) flagged, since only a phrase's end may match it */
/* The lowered ASCII character a code unit stands for in a phrase: DOTTED_I for "İ", -1 beyond ASCII. */
static inline int lowered(Py_UCS4 c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? (int)c + 32 : (int)c;
    return c == 0x212a ? 'k' : c == 0x130 ? DOTTED_I : -1;
}
/* One line ends at ``stop`` (its break, or the text's end); the next starts after ``i``. */
#define END_OF_LINE(stop)                                                                             \
    do {                                                                                              \
        if (end_line(data, kind, line_start, (stop), longest) && add_line(&found, line) < 0)          \
            goto error;                                                                               \
        line++;                                                                                       \
        line_start = i + 1;                                                                           \
        marked = 0;                                                                                   \
    } while (0)
/* Whether a phrase of two or more characters whose first lowered character is l0 starts at i (sets marked). */
#define PHRASE_AT(l0)                                                                                 \
    do {                                                                                              \
        for (int p = 0; p < n_phrases && !marked; p++) {                                              \
            Py_ssize_t m = plen[p];                                                                   \
            if (m < 2 || (int)(unsigned char)ptext[p][0] != (l0) || i + m > n) continue;             \
            Py_ssize_t j = 1;                                                                         \
            for (; j < m; j++) {                                                                      \
                int x = lowered(d[i + j]), want = (unsigned char)ptext[p][j];                         \
                if (x != want && !(x == DOTTED_I && want == 'i' && j == m - 1)) break;                \
            }                                                                                         \
            marked = j == m;                                                                          \
        }                                                                                             \
    } while (0)
/* Code units below 256 are classified by ``cls`` (one load for the common character); a phrase is
 * compared only where its first two characters match (``pair``: a bit per lowered second character). Past
 * a unit above U+212A, four units at a time are passed over while none is ASCII, Latin-1, a break, the
 * Kelvin sign or "İ" (most of a Chinese text). */
#define SPECIAL_LINES(T, WIDE)                                                                        \
    do {                                                                                              \
        const T *d = data;                                                                            \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            Py_UCS4 c = d[i];                                                                         \
            if (c >= 256) {                                                                           \
                if (c == 0x212a || c == 0x130) { /* lowered: "k", or "i" and a dot */                 \
                    dotted |= c == 0x130;                                                             \
                    if (marked) continue;                                                             \
                    unsigned char l = c == 0x130 ? 'i' : 'k';                                         \
                    if (cls[l] & C_SINGLE) marked = 1;                                                \
                    else if (c == 0x212a && (cls[l] & C_FIRST)) PHRASE_AT(l);                         \
                    if (marked && add_hit(&found, line, &hit) < 0) goto error;                \
                    continue;                                                                         \
                }                                                                                     \
                if (c <= 0x2029 && is_linebreak(c)) {                                                 \
                    END_OF_LINE(i);                                                                   \
                    continue;                                                                         \
                }                                                                                     \
                if (WIDE && c > 0x212a) {                                                             \
                    while (i + 5 <= n) {                                                              \
                        uint64_t w;                                                                   \
                        memcpy(&w, d + i + 1, 8);                                                     \
                        if (any_below16(w, 0x212B)) break;                                            \
                        i += 4;                                                                       \
                    }                                                                                 \
                }                                                                                     \
                continue;                                                                             \
            }                                                                                         \
            unsigned char k = cls[c];                                                                 \
            if (!k) continue;                                                                         \
            if (k & C_BREAK) {                                                                        \
                Py_ssize_t stop = i;                                                                  \
                if (c == '\r' && i + 1 < n && d[i + 1] == '\n') i++;                                  \
                END_OF_LINE(stop);                                                                    \
                continue;                                                                             \
            }                                                                                         \
            if (marked) continue;                                                                     \
            if (k & C_MARK) {                                                                         \
                marked = 1;                                                                           \
            } else if (i + 1 < n) {                                                                   \
                int l2 = lowered(d[i + 1]);                                                           \
                if (l2 == DOTTED_I) l2 = 'i';                                                         \
                if (l2 >= 0 && ((pair[lower_ascii(c)][l2 >> 6] >> (l2 & 63)) & 1))                    \
                    PHRASE_AT((int)lower_ascii(c));                                                   \
            }                                                                                         \
            if (marked && add_hit(&found, line, &hit) < 0) goto error;                        \
        }                                                                                             \
    } while (0)

static inline Py_UCS4 lower_ascii(Py_UCS4 c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Whether text[start:stop] (one line, without its break) is longer than ``longest`` once stripped. */
static int end_line(const void *data, int kind, Py_ssize_t start, Py_ssize_t stop, long long longest) {
    if (longest < 0 || stop - start <= longest) return 0;
    while (start < stop && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start))) start++;
    while (stop > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, stop - 1))) stop--;
    return stop - start > longest;
}

/* Append ``line`` to the list unless it is already its last item (lines are found in order). */
static int add_line(PyObject **found, Py_ssize_t line) {
    if (!*found && !(*found = PyList_New(0))) return -1;
    Py_ssize_t k = PyList_GET_SIZE(*found);
    if (k && PyLong_AsSsize_t(PyList_GET_ITEM(*found, k - 1)) == line) return 0;
    PyObject *v = PyLong_FromSsize_t(line);
    if (!v) return -1;
    int r = PyList_Append(*found, v);
    Py_DECREF(v);
    return r;
}

/* add_line for a line marked by a mark or a phrase (*hit: one was found). */
static int add_hit(PyObject **found, Py_ssize_t line, int *hit) {
    *hit = 1;
    return add_line(found, line);
}

static PyObject *special_lines(PyObject *self, PyObject *args) {
    PyObject *text, *marks_obj, *phrases;
    long long longest;
    if (!PyArg_ParseTuple(args, "UUO!L", &text, &marks_obj, &PyTuple_Type, &phrases, &longest)) return NULL;
    Py_ssize_t n_phrases = PyTuple_GET_SIZE(phrases);
    if (n_phrases > MAX_PHRASES) return PyErr_Format(PyExc_ValueError, "special_lines: at most %d phrases", MAX_PHRASES);
    const char *ptext[MAX_PHRASES];
    Py_ssize_t plen[MAX_PHRASES];
    unsigned char cls[256] = {0};
    uint64_t pair[128][2] = {{0}};
    for (Py_UCS4 c = 0; c < 256; c++)
        if (is_linebreak(c)) cls[c] = C_BREAK;
    for (Py_ssize_t p = 0; p < n_phrases; p++) {
        PyObject *phrase = PyTuple_GET_ITEM(phrases, p);
        if (!PyUnicode_Check(phrase) || !PyUnicode_IS_ASCII(phrase) || PyUnicode_GET_LENGTH(phrase) == 0)
            return PyErr_Format(PyExc_ValueError, "special_lines: phrases are non-empty ASCII str");
        ptext[p] = (const char *)PyUnicode_1BYTE_DATA(phrase);
        plen[p] = PyUnicode_GET_LENGTH(phrase);
        for (Py_ssize_t j = 0; j < plen[p]; j++) {
            char c = ptext[p][j];
            if ((c >= 'A' && c <= 'Z') || c == '\n' || c == '\r')
                return PyErr_Format(PyExc_ValueError, "special_lines: phrases are lower case, one line");
        }
        unsigned char c0 = (unsigned char)ptext[p][0], upper = c0 >= 'a' && c0 <= 'z' ? c0 - 32 : c0;
        if (plen[p] == 1) { /* a one-character phrase marks its line like a mark */
            cls[c0] |= C_MARK | C_SINGLE;
            cls[upper] |= C_MARK;
        } else {
            unsigned char c1 = (unsigned char)ptext[p][1];
            cls[c0] |= C_FIRST;
            cls[upper] |= C_FIRST;
            pair[c0][c1 >> 6] |= 1ULL << (c1 & 63);
        }
    }
    if (!PyUnicode_IS_ASCII(marks_obj)) return PyErr_Format(PyExc_ValueError, "special_lines: ASCII marks");
    for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(marks_obj); j++) {
        unsigned char c = PyUnicode_1BYTE_DATA(marks_obj)[j];
        if (c < 0x20) return PyErr_Format(PyExc_ValueError, "special_lines: marks are printable");
        cls[c] |= C_MARK;
    }
    int kind = PyUnicode_KIND(text), marked = 0, hit = 0, dotted = 0;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), line = 0, line_start = 0;
    PyObject *found = NULL;
    if (kind == PyUnicode_1BYTE_KIND) SPECIAL_LINES(Py_UCS1, 0);
    else if (kind == PyUnicode_2BYTE_KIND) SPECIAL_LINES(Py_UCS2, 1);
    else SPECIAL_LINES(Py_UCS4, 0);
    if (line_start < n && end_line(data, kind, line_start, n, longest) && add_line(&found, line) < 0)
        goto error;
    if (dotted && hit) { /* lowered positions no longer match the lines: every line */
        Py_XDECREF(found);
        Py_ssize_t lines = line + (line_start < n);
        if (!(found = PyList_New(lines))) return NULL;
        for (Py_ssize_t j = 0; j < lines; j++) {
            PyObject *v = PyLong_FromSsize_t(j);
            if (!v) goto error;
            PyList_SET_ITEM(found, j, v);
        }
    }
    return found ? found : PyList_New(0);
error:
    Py_XDECREF(found);
    return NULL;
}

/* The length filter's counts (length.LengthFilter.signal) in one pass: characters outside the six ASCII
 * spaces " \t\n\r\f\v" (len(text) - sum(map(text.count, " \t\n\r\f\v"))), and words: with ``unicode_words``
 * len(text.split()) (runs outside Py_UNICODE_ISSPACE), else runs outside the six ASCII spaces (length.
 * count_words, for a text too long to split). Why: str.split() made a str per word of every document, and the
 * six counts were six more passes (issue 19: about a tenth of the filter stage over the 10x run). Every
 * Unicode space is at most U+3000, so four UCS-2 units above it are four non-spaces at once. */
static inline int ascii6(Py_UCS4 c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

#define LENGTH_COUNTS(T, WIDE)                                                                        \
    do {                                                                                              \
        const T *d = data;                                                                            \
        for (Py_ssize_t i = 0; i < n; i++) {                                                          \
            if (WIDE && i + 4 <= n) {                                                                 \
                uint64_t w;                                                                           \
                memcpy(&w, d + i, 8);                                                                 \
                if (!any_below16(w, 0x3001)) {                                                        \
                    words += in_space;                                                                \
                    in_space = 0;                                                                     \
                    i += 3;                                                                           \
                    continue;                                                                         \
                }                                                                                     \
            }                                                                                         \
            Py_UCS4 c = d[i];                                                                         \
            int six = c <= ' ' && ascii6(c);                                                          \
            spaces += six;                                                                            \
            int space = unicode_words ? c <= 0x3000 && Py_UNICODE_ISSPACE(c) : six;                  \
            words += in_space & !space;                                                               \
            in_space = space;                                                                         \
        }                                                                                             \
    } while (0)

static PyObject *length_counts(PyObject *self, PyObject *args) {
    PyObject *text;
    int unicode_words;
    if (!PyArg_ParseTuple(args, "Up", &text, &unicode_words)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), spaces = 0, words = 0;
    int in_space = 1; /* a word starts where a non-space follows a space or the text's start */
    if (kind == PyUnicode_1BYTE_KIND) LENGTH_COUNTS(Py_UCS1, 0);
    else if (kind == PyUnicode_2BYTE_KIND) LENGTH_COUNTS(Py_UCS2, 1);
    else LENGTH_COUNTS(Py_UCS4, 0);
    return Py_BuildValue("nn", n - spaces, words);
}

/* Four tables of counts taken in turn: one table's increments of the same class (a text of one script) would
 * each wait for the one before through memory. */
#define CLASS_COUNTS(T)                                                      \
    do {                                                                     \
        const T *d = (const T *)data;                                        \
        Py_ssize_t i = 0;                                                    \
        for (; i + 4 <= n; i += 4) {                                         \
            counts[classes[d[i]]]++;                                         \
            counts[256 + classes[d[i + 1]]]++;                               \
            counts[512 + classes[d[i + 2]]]++;                               \
            counts[768 + classes[d[i + 3]]]++;                               \
        }                                                                    \
        for (; i < n; i++) counts[classes[d[i]]]++;                          \
    } while (0)

static PyObject *class_counts(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer table;
    Py_ssize_t limit, n_classes;
    if (!PyArg_ParseTuple(args, "Uy*nn", &text, &table, &limit, &n_classes)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t *counts = NULL;
    if (table.len != 0x110000 || limit < 0 || n_classes < 1 || n_classes > 256) {
        PyErr_SetString(PyExc_ValueError, "class_counts: a table of 0x110000 bytes, limit >= 0, 1 <= n <= 256");
        goto done;
    }
    const unsigned char *classes = table.buf;
    if (!(counts = PyMem_Calloc(4 * 256, sizeof(Py_ssize_t)))) { /* every byte value: no bound check per character */
        PyErr_NoMemory();
        goto done;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n > limit) n = limit;
    if (kind == PyUnicode_1BYTE_KIND) CLASS_COUNTS(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND) CLASS_COUNTS(Py_UCS2);
    else CLASS_COUNTS(Py_UCS4);
    for (int k = 0; k < 256; k++) counts[k] += counts[256 + k] + counts[512 + k] + counts[768 + k];
    for (Py_ssize_t k = n_classes; k < 256; k++)
        if (counts[k]) {
            PyErr_Format(PyExc_ValueError, "class_counts: the table holds class %zd, not below %zd", k, n_classes);
            goto done;
        }
    if (!(out = PyList_New(n_classes))) goto done;
    for (Py_ssize_t k = 0; k < n_classes; k++) {
        PyObject *v = PyLong_FromSsize_t(counts[k]);
        if (!v) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, k, v);
    }
done:
    PyMem_Free(counts);
    PyBuffer_Release(&table);
    return out;
}

static PyMethodDef methods[] = {
    {"repetition", repetition, METH_O,
     "repetition(text) -> (paragraphs, repeated, their chars, lines, repeated, their chars) of Gopher repetition"},
    {"quality", quality, METH_O,
     "quality(text) -> (lines, bullet lines, ellipsis lines, '#', '...', '…') of Gopher quality"},
    {"fineweb", fineweb, METH_VARARGS,
     "fineweb(text, terminal, short) -> (lines, ending in a mark, short, repeated line chars, newlines)"},
    {"ascii_lower", ascii_lower, METH_O,
     "ascii_lower(text) -> text.encode('ascii', 'replace').lower(), or None if it holds U+212A or U+0130"},
    {"line_ends", line_ends, METH_O,
     "line_ends(text) -> int64 bytes: where each line of text.splitlines(keepends=True) ends"},
    {"length_counts", length_counts, METH_VARARGS,
     "length_counts(text, unicode_words) -> (characters outside the six ASCII spaces, words)"},
    {"special_lines", special_lines, METH_VARARGS,
     "special_lines(text, marks, phrases, longest) -> C4's lines with a mark, a phrase of text.lower() or a "
     "longer stripped line (numbers, in order)"},
    {"class_counts", class_counts, METH_VARARGS,
     "class_counts(text, table, limit, n) -> [how many of text[:limit]'s code points c have table[c] == k, for k < n]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines",
                                    "Line and paragraph counts of the word filters, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
