"""The ladder's layers: a rung's parts and their validation, the fade hook on the injection, the passes over
the rungs and the likelihood head."""

import math

import keras
import numpy as np
import pytest

from tests.tiny_configs import tiny_config, tiny_images
from vlae_tf.layers import LikelihoodHead, Rung, bottom_up, build_rungs, feature_shapes, make_rungs, top_down


def rungs(**overrides):
    keras.utils.set_random_seed(0)
    config = tiny_config(**overrides).model
    ladder = make_rungs(config, config.latent_dims, inject=True, top_code_dim=config.latent_dims[-1])
    build_rungs(ladder, (None,) + config.image_shape)
    return ladder


def codes(n=2, value=0.0):
    return [np.full((n, 3), value, "float32") for _ in range(3)]


def test_feature_shapes_and_the_two_passes():
    config = tiny_config().model
    assert feature_shapes(config) == [(8, 8, 8), (4, 4, 16)]
    ladder = rungs()
    hs = bottom_up(ladder, tiny_images(2))
    assert [tuple(h.shape) for h in hs] == [(2, 8, 8, 8), (2, 4, 4, 16), (2, 32)]
    assert tuple(top_down(ladder, codes()).shape) == (2, 16, 16, 8)  # g_1 keeps C_1; the head maps to pixels
    with pytest.raises(ValueError, match="head_dims has 2 entries; the ladder has 3 rungs"):
        make_rungs(config, (3, 3), inject=True, top_code_dim=3)


@pytest.mark.parametrize("combine", ["concat", "add", "gated_add", "film"])
def test_a_zero_fade_removes_the_rungs_code_and_a_unit_fade_changes_nothing(combine):
    ladder = rungs(**{"model.combine": combine})
    low, high = codes(value=0.0), codes(value=0.0)
    high[0] = np.full((2, 3), 4.0, "float32")
    off = [0.0, None, None]
    np.testing.assert_array_equal(top_down(ladder, low, off).numpy(), top_down(ladder, high, off).numpy())
    assert np.abs(top_down(ladder, low).numpy() - top_down(ladder, high).numpy()).max() > 0
    np.testing.assert_array_equal(top_down(ladder, high, [1.0, 1.0, 1.0]).numpy(), top_down(ladder, high).numpy())


def test_rung_validation_names_the_bad_value():
    with pytest.raises(ValueError, match="injection='tiled' is not valid for rung 1; choose one of none, dense"):
        Rung(1, (8, 8, 8), 8, latent_dim=3, code_dim=3, injection="tiled")
    with pytest.raises(ValueError, match="injection='dense' is not valid for rung 3"):
        Rung(3, (4, 4, 16), top=True, latent_dim=3, code_dim=3, injection="dense")
    with pytest.raises(ValueError, match="code_dim=0 must be > 0"):
        Rung(3, (4, 4, 16), top=True, latent_dim=3)
    with pytest.raises(ValueError, match="rung 1 has no posterior head"):
        Rung(1, (8, 8, 8), 8).posterior(np.zeros((1, 8, 8, 8), "float32"))


def test_each_rung_joins_its_code_by_its_own_combine_mode():
    ladder = rungs(**{"model.combine": ("film", "concat")})
    assert [rung.combine.mode for rung in ladder[:2]] == ["film", "concat"]
    assert ladder[0].v.linear_output and not ladder[1].v.linear_output
    assert ladder[0].v.target_shape == (8, 8, 16) and ladder[1].v.target_shape == (4, 4, 16)
    assert tuple(top_down(ladder, codes()).shape) == (2, 16, 16, 8)


def test_rung_config_round_trips():
    rung = Rung(2, (4, 4, 16), 8, latent_dim=3, code_dim=3, injection="broadcast", combine="gated_add", convs=1,
                dense_units=16, activation="elu", name="rung_2")
    clone = Rung.from_config(rung.get_config())
    assert clone.get_config() == rung.get_config()
    assert type(clone.v).__name__ == "LatentBroadcast" and clone.combine.mode == "gated_add"
    film = Rung(1, (8, 8, 8), 8, latent_dim=3, code_dim=3, injection="dense", combine="film", convs=1, name="r")
    film_clone = Rung.from_config(film.get_config())
    assert film_clone.get_config() == film.get_config() and film_clone.v.linear_output
    assert film_clone.v.target_shape == (8, 8, 16)


@pytest.mark.parametrize("likelihood,scale", [("bernoulli", None), ("l1", None), ("gaussian", None),
                                              ("gaussian", 0.5)])
def test_likelihood_head(likelihood, scale):
    keras.utils.set_random_seed(0)
    head = LikelihoodHead(3, likelihood, scale)
    params = head(np.zeros((2, 16, 16, 8), "float32"))
    assert tuple(params.shape) == (2, 16, 16, 3) and params.dtype == "float32"
    log_scale = head.log_scale()
    if likelihood != "gaussian":
        assert log_scale is None and len(head.weights) == 2
    else:
        expected = -2.3 if scale is None else math.log(scale)  # learned from -2.3, or fixed
        np.testing.assert_allclose(log_scale.numpy(), [expected] * 3, rtol=1e-6)
        assert len(head.trainable_weights) == (3 if scale is None else 2)
    with pytest.raises(ValueError, match="likelihood 'poisson' is not valid; choose one of bernoulli"):
        LikelihoodHead(3, "poisson")


@pytest.mark.parametrize("kernel", [1, 3])
def test_likelihood_head_reads_a_kernel_wide_neighbourhood(kernel):
    # A change of g_1 at one pixel reaches the parameters of the pixels within kernel // 2 of it, and no
    # others: with kernel 1 each pixel's parameters read that pixel's features alone.
    keras.utils.set_random_seed(0)
    head = LikelihoodHead(3, "gaussian", kernel_size=kernel)
    g = np.random.default_rng(0).normal(size=(1, 9, 9, 8)).astype("float32")
    moved = g.copy()
    moved[0, 4, 4] += 1.0
    changed = np.abs(np.asarray(head(moved)) - np.asarray(head(g))).max(-1)[0] > 1e-6
    expected = np.zeros((9, 9), bool)
    expected[4 - kernel // 2:5 + kernel // 2, 4 - kernel // 2:5 + kernel // 2] = True
    np.testing.assert_array_equal(changed, expected)
    assert LikelihoodHead.from_config(head.get_config()).kernel_size == kernel
