"""The HVAE and VAE baselines: shapes, the Markov structure, one flat rung, save/reload, a fit run."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from vlae_tf import presets, run_dir
from vlae_tf.models import HVAE, MODEL_CLASSES, VAE, VLAE
from vlae_tf.training.keras_fit import run_fit


def tiny(kind, **overrides):
    base = {"model.kind": kind, "model.image_shape": (16, 16, 3), "model.conv_channels": (8, 16),
            "model.dense_units": 32}
    return presets.get("shapes", **{**base, **overrides})


def images(n=4, shape=(16, 16, 3), seed=0):
    return np.random.default_rng(seed).uniform(size=(n,) + shape).astype("float32")


def test_every_kind_has_a_class():
    assert {cls.kind for cls in MODEL_CLASSES} == {"vlae", "hvae", "vae"}
    assert isinstance(run_dir.build_model(tiny("hvae")), HVAE)
    assert isinstance(run_dir.build_model(tiny("vae")), VAE)


@pytest.mark.parametrize("cls", [HVAE, VAE])
@pytest.mark.parametrize("preset", ["shapes", "mnist"])
def test_shapes_and_dtypes(cls, preset):
    model = cls.from_preset(preset)
    cfg = model.model_config
    x = images(3, cfg.image_shape)
    codes = model.encode(x)
    assert [tuple(m.shape) for m, _ in codes] == [(3, d) for d in cfg.latent_dims]
    assert all(m.dtype == tf.float32 and np.all(s.numpy() > 0) for m, s in codes)
    recon = model.reconstruct(x)
    assert recon.shape == (3,) + cfg.image_shape and recon.dtype == tf.float32
    np.testing.assert_allclose(model.decode([m for m, _ in codes]).numpy(), recon.numpy(), atol=1e-6)
    assert model.generate(2, seed=[0, 1]).shape == (2,) + cfg.image_shape
    terms = model.compute_terms(x, step=0)
    assert {"loss", "elbo", "recon", "kl"} <= set(terms)
    np.testing.assert_allclose(terms["elbo"].numpy(), -(terms["recon"] + terms["kl"]).numpy(), rtol=1e-6)


def test_vae_has_one_rung_of_the_total_latent_size():
    model = VAE(tiny("vae"))  # the shapes preset's 3 rungs of 3
    assert model.num_rungs == 1 and model.model_config.latent_dims == (9,)
    assert model.term_names == ["loss", "elbo", "recon", "kl", "kl/rung_1"]
    out = model._forward(images(), training=False)
    assert len(out["kl_per_rung"]) == 1 and out["kl_per_rung"][0].shape == (4,)
    assert model.decode([np.zeros((2, 9), "float32")]).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="one code .* per rung: got 3"):
        model.decode([None, None, None], num_samples=2)
    with pytest.raises(ValueError, match="one beta"):
        VAE(tiny("vae", **{"model.beta": (1.0, 2.0, 3.0)}))


def test_hvae_is_markov_pixels_see_only_the_first_rung():
    model = HVAE(tiny("hvae"))
    z1 = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    a = model.decode([z1, None, None], seed=[0, 1]).numpy()
    b = model.decode([z1, np.full((4, 3), 5.0, "float32"), np.zeros((4, 3), "float32")]).numpy()
    np.testing.assert_array_equal(a, b)
    # Missing lower rungs are drawn from p(z_l | z_{l+1}): the top code changes the picture.
    c = model.decode([None, None, np.zeros((4, 3), "float32")], seed=[0, 1]).numpy()
    d = model.decode([None, None, np.full((4, 3), 3.0, "float32")], seed=[0, 1]).numpy()
    assert np.abs(c - d).max() > 0
    # decode_noise: z_L = noise_L, so zero noise everywhere equals the chain of prior means from z_L = 0.
    zero = [np.zeros((2, 3), "float32")] * 3
    top = np.zeros((2, 3), "float32")
    z2 = model.prior(2, top)[0]
    z1_mean = model.prior(1, z2)[0]
    np.testing.assert_allclose(model.decode_noise(zero).numpy(), model.decode([z1_mean, None, None]).numpy(),
                               atol=1e-6)


def test_hvae_kl_terms_match_their_definition():
    model = HVAE(tiny("hvae"))
    x = images()
    out = model._forward(x)
    (m1, s1), (m3, s3) = out["posteriors"][0], out["posteriors"][2]
    p1 = model.prior(1, out["z_per_rung"][1])
    from vlae_tf import distributions as d

    expected = d.gaussian_log_density(out["z_per_rung"][0], m1, s1) - d.gaussian_log_density(out["z_per_rung"][0], *p1)
    np.testing.assert_allclose(out["kl_per_rung"][0].numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["kl_per_rung"][2].numpy(), d.kl_to_standard_normal(m3, s3).numpy(), rtol=1e-5)
    # encode follows the chain of means
    codes = model.encode(x)
    np.testing.assert_allclose(codes[1][0].numpy(), model.posterior(2, codes[0][0])[0].numpy(), atol=1e-6)


@pytest.mark.parametrize("cls", [HVAE, VAE])
def test_keras_save_and_reload_give_identical_outputs(tmp_path, cls):
    model = cls(tiny(cls.kind, **{"model.likelihood": "gaussian"}))
    model.compile()
    x = images()
    model.fit(x, epochs=1, batch_size=2, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is cls and loaded.config == model.config
    for (m1, s1), (m2, s2) in zip(model.encode(x), loaded.encode(x)):
        np.testing.assert_array_equal(m1.numpy(), m2.numpy())
        np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())


def test_hvae_under_mixed_precision_keeps_float32_outputs():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = HVAE(tiny("hvae"))
    assert all(w.dtype == "float32" for w in model.weights)
    terms = model.compute_terms(images(2), training=True, step=0)
    assert all(v.dtype == tf.float32 and np.all(np.isfinite(v.numpy())) for v in terms.values())
    assert model.log_weights(images(2), 3, [0, 1]).dtype == tf.float32


@pytest.mark.parametrize("kind", ["hvae", "vae"])
def test_fit_run_writes_a_run_folder_that_reloads(tmp_path, kind):
    config = tiny(kind, **{"data.num_train": 64, "data.num_test": 32, "data.batch_size": 32})
    metrics = run_fit(config, str(tmp_path), steps=2, verbose=0)
    assert np.isfinite(metrics["elbo"]) and f"kl/rung_{1 if kind == 'vae' else 3}" in metrics
    assert json.loads((tmp_path / "config.json").read_text())["model"]["kind"] == kind
    loaded = run_dir.load_model(tmp_path)
    assert loaded.kind == kind and not isinstance(loaded, VLAE)
