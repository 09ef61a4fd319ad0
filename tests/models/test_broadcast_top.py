"""``model.broadcast_top``: the top rung's u_L tiles one vector over the grid, so z_L cannot place anything."""

import keras
import numpy as np
import pytest

import vlae_tf
from tests.tiny_configs import tiny_config, tiny_images
from vlae_tf.config import ModelConfig
from vlae_tf.layers import LatentBroadcast, LatentProjection


def test_hidden_layer_broadcast_tiles_one_vector_and_round_trips():
    keras.utils.set_random_seed(0)
    layer = LatentBroadcast((4, 5, 6), hidden_units=7)
    out = layer(np.random.default_rng(0).normal(size=(3, 2)).astype("float32")).numpy()
    assert out.shape == (3, 4, 5, 6)
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :1, :], out.shape))
    assert [w.shape for w in layer.weights] == [(2, 7), (7,), (7, 6), (6,)]
    clone = LatentBroadcast.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_top_rung_decodes_a_spatially_uniform_map_and_the_lower_rungs_place_it():
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE(tiny_config(**{"model.broadcast_top": True}))
    top = model.rungs[-1]
    assert isinstance(top.u, LatentBroadcast) and top.v is None
    z_top = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    g_top = top.down(None, z_top).numpy()
    np.testing.assert_array_equal(g_top, np.broadcast_to(g_top[:, :1, :1, :], g_top.shape))
    # The default keeps the dense map, which differs across the grid.
    keras.utils.set_random_seed(0)
    dense = vlae_tf.VLAE(tiny_config()).rungs[-1]
    assert isinstance(dense.u, LatentProjection)
    g_dense = dense.down(None, z_top).numpy()
    assert not np.array_equal(g_dense, np.broadcast_to(g_dense[:, :1, :1, :], g_dense.shape))


def test_broadcast_top_round_trips_through_keras_files(tmp_path):
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE(tiny_config(**{"model.broadcast_top": True}))
    images = tiny_images(3)
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.config.model.broadcast_top is True
    np.testing.assert_array_equal(reloaded.reconstruct(images).numpy(), model.reconstruct(images).numpy())


def test_broadcast_top_is_validated_and_only_the_vlae_uses_it():
    with pytest.raises(ValueError, match=r"model.broadcast_top='yes' is not valid; give True or False"):
        ModelConfig(broadcast_top="yes")
    # The baselines decode everything from their top rung's code: it keeps its dense map.
    for cls in (vlae_tf.HVAE, vlae_tf.LVAE, vlae_tf.VAE):
        keras.utils.set_random_seed(0)
        assert isinstance(cls(tiny_config(cls.kind, **{"model.broadcast_top": True})).rungs[-1].u, LatentProjection)


def test_late_broadcast_injects_after_the_upsampling_through_a_per_pixel_mix():
    keras.utils.set_random_seed(0)
    config = tiny_config(**{"model.late_broadcast": True})
    model = vlae_tf.VLAE(config)
    rung = model.rungs[0]
    assert rung.injection == "late_broadcast" and model.rungs[1].injection == "dense"
    height, width, _ = config.model.image_shape
    rng = np.random.default_rng(2)
    g_above = rng.normal(size=(2,) + rung.feature_shape).astype("float32")
    z = rng.normal(size=(2, rung.latent_dim)).astype("float32")
    v = rung.v(z).numpy()
    assert v.shape == (2, height, width, rung.output_channels)  # tiled over u_1's grid, not h_1's
    assert all(w.shape[:2] == (1, 1) for w in rung.mix.weights if len(w.shape) == 4)  # nothing spatial after z
    expected = rung.mix(rung.combine([rung.u(g_above), v])).numpy()
    np.testing.assert_allclose(rung.down(g_above, z).numpy(), expected, rtol=1e-6, atol=1e-6)
    # Per pixel: where u_1's features agree, the output agrees whatever else differs in g_above.
    other = g_above.copy()
    other[:, 0, 0, :] += 5.0  # u_1's 4x4 transposed convolution spreads this to the top-left 4x4 pixels
    changed = np.abs(rung.down(other, z).numpy() - rung.down(g_above, z).numpy()).max(axis=(0, 3))
    assert changed[:4, :4].max() > 0 and changed[4:, :].max() == 0 and changed[:, 4:].max() == 0


def test_late_broadcast_round_trips_and_needs_a_broadcast_rung(tmp_path):
    keras.utils.set_random_seed(0)
    model = vlae_tf.VLAE(tiny_config(**{"model.late_broadcast": True}))
    images = tiny_images(3)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(reloaded.reconstruct(images).numpy(), model.reconstruct(images).numpy())
    with pytest.raises(ValueError, match=r"model.late_broadcast=True .*needs model.broadcast_rungs >= 1"):
        ModelConfig(late_broadcast=True, broadcast_rungs=0)
