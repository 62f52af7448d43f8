"""Connected components of the duplicate graph, one partition of nodes at a time.

The graph lives as directed edge lists (both directions of every edge), partitioned by source node, so a task
sees every neighbour of its nodes. Alternating ``large_star`` and ``small_star`` (Kiveris et al., "Connected
Components in MapReduce and Beyond", SoCC 2014) turns it, in O(log^2 n) rounds, into a forest of stars in which
every node is linked to the smallest node of its component. No step ever holds more than one partition's
edges, so memory follows partition size, not corpus size.

Worked example, the path 5-3-9-7:

* large-star: node 3 (neighbours 5, 9; minimum 3) links 5 and 9 to 3; node 7 (neighbour 9; minimum 7) links 9
  to 7; nodes 5 and 9 have no larger neighbour. Edges now 3-5, 3-9, 7-9. Node 9 had a smaller neighbour and
  degree 2: one star violation, so the loop goes on.
* small-star: node 9's smaller neighbours {3, 7} and 9 itself are linked to their minimum 3; node 5's {3}
  likewise. Edges now 3-5, 3-7, 3-9.
* large-star again finds no violation: the star around 3, the component's smallest node, is final.
"""

from __future__ import annotations

import numpy as np

from pipeline.dedup.packed import group_starts, unique_sorted_pairs


def both_directions(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([u, v]), np.concatenate([v, u])


def _sorted_unique(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct edges without self-loops, sorted by source then destination (one packed sort, see packed.py)."""
    keep = src != dst
    src, dst, _ = unique_sorted_pairs(src[keep], dst[keep])
    return src, dst


def _neighbourhoods(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size of each node's run in a source-sorted edge list.

    Destinations are sorted within a run, so a node's smallest neighbour is simply ``dst[first]``.
    """
    first = np.flatnonzero(group_starts(src))
    return first, np.diff(first, append=len(src))


def star_violations(src: np.ndarray, dst: np.ndarray) -> int:
    """Nodes that have a smaller neighbour and more than one neighbour: 0 means a forest of min-centred stars."""
    src, dst = _sorted_unique(src, dst)
    if len(src) == 0:
        return 0
    first, degree = _neighbourhoods(src)
    return int(np.count_nonzero((dst[first] < src[first]) & (degree > 1)))


def large_star(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Link every larger neighbour of each node to the minimum of its closed neighbourhood.

    Returns the new undirected edges ``(u, v)`` and the number of star violations in the input.
    """
    src, dst = _sorted_unique(src, dst)
    if len(src) == 0:
        return src, dst, 0
    first, degree = _neighbourhoods(src)
    node = src[first]
    smallest = np.minimum(dst[first], node)
    violations = int(np.count_nonzero((smallest < node) & (degree > 1)))
    larger = dst > src
    return dst[larger], np.repeat(smallest, degree)[larger], violations


def small_star(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link each node and its smaller neighbours to the smallest of them."""
    src, dst = _sorted_unique(src, dst)
    smaller = dst < src
    src, dst = src[smaller], dst[smaller]
    if len(src) == 0:
        return src, dst
    first, degree = _neighbourhoods(src)
    smallest = dst[first]
    u = np.concatenate([dst, src[first]])
    v = np.concatenate([np.repeat(smallest, degree), smallest])
    return u, v


def star_members(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From a converged star forest's directed edges, ``(root, member)`` for the roots among ``src``."""
    src, dst = _sorted_unique(src, dst)
    centre = dst > src
    return src[centre], dst[centre]


def components_reference(u: np.ndarray, v: np.ndarray) -> dict[int, int]:
    """Node -> smallest node of its component, by union-find in one process (for tests and benchmarks)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(u.tolist(), v.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}
