"""The per-shard statistics helpers: fixed buckets, capped domains, keys that merge by summing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from contracts.corpus_stats import (add_domains, bucket_edges, edge_range, host_of, record_out, record_table,
                                    split_source)


def test_buckets_are_powers_of_two_with_zero_apart():
    assert bucket_edges([0, 1, 700, 1023, 1024, 2**40 + 5]).tolist() == [0, 1, 512, 512, 1024, 2**40]


def test_histograms_of_two_shards_sum_to_the_histogram_of_both():
    a, b, both = Counter(), Counter(), Counter()
    record_out(a, "web", [3, 900, 5000])
    record_out(b, "web", [1, 1000, 70000])
    record_out(both, "web", [3, 900, 5000, 1, 1000, 70000])
    assert a + b == both
    assert both["hist.chars.web.512"] == 2 and both["source.web.chars_out"] == 76904


def test_domains_are_capped_per_shard_and_the_rest_counted():
    counts = Counter()
    urls = [f"https://site{i}.example/x" for i in range(5)] * 2 + ["https://www.big.example/a"] * 7 + [None, "::"]
    add_domains(counts, "web", urls, top=3)
    assert counts["domains.web.big.example"] == 7
    assert sum(v for k, v in counts.items() if k.startswith("domains.")) + counts["domains_other.web"] == 17


def test_hosts():
    assert host_of("HTTPS://WWW.Example.COM:8080/p?q") == "example.com"
    assert host_of("not a url") is None and host_of(None) is None and host_of("http://[::1") is None


def test_record_table_splits_by_source_and_counts_languages():
    table = pa.table({"source": ["a", "b.c", "a"], "text": ["xy", "ü", ""], "url": [None, "http://h.org", None],
                      "language": ["en", "de", None]})
    counts = Counter()
    record_table(counts, table, "out")
    assert counts["source.a.docs_out"] == 2 and counts["source.a.chars_out"] == 2
    assert counts["source.b.c.chars_out"] == 1 and counts["hist.chars.a.0"] == 1
    assert counts["language_out.a.en"] == 1 and counts["domains.b.c.h.org"] == 1


def test_split_source_prefers_the_longest_name():
    assert split_source("b.c.h.org", ["b", "b.c"]) == ("b.c", "h.org")
    assert split_source("zz.h", ["b"]) is None


def test_record_table_takes_the_lengths_it_is_given_per_source():
    """``lengths`` (the filter stage's, from its signals) stand for the texts' characters, row by row, also
    when the table holds several sources (each source's rows picked out of them)."""
    texts = ["中文維基百科", "xy", "", "ü" * 700, "日本"]
    table = pa.table({"source": ["a", "b", "a", "b", "a"], "text": texts, "url": [None] * 5,
                      "language": ["zh", "en", None, "de", "ja"]})
    counted, given = Counter(), Counter()
    record_table(counted, table, "out")
    record_table(given, table, "out", lengths=np.array([len(t) for t in texts]))
    assert given == counted and given["source.b.chars_out"] == 702 and given["hist.chars.b.512"] == 1
    other = Counter()  # the lengths are used, not counted again: other lengths, other statistics
    record_table(other, table, "out", lengths=np.array([1, 2, 3, 4, 5]))
    assert other["source.a.chars_out"] == 9 and other["source.b.chars_out"] == 6
    one = Counter()  # one source: the lengths as they are
    record_table(one, table.filter(pa.array([True, False, True, False, True])), "in", lengths=np.array([6, 0, 2]))
    assert one["source.a.chars_in"] == 8 and one["source.a.docs_in"] == 3


def test_edge_range_keeps_the_empty_buckets_between_the_ends() -> None:
    assert edge_range([65536, 32, 1 << 20]) == [32 << k for k in range(16)]  # 128k, 256k, 512k ... kept
    assert edge_range([0, 4, 16]) == [0, 4, 8, 16]
    assert edge_range([0]) == [0] and edge_range([]) == []
    assert edge_range(bucket_edges([700, 5000]).tolist()) == [512, 1024, 2048, 4096]
