"""Train a byte-level BPE whose ranks tiktoken can load, fast enough to run inside the pipeline.

The classic algorithm recounts every adjacent pair of the whole corpus after each merge, which is
quadratic. Here the text is split once with the encoding's regex (so merges never cross a word, as in GPT-2)
and each distinct word is kept once with its count. Pair counts are then updated incrementally: a merge only
rewrites the words that contain the merged pair (an inverted index from pair to words says which), and a
max-heap with lazy deletion yields the next most frequent pair.

Worked example: words {"aab": 2, "ab": 3}. Pairs: (a,a)=2, (a,b)=5. Merge (a,b) -> token 256 "ab":
"aab" becomes [a, 256] with pair (a,256)=2 and "ab" becomes [256]; (a,a) drops to 0. Only the two words
holding (a,b) were touched.

Ties between equally frequent pairs are broken by the smaller pair of token ids, so training is a pure
function of the text. Ranks 0..255 are the single bytes in byte order; rank 256+i is the i-th merge.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from typing import Iterable

import regex

from pipeline.tokenizer import GPT2_PATTERN


def count_words(texts: Iterable[str], pattern: str = GPT2_PATTERN) -> Counter[bytes]:
    """Occurrences of each pre-tokenised piece, as UTF-8 bytes."""
    split = regex.compile(pattern).findall
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(split(text))
    return Counter({word.encode("utf-8"): n for word, n in counts.items()})


def train_bpe(texts: Iterable[str], n_ranks: int, pattern: str = GPT2_PATTERN) -> dict[bytes, int]:
    """Mergeable ranks (bytes -> rank) of at most ``n_ranks`` tokens learned from ``texts``.

    Fewer ranks come back when the text runs out of pairs that occur at least twice.
    """
    if n_ranks < 256:
        raise ValueError(f"a byte-level BPE needs at least 256 ranks, got {n_ranks}")
    word_counts = count_words(texts, pattern)
    words: list[list[int]] = [list(w) for w in word_counts]
    freqs: list[int] = list(word_counts.values())
    vocab: list[bytes] = [bytes([b]) for b in range(256)]

    pair_counts: dict[tuple[int, int], int] = defaultdict(int)
    pair_words: dict[tuple[int, int], set[int]] = defaultdict(set)
    for index, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += freq
            pair_words[pair].add(index)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    known = set(vocab)
    while len(known) < n_ranks and heap:
        neg, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count != -neg:  # stale entry: the count fell since it was pushed
            if count > 0:
                heapq.heappush(heap, (-count, pair))
            continue
        if count < 2:
            break
        # Two different pairs can spell the same bytes (ab+c, a+bc): both get token ids here, but
        # tiktoken keys ranks by bytes, so the second adds no rank (see the end).
        merged = vocab[pair[0]] + vocab[pair[1]]
        _apply_merge(pair, len(vocab), words, pair_counts, pair_words, heap, freqs)
        vocab.append(merged)
        known.add(merged)

    ranks: dict[bytes, int] = {}
    for token in vocab:
        if token not in ranks:
            ranks[token] = len(ranks)
    return ranks


def _apply_merge(pair: tuple[int, int], new_id: int, words: list[list[int]],
                 pair_counts: dict[tuple[int, int], int], pair_words: dict[tuple[int, int], set[int]],
                 heap: list[tuple[int, tuple[int, int]]], freqs: list[int]) -> None:
    """Replace ``pair`` by ``new_id`` in every word holding it, updating pair counts by difference."""
    first, second = pair
    changed: dict[tuple[int, int], int] = defaultdict(int)
    for index in pair_words.pop(pair, ()):
        word, freq = words[index], freqs[index]
        out: list[int] = []
        i, n = 0, len(word)
        while i < n:
            if i + 1 < n and word[i] == first and word[i + 1] == second:
                out.append(new_id)
                i += 2
            else:
                out.append(word[i])
                i += 1
        if len(out) == n:
            continue
        for old in zip(word, word[1:]):
            changed[old] -= freq
        for new in zip(out, out[1:]):
            changed[new] += freq
            pair_words[new].add(index)
        words[index] = out
    pair_counts.pop(pair, None)
    for p, delta in changed.items():
        if p == pair or delta == 0:
            continue
        count = pair_counts.get(p, 0) + delta
        if count > 0:
            pair_counts[p] = count
            if delta > 0:
                heapq.heappush(heap, (-count, p))
        else:
            pair_counts.pop(p, None)
