/*
 * fastText supervised-model inference (predict, k = 1) with a per-token cache: the compiled half of
 * pipeline/filters/fasttext_lid.py, which parses the model file and documents the design and the measured
 * speed. Plain C against the CPython API; arrays arrive through the buffer protocol.
 *
 * Reproduces fastText 0.9.2 (github.com/facebookresearch/fastText, as vendored by fasttext-predict
 * 0.9.2.4): Dictionary::readWord / getLine / addSubwords / computeSubwords / hash / pushHash,
 * Model::computeHidden, HierarchicalSoftmaxLoss::dfs, SoftmaxLoss::computeOutput + Loss::findKBest and
 * FastText::predictLine. Float operations are written in the same types and order as there (float
 * accumulation, the double intermediates of `1. / (1 + std::exp(-f))` and `std::log(x + 1e-5)`, expf of
 * the final score).
 *
 * The cache maps the bytes of a whitespace token to the input rows it contributes. With `exact` (the
 * default) it holds the row ids, which are then added to the hidden vector one by one exactly as fastText
 * adds them: results are bit-identical to fastText's. Otherwise it holds their float sum (one dim-float add
 * per token, faster when warm), which adds in another order, so probabilities can differ in the last
 * bits (measured <= 3e-6 on real pages). Either way a token seen before costs one hash lookup instead of a
 * vocabulary lookup, hashing every character n-gram of "<token>" and a prune-index lookup per n-gram, and
 * a token's contribution is computed the same way whether it is cached or not, so results never depend
 * on the cache's state. The cache is bounded: it is emptied when it holds `cache_entries` tokens or
 * `cache_bytes` bytes of records; tokens longer than MAX_CACHED_TOKEN bytes are never cached (URLs, base64
 * and the like, seldom repeated).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* fastText's own build contracts nothing into FMAs (generic x86-64 wheels); neither may we, or -march=native
 * builds would round differently. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define LOSS_HS 1
#define LOSS_SOFTMAX 3
#define MAX_CACHED_TOKEN 256
#define CHUNK_TEXTS 4096
#define CHUNK_BYTES ((size_t)32 << 20)

static const char EOS[] = "</s>";
/* Dictionary::readWord's separators */
static const unsigned char sep[256] = {[' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1,
                                       ['\v'] = 1, ['\f'] = 1, [0] = 1};
static const char LABEL_PREFIX[] = "__label__";

/* One slot of the token cache's open-addressing table. The token's record in the arena holds its bytes,
 * padding to 4, then its value (row ids or their sum), so a hit touches the slot and one arena spot. */
typedef struct {
    uint64_t h;     /* cache_hash of the token */
    uint32_t off4;  /* record offset / 4 */
    uint16_t klen;  /* token length, 1..MAX_CACHED_TOKEN; 0: empty slot */
    uint16_t nrows; /* input rows of the token */
} Slot;

typedef struct {
    PyObject_HEAD
    int dim, loss, osz, minn, maxn;
    int exact; /* cache row ids (bit-identical to fastText) instead of row sums */
    int32_t nwords, size;
    uint32_t bucket;
    uint64_t bucket_m; /* 2^64 / bucket rounded up: bucket_of's multiplier */
    int64_t prune_size; /* -1: not pruned (ids used as they are), 0: no n-grams at all, > 0: prune_keys */
    int64_t in_rows;
    /* vocabulary: fastText's word2int, open addressing on its FNV hash */
    char *words;
    int64_t *word_off;    /* size + 1 offsets into words */
    int8_t *word_type;    /* 0 word, 1 label */
    int32_t *vocab_slots; /* -1 empty, else word id */
    uint32_t vocab_mask;
    size_t max_word_len; /* the longest entry's bytes: a longer token is in no entry, so it is not hashed */
    /* prune index: n-gram bucket -> row offset after the words */
    int32_t *prune_tab;    /* (key, value) pairs, key -1: empty */
    uint64_t *prune_bits;  /* one bit per bucket: is it kept? (most n-grams of a pruned model are not) */
    uint32_t *prune_rank;  /* with prune_bits: the kept buckets in the words before each word of prune_bits */
    int32_t *prune_rows;   /* with prune_bits: the row offset of the r-th kept bucket (in bucket order) */
    uint32_t prune_mask;
    /* matrices (read-only views, kept alive by the buffers) */
    Py_buffer input_buf, output_buf;
    const float *in, *out;
    int32_t *left, *right; /* Huffman tree (hierarchical softmax) */
    PyObject *labels;      /* tuple of str */
    /* token cache */
    Slot *slots;
    uint32_t slot_mask;
    size_t n_ents, max_ents;
    unsigned char *arena;
    size_t arena_used, arena_cap, max_arena;
    uint64_t hits, misses, clears;
    /* scratch */
    unsigned char *wbuf;
    size_t wbuf_cap;
    int32_t *ids;
    size_t ids_cap;
    float *tmp, *outv;
    PyThread_type_lock lock;
} Model;

/* ---------------------------------------------------------------- hashing */

static inline uint32_t fnv_step(uint32_t h, unsigned char c) {
    /* fastText's Dictionary::hash: h ^ uint32_t(int8_t(c)) (sign-extended), then * 16777619 */
    h ^= (uint32_t)(int32_t)(int8_t)c;
    return h * 16777619u;
}

static inline uint32_t fnv(const unsigned char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = fnv_step(h, s[i]);
    return h;
}

static inline uint64_t mix64(uint64_t h) {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

static inline uint64_t cache_hash(const unsigned char *p, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0x94d049bb133111ebull;
    }
    return mix64(h);
}

/* ---------------------------------------------------------------- model lookups */

static int32_t vocab_find(const Model *m, const unsigned char *w, size_t n, uint32_t h) {
    uint32_t i = h & m->vocab_mask;
    for (;;) {
        int32_t id = m->vocab_slots[i];
        if (id < 0) return -1;
        int64_t off = m->word_off[id], len = m->word_off[id + 1] - off;
        if ((size_t)len == n && memcmp(m->words + off, w, n) == 0) return id;
        i = (i + 1) & m->vocab_mask;
    }
}

static inline uint32_t int_hash(uint32_t k) { return k * 2654435761u; }

/* The prune table's value for key, -1 when it has none. */
static inline int32_t prune_probe(const Model *m, int32_t key) {
    uint32_t i = int_hash((uint32_t)key) & m->prune_mask;
    for (;;) {
        int32_t k = m->prune_tab[2 * i];
        if (k == key) return m->prune_tab[2 * i + 1];
        if (k < 0) return -1;
        i = (i + 1) & m->prune_mask;
    }
}

/* set bits of x (SWAR: the generic x86-64 build has no popcnt instruction, and libgcc's is a call) */
static inline uint32_t popcount64(uint64_t x) {
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

static int32_t prune_find(const Model *m, int32_t key) {
    if (m->prune_bits && !(m->prune_bits[(uint32_t)key >> 6] >> (key & 63) & 1)) return -1;
    return prune_probe(m, key);
}

/* Vector::addRow of a dense row: dst[k] += row[k] */
static inline void add_row(const Model *m, float *dst, int32_t row) {
    const float *r = m->in + (int64_t)row * m->dim;
    for (int k = 0; k < m->dim; k++) dst[k] += r[k];
}

/* add_row of rows ids[0..n) in order. With 16 dimensions (lid.176's) the sum stays in four SSE registers across
 * the rows instead of going through dst: each add_row loaded what the one before had just stored, so the rows
 * of a token were added one after the other at the store-to-load forwarding latency (a Chinese whitespace
 * token contributes ~100 rows). Every element still adds the same floats in the same order. */
static void add_rows(const Model *m, float *dst, const int32_t *ids, int64_t n) {
#ifdef __SSE2__
    if (m->dim == 16) {
        __m128 a = _mm_loadu_ps(dst), b = _mm_loadu_ps(dst + 4), c = _mm_loadu_ps(dst + 8), d = _mm_loadu_ps(dst + 12);
        for (int64_t q = 0; q < n; q++) {
            const float *r = m->in + (int64_t)ids[q] * 16;
            a = _mm_add_ps(a, _mm_loadu_ps(r));
            b = _mm_add_ps(b, _mm_loadu_ps(r + 4));
            c = _mm_add_ps(c, _mm_loadu_ps(r + 8));
            d = _mm_add_ps(d, _mm_loadu_ps(r + 12));
        }
        _mm_storeu_ps(dst, a);
        _mm_storeu_ps(dst + 4, b);
        _mm_storeu_ps(dst + 8, c);
        _mm_storeu_ps(dst + 12, d);
        return;
    }
#endif
    for (int64_t q = 0; q < n; q++) add_row(m, dst, ids[q]);
}

/* h % d for a 32-bit h and a fixed d, by a multiplication (Lemire, Kaser and Kurz 2019, "Faster remainder
 * by direct computation": exact for every 32-bit h and d >= 1); m->bucket_m = 2^64 / d rounded up. fastText
 * takes this remainder for each character n-gram, and a division costs ~20-40 cycles. */
static inline uint32_t bucket_of(uint64_t bucket_m, uint32_t bucket, uint32_t h) {
#ifdef __SIZEOF_INT128__
    return (uint32_t)(((unsigned __int128)(bucket_m * h) * bucket) >> 64);
#else
    (void)bucket_m;
    return h % bucket;
#endif
}

/* Bytes p[0..12] are four 3-byte UTF-8 characters (lead 1110xxxx, two 10xxxxxx each) and then no continuation
 * byte: the four characters from p, exactly as fastText reads them, are twelve bytes. Two loads and masks
 * instead of finding every character's start (the bytes' order is the same on both sides of the compare). */
static inline int four_3byte_chars(const unsigned char *p) {
    static const unsigned char mask[12] = {0xF0, 0xC0, 0xC0, 0xF0, 0xC0, 0xC0, 0xF0, 0xC0, 0xC0, 0xF0, 0xC0, 0xC0};
    static const unsigned char want[12] = {0xE0, 0x80, 0x80, 0xE0, 0x80, 0x80, 0xE0, 0x80, 0x80, 0xE0, 0x80, 0x80};
    uint64_t x, mx, wx;
    uint32_t y, my, wy;
    memcpy(&x, p, 8);
    memcpy(&y, p + 8, 4);
    memcpy(&mx, mask, 8);
    memcpy(&my, mask + 8, 4);
    memcpy(&wx, want, 8);
    memcpy(&wy, want + 8, 4);
    return ((x & mx) == wx) & ((y & my) == wy) & ((p[12] & 0xC0) != 0x80);
}

/* The n-gram bucket ids of `starts` (a multiple of 8, at most CJK_BLOCK) consecutive character starts p, p + 3,
 * ... where four_3byte_chars holds at each: ids[3t], ids[3t + 1], ids[3t + 2] get start t's 2-, 3- and
 * 4-character n-grams' buckets (FNV hash % bucket), as the scalar path computes them. Why: each hash is a chain
 * of serial multiplies (twelve a start in Chinese text) and one scalar multiplier ran every chain of a token,
 * then two more multiplies for each remainder; here eight starts go side by side in AVX2 lanes, one vector
 * multiply per byte for all eight. The characters' bytes are first spread, sign-extended as fastText's hash
 * takes them, into one array per byte position (lead, second, third), so a step's eight operands are one
 * unaligned load. The remainder is taken in doubles: h < 2^32, and q * bucket and h - q * bucket are integers
 * under 2^53, so exact. q = floor(h * (1 / bucket)) is never one too many (the product's error, under
 * 2^-20 / bucket, is less than h / bucket's distance 1 / bucket to the next integer up when below it) and one
 * short only when h is an exact multiple of bucket and the product rounds down: then r = bucket, corrected to
 * 0 (tests/pipeline/filters/test_lid_subwords.py builds such a bucket count). The same ids, bit for bit. */
#define CJK_BLOCK 64
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_AVX2_HASH 1
#include <immintrin.h>
static int use_avx2; /* set at import where the CPU has AVX2; set_simd(False) turns it off (tests) */

__attribute__((target("avx2"))) static inline __m128i remainder4(__m128i h, __m256d b, __m256d inv) {
    /* four unsigned 32-bit h % b: h as signed (top bit flipped) plus 2^31 is h as a double */
    __m256d d = _mm256_add_pd(_mm256_cvtepi32_pd(_mm_xor_si128(h, _mm_set1_epi32(INT32_MIN))),
                              _mm256_set1_pd(2147483648.0));
    __m256d q = _mm256_floor_pd(_mm256_mul_pd(d, inv));
    __m256d r = _mm256_sub_pd(d, _mm256_mul_pd(q, b));
    r = _mm256_sub_pd(r, _mm256_and_pd(_mm256_cmp_pd(r, b, _CMP_GE_OQ), b)); /* q one short: h a multiple of b */
    return _mm256_cvttpd_epi32(r); /* r < bucket <= 2^31 - 1: fits */
}

__attribute__((target("avx2"))) static void cjk_ids_avx2(const unsigned char *p, size_t starts, uint32_t bucket,
                                                         int32_t *ids) {
    int32_t b[3][CJK_BLOCK + 3], out[3][8];
    for (size_t c = 0; c < starts + 3; c++) { /* the characters the starts' 4-grams cover */
        b[0][c] = (int8_t)p[3 * c];
        b[1][c] = (int8_t)p[3 * c + 1];
        b[2][c] = (int8_t)p[3 * c + 2];
    }
    const __m256i prime = _mm256_set1_epi32(16777619), basis = _mm256_set1_epi32((int32_t)2166136261u);
    const __m256d bd = _mm256_set1_pd((double)bucket), inv = _mm256_set1_pd(1.0 / (double)bucket);
    for (size_t t = 0; t < starts; t += 8) {
        __m256i h = basis;
        for (int c = 0; c < 4; c++) {
            for (int j = 0; j < 3; j++)
                h = _mm256_mullo_epi32(_mm256_xor_si256(h, _mm256_loadu_si256((const __m256i *)&b[j][t + c])), prime);
            if (c) {
                _mm_storeu_si128((__m128i *)out[c - 1], remainder4(_mm256_castsi256_si128(h), bd, inv));
                _mm_storeu_si128((__m128i *)(out[c - 1] + 4), remainder4(_mm256_extracti128_si256(h, 1), bd, inv));
            }
        }
        for (int l = 0; l < 8; l++) { /* fastText's order: each start's 2-, 3-, 4-gram */
            ids[3 * (t + l)] = out[0][l];
            ids[3 * (t + l) + 1] = out[1][l];
            ids[3 * (t + l) + 2] = out[2][l];
        }
    }
}
#endif

/* Dictionary::computeSubwords on w = "<" + token + ">" with Dictionary::pushHash: writes the input row of
 * each kept n-gram to ids (room for n * maxn), in fastText's order. Three passes over the n-grams instead of
 * one so that their loads are independent: every bucket id first, then the kept ones (prune bits) compacted
 * without a branch, then their rows by the kept ones' rank. A Chinese token is long and seldom repeated, so
 * its n-grams are not cached and each one's bit and row offset is a likely cache miss; in one loop each
 * mispredicted "kept?" branch stopped the core from running ahead to the next misses. With lid.176's n-gram
 * lengths (2 to 4), where the next four characters are 3-byte ones (CJK) their twelve bytes are hashed in
 * straight code (three n-grams, one per added character); elsewhere each n-gram's characters are walked byte
 * by byte as fastText does. On zhwiki's texts LID went 258 -> 173 instructions a character (callgrind). */
static size_t subwords(const Model *m, const unsigned char *w, size_t n, int32_t *ids) {
    if (m->prune_size == 0) return 0; /* no n-gram rows at all */
    /* the model's fields in locals: the stores to ids (int32) could alias them, so the compiler would reload
     * them for every n-gram */
    const int minn = m->minn, maxn = m->maxn;
    const int32_t nwords = m->nwords;
    const uint32_t bucket = m->bucket;
    const uint64_t bucket_m = m->bucket_m;
    const uint64_t *bits = m->prune_bits;
    size_t k = 0;
    if (maxn == 4 && minn == 2) { /* lid.176's n-grams: 2 to 4 characters from each character's start */
        size_t i = 0;
#ifdef HAVE_AVX2_HASH
        size_t short_run_end = 0; /* starts before it are in a run of CJK starts too short for the vector path */
#endif
        while (i < n) {
#ifdef HAVE_AVX2_HASH
            if (use_avx2 && i >= short_run_end && i + 13 <= n && four_3byte_chars(w + i)) {
                size_t q = 1; /* CJK starts from i, up to a block */
                while (q < CJK_BLOCK && i + 3 * q + 13 <= n && four_3byte_chars(w + i + 3 * q)) q++;
                if (q < 8) {
                    short_run_end = i + 3 * q;
                } else {
                    q &= ~(size_t)7;
                    cjk_ids_avx2(w + i, q, bucket, ids + k);
                    k += 3 * q;
                    i += 3 * q;
                    continue;
                }
            }
#endif
            if (i + 13 <= n && four_3byte_chars(w + i)) { /* CJK text: twelve bytes, no loop, no branch */
                const unsigned char *p = w + i;
                uint32_t h = 2166136261u;
                h = fnv_step(fnv_step(fnv_step(h, p[0]), p[1]), p[2]);
                h = fnv_step(fnv_step(fnv_step(h, p[3]), p[4]), p[5]);
                ids[k] = (int32_t)bucket_of(bucket_m, bucket, h);
                h = fnv_step(fnv_step(fnv_step(h, p[6]), p[7]), p[8]);
                ids[k + 1] = (int32_t)bucket_of(bucket_m, bucket, h);
                h = fnv_step(fnv_step(fnv_step(h, p[9]), p[10]), p[11]);
                ids[k + 2] = (int32_t)bucket_of(bucket_m, bucket, h);
                k += 3;
                i += 3;
                continue;
            }
            uint32_t h = 2166136261u;
            size_t j = i;
            do h = fnv_step(h, w[j++]); while (j < n && (w[j] & 0xC0) == 0x80); /* the first character */
            const size_t next = j;
            for (int len = 2; len <= 4 && j < n; len++) {
                do h = fnv_step(h, w[j++]); while (j < n && (w[j] & 0xC0) == 0x80);
                ids[k++] = (int32_t)bucket_of(bucket_m, bucket, h);
            }
            i = next;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if ((w[i] & 0xC0) == 0x80) continue;
            uint32_t h = 2166136261u;
            size_t j = i;
            for (int len = 1; j < n && len <= maxn; len++) {
                h = fnv_step(h, w[j++]);
                while (j < n && (w[j] & 0xC0) == 0x80) h = fnv_step(h, w[j++]);
                if (len >= minn && !(len == 1 && (i == 0 || j == n))) ids[k++] = (int32_t)bucket_of(bucket_m, bucket, h);
            }
        }
    }
    if (m->prune_size < 0) { /* not pruned: the id is the row after the words */
        for (size_t q = 0; q < k; q++) ids[q] += nwords;
        return k;
    }
    size_t rows = 0;
    if (bits) { /* keys >= bucket never occur: every id here is < bucket */
        for (size_t q = 0; q < k; q++) {
            uint32_t key = (uint32_t)ids[q];
            ids[rows] = (int32_t)key;
            rows += bits[key >> 6] >> (key & 63) & 1;
        }
        /* a kept bucket's rank among the kept ones (the kept buckets in the words before its word, then the bits
         * below it in its own) indexes its row offset: no hash probe into a table four times as large */
        const uint32_t *rank = m->prune_rank;
        const int32_t *prow = m->prune_rows;
        for (size_t q = 0; q < rows; q++) {
            uint32_t key = (uint32_t)ids[q];
            ids[q] = nwords + prow[rank[key >> 6] + popcount64(bits[key >> 6] & (((uint64_t)1 << (key & 63)) - 1))];
        }
        return rows;
    }
    for (size_t q = 0; q < k; q++) {
        int32_t id = prune_find(m, ids[q]);
        if (id >= 0) ids[rows++] = nwords + id;
    }
    return rows;
}

/* The input rows one token contributes in Dictionary::getLine (+ addSubwords), in fastText's order, into
 * m->ids. Returns their count, or -1 when out of memory. */
static int64_t token_ids(Model *m, const unsigned char *tok, size_t n) {
    size_t need = 2 + (m->maxn > 0 ? (n + 2) * (size_t)m->maxn : 0); /* subwords' character starts: one more */
    if (need > m->ids_cap) {
        int32_t *b = realloc(m->ids, need * sizeof(int32_t));
        if (!b) return -1;
        m->ids = b;
        m->ids_cap = need;
    }
    /* A token longer than every entry is none of them: its hash is not computed. Chinese whitespace tokens are
     * whole clauses (zhwiki: ~120 bytes on average, lid.176's longest entry 42), and the hash is one serial
     * multiply per byte. */
    int32_t wid = n > m->max_word_len ? -1 : vocab_find(m, tok, n, fnv(tok, n));
    int type = wid >= 0 ? m->word_type[wid]
                        : n >= sizeof(LABEL_PREFIX) - 1 && !memcmp(tok, LABEL_PREFIX, sizeof(LABEL_PREFIX) - 1);
    if (type != 0) return 0; /* labels are not features */
    int64_t rows = 0;
    if (wid >= 0) m->ids[rows++] = wid;
    if (n == sizeof(EOS) - 1 && memcmp(tok, EOS, n) == 0) return rows; /* EOS has no subwords */
    if (m->maxn <= 0) return rows;
    if (n + 2 > m->wbuf_cap) {
        unsigned char *b = realloc(m->wbuf, n + 2);
        if (!b) return -1;
        m->wbuf = b;
        m->wbuf_cap = n + 2;
    }
    m->wbuf[0] = '<';
    memcpy(m->wbuf + 1, tok, n);
    m->wbuf[n + 1] = '>';
    return rows + (int64_t)subwords(m, m->wbuf, n + 2, m->ids + rows);
}

/* The sum of rows ids[0..n) in order, from zero */
static void sum_rows(const Model *m, const int32_t *ids, int64_t n, float *dst) {
    memset(dst, 0, sizeof(float) * (size_t)m->dim);
    add_rows(m, dst, ids, n);
}

/* ---------------------------------------------------------------- token cache */

static inline size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static inline const void *slot_value(const Model *m, const Slot *e) {
    return m->arena + (size_t)e->off4 * 4 + pad4(e->klen);
}

static inline int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
    uint64_t x, y;
    while (n >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++) return 0;
    return 1;
}

static void cache_clear(Model *m) {
    if (m->slots) memset(m->slots, 0, sizeof(Slot) * ((size_t)m->slot_mask + 1));
    if (m->n_ents) m->clears++;
    m->n_ents = 0;
    m->arena_used = 0;
}

static void cache_free(Model *m) {
    free(m->slots);
    free(m->arena);
    m->slots = NULL;
    m->arena = NULL;
    m->slot_mask = 0;
    m->n_ents = m->arena_used = m->arena_cap = 0;
}

static int cache_grow_slots(Model *m) {
    size_t cap = m->slots ? ((size_t)m->slot_mask + 1) * 2 : 1 << 14;
    Slot *t = calloc(cap, sizeof(Slot));
    if (!t) return -1;
    if (m->slots) {
        for (size_t k = 0; k <= m->slot_mask; k++) {
            if (!m->slots[k].klen) continue;
            size_t i = m->slots[k].h & (cap - 1);
            while (t[i].klen) i = (i + 1) & (cap - 1);
            t[i] = m->slots[k];
        }
    }
    free(m->slots);
    m->slots = t;
    m->slot_mask = (uint32_t)(cap - 1);
    return 0;
}

/* The token's slot, its record computed and inserted on a miss. NULL when out of memory, or when the
 * token is not cacheable (*rows >= 0 then: its ids are in m->ids). */
static const Slot *cache_get(Model *m, const unsigned char *tok, size_t n, int64_t *rows) {
    uint64_t h = cache_hash(tok, n);
    if (m->slots) {
        size_t i = h & m->slot_mask;
        for (;;) {
            const Slot *e = &m->slots[i];
            if (!e->klen) break;
            if (e->h == h && e->klen == n && same_bytes(m->arena + (size_t)e->off4 * 4, tok, n)) {
                m->hits++;
                return e;
            }
            i = (i + 1) & m->slot_mask;
        }
    }
    m->misses++;
    if ((*rows = token_ids(m, tok, n)) < 0 || *rows > 0xffff) return NULL;
    size_t rec = pad4(n) + (m->exact ? (size_t)*rows * sizeof(int32_t) : (size_t)m->dim * sizeof(float));
    if (rec > m->max_arena) return NULL; /* would never fit: not cached */
    if (m->n_ents >= m->max_ents || m->arena_used + rec > m->max_arena) cache_clear(m);
    if (!m->slots || (m->n_ents + 1) * 2 > (size_t)m->slot_mask + 1) {
        if (cache_grow_slots(m) < 0) return *rows = -1, NULL;
    }
    if (m->arena_used + rec > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap * 2 : (size_t)1 << 16;
        while (cap < m->arena_used + rec) cap *= 2;
        unsigned char *a = realloc(m->arena, cap);
        if (!a) return *rows = -1, NULL;
        m->arena = a;
        m->arena_cap = cap;
    }
    size_t i = h & m->slot_mask;
    while (m->slots[i].klen) i = (i + 1) & m->slot_mask;
    Slot *e = &m->slots[i];
    e->h = h;
    e->off4 = (uint32_t)(m->arena_used / 4);
    e->klen = (uint16_t)n;
    e->nrows = (uint16_t)*rows;
    memcpy(m->arena + m->arena_used, tok, n);
    void *value = m->arena + m->arena_used + pad4(n);
    if (m->exact)
        memcpy(value, m->ids, (size_t)*rows * sizeof(int32_t));
    else
        sum_rows(m, m->ids, *rows, (float *)value);
    m->arena_used += rec;
    m->n_ents++;
    return e;
}

/* ---------------------------------------------------------------- prediction */

static inline float std_log(float x) { return (float)log((double)x + 1e-5); }

static float dot_out(const Model *m, int64_t row, const float *hidden) {
    const float *r = m->out + row * m->dim;
    float d = 0.0f;
    for (int k = 0; k < m->dim; k++) d += r[k] * hidden[k];
    return d;
}

/* HierarchicalSoftmaxLoss::dfs for k = 1 with a threshold of 0; a leaf that survives the pruning replaces
 * the best (std::push_heap/pop_heap keep the later of two equal scores). */
static void dfs(const Model *m, const float *hidden, int32_t node, float score, float thr, float *best,
                int32_t *best_node) {
    if (score < thr) return;
    if (*best_node >= 0 && score < *best) return;
    if (m->left[node] == -1 && m->right[node] == -1) {
        *best = score;
        *best_node = node;
        return;
    }
    float f = dot_out(m, node - m->osz, hidden);
    f = (float)(1. / (double)(1.0f + expf(-f)));
    dfs(m, hidden, m->left[node], score + std_log((float)(1.0 - (double)f)), thr, best, best_node);
    dfs(m, hidden, m->right[node], score + std_log(f), thr, best, best_node);
}

/* The first separator (sep) at or after p in s[0..n), or n. Sixteen bytes a step where SSE2 is (every x86-64):
 * a Chinese whitespace token is a whole clause, ~120 bytes, and the byte loop's table lookup and branch per byte
 * took ~40 % of Model_predict's own time on zhwiki. The separators: NUL, 9-13 (\t \n \v \f \r) and space. */
static inline size_t token_end(const unsigned char *s, size_t p, size_t n) {
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9), four = _mm_set1_epi8(4);
    for (; p + 16 <= n; p += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(s + p));
        __m128i c = _mm_sub_epi8(b, nine); /* 0..4 (unsigned) for 9..13 */
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, space), _mm_cmpeq_epi8(b, _mm_setzero_si128())),
                                   _mm_cmpeq_epi8(_mm_min_epu8(c, four), c));
        int mask = _mm_movemask_epi8(hit);
        if (mask) return p + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    while (p < n && !sep[s[p]]) p++;
    return p;
}

