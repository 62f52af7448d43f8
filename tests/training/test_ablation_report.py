"""The report's statistics: spread over seeds, and which differences exceed it."""

from __future__ import annotations

import pytest

from training.ablation_report import compare, mean_curve, spread


def test_spread_is_mean_sample_std_and_range() -> None:
    s = spread([1.0, 2.0, 4.0])
    assert (s["mean"], s["min"], s["max"], s["n"]) == (pytest.approx(7 / 3), 1.0, 4.0, 3)
    assert s["std"] == pytest.approx(1.5275252)
    assert spread([2.5])["std"] == 0.0


@pytest.mark.parametrize("a, b, beyond", [
    ([1.0, 1.1, 1.2], [1.3, 1.4, 1.5], True),    # ranges apart
    ([1.0, 1.1, 1.35], [1.3, 1.4, 1.5], False),  # one seed inside the other's range
    ([1.0, 1.0], [1.0, 1.0], False),             # equal
])
def test_a_difference_is_beyond_the_seed_spread_when_the_ranges_do_not_overlap(a, b, beyond) -> None:
    result = compare(spread(a), spread(b))
    assert result["beyond_seed_spread"] is beyond
    assert result["difference"] == pytest.approx(sum(a) / len(a) - sum(b) / len(b))
    assert compare(spread(b), spread(a))["beyond_seed_spread"] is beyond


def test_mean_curve_keeps_the_steps_every_seed_reached() -> None:
    curves = [[[0, 4.0], [10, 3.0], [20, 2.0]], [[0, 4.2], [10, 3.2]]]
    assert mean_curve(curves) == [[0, pytest.approx(4.1)], [10, pytest.approx(3.1)]]
