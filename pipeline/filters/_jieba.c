/* jieba's default cut (dictionary DAG, max-probability route, HMM for unknown runs) of Han text, returning
 * word lengths: the Chinese segmenter of pipeline.filters.segment.
 *
 * Why C: rjieba (jieba-rs through PyO3) builds one Python str per word, half of its cost per character,
 * and the filters then only need where each word ends (``_chunks.jieba_tokens`` interns a word by its
 * code points, so a word seen before costs no str at all). This is the same algorithm, with the same
 * dictionary and HMM tables (jieba 0.42.1's dict.txt and finalseg/prob_*.py, which jieba-rs embeds), and
 * the same rules where jieba-rs and pure-Python jieba differ (tests/pipeline/filters/test_jieba.py
 * compares it with rjieba on every Han run of the shared Chinese texts and on generated strings):
 *
 * * Blocks: jieba cuts each maximal run of CJK ideographs and ASCII letters, digits and +#&._%- on its own.
 *   jieba-rs's ideographs (``is_cjk`` below: unified, extensions A-F, compatibility and its supplement) are
 *   wider than Python jieba's U+4E00-U+9FD5; any other character is a word of its own.
 * * Route: for each position from the end, the word starting there (a dictionary word, or the single
 *   character when no word starts there) that maximises log(freq) - log(total) + route[end], the sums
 *   done in that order in doubles; ties go to the longer word. total is the sum of the frequencies of
 *   the distinct words (a word listed twice counts once, with its last frequency: jieba-rs's rule;
 *   Python jieba counts it twice).
 * * Single characters of the route are gathered; a gathered run of two or more that is not itself a
 *   dictionary word goes to the HMM, one that is becomes single characters.
 * * HMM: the run is split into runs of U+4E00-U+9FD5 (two or more: Viterbi over B/E/M/S with jieba's
 *   start, transition and emission log probabilities, -3.14e100 for an unseen character; one: a word)
 *   and the characters between them, split as Python jieba's ``finalseg`` splits them (``skip_cut``: "1.2.3"
 *   is "1.2", ".", "3", where jieba-rs keeps it whole; the one place this cut follows Python jieba, datatrove's
 *   segmenter, and not rjieba: rjieba's words are split again the same way, ``segment.rjieba_words``). Viterbi's
 *   ties go to the later
 *   predecessor of (B: E, S), (E: B, M), (M: B, M), (S: E, S), and the last state is E only when it
 *   beats S strictly (jieba-rs's rule; Python jieba compares the paths on a tie).
 *
 *   _jieba.load(dict_bytes, start, trans, emit)  # once per process: dict.txt's bytes, the HMM tables
 *   _jieba.unload()                               # free them (a worker leaving the filter); load may follow
 *   _jieba.cut(text) -> list of words             # jieba's words of text (segment.rjieba_words(text))
 *   _jieba.cut_runs(chunks) -> int32 bytes        # the word lengths of every run (segment.JIEBA_RUN: Han
 *                                                 # and ASCII letters, digits, +#&._%-) of every chunk
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_unicode.h"

#define ROOT_SPAN 0x30000 /* first characters below this are found by a direct table */
#define HMM_LO 0x4E00
#define HMM_HI 0x9FD5
#define MIN_FLOAT (-3.14e100)
enum { B = 0, E = 1, M = 2, S = 3 };

/* The dictionary as a trie in breadth-first order: the children of a node are consecutive ids, sorted by
 * character, so a lookup is a scan of a short array whose entries are the children themselves (the 8 bytes
 * that hold a child's character hold its word's probability and its children's place too: one cache line
 * per step of a walk where a label array beside the nodes cost two). */
static int loaded;
static int32_t *root_child;  /* character -> depth-1 node, 0 when no word starts with it */
/* What a walk reads of a node, together in 8 bytes (eight nodes a cache line): the character leading to it
 * (21 bits), its children (how many, 5 bits, min(children, COUNT_MAX); the first one's id, 20 bits) and the
 * log probability of the word ending there as an index into ``logps`` (18 bits; 0: NaN, no word ends there;
 * a word of frequency 0 has -inf). Why an index and not the double: the probability is a function of the
 * word's frequency, and dict.txt's 349,046 words have 5,087 distinct frequencies, so the table (40 KiB) holds
 * every value exactly and stays in the core's cache, and the trie's nodes take half the memory (issue 13,
 * branch zhjieba48: the walks are bound by cache misses; 16-byte nodes with the double were 8 MiB). */
typedef uint64_t Node;
#define LABEL_MASK 0x1FFFFFu
#define COUNT_MAX 31u
#define FIRST_SHIFT 26
#define LOGP_SHIFT 46
#define N_LABEL(w) ((Py_UCS4)((w) & LABEL_MASK))
#define N_COUNT(w) ((uint32_t)((w) >> 21) & COUNT_MAX)
#define N_FIRST(w) ((int32_t)((w) >> FIRST_SHIFT) & (MAX_NODES - 1))
#define N_HAS_WORD(w) ((w) >> LOGP_SHIFT)
#define N_LOGP(w) (logps[(w) >> LOGP_SHIFT])
#define FREQ_SLOTS ((Py_ssize_t)1 << 17) /* load's table of distinct frequencies: 2**16 - 1 of them at most */
#define MAX_NODES (1 << 20) /* a node id fits the 20 bits of a key above its character, and of a node's first */
static Node *nodes;
static double *logps; /* a node's log probability index -> log(freq) - log(total); [0]: NaN */
static double log1p_;        /* log(1) - log(total): a single character that is no word */
static double start_p[4], trans_p[4][4];
static double (*emit_p)[4];  /* character - HMM_LO -> per state */

static const int8_t PREV[4][2] = {{E, S}, {B, M}, {B, M}, {E, S}};

/* Viterbi's scores of one character as two pairs of doubles, (B, E) and (M, S): the four states' two
 * candidate sums are computed two states at a time (GCC/Clang vector extensions: SSE2 on x86-64), each sum
 * in scalar Viterbi's order, (previous + transition) + emission, so every score is the same double. */
typedef double pair __attribute__((vector_size(16)));
typedef int64_t pair_mask __attribute__((vector_size(16)));
#if defined(__clang__) || __GNUC__ >= 12
#define SWAP(v) __builtin_shufflevector(v, v, 1, 0)
#else
#define SWAP(v) __builtin_shuffle(v, (pair_mask){1, 0})
#endif
/* Per lane, a > b ? a : b (a tie or NaN gives b, the later predecessor), and the lanes where a > b as bits
 * 0 and 1: SSE2's maxpd and movmskpd are exactly that; elsewhere the same with the vector extensions. */
