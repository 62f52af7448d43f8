/* MinHash signatures of a batch of documents in one compiled pass (pipeline.dedup.minhash).
 *
 * Why C: the numpy version (minhash.numpy_signatures_of_hashes, kept as the fallback and the reference)
 * makes eight passes over a num_perm x 2048 uint64 block per 2048 shingles (multiply, add, shift, and, add,
 * subtract, minimum, reduceat); that was ~60% of sketching. Here each shingle hash is permuted and folded
 * into its document's running minima while both are in registers, with the same wrapping uint64 arithmetic,
 * so the signatures are equal bit for bit (tests/pipeline/dedup/test_minhash.py).
 *
 *   signatures(hashes: uint64 buffer, offsets: int64 buffer, a: uint64 buffer, b: uint64 buffer,
 *              out: writable uint64 buffer (docs x num_perm), low32: bool, kernel: str = KERNELS[0]) -> None
 *
 * Permutation k of hash h: x = a[k] * h + b[k] (mod 2**64), x mod (2**61 - 1) by folding the top 3 bits
 * and subtracting p once if needed, then & 0xFFFFFFFF when low32. Document d's shingles are
 * hashes[offsets[d]:offsets[d + 1]]; a document without shingles gets all values 2**64 - 1 (2**32 - 1 when
 * low32), the "empty" signature.
 *
 * The loops run permutations innermost in blocks of BLOCK, so that the compiler vectorises them with a,
 * b and the block's minima held in registers over all of a document's shingles. On x86-64 with GCC or
 * clang the same code is also compiled for AVX-512 (vpmullq: a 64-bit multiply per lane; AVX2 has none)
 * and AVX2; KERNELS names those this CPU runs (__builtin_cpu_supports), best first; elsewhere only "default".
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define P61 ((((uint64_t)1) << 61) - 1)
#define LOW32 ((uint64_t)0xFFFFFFFFu)
#define BLOCK 32 /* permutations per register block: 4 zmm of minima, 4 of a, 4 of b */

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE uint64_t permute(uint64_t a, uint64_t b, uint64_t h, int low32) {
    uint64_t x = a * h + b; /* wraps modulo 2**64, as numpy's uint64 arithmetic in datasketch */
    x = (x & P61) + (x >> 61);
    uint64_t t = x - P61; /* wraps when x < p: the minimum picks the reduced value */
    x = t < x ? t : x;
    return low32 ? x & LOW32 : x;
}

/* One document's signature. ``low32`` is a constant at each call below, so each is its own loop. */
static ALWAYS_INLINE void sign_doc(const uint64_t *h, Py_ssize_t n, const uint64_t *a, const uint64_t *b,
                                   uint64_t *out, Py_ssize_t num_perm, int low32) {
    const uint64_t empty = low32 ? LOW32 : UINT64_MAX;
    Py_ssize_t k0 = 0;
    for (; k0 + BLOCK <= num_perm; k0 += BLOCK) {
        uint64_t m[BLOCK], ak[BLOCK], bk[BLOCK];
        for (int j = 0; j < BLOCK; j++) {
            m[j] = empty;
            ak[j] = a[k0 + j];
            bk[j] = b[k0 + j];
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint64_t hi = h[i];
            for (int j = 0; j < BLOCK; j++) {
                uint64_t x = permute(ak[j], bk[j], hi, low32);
                m[j] = x < m[j] ? x : m[j];
            }
        }
        memcpy(out + k0, m, sizeof(m));
    }
    if (k0 < num_perm) { /* the last num_perm % BLOCK permutations */
        const Py_ssize_t rest = num_perm - k0;
        uint64_t m[BLOCK];
        for (Py_ssize_t j = 0; j < rest; j++) m[j] = empty;
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint64_t hi = h[i];
            for (Py_ssize_t j = 0; j < rest; j++) {
                uint64_t x = permute(a[k0 + j], b[k0 + j], hi, low32);
                m[j] = x < m[j] ? x : m[j];
            }
        }
        memcpy(out + k0, m, (size_t)rest * sizeof(uint64_t));
    }
}

static ALWAYS_INLINE void sign_all(const uint64_t *h, const int64_t *offsets, Py_ssize_t docs,
                                   const uint64_t *a, const uint64_t *b, uint64_t *out, Py_ssize_t num_perm,
                                   int low32) {
    for (Py_ssize_t d = 0; d < docs; d++) {
        const int64_t lo = offsets[d];
        if (low32)
            sign_doc(h + lo, (Py_ssize_t)(offsets[d + 1] - lo), a, b, out + d * num_perm, num_perm, 1);
        else
            sign_doc(h + lo, (Py_ssize_t)(offsets[d + 1] - lo), a, b, out + d * num_perm, num_perm, 0);
    }
}

typedef void (*kernel_fn)(const uint64_t *, const int64_t *, Py_ssize_t, const uint64_t *, const uint64_t *,
                          uint64_t *, Py_ssize_t, int);