/* One line: `s` is the text without fastText's implicit trailing "\n" ('\n' inside reads as a space, as
 * the caller's replace("\n", " ") makes it). Returns the label index (-1: no features, where fastText
 * returns no prediction) and sets *prob = exp(score) in float, as FastText::predictLine; -2: no memory. */
static int32_t predict_line(Model *m, const unsigned char *s, size_t n, float *prob) {
    const int dim = m->dim;
    float *hidden = m->tmp + dim;
    memset(hidden, 0, sizeof(float) * (size_t)dim);
    int64_t nrows = 0;
    size_t p = 0;
    int eos = 0;
    while (!eos) {
        while (p < n && sep[s[p]]) p++;
        const unsigned char *tok;
        size_t len;
        if (p < n) {
            size_t start = p;
            p = token_end(s, p, n);
            tok = s + start;
            len = p - start;
            eos = len == sizeof(EOS) - 1 && memcmp(tok, EOS, len) == 0; /* getLine stops after "</s>" */
        } else { /* the final "\n" reads as EOS */
            tok = (const unsigned char *)EOS;
            len = sizeof(EOS) - 1;
            eos = 1;
        }
        const void *value;
        int64_t rows = -1;
        const Slot *e = len <= MAX_CACHED_TOKEN ? cache_get(m, tok, len, &rows) : NULL;
        if (e) {
            value = slot_value(m, e);
            rows = e->nrows;
        } else { /* not cached: computed the same way */
            if (rows < 0 && (rows = token_ids(m, tok, len)) < 0) return -2;
            value = m->ids;
            if (!m->exact) {
                sum_rows(m, m->ids, rows, m->tmp);
                value = m->tmp;
            }
        }
        if (m->exact) {
            add_rows(m, hidden, value, rows);
        } else {
            const float *v = value;
            for (int k = 0; k < dim; k++) hidden[k] += v[k];
        }
        nrows += rows;
    }
    if (nrows == 0) { /* FastText::predict returns nothing for an empty feature list */
        *prob = 0.0f;
        return -1;
    }
    const float scale = (float)(1.0 / (double)nrows); /* hidden.mul(1.0 / input.size()), mul takes a float */
    for (int k = 0; k < dim; k++) hidden[k] *= scale;
    float best = 0.0f;
    int32_t best_node = -1;
    if (m->loss == LOSS_HS) {
        dfs(m, hidden, 2 * m->osz - 2, 0.0f, std_log(0.0f), &best, &best_node);
    } else { /* SoftmaxLoss::computeOutput (std::exp of the float difference is exp(double)), findKBest */
        float *o = m->outv, mx, z = 0.0f;
        for (int32_t i = 0; i < m->osz; i++) o[i] = dot_out(m, i, hidden);
        mx = o[0];
        for (int32_t i = 0; i < m->osz; i++) mx = o[i] < mx ? mx : o[i]; /* std::max(output[i], max) */
        for (int32_t i = 0; i < m->osz; i++) {
            o[i] = (float)exp((double)(o[i] - mx));
            z += o[i];
        }
        for (int32_t i = 0; i < m->osz; i++) o[i] /= z;
        for (int32_t i = 0; i < m->osz; i++) {
            if (o[i] < 0.0f) continue;
            float sc = std_log(o[i]);
            if (best_node >= 0 && sc < best) continue;
            best = sc;
            best_node = i;
        }
    }
    if (best_node < 0) {
        *prob = 0.0f;
        return -1;
    }
    *prob = expf(best);
    return best_node;
}

