"""Tests for bounds.py: ELBO and IWAE bound, checked against a model with a closed-form log p(x).

The model is linear Gaussian: z ~ N(0, I_dz), x = W z + b + eps, eps ~ N(0, s^2 I_dx), so
    p(x)   = N(b, W W^T + s^2 I)
    p(z|x) = N(m(x), S),  S = (I + W^T W / s^2)^-1,  m(x) = S W^T (x - b) / s^2.
With q(z|x) = N(m(x), c S) the gap log p(x) - ELBO = KL(q || p(z|x)) = dz/2 (c - 1 - log c).
"""

import math

import numpy as np
import pytest
from scipy import stats

from vlae_tf.evaluation import bounds

from tests.tolerances import Z

DX, DZ, NOISE_SD, BATCH = 5, 2, 0.5, 6


class LinearGaussian:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=(DX, DZ))
        self.b = rng.normal(size=DX)
        z = rng.normal(size=(BATCH, DZ))
        self.x = z @ self.w.T + self.b + NOISE_SD * rng.normal(size=(BATCH, DX))
        self.post_cov = np.linalg.inv(np.eye(DZ) + self.w.T @ self.w / NOISE_SD**2)
        self.post_mean = (self.x - self.b) @ self.w @ self.post_cov / NOISE_SD**2

    def log_px(self):
        cov = self.w @ self.w.T + NOISE_SD**2 * np.eye(DX)
        return stats.multivariate_normal(self.b, cov).logpdf(self.x)

    def log_weight_fn(self, inflation, seed):
        """(images, k) -> [k, B] log p(x, z) - log q(z|x), z ~ q = N(m(x), inflation * S)."""
        rng = np.random.default_rng(seed)
        q = stats.multivariate_normal(np.zeros(DZ), inflation * self.post_cov)

        def fn(images, k):
            offsets = q.rvs(size=(k, BATCH), random_state=rng).reshape(k, BATCH, DZ)
            z = self.post_mean + offsets
            log_prior = stats.norm.logpdf(z).sum(-1)
            log_lik = stats.norm.logpdf(images, loc=z @ self.w.T + self.b, scale=NOISE_SD).sum(-1)
            return log_prior + log_lik - q.logpdf(offsets)

        return fn


def test_log_mean_exp_by_hand_and_far_from_zero():
    assert bounds.log_mean_exp([0.0, math.log(3.0)]) == pytest.approx(math.log(2.0))
    # exp(-5000) underflows to 0: the naive formula would give -inf.
    log_w = np.array([[-5000.0, 800.0], [-5000.0 + math.log(3.0), 800.0]])
    np.testing.assert_allclose(bounds.log_mean_exp(log_w, axis=0), [-5000.0 + math.log(2.0), 800.0])
    np.testing.assert_allclose(bounds.log_mean_exp(log_w, axis=1), 800.0 - math.log(2.0))
    assert bounds.log_mean_exp([-np.inf, -np.inf]) == -np.inf


def test_iwae_bound_is_never_below_the_elbo():
    log_w = np.random.default_rng(0).normal(-100.0, 3.0, size=(50, 200))
    assert np.all(bounds.iwae_bound(log_w) >= bounds.elbo_from_log_weights(log_w))
    np.testing.assert_allclose(bounds.iwae_bound(log_w[:1]), bounds.elbo_from_log_weights(log_w[:1]))


def test_iwae_bound_grows_with_k_on_average():
    # Log-normal weights: E[L_K] increases with K towards log E[w] = mu + sigma^2 / 2, falling short by
    # about Var(w) / (2 K E[w]^2) = (exp(sigma^2) - 1) / (2K) (delta method).
    mu, sigma = -10.0, 1.5
    log_w = np.random.default_rng(1).normal(mu, sigma, size=(1000, 2000))  # 2000 independent columns
    ks = (1, 2, 5, 20, 100, 1000)
    estimates = np.stack([bounds.iwae_bound(log_w[:k]) for k in ks])  # [6, 2000]
    # Each step's gain, column by column (nested samples: one paired difference per column), is
    # significantly positive: its mean exceeds Z standard errors of that mean (measured: >= 6 SE).
    gains = np.diff(estimates, axis=0)
    standard_errors = gains.std(axis=1, ddof=1) / math.sqrt(gains.shape[1])
    assert np.all(gains.mean(axis=1) > Z * standard_errors), (gains.mean(axis=1), standard_errors)
    expected = mu + sigma**2 / 2 - (math.exp(sigma**2) - 1) / (2 * ks[-1])
    standard_error = estimates[-1].std(ddof=1) / math.sqrt(estimates.shape[1])
    assert abs(estimates[-1].mean() - expected) < Z * standard_error, (estimates[-1].mean(), expected)


