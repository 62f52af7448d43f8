/*
 * An Arrow string column's values decoded to `str`, the same objects `to_pylist()` gives: the compiled half
 * of pipeline.filters.base.decode_texts. Why: CPython's UTF-8 decoder takes ~30 instructions per Chinese
 * character (3 bytes to UCS-2, one byte at a time, into a buffer sized for the bytes that is then shrunk),
 * ~8 per English one; the filter stage decodes every text of every shard.
 *
 * Per value, two passes:
 * 1. scan: 16 bytes at a time (SSE2), the continuation bytes (0x80-0xBF) counted and the largest byte kept.
 *    For valid UTF-8 the characters are the bytes less the continuation bytes, and the largest byte gives
 *    the kind CPython picks (the narrowest that holds the widest character): < 0x80 ASCII, < 0xC4 Latin-1
 *    (leads C2/C3), < 0xF0 UCS-2, else UCS-4. The str is allocated at its final size.
 * 2. decode into it, validating every sequence: 16 ASCII bytes widened at a time; with SSSE3 (checked at
 *    run time) four 3-byte sequences from one 16-byte load, checked against their bit pattern, shuffled
 *    into 16-bit lanes and combined with straight-line vector code; anything else one sequence at a time.
 * Each written character consumes one non-continuation byte, so invalid input cannot overrun the str; on
 * any invalid sequence (which a valid Arrow string array cannot hold) the value is handed to CPython's
 * decoder, which raises its UnicodeDecodeError. Values of fewer than two characters go to CPython too
 * (the empty str and one-character Latin-1 strs are its shared singletons).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define HAVE_SSE2 1
#include <emmintrin.h>
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 5)
#define HAVE_SSSE3 1
#include <tmmintrin.h>
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define CTZ(x) ((unsigned)__builtin_ctz(x))
#else
#define ALWAYS_INLINE static inline
static unsigned CTZ(unsigned x) { unsigned n = 0; while (!(x & 1)) { x >>= 1; n++; } return n; }
#endif

static int have_ssse3 = 0;
static Py_ssize_t fallbacks = 0;  /* values handed to CPython after the decoding pass failed */

/* Continuation bytes counted and the largest byte of s[0:n]. */
static void scan(const uint8_t *s, Py_ssize_t n, Py_ssize_t *conts, unsigned *maxbyte) {
    Py_ssize_t i = 0, count = 0;
    unsigned top = 0;
#ifdef HAVE_SSE2
    __m128i best = _mm_setzero_si128();
    const __m128i lim = _mm_set1_epi8((char)0xC0);
    while (n - i >= 16) {
        Py_ssize_t blocks = (n - i) / 16;
        if (blocks > 255) blocks = 255;  /* the byte counters hold at most 255 */
        __m128i acc = _mm_setzero_si128();
        Py_ssize_t b = 0;
        for (; b + 1 < blocks; b += 2, i += 32) {  /* two at a time: fewer loop instructions per byte */
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i)), w = _mm_loadu_si128((const __m128i *)(s + i + 16));
            best = _mm_max_epu8(best, _mm_max_epu8(v, w));
            /* signed: 0x80-0xBF are below 0xC0 = -64 */
            acc = _mm_sub_epi8(_mm_sub_epi8(acc, _mm_cmplt_epi8(v, lim)), _mm_cmplt_epi8(w, lim));
        }
        if (b < blocks) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            best = _mm_max_epu8(best, v);
            acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(v, lim));
            i += 16;
        }
        __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
        count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    }
    best = _mm_max_epu8(best, _mm_srli_si128(best, 8));
    best = _mm_max_epu8(best, _mm_srli_si128(best, 4));
    best = _mm_max_epu8(best, _mm_srli_si128(best, 2));
    best = _mm_max_epu8(best, _mm_srli_si128(best, 1));
    top = (unsigned)_mm_cvtsi128_si32(best) & 0xFF;
#endif
    for (; i < n; i++) {
        count += (s[i] & 0xC0) == 0x80;
        if (s[i] > top) top = s[i];
    }
    *conts = count;
    *maxbyte = top;
}

