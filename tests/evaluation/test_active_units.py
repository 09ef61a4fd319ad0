"""Tests for active_units.py on posterior means built with known variances."""

import numpy as np
import pytest

# The package re-exports the function `active_units`, which shadows the module name.
from vlae_tf.evaluation.active_units import (
    active_unit_mask,
    active_units,
    active_units_per_rung,
    unit_activity,
)


def _means():
    # Columns with variance exactly 1, 0.25, 1e-4 and 0 (values +-sd, balanced).
    signs = np.tile([1.0, -1.0], 50)[:, None]
    return signs * np.array([1.0, 0.5, 0.01, 0.0]) + np.array([3.0, -1.0, 0.0, 7.0])


def test_unit_activity_is_the_variance_of_the_means():
    np.testing.assert_allclose(unit_activity(_means()), [1.0, 0.25, 1e-4, 0.0])


def test_active_units_counts_variances_above_threshold():
    np.testing.assert_array_equal(active_unit_mask(_means()), [True, True, False, False])
    assert active_units(_means()) == 2
    assert active_units(_means(), threshold=0.5) == 1
    # Strictly greater: a variance equal to the threshold is not active.
    assert active_units(_means(), threshold=0.25) == 1


def test_active_units_per_rung():
    means = _means()
    assert active_units_per_rung([means[:, :2], means[:, 2:], means]) == [2, 0, 2]


def test_means_must_be_a_matrix():
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        active_units(np.zeros(5))
