"""The Ladder VAE: its posterior is the precision-weighted merge of the bottom-up Gaussian and the top-down
prior, its KLs are analytic against that prior, and it is reachable by preset name."""

import keras
import numpy as np

from tests.tiny_configs import tiny_config, tiny_images
from vlae_tf import distributions, presets
from vlae_tf.models import LVAE


def build(**overrides):
    keras.utils.set_random_seed(0)
    return LVAE(tiny_config("lvae", **overrides))


def test_from_preset_and_interface():
    keras.utils.set_random_seed(0)
    model = LVAE.from_preset("shapes_lvae")
    dims = presets.get("shapes").model.latent_dims
    assert model.kind == "lvae" and model.model_config.latent_dims == dims
    # Every rung has a bottom-up head; the generative model is the chain p(z_2 | z_3), p(z_1 | z_2).
    assert tuple(r.q.latent_dim for r in model.rungs) == dims and len(model.priors) == 2


def test_encode_is_the_top_down_merge_along_the_chain_of_means():
    model = build()
    x = tiny_images()
    codes = model.encode(x)
    ups = [rung.posterior(h) for rung, h in zip(model.rungs, model.features(x))]
    # Top rung: the bottom-up Gaussian itself.
    for a, b in zip(codes[2], ups[2]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    # Below: merged with the prior given the mean of the rung above.
    for rung in (2, 1):
        prior = model.prior(rung, codes[rung][0])
        merged = distributions.precision_weighted(ups[rung - 1], prior)
        for a, b in zip(codes[rung - 1], merged):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # The merged posterior is narrower than both of its factors.
    s_hat, s_p = ups[0][1].numpy(), model.prior(1, codes[1][0])[1].numpy()
    assert np.all(codes[0][1].numpy() <= np.minimum(s_hat, s_p) + 1e-7)


def test_kl_terms_are_analytic_against_the_top_down_prior():
    model = build()
    out = model._forward(tiny_images())
    zs, posteriors, kls = out["z_per_rung"], out["posteriors"], out["kl_per_rung"]
    for rung in (1, 2):
        expected = distributions.gaussian_kl(posteriors[rung - 1], model.prior(rung, zs[rung]))
        np.testing.assert_allclose(kls[rung - 1].numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        assert np.all(kls[rung - 1].numpy() >= -1e-5)
    np.testing.assert_allclose(kls[2].numpy(), distributions.kl_to_standard_normal(*posteriors[2]).numpy(), rtol=1e-6)


def test_log_weights_are_reproducible_from_their_seed():
    model = build()
    x = tiny_images(2)
    a = model.log_weights(x, 5, [3, 4]).numpy()
    np.testing.assert_array_equal(a, model.log_weights(x, 5, [3, 4]).numpy())
    assert a.shape == (5, 2) and np.all(np.isfinite(a))


def test_training_logs_a_kl_per_rung():
    model = build()
    model.compile()
    history = model.fit(tiny_images(8, seed=2), batch_size=4, epochs=1, verbose=0).history
    assert {"elbo", "kl/rung_1", "kl/rung_2", "kl/rung_3"} <= set(history)
    assert all(np.isfinite(history[f"kl/rung_{r}"][-1]) for r in (1, 2, 3))