#ifdef __SSE2__
#include <emmintrin.h>
#define PAIR_MAX(a, b) ((pair)_mm_max_pd((__m128d)(a), (__m128d)(b)))
#define PAIR_GT_BITS(a, b) _mm_movemask_pd(_mm_cmpgt_pd((__m128d)(a), (__m128d)(b)))
#else
static inline pair pair_max(pair a, pair b) {
    pair_mask k = a > b;
    return (pair)(((pair_mask)a & k) | ((pair_mask)b & ~k));
}
static inline int pair_gt_bits(pair a, pair b) {
    pair_mask k = a > b;
    return (int)((k[0] & 1) | (k[1] & 2));
}
#define PAIR_MAX(a, b) pair_max(a, b)
#define PAIR_GT_BITS(a, b) pair_gt_bits(a, b)
#endif
static pair tr0_be, tr1_be, tr0_ms, tr1_ms; /* transition into (B, E) from PREV[.][0], [.][1]; into (M, S) */
/* the state at t - 1, from the state at t and its 4-bit choice mask at t (bit y: state y took PREV[y][0]) */
static int8_t BACK[16][4];

static void set_hmm_pairs(void) {
    tr0_be = (pair){trans_p[E][B], trans_p[B][E]};
    tr1_be = (pair){trans_p[S][B], trans_p[M][E]};
    tr0_ms = (pair){trans_p[B][M], trans_p[E][S]};
    tr1_ms = (pair){trans_p[M][M], trans_p[S][S]};
    for (int m = 0; m < 16; m++)
        for (int y = 0; y < 4; y++) BACK[m][y] = PREV[y][(m >> y & 1) ? 0 : 1];
}

static inline pair load_pair(const double *p) {
    pair v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline int is_cjk(Py_UCS4 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2EBEF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* The children of nodes with many (a first character starts hundreds of words) are also in an
 * open-addressing table keyed by (parent, character): one probe instead of a binary search. Why this
 * layout (issue 13): the walks are bound by cache misses, not instructions (zhwiki's chunks cut at ~11 ns
 * per character when a few thousand characters are cut again and again, ~97 when the caches are emptied
 * before each cut); cachegrind with a 1 MiB last level counts 0.54 misses per character for nodes with
 * a separate label array and a table of separate key and child arrays, 0.47 with labels in the nodes and
 * 8-byte edges, 0.36 with the filter below.*/
#define MANY 16
/* An edge: child << EDGE_KEY_BITS | parent << 21 | character (0: empty; the root's children are not
 * here), the key and its child in 8 bytes, then the child's node itself, so that a probe reads one line and a
 * walk's step through the table reads no node (issue 13, branch zhjieba48: the load of the child's node after
 * a probe was the cut's largest stall). */
#define EDGE_KEY_BITS 41
#define EDGE_KEY_MASK ((1ULL << EDGE_KEY_BITS) - 1)
typedef struct {
    uint64_t kc; /* child << EDGE_KEY_BITS | key; 0: empty */
    Node child;  /* nodes[child] */
} Edge;
static Edge *edges;
static uint64_t edge_mask;

static inline uint64_t edge_slot(uint64_t key) { return (key * 0x9E3779B97F4A7C15ULL) >> 20; }

/* A Bloom filter of every edge below the root: a walk ends with a lookup that fails at nearly every
 * position, and the filter (2**FILTER_LOG2 bits, a quarter MiB: stays in the core's cache; with one bit per
 * edge about one lookup in five of an absent edge passed it, with two bits in one word about one in seven,
 * from the filter's load) answers most of those without reading the table or the children, whose lines a
 * text's failed lookups would otherwise spread over megabytes. */
#define FILTER_LOG2 21
static uint64_t *filter;

#ifndef FILTER_BITS
#define FILTER_BITS 2
#endif
/* An edge's word of the filter and its FILTER_BITS bits in that word, from one product: one load per
 * question. Two bits (a blocked Bloom filter) let fewer absent edges pass than one (issue 13, branch
 * zhjieba48: each that passes costs a probe of the edge table, a cache miss). */
static inline uint64_t filter_hash(uint64_t key) { return key * 0xC2B2AE3D27D4EB4FULL; }
static inline uint64_t filter_word(uint64_t h) { return h >> (64 - FILTER_LOG2 + 6); }
static inline uint64_t filter_mask(uint64_t h) {
    uint64_t m = 1ULL << (h >> 43 & 63);
    if (FILTER_BITS > 1) m |= 1ULL << (h >> 37 & 63);
    return m;
}

/* Whether the edge (node below the root, c) may exist: the filter's answer (no false negatives). */
static inline int may_have_child(int32_t node, Py_UCS4 c) {
    uint64_t h = filter_hash(((uint64_t)node << 21) | c), m = filter_mask(h);
    return (filter[filter_word(h)] & m) == m;
}

/* The child of a node below the root (id ``node``, its node ``w``) for character c, 0 when there is none,
 * without the filter; the child's node into *cw (from the edge, or from the scan's read). */
static inline int32_t find_child(int32_t node, Node w, Py_UCS4 c, Node *cw) {
    uint64_t key = ((uint64_t)node << 21) | c;
    uint32_t count = N_COUNT(w);
    if (count > MANY) {
        for (uint64_t i = edge_slot(key) & edge_mask;; i = (i + 1) & edge_mask) {
            uint64_t e = edges[i].kc;
            if ((e & EDGE_KEY_MASK) == key) {
                *cw = edges[i].child;
                return (int32_t)(e >> EDGE_KEY_BITS);
            }
            if (!e) return 0;
        }
    }
    for (int32_t k = N_FIRST(w), end = k + (int32_t)count; k < end; k++) {
        Node x = nodes[k];
        if (N_LABEL(x) == c) {
            *cw = x;
            return k;
        }
    }
    return 0;
}

/* The child of a node (the root included) for character c, 0 when there is none; its node into *w. */
static inline int32_t child(int32_t node, Py_UCS4 c, Node *w) {
    if (node == 0) {
        int32_t k = c < ROOT_SPAN ? root_child[c] : 0;
        *w = nodes[k];
        return k;
    }
    return may_have_child(node, c) ? find_child(node, *w, c, w) : 0;
}

/* ---- loading ---- */

typedef struct {
    uint32_t off, len, line;
    uint64_t freq;
} Entry;

static Py_UCS4 *cps; /* code points of every dictionary word, during the build */
static int32_t *counts, *firsts;

static int entry_cmp(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    for (uint32_t i = 0; i < n; i++) {
        Py_UCS4 p = cps[x->off + i], q = cps[y->off + i];
        if (p != q) return p < q ? -1 : 1;
    }
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts entries[0..n) by entry_cmp (see build_dict); replaces *entries with the sorted copy. -1: no memory. */
static int sort_entries(Entry **entries, Py_ssize_t n) {
    Py_ssize_t *start = calloc(ROOT_SPAN + 2, sizeof(Py_ssize_t)); /* bucket b's first slot: start[b] */
    Entry *out = malloc((n ? n : 1) * sizeof(Entry));
    if (!start || !out) {
        free(start);
        free(out);
        return -1;
    }
    const Entry *in = *entries;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = cps[in[i].off];
        start[(c < ROOT_SPAN ? c : ROOT_SPAN) + 1]++;
    }
    for (Py_ssize_t b = 1; b <= ROOT_SPAN + 1; b++) start[b] += start[b - 1];
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = cps[in[i].off];
        out[start[c < ROOT_SPAN ? c : ROOT_SPAN]++] = in[i];
    }
    /* start[b] is now bucket b's end, and bucket b begins where bucket b - 1 ends */
    for (Py_ssize_t b = 0, from = 0; b <= ROOT_SPAN; from = start[b], b++)
        if (start[b] - from > 1) qsort(out + from, start[b] - from, sizeof(Entry), entry_cmp);
    free(start);
    free(*entries);
    *entries = out;
    return 0;
}

/* Decodes one UTF-8 character at p (< end); 0 on a malformed sequence. */
static int utf8_next(const unsigned char **p, const unsigned char *end, Py_UCS4 *out) {
    const unsigned char *s = *p;
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || s + n > end) return 0;
    Py_UCS4 v = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    *out = v;
    *p = s + n;
    return 1;
}

