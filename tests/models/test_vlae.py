"""The VLAE model: shapes and dtypes for every preset, API semantics, combine modes, every rung logged.

Config and .keras round trips, mixed precision and per-rung KL shapes are in ``test_every_model.py``.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import vlae_tf
from tests.tiny_configs import tiny_config, tiny_images
from tests.tolerances import binomial_bound

PRESETS = ["shapes", "mnist", "svhn", "celeba", "dsprites", "shapes3d"]


def _normal_cdf(t):
    return 0.5 * math.erfc(-t / math.sqrt(2.0))


def tiny_vlae(**overrides):
    keras.utils.set_random_seed(0)
    return vlae_tf.VLAE(tiny_config(**overrides))


@pytest.mark.parametrize("preset", PRESETS)
def test_shapes_and_dtypes_for_every_preset(preset):
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE.from_preset(preset)
    cfg = model.model_config
    x = tiny_images(3, shape=cfg.image_shape)
    codes = model.encode(x)
    assert [tuple(m.shape) for m, _ in codes] == [(3, d) for d in cfg.latent_dims]
    assert all(m.dtype == tf.float32 and s.dtype == tf.float32 and np.all(s.numpy() > 0) for m, s in codes)
    recon = model.reconstruct(x)
    assert recon.shape == (3,) + cfg.image_shape and recon.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(recon)) and float(tf.reduce_max(recon)) <= 1.0
    decoded = model.decode([m for m, _ in codes])
    np.testing.assert_allclose(decoded.numpy(), recon.numpy(), atol=1e-6)
    assert model.generate(2, seed=[0, 1]).shape == (2,) + cfg.image_shape


def test_decode_draws_missing_rungs_from_the_prior_and_seed_makes_it_reproducible():
    model = tiny_vlae()
    z2 = np.zeros((4, 3), "float32")
    a = model.decode([None, z2, None], seed=[1, 2]).numpy()
    b = model.decode([None, z2, None], seed=[1, 2]).numpy()
    c = model.decode([None, z2, None], seed=[3, 4]).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0
    with pytest.raises(ValueError, match="one code .* per rung: got 2"):
        model.decode([None, z2])
    with pytest.raises(ValueError, match="num_samples"):
        model.decode([None, None, None])


def assert_every_rung_reaches_the_pixels(model):
    """Changing any one rung's code (3 dims, rungs of the tiny config) changes the decoded image."""
    base = [np.zeros((2, 3), "float32")] * 3
    reference = model.decode(base).numpy()
    for rung in range(3):
        moved = list(base)
        moved[rung] = np.full((2, 3), 3.0, "float32")
        assert np.abs(model.decode(moved).numpy() - reference).max() > 1e-4, rung


def test_every_rung_owns_its_parts_and_injects_its_code():
    model = tiny_vlae(**{"model.broadcast_rungs": 1})
    assert [r.level for r in model.rungs] == [1, 2, 3] and model.rungs[-1].top
    assert [r.injection for r in model.rungs] == ["broadcast", "dense", "none"]
    assert all(r.q.latent_dim == 3 for r in model.rungs)
    assert_every_rung_reaches_the_pixels(model)


@pytest.mark.parametrize("combine", ["concat", "add", "gated_add"])
def test_combine_modes(combine):
    model = tiny_vlae(**{"model.combine": combine})
    g, v = tf.fill([2, 4, 4, 16], 2.0), tf.fill([2, 4, 4, 16], 3.0)
    out = model.rungs[1].combine([g, v]).numpy()
    expected = {"concat": np.concatenate([g, v], -1), "add": g + v, "gated_add": g + 0.1 * v}[combine]
    np.testing.assert_allclose(out, expected, rtol=1e-6)  # the gate starts at 0.1, as in the original


@pytest.mark.parametrize("late", [False, True])
def test_film_scales_and_shifts_each_feature_by_the_code(late):
    model = tiny_vlae(**{"model.combine": "film", "model.broadcast_rungs": 1, "model.late_broadcast": late})
    broadcast, dense = model.rungs[0], model.rungs[1]
    # v carries a scale and a shift per feature, linear in the last layer (either sign must be reachable).
    assert broadcast.v.target_shape[-1] == 2 * 8 and dense.v.target_shape == (4, 4, 32)
    assert not any(isinstance(layer, keras.layers.LeakyReLU) for layer in broadcast.v._stack)
    g = tf.reshape(tf.range(2 * 4 * 4 * 16, dtype=tf.float32), [2, 4, 4, 16]) / 100.0
    gamma, beta = tf.fill([2, 4, 4, 16], -0.5), tf.fill([2, 4, 4, 16], 3.0)
    out = dense.combine([g, tf.concat([gamma, beta], -1)]).numpy()
    np.testing.assert_allclose(out, g.numpy() * 0.5 + 3.0, rtol=1e-6)
    # A zero injection (what a zero fade gives) leaves g as it is.
    np.testing.assert_allclose(dense.combine([g, tf.zeros([2, 4, 4, 32])]).numpy(), g.numpy())
    with pytest.raises(ValueError, match="combine='film' joins features of 16 channels with an injection of 32"):
        dense.combine.build([(None, 4, 4, 16), (None, 4, 4, 16)])
    assert_every_rung_reaches_the_pixels(model)


