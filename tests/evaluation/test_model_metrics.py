"""Model-dependent evaluation: IWAE log weights of every model kind agree with its ELBO and bound it."""

import keras
import numpy as np
import pytest

from tests.tiny_configs import tiny_config
from vlae_tf import visualize
from vlae_tf.evaluation import bounds, model_metrics
from vlae_tf.models import HVAE, VAE, VLAE

from tests.tolerances import Z, mean_and_standard_error

CLASSES = {"vlae": VLAE, "hvae": HVAE, "vae": VAE}
# Unit roundoff of float32: a sum of D float32 terms is exact to D * U * sum|terms| (Higham, Accuracy and
# Stability, eq. 4.4), the only allowance between two float32 computations of the same density.
FLOAT32_ROUNDOFF = 2.0 ** -24


def tiny_model(kind, seed=0, **overrides):
    config = tiny_config(kind, **{"model.conv_channels": (4, 8), "model.dense_units": 16, **overrides})
    keras.utils.set_random_seed(seed)  # the initial weights, whatever ran before in this process
    return CLASSES[kind](config)


def images(n=6, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("kind", ["vlae", "hvae", "vae"])
def test_mean_log_weight_is_the_models_elbo(kind):
    """E_q[log w] = E_q[log p(x|z)] - KL: the log weights and the training objective use the same densities."""
    model = tiny_model(kind, **{"model.likelihood": "gaussian"})
    x = images()
    log_w = model_metrics.log_weights(model, x, 400, [0, 1]).numpy()
    assert log_w.shape == (400, 6) and np.all(np.isfinite(log_w))
    elbos = np.stack([model.compute_terms(x, step=0)["elbo"].numpy() for _ in range(40)])  # [40, B]
    # Two independent Monte Carlo means of the same expectation: their difference has standard error
    # sqrt(var(log w) / 400 + var(elbo) / 40) per image, plus float32 rounding of each D-term density sum.
    standard_error = np.sqrt(log_w.var(axis=0, ddof=1) / 400 + elbos.var(axis=0, ddof=1) / 40)
    rounding = 2 * x[0].size * FLOAT32_ROUNDOFF * np.abs(elbos.mean(axis=0))
    assert np.all(np.abs(log_w.mean(axis=0) - elbos.mean(axis=0)) < Z * standard_error + rounding)


@pytest.mark.parametrize("kind", ["vlae", "hvae", "vae"])
def test_iwae_is_at_least_the_elbo_and_grows_with_k(kind):
    model = tiny_model(kind)
    x = images(8)
    # Jensen, for every draw: log mean w >= mean log w on the same samples (float64 rounding only).
    for k in (1, 10, 100):
        result = model_metrics.importance_weighted_bounds(model, x, k, seed=3, decodes_per_call=64)
        assert np.all(result["iwae"] >= result["elbo"] - 1e-9 * np.abs(result["elbo"]))
        if k == 1:
            np.testing.assert_allclose(result["iwae"], result["elbo"], rtol=1e-12)
    # E[L_K] grows with K only in expectation, so compare means, not draws. For each K, 1,000 fresh log
    # weights per image (a separate stateless seed: the three estimates are independent) cut into 1000/K
    # disjoint blocks give 1000/K independent replicates of L_K; tolerances.mean_and_standard_error turns
    # their spread into the standard error of the mean over replicates and images.
    estimates = {}
    for i, k in enumerate((1, 10, 100)):
        log_w = model_metrics.log_weights(model, x, 1000, [11, i]).numpy()  # [1000, B]
        blocks = log_w.reshape(1000 // k, k, -1).transpose(1, 0, 2).reshape(k, -1)  # [K, replicates * B]
        estimates[k] = mean_and_standard_error(bounds.iwae_bound(blocks).reshape(1000 // k, -1))
    (m1, s1), (m10, s10), (m100, s100) = estimates[1], estimates[10], estimates[100]
    # Not significantly decreasing at any step, and significantly growing from K=1 to K=100 (an "IWAE"
    # that returned the ELBO would fail here). Measured: the gain is >= 18 SE for all three kinds.
    assert m10 - m1 > -Z * np.hypot(s1, s10) and m100 - m10 > -Z * np.hypot(s10, s100), estimates
    assert m100 - m1 > Z * np.hypot(s1, s100), estimates
    # The chunked, seeded estimator agrees with the blocked one: one replicate per image against the mean
    # of 10, so the difference of means over images has standard error s100 * sqrt(10 + 1).
    chunked = model_metrics.importance_weighted_bounds(model, x, 100, seed=5, decodes_per_call=64)
    assert abs(chunked["iwae"].mean() - m100) < Z * s100 * np.sqrt(11), (chunked["iwae"].mean(), m100)


def test_bounds_are_reproducible_and_chunking_does_not_change_them():
    model = tiny_model("vlae")
    x = images(4)
    a = model_metrics.importance_weighted_bounds(model, x, 20, seed=1, decodes_per_call=8)
    b = model_metrics.importance_weighted_bounds(model, x, 20, seed=1, decodes_per_call=8)
    np.testing.assert_array_equal(a["iwae"], b["iwae"])
    c = model_metrics.importance_weighted_bounds(model, x, 20, seed=2, decodes_per_call=8)
    assert np.abs(a["iwae"] - c["iwae"]).max() > 0


def test_l1_distortion_has_no_bound():
    with pytest.raises(ValueError, match="no importance-weighted bound"):
        model_metrics.log_weights(tiny_model("vlae", **{"model.likelihood": "l1"}), images(2), 2, [0, 0])


def test_posterior_codes_and_elbo_terms_are_batched_means():
    model = tiny_model("hvae")
    x = images(7)
    means, stddevs = model_metrics.posterior_codes(model, x, batch_size=3)
    direct = model.encode(x)
    for (m, s), mb, sb in zip(direct, means, stddevs):
        np.testing.assert_allclose(mb, m.numpy(), atol=1e-5)
        np.testing.assert_allclose(sb, s.numpy(), atol=1e-5)
    terms = model_metrics.elbo_terms(model, x, batch_size=3)
    assert set(terms) >= {"elbo", "recon", "kl", "kl/rung_1", "kl/rung_3"}
    assert terms["elbo"] == pytest.approx(-(terms["recon"] + terms["kl"]), rel=1e-6)


def test_hvae_traversals_vary_the_ancestral_noise():
    model = tiny_model("hvae")
    generator_fn = model_metrics.traversal_generator(model)
    assert generator_fn.latent_dims == (3, 3, 3)
    grid = visualize.traversal_grid(generator_fn, 3, num_rows=2, num_cols=3)
    assert grid.shape == (32, 48, 3)
    # with the top noise varied and the rest fixed, the pictures change (the top reaches the pixels)
    columns = [grid[:16, 16 * c:16 * (c + 1)] for c in range(3)]
    assert max(np.abs(columns[0] - c).max() for c in columns[1:]) > 0