static inline int ascii_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Parses dict.txt ("word freq [tag]" per line) and builds the trie. */
static int build_dict(const unsigned char *text, Py_ssize_t size) {
    Py_ssize_t cap = 1 << 19, n = 0, cps_len = 0, cps_cap = 1 << 21;
    Entry *entries = malloc(cap * sizeof(Entry));
    cps = malloc(cps_cap * sizeof(Py_UCS4));
    int32_t *cur = NULL, *active = NULL;
    uint32_t *freq_index = NULL; /* each entry's frequency's index in logps */
    int rc = -1;
    if (!entries || !cps) goto fail;
    const unsigned char *p = text, *end = text + size;
    uint32_t line = 0;
    while (p < end) {
        const unsigned char *eol = memchr(p, '\n', end - p);
        if (!eol) eol = end;
        line++;
        while (p < eol && ascii_space(*p)) p++;
        if (p < eol) {
            if (n == cap) {
                cap *= 2;
                Entry *grown = realloc(entries, cap * sizeof(Entry));
                if (!grown) goto fail;
                entries = grown;
            }
            Entry *e = &entries[n];
            e->off = (uint32_t)cps_len;
            e->line = line;
            while (p < eol && !ascii_space(*p)) {
                if (cps_len == cps_cap) {
                    cps_cap *= 2;
                    Py_UCS4 *grown = realloc(cps, cps_cap * sizeof(Py_UCS4));
                    if (!grown) goto fail;
                    cps = grown;
                }
                if (!utf8_next(&p, eol, &cps[cps_len])) {
                    PyErr_Format(PyExc_ValueError, "jieba dictionary: malformed UTF-8 on line %u", line);
                    goto fail;
                }
                cps_len++;
            }
            e->len = (uint32_t)(cps_len - e->off);
            while (p < eol && ascii_space(*p)) p++;
            e->freq = 0; /* a word without a frequency counts 0 (jieba-rs) */
            if (p < eol) {
                if (*p < '0' || *p > '9') {
                    PyErr_Format(PyExc_ValueError, "jieba dictionary: line %u: the frequency is not a number", line);
                    goto fail;
                }
                while (p < eol && *p >= '0' && *p <= '9') e->freq = e->freq * 10 + (*p++ - '0');
            }
            n++;
        }
        p = eol + 1;
    }
    /* Sorted by first character with a counting pass, then each first character's words with qsort: the
     * same order as one qsort of them all (entry_cmp compares the first character first, and every first
     * character from ROOT_SPAN up shares the last bucket, which qsort orders), with ~4x fewer comparisons
     * (349,046 words, ~30 per first character; one qsort was ~40 % of load's ~65 ms; issue 19). */
    if (sort_entries(&entries, n) < 0) goto fail;
    /* total: each distinct word once, with its last frequency */
    uint64_t total = 0;
    uint32_t max_len = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + 1 < n && entries[i + 1].len == entries[i].len &&
            !memcmp(cps + entries[i].off, cps + entries[i + 1].off, entries[i].len * sizeof(Py_UCS4)))
            continue;
        total += entries[i].freq;
        if (entries[i].len > max_len) max_len = entries[i].len;
    }
    double logtotal = log((double)total);
    log1p_ = 0.0 - logtotal;
    /* each entry's frequency's index in logps (1, 2, ... in order of first appearance; an open-addressing
     * table of the distinct frequencies, at most half full), then each index's log probability */
    uint64_t *freqs = calloc(FREQ_SLOTS * 2, sizeof(uint64_t)); /* per slot: freq + 1 (0: empty), its index */
    freq_index = malloc((n ? n : 1) * sizeof(uint32_t));
    Py_ssize_t n_freqs = 0;
    if (!freqs || !freq_index) {
        free(freqs);
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t key = entries[i].freq + 1, slot = (key * 0x9E3779B97F4A7C15ULL) >> 40;
        for (slot &= FREQ_SLOTS - 1; freqs[2 * slot] && freqs[2 * slot] != key; slot = (slot + 1) & (FREQ_SLOTS - 1))
            ;
        if (!freqs[2 * slot]) {
            if (2 * (n_freqs + 1) == FREQ_SLOTS) {
                free(freqs);
                PyErr_SetString(PyExc_ValueError, "jieba dictionary: more than 2**16 - 1 distinct frequencies");
                goto fail;
            }
            freqs[2 * slot] = key;
            freqs[2 * slot + 1] = (uint64_t)++n_freqs;
        }
        freq_index[i] = (uint32_t)freqs[2 * slot + 1];
    }
    logps = malloc((n_freqs + 1) * sizeof(double));
    if (!logps) {
        free(freqs);
        goto fail;
    }
    logps[0] = NAN;
    for (Py_ssize_t slot = 0; slot < FREQ_SLOTS; slot++)
        if (freqs[2 * slot]) logps[freqs[2 * slot + 1]] = log((double)(freqs[2 * slot] - 1)) - logtotal;
    free(freqs);
    Py_ssize_t node_cap = cps_len + 1; /* at most one node per character, plus the root */
    nodes = calloc(node_cap, sizeof(Node));
    firsts = calloc(node_cap, sizeof(int32_t)); /* each node's first child, during the build */
    counts = calloc(node_cap, sizeof(int32_t)); /* each node's children, during the build */
    root_child = calloc(ROOT_SPAN, sizeof(int32_t));
    cur = calloc(n ? n : 1, sizeof(int32_t)); /* each entry's node at the previous depth (root: 0) */
    if (!nodes || !firsts || !counts || !root_child || !cur) goto fail;
    int32_t next = 1;
    /* The entries that reach depth d, in sorted order: a pass at depth d reads only those (most words are
     * 2-4 characters; every depth's pass over all entries read each of them max_len times). */
    active = malloc((n ? n : 1) * sizeof(int32_t));
    if (!active) goto fail;
    Py_ssize_t n_active = n;
    for (Py_ssize_t i = 0; i < n; i++) active[i] = (int32_t)i;
    for (uint32_t d = 1; d <= max_len; d++) {
        int32_t prev_parent = -1, prev_node = 0;
        Py_UCS4 prev_c = 0;
        Py_ssize_t kept = 0;
        for (Py_ssize_t a = 0; a < n_active; a++) {
            Py_ssize_t i = active[a];
            Entry *e = &entries[i];
            if (e->len > d) active[kept++] = (int32_t)i; /* read again at depth d + 1 */
            int32_t parent = cur[i];
            Py_UCS4 c = cps[e->off + d - 1];
            int32_t node;
            if (parent == prev_parent && c == prev_c) {
                node = prev_node;
            } else {
                if (next == MAX_NODES) {
                    PyErr_SetString(PyExc_ValueError, "jieba dictionary: more than 2**20 trie nodes");
                    goto fail;
                }
                node = next++;
                nodes[node] = c; /* no word yet: index 0 */
                if (!counts[parent]) firsts[parent] = node;
                counts[parent]++;
                if (parent == 0 && c < ROOT_SPAN) root_child[c] = node;
            }
            prev_parent = parent;
            prev_c = c;
            prev_node = node;
            cur[i] = node;
            if (e->len == d) { /* sorted by line within a word: the last line wins */
                nodes[node] = (nodes[node] & ~(~0ULL << LOGP_SHIFT)) | (uint64_t)freq_index[i] << LOGP_SHIFT;
            }
        }
        n_active = kept;
    }
    Py_ssize_t n_edges = 0;
    for (int32_t v = 0; v < next; v++) {
        nodes[v] |= (uint64_t)(counts[v] < (int32_t)COUNT_MAX ? (uint32_t)counts[v] : COUNT_MAX) << 21 |
                    (uint64_t)firsts[v] << FIRST_SHIFT;
        if (v && counts[v] > MANY) n_edges += counts[v];
    }
    uint64_t ecap = 64;
    while (ecap < 2 * (uint64_t)n_edges) ecap *= 2;
    edges = calloc(ecap, sizeof(Edge));
    filter = calloc((1u << FILTER_LOG2) / 64, sizeof(uint64_t));
    if (!edges || !filter) goto fail;
    edge_mask = ecap - 1;
    for (int32_t v = 1; v < next; v++)
        for (int32_t k = firsts[v]; k < firsts[v] + counts[v]; k++) {
            uint64_t h = filter_hash(((uint64_t)v << 21) | N_LABEL(nodes[k]));
            filter[filter_word(h)] |= filter_mask(h);
        }
    for (int32_t v = 1; v < next; v++) {
        if (counts[v] <= MANY) continue;
        for (int32_t k = firsts[v]; k < firsts[v] + counts[v]; k++) {
            uint64_t key = ((uint64_t)v << 21) | N_LABEL(nodes[k]), i = edge_slot(key) & edge_mask;
            while (edges[i].kc) i = (i + 1) & edge_mask;
            edges[i].kc = (uint64_t)k << EDGE_KEY_BITS | key;
            edges[i].child = nodes[k];
        }
    }
    Node *fit = realloc(nodes, next * sizeof(Node)); /* one node per distinct prefix: about half the cap */
    if (fit) nodes = fit;
    rc = 0;
