import numpy as np
import pytest

from pipeline.dedup.buckets import partition_of
from pipeline.dedup.components import (both_directions, components_reference, large_star, small_star,
                                       star_members, star_violations)


def _partitioned_components(u, v, partitions):
    """Run the star steps exactly as the stage does, one partition at a time."""
    src, dst = both_directions(u, v)
    rounds = 0
    while True:
        rounds += 1
        part = partition_of(src, partitions)
        outs = [large_star(src[part == q], dst[part == q]) for q in range(partitions)]
        src, dst = both_directions(np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]))
        if sum(o[2] for o in outs) == 0:
            break
        part = partition_of(src, partitions)
        outs = [small_star(src[part == q], dst[part == q]) for q in range(partitions)]
        src, dst = both_directions(np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]))
    labels = {}
    part = partition_of(src, partitions)
    for q in range(partitions):
        roots, members = star_members(src[part == q], dst[part == q])
        labels.update({int(r): int(r) for r in roots})
        labels.update({int(m): int(r) for r, m in zip(roots, members)})
    return labels, rounds


@pytest.mark.parametrize("seed", range(12))
def test_star_steps_match_union_find(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    ids = rng.choice(1 << 40, size=n, replace=False).astype(np.uint64)
    if seed % 3 == 0:  # a long path: the worst case for label propagation
        order = rng.permutation(n)
        u, v = ids[order[:-1]], ids[order[1:]]
    else:
        m = int(rng.integers(1, 2 * n))
        u, v = ids[rng.integers(0, n, m)], ids[rng.integers(0, n, m)]
        keep = u != v
        u, v = u[keep], v[keep]
    labels, rounds = _partitioned_components(u, v, partitions=int(rng.integers(1, 5)))
    assert labels == components_reference(u, v)
    assert rounds < 40


def test_star_violations_counts_only_nodes_with_a_smaller_neighbour_and_more_than_one():
    star = both_directions(np.array([1, 1, 1], dtype=np.uint64), np.array([5, 7, 9], dtype=np.uint64))
    assert star_violations(*star) == 0  # a min-centred star: the centre's neighbours are all larger
    path = both_directions(np.array([1, 2], dtype=np.uint64), np.array([2, 3], dtype=np.uint64))
    assert star_violations(*path) == 1  # node 2: neighbour 1 is smaller and it has two
    assert star_violations(np.array([], dtype=np.uint64), np.array([], dtype=np.uint64)) == 0
    assert large_star(*path)[2] == star_violations(*path)
