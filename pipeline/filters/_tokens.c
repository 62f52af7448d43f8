/* Per-token work of the word filters in single compiled passes (pipeline.filters.words.Tokens).
 *
 * Why C: after jieba's cut was compiled, most of what Chinese costs more per character than English is work
 * per *token* (a Chinese text has about 2.7x English's tokens per character): numpy fancy indexing to turn
 * chunk ids into token arrays, boolean masks and temporary arrays for Gopher quality's counts, and some
 * fifteen array passes for C4's words and sentences per line. Each function below does one of those in one
 * pass over the arrays, with no temporary token-sized buffer. The numpy code each replaces stays in
 * words.py as the path where this extension is not built, and the tests compare the two.
 *
 *   expand(chunk_ids, first, count, flat, key, length, flags)
 *       -> (ids, key, length, flags, chunk_count or None)          bytearrays: int64, int64, int64, uint8,
 *                                                                    int64 (None: one token per chunk)
 *   word_stats(flags, length, symbol_bit, alpha_bit) -> (words, word characters, tokens with a letter)
 *   line_stats(flags, chunk_count or None, chunks_per_line, symbol_bit, terminal_bit, punct_bit)
 *       -> (words, tokens, sentences) per line, each int64 bytes
 *   add_chunks(flat, first, count, n_flat, n_chunks, flat_ids, per_chunk) -> None      (columns written in place)
 *   add_tokens(key, length, flags, n_tokens, lengths, alpha, alpha_bit) -> int64 bytes: the new non-letter tokens
 *   count_present(ids, positions) -> how many distinct positions >= 0 the ids (below len(positions)) reach
 *   pair_starts(ids, first, second, table) -> int64 bytes: where table[first[ids[i]], second[ids[i + 1]]] holds
 */
#include <stdlib.h>
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* A buffer argument of ``itemsize``-byte items; returns its item count, or -1 (exception set). */
static Py_ssize_t items(Py_buffer *b, Py_ssize_t itemsize, const char *fn, const char *what) {
    if (b->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %s must hold %zd-byte items", fn, what, itemsize);
        return -1;
    }
    return b->len / itemsize;
}

static PyObject *new_bytearray(Py_ssize_t bytes) { return PyByteArray_FromStringAndSize(NULL, bytes); }

/* expand: the tokens of a text from its chunk ids and the vocabulary's columns (each given up to its
 * filled size): chunk c's tokens are flat[first[c] .. first[c] + count[c]); each token's key, length and
 * flags are its id's entries. As words._tokenize's numpy path: chunk_count is None when every chunk has
 * exactly one token (and there is at least one chunk). */
