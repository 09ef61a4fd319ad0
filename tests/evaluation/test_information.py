"""Tests for information.py: discretisation, MI matrices and rung-by-factor information."""

import math

import numpy as np
import pytest

from vlae_tf.evaluation import information

from tests.tolerances import independent_mi_bound


def _balanced(values, repeats):
    """Every value of `values` exactly `repeats` times: entropies are exact logs."""
    return np.repeat(np.asarray(values), repeats)


def test_discretize_matches_hand_computed_bins():
    # 5 bins over [0, 9]: edges 0, 1.8, 3.6, 5.4, 7.2 (top edge 9 dropped), labels 1..5.
    values = np.arange(10.0)[:, None]
    np.testing.assert_array_equal(information.discretize(values, num_bins=5)[:, 0],
                                  [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])


def test_discretize_bins_each_column_on_its_own_range():
    values = np.stack([np.arange(10.0), 100.0 * np.arange(10.0)], axis=1)
    discrete = information.discretize(values, num_bins=5)
    np.testing.assert_array_equal(discrete[:, 0], discrete[:, 1])
    assert discrete.dtype == np.int64


def test_discretize_rejects_non_finite_values():
    with pytest.raises(ValueError, match="NaN or inf"):
        information.discretize(np.array([[0.0], [np.nan]]))


def test_factor_entropies_are_logs_of_uniform_cardinalities():
    factors = np.stack([_balanced(range(4), 6), np.tile(np.arange(8), 3)], axis=1)
    np.testing.assert_allclose(information.factor_entropies(factors), [math.log(4), math.log(8)])


def test_mutual_information_of_a_coarsened_factor():
    # v uniform on 0..3; z = v // 2 keeps one of its two bits: I = log 2 nats.
    v = _balanced(range(4), 5)
    mi = information.mutual_information_matrix(np.stack([v, v // 2], axis=1), v[:, None])
    np.testing.assert_allclose(mi[:, 0], [math.log(4), math.log(2)])


def test_normalized_mutual_information_is_diagonal_for_copied_factors():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, [4, 6, 10], size=(5000, 3))
    nmi = information.normalized_mutual_information(factors.astype(np.float32), factors)
    np.testing.assert_allclose(np.diag(nmi), 1.0)
    # Off the diagonal two independent factors: plug-in bias and noise only, df = (a - 1)(b - 1).
    sizes, entropy = np.array([4, 6, 10]), information.factor_entropies(factors)
    for j, k in zip(*np.nonzero(~np.eye(3, dtype=bool))):
        assert nmi[j, k] < independent_mi_bound((sizes[j] - 1) * (sizes[k] - 1), len(factors), entropy[k])


def test_real_valued_and_constant_factors_are_rejected():
    codes = np.zeros((4, 1))
    with pytest.raises(ValueError, match="integer labels"):
        information.normalized_mutual_information(codes, np.array([[0.5], [1.0], [0.0], [1.0]]))
    with pytest.raises(ValueError, match="constant"):
        information.normalized_mutual_information(codes, np.zeros((4, 1), dtype=int))


def test_joint_rung_information_sees_a_factor_split_over_dimensions():
    # An angle in 8 steps (offset half a step) coded as (cos, sin): cos takes 4 values, each twice,
    # so it carries log 4 / log 8 = 2/3 of H(v); so does sin; the pair carries all of it.
    v = _balanced(range(8), 50)
    angle = 2.0 * np.pi * (v + 0.5) / 8.0
    rung = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    factors = v[:, None]
    best = information.rung_factor_information([rung], factors, method="best_dim")
    joint = information.rung_factor_information([rung], factors, method="joint")
    np.testing.assert_allclose(best, [[2.0 / 3.0]])
    np.testing.assert_allclose(joint, [[1.0]])
    np.testing.assert_allclose(information.rung_factor_information([rung], factors), [[1.0]])


def test_joint_rung_information_with_kmeans_on_noisy_codes():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 8, size=2000)
    angle = 2.0 * np.pi * v / 8.0
    rung = np.stack([np.cos(angle), np.sin(angle)], axis=1) + 0.05 * rng.normal(size=(2000, 2))
    joint = information.rung_factor_information([rung], v[:, None], method="joint")
    # Neighbouring angles lie 2 sin(pi / 8) = 0.77 apart, 15 noise sd: no point is nearer another angle's
    # blob (P ~ 1e-14 each), so unless k-means merges two blobs its clusters determine v exactly.
    assert joint[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_each_factor_is_assigned_to_the_rung_holding_its_copy():
    rng = np.random.default_rng(2)
    n = 3000
    factors = rng.integers(0, [3, 5, 8], size=(n, 3))
    # Rung l holds a noisy copy of factor order[l] next to a pure-noise dimension. The copy's noise
    # (sd 0.05) is so small against its 20 histogram bins (at most 0.39 wide for 8 values one apart) that
    # a bin holds two values only if a point strays (1 - 0.39) / 2 = 6 sd: P < 1e-5 over all 3000 rows.
    order = [2, 0, 1]
    rungs = [np.stack([factors[:, k] + 0.05 * rng.normal(size=n), rng.normal(size=n)], axis=1)
             for k in order]
    info = information.rung_factor_information(rungs, factors)
    assert info.shape == (3, 3)
    assignment = information.factor_rung_assignment(info, ["colour", "position", "shape"])
    assert assignment == {"shape": 1, "colour": 2, "position": 3}
    sizes, entropy = np.array([3, 5, 8]), information.factor_entropies(factors)
    for rung, k in enumerate(order):
        assert info[rung, k] == pytest.approx(1.0, abs=1e-12)
        # Other rungs are independent of factor k: each estimate (2 histograms of <= 20 bins, 20 k-means
        # clusters) is an independent-variable plug-in MI with df <= 19 (values - 1).
        bound = independent_mi_bound(19 * (sizes[k] - 1), n, entropy[k])
        assert np.delete(info[:, k], rung).max() < bound, (info[:, k], bound)


def test_factor_rung_assignment_checks_names_and_breaks_ties_low():
    info = np.array([[0.5, 0.1], [0.5, 0.9]])
    assert information.factor_rung_assignment(info, ["a", "b"]) == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match="3 factor names for 2"):
        information.factor_rung_assignment(info, ["a", "b", "c"])


def test_unknown_rung_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="best_dim"):
        information.rung_factor_information([np.zeros((4, 1))], np.arange(4)[:, None],
                                            method="max")