fail:
    if (rc < 0 && !PyErr_Occurred()) PyErr_NoMemory();
    free(entries);
    free(cps);
    free(cur);
    free(active);
    free(counts);
    free(firsts);
    free(freq_index);
    cps = NULL;
    counts = NULL;
    firsts = NULL;
    return rc;
}

static int read_probs(PyObject *seq, double *out, Py_ssize_t n, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (!fast) return -1;
    if (PySequence_Fast_GET_SIZE(fast) != n) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd values", what, n);
        Py_DECREF(fast);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
        if (out[i] == -1.0 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

/* load(dict_bytes, start, trans, emit): ``start`` 4 log probabilities in the order B, E, M, S; ``trans``
 * 16 (from-state major); ``emit`` 4 dicts character -> log probability. */
static PyObject *load(PyObject *self, PyObject *args) {
    Py_buffer dict;
    PyObject *start, *trans, *emit;
    if (!PyArg_ParseTuple(args, "y*OOO", &dict, &start, &trans, &emit)) return NULL;
    if (loaded) {
        PyBuffer_Release(&dict);
        PyErr_SetString(PyExc_RuntimeError, "_jieba.load: already loaded");
        return NULL;
    }
    double st[4], tr[16];
    if (read_probs(start, st, 4, "start") < 0 || read_probs(trans, tr, 16, "trans") < 0) goto fail;
    PyObject *emits = PySequence_Fast(emit, "emit");
    if (!emits) goto fail;
    if (PySequence_Fast_GET_SIZE(emits) != 4) {
        PyErr_SetString(PyExc_ValueError, "emit: expected 4 dicts");
        Py_DECREF(emits);
        goto fail;
    }
    emit_p = malloc((HMM_HI - HMM_LO + 1) * sizeof(*emit_p));
    if (!emit_p) {
        Py_DECREF(emits);
        PyErr_NoMemory();
        goto fail;
    }
    for (int i = 0; i <= HMM_HI - HMM_LO; i++)
        for (int y = 0; y < 4; y++) emit_p[i][y] = MIN_FLOAT;
    for (int y = 0; y < 4; y++) {
        PyObject *d = PySequence_Fast_GET_ITEM(emits, y), *key, *value;
        Py_ssize_t pos = 0;
        if (!PyDict_Check(d)) {
            PyErr_SetString(PyExc_TypeError, "emit: expected dicts");
            Py_DECREF(emits);
            goto fail;
        }
        while (PyDict_Next(d, &pos, &key, &value)) {
            if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1) continue;
            Py_UCS4 c = PyUnicode_READ_CHAR(key, 0);
            if (c < HMM_LO || c > HMM_HI) continue; /* the HMM only ever sees U+4E00-U+9FD5 */
            double v = PyFloat_AsDouble(value);
            if (v == -1.0 && PyErr_Occurred()) {
                Py_DECREF(emits);
                goto fail;
            }
            emit_p[c - HMM_LO][y] = v;
        }
    }
    Py_DECREF(emits);
    memcpy(start_p, st, sizeof st);
    memcpy(trans_p, tr, sizeof tr);
    set_hmm_pairs();
    if (build_dict(dict.buf, dict.len) < 0) goto fail;
    PyBuffer_Release(&dict);
    loaded = 1;
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&dict);
    return NULL;
}