/* ---------------------------------------------------------------- Python type */

/* kind: 'f' float, 'i' signed integer, 'u' unsigned integer, of `itemsize` bytes */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *name, char kind, Py_ssize_t itemsize,
                      Py_ssize_t min_items) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = view->format ? view->format : "B";
    if (f[0] == '<' || f[0] == '=' || f[0] == '@') f++;
    const char *kinds = kind == 'f' ? "f" : kind == 'i' ? "bhilq" : "BHILQ";
    if (view->itemsize != itemsize || !f[0] || f[1] || !strchr(kinds, f[0]) || view->len / itemsize < min_items) {
        PyErr_Format(PyExc_ValueError, "%s: expected a contiguous buffer of %zd-byte %s (at least %zd items)",
                     name, itemsize, kind == 'f' ? "floats" : "integers", min_items);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void *copy_buffer(PyObject *obj, const char *name, char kind, Py_ssize_t itemsize, Py_ssize_t n_items,
                         int exact) {
    Py_buffer v;
    if (get_buffer(obj, &v, name, kind, itemsize, n_items) < 0) return NULL;
    if (exact && v.len / itemsize != n_items) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items, got %zd", name, n_items, v.len / itemsize);
        PyBuffer_Release(&v);
        return NULL;
    }
    void *p = PyMem_RawMalloc(v.len ? (size_t)v.len : 1);
    if (!p) {
        PyBuffer_Release(&v);
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(p, v.buf, (size_t)v.len);
    PyBuffer_Release(&v);
    return p;
}

static uint32_t pow2_at_least(uint64_t n) {
    uint64_t c = 16;
    while (c < n) c <<= 1;
    return (uint32_t)c;
}

static void Model_release(Model *m) {
    PyMem_RawFree(m->words);
    PyMem_RawFree(m->word_off);
    PyMem_RawFree(m->word_type);
    PyMem_RawFree(m->vocab_slots);
    PyMem_RawFree(m->prune_tab);
    PyMem_RawFree(m->prune_bits);
    PyMem_RawFree(m->prune_rank);
    PyMem_RawFree(m->prune_rows);
    PyMem_RawFree(m->left);
    PyMem_RawFree(m->right);
    PyMem_RawFree(m->tmp);
    PyMem_RawFree(m->outv);
    free(m->wbuf);
    free(m->ids);
    m->ids = NULL;
    m->ids_cap = 0;
    m->words = NULL;
    m->word_off = NULL;
    m->word_type = NULL;
    m->vocab_slots = NULL;
    m->prune_tab = m->left = m->right = NULL;
    m->prune_bits = NULL;
    m->prune_rank = NULL;
    m->prune_rows = NULL;
    m->tmp = m->outv = NULL;
    m->wbuf = NULL;
    m->wbuf_cap = 0;
    cache_free(m);
    if (m->input_buf.obj) PyBuffer_Release(&m->input_buf);
    if (m->output_buf.obj) PyBuffer_Release(&m->output_buf);
    m->in = m->out = NULL;
    Py_CLEAR(m->labels);
}

static void Model_dealloc(Model *m) {
    Model_release(m);
    if (m->lock) PyThread_free_lock(m->lock);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static int Model_init(Model *m, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"dim", "nwords", "minn", "maxn", "bucket", "prune_size", "words", "word_offsets",
                             "word_types", "prune_keys", "prune_values", "input", "output", "loss", "tree_left",
                             "tree_right", "labels", "exact", "cache_entries", "cache_bytes", NULL};
    int dim, nwords, minn, maxn, loss, exact = 1;
    long long bucket, prune_size, cache_entries = 1 << 18, cache_bytes = 16LL << 20;
    PyObject *words, *offs, *types, *pk, *pv, *input, *output, *tl, *tr, *labels;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iiiiLLOOOOOOOiOOO|pLL", kwlist, &dim, &nwords, &minn, &maxn,
                                     &bucket, &prune_size, &words, &offs, &types, &pk, &pv, &input, &output,
                                     &loss, &tl, &tr, &labels, &exact, &cache_entries, &cache_bytes))
        return -1;
    if (m->in) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialised");
        return -1;
    }
    if (!m->lock && !(m->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        return -1;
    }
    if (dim <= 0 || nwords < 0 || bucket < 0 || bucket > 0xffffffffLL || (bucket == 0 && maxn > 0) ||
        (loss != LOSS_HS && loss != LOSS_SOFTMAX) || cache_entries < 1 || cache_entries > 0x7fffffffLL || cache_bytes < 1 || cache_bytes > 0x3ffffffffLL) {
        PyErr_SetString(PyExc_ValueError, "bad model arguments");
        return -1;
    }
    m->dim = dim;
    m->nwords = nwords;
    m->minn = minn;
    m->maxn = maxn;
    m->bucket = (uint32_t)bucket;
    m->bucket_m = bucket ? UINT64_MAX / (uint64_t)bucket + 1 : 0;
    m->prune_size = prune_size < 0 ? -1 : prune_size;
    m->loss = loss;
    m->exact = exact;
    m->max_ents = (size_t)cache_entries;
    m->max_arena = (size_t)cache_bytes;

    if (!PyTuple_Check(labels) || PyTuple_GET_SIZE(labels) < 1) {
        PyErr_SetString(PyExc_TypeError, "labels: a non-empty tuple of str");
        return -1;
    }
    m->osz = (int)PyTuple_GET_SIZE(labels);
    Py_INCREF(labels);
    m->labels = labels;

    /* vocabulary */
    Py_buffer ob;
    if (get_buffer(offs, &ob, "word_offsets", 'i', 8, 1) < 0) goto fail;
    m->size = (int32_t)(ob.len / 8 - 1);
    PyBuffer_Release(&ob);
    if (m->size < nwords) {
        PyErr_SetString(PyExc_ValueError, "word_offsets: fewer entries than nwords");
        goto fail;
    }
    if (!(m->word_off = copy_buffer(offs, "word_offsets", 'i', 8, m->size + 1, 1))) goto fail;
    if (!(m->word_type = copy_buffer(types, "word_types", 'i', 1, m->size, 1))) goto fail;
    {
        Py_buffer wb;
        if (get_buffer(words, &wb, "words", 'u', 1, 0) < 0) goto fail;
        for (int32_t i = 0; i < m->size; i++) {
            if (m->word_off[i] < 0 || m->word_off[i] > m->word_off[i + 1] || m->word_off[i + 1] > wb.len) {
                PyBuffer_Release(&wb);
                PyErr_SetString(PyExc_ValueError, "word_offsets out of range");
                goto fail;
            }
        }
        m->words = PyMem_RawMalloc(wb.len ? (size_t)wb.len : 1);
        if (!m->words) {
            PyBuffer_Release(&wb);
            PyErr_NoMemory();
            goto fail;
        }
        memcpy(m->words, wb.buf, (size_t)wb.len);
        PyBuffer_Release(&wb);
    }
    {
        uint32_t cap = pow2_at_least((uint64_t)m->size * 2 + 1);
        m->vocab_mask = cap - 1;
        if (!(m->vocab_slots = PyMem_RawMalloc(sizeof(int32_t) * cap))) {
            PyErr_NoMemory();
            goto fail;
        }
        memset(m->vocab_slots, 0xff, sizeof(int32_t) * cap);
        m->max_word_len = 0;
        for (int32_t id = 0; id < m->size; id++) { /* a repeated word maps to its last entry, as in fastText */
            const unsigned char *w = (const unsigned char *)m->words + m->word_off[id];
            size_t n = (size_t)(m->word_off[id + 1] - m->word_off[id]);
            if (n > m->max_word_len) m->max_word_len = n;
            uint32_t i = fnv(w, n) & m->vocab_mask;
            for (;;) {
                int32_t o = m->vocab_slots[i];
                if (o < 0 || ((size_t)(m->word_off[o + 1] - m->word_off[o]) == n &&
                              memcmp(m->words + m->word_off[o], w, n) == 0)) {
                    m->vocab_slots[i] = id;
                    break;
                }
                i = (i + 1) & m->vocab_mask;
            }
        }
    }

    /* input matrix */
    if (get_buffer(input, &m->input_buf, "input", 'f', 4, 0) < 0) goto fail;
    m->in = m->input_buf.buf;
    m->in_rows = m->input_buf.len / 4 / dim;
    for (int32_t id = 0; id < m->size; id++) {
        if (m->word_type[id] == 0 && id >= m->in_rows) {
            PyErr_SetString(PyExc_ValueError, "a word id is beyond the input matrix");
            goto fail;
        }
    }

    /* prune index */
    {
        Py_buffer kb;
        if (get_buffer(pk, &kb, "prune_keys", 'i', 4, 0) < 0) goto fail;
        Py_ssize_t np_ = kb.len / 4;
        PyBuffer_Release(&kb);
        if (m->prune_size > 0 && np_ != m->prune_size) {
            PyErr_SetString(PyExc_ValueError, "prune_keys: expected prune_size entries");
            goto fail;
        }
        int32_t *keys = copy_buffer(pk, "prune_keys", 'i', 4, np_, 1);
        if (!keys) goto fail;
        int32_t *vals = copy_buffer(pv, "prune_values", 'i', 4, np_, 1);
        if (!vals) {
            PyMem_RawFree(keys);
            goto fail;
        }
        size_t nbits = m->bucket <= (1u << 27) ? ((size_t)m->bucket + 63) / 64 : 0; /* <= 16 MB */
        int bad = 0, nomem = 0;
        for (Py_ssize_t j = 0; j < np_; j++) {
            if (keys[j] < 0 || vals[j] < 0 || (int64_t)nwords + vals[j] >= m->in_rows) {
                bad = 1;
                break;
            }
        }
        if (!bad && nbits) { /* the kept buckets' bits, their ranks, and their row offsets in bucket order */
            m->prune_bits = PyMem_RawCalloc(nbits, sizeof(uint64_t));
            m->prune_rank = PyMem_RawMalloc(sizeof(uint32_t) * nbits);
            if (m->prune_bits && m->prune_rank) {
                for (Py_ssize_t j = 0; j < np_; j++)
                    if ((uint32_t)keys[j] < m->bucket) /* larger keys are no n-gram's bucket */
                        m->prune_bits[(uint32_t)keys[j] >> 6] |= (uint64_t)1 << (keys[j] & 63);
                uint32_t kept = 0;
                for (size_t w = 0; w < nbits; w++) {
                    m->prune_rank[w] = kept;
                    kept += popcount64(m->prune_bits[w]);
                }
                m->prune_rows = PyMem_RawMalloc(sizeof(int32_t) * (kept ? kept : 1));
                if (m->prune_rows) {
                    for (Py_ssize_t j = 0; j < np_; j++) { /* a repeated key keeps its last value, as in fastText */
                        uint32_t key = (uint32_t)keys[j];
                        if (key >= m->bucket) continue;
                        uint64_t below = m->prune_bits[key >> 6] & (((uint64_t)1 << (key & 63)) - 1);
                        m->prune_rows[m->prune_rank[key >> 6] + popcount64(below)] = vals[j];
                    }
                }
            }
            nomem = !m->prune_bits || !m->prune_rank || !m->prune_rows;
        } else if (!bad) { /* a bucket count too large for the bits: a hash table of the kept buckets */
            uint32_t cap = pow2_at_least((uint64_t)np_ * 2 + 1);
            m->prune_mask = cap - 1;
            m->prune_tab = PyMem_RawMalloc(sizeof(int32_t) * 2 * cap);
            if (m->prune_tab) {
                memset(m->prune_tab, 0xff, sizeof(int32_t) * 2 * cap);
                for (Py_ssize_t j = 0; j < np_; j++) { /* a repeated key keeps its last value, as in fastText */
                    uint32_t i = int_hash((uint32_t)keys[j]) & m->prune_mask;
                    while (m->prune_tab[2 * i] >= 0 && m->prune_tab[2 * i] != keys[j]) i = (i + 1) & m->prune_mask;
                    m->prune_tab[2 * i] = keys[j];
                    m->prune_tab[2 * i + 1] = vals[j];
                }
            }
            nomem = !m->prune_tab;
        }
        PyMem_RawFree(keys);
        PyMem_RawFree(vals);
        if (nomem) {
            PyErr_NoMemory();
            goto fail;
        }
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "prune index entry out of range");
            goto fail;
        }
    }
    if (m->prune_size < 0 && (int64_t)nwords + (int64_t)m->bucket > m->in_rows) {
        PyErr_SetString(PyExc_ValueError, "input matrix has fewer than nwords + bucket rows");
        goto fail;
    }

    /* output */
    if (get_buffer(output, &m->output_buf, "output", 'f', 4, (Py_ssize_t)m->osz * dim) < 0) goto fail;
    m->out = m->output_buf.buf;
    if (loss == LOSS_HS) {
        Py_ssize_t nt = 2 * (Py_ssize_t)m->osz - 1;
        if (!(m->left = copy_buffer(tl, "tree_left", 'i', 4, nt, 1))) goto fail;
        if (!(m->right = copy_buffer(tr, "tree_right", 'i', 4, nt, 1))) goto fail;
        for (Py_ssize_t i = 0; i < nt; i++) {
            int leaf = m->left[i] == -1 && m->right[i] == -1;
            if (leaf != (i < m->osz) || (!leaf && (m->left[i] < 0 || m->left[i] >= i || m->right[i] < 0 ||
                                                   m->right[i] >= i))) {
                PyErr_SetString(PyExc_ValueError, "malformed Huffman tree");
                goto fail;
            }
        }
    }
    m->tmp = PyMem_RawMalloc(sizeof(float) * 2 * (size_t)dim);
    m->outv = PyMem_RawMalloc(sizeof(float) * (size_t)m->osz);
    if (!m->tmp || !m->outv) {
        PyErr_NoMemory();
        goto fail;
    }
    return 0;