static PyObject *expand(PyObject *self, PyObject *args) {
    Py_buffer bc, bf, bn, bl, bk, blen, bfl;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*", &bc, &bf, &bn, &bl, &bk, &blen, &bfl)) return NULL;
    PyObject *ids = NULL, *key = NULL, *length = NULL, *flags = NULL, *counts = NULL, *result = NULL;
    Py_ssize_t n_chunks = items(&bc, 8, "expand", "chunk_ids"), n_held = items(&bf, 4, "expand", "first");
    Py_ssize_t n_count = items(&bn, 4, "expand", "count"), n_flat = items(&bl, 4, "expand", "flat");
    Py_ssize_t n_tok = items(&bk, 8, "expand", "key"), n_len = items(&blen, 8, "expand", "length");
    if (n_chunks < 0 || n_held < 0 || n_count < 0 || n_flat < 0 || n_tok < 0 || n_len < 0) goto done;
    if (n_count != n_held || n_len != n_tok || bfl.len != n_tok) {
        PyErr_SetString(PyExc_ValueError, "expand: first/count and key/length/flags must have equal lengths");
        goto done;
    }
    const int64_t *chunk_ids = bc.buf;
    const int32_t *first = bf.buf, *count = bn.buf, *flat = bl.buf;
    const int64_t *key_col = bk.buf, *len_col = blen.buf;
    const uint8_t *flag_col = bfl.buf;
    Py_ssize_t total = 0;
    int all_one = n_chunks > 0;
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        int64_t c = chunk_ids[i];
        if (c < 0 || c >= n_held || count[c] < 0 || first[c] < 0 || (int64_t)first[c] + count[c] > n_flat) {
            PyErr_Format(PyExc_IndexError, "expand: chunk id %lld (position %zd) is not a chunk of the columns",
                         (long long)c, i);
            goto done;
        }
        total += count[c];
        all_one &= count[c] == 1;
    }
    ids = new_bytearray(total * 8);
    key = new_bytearray(total * 8);
    length = new_bytearray(total * 8);
    flags = new_bytearray(total);
    if (!all_one) counts = new_bytearray(n_chunks * 8);
    if (!ids || !key || !length || !flags || (!all_one && !counts)) goto done;
    int64_t *o_ids = (int64_t *)PyByteArray_AS_STRING(ids), *o_key = (int64_t *)PyByteArray_AS_STRING(key);
    int64_t *o_len = (int64_t *)PyByteArray_AS_STRING(length);
    uint8_t *o_flags = (uint8_t *)PyByteArray_AS_STRING(flags);
    int64_t *o_counts = all_one ? NULL : (int64_t *)PyByteArray_AS_STRING(counts);
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n_chunks; i++) {
        int64_t c = chunk_ids[i];
        int32_t n = count[c];
        const int32_t *tok = flat + first[c];
        if (o_counts) o_counts[i] = n;
        for (int32_t j = 0; j < n; j++, k++) {
            int64_t t = tok[j];
            if (t < 0 || t >= n_tok) {
                PyErr_Format(PyExc_IndexError, "expand: token id %lld is not a token of the columns", (long long)t);
                goto done;
            }
            o_ids[k] = t;
            o_key[k] = key_col[t];
            o_len[k] = len_col[t];
            o_flags[k] = flag_col[t];
        }
    }
    if (all_one) {
        counts = Py_None;
        Py_INCREF(counts);
    }
    result = PyTuple_Pack(5, ids, key, length, flags, counts);
done:
    Py_XDECREF(ids);
    Py_XDECREF(key);
    Py_XDECREF(length);
    Py_XDECREF(flags);
    Py_XDECREF(counts);
    PyBuffer_Release(&bc);
    PyBuffer_Release(&bf);
    PyBuffer_Release(&bn);
    PyBuffer_Release(&bl);
    PyBuffer_Release(&bk);
    PyBuffer_Release(&blen);
    PyBuffer_Release(&bfl);
    return result;
}

/* word_stats: Gopher quality's counts (words.Tokens.word_stats): tokens without the symbol bit, the sum
 * of their lengths, and tokens with the letter bit. */
static PyObject *word_stats(PyObject *self, PyObject *args) {
    Py_buffer bf, bl;
    unsigned int symbol, alpha;
    if (!PyArg_ParseTuple(args, "y*y*II", &bf, &bl, &symbol, &alpha)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = bf.len;
    if (items(&bl, 8, "word_stats", "length") != n) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "word_stats: flags and length differ in length");
    } else {
        const uint8_t *f = bf.buf;
        const int64_t *len = bl.buf;
        int64_t words = 0, chars = 0, with_letter = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int word = !(f[i] & symbol);
            words += word;
            chars += word ? len[i] : 0;
            with_letter += (f[i] & alpha) != 0;
        }
        result = Py_BuildValue("LLL", (long long)words, (long long)chars, (long long)with_letter);
    }
    PyBuffer_Release(&bf);
    PyBuffer_Release(&bl);
    return result;
}

/* line_stats: per line of the text, its words (tokens without the symbol bit), its tokens and its sentences
 * as c4.count_sentences counts them (one, plus one per token that is neither terminal nor punctuation and
 * follows a terminal mark seen since the line's previous such token) - words.sentences_per_line, without
 * making each token's line number. A line's tokens are those of its chunks (chunks_per_line), a chunk's
 * are chunk_count of it (None: one each). */
