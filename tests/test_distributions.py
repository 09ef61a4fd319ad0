"""Analytic checks of the distribution pieces: KLs between Gaussians and the Ladder VAE's precision-weighted
merge, against closed forms and TFP."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from vlae_tf import distributions

tfd = tfp.distributions


def gaussians(seed, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape).astype("float32"), rng.uniform(0.2, 2.0, size=shape).astype("float32")


def test_kl_of_standard_normal_to_itself_is_zero():
    kl = distributions.kl_to_standard_normal(tf.zeros([5, 3]), tf.ones([5, 3]))
    np.testing.assert_allclose(kl.numpy(), np.zeros(5), atol=1e-7)


def test_kl_to_standard_normal_matches_closed_form():
    mean, std = gaussians(0)
    expected = 0.5 * np.sum(mean ** 2 + std ** 2 - 1.0 - 2.0 * np.log(std), axis=1)
    np.testing.assert_allclose(distributions.kl_to_standard_normal(mean, std).numpy(), expected, rtol=1e-5)


def test_gaussian_kl_of_a_gaussian_with_itself_is_zero():
    q = gaussians(1)
    assert distributions.gaussian_kl(q, q).shape == (4,)
    np.testing.assert_allclose(distributions.gaussian_kl(q, q).numpy(), np.zeros(4), atol=1e-6)


def test_gaussian_kl_matches_tfp_and_the_standard_normal_case():
    q, p = gaussians(2), gaussians(3)
    expected = tfd.kl_divergence(distributions.diagonal_gaussian(*q), distributions.diagonal_gaussian(*p))
    np.testing.assert_allclose(distributions.gaussian_kl(q, p).numpy(), expected.numpy(), rtol=1e-5)
    np.testing.assert_allclose(distributions.gaussian_kl(q, (0.0, 1.0)).numpy(),
                               distributions.kl_to_standard_normal(*q).numpy(), rtol=1e-5)


def test_merging_with_an_infinitely_broad_prior_returns_the_bottom_up_gaussian():
    up = gaussians(4)
    mean, std = distributions.precision_weighted(up, (np.float32(7.0), np.float32(np.inf)))
    np.testing.assert_allclose(mean.numpy(), up[0], rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), up[1], rtol=1e-6)


def test_merge_is_the_normalised_product_of_the_two_densities():
    up, prior = gaussians(5), gaussians(6)
    mean, std = distributions.precision_weighted(up, prior)
    # Equal Gaussians: same mean, variance halved.
    same_mean, same_std = distributions.precision_weighted(up, up)
    np.testing.assert_allclose(same_mean.numpy(), up[0], rtol=1e-6)
    np.testing.assert_allclose(same_std.numpy(), up[1] / np.sqrt(2.0), rtol=1e-6)
    # log N(z; up) + log N(z; prior) - log N(z; merged) does not depend on z (the product is Gaussian).
    zs = np.random.default_rng(7).normal(size=(5, 4, 3)).astype("float32")
    per_dim = [distributions.gaussian_log_density(z[..., None], up[0][..., None], up[1][..., None])
               + distributions.gaussian_log_density(z[..., None], prior[0][..., None], prior[1][..., None])
               - distributions.gaussian_log_density(z[..., None], mean[..., None], std[..., None]) for z in zs]
    per_dim = np.stack([p.numpy() for p in per_dim])  # [5 draws, 4, 3]
    np.testing.assert_allclose(per_dim, np.broadcast_to(per_dim[:1], per_dim.shape), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dim", [1, 4])
def test_standard_normal_prior_has_event_shape_dim(dim):
    prior = distributions.standard_normal(dim)
    assert prior.event_shape == [dim] and prior.batch_shape == []
