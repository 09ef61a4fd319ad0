"""One check every model passes (as keras-hub's ``run_backbone_test``): ``run_model_test(cls, config)``.

It checks, on a tiny seeded model:
- config round trips: the model's ``get_config``/``from_config``, and for every vlae_tf layer inside it a
  ``get_config`` holding exactly its constructor arguments that rebuilds the same layer;
- ``.keras`` save/reload after a training step: identical codes, likelihood parameters and images, the
  optimizer restored, and the same value at every position of ``model.weights`` (checkpoints save by
  position);
- per-rung KL terms of shape [B], in ``compute_terms`` and in the ``train_step`` metrics;
- ELBO = E_q[log w] for single-sample log weights (proper likelihoods only);
- under ``mixed_float16`` and ``mixed_bfloat16``: features in the compute dtype, weights, codes, likelihood
  parameters, distributions and loss terms in float32.
"""

import inspect

import keras
import numpy as np
import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.evaluation import model_metrics
from tests.tiny_configs import tiny_images
from tests.tolerances import Z

BASE_LAYER_KEYS = {"name", "trainable", "dtype"}  # what keras.layers.Layer.get_config adds for every layer
ELBO_DRAWS, LOG_WEIGHT_DRAWS = 30, 300


def build(cls, config, seed=0):
    keras.utils.set_random_seed(seed)
    return cls(config)


def run_model_test(cls, config, tmp_path, batch=4):
    x = tiny_images(batch, seed=1, shape=config.model.image_shape)
    model = build(cls, config)
    check_config_round_trip(model)
    check_save_and_reload(model, x, str(tmp_path / "model.keras"))
    check_kl_per_rung(model, x)
    if config.model.likelihood in ("bernoulli", "gaussian"):
        check_elbo_is_mean_log_weight(model, x)
    for policy in ("mixed_float16", "mixed_bfloat16"):
        check_mixed_precision(cls, config, x, policy)


def check_config_round_trip(model):
    clone = type(model).from_config(model.get_config())
    assert clone.config == model.config and clone.get_config() == model.get_config()
    ours = [layer for layer in model._flatten_layers(include_self=False) if type(layer).__module__.startswith("vlae_tf")]
    assert ours, "the model holds no vlae_tf layers"
    for layer in ours:
        config = layer.get_config()
        params = {name for name, p in inspect.signature(type(layer).__init__).parameters.items()
                  if name != "self" and p.kind is not p.VAR_KEYWORD}
        assert set(config) - BASE_LAYER_KEYS == params, f"{type(layer).__name__}.get_config: {sorted(config)}"
        assert type(layer).from_config(config).get_config() == config


def _likelihood_params(model, x):
    """The likelihood's parameters at the posterior means: (raw [B, H, W, C], log scale or None)."""
    return model.likelihood_params([mean for mean, _ in model.encode(x)])


def check_save_and_reload(model, x, path):
    model.compile()
    model.train_on_batch(x)  # moves the weights off their initial values and gives the optimizer state
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.config == model.config
    assert int(loaded.optimizer.iterations) == 1
    for (m1, s1), (m2, s2) in zip(model.encode(x), loaded.encode(x)):
        np.testing.assert_array_equal(m1.numpy(), m2.numpy())
        np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    for a, b in zip(_likelihood_params(model, x), _likelihood_params(loaded, x)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())
    assert len(model.weights) == len(loaded.weights)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def check_kl_per_rung(model, x):
    batch = x.shape[0]
    out = model._forward(x)
    assert len(out["kl_per_rung"]) == model.num_rungs == len(out["z_per_rung"]) == len(out["posteriors"])
    terms = model.compute_terms(x, step=0)
    for rung in range(1, model.num_rungs + 1):
        assert terms[f"kl/rung_{rung}"].shape == (batch,) and terms[f"kl/rung_{rung}"].dtype == tf.float32
    np.testing.assert_allclose(terms["kl"].numpy(), sum(terms[f"kl/rung_{r}"] for r in range(1, model.num_rungs + 1)),
                               rtol=1e-5)
    np.testing.assert_allclose(terms["elbo"].numpy(), -(terms["recon"] + terms["kl"]).numpy(), rtol=1e-5)
    metrics = model.train_on_batch(x, return_dict=True)
    assert set(model.term_names) <= set(metrics) and all(np.isfinite(metrics[n]) for n in model.term_names)


def check_elbo_is_mean_log_weight(model, x):
    """E_q[log w] with one sample per weight is the ELBO: the log weights and the training objective use the
    same densities. Both sides are Monte Carlo means; the bound is Z standard errors of their difference
    (their variances over the draws, divided by the number of draws), per image, plus float32 rounding: each
    side sums n = pixels + latent units terms of one sign and then averages its draws, and a float32 sum of
    m terms is off by at most (m - 1) * 2^-24 of the sum of their magnitudes (about |ELBO|), so the two
    sides may differ by 2 * (n + draws) * 2^-24 * |ELBO| when the posterior is nearly deterministic."""
    log_w = model_metrics.log_weights(model, x, LOG_WEIGHT_DRAWS, [0, 1]).numpy()  # [K, B], each a K=1 weight
    assert log_w.shape == (LOG_WEIGHT_DRAWS, x.shape[0]) and log_w.dtype == np.float32
    elbos = np.stack([model.compute_terms(x, step=0)["elbo"].numpy() for _ in range(ELBO_DRAWS)])  # [draws, B]
    standard_error = np.sqrt(log_w.var(axis=0) / LOG_WEIGHT_DRAWS + elbos.var(axis=0) / ELBO_DRAWS)
    gap = np.abs(log_w.mean(axis=0) - elbos.mean(axis=0))
    terms = int(np.prod(x.shape[1:])) + sum(model.config.model.latent_dims)
    rounding = 2 * (terms + LOG_WEIGHT_DRAWS) * 2.0 ** -24 * np.abs(elbos.mean(axis=0))
    assert np.all(gap < Z * standard_error + rounding), (gap, standard_error, rounding)


def check_mixed_precision(cls, config, x, policy):
    compute = policy.split("_")[1]
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build(cls, config)
        assert all(h.dtype == compute for h in model.features(x))
        assert all(w.dtype == "float32" for w in model.weights)
        codes = model.encode(x)
        assert all(m.dtype == tf.float32 and s.dtype == tf.float32 for m, s in codes)
        params, log_scale = model.likelihood_params([m for m, _ in codes])
        assert params.dtype == tf.float32 and (log_scale is None or log_scale.dtype == tf.float32)
        if config.model.likelihood != "l1":
            assert distributions.image_likelihood(config.model.likelihood, params, log_scale).dtype == tf.float32
        assert model(x).dtype == tf.float32
        terms = model.compute_terms(x, training=True, step=0)
        assert all(v.dtype == tf.float32 and np.all(np.isfinite(v.numpy())) for v in terms.values())
    finally:
        keras.mixed_precision.set_global_policy("float32")