/* One sequence at s decoded into *ch; returns its bytes, 0 where it is not valid UTF-8. */
ALWAYS_INLINE int step(const uint8_t *s, const uint8_t *end, Py_UCS4 *ch) {
    unsigned c = s[0];
    if (c < 0x80) {
        *ch = c;
        return 1;
    }
    if (c < 0xC2) return 0;  /* a continuation byte, or an overlong 2-byte lead */
    if (c < 0xE0) {
        if (end - s < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *ch = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (end - s < 3) return 0;
        unsigned b1 = s[1], b2 = s[2];
        if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && b1 < 0xA0) || (c == 0xED && b1 >= 0xA0)) return 0;  /* overlong; surrogate */
        *ch = ((c & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (end - s < 4) return 0;
        unsigned b1 = s[1], b2 = s[2], b3 = s[3];
        if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80 || (b3 & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && b1 < 0x90) || (c == 0xF4 && b1 >= 0x90)) return 0;  /* overlong; above U+10FFFF */
        *ch = ((c & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F);
        return 4;
    }
    return 0;
}

#ifdef HAVE_SSSE3
#define SSSE3 __attribute__((target("ssse3")))
/* bytes matched from the start -> whole 3-byte sequences, at most four */
static const int8_t whole[17] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4};

/* Which bytes of v match the bit pattern of four 3-byte sequences (1110xxxx 10xxxxxx 10xxxxxx), as a
 * movemask; bits 12-15 always set. */
SSSE3 static inline unsigned triple_bits(__m128i v) {
    const __m128i mask = _mm_setr_epi8((char)0xF0, (char)0xC0, (char)0xC0, (char)0xF0, (char)0xC0, (char)0xC0,
                                       (char)0xF0, (char)0xC0, (char)0xC0, (char)0xF0, (char)0xC0, (char)0xC0,
                                       0, 0, 0, 0);
    const __m128i want = _mm_setr_epi8((char)0xE0, (char)0x80, (char)0x80, (char)0xE0, (char)0x80, (char)0x80,
                                       (char)0xE0, (char)0x80, (char)0x80, (char)0xE0, (char)0x80, (char)0x80,
                                       0, 0, 0, 0);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, mask), want));
}

/* 16-bit lanes x = lead << 8 | second byte, y = third byte -> the code points */
SSSE3 static inline __m128i combine(__m128i x, __m128i y) {
    return _mm_or_si128(_mm_or_si128(_mm_slli_epi16(_mm_and_si128(x, _mm_set1_epi16(0x0F00)), 4),
                                     _mm_slli_epi16(_mm_and_si128(x, _mm_set1_epi16(0x003F)), 6)),
                        _mm_and_si128(y, _mm_set1_epi16(0x003F)));
}

/* Lanes that are an overlong form (c >> 11 == 0: below U+0800) or a surrogate (0x1B: U+D800-U+DFFF). */
SSSE3 static inline __m128i not_valid(__m128i c) {
    __m128i top = _mm_srli_epi16(c, 11);
    return _mm_or_si128(_mm_cmpeq_epi16(top, _mm_setzero_si128()), _mm_cmpeq_epi16(top, _mm_set1_epi16(0x1B)));
}

/* The run of 3-byte sequences at *s decoded into data (KIND 2 or 4) from *pos, eight characters from 24
 * bytes at a time, then four or fewer from one 16-byte load; returns the characters written (0 where *s
 * opens no 3-byte sequence the vector code can take), -1 at an overlong form or a surrogate. */