static void kernel_default(const uint64_t *h, const int64_t *offsets, Py_ssize_t docs, const uint64_t *a,
                           const uint64_t *b, uint64_t *out, Py_ssize_t num_perm, int low32) {
    sign_all(h, offsets, docs, a, b, out, num_perm, low32);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_DISPATCH 1
__attribute__((target("avx2")))
static void kernel_avx2(const uint64_t *h, const int64_t *offsets, Py_ssize_t docs, const uint64_t *a,
                        const uint64_t *b, uint64_t *out, Py_ssize_t num_perm, int low32) {
    sign_all(h, offsets, docs, a, b, out, num_perm, low32);
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static void kernel_avx512(const uint64_t *h, const int64_t *offsets, Py_ssize_t docs, const uint64_t *a,
                          const uint64_t *b, uint64_t *out, Py_ssize_t num_perm, int low32) {
    sign_all(h, offsets, docs, a, b, out, num_perm, low32);
}
#endif

/* The kernels this CPU can run, best first; the first is used unless a call names another (the tests run
 * every one on the same input). */
static struct {
    const char *name;
    kernel_fn fn;
} kernels[3];
static int n_kernels;

static int check_buffer(Py_buffer *buf, const char *name, Py_ssize_t itemsize) {
    if (buf->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items", name, buf->len,
                     itemsize);
        return 0;
    }
    return 1;
}

static PyObject *signatures(PyObject *self, PyObject *args) {
    Py_buffer hb, ob, ab, bb, outb;
    int low32;
    const char *name = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*p|s", &hb, &ob, &ab, &bb, &outb, &low32, &name)) return NULL;
    PyObject *result = NULL;
    kernel_fn kernel = kernels[0].fn;
    if (name) {
        kernel = NULL;
        for (int i = 0; i < n_kernels; i++)
            if (!strcmp(kernels[i].name, name)) kernel = kernels[i].fn;
        if (!kernel) {
            PyErr_Format(PyExc_ValueError, "no kernel %s on this build and CPU", name);
            goto done;
        }
    }
    if (!check_buffer(&hb, "hashes", 8) || !check_buffer(&ob, "offsets", 8) || !check_buffer(&ab, "a", 8) ||
        !check_buffer(&bb, "b", 8) || !check_buffer(&outb, "out", 8))
        goto done;
    const Py_ssize_t total = hb.len / 8, num_perm = ab.len / 8, docs = ob.len / 8 - 1;
    const int64_t *offsets = (const int64_t *)ob.buf;
    if (num_perm < 1 || bb.len != ab.len) {
        PyErr_SetString(PyExc_ValueError, "a and b must hold the same positive number of permutations");
        goto done;
    }
    if (docs < 0 || outb.len / 8 != docs * num_perm) {
        PyErr_Format(PyExc_ValueError, "out must hold (len(offsets) - 1) x num_perm = %zd x %zd values",
                     docs < 0 ? 0 : docs, num_perm);
        goto done;
    }
    if (offsets[0] < 0 || offsets[docs] > total) { /* also checks monotonicity below */
        PyErr_SetString(PyExc_ValueError, "offsets run outside hashes");
        goto done;
    }
    for (Py_ssize_t d = 0; d < docs; d++)
        if (offsets[d + 1] < offsets[d]) {
            PyErr_Format(PyExc_ValueError, "offsets decrease at document %zd", d);
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    kernel((const uint64_t *)hb.buf, offsets, docs, (const uint64_t *)ab.buf, (const uint64_t *)bb.buf,
           (uint64_t *)outb.buf, num_perm, low32);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&hb);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&ab);
    PyBuffer_Release(&bb);
    PyBuffer_Release(&outb);
    return result;
}

static PyMethodDef methods[] = {
    {"signatures", signatures, METH_VARARGS,
     "signatures(hashes, offsets, a, b, out, low32): MinHash signatures of hashes[offsets[d]:offsets[d+1]] "
     "into out (docs x num_perm uint64)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash",
                                    "MinHash signatures, compiled (pipeline.dedup.minhash).", -1, methods};

static void add_kernel(const char *name, kernel_fn fn) {
    kernels[n_kernels].name = name;
    kernels[n_kernels].fn = fn;
    n_kernels++;
}

PyMODINIT_FUNC PyInit__minhash(void) {
    n_kernels = 0;
#ifdef HAVE_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        add_kernel("avx512", kernel_avx512);
    if (__builtin_cpu_supports("avx2")) add_kernel("avx2", kernel_avx2);
#endif
    add_kernel("default", kernel_default);
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    PyObject *names = PyTuple_New(n_kernels);
    if (!names) goto fail;
    for (int i = 0; i < n_kernels; i++) {
        PyObject *s = PyUnicode_FromString(kernels[i].name);
        if (!s) {
            Py_DECREF(names);
            goto fail;
        }
        PyTuple_SET_ITEM(names, i, s);
    }
    if (PyModule_AddObject(m, "KERNELS", names) < 0) { /* steals names only on success */
        Py_DECREF(names);
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
