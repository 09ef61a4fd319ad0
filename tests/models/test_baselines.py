"""The HVAE and VAE baselines: shapes, the Markov structure, one flat rung, a fit run that reloads.

Config and .keras round trips, mixed precision and per-rung KL shapes are in ``test_every_model.py``.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_configs import tiny_config, tiny_images
from vlae_tf import distributions
from vlae_tf.io import run_model
from vlae_tf.models import HVAE, LVAE, MODEL_CLASSES, VAE, VLAE
from vlae_tf.training.keras_fit import run_fit


def build(kind, **overrides):
    keras.utils.set_random_seed(0)
    return {cls.kind: cls for cls in MODEL_CLASSES}[kind](tiny_config(kind, **overrides))


def test_every_kind_has_a_class():
    assert {cls.kind for cls in MODEL_CLASSES} == {"vlae", "hvae", "lvae", "vae"}
    keras.utils.set_random_seed(0)
    assert isinstance(run_model.build_model(tiny_config("hvae")), HVAE)
    assert isinstance(run_model.build_model(tiny_config("lvae")), LVAE)
    assert isinstance(run_model.build_model(tiny_config("vae")), VAE)


@pytest.mark.parametrize("cls", [HVAE, LVAE, VAE])
@pytest.mark.parametrize("preset", ["shapes", "mnist"])
def test_shapes_and_dtypes(cls, preset):
    keras.utils.set_random_seed(0)
    model = cls.from_preset(preset)
    cfg = model.model_config
    x = tiny_images(3, shape=cfg.image_shape)
    codes = model.encode(x)
    assert [tuple(m.shape) for m, _ in codes] == [(3, d) for d in cfg.latent_dims]
    assert all(m.dtype == tf.float32 and np.all(s.numpy() > 0) for m, s in codes)
    recon = model.reconstruct(x)
    assert recon.shape == (3,) + cfg.image_shape and recon.dtype == tf.float32
    np.testing.assert_allclose(model.decode([m for m, _ in codes]).numpy(), recon.numpy(), atol=1e-6)
    assert model.generate(2, seed=[0, 1]).shape == (2,) + cfg.image_shape


def test_vae_has_one_rung_of_the_total_latent_size():
    model = build("vae")  # the shapes preset's 3 rungs of 3
    assert model.num_rungs == 1 and model.model_config.latent_dims == (9,)
    assert model.term_names == ["loss", "elbo", "recon", "kl", "kl/rung_1"]
    # The ladder keeps its three rungs; only the top one has a posterior head.
    assert [r.q is None for r in model.rungs] == [True, True, False]
    assert model.decode([np.zeros((2, 9), "float32")]).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="one code .* per rung: got 3"):
        model.decode([None, None, None], num_samples=2)
    with pytest.raises(ValueError, match="one beta"):
        VAE(tiny_config("vae", **{"model.beta": (1.0, 2.0, 3.0)}))


@pytest.mark.parametrize("kind", ["hvae", "lvae"])
def test_chain_models_pixels_see_only_the_first_rung(kind):
    model = build(kind)
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
    z2 = model.prior(2, zero[2])[0]
    z1_mean = model.prior(1, z2)[0]
    np.testing.assert_allclose(model.decode_noise(zero).numpy(), model.decode([z1_mean, None, None]).numpy(),
                               atol=1e-6)


def test_hvae_kl_terms_match_their_definition():
    model = build("hvae")
    x = tiny_images()
    out = model._forward(x)
    (m1, s1), (m3, s3) = out["posteriors"][0], out["posteriors"][2]
    z1, p1 = out["z_per_rung"][0], model.prior(1, out["z_per_rung"][1])
    expected = distributions.gaussian_log_density(z1, m1, s1) - distributions.gaussian_log_density(z1, *p1)
    np.testing.assert_allclose(out["kl_per_rung"][0].numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["kl_per_rung"][2].numpy(), distributions.kl_to_standard_normal(m3, s3).numpy(),
                               rtol=1e-5)
    # encode follows the chain of means: q(z_2 | z_1 = mean_1)
    codes = model.encode(x)
    np.testing.assert_allclose(codes[1][0].numpy(), model.posteriors[0](codes[0][0])[0].numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", ["hvae", "lvae", "vae"])
def test_fit_run_writes_a_run_folder_that_reloads(tmp_path, kind):
    keras.utils.set_random_seed(0)
    config = tiny_config(kind, **{"data.num_train": 64, "data.num_test": 32, "data.batch_size": 32})
    metrics = run_fit(config, str(tmp_path), steps=2, verbose=0)
    assert np.isfinite(metrics["elbo"]) and f"kl/rung_{1 if kind == 'vae' else 3}" in metrics
    assert json.loads((tmp_path / "config.json").read_text())["model"]["kind"] == kind
    loaded = run_model.load_model(tmp_path)
    assert loaded.kind == kind and not isinstance(loaded, VLAE)