SSSE3 static inline Py_ssize_t run3(const uint8_t **sp, const uint8_t *end, void *data, Py_ssize_t *pos,
                                    Py_ssize_t size, const int kind) {
    const __m128i lo_x = _mm_setr_epi8(1, 0, 4, 3, 7, 6, 10, 9, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i lo_y = _mm_setr_epi8(2, -1, 5, -1, 8, -1, 11, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i hi_x = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 1, 0, 4, 3, 7, 6, 10, 9);
    const __m128i hi_y = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 2, -1, 5, -1, 8, -1, 11, -1);
    const uint8_t *s = *sp;
    Py_ssize_t p = *pos;
    __m128i bad = _mm_setzero_si128();
    /* blocks that fit: 28 bytes readable (24 decoded, two 16-byte loads 12 apart), 8 characters of room */
    Py_ssize_t blocks = end - s >= 28 ? (end - s - 4) / 24 : 0;
    if (blocks > (size - p) / 8) blocks = (size - p) / 8;
    for (; blocks > 0; blocks--) {
        __m128i v0 = _mm_loadu_si128((const __m128i *)s), v1 = _mm_loadu_si128((const __m128i *)(s + 12));
        if ((triple_bits(v0) & triple_bits(v1)) != 0xFFFF) break;
        __m128i x = _mm_or_si128(_mm_shuffle_epi8(v0, lo_x), _mm_shuffle_epi8(v1, hi_x));
        __m128i y = _mm_or_si128(_mm_shuffle_epi8(v0, lo_y), _mm_shuffle_epi8(v1, hi_y));
        __m128i c = combine(x, y);
        bad = _mm_or_si128(bad, not_valid(c));
        if (kind == 2) {
            _mm_storeu_si128((__m128i *)((Py_UCS2 *)data + p), c);
        } else {
            Py_UCS4 *q = (Py_UCS4 *)data + p;
            _mm_storeu_si128((__m128i *)q, _mm_unpacklo_epi16(c, _mm_setzero_si128()));
            _mm_storeu_si128((__m128i *)(q + 4), _mm_unpackhi_epi16(c, _mm_setzero_si128()));
        }
        s += 24;
        p += 8;
    }
    if (end - s >= 16 && size - p >= 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)s);
        int k = whole[CTZ(~triple_bits(v))];
        if (k) {
            __m128i c = combine(_mm_shuffle_epi8(v, lo_x), _mm_shuffle_epi8(v, lo_y));
            /* only the k lanes decoded count */
            __m128i keep = _mm_cmplt_epi16(_mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7), _mm_set1_epi16((short)k));
            bad = _mm_or_si128(bad, _mm_and_si128(not_valid(c), keep));
            if (kind == 2) {
                _mm_storel_epi64((__m128i *)((Py_UCS2 *)data + p), c);
            } else {
                _mm_storeu_si128((__m128i *)((Py_UCS4 *)data + p), _mm_unpacklo_epi16(c, _mm_setzero_si128()));
            }
            s += 3 * k;
            p += k;
        }
    }
    if (_mm_movemask_epi8(bad)) return -1;
    Py_ssize_t got = p - *pos;
    *sp = s;
    *pos = p;
    return got;
}
#endif

/* The decoding loop for output characters of KIND (1, 2, 4 bytes), with the 3-byte vector path where
 * SSSE3 is set (2 and 4 only). Returns the characters written, -1 at invalid UTF-8. The body is inlined into
 * one function per kind and instruction set. */
ALWAYS_INLINE Py_ssize_t decode_loop(const uint8_t *s, const uint8_t *end, void *data, Py_ssize_t size,
                                     const int kind, const int ssse3) {
    Py_ssize_t pos = 0;
    (void)ssse3;
    while (s < end) {
#ifdef HAVE_SSE2
        if (end - s >= 16 && size - pos >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)s);
            unsigned high = (unsigned)_mm_movemask_epi8(v);
            if (!(high & 1)) {  /* ASCII bytes first: all 16 stored, as many kept as there are */
                const __m128i zero = _mm_setzero_si128();
                if (kind == 1) {
                    _mm_storeu_si128((__m128i *)((Py_UCS1 *)data + pos), v);
                } else if (kind == 2) {
                    Py_UCS2 *p = (Py_UCS2 *)data + pos;
                    _mm_storeu_si128((__m128i *)p, _mm_unpacklo_epi8(v, zero));
                    _mm_storeu_si128((__m128i *)(p + 8), _mm_unpackhi_epi8(v, zero));
                } else {
                    Py_UCS4 *p = (Py_UCS4 *)data + pos;
                    __m128i lo = _mm_unpacklo_epi8(v, zero), hi = _mm_unpackhi_epi8(v, zero);
                    _mm_storeu_si128((__m128i *)p, _mm_unpacklo_epi16(lo, zero));
                    _mm_storeu_si128((__m128i *)(p + 4), _mm_unpackhi_epi16(lo, zero));
                    _mm_storeu_si128((__m128i *)(p + 8), _mm_unpacklo_epi16(hi, zero));
                    _mm_storeu_si128((__m128i *)(p + 12), _mm_unpackhi_epi16(hi, zero));
                }
                unsigned k = high ? CTZ(high) : 16;
                s += k;
                pos += k;
                continue;
            }
#ifdef HAVE_SSSE3
            if (kind != 1 && ssse3 && (s[0] & 0xF0) == 0xE0) {
                Py_ssize_t k = run3(&s, end, data, &pos, size, kind);
                if (k < 0) return -1;
                if (k) continue;
            }
#endif
        }
