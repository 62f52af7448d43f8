/* Character classes that more than one of the filters' C extensions test (_chunks.c, _jieba.c, _lines.c): one
 * definition each, so that the extensions cannot drift apart on which characters are Han or end a line. Plain
 * ``static inline`` functions: each extension inlines them into its own scans, as when each held a copy. */
#ifndef REFINERY_FILTERS_UNICODE_H
#define REFINERY_FILTERS_UNICODE_H

#include <Python.h>

/* The ``segment.HAN`` class: ideographs (unified, extension A, compatibility, B+) and 々 〆 〇. */
static inline int is_han(Py_UCS4 c) {
    return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3005 && c <= 0x3007) ||
           (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

/* The ASCII characters jieba's blocks hold besides Han (``re_han_default``: letters, digits, ``+#&._%-``): its
 * dictionary has words across them ("C++", "T恤", "IP地址"), so jieba cuts them with the Han around them. */
static inline int jieba_ascii(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '#' ||
           c == '&' || c == '.' || c == '_' || c == '%' || c == '-';
}

/* A character of what the Chinese segmenter cuts as one run (``segment.JIEBA_RUN``): Han or ``jieba_ascii``; any
 * other character is a word of its own, as in jieba. */
static inline int is_jieba_run(Py_UCS4 c) { return c < 0x80 ? jieba_ascii(c) : is_han(c); }

/* str.splitlines()'s breaks, Py_UNICODE_ISLINEBREAK without its call and table lookup (CPython's
 * _PyUnicode_IsLinebreak: the only code points it accepts); tests/pipeline/filters/test_words.py and
 * test_lines.py check it against Py_UNICODE_ISLINEBREAK over every code point. */
static inline int is_linebreak(Py_UCS4 c) {
    return (c >= 0x0a && c <= 0x0d) || (c >= 0x1c && c <= 0x1e) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

#endif