fail:
    Model_release(m);
    return -1;
}

/* Scratch grown for a huge token (a 1 MB line without spaces needs 4 M row ids) goes back after the call. */
static void shrink_scratch(Model *m) {
    if (m->ids_cap > ((size_t)1 << 16)) {
        free(m->ids);
        m->ids = NULL;
        m->ids_cap = 0;
    }
    if (m->wbuf_cap > ((size_t)1 << 16)) {
        free(m->wbuf);
        m->wbuf = NULL;
        m->wbuf_cap = 0;
    }
}

/* Bytes of the first `max_chars` characters of the UTF-8 text `s` (all of it when max_chars < 0): a
 * character starts at every byte that is not a continuation byte (10xxxxxx), so for valid UTF-8 these are
 * the bytes of str(s)[:max_chars]. Only texts of more bytes than max_chars are scanned. */
static Py_ssize_t utf8_prefix(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_chars) {
    if (max_chars < 0 || n <= max_chars) return n;
    Py_ssize_t chars = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if ((s[i] & 0xC0) != 0x80 && chars++ == max_chars) return i;
    return n;
}

/* The UTF-8 bytes fastText would read for one text. A str: text[:max_chars] encoded, lone surrogates
 * with errors="replace" (as "?"; fastText's own binding refuses such strings); *owner receives a new
 * reference to keep alive (or NULL when the bytes live in `text` itself). A bytes-like object (bytes, a
 * memoryview of an Arrow string column's data): UTF-8 already, read in place (no copy: issue 13, ~25
 * instructions per Chinese character went to re-encoding the str), its first max_chars characters;
 * `view` holds the buffer (view->obj set: release it). Its bytes are read as they are, as fastText reads
 * a file: for valid UTF-8 that is what the str of the same text gives. */