#endif
        Py_UCS4 ch;
        int used = step(s, end, &ch);
        if (!used || pos >= size) return -1;
        if (kind == 1) ((Py_UCS1 *)data)[pos] = (Py_UCS1)ch;
        else if (kind == 2) ((Py_UCS2 *)data)[pos] = (Py_UCS2)ch;
        else ((Py_UCS4 *)data)[pos] = ch;
        pos++;
        s += used;
    }
    return pos;
}

static Py_ssize_t decode_1(const uint8_t *s, const uint8_t *e, void *d, Py_ssize_t n) {
    return decode_loop(s, e, d, n, 1, 0);
}
#ifdef HAVE_SSSE3
SSSE3 static Py_ssize_t decode_2_ssse3(const uint8_t *s, const uint8_t *e, void *d, Py_ssize_t n) {
    return decode_loop(s, e, d, n, 2, 1);
}
SSSE3 static Py_ssize_t decode_4_ssse3(const uint8_t *s, const uint8_t *e, void *d, Py_ssize_t n) {
    return decode_loop(s, e, d, n, 4, 1);
}
#endif

/* One value's str; NULL with CPython's exception where its bytes are not UTF-8. */
static PyObject *decode_value(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t conts;
    unsigned top;
    scan(s, n, &conts, &top);
    Py_ssize_t size = n - conts;
    if (size < 2) return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    if (top < 0x80) {
        PyObject *u = PyUnicode_New(n, 127);
        if (u) memcpy(PyUnicode_1BYTE_DATA(u), s, (size_t)n);
        return u;
    }
    Py_UCS4 maxchar = top < 0xC4 ? 0xFF : top < 0xF0 ? 0xFFFF : 0x10FFFF;
    /* Without the vector path, one sequence at a time costs more than CPython's loop (48 instructions per
     * Chinese character against 30): its decoder takes the wide strs. */
    if (maxchar > 0xFF && !have_ssse3) return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    PyObject *u = PyUnicode_New(size, maxchar);
    if (!u) return NULL;
    void *data = PyUnicode_DATA(u);
    Py_ssize_t got = -1;
    if (maxchar == 0xFF) got = decode_1(s, s + n, data, size);
#ifdef HAVE_SSSE3
    else got = maxchar == 0xFFFF ? decode_2_ssse3(s, s + n, data, size) : decode_4_ssse3(s, s + n, data, size);
#endif
    if (got != size) {  /* not UTF-8: CPython's decoder says why */
        fallbacks++;
        Py_DECREF(u);
        return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    }
    return u;
}