/* ---- cutting ---- */

typedef struct {
    int32_t *data;
    Py_ssize_t len, cap;
} Lens;

/* Room for n more lengths: a text of n characters has at most n words, so a cut reserves once and then
 * stores its words without a check each. */
static int reserve(Lens *b, Py_ssize_t n) {
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? 2 * b->cap : 1024;
        while (cap < b->len + n) cap *= 2;
        int32_t *grown = realloc(b->data, cap * sizeof(int32_t));
        if (!grown) return -1;
        b->data = grown;
        b->cap = cap;
    }
    return 0;
}

static inline void put(Lens *b, Py_ssize_t v) { b->data[b->len++] = (int32_t)v; }

/* Scratch space, grown as needed and kept (the GIL serialises calls). */
static double *route_p;
static int32_t *route_end;
static uint8_t *vmask; /* Viterbi: per character, which predecessor each state took (4 bits) */
static Py_ssize_t route_cap, vit_cap;

static int grow(Py_ssize_t n) {
    if (n + 1 > route_cap) {
        Py_ssize_t cap = route_cap ? route_cap : 256;
        while (cap < n + 1) cap *= 2;
        double *rp = realloc(route_p, cap * sizeof(double));
        if (rp) route_p = rp;
        int32_t *re = realloc(route_end, cap * sizeof(int32_t));
        if (re) route_end = re;
        if (!rp || !re) return -1;
        route_cap = cap;
    }
    return 0;
}

static int grow_vit(Py_ssize_t n) {
    if (n > vit_cap) {
        Py_ssize_t cap = vit_cap ? vit_cap : 64;
        while (cap < n) cap *= 2;
        uint8_t *m = realloc(vmask, cap);
        if (!m) return -1;
        vmask = m;
        vit_cap = cap;
    }
    return 0;
}

static inline int in_hmm(Py_UCS4 c) { return c - HMM_LO <= (Py_UCS4)(HMM_HI - HMM_LO); }

/* Viterbi over the run of U+4E00-U+9FD5 characters that starts s[0..n) (s[0] is one); appends the words'
 * lengths to out, which has room for n more, and returns the run's length (one character: a word). A state
 * takes its first predecessor only when that one's sum is strictly greater (ties: the later), as jieba-rs. */
static Py_ssize_t viterbi(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    if (grow_vit(n) < 0) return -1;
    const double *em = emit_p[s[0] - HMM_LO];
    pair be = (pair){start_p[B], start_p[E]} + load_pair(em);
    pair ms = (pair){start_p[M], start_p[S]} + load_pair(em + 2);
    Py_ssize_t m = 1;
    for (; m < n && in_hmm(s[m]); m++) {
        em = emit_p[s[m] - HMM_LO];
        pair em_be = load_pair(em), em_ms = load_pair(em + 2);
        pair be_swapped = SWAP(be), ms_swapped = SWAP(ms);
        pair a0 = be_swapped + tr0_be + em_be, a1 = ms_swapped + tr1_be + em_be; /* into B: from E, S; E: B, M */
        pair b0 = be + tr0_ms + em_ms, b1 = ms + tr1_ms + em_ms;                 /* into M: from B, M; S: E, S */
        vmask[m] = (uint8_t)(PAIR_GT_BITS(a0, a1) | PAIR_GT_BITS(b0, b1) << 2);
        be = PAIR_MAX(a0, a1);
        ms = PAIR_MAX(b0, b1);
    }
    if (m == 1) {
        put(out, 1);
        return 1;
    }
    /* Backwards from the last state (E only when it beats S strictly): a word starts after every E or S
     * (B follows only E or S), so each state whose predecessor is E or S closes the word [t, end). The
     * lengths are written last first, down from the top of out's room, then moved to its start; each store
     * is made whether or not a word closes, and only kept (top moves) when one does. */
    int state = be[1] > ms[1] ? E : S;
    int32_t *base = out->data + out->len, *top = base + m;
    Py_ssize_t end = m;
    for (Py_ssize_t t = m - 1; t > 0; t--) {
        int prev = BACK[vmask[t]][state], closes = prev & 1; /* E = 1, S = 3 */
        top[-1] = (int32_t)(end - t);
        top -= closes;
        end = closes ? t : end;
        state = prev;
    }
    *--top = (int32_t)end;
    Py_ssize_t k = base + m - top;
    for (Py_ssize_t i = 0; i < k; i++) base[i] = top[i];
    out->len += k;
    return m;
}

