"""TraversalImages writes labelled figures per rung, the side-by-side figure, manifolds and samples where
TensorBoard finds them (at the optimizer step), and PNGs and GIFs beside them."""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from vlae_tf import callbacks
from vlae_tf.config import ExperimentConfig, ModelConfig
from vlae_tf.visualize import labels

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIMS = (2, 3)
P = labels.pad(14)
TITLE = P + labels.band_height(18)  # top margin and title band
TOP = TITLE + labels.band_height(14)  # ... and the column labels


def grid_size(rows, cols, cell):
    return rows * cell + (rows - 1) * 2, cols * cell + (cols - 1) * 2  # 2-pixel gaps


class TinyDecoder(keras.Model):
    """A stand-in with the model interface the callback needs: config, encode, decode, reconstruct; fits on codes."""

    def __init__(self):
        super().__init__()
        self.config = ExperimentConfig(model=ModelConfig(image_shape=IMAGE_SHAPE, latent_dims=LATENT_DIMS,
                                                         conv_channels=(4,)))
        self.net = keras.layers.Dense(int(np.prod(IMAGE_SHAPE)), activation="sigmoid")

    def call(self, codes):
        return self.net(codes)

    def decode(self, zs, seed=None):
        # Stateless draws, so the figures do not depend on what else drew random numbers in this process.
        seed = [0, 0] if seed is None else seed
        zs = [tf.random.stateless_normal((len(zs[0]), d), seed=[seed[0], seed[1] + rung]) if z is None else z
              for rung, (z, d) in enumerate(zip(zs, LATENT_DIMS))]
        return tf.reshape(self(tf.concat(zs, axis=1)), (-1,) + IMAGE_SHAPE)

    def reconstruct(self, images):
        return 1.0 - tf.convert_to_tensor(images)

    def encode(self, images):
        # A deterministic code per rung: the image's mean brightness, so the traversal rows differ.
        brightness = tf.reduce_mean(tf.convert_to_tensor(images), axis=[1, 2, 3])[:, None]
        return [(brightness * tf.ones((1, d)), tf.ones((len(images), d))) for d in LATENT_DIMS]