static PyObject *line_stats(PyObject *self, PyObject *args) {
    Py_buffer bf, bp, bc = {0};
    PyObject *chunk_count;
    unsigned int symbol, terminal, punct;
    if (!PyArg_ParseTuple(args, "y*Oy*III", &bf, &chunk_count, &bp, &symbol, &terminal, &punct)) return NULL;
    PyObject *words = NULL, *tokens = NULL, *sentences = NULL, *result = NULL;
    int have_counts = chunk_count != Py_None;
    if (have_counts && PyObject_GetBuffer(chunk_count, &bc, PyBUF_SIMPLE) < 0) goto done;
    Py_ssize_t n_lines = items(&bp, 8, "line_stats", "chunks_per_line");
    Py_ssize_t n_chunks = have_counts ? items(&bc, 8, "line_stats", "chunk_count") : bf.len;
    if (n_lines < 0 || n_chunks < 0) goto done;
    const uint8_t *f = bf.buf;
    const int64_t *per_line = bp.buf, *counts = have_counts ? bc.buf : NULL;
    Py_ssize_t chunks = 0, toks = 0;
    int negative = 0;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        negative |= per_line[i] < 0;
        chunks += per_line[i];
    }
    for (Py_ssize_t c = 0; counts && c < n_chunks; c++) {
        negative |= counts[c] < 0;
        toks += counts[c];
    }
    if (!counts) toks = n_chunks;
    if (negative || chunks != n_chunks || toks != bf.len) {
        PyErr_Format(PyExc_ValueError, "line_stats: %zd lines of %zd chunks and %zd tokens, given %zd chunks and "
                     "%zd tokens", n_lines, chunks, toks, n_chunks, bf.len);
        goto done;
    }
    words = PyBytes_FromStringAndSize(NULL, n_lines * 8);
    tokens = PyBytes_FromStringAndSize(NULL, n_lines * 8);
    sentences = PyBytes_FromStringAndSize(NULL, n_lines * 8);
    if (!words || !tokens || !sentences) goto done;
    int64_t *o_words = (int64_t *)PyBytes_AS_STRING(words), *o_tokens = (int64_t *)PyBytes_AS_STRING(tokens);
    int64_t *o_sent = (int64_t *)PyBytes_AS_STRING(sentences);
    Py_ssize_t c = 0, t = 0;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        Py_ssize_t end = t;
        for (int64_t j = 0; j < per_line[i]; j++, c++) end += counts ? counts[c] : 1;
        int64_t n_words = 0, n = 1;
        int seen_end = 0;
        o_tokens[i] = end - t;
        for (; t < end; t++) {
            uint8_t fl = f[t];
            n_words += !(fl & symbol);
            if (fl & terminal) {
                seen_end = 1;
            } else if (!(fl & punct)) {
                n += seen_end;
                seen_end = 0;
            }
        }
        o_words[i] = n_words;
        o_sent[i] = n;
    }
    result = PyTuple_Pack(3, words, tokens, sentences);
done:
    Py_XDECREF(words);
    Py_XDECREF(tokens);
    Py_XDECREF(sentences);
    PyBuffer_Release(&bf);
    PyBuffer_Release(&bp);
    if (have_counts && bc.obj) PyBuffer_Release(&bc);
    return result;
}

/* A writable buffer argument of ``itemsize``-byte items with room for ``need`` of them; its items, or -1. */
static Py_ssize_t room(PyObject *obj, Py_buffer *b, Py_ssize_t itemsize, Py_ssize_t need, const char *fn,
                       const char *what) {
    if (PyObject_GetBuffer(obj, b, PyBUF_WRITABLE) < 0) return -1;
    Py_ssize_t n = items(b, itemsize, fn, what);
    if (n >= 0 && n < need) {
        PyErr_Format(PyExc_ValueError, "%s: %s holds %zd items, %zd needed", fn, what, n, need);
        n = -1;
    }
    if (n < 0) PyBuffer_Release(b);
    return n;
}

