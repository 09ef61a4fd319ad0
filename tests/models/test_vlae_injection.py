"""``model.broadcast_rungs``: the lowest rungs inject a tiled vector (no spatial layout) instead of a dense map."""

import keras
import numpy as np
import pytest

import vlae_tf
from vlae_tf import presets
from vlae_tf.config import ModelConfig
from vlae_tf.layers import LatentBroadcast, LatentProjection


def test_broadcast_layer_tiles_one_vector_over_the_grid():
    layer = LatentBroadcast((4, 5, 6))
    out = layer(np.random.default_rng(0).normal(size=(3, 2)).astype("float32")).numpy()
    assert out.shape == (3, 4, 5, 6)
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :1, :], out.shape))
    assert LatentBroadcast.from_config(layer.get_config()).target_shape == (4, 5, 6)


def test_broadcast_rungs_choose_the_injection_per_rung_and_are_validated():
    base = {"model.image_shape": (16, 16, 3), "model.conv_channels": (4, 8), "model.dense_units": 16}
    model = vlae_tf.VLAE(presets.get("shapes", **{**base, "model.broadcast_rungs": 1}))
    assert [type(v) for v in model.injections] == [LatentBroadcast, LatentProjection]
    assert presets.get("shapes").model.broadcast_rungs == 1 and presets.get("mnist").model.broadcast_rungs == 0
    with pytest.raises(ValueError, match=r"broadcast_rungs=3 is not valid; give 0..2"):
        ModelConfig(broadcast_rungs=3)
    with pytest.raises(ValueError, match="broadcast_rungs=-1"):
        ModelConfig(broadcast_rungs=-1)
    assert ModelConfig(kind="hvae", broadcast_rungs=1).broadcast_rungs == 1  # ignored by the baselines


def test_broadcast_model_round_trips_through_keras_files(tmp_path):
    config = presets.get("shapes", **{"model.image_shape": (16, 16, 3), "model.conv_channels": (4, 8),
                                      "model.dense_units": 16, "model.broadcast_rungs": 2})
    model = vlae_tf.VLAE(config)
    x = np.random.default_rng(1).uniform(size=(2, 16, 16, 3)).astype("float32")
    model.save(str(tmp_path / "m.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "m.keras"))
    assert loaded.model_config.broadcast_rungs == 2
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())