static inline int ascii_alnum(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The words of a stretch s[0..n) of the gathered run that holds no U+4E00-U+9FD5 character, as Python jieba's
 * ``finalseg`` cuts it (``re_skip.split``, r"([a-zA-Z0-9]+(?:\.\d+)?%?)"): a letter-digit run with a decimal
 * part and a percent sign is a word, and so is each stretch between two such runs ("ab.cd%x_": "ab", ".",
 * "cd%", "x", "_"). jieba-rs keeps the stretch whole ("1.2.3"), so this is where the segmenter follows Python
 * jieba (datatrove's) and not rjieba. A block holds no other decimal digit than ASCII's. */
static void skip_cut(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t e = i + 1;
        if (ascii_alnum(s[i])) {
            while (e < n && ascii_alnum(s[e])) e++;
            if (e + 1 < n && s[e] == '.' && s[e + 1] >= '0' && s[e + 1] <= '9') {
                e += 2;
                while (e < n && s[e] >= '0' && s[e] <= '9') e++;
            }
            if (e < n && s[e] == '%') e++;
        } else {
            while (e < n && !ascii_alnum(s[e])) e++;
        }
        put(out, e - i);
        i = e;
    }
}

/* The HMM's cut of a gathered run s[0..n) of single characters that is not a dictionary word (out has
 * room for n more): Viterbi over each run of U+4E00-U+9FD5, every stretch of other characters cut by
 * ``skip_cut``. */
static int hmm_cut(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (in_hmm(s[i])) {
            Py_ssize_t m = viterbi(s + i, n - i, out);
            if (m < 0) return -1;
            i += m;
        } else {
            Py_ssize_t e = i + 1;
            while (e < n && !in_hmm(s[e])) e++;
            skip_cut(s + i, e - i, out);
            i = e;
        }
    }
    return 0;
}

static int is_dict_word(const Py_UCS4 *s, Py_ssize_t n) {
    int32_t node = 0;
    Node w = nodes[0];
    for (Py_ssize_t i = 0; i < n && (node = child(node, s[i], &w)); i++)
        ;
    return node && N_HAS_WORD(w);
}

static int flush(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    if (!is_dict_word(s, n)) return hmm_cut(s, n, out);
    for (Py_ssize_t i = 0; i < n; i++) put(out, 1);
    return 0;
}

/* The route's choice at a position i where s[i..k) is a prefix of a dictionary word and its child for s[k]
 * passed the filter (node: s[i..k)'s): walks on over the longer words, each scored log(freq) - log(total) +
 * route[end], keeping the first found (*best NaN: none yet; a score is never NaN, so !(v < b) is v >= b
 * but for that) or a later one scoring at least as much (ties: the longer word). Returns the best word's
 * end. About 40 % of zhwiki's positions come here; the others' second step fails the filter. */
static inline Py_ssize_t longer_words(const Py_UCS4 *s, Py_ssize_t k, Py_ssize_t n, int32_t node, Node w,
                                      const double *rp, double *best, Py_ssize_t best_end) {
    double b = *best;
    node = find_child(node, w, s[k], &w);
    while (node) { /* node: s[i..k], w its node */
        if (N_HAS_WORD(w)) {
            double v = N_LOGP(w) + rp[k + 1];
            if (!(v < b)) {
                b = v;
                best_end = k + 1;
            }
        }
        if (++k >= n) break;
        node = may_have_child(node, s[k]) ? find_child(node, w, s[k], &w) : 0;
    }
    *best = b;
    return best_end;
}

/* The route at position i: the best word starting there (the first word found, then any longer one
 * scoring at least as much; the character alone when no word starts there), its score and end into rp, re.
 * has_next: i + 1 < n, a constant where this is inlined (the last position is done apart, so the loop over
 * the others does not test it). */
static inline __attribute__((always_inline)) void route_at(const Py_UCS4 *s, Py_ssize_t i, Py_ssize_t n, double *rp,
                                                           int32_t *re, double single, int has_next) {
    Py_UCS4 c = s[i];
    int32_t node = c < ROOT_SPAN ? root_child[c] : 0;
    double next = rp[i + 1], best;
    Py_ssize_t best_end = i + 1;
    if (node) {
        Node w = nodes[node];
        best = N_LOGP(w) + next; /* NaN when s[i] is only a prefix (rare): then the first word found */
        if (has_next && may_have_child(node, s[i + 1]))
            best_end = longer_words(s, i + 1, n, node, w, rp, &best, best_end);
        if (isnan(best)) { /* no word starts here: the character alone */
            best = single + next;
            best_end = i + 1;
        }
    } else {
        best = single + next;
    }
    rp[i] = best;
    re[i] = (int32_t)best_end;
}

#ifndef PF_FAR
#define PF_FAR 16
#endif
#ifndef PF_NEAR
#define PF_NEAR 8
#endif
/* The route's positions are independent walks until their scores are summed, so the lines a walk will read
 * can be asked for a few positions ahead: the depth-1 node of position j (PF_FAR ahead), then (PF_NEAR ahead,
 * that node read) the edge slot or the children its second step reads. Prefetches change no result. Both
 * always inlined: GCC 12 took a prefetch_step left out of line for a function without effects (it only reads
 * memory and prefetches) and dropped its call, prefetch and all. */
static inline __attribute__((always_inline)) void prefetch_node(const Py_UCS4 *s, Py_ssize_t j) {
    Py_UCS4 c = s[j];
    __builtin_prefetch(&nodes[c < ROOT_SPAN ? root_child[c] : 0]);
}
static inline __attribute__((always_inline)) void prefetch_step(const Py_UCS4 *s, Py_ssize_t j) {
    Py_UCS4 c = s[j], d = s[j + 1];
    int32_t node = c < ROOT_SPAN ? root_child[c] : 0;
    Node w = nodes[node];
    uint64_t h = filter_hash(((uint64_t)node << 21) | d), m = filter_mask(h);
    int pass = node && (filter[filter_word(h)] & m) == m;
    /* without a branch on the data: selects, and the root's line (always cached) where nothing is wanted */
    uintptr_t edge = (uintptr_t)&edges[edge_slot(((uint64_t)node << 21) | d) & edge_mask];
    uintptr_t kids = (uintptr_t)&nodes[N_FIRST(w)];
    uintptr_t at = N_COUNT(w) > MANY ? edge : kids;
    __builtin_prefetch((const void *)(pass ? at : (uintptr_t)nodes));
}