/* add_chunks: the vocabulary's bookkeeping for a batch of new chunks (words._Vocabulary._add_interned), in
 * one call where it took about ten numpy calls per document (issue 13, eleventh pass: each costs ~10,000
 * instructions on arrays this small). The batch's token ids (int64 bytes) go to flat[n_flat:] as int32,
 * each chunk's tokens per chunk (int64 bytes) to count[n_chunks:] and its place in flat to first[n_chunks:]
 * (chunks' tokens are consecutive in flat, in chunk order). The caller made the room; the columns' sizes
 * are the caller's to advance. */
static PyObject *add_chunks(PyObject *self, PyObject *args) {
    PyObject *flat_obj, *first_obj, *count_obj;
    Py_ssize_t n_flat, n_chunks;
    Py_buffer bi, bp, bflat = {0}, bfirst = {0}, bcount = {0};
    if (!PyArg_ParseTuple(args, "OOOnny*y*", &flat_obj, &first_obj, &count_obj, &n_flat, &n_chunks, &bi, &bp))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n_ids = items(&bi, 8, "add_chunks", "flat_ids"), n_new = items(&bp, 8, "add_chunks", "per_chunk");
    if (n_ids < 0 || n_new < 0) goto done;
    if (n_flat < 0 || n_chunks < 0 || n_flat + n_ids > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "add_chunks: %zd + %zd token places do not fit int32", n_flat, n_ids);
        goto done;
    }
    const int64_t *ids = bi.buf, *per_chunk = bp.buf;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n_new; i++) {
        if (per_chunk[i] < 0 || per_chunk[i] > n_ids - total) {
            PyErr_SetString(PyExc_ValueError, "add_chunks: tokens per chunk do not add up to the token ids");
            goto done;
        }
        total += per_chunk[i];
    }
    if (total != n_ids) {
        PyErr_Format(PyExc_ValueError, "add_chunks: %zd tokens per chunk for %zd token ids", total, n_ids);
        goto done;
    }
    for (Py_ssize_t k = 0; k < n_ids; k++) {
        if (ids[k] < 0 || ids[k] > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "add_chunks: token id %lld does not fit int32", (long long)ids[k]);
            goto done;
        }
    }
    if (room(flat_obj, &bflat, 4, n_flat + n_ids, "add_chunks", "flat") < 0) goto done;
    if (room(first_obj, &bfirst, 4, n_chunks + n_new, "add_chunks", "first") < 0) goto done;
    if (room(count_obj, &bcount, 4, n_chunks + n_new, "add_chunks", "count") < 0) goto done;
    int32_t *flat = (int32_t *)bflat.buf + n_flat, *first = (int32_t *)bfirst.buf + n_chunks;
    int32_t *count = (int32_t *)bcount.buf + n_chunks;
    for (Py_ssize_t k = 0; k < n_ids; k++) flat[k] = (int32_t)ids[k];
    int64_t at = n_flat;
    for (Py_ssize_t i = 0; i < n_new; i++) {
        first[i] = (int32_t)at;
        count[i] = (int32_t)per_chunk[i];
        at += per_chunk[i];
    }
    result = Py_None;
    Py_INCREF(result);
done:
    if (bflat.obj) PyBuffer_Release(&bflat);
    if (bfirst.obj) PyBuffer_Release(&bfirst);
    if (bcount.obj) PyBuffer_Release(&bcount);
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bp);
    return result;
}

