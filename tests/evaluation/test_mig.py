"""Tests for mig.py: MIG and MIG-sup on codes whose answers can be worked out by hand."""

import numpy as np
import pytest

# The package re-exports the function `mig`, which shadows the module name: import from the module.
from vlae_tf.evaluation.information import factor_entropies
from vlae_tf.evaluation.mig import mig, mig_sup

from tests.tolerances import independent_mi_bound

N = 5000
SIZES = np.array([4, 6, 10])


def _factors(rng):
    return rng.integers(0, SIZES, size=(N, 3))


def _independent_bound(factors, code_values):
    """The largest NMI any code with ``code_values`` histogram values may have with an independent factor:
    what separates the best from the second best holder is plug-in noise, bounded by this."""
    entropy = factor_entropies(factors)
    return max(independent_mi_bound((code_values - 1) * (size - 1), N, h) for size, h in zip(SIZES, entropy))


def _two_binary_factors():
    """v1, v2 in {0, 1}, every combination 25 times: each has entropy log 2, and they are independent."""
    v1, v2 = np.meshgrid([0, 1], [0, 1], indexing="ij")
    return np.repeat(np.stack([v1.ravel(), v2.ravel()], axis=1), 25, axis=0)


@pytest.mark.parametrize("metric", [mig, mig_sup])
def test_codes_copying_factors_score_near_one(metric):
    factors = _factors(np.random.default_rng(0))
    codes = factors[:, [2, 0, 1]].astype(np.float32)  # a permutation is still one to one
    # Each gap is 1 (the copy) minus the plug-in MI of an independent column: at most the noise bound.
    assert metric(codes, factors)["score"] > 1.0 - _independent_bound(factors, SIZES.max())


@pytest.mark.parametrize("metric", [mig, mig_sup])
def test_independent_noise_codes_score_near_zero(metric):
    rng = np.random.default_rng(1)
    factors = _factors(rng)
    codes = rng.normal(size=(N, 5))
    # A gap is at most the best holder's NMI, itself plug-in noise of a 20-bin code and a factor.
    assert 0.0 <= metric(codes, factors)["score"] < _independent_bound(factors, 20)


def test_mig_of_a_factor_held_fully_and_by_half():
    # v uniform on 0..3; z1 = v holds log 4, z2 = v // 2 holds log 2: gap (log 4 - log 2) / log 4.
    v = np.repeat(np.arange(4), 10)
    result = mig(np.stack([v, v // 2], axis=1).astype(float), v[:, None])
    assert result["score"] == pytest.approx(0.5)
    np.testing.assert_allclose(result["nmi"][:, 0], [1.0, 0.5])


def test_duplicated_latent_scores_zero_mig_but_full_mig_sup():
    # z1 = z2 = v1, z3 = v2. MIG: v1 has no gap (two equal holders), v2 has gap 1 -> 0.5.
    # MIG-sup: every dimension holds exactly one factor -> 1. MIG penalises the duplicate, MIG-sup not.
    factors = _two_binary_factors()
    codes = factors[:, [0, 0, 1]].astype(float)
    mig_result = mig(codes, factors)
    np.testing.assert_allclose(mig_result["per_factor"], [0.0, 1.0], atol=1e-12)
    assert mig_result["score"] == pytest.approx(0.5)
    sup = mig_sup(codes, factors)
    np.testing.assert_allclose(sup["per_dim"], [1.0, 1.0, 1.0])
    assert sup["score"] == pytest.approx(1.0)


def test_one_dimension_holding_two_factors_scores_zero_mig_sup():
    # z1 = v1 (gap 1), z2 = 2 v1 + v2 holds both factors fully (gap 0): MIG-sup 0.5.
    # MIG: v1 is held fully by both (gap 0), v2 only by z2 (gap 1): also 0.5, for the other reason.
    factors = _two_binary_factors()
    codes = np.stack([factors[:, 0], 2 * factors[:, 0] + factors[:, 1]], axis=1).astype(float)
    sup = mig_sup(codes, factors)
    np.testing.assert_allclose(sup["per_dim"], [1.0, 0.0], atol=1e-12)
    assert sup["score"] == pytest.approx(0.5)
    assert mig(codes, factors)["score"] == pytest.approx(0.5)


def test_single_dimension_and_single_factor_gap_against_zero():
    v = np.repeat(np.arange(4), 10)
    codes = (v // 2)[:, None].astype(float)  # holds half of H(v)
    assert mig(codes, v[:, None])["score"] == pytest.approx(0.5)
    assert mig_sup(codes, v[:, None])["score"] == pytest.approx(0.5)


def test_mig_sup_averages_over_active_dimensions_only():
    factors = _two_binary_factors()
    collapsed = np.full(factors.shape[0], 0.3) + 1e-3 * np.sin(np.arange(factors.shape[0]))
    codes = np.stack([factors[:, 0], factors[:, 1], collapsed], axis=1).astype(float)
    sup = mig_sup(codes, factors)
    np.testing.assert_array_equal(sup["active"], [True, True, False])
    assert sup["score"] == pytest.approx(1.0)
    assert mig_sup(codes, factors, active_threshold=None)["score"] < 1.0
    nothing_active = mig_sup(np.zeros((factors.shape[0], 2)), factors)
    assert nothing_active["score"] == 0.0