static int text_bytes(PyObject *text, Py_ssize_t max_chars, const char **buf, Py_ssize_t *len, PyObject **owner,
                      Py_buffer *view) {
    *owner = NULL;
    view->obj = NULL;
    if (!PyUnicode_Check(text)) {
        if (!PyObject_CheckBuffer(text)) {
            PyErr_Format(PyExc_TypeError, "texts must be str or bytes-like (UTF-8), not %.100s",
                         Py_TYPE(text)->tp_name);
            return -1;
        }
        if (PyObject_GetBuffer(text, view, PyBUF_SIMPLE) < 0) return -1;
        *buf = (const char *)view->buf;
        *len = utf8_prefix((const unsigned char *)view->buf, view->len, max_chars);
        return 0;
    }
    PyObject *s = text;
    if (max_chars >= 0 && PyUnicode_GET_LENGTH(text) > max_chars) {
        if (!(s = PyUnicode_Substring(text, 0, max_chars))) return -1;
    } else {
        Py_INCREF(s);
    }
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        *buf = (const char *)PyUnicode_DATA(s);
        *len = PyUnicode_GET_LENGTH(s);
        *owner = s;
        return 0;
    }
    PyObject *b = PyUnicode_AsUTF8String(s); /* a temporary, not the str's cached UTF-8 */
    if (!b && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear();
        b = PyUnicode_AsEncodedString(s, "utf-8", "replace");
    }
    Py_DECREF(s);
    if (!b) return -1;
    *buf = PyBytes_AS_STRING(b);
    *len = PyBytes_GET_SIZE(b);
    *owner = b;
    return 0;
}