/* words.token_keys of one id: splitmix64's finalizer of id + 1. */
static inline int64_t token_key(int64_t id) {
    uint64_t z = ((uint64_t)id + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (int64_t)(z ^ (z >> 31));
}

/* add_tokens: the new tokens' columns (words._Vocabulary._add_interned), whose ids are n_tokens, n_tokens + 1,
 * ...: key[n_tokens:] their token_keys, length[n_tokens:] from ``lengths`` (int64 bytes), flags[n_tokens:]
 * alpha_bit where ``alpha`` (one byte per token: str.isalpha) is set, else 0; returns the places (= token ids)
 * of the others as int64 bytes, whose flags the caller sets (words._flags). */
static PyObject *add_tokens(PyObject *self, PyObject *args) {
    PyObject *key_obj, *length_obj, *flags_obj;
    Py_ssize_t n_tokens;
    unsigned int alpha_bit;
    Py_buffer bl, ba, bkey = {0}, blength = {0}, bflags = {0};
    if (!PyArg_ParseTuple(args, "OOOny*y*I", &key_obj, &length_obj, &flags_obj, &n_tokens, &bl, &ba, &alpha_bit))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = items(&bl, 8, "add_tokens", "lengths");
    if (n < 0) goto done;
    if (ba.len != n || n_tokens < 0 || alpha_bit > 255) {
        PyErr_SetString(PyExc_ValueError, "add_tokens: one alpha byte per length, n_tokens >= 0, a uint8 bit");
        goto done;
    }
    if (room(key_obj, &bkey, 8, n_tokens + n, "add_tokens", "key") < 0) goto done;
    if (room(length_obj, &blength, 8, n_tokens + n, "add_tokens", "length") < 0) goto done;
    if (room(flags_obj, &bflags, 1, n_tokens + n, "add_tokens", "flags") < 0) goto done;
    const int64_t *lengths = bl.buf;
    const uint8_t *alpha = ba.buf;
    int64_t *key = (int64_t *)bkey.buf + n_tokens, *length = (int64_t *)blength.buf + n_tokens;
    uint8_t *flags = (uint8_t *)bflags.buf + n_tokens;
    Py_ssize_t others = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        key[i] = token_key(n_tokens + i);
        length[i] = lengths[i];
        flags[i] = alpha[i] ? (uint8_t)alpha_bit : 0;
        others += !alpha[i];
    }
    result = PyBytes_FromStringAndSize(NULL, others * 8);
    if (result) {
        int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
        for (Py_ssize_t i = 0, k = 0; i < n; i++)
            if (!alpha[i]) out[k++] = n_tokens + i;
    }
done:
    if (bkey.obj) PyBuffer_Release(&bkey);
    if (blength.obj) PyBuffer_Release(&blength);
    if (bflags.obj) PyBuffer_Release(&bflags);
    PyBuffer_Release(&bl);
    PyBuffer_Release(&ba);
    return result;
}

/* count_present: words.Tokens.count_present's count, how many of a word list's words occur among a text's token
 * ids: ``positions`` (int32, from _Vocabulary.wanted_positions) maps an id to its word's position among the
 * found words, or -1; ids at or beyond its length are no word of the list. The distinct positions reached are
 * counted with a bitmap, in one pass, where numpy took seven calls per document (~7 instructions per Chinese
 * character, issue 13, eleventh pass). */
static PyObject *count_present(PyObject *self, PyObject *args) {
    Py_buffer bi, bp;
    if (!PyArg_ParseTuple(args, "y*y*", &bi, &bp)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n_ids = items(&bi, 8, "count_present", "ids"), n = items(&bp, 4, "count_present", "positions");
    if (n_ids < 0 || n < 0) goto done;
    const int64_t *ids = bi.buf;
    const int32_t *positions = bp.buf;
    uint8_t *seen = calloc((size_t)n / 8 + 1, 1); /* a position is below the number of found words, <= n */
    if (!seen) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n_ids; i++) {
        int64_t id = ids[i];
        if (id < 0 || id >= n || positions[id] < 0) continue;
        int32_t p = positions[id];
        if (p >= n) {
            PyErr_Format(PyExc_ValueError, "count_present: position %d beyond the %zd ids", (int)p, n);
            break;
        }
        count += !(seen[p >> 3] >> (p & 7) & 1);
        seen[p >> 3] |= (uint8_t)(1u << (p & 7));
    }
    free(seen);
    if (!PyErr_Occurred()) result = PyLong_FromSsize_t(count);
done:
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bp);
    return result;
}

/* pair_starts: the positions i of a text's token ids where ids[i] and ids[i + 1] are the first two tokens of
 * one of spaCy's special cases that hold a space (words._SpacedPairs): ``first`` and ``second`` (int32) map an
 * id to its index among the cases' first (second) tokens, 0 for none, ids at or beyond their length being none;
 * ``table`` (uint8, row-major, len(table) == rows * width with width = the largest second index + 1) is
 * nonzero where a pair of indices starts a case. One pass, where numpy took six calls per document (~3 ns per
 * character of Spanish text). */
