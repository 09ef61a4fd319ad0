"""Model-dependent evaluation: IWAE log weights of every model kind agree with its ELBO and bound it."""

import numpy as np
import pytest

from vlae_tf import presets, visualize
from vlae_tf.evaluation import model_metrics
from vlae_tf.models import HVAE, VAE, VLAE

CLASSES = {"vlae": VLAE, "hvae": HVAE, "vae": VAE}


def tiny_model(kind, **overrides):
    config = presets.get("shapes", **{"model.kind": kind, "model.image_shape": (16, 16, 3),
                                      "model.conv_channels": (4, 8), "model.dense_units": 16, **overrides})
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
    standard_error = np.sqrt(log_w.var(axis=0) / 400 + elbos.var(axis=0) / 40)
    assert np.all(np.abs(log_w.mean(axis=0) - elbos.mean(axis=0)) < 5 * standard_error + 1e-4 * np.abs(elbos.mean(0)))


@pytest.mark.parametrize("kind", ["vlae", "hvae", "vae"])
def test_iwae_is_at_least_the_elbo_and_grows_with_k(kind):
    model = tiny_model(kind)
    x = images(8)
    bounds = {k: model_metrics.importance_weighted_bounds(model, x, k, seed=3, decodes_per_call=64)
              for k in (1, 10, 100)}
    for result in bounds.values():
        assert np.all(result["iwae"] >= result["elbo"] - 1e-6)
    np.testing.assert_allclose(bounds[1]["iwae"], bounds[1]["elbo"], rtol=1e-9)
    means = [bounds[k]["iwae"].mean() for k in (1, 10, 100)]
    assert means[0] <= means[1] + 0.05 and means[1] <= means[2] + 0.05, means


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