/* jieba's cut of a block s[0..n) (n >= 1) of is_cjk and jieba_ascii characters (out has room for n more). */
static int cut_block(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    if (grow(n) < 0) return -1;
    double *rp = route_p;
    int32_t *re = route_end;
    const double single = log1p_;
    rp[n] = 0.0;
    route_at(s, n - 1, n, rp, re, single, 0);
    for (Py_ssize_t i = n - 2; i >= 0; i--) {
        if (PF_FAR && i >= PF_FAR) prefetch_node(s, i - PF_FAR);
        if (PF_NEAR && i >= PF_NEAR) prefetch_step(s, i - PF_NEAR);
        route_at(s, i, n, rp, re, single, 1);
    }
    Py_ssize_t x = 0, left = -1;
    while (x < n) {
        Py_ssize_t y = re[x];
        if (y - x == 1) {
            if (left < 0) left = x;
        } else {
            if (left >= 0) {
                if (x - left == 1) put(out, 1);
                else if (flush(s + left, x - left, out) < 0) return -1;
                left = -1;
            }
            put(out, y - x);
        }
        x = y;
    }
    if (left >= 0) {
        if (n - left == 1) put(out, 1);
        else if (flush(s + left, n - left, out) < 0) return -1;
    }
    return 0;
}

static Py_UCS4 *text_buf;
static Py_ssize_t text_cap;

/* The words of s[0..n) (Han characters and others): blocks of is_cjk and jieba_ascii characters cut, any other
 * character a word ("\r\n" one). */
static inline int in_block(Py_UCS4 c) { return is_cjk(c) || jieba_ascii(c); }

static int cut_text(const Py_UCS4 *s, Py_ssize_t n, Lens *out) {
    if (reserve(out, n) < 0) return -1;
    Py_ssize_t i = 0;
    while (i < n) {
        if (!in_block(s[i])) {
            Py_ssize_t len = s[i] == '\r' && i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
            put(out, len);
            i += len;
            continue;
        }
        Py_ssize_t e = i + 1;
        while (e < n && in_block(s[e])) e++;
        if (cut_block(s + i, e - i, out) < 0) return -1;
        i = e;
    }
    return 0;
}

static int ensure_text(Py_ssize_t n) {
    if (n > text_cap) {
        Py_ssize_t cap = text_cap ? text_cap : 1024;
        while (cap < n) cap *= 2;
        Py_UCS4 *grown = realloc(text_buf, cap * sizeof(Py_UCS4));
        if (!grown) return -1;
        text_buf = grown;
        text_cap = cap;
    }
    return 0;
}

static int check_loaded(const char *fn) {
    if (!loaded) PyErr_Format(PyExc_RuntimeError, "_jieba.%s: call _jieba.load first", fn);
    return loaded;
}

/* cut(text) -> list of str: jieba's words of text (rjieba.cut(text, True) where it has no ASCII letter, digit or
 * +#&._%-; with them, Python jieba's, skip_cut). */
static PyObject *cut(PyObject *self, PyObject *arg) {
    if (!check_loaded("cut")) return NULL;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cut: expected a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    if (ensure_text(n) < 0) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) text_buf[i] = PyUnicode_READ(kind, data, i);
    Lens lens = {0};
    if (cut_text(text_buf, n, &lens) < 0) {
        free(lens.data);
        return PyErr_NoMemory();
    }
    PyObject *words = PyList_New(lens.len);
    Py_ssize_t at = 0;
    for (Py_ssize_t w = 0; words && w < lens.len; w++) {
        PyObject *word = PyUnicode_Substring(arg, at, at + lens.data[w]);
        if (!word) {
            Py_CLEAR(words);
            break;
        }
        PyList_SET_ITEM(words, w, word);
        at += lens.data[w];
    }
    free(lens.data);
    return words;
}

/* Widens the 8 UCS-2 code units at d to out[0..8) and returns how many of them, from the first, are in
 * U+4E00-U+9FFF (8 when all are). SSE2: the offsets from U+4E00 compared unsigned, via the sign bit. */
static inline int ideographs_of_8(const Py_UCS2 *d, Py_UCS4 *out) {
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)d), zero = _mm_setzero_si128();
    __m128i offset = _mm_xor_si128(_mm_sub_epi16(v, _mm_set1_epi16(0x4E00)), _mm_set1_epi16((short)0x8000));
    unsigned in = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi16(offset, _mm_set1_epi16((short)(0x5200 ^ 0x8000))));
    _mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi16(v, zero));
    _mm_storeu_si128((__m128i *)(out + 4), _mm_unpackhi_epi16(v, zero));
    return in == 0xFFFF ? 8 : __builtin_ctz(~in) / 2;
#else
    int k = 0;
    for (int i = 0; i < 8; i++) out[i] = d[i];
    while (k < 8 && d[k] - 0x4E00u < 0x5200u) k++;
    return k;
#endif
}

/* Cuts every maximal run (is_jieba_run) of d[0..n) (a chunk's code units), reading each character
 * once: a run is copied to text_buf as it is found (UCS-2 eight units at a time while they are U+4E00-U+9FFF),
 * and when all its characters are jieba-rs ideographs (the common case: U+4E00-U+9FFF, both classes, is
 * tested first) it is one block, cut without cut_text's scan. */
#define CUT_HAN_RUNS(NAME, UNIT)                                                                              \
    static int NAME(const UNIT *d, Py_ssize_t n, Lens *out) {                                                 \
        Py_ssize_t j = 0;                                                                                     \
        while (j < n) {                                                                                       \
            if (!is_jieba_run(d[j])) {                                                                        \
                j++;                                                                                          \
                continue;                                                                                     \
            }                                                                                                 \
            if (n - j > text_cap && ensure_text(n - j) < 0) return -1;                                        \
            Py_UCS4 *buf = text_buf;                                                                          \
            Py_ssize_t m = 0;                                                                                 \
            int others = 0; /* no jieba-rs ideograph: ASCII, 々〆〇, extension G */                          \
            for (; j < n; j++) {                                                                              \
                if (sizeof(UNIT) == 2) { /* buf has room for n - (the run's start) >= m + 8 */                 \
                    int k;                                                                                    \
                    while (j + 8 <= n && (k = ideographs_of_8((const Py_UCS2 *)d + j, buf + m)) > 0) {        \
                        j += k;                                                                               \
                        m += k;                                                                               \
                        if (k < 8) break;                                                                     \
                    }                                                                                         \
                    if (j >= n) break;                                                                        \
                }                                                                                             \
                Py_UCS4 c = d[j];                                                                             \
                if (c - 0x4E00u >= 0x5200u) {                                                                 \
                    if (!is_jieba_run(c)) break;                                                              \
                    others |= !is_cjk(c);                                                                     \
                }                                                                                             \
                buf[m++] = c;                                                                                 \
            }                                                                                                 \
            if (others ? cut_text(buf, m, out) < 0 : reserve(out, m) < 0 || cut_block(buf, m, out) < 0)       \
                return -1;                                                                                    \
        }                                                                                                     \
        return 0;                                                                                             \
    }