/* What text_bytes took for the first c texts of a chunk, given back. */
static void release_texts(PyObject **owners, Py_buffer *views, Py_ssize_t c) {
    for (Py_ssize_t i = 0; i < c; i++) {
        Py_CLEAR(owners[i]);
        if (views[i].obj) PyBuffer_Release(&views[i]);
    }
}

static PyObject *Model_predict(Model *m, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"texts", "max_chars", NULL};
    PyObject *texts, *max_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O", kwlist, &texts, &max_obj)) return NULL;
    if (!m->in) {
        PyErr_SetString(PyExc_RuntimeError, "Model is not initialised");
        return NULL;
    }
    Py_ssize_t max_chars = -1;
    if (max_obj != Py_None) {
        max_chars = PyLong_AsSsize_t(max_obj);
        if (max_chars == -1 && PyErr_Occurred()) return NULL;
        if (max_chars < 0) {
            PyErr_SetString(PyExc_ValueError, "max_chars must be >= 0 or None");
            return NULL;
        }
    }
    if (PyUnicode_Check(texts)) {
        PyErr_SetString(PyExc_TypeError, "texts must be a sequence of str, not one str");
        return NULL;
    }
    /* a tuple: another thread may resize a list while the GIL is released between chunks */
    PyObject *seq = PySequence_Tuple(texts);
    if (!seq) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    /* per-chunk arrays for at most the batch's texts (CHUNK_TEXTS of them came to ~0.4 MB, allocated and
     * zeroed by every call); text_bytes sets each entry before it is read, so none needs zeroing */
    const Py_ssize_t cap = n < 1 ? 1 : n < CHUNK_TEXTS ? n : CHUNK_TEXTS;
    PyObject *labels = PyList_New(n), *probs = PyList_New(n);
    const char **bufs = PyMem_Malloc(sizeof(char *) * (size_t)cap);
    Py_ssize_t *lens = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)cap);
    PyObject **owners = PyMem_Malloc(sizeof(PyObject *) * (size_t)cap);
    Py_buffer *views = PyMem_Malloc(sizeof(Py_buffer) * (size_t)cap);
    int32_t *ids = PyMem_Malloc(sizeof(int32_t) * (size_t)cap);
    float *ps = PyMem_Malloc(sizeof(float) * (size_t)cap);
    PyObject *res = NULL;
    int locked = 0;
    if (!labels || !probs || !bufs || !lens || !owners || !views || !ids || !ps) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto fail;
    }
    if (!PyThread_acquire_lock(m->lock, NOWAIT_LOCK)) { /* another thread predicts with this model */
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(m->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    locked = 1;
    for (Py_ssize_t start = 0; start < n;) {
        Py_ssize_t c = 0;
        size_t bytes = 0;
        while (start + c < n && c < cap && bytes < CHUNK_BYTES) {
            if (text_bytes(PyTuple_GET_ITEM(seq, start + c), max_chars, &bufs[c], &lens[c], &owners[c],
                           &views[c]) < 0)
                goto fail_chunk;
            bytes += (size_t)lens[c];
            c++;
        }
        int oom = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < c; i++) {
            ids[i] = predict_line(m, (const unsigned char *)bufs[i], (size_t)lens[i], &ps[i]);
            if (ids[i] == -2) {
                oom = 1;
                break;
            }
        }
        Py_END_ALLOW_THREADS
        release_texts(owners, views, c);
        if (oom) {
            cache_clear(m);
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t i = 0; i < c; i++) {
            PyObject *label = ids[i] >= 0 ? PyTuple_GET_ITEM(m->labels, ids[i]) : Py_None;
            Py_INCREF(label);
            PyList_SET_ITEM(labels, start + i, label);
            PyObject *p = PyFloat_FromDouble((double)ps[i]);
            if (!p) goto fail;
            PyList_SET_ITEM(probs, start + i, p);
        }
        start += c;
        continue;
    fail_chunk:
        release_texts(owners, views, c);
        goto fail;
    }
    res = PyTuple_Pack(2, labels, probs); /* NULL on failure, with the error set */
fail: /* success and failure alike: release what was taken */
    if (locked) {
        shrink_scratch(m);
        PyThread_release_lock(m->lock);
    }
    PyMem_Free(bufs);
    PyMem_Free(lens);
    PyMem_Free(owners);
    PyMem_Free(views);
    PyMem_Free(ids);
    PyMem_Free(ps);
    Py_XDECREF(labels);
    Py_XDECREF(probs);
    Py_DECREF(seq);
    return res;
}

