import pytest
from datasketch.lsh import _optimal_param

from pipeline.dedup.lsh_params import PRESETS, collision_probability, optimal_bands_rows


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.85, 0.9, 0.95])
@pytest.mark.parametrize("num_perm", [112, 128, 256])
def test_optimal_parameters_match_datasketch(threshold, num_perm):
    assert optimal_bands_rows(threshold, num_perm) == tuple(_optimal_param(threshold, num_perm, 0.5, 0.5))


def test_fineweb_preset_and_its_s_curve():
    fw = PRESETS["fineweb"]
    assert (fw.ngram, fw.num_perm, fw.bands, fw.rows) == (5, 112, 14, 8)
    assert collision_probability(0.85, 14, 8) > 0.98
    assert collision_probability(0.5, 14, 8) < 0.06


def test_invalid_threshold():
    with pytest.raises(ValueError):
        optimal_bands_rows(1.0, 128)


@pytest.mark.parametrize("threshold, num_perm", [(0.05, 8), (0.05, 32), (0.2, 8)])
def test_low_thresholds_reach_every_band_count(threshold, num_perm):
    """At low thresholds the optimum uses every permutation as its own band (b = num_perm, r = 1): the
    search must include that corner (mutation testing found it untested)."""
    assert optimal_bands_rows(threshold, num_perm) == tuple(_optimal_param(threshold, num_perm, 0.5, 0.5))


def test_weights_must_sum_to_one():
    assert optimal_bands_rows(0.8, 128, 0.2, 0.8) == tuple(_optimal_param(0.8, 128, 0.2, 0.8))
    with pytest.raises(ValueError, match="must be 1"):
        optimal_bands_rows(0.8, 128, 0.3, 0.3)
