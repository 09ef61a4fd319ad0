"""The VLAE model: shapes and dtypes for every preset, mixed precision, API semantics, .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import vlae_tf
from vlae_tf import presets

PRESETS = ["shapes", "mnist", "svhn", "celeba", "dsprites", "shapes3d"]


def tiny(**overrides):
    base = {"model.image_shape": (16, 16, 3), "model.conv_channels": (8, 16), "model.dense_units": 32}
    return presets.get("shapes", **{**base, **overrides})


@pytest.mark.parametrize("preset", PRESETS)
def test_shapes_and_dtypes_for_every_preset(preset):
    model = vlae_tf.VLAE.from_preset(preset)
    cfg = model.model_config
    x = np.random.default_rng(0).uniform(size=(3,) + cfg.image_shape).astype("float32")
    codes = model.encode(x)
    assert [tuple(m.shape) for m, _ in codes] == [(3, d) for d in cfg.latent_dims]
    assert all(m.dtype == tf.float32 and s.dtype == tf.float32 and np.all(s.numpy() > 0) for m, s in codes)
    recon = model.reconstruct(x)
    assert recon.shape == (3,) + cfg.image_shape and recon.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(recon)) and float(tf.reduce_max(recon)) <= 1.0
    decoded = model.decode([m for m, _ in codes])
    np.testing.assert_allclose(decoded.numpy(), recon.numpy(), atol=1e-6)
    assert model.generate(2, seed=[0, 1]).shape == (2,) + cfg.image_shape


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_computes_in_low_precision_with_float32_weights_and_outputs(policy):
    keras.mixed_precision.set_global_policy(policy)
    model = vlae_tf.VLAE(tiny())
    x = np.random.default_rng(0).uniform(size=(2, 16, 16, 3)).astype("float32")
    compute = "bfloat16" if policy == "mixed_bfloat16" else "float16"
    assert all(h.dtype == compute for h in model.features(x))
    assert all(w.dtype == "float32" for w in model.weights)
    assert all(m.dtype == tf.float32 for m, _ in model.encode(x))
    assert model(x).dtype == tf.float32
    terms = model.compute_terms(x, training=True, step=0)
    assert all(v.dtype == tf.float32 and np.all(np.isfinite(v.numpy())) for v in terms.values())


def test_decode_draws_missing_rungs_from_the_prior_and_seed_makes_it_reproducible():
    model = vlae_tf.VLAE(tiny())
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


@pytest.mark.parametrize("combine", ["concat", "add", "gated_add"])
def test_keras_save_and_reload_give_identical_outputs(tmp_path, combine):
    model = vlae_tf.VLAE(tiny(**{"model.combine": combine, "model.likelihood": "gaussian"}))
    model.compile()
    x = np.random.default_rng(1).uniform(size=(4, 16, 16, 3)).astype("float32")
    model.fit(x, epochs=1, batch_size=2, verbose=0)  # moves the weights off their initial values
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.config == model.config
    for (m1, s1), (m2, s2) in zip(model.encode(x), loaded.encode(x)):
        np.testing.assert_array_equal(m1.numpy(), m2.numpy())
        np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())
    assert loaded.optimizer is not None and int(loaded.optimizer.iterations) == 2


def test_gated_add_gate_starts_at_a_tenth():
    model = vlae_tf.VLAE(tiny(**{"model.combine": "gated_add"}))
    for combine in model.combines:
        np.testing.assert_allclose(combine.gate.numpy(), 0.1)


def test_denoising_corrupts_the_input_only_in_training():
    model = vlae_tf.VLAE(tiny(**{"model.salt_pepper": 0.5, "model.input_noise": 0.1}))
    x = np.full((2, 16, 16, 3), 0.5, "float32")
    corrupted = model.corrupt(tf.constant(x)).numpy()
    assert np.mean(np.abs(corrupted - x) > 0.3) > 0.3  # about half the pixels flipped to 0 or 1
    recon_cost = model.compute_terms(x, training=False, step=0)["recon"]
    assert np.all(np.isfinite(recon_cost.numpy()))


def test_train_step_logs_every_rung():
    model = vlae_tf.VLAE(tiny(**{"model.latent_dims": (2, 2, 2, 2), "model.conv_channels": (4, 4, 4)}))
    model.compile()
    x = np.random.default_rng(2).uniform(size=(8, 16, 16, 3)).astype("float32")
    history = model.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert {"loss", "elbo", "recon", "kl", "kl/rung_1", "kl/rung_4"} <= set(history)
