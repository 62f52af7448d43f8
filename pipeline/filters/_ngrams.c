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
 * table is sized for every token, and clearing it for each n was 2-4 bytes written per token each time).
 * Counts, positions and slot numbers are 32-bit (a call takes fewer than MAX_TOKENS tokens): 20 bytes a slot
 * and 24 a token instead of 28 and 32, since a long document's table is the largest thing alive while the
 * filters measure it (issue 19: +17 MiB for a 685,000-character web page of 135,000 words, now ~12). */
#define MAX_TOKENS ((Py_ssize_t)1 << 30)
typedef struct {
    uint64_t *key;
    int32_t *count;
    int32_t *first;
    uint32_t *stamp; /* != epoch marks an empty slot */
    uint32_t epoch;
    size_t mask, cap;
} Table;

static void table_clear(Table *t) {
    if (++t->epoch == 0) { /* wrapped: after 2^32 clears, over many calls (the stamps outlive a call) */
        memset(t->stamp, 0, t->cap * sizeof(uint32_t));
        t->epoch = 1;
    }
}

/* Scratch memory kept from one call to the next (issue 13: allocating and zeroing the table for every
 * document was a fixed cost per document, ``memset`` of the stamps among the largest): the table's stamps
 * stay valid across calls, since a new call is a new epoch. Kept only up to KEEP_SLOTS slots (~1 MiB with
 * the per-token arrays); a longer document's memory is allocated for its call and freed after it. ``busy``
 * (set and cleared while holding the GIL) gives a second thread in the computation its own memory. */
#define KEEP_SLOTS ((size_t)1 << 15)
typedef struct {
    Table t;
    uint64_t *h;
    int64_t *cum;
    int32_t *cand;
    uint32_t *slot;
    size_t tokens; /* what h, cum, cand and slot hold */
} Scratch;

static Scratch kept_scratch;
static int kept_busy;

static void scratch_free(Scratch *s) {
    free(s->t.key);
    free(s->t.count);
    free(s->t.first);
    free(s->t.stamp);
    free(s->h);
    free(s->cum);
    free(s->cand);
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

/* Make ``s`` hold a table for ``items`` n-grams and arrays for ``items`` tokens; the table starts a new
 * epoch (empty). Returns 0 when out of memory (``s`` is then freed). */
static int scratch_reserve(Scratch *s, size_t items) {
    size_t cap = 16;
    while (cap < 2 * items) cap <<= 1;
    Table *t = &s->t;
    if (t->cap < cap) {
        free(t->key);
        free(t->count);
        free(t->first);
        free(t->stamp);
        t->key = malloc(cap * sizeof(uint64_t));
        t->count = malloc(cap * sizeof(int32_t));
        t->first = malloc(cap * sizeof(int32_t));
        t->stamp = calloc(cap, sizeof(uint32_t));
        t->cap = cap;
        t->epoch = 0;
        if (!t->key || !t->count || !t->first || !t->stamp) goto nomem;
    }
    if (s->tokens < items) {
        free(s->h);
        free(s->cum);
        free(s->cand);
        free(s->slot);
        s->h = malloc(items * sizeof(uint64_t));
        s->cum = malloc((items + 1) * sizeof(int64_t));
        s->cand = malloc(items * sizeof(int32_t));
        s->slot = malloc(items * sizeof(uint32_t));
        s->tokens = items;
        if (!s->h || !s->cum || !s->cand || !s->slot) goto nomem;
    }
    t->mask = cap - 1;
    table_clear(t);
    return 1;
nomem:
    scratch_free(s);
    return 0;
}

static inline size_t slot_of(uint64_t v, size_t mask) {
    /* the keys are already hashes, but mix once more so that sequential patterns spread */
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    v ^= v >> 33;
    return (size_t)v & mask;
}

/* Count one occurrence of v at position pos; returns its slot. */
static inline size_t table_add(Table *t, uint64_t v, int32_t pos) {
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
    if (len >= MAX_TOKENS) {
        PyBuffer_Release(&kb);
        PyBuffer_Release(&lb);
        PyErr_SetString(PyExc_ValueError, "ngram_fractions: too many tokens (2^30 at most)");
        return NULL;
    }
    const uint64_t *keys = kb.buf;
    const int64_t *lengths = lb.buf;
    int failed = 0;
    if (len >= 2 && n_chars) {
        Scratch own = {0}, *sc = kept_busy ? &own : &kept_scratch;
        if (sc == &kept_scratch) kept_busy = 1;
        if (!scratch_reserve(sc, (size_t)len)) {
            failed = 1;
        } else {
            uint64_t *h = sc->h;
            int64_t *cum = sc->cum;
            int32_t *cand = sc->cand;
            uint32_t *slot = sc->slot;
            Table t = sc->t; /* a copy: the passes below narrow its mask; the epoch is written back */
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
                if (n == TOP_MIN) { /* every position; the table is empty (a new epoch) */
                    for (Py_ssize_t i = 0; i < m; i++) {
                        h[i] = keys[i] * MULTIPLIER + keys[i + 1];
                        size_t s = table_add(&t, h[i], (int32_t)i);
                        slot[i] = (uint32_t)s;
                        int64_t c = t.count[s];
                        if (c > top || (c == top && t.first[s] < best)) {
                            top = c;
                            best = t.first[s];
                        }
                    }
                    for (Py_ssize_t i = 0; i < m; i++) cand[i] = (int32_t)i;
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
                        size_t s = table_add(&t, h[i], (int32_t)i);
                        slot[j] = (uint32_t)s;
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
                    slot[j] = (uint32_t)table_add(&t, h[i], (int32_t)i);
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
                    size_t s = table_add(&t, h[i], (int32_t)i);
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
            sc->t.epoch = t.epoch;
        }
        if (sc == &kept_scratch) {
            kept_busy = 0;
            if (sc->t.cap > KEEP_SLOTS) scratch_free(sc);
        } else {
            scratch_free(sc);
        }
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