static PyObject *decode(PyObject *self, PyObject *args) {
    PyObject *data_obj, *offsets_obj, *valid_obj;
    Py_ssize_t offset, length;
    int large;
    if (!PyArg_ParseTuple(args, "OOOnnp:decode", &data_obj, &offsets_obj, &valid_obj, &offset, &length, &large))
        return NULL;
    if (offset < 0 || length < 0) {
        PyErr_SetString(PyExc_ValueError, "offset and length must be >= 0");
        return NULL;
    }
    Py_buffer data = {0}, offsets = {0}, valid = {0};
    PyObject *out = NULL;
    int have_data = 0, have_offsets = 0, have_valid = 0;
    if (data_obj != Py_None) {
        if (PyObject_GetBuffer(data_obj, &data, PyBUF_SIMPLE) < 0) goto done;
        have_data = 1;
    }
    if (PyObject_GetBuffer(offsets_obj, &offsets, PyBUF_SIMPLE) < 0) goto done;
    have_offsets = 1;
    if (valid_obj != Py_None) {
        if (PyObject_GetBuffer(valid_obj, &valid, PyBUF_SIMPLE) < 0) goto done;
        have_valid = 1;
    }
    Py_ssize_t width = large ? 8 : 4;
    if (length && (offsets.len / width < offset + length + 1 ||
                   (have_valid && valid.len * 8 < offset + length))) {
        PyErr_SetString(PyExc_ValueError, "offsets or validity buffer shorter than the array");
        goto done;
    }
    const uint8_t *bytes = have_data ? (const uint8_t *)data.buf : (const uint8_t *)"";
    const uint8_t *bits = have_valid ? (const uint8_t *)valid.buf : NULL;
    Py_ssize_t nbytes = have_data ? data.len : 0;
    out = PyList_New(length);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_ssize_t j = offset + i;
        PyObject *item;
        if (bits && !((bits[j >> 3] >> (j & 7)) & 1)) {
            item = Py_None;
            Py_INCREF(item);
        } else {
            int64_t start, stop;
            if (large) {
                memcpy(&start, (const char *)offsets.buf + 8 * j, 8);
                memcpy(&stop, (const char *)offsets.buf + 8 * j + 8, 8);
            } else {
                int32_t a, b;
                memcpy(&a, (const char *)offsets.buf + 4 * j, 4);
                memcpy(&b, (const char *)offsets.buf + 4 * j + 4, 4);
                start = a;
                stop = b;
            }
            if (start < 0 || stop < start || stop > nbytes) {
                PyErr_SetString(PyExc_ValueError, "offsets outside the data buffer");
                Py_CLEAR(out);
                goto done;
            }
            item = decode_value(bytes + start, (Py_ssize_t)(stop - start));
            if (!item) {
                Py_CLEAR(out);
                goto done;
            }
        }
        PyList_SET_ITEM(out, i, item);
    }
done:
    if (have_data) PyBuffer_Release(&data);
    if (have_offsets) PyBuffer_Release(&offsets);
    if (have_valid) PyBuffer_Release(&valid);
    return out;
}

static PyObject *simd(PyObject *self, PyObject *arg) { return PyBool_FromLong(have_ssse3); }

static PyObject *fallback_count(PyObject *self, PyObject *arg) { return PyLong_FromSsize_t(fallbacks); }

static PyObject *set_simd(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
#ifdef HAVE_SSSE3
    if (on && !__builtin_cpu_supports("ssse3")) on = 0;
#else
    on = 0;
#endif
    have_ssse3 = on;
    return PyBool_FromLong(have_ssse3);
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS,
     "decode(data, offsets, validity, offset, length, large) -> list of str/None: an Arrow (large_)string "
     "array's values from its buffers, as to_pylist() gives them"},
    {"simd", simd, METH_NOARGS, "simd() -> whether the SSSE3 path is in use"},
    {"fallbacks", fallback_count, METH_NOARGS,
     "fallbacks() -> how many values CPython decoded after this module's pass found them not UTF-8 (tests: "
     "valid texts never take it, so a decoding slip cannot hide behind the fallback)"},
    {"set_simd", set_simd, METH_O,
     "set_simd(on) -> whether the SSSE3 path is now in use (tests turn it off to check the other path)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_utf8",
                                    "Arrow string columns decoded to str in one compiled pass.", -1, methods};

PyMODINIT_FUNC PyInit__utf8(void) {
#ifdef HAVE_SSSE3
    __builtin_cpu_init();
    have_ssse3 = __builtin_cpu_supports("ssse3") ? 1 : 0;
#endif
    return PyModule_Create(&module);
}