static PyObject *Model_cache_info(Model *m, PyObject *Py_UNUSED(ignored)) {
    size_t bytes = (m->slots ? ((size_t)m->slot_mask + 1) * sizeof(Slot) : 0) + m->arena_cap;
    return Py_BuildValue("{s:n,s:n,s:n,s:K,s:K,s:K}", "entries", (Py_ssize_t)m->n_ents, "record_bytes",
                         (Py_ssize_t)m->arena_used, "allocated_bytes", (Py_ssize_t)bytes, "hits",
                         (unsigned long long)m->hits, "misses", (unsigned long long)m->misses, "clears",
                         (unsigned long long)m->clears);
}

static PyObject *Model_cache_clear(Model *m, PyObject *Py_UNUSED(ignored)) {
    if (m->lock) {
        if (!PyThread_acquire_lock(m->lock, NOWAIT_LOCK)) {
            Py_BEGIN_ALLOW_THREADS
            PyThread_acquire_lock(m->lock, WAIT_LOCK);
            Py_END_ALLOW_THREADS
        }
    }
    cache_free(m); /* gives the memory back, not only the entries */
    m->hits = m->misses = m->clears = 0;
    if (m->lock) PyThread_release_lock(m->lock);
    Py_RETURN_NONE;
}

static PyMethodDef Model_methods[] = {
    {"predict", (PyCFunction)(void (*)(void))Model_predict, METH_VARARGS | METH_KEYWORDS,
     "predict(texts, max_chars=None) -> (labels, probs): fastText's top label (None when the text has no "
     "features) and its probability for each text[:max_chars], '\\n' read as a space. Each text is a str or "
     "a bytes-like object of UTF-8 (read in place)."},
    {"cache_info", (PyCFunction)Model_cache_info, METH_NOARGS, "token-cache statistics"},
    {"cache_clear", (PyCFunction)Model_cache_clear, METH_NOARGS, "empty the token cache and free its memory"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pipeline.filters._lid.Model",
    .tp_basicsize = sizeof(Model),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A fastText supervised model (hierarchical softmax or softmax loss) with a per-token cache; "
              "built by pipeline.filters.fasttext_lid.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Model_init,
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_methods = Model_methods,
};

static PyObject *lid_simd(PyObject *self, PyObject *Py_UNUSED(ignored)) {
#ifdef HAVE_AVX2_HASH
    return PyBool_FromLong(use_avx2);
#else
    Py_RETURN_FALSE;
#endif
}

static PyObject *lid_set_simd(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
#ifdef HAVE_AVX2_HASH
    use_avx2 = on && __builtin_cpu_supports("avx2");
    return PyBool_FromLong(use_avx2);
#else
    Py_RETURN_FALSE;
#endif
}

static PyMethodDef lid_functions[] = {
    {"simd", lid_simd, METH_NOARGS, "simd() -> whether CJK n-grams are hashed eight starts at a time (AVX2)"},
    {"set_simd", lid_set_simd, METH_O,
     "set_simd(on) -> whether the AVX2 hashing is now in use (tests turn it off to check the scalar path; a "
     "Model in another thread's predict may see the change mid-call: both paths give the same rows)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef lid_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_lid",
    .m_doc = "fastText predict with a per-token cache (see pipeline/filters/fasttext_lid.py)",
    .m_size = -1,
    .m_methods = lid_functions,
};

PyMODINIT_FUNC PyInit__lid(void) {
    if (PyType_Ready(&ModelType) < 0) return NULL;
#ifdef HAVE_AVX2_HASH
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
    PyObject *mod = PyModule_Create(&lid_module);
    if (!mod) return NULL;
    Py_INCREF(&ModelType);
    if (PyModule_AddObject(mod, "Model", (PyObject *)&ModelType) < 0) {
        Py_DECREF(&ModelType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
