"""The keep rule and cluster statistics, for the clusters whose root falls in one partition.

Keep rule: in each cluster the document of the highest-priority source (lowest priority number: the order
of ``stages.dedup.source_priority`` or of the manifest's sources) is kept, ties broken by the lowest id, then
by shard and row (only reached by two copies of one id). It depends only on the cluster's members, never on
the number of workers or the order of shards. The cluster id is the lowest document id in the cluster.

A removed document's reason is ``exact`` when its normalised text equals the kept document's, else ``near``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REASON_EXACT, REASON_NEAR = "exact", "near"


@dataclass
class Members:
    """One row per cluster member (representatives included), clusters contiguous."""

    cluster: np.ndarray  # int64, the cluster's root node
    node: np.ndarray  # uint64
    priority: np.ndarray  # int64
    doc_id: np.ndarray  # str
    source: np.ndarray  # str
    exact: np.ndarray  # docs x 2 uint64


@dataclass
class Decisions:
    """Per member: whether it is kept, its cluster id, the kept representative's id and the removal reason."""

    members: Members  # sorted: clusters contiguous, the kept member first in each
    kept: np.ndarray
    cluster_id: np.ndarray
    representative: np.ndarray  # index into the members of the kept member
    reason: np.ndarray  # "" for kept
    size: np.ndarray


def decide(m: Members) -> Decisions:
    order = np.lexsort((m.node, m.doc_id, m.priority, m.cluster))
    if not np.array_equal(order, np.arange(len(order))):
        m = Members(m.cluster[order], m.node[order], m.priority[order], m.doc_id[order], m.source[order],
                    m.exact[order])
    n = len(m.cluster)
    start = np.ones(n, dtype=bool)
    start[1:] = m.cluster[1:] != m.cluster[:-1]
    group = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    rep = first[group]
    kept = np.arange(n) == rep
    sizes = np.bincount(group)[group]
    # lowest id of each cluster
    by_id = np.lexsort((m.doc_id, group))
    id_start = np.ones(n, dtype=bool)
    id_start[1:] = group[by_id][1:] != group[by_id][:-1]
    lowest = m.doc_id[by_id][id_start][group]
    same_text = np.all(m.exact == m.exact[rep], axis=1)
    reason = np.where(kept, "", np.where(same_text, REASON_EXACT, REASON_NEAR))
    return Decisions(m, kept, lowest, rep, reason, sizes)


def size_bucket(size: int) -> str:
    """Histogram label of a cluster size: exact up to 10, then 11-15 and ranges between powers of two."""
    if size <= 10:
        return str(size)
    if size < 16:
        return "11-15"
    low = 1 << (size.bit_length() - 1)
    return f"{low}-{2 * low - 1}"
