"""load / build_dataset / load_arrays: batching, seeding, binarisation, distribution and clear errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vlae_tf import presets
from vlae_tf.config import DataConfig
from vlae_tf.data import build_dataset, load, load_arrays, shapes

SMALL = {"num_train": 96, "num_test": 40, "batch_size": 32}


def _batches(ds):
    return [b for b in ds.as_numpy_iterator()]


def test_shapes_preset_batches_images_only_with_a_static_train_batch():
    train, test = load("shapes", **SMALL)
    assert isinstance(train.element_spec, tf.TensorSpec)  # x only: keras fit needs no y
    assert train.element_spec.shape.as_list() == [32, 32, 32, 3] and train.element_spec.dtype == tf.float32
    assert test.element_spec.shape.as_list() == [None, 32, 32, 3]
    train_batches, test_batches = _batches(train), _batches(test)
    assert len(train_batches) == 3 and [len(b) for b in test_batches] == [32, 8]
    assert min(b.min() for b in train_batches) >= 0.0 and max(b.max() for b in train_batches) <= 1.0


def test_shuffling_is_seeded_and_reshuffles_every_epoch():
    first, _ = load("shapes", seed=5, **SMALL)
    again, _ = load("shapes", seed=5, **SMALL)
    other, _ = load("shapes", seed=6, **SMALL)
    epoch_1, epoch_2 = _batches(first), _batches(first)
    np.testing.assert_array_equal(epoch_1[0], _batches(again)[0])
    assert not np.array_equal(epoch_1[0], epoch_2[0])
    assert not np.array_equal(epoch_1[0], _batches(other)[0])
    np.testing.assert_allclose(np.sort(np.concatenate(epoch_1).ravel()), np.sort(np.concatenate(epoch_2).ravel()))


def test_static_binarisation_is_a_fixed_threshold():
    train, _ = load("shapes", binarize="static", **SMALL)
    epoch = np.concatenate(_batches(train))
    assert set(np.unique(epoch)) <= {0.0, 1.0}
    images, _ = load_arrays("shapes", "train", **SMALL)
    assert np.isclose(epoch.mean(), (images > 0.5).mean())


def test_dynamic_binarisation_resamples_each_epoch_and_is_reproducible():
    train, test = load("shapes", binarize="dynamic", **SMALL)
    replay, _ = load("shapes", binarize="dynamic", **SMALL)
    epoch_1, epoch_2 = _batches(train), _batches(train)
    assert set(np.unique(np.concatenate(epoch_1))) == {0.0, 1.0}
    assert not np.array_equal(epoch_1[0], epoch_2[0])
    np.testing.assert_array_equal(epoch_1[0], _batches(replay)[0])
    np.testing.assert_array_equal(_batches(test)[0], _batches(test)[0])  # test: one fixed sample


def test_build_dataset_gives_the_per_replica_batch_of_one_shard():
    config = presets.get("shapes", **{f"data.{k}": v for k, v in SMALL.items()})
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=0, num_replicas_in_sync=2)
    ds = build_dataset(config, "train", context)
    assert ds.element_spec.shape.as_list() == [16, 32, 32, 3]
    assert len(_batches(ds)) == 3  # 48 of the 96 images in batches of 16
    whole = np.concatenate(_batches(build_dataset(config, "test")))
    shard = np.concatenate(_batches(build_dataset(config, "test", context)))
    np.testing.assert_array_equal(shard, whole[0::2])


class _MeanSquare(keras.layers.Layer):
    """A loss from x alone, as the VAEs compute theirs."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        self.add_loss(keras.ops.mean(keras.ops.square(x * self.scale)))
        return x


def test_keras_fit_takes_the_datasets_as_x_only():
    train, test = load("shapes", **SMALL)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, _MeanSquare()(inputs))
    model.compile(optimizer="sgd")
    history = model.fit(train, validation_data=test, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["val_loss"]).all()


def test_load_arrays_returns_factors_for_shapes_and_labels_for_mnist(mnist_npz):
    images, targets = load_arrays("shapes", "test", max_examples=10, **SMALL)
    assert images.shape == (10, 32, 32, 3) and targets["factors"].shape == (10, 7)
    assert targets["factor_names"] == shapes.FACTOR_NAMES
    expected, factors = shapes.generate(40, seed=[0, 1])
    np.testing.assert_array_equal(images, expected[:10])
    images, targets = load_arrays(DataConfig(dataset="npz", data_dir=mnist_npz), "test", max_examples=7)
    assert images.shape == (7, 28, 28, 1) and targets["labels"].shape == (7,)


def test_data_config_with_image_shape_and_overrides():
    train, _ = load(DataConfig(dataset="shapes", num_train=64, num_test=8), image_shape=(16, 16, 3), batch_size=8)
    assert train.element_spec.shape.as_list() == [8, 16, 16, 3]


def test_unknown_names_and_options_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset or preset 'imagenet'.*shapes.*mnist"):
        load("imagenet")
    with pytest.raises(ValueError, match=r"unknown data option\(s\) \['batchsize'\]; valid: dataset"):
        load("shapes", batchsize=3)


def test_missing_paths_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no.npz"):
        load("npz", data_dir=str(tmp_path / "no.npz"))
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load("folder", data_dir=str(tmp_path / "none"), image_shape=(8, 8, 3))


def test_npz_of_another_size_is_an_error_not_a_resize(mnist_npz):
    with pytest.raises(ValueError, match=r"size 28x28 but the model expects 32x32 and 1 channel\(s\) but the model "
                                         r"expects 3"):
        load("shapes", dataset="npz", data_dir=mnist_npz)


def test_shapes_needs_square_rgb_and_train_needs_one_batch():
    with pytest.raises(ValueError, match=r"shapes draws square RGB images"):
        load(DataConfig(num_train=64, num_test=8), image_shape=(28, 28, 1))
    with pytest.raises(ValueError, match="fewer than one batch of 64"):
        load("shapes", num_train=10, num_test=10, batch_size=64)