def test_batched_equals_unbatched_with_a_remainder_chunk():
    table = np.random.default_rng(2).normal(-3000.0, 20.0, size=(53, 4))
    calls = []

    def fn(images, k):
        start = sum(calls)
        calls.append(k)
        return table[start:start + k]

    result = bounds.batched_bounds(fn, images=None, num_samples=53, chunk_size=10)
    assert calls == [10, 10, 10, 10, 10, 3]
    np.testing.assert_allclose(result["iwae"], bounds.iwae_bound(table), rtol=0, atol=1e-9)
    np.testing.assert_allclose(result["elbo"], bounds.elbo_from_log_weights(table), rtol=0, atol=1e-9)


def test_batched_iwae_checks_the_chunk_shape():
    with pytest.raises(ValueError, match=r"expected \[4, B\]"):
        bounds.batched_iwae(lambda images, k: np.zeros((k + 1, 3)), None, num_samples=4, chunk_size=4)
    with pytest.raises(ValueError, match="NaN"):
        bounds.batched_iwae(lambda images, k: np.full((k, 3), np.nan), None, num_samples=4)


def test_iwae_recovers_log_px_where_the_elbo_falls_short():
    model = LinearGaussian()
    inflation = 2.0
    draws = []
    log_weight_fn = model.log_weight_fn(inflation, seed=3)

    def recorded(images, k):
        draws.append(log_weight_fn(images, k))
        return draws[-1]

    num_samples = 5000
    result = bounds.batched_bounds(recorded, model.x, num_samples=num_samples, chunk_size=1000)
    log_w = np.concatenate(draws)  # the [K, B] weights behind the bounds, for their standard errors
    log_px = model.log_px()
    kl = 0.5 * DZ * (inflation - 1.0 - math.log(inflation))  # 0.307 nats
    # ELBO: a mean of K log weights, standard error sd(log w) / sqrt(K).
    elbo_error = log_w.std(axis=0, ddof=1) / math.sqrt(num_samples)
    # L_K = log of a mean of K weights: by the delta method its standard error is sd(w) / (E[w] sqrt(K)) and
    # its bias -Var(w) / (2 K E[w]^2), both from the weights relative to their mean.
    relative = np.exp(log_w - log_w.max(axis=0))
    relative /= relative.mean(axis=0)
    iwae_error = relative.std(axis=0, ddof=1) / math.sqrt(num_samples)
    iwae_bias = relative.var(axis=0) / (2 * num_samples)
    assert np.all(np.abs(result["iwae"] - (log_px - iwae_bias)) < Z * iwae_error), (result["iwae"] - log_px, iwae_error)
    assert np.all(np.abs(result["elbo"] - (log_px - kl)) < Z * elbo_error), (result["elbo"] - log_px, elbo_error)
    assert np.all(log_px - result["elbo"] > Z * elbo_error)  # the ELBO's shortfall is no accident of the draw


def test_elbo_is_exact_under_the_true_posterior():
    # With q = p(z|x) every weight equals p(x): zero variance, ELBO = IWAE = log p(x).
    model = LinearGaussian()
    log_w = model.log_weight_fn(inflation=1.0, seed=4)(model.x, 10)
    np.testing.assert_allclose(bounds.elbo_from_log_weights(log_w), model.log_px(), atol=1e-9)
    np.testing.assert_allclose(bounds.iwae_bound(log_w), model.log_px(), atol=1e-9)


def test_bits_per_dim():
    assert bounds.bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
    np.testing.assert_allclose(bounds.bits_per_dim([0.0, 2 * 3072 * math.log(2.0)], 3072), [0.0, 2.0])
