/* Gopher repetition's n-gram character fractions in one compiled pass (Rae et al. 2021, table A1).
 *
 * Why C: the numpy version (pipeline.filters.gopher.hashed_ngram_fractions, kept as the fallback and the
 * reference) sorts every n-gram array and runs its greedy duplicate scan as a Python loop; that was about
 * a tenth of the filter chain's time. Here each n uses one open-addressing hash table over the same
 * 64-bit n-gram hashes, so the results are equal bit for bit (tests/pipeline/filters/test_gopher.py).
 *
 *   ngram_fractions(keys: uint64 buffer, lengths: int64 buffer, n_chars: int)
 *       -> (top_2, top_3, top_4, dup_5, ..., dup_10)
 *
 * keys: one hash per word; lengths: characters per word. An n-gram's hash is h(n) = h(n-1) * M + key,
 * its characters are its words' characters plus the n-1 spaces that join them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MULTIPLIER 0x9E3779B97F4A7C15ULL
#define TOP_MIN 2
#define TOP_MAX 4
#define DUP_MIN 5
#define DUP_MAX 10

/* An open-addressing table of (hash value -> count, first position); sized to a power of two. A slot is
 * in use when its stamp is the table's epoch: clearing the table is a new epoch, not a pass over it (the
 * table is sized for every token, and clearing it for each n was 2-4 bytes written per token each time). */
typedef struct {
    uint64_t *key;
    int64_t *count;
    int64_t *first;
    uint32_t *stamp; /* != epoch marks an empty slot */
    uint32_t epoch;
    size_t mask, cap;
} Table;

static int table_init(Table *t, size_t items) {
    size_t cap = 16;
    while (cap < 2 * items) cap <<= 1;
    t->mask = cap - 1;
    t->cap = cap;
    t->epoch = 1;
    t->key = malloc(cap * sizeof(uint64_t));
    t->count = malloc(cap * sizeof(int64_t));
    t->first = malloc(cap * sizeof(int64_t));
    t->stamp = calloc(cap, sizeof(uint32_t));
    return t->key && t->count && t->first && t->stamp;
}

static void table_clear(Table *t) {
    if (++t->epoch == 0) { /* wrapped (never within one call: at most ten clears) */
        memset(t->stamp, 0, t->cap * sizeof(uint32_t));
        t->epoch = 1;
    }
}

static void table_free(Table *t) {
    free(t->key);
    free(t->count);
    free(t->first);
    free(t->stamp);
}

static inline size_t slot_of(uint64_t v, size_t mask) {
    /* the keys are already hashes, but mix once more so that sequential patterns spread */
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    return (size_t)v & mask;
}

/* Count one occurrence of v at position pos; returns its slot. */
static inline size_t table_add(Table *t, uint64_t v, int64_t pos) {
    size_t s = slot_of(v, t->mask);
    while (t->stamp[s] == t->epoch && t->key[s] != v) s = (s + 1) & t->mask;
    if (t->stamp[s] != t->epoch) {
        t->stamp[s] = t->epoch;
        t->key[s] = v;
        t->first[s] = pos;
        t->count[s] = 0;
    }
    t->count[s]++;
    return s;
}

