"""Analytic checks of the objective against NumPy on tiny batches (the KLs: test_distributions.py)."""

import numpy as np
import pytest
import tensorflow as tf

from vlae_tf import losses
from tests.tolerances import Z, mean_and_standard_error
from vlae_tf.config import ModelConfig


def _batch(seed=0, shape=(2, 4, 4, 1)):
    rng = np.random.default_rng(seed)
    images = (rng.uniform(size=shape) > 0.5).astype("float32")
    params = rng.normal(size=shape).astype("float32")
    return images, params


def test_bernoulli_terms_match_numpy():
    images, logits = _batch()
    config = ModelConfig(image_shape=(4, 4, 1), latent_dims=(2, 3), conv_channels=(4,), beta=(1.0, 4.0),
                         warmup_steps=2000.0)
    kls = [np.array([0.5, 1.0], "float32"), np.array([2.0, 0.0], "float32")]
    terms = losses.loss_terms(config, images, logits, kls, [None, None], step=1000)
    p = 1 / (1 + np.exp(-logits))
    recon = -np.sum(images * np.log(p) + (1 - images) * np.log(1 - p), axis=(1, 2, 3))
    weight = 1 - np.exp(-1000 / 2000)
    np.testing.assert_allclose(terms["recon"].numpy(), recon, rtol=1e-5)
    np.testing.assert_allclose(terms["kl"].numpy(), kls[0] + kls[1], rtol=1e-6)
    np.testing.assert_allclose(terms["elbo"].numpy(), -(recon + kls[0] + kls[1]), rtol=1e-5)
    np.testing.assert_allclose(terms["loss"].numpy(), recon + weight * (1.0 * kls[0] + 4.0 * kls[1]), rtol=1e-5)
    np.testing.assert_allclose(terms["kl/rung_2"].numpy(), kls[1])
    assert all(terms[k].dtype == tf.float32 for k in ("loss", "elbo", "recon", "kl", "kl/rung_1"))


def test_gaussian_and_l1_reconstruction_match_numpy():
    images, raw = _batch(1)
    mean = 1 / (1 + np.exp(-raw))
    log_scale = np.array([-1.0], "float32")
    sigma = np.exp(log_scale)
    expected = -np.sum(-0.5 * ((images - mean) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi),
                       axis=(1, 2, 3))
    got = losses.reconstruction_cost("gaussian", images, raw, log_scale)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    l1 = losses.reconstruction_cost("l1", images, raw, l1_scale=3.0)
    np.testing.assert_allclose(l1.numpy(), 3.0 * np.abs(images - mean).sum(axis=(1, 2, 3)), rtol=1e-5)


def test_warmup_weight():
    assert losses.kl_weight(0, 2000.0).numpy() == pytest.approx(0.0)
    assert losses.kl_weight(2000, 2000.0).numpy() == pytest.approx(1 - np.exp(-1), rel=1e-6)
    assert losses.kl_weight(10, 0.0).numpy() == pytest.approx(1.0)


MMD_SAMPLES, MMD_REPLICATES = 400, 20


def _expected_biased_mmd(shift, n=MMD_SAMPLES, d=2):
    """E of the biased (V-statistic) MMD^2 between n draws of N(shift, I_d) and n of N(0, I_d), kernel
    exp(-|a - b|^2 / d). For a - b ~ N(m, 2 I_d), E exp(-|a - b|^2 / d) = 3^(-d/2) exp(-|m|^2 / (3 d)); the
    V-statistic's diagonal terms k(a, a) = 1 add (1 - 3^(-d/2)) / n for each of the two within-sample means."""
    within = 3.0 ** (-d / 2)
    across = within * np.exp(-np.sum(np.square(shift)) / (3 * d))
    return 2 * (within + (1 - within) / n) - 2 * across


def test_mmd_matches_its_expectation_for_prior_and_shifted_samples():
    # R independent replicates (fresh samples and fresh prior draws, stateless seeds); their mean must lie
    # within Z standard errors (the replicates' sd / sqrt(R)) of the analytic expectation: about 1/300 for
    # prior samples and 0.63 for samples shifted by (3, 3).
    for shift in (0.0, 3.0):
        replicates = [[losses.mmd_to_standard_normal(tf.random.stateless_normal([MMD_SAMPLES, 2], [3, r]) + shift,
                                                     tf.constant([1, r])).numpy()] for r in range(MMD_REPLICATES)]
        mean, standard_error = mean_and_standard_error(replicates)
        expected = _expected_biased_mmd([shift, shift])
        assert abs(mean - expected) < Z * standard_error, (shift, mean, expected, standard_error)


def test_mmd_regulariser_replaces_the_kl_in_the_loss():
    images, logits = _batch()
    config = ModelConfig(image_shape=(4, 4, 1), latent_dims=(2, 3), conv_channels=(4,), regularizer="mmd",
                         mmd_weight=10.0)
    zs = [tf.random.stateless_normal([2, 2], [0, 1]) + 5.0, tf.random.stateless_normal([2, 3], [0, 2])]
    terms = losses.loss_terms(config, images, logits, [tf.zeros(2), tf.zeros(2)], zs, step=0, mmd_seed=[5, 6])
    mmd = (losses.mmd_to_standard_normal(zs[0], [5, 6]) + losses.mmd_to_standard_normal(zs[1], [5, 6])).numpy()
    np.testing.assert_allclose(terms["loss"].numpy() - terms["recon"].numpy(), [10.0 * mmd] * 2, rtol=1e-4)