CUT_HAN_RUNS(cut_han_runs_1, Py_UCS1)
CUT_HAN_RUNS(cut_han_runs_2, Py_UCS2)
CUT_HAN_RUNS(cut_han_runs_4, Py_UCS4)

/* cut_runs(chunks) -> bytes of int32: the lengths of jieba's words of every maximal run (segment.JIEBA_RUN:
 * is_jieba_run) of every chunk, in order; each run cut on its own (as rjieba cuts runs joined by newlines). */
static PyObject *cut_runs(PyObject *self, PyObject *arg) {
    if (!check_loaded("cut_runs")) return NULL;
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "cut_runs: expected a list of str");
        return NULL;
    }
    Lens lens = {0};
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(arg); i++) {
        PyObject *chunk = PyList_GET_ITEM(arg, i);
        if (!PyUnicode_Check(chunk)) {
            free(lens.data);
            PyErr_Format(PyExc_TypeError, "cut_runs: chunk %zd is not a str", i);
            return NULL;
        }
        int kind = PyUnicode_KIND(chunk), rc = 0;
        Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
        if (kind == PyUnicode_2BYTE_KIND) rc = cut_han_runs_2(PyUnicode_2BYTE_DATA(chunk), n, &lens);
        else if (kind == PyUnicode_4BYTE_KIND) rc = cut_han_runs_4(PyUnicode_4BYTE_DATA(chunk), n, &lens);
        else rc = cut_han_runs_1(PyUnicode_1BYTE_DATA(chunk), n, &lens); /* Latin-1: ASCII runs */
        if (rc < 0) goto nomem;
    }
    PyObject *out = PyBytes_FromStringAndSize((const char *)lens.data, lens.len * (Py_ssize_t)sizeof(int32_t));
    free(lens.data);
    return out;
nomem:
    free(lens.data);
    return PyErr_NoMemory();
}

static PyObject *is_loaded(PyObject *self, PyObject *unused) { return PyBool_FromLong(loaded); }

/* unload(): free the dictionary, the HMM's emission table and the scratch buffers (~17 MiB), so that a
 * process that has finished segmenting (a worker moving on from the filter to dedup) does not carry them
 * into every later task; ``load`` may be called again. */
static PyObject *unload(PyObject *self, PyObject *unused) {
    free(root_child);
    free(nodes);
    free(logps);
    free(emit_p);
    free(edges);
    free(filter);
    free(route_p);
    free(route_end);
    free(vmask);
    free(text_buf);
    root_child = NULL;
    nodes = NULL;
    logps = NULL;
    emit_p = NULL;
    edges = NULL;
    filter = NULL;
    route_p = NULL;
    route_end = NULL;
    vmask = NULL;
    text_buf = NULL;
    route_cap = vit_cap = text_cap = 0;
    edge_mask = 0;
    loaded = 0;
    Py_RETURN_NONE;
}

/* cut_ucs4(text, runs) -> bytes of int32: cut_runs of Han runs handed over as code points: ``text`` the runs'
 * UCS4 code points concatenated, ``runs`` their lengths (int32 bytes), each run cut on its own. Why: the
 * vocabulary's new chunks are no str (``_chunks.ChunkTable.han_ucs4`` gathers their runs from its stored
 * code points), and cut_runs copies every run into a UCS4 buffer anyway; here the runs are cut in place
 * (issue 13, eighth pass; added by branch zhspan25, the functions above are unchanged). */
static PyObject *cut_ucs4(PyObject *self, PyObject *args) {
    Py_buffer text, runs;
    if (!check_loaded("cut_ucs4")) return NULL;
    if (!PyArg_ParseTuple(args, "y*y*", &text, &runs)) return NULL;
    PyObject *out = NULL;
    Lens lens = {0};
    if (text.len % (Py_ssize_t)sizeof(Py_UCS4) || runs.len % (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_ValueError, "cut_ucs4: text must be UCS4 and runs int32 bytes");
        goto done;
    }
    const Py_UCS4 *s = (const Py_UCS4 *)text.buf;
    const int32_t *len = (const int32_t *)runs.buf;
    Py_ssize_t n = text.len / (Py_ssize_t)sizeof(Py_UCS4), n_runs = runs.len / (Py_ssize_t)sizeof(int32_t), at = 0;
    for (Py_ssize_t r = 0; r < n_runs; r++) {
        if (len[r] < 0 || len[r] > n - at) {
            PyErr_Format(PyExc_ValueError, "cut_ucs4: run %zd goes past the text's end", r);
            goto done;
        }
        if (cut_text(s + at, len[r], &lens) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        at += len[r];
    }
    if (at != n) {
        PyErr_Format(PyExc_ValueError, "cut_ucs4: the runs hold %zd code points, the text %zd", at, n);
        goto done;
    }
    out = PyBytes_FromStringAndSize((const char *)lens.data, lens.len * (Py_ssize_t)sizeof(int32_t));
done:
    free(lens.data);
    PyBuffer_Release(&text);
    PyBuffer_Release(&runs);
    return out;
}

static PyMethodDef methods[] = {
    {"load", load, METH_VARARGS, "load(dict_bytes, start, trans, emit): jieba's dictionary and HMM, once"},
    {"loaded", is_loaded, METH_NOARGS, "loaded() -> whether load has run"},
    {"unload", unload, METH_NOARGS, "unload(): free the dictionary and buffers (load may run again)"},
    {"cut", cut, METH_O, "cut(text) -> jieba's words of text (default mode)"},
    {"cut_runs", cut_runs, METH_O, "cut_runs(chunks) -> int32 bytes: word lengths of every run of the chunks"},
    {"cut_ucs4", cut_ucs4, METH_VARARGS, "cut_ucs4(text, runs) -> int32 bytes: cut_runs of UCS4 runs"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jieba", "jieba's default cut as word lengths", -1,
                                    methods};

PyMODINIT_FUNC PyInit__jieba(void) { return PyModule_Create(&module); }