static PyObject *pair_starts(PyObject *self, PyObject *args) {
    Py_buffer bi, bf, bs, bt;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*y*y*y*n", &bi, &bf, &bs, &bt, &width)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t n_ids = items(&bi, 8, "pair_starts", "ids"), n_first = items(&bf, 4, "pair_starts", "first");
    Py_ssize_t n_second = items(&bs, 4, "pair_starts", "second");
    if (n_ids < 0 || n_first < 0 || n_second < 0) goto done;
    if (width <= 0 || bt.len % width) {
        PyErr_Format(PyExc_ValueError, "pair_starts: table of %zd bytes is not rows of width %zd", bt.len, width);
        goto done;
    }
    const int64_t *ids = bi.buf;
    const int32_t *first = bf.buf, *second = bs.buf;
    const uint8_t *table = bt.buf;
    Py_ssize_t rows = bt.len / width, found = 0;
    int64_t *positions = NULL;
    Py_ssize_t cap = 0;
    for (Py_ssize_t i = 0; i + 1 < n_ids; i++) {
        int64_t a = ids[i];
        if (a < 0 || a >= n_first || !first[a]) continue;
        int64_t b = ids[i + 1];
        if (b < 0 || b >= n_second || !second[b]) continue;
        int32_t r = first[a], c = second[b];
        if (r < 0 || r >= rows || c < 0 || c >= width) {
            PyErr_Format(PyExc_ValueError, "pair_starts: index (%d, %d) outside the %zd x %zd table", (int)r, (int)c,
                         rows, width);
            free(positions);
            goto done;
        }
        if (!table[(Py_ssize_t)r * width + c]) continue;
        if (found == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *grown = realloc(positions, (size_t)cap * sizeof(int64_t));
            if (!grown) {
                free(positions);
                PyErr_NoMemory();
                goto done;
            }
            positions = grown;
        }
        positions[found++] = i;
    }
    out = PyBytes_FromStringAndSize((const char *)positions, found * (Py_ssize_t)sizeof(int64_t));
    free(positions);
done:
    PyBuffer_Release(&bi);
    PyBuffer_Release(&bf);
    PyBuffer_Release(&bs);
    PyBuffer_Release(&bt);
    return out;
}

static PyMethodDef methods[] = {
    {"expand", expand, METH_VARARGS,
     "expand(chunk_ids, first, count, flat, key, length, flags) -> (ids, key, length, flags, chunk_count|None)"},
    {"word_stats", word_stats, METH_VARARGS,
     "word_stats(flags, length, symbol_bit, alpha_bit) -> (words, word characters, tokens with a letter)"},
    {"line_stats", line_stats, METH_VARARGS,
     "line_stats(flags, chunk_count|None, chunks_per_line, symbol_bit, terminal_bit, punct_bit) -> "
     "(words, tokens, sentences) per line as int64 bytes"},
    {"add_chunks", add_chunks, METH_VARARGS,
     "add_chunks(flat, first, count, n_flat, n_chunks, flat_ids, per_chunk): a batch of new chunks into the "
     "int32 columns, in place"},
    {"add_tokens", add_tokens, METH_VARARGS,
     "add_tokens(key, length, flags, n_tokens, lengths, alpha, alpha_bit) -> int64 bytes: new tokens' columns in "
     "place; "
     "the ids of those not all letters"},
    {"pair_starts", pair_starts, METH_VARARGS,
     "pair_starts(ids, first, second, table, width) -> int64 bytes: the i where the int64 ids[i], ids[i + 1] start a "
     "pair the uint8 table marks"},
    {"count_present", count_present, METH_VARARGS,
     "count_present(ids, positions) -> distinct positions >= 0 that the int64 ids reach in the int32 positions"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tokens",
                                    "Per-token work of the word filters, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__tokens(void) { return PyModule_Create(&module); }