def test_broadcast_posteriors_read_which_features_occur_not_where_or_how_often():
    model = tiny_vlae(**{"model.broadcast_rungs": 1, "model.broadcast_posteriors": True})
    pooled, flat = model.rungs[0].q, model.rungs[1].q
    assert pooled.pooled and not flat.pooled
    rng = np.random.default_rng(0)
    pixels = rng.normal(size=(2, 64, 8)).astype("float32")
    pixels[:, 1] = pixels[:, 0]  # a region of two pixels
    # The same feature vectors at other places, and the two-pixel region shrunk to one while another grows into
    # its place: the same set of vectors, so the pooled head gives the same code, bit for bit; a flattened head
    # (the original's) does not.
    moved = pixels[:, rng.permutation(64)]
    region = np.flatnonzero(np.all(moved[0] == pixels[0, 0], axis=-1))
    moved[:, region[0]] = pixels[:, 2]
    h, moved = pixels.reshape(2, 8, 8, 8), moved.reshape(2, 8, 8, 8)
    for a, b in zip(pooled(tf.constant(h)), pooled(tf.constant(moved))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    flat_head = vlae_tf.layers.GaussianHead(3, spatial=True, filters=8)
    assert not np.allclose(flat_head(tf.constant(h))[0].numpy(), flat_head(tf.constant(moved))[0].numpy())
    assert_every_rung_reaches_the_pixels(model)
    config = keras.saving.serialize_keras_object(model.rungs[0])
    assert config["config"]["pooled_posterior"] is True


def test_adain_sets_each_features_mean_and_spread_from_the_code():
    model = tiny_vlae(**{"model.combine": "adain,film"})
    adain = model.rungs[0]
    assert adain.combine.mode == "adain" and adain.v.linear_output and adain.v.target_shape == (8, 8, 16)
    rng = np.random.default_rng(0)
    g = tf.constant(rng.normal(5.0, 3.0, (2, 8, 8, 8)), tf.float32)
    gamma, beta = tf.fill([2, 8, 8, 8], 1.0), tf.fill([2, 8, 8, 8], -2.0)
    out = adain.combine([g, tf.concat([gamma, beta], -1)]).numpy()
    # Whatever g's statistics, each image's channel comes out with mean beta and spread 1 + gamma.
    np.testing.assert_allclose(out.mean(axis=(1, 2)), -2.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 2.0, rtol=1e-3)  # epsilon 1e-3 against a variance of 9
    shifted = adain.combine([g * 4.0 + 7.0, tf.concat([gamma, beta], -1)]).numpy()
    np.testing.assert_allclose(shifted, out, atol=1e-3)  # an affine change of g's channel does not get through
    assert_every_rung_reaches_the_pixels(model)


def test_denoising_corrupts_the_input_only_in_training():
    model = tiny_vlae(**{"model.salt_pepper": 0.5, "model.input_noise": 0.1})
    x = np.full((2, 16, 16, 3), 0.5, "float32")
    corrupted = model.corrupt(tf.constant(x)).numpy()
    # A pixel moves by more than 0.3 if it is flipped (probability 0.5) to 0 or 1 and its N(0, 0.1) noise does
    # not pull it back by 0.2 (probability Phi(2)), or if it is kept and the noise alone exceeds 0.3
    # (probability 2 (1 - Phi(3))). The observed rate over the pixels is binomial around that.
    expected = 0.5 * _normal_cdf(2.0) + 0.5 * 2.0 * (1.0 - _normal_cdf(3.0))
    moved = np.mean(np.abs(corrupted - x) > 0.3)
    assert abs(moved - expected) < binomial_bound(expected, x.size), (moved, expected)
    recon_cost = model.compute_terms(x, training=False, step=0)["recon"]
    assert np.all(np.isfinite(recon_cost.numpy()))


def test_train_step_logs_every_rung():
    model = tiny_vlae(**{"model.latent_dims": (2, 2, 2, 2), "model.conv_channels": (4, 4, 4)})
    model.compile()
    history = model.fit(tiny_images(8, seed=2), batch_size=4, epochs=1, verbose=0).history
    assert {"loss", "elbo", "recon", "kl", "kl/rung_1", "kl/rung_4"} <= set(history)