def read_images(run_dir):
    """{step: {tag: decoded [H, W, C] uint8 image}} from every event file in run_dir."""
    found = {}
    for path in glob.glob(os.path.join(run_dir, "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "images"
                png = tf.make_ndarray(value.tensor)[2]  # [width, height, png bytes]
                found.setdefault(event.step, {})[value.tag] = tf.io.decode_png(png).numpy()
    return found


def test_fit_writes_labelled_figures_every_n_epochs_and_at_the_end_at_the_optimizer_step(tmp_path):
    keras.utils.set_random_seed(0)
    model = TinyDecoder()
    model.compile(optimizer="adam", loss="mse")
    codes = np.random.default_rng(0).standard_normal((8, sum(LATENT_DIMS))).astype(np.float32)
    targets = np.full((8, int(np.prod(IMAGE_SHAPE))), 0.5, np.float32)
    images = callbacks.TraversalImages(tmp_path, every_n_epochs=2, num_rows=3, num_cols=4, num_samples=6,
                                       cell_size=24)
    model.fit(codes, targets, batch_size=4, epochs=3, verbose=0,
              callbacks=[images, keras.callbacks.TensorBoard(tmp_path, write_graph=False)])
    assert {"train", "images"} <= set(os.listdir(tmp_path))
    written = read_images(tmp_path / "images")
    assert sorted(written) == [4, 6]  # 2 steps per epoch: after epoch index 1 (every 2nd) and after the last
    for step in written:
        assert sorted(written[step]) == ["manifold/rung_1", "samples", "traversal/rung_1", "traversal/rung_2",
                                         "traversals"]
        assert all(image.shape[2] == 3 for image in written[step].values())
        h, w = grid_size(3, 4, 24)  # 8-pixel images upscaled 3x to 24-pixel cells
        traversal = written[step]["traversal/rung_2"]
        assert traversal.shape[0] == TOP + h + P and traversal.shape[1] >= w + 2 * P
        assert not np.all(traversal[P:TOP] == 255)  # title and value labels are drawn
        assert written[step]["manifold/rung_1"].shape[0] == TOP + grid_size(10, 10, 24)[0] + P
        assert written[step]["samples"].shape[0] == TITLE + grid_size(2, 3, 24)[0] + P
        assert written[step]["traversals"].shape[1] > 2 * w
    assert not np.array_equal(written[4]["traversal/rung_1"], written[6]["traversal/rung_1"])  # weights moved


def test_direct_calls_write_pngs_gifs_and_reconstructions(tmp_path):
    keras.utils.set_random_seed(1)
    model = TinyDecoder()
    originals = np.random.default_rng(1).uniform(size=(5,) + IMAGE_SHAPE).astype(np.float32)
    images = callbacks.TraversalImages(tmp_path / "logs", num_rows=2, num_cols=3, mode="dims", cell_size=16,
                                       png_dir=tmp_path / "png", reconstruction_images=originals)
    images.set_model(model)
    images.on_train_begin()
    images.on_epoch_end(0)
    images.on_train_end()  # epoch 0 is already written: nothing more
    assert sorted(os.listdir(tmp_path / "png")) == [
        "manifold_rung_1.png", "reconstructions.png", "samples.png", "traversal_rung_1.gif", "traversal_rung_1.png",
        "traversal_rung_2.gif", "traversal_rung_2.png", "traversals.png"]
    h, w = grid_size(3 * 2, 3, 16)  # mode="dims": 3 dims x 2 rows; 8-pixel images upscaled 2x
    with Image.open(tmp_path / "png" / "traversal_rung_2.png") as png:
        assert png.mode == "RGB" and png.size[1] == TOP + h + P and png.size[0] >= w + 2 * P
    with Image.open(tmp_path / "png" / "traversal_rung_2.gif") as gif:
        assert gif.n_frames == 2 * 3 - 2  # 3 values there and back
    written = read_images(tmp_path / "logs" / "images")
    assert sorted(written) == [0]  # no optimizer: the epoch is the step
    recon = written[0]["reconstructions"]
    h, w = grid_size(2, 5, 16)
    assert recon.shape[0] == TITLE + h + P
    # The grid sits flush against the bottom-right margin: reconstruction 0 is the first cell of its last row.
    cell = recon[-P - 16:-P, -P - w:-P - w + 16]
    expected = np.repeat(np.repeat(1.0 - originals[0], 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(cell / 255.0, np.broadcast_to(expected, (16, 16, 3)), atol=1 / 255)
    assert not np.all(recon[TITLE:, :recon.shape[1] - P - w] == 255)  # the row labels are drawn


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="every_n_epochs=0"):
        callbacks.TraversalImages(tmp_path, every_n_epochs=0)
    with pytest.raises(ValueError, match="choose one of sample, dims, direction"):
        callbacks.TraversalImages(tmp_path, mode="grid")
    with pytest.raises(ValueError, match="cell_size=0 must be a positive integer"):
        callbacks.TraversalImages(tmp_path, cell_size=0)


def test_vlae_fit_with_traversal_images(tmp_path):
    models = pytest.importorskip("vlae_tf.models")
    if not hasattr(models, "VLAE"):
        pytest.skip("vlae_tf.models.VLAE is not written yet")
    keras.utils.set_random_seed(2)
    model = models.VLAE.from_preset("shapes", **{"model.conv_channels": (4, 8), "model.dense_units": 16})
    model.compile()
    data = np.random.default_rng(0).uniform(size=(4,) + model.config.model.image_shape).astype(np.float32)
    model.fit(data, batch_size=4, epochs=1, verbose=0,
              callbacks=[callbacks.TraversalImages(tmp_path, num_rows=2, num_cols=2, num_samples=4,
                                                   cell_size=32)])
    written = read_images(tmp_path / "images")
    num_rungs = model.config.model.num_rungs
    assert sorted(written) == [1]  # one optimizer step
    assert sorted(written[1]) == ["samples"] + [f"traversal/rung_{l}" for l in range(1, num_rungs + 1)] + [
        "traversals"]
