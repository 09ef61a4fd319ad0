"""``model.broadcast_rungs``: the lowest rungs inject a tiled vector (no spatial layout) instead of a dense map."""

import keras
import numpy as np
import pytest

import vlae_tf
from tests.tiny_configs import tiny_config, tiny_images
from vlae_tf import presets
from vlae_tf.config import ModelConfig
from vlae_tf.layers import LatentBroadcast, LatentProjection


def test_broadcast_layer_tiles_one_vector_over_the_grid():
    keras.utils.set_random_seed(0)
    layer = LatentBroadcast((4, 5, 6))
    out = layer(np.random.default_rng(0).normal(size=(3, 2)).astype("float32")).numpy()
    assert out.shape == (3, 4, 5, 6)
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :1, :], out.shape))
    assert LatentBroadcast.from_config(layer.get_config()).target_shape == (4, 5, 6)


def test_broadcast_rungs_choose_the_injection_per_rung_and_are_validated():
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE(tiny_config(**{"model.broadcast_rungs": 1}))
    assert [type(rung.v) for rung in model.rungs[:-1]] == [LatentBroadcast, LatentProjection]
    assert presets.get("shapes").model.broadcast_rungs == 1 and presets.get("mnist").model.broadcast_rungs == 0
    with pytest.raises(ValueError, match=r"broadcast_rungs=3 is not valid; give 0..2"):
        ModelConfig(broadcast_rungs=3)
    with pytest.raises(ValueError, match="broadcast_rungs=-1"):
        ModelConfig(broadcast_rungs=-1)
    assert ModelConfig(kind="hvae", broadcast_rungs=1).broadcast_rungs == 1  # ignored by the baselines


def test_broadcast_rung_cannot_place_anything():
    """A broadcast rung's code shifts every pixel of its grid alike: its injection is constant over H, W."""
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE(tiny_config(**{"model.broadcast_rungs": 2}))
    v = model.rungs[0].v(tiny_images(2)[:, 0, 0, :]).numpy()  # any [2, 3] code
    np.testing.assert_array_equal(v, np.broadcast_to(v[:, :1, :1, :], v.shape))


def test_dense_injection_units_put_a_hidden_layer_in_the_dense_maps_only(tmp_path):
    keras.utils.set_random_seed(0)
    config = tiny_config(**{"model.broadcast_rungs": 1, "model.dense_injection_units": 7})
    model = vlae_tf.VLAE(config)
    tiled, dense = model.rungs[0], model.rungs[1]
    assert (tiled.injection_units, dense.injection_units) == (0, 7)
    kernels = [tuple(w.shape) for w in dense.v.weights if len(w.shape) == 2]
    assert kernels == [(3, 7), (7, int(np.prod(dense.feature_shape)))]  # code -> 7 hidden -> the whole map
    assert [tuple(w.shape) for w in tiled.v.weights if len(w.shape) == 2] == [(3, tiled.feature_shape[-1])]
    images = tiny_images(3)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.rungs[1].injection_units == 7
    np.testing.assert_array_equal(reloaded.reconstruct(images).numpy(), model.reconstruct(images).numpy())
    assert ModelConfig().dense_injection_units == 0  # the original's one dense layer by default
    assert presets.get("shapes").model.dense_injection_units == 256 and presets.get("mnist").model.dense_injection_units == 0
    with pytest.raises(ValueError, match=r"model.dense_injection_units=-1 is not valid; it must be >= 0"):
        ModelConfig(dense_injection_units=-1)
