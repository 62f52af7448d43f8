import numpy as np

from pipeline.dedup.clusters import Members, decide, size_bucket


def test_keep_rule_priority_then_lowest_id_and_reasons():
    m = Members(
        cluster=np.array([7, 7, 7, 2, 2], dtype=np.uint64),
        node=np.array([7, 8, 9, 2, 3], dtype=np.uint64),
        priority=np.array([1, 0, 0, 1, 1]),
        doc_id=np.array(["aa", "cc", "bb", "zz", "yy"]),
        source=np.array(["books", "wiki", "wiki", "books", "books"]),
        exact=np.array([[1, 1], [2, 2], [1, 1], [5, 5], [6, 6]], dtype=np.uint64),
    )
    d = decide(m)
    rows = {str(i): (bool(k), str(c), str(d.members.doc_id[r]), str(why))
            for i, k, c, r, why in zip(d.members.doc_id, d.kept, d.cluster_id, d.representative, d.reason)}
    assert rows == {
        "bb": (True, "aa", "bb", ""),  # wiki outranks books; bb < cc
        "cc": (False, "aa", "bb", "near"),
        "aa": (False, "aa", "bb", "exact"),  # same normalised text as bb
        "yy": (True, "yy", "yy", ""),
        "zz": (False, "yy", "yy", "near"),
    }


def test_size_bucket():
    assert [size_bucket(s) for s in (2, 10, 11, 16, 40)] == ["2", "10", "11-15", "16-31", "32-63"]