static PyObject *ngram_fractions(PyObject *self, PyObject *args) {
    Py_buffer kb, lb;
    long long n_chars;
    if (!PyArg_ParseTuple(args, "y*y*L", &kb, &lb, &n_chars)) return NULL;
    double out[(TOP_MAX - TOP_MIN + 1) + (DUP_MAX - DUP_MIN + 1)] = {0};
    Py_ssize_t len = kb.len / (Py_ssize_t)sizeof(uint64_t);
    if (lb.len != len * (Py_ssize_t)sizeof(int64_t)) {
        PyBuffer_Release(&kb);
        PyBuffer_Release(&lb);
        PyErr_SetString(PyExc_ValueError, "keys (uint64) and lengths (int64) must have the same length");
        return NULL;
    }
    const uint64_t *keys = kb.buf;
    const int64_t *lengths = lb.buf;
    int failed = 0;
    if (len >= 2 && n_chars) {
        uint64_t *h = malloc(len * sizeof(uint64_t));
        int64_t *cum = malloc((len + 1) * sizeof(int64_t));
        int64_t *cand = malloc(len * sizeof(int64_t));
        size_t *slot = malloc(len * sizeof(size_t));
        Table t = {0};
        if (!h || !cum || !cand || !slot || !table_init(&t, (size_t)len)) {
            failed = 1;
        } else {
            Py_BEGIN_ALLOW_THREADS
            cum[0] = 0;
            for (Py_ssize_t i = 0; i < len; i++) cum[i + 1] = cum[i] + lengths[i];
            /* Top n-grams, n = 2..4. An n-gram that repeats starts where an (n-1)-gram repeats, so the 2-gram
             * pass visits every position and the 3- and 4-gram passes only the positions whose shorter n-gram
             * repeats (about half and an eighth of them on Chinese and English text): the same top count and
             * earliest position, since every occurrence of a repeated n-gram is visited, in order. ``h`` holds
             * the current n-gram's hash at the visited positions only. */
            Py_ssize_t n_cand = 0;
            for (int n = TOP_MIN; n <= TOP_MAX; n++) {
                if (len < n) break;
                Py_ssize_t m = len - n + 1; /* n-grams starting at 0 .. m-1 */
                int64_t top = 0, best = 0;
                Py_ssize_t visited;
                if (n == TOP_MIN) { /* every position; the table is empty (calloc) */
                    for (Py_ssize_t i = 0; i < m; i++) {
                        h[i] = keys[i] * MULTIPLIER + keys[i + 1];
                        size_t s = table_add(&t, h[i], i);
                        slot[i] = s;
                        int64_t c = t.count[s];
                        if (c > top || (c == top && t.first[s] < best)) {
                            top = c;
                            best = t.first[s];
                        }
                    }
                    for (Py_ssize_t i = 0; i < m; i++) cand[i] = i;
                    visited = m;
                } else { /* the previous n's repeated positions that still start an n-gram */
                    Py_ssize_t k = 0;
                    for (Py_ssize_t j = 0; j < n_cand; j++)
                        if (cand[j] < m) cand[k++] = cand[j];
                    size_t cap = 16;
                    while (cap < 2 * (size_t)k) cap <<= 1;
                    if (cap - 1 < t.mask) t.mask = cap - 1; /* fewer n-grams: a smaller part of the table */
                    table_clear(&t);
                    for (Py_ssize_t j = 0; j < k; j++) {
                        Py_ssize_t i = cand[j];
                        h[i] = h[i] * MULTIPLIER + keys[i + n - 1];
                        size_t s = table_add(&t, h[i], i);
                        slot[j] = s;
                        int64_t c = t.count[s];
                        if (c > top || (c == top && t.first[s] < best)) {
                            top = c;
                            best = t.first[s];
                        }
                    }
                    visited = k;
                }
                if (top <= 1) { /* no n-gram repeats (or none visited): every n-gram occurs once */
                    top = 1;
                    best = 0;
                }
                out[n - TOP_MIN] = (double)((cum[best + n] - cum[best] + n - 1) * top) / (double)n_chars;
                /* keep the visited positions whose n-gram repeats */
                n_cand = 0;
                for (Py_ssize_t j = 0; j < visited; j++)
                    if (t.count[slot[j]] > 1) cand[n_cand++] = cand[j];
            }
            /* Duplicate n-grams, n = 5..10: ``cand`` holds the positions of repeated 4-grams (when n_cand > 0) */
            for (int n = DUP_MIN; n <= DUP_MAX && n_cand; n++) {
                if (len < n) break;
                Py_ssize_t m = len - n + 1;
                /* keep the candidates whose n-gram repeats; a repeat's every occurrence is a candidate. The
                 * table holds at most n_cand n-grams from here on: only that much of it is used (a table
                 * sized for every token spreads the few candidates over more cache lines) */
                Py_ssize_t k = 0;
                for (Py_ssize_t j = 0; j < n_cand; j++)
                    if (cand[j] < m) cand[k++] = cand[j];
                n_cand = k;
                size_t cap = 16;
                while (cap < 2 * (size_t)n_cand) cap <<= 1;
                if (cap - 1 < t.mask) t.mask = cap - 1;
                table_clear(&t);
                for (Py_ssize_t j = 0; j < n_cand; j++) {
                    Py_ssize_t i = cand[j];
                    h[i] = h[i] * MULTIPLIER + keys[i + n - 1]; /* the n-gram's hash, at candidates only */
                    slot[j] = table_add(&t, h[i], i);
                }
                k = 0;
                for (Py_ssize_t j = 0; j < n_cand; j++)
                    if (t.count[slot[j]] > 1) cand[k++] = cand[j];
                n_cand = k;
                if (!n_cand) break;
                /* Greedy scan of the definition: a repeat of an n-gram seen at an earlier visited position
                 * counts its characters and skips its n words. Visiting only repeated n-grams gives the
                 * same total: one that occurs once is never a repeat and never seen again. */
                table_clear(&t);
                int64_t next = 0, repeated = 0;
                for (Py_ssize_t j = 0; j < n_cand; j++) {
                    int64_t i = cand[j];
                    if (i < next) continue;
                    size_t s = table_add(&t, h[i], i);
                    if (t.count[s] > 1) {
                        repeated += cum[i + n] - cum[i];
                        next = i + n;
                    } else {
                        next = i + 1;
                    }
                }
                out[(TOP_MAX - TOP_MIN + 1) + n - DUP_MIN] = (double)repeated / (double)n_chars;
            }
            Py_END_ALLOW_THREADS
        }
        free(h);
        free(cum);
        free(cand);
        free(slot);
        table_free(&t);
    }
    PyBuffer_Release(&kb);
    PyBuffer_Release(&lb);
    if (failed) return PyErr_NoMemory();
    PyObject *tuple = PyTuple_New(sizeof(out) / sizeof(out[0]));
    if (!tuple) return NULL;
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        PyObject *v = PyFloat_FromDouble(out[i]);
        if (!v) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, v);
    }
    return tuple;
}

static PyMethodDef methods[] = {
    {"ngram_fractions", ngram_fractions, METH_VARARGS,
     "ngram_fractions(keys, lengths, n_chars) -> (top_2, top_3, top_4, dup_5, ..., dup_10)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ngrams",
                                    "Gopher repetition n-gram fractions, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__ngrams(void) { return PyModule_Create(&module); }
