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
    # Log-normal weights: E[L_K] increases with K towards log E[w] = mu + sigma^2 / 2.
    mu, sigma = -10.0, 1.5
    log_w = np.random.default_rng(1).normal(mu, sigma, size=(1000, 2000))
    means = [bounds.iwae_bound(log_w[:k]).mean() for k in (1, 2, 5, 20, 100, 1000)]
    assert np.all(np.diff(means) > 0)
    assert means[-1] < mu + sigma**2 / 2


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
    result = bounds.batched_bounds(model.log_weight_fn(inflation, seed=3), model.x,
                                   num_samples=5000, chunk_size=1000)
    log_px = model.log_px()
    kl = 0.5 * DZ * (inflation - 1.0 - math.log(inflation))  # 0.307 nats
    np.testing.assert_allclose(result["iwae"], log_px, atol=0.05)
    np.testing.assert_allclose(result["elbo"], log_px - kl, atol=0.05)
    assert np.all(result["elbo"] < log_px - 0.2)


def test_elbo_is_exact_under_the_true_posterior():
    # With q = p(z|x) every weight equals p(x): zero variance, ELBO = IWAE = log p(x).
    model = LinearGaussian()
    log_w = model.log_weight_fn(inflation=1.0, seed=4)(model.x, 10)
    np.testing.assert_allclose(bounds.elbo_from_log_weights(log_w), model.log_px(), atol=1e-9)
    np.testing.assert_allclose(bounds.iwae_bound(log_w), model.log_px(), atol=1e-9)


def test_bits_per_dim():
    assert bounds.bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
    np.testing.assert_allclose(bounds.bits_per_dim([0.0, 2 * 3072 * math.log(2.0)], 3072), [0.0, 2.0])
