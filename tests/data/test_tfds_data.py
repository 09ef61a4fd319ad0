"""TFDS sources under tfds.testing.mock_data, and a quick, helpful failure when the data cannot be had."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from vlae_tf.data import DatasetUnavailableError, load, load_arrays, tfds_source

SHAPES = {"mnist": (28, 28, 1), "svhn_cropped": (32, 32, 3), "celeb_a": (64, 64, 3), "dsprites": (64, 64, 1),
          "shapes3d": (64, 64, 3)}


@pytest.mark.parametrize("name", tfds_source.TFDS_NAMES)
def test_mock_data_gives_unit_float_batches_of_the_model_size(name):
    with tfds.testing.mock_data(num_examples=20):
        train, test = load(name, batch_size=4)
        train_batches = list(train.as_numpy_iterator())
        test_images = np.concatenate(list(test.as_numpy_iterator()))
    # The mock serves 20 examples per split; dsprites and shapes3d hold out every tenth of "train" for test.
    num_train, num_test = (18, 2) if name in tfds_source.FACTOR_NAMES else (20, 20)
    assert len(train_batches) == num_train // 4  # the partial train batch is dropped
    assert all(b.shape == (4, *SHAPES[name]) and b.dtype == np.float32 for b in train_batches)
    assert test_images.shape == (num_test, *SHAPES[name])
    assert 0.0 <= test_images.min() and test_images.max() <= 1.0 and test_images.max() > 0.0


@pytest.mark.parametrize("name,key,width", [("mnist", "labels", None), ("svhn_cropped", "labels", None),
                                            ("dsprites", "factors", 5), ("shapes3d", "factors", 6),
                                            ("celeb_a", "attributes", 40)])
def test_load_arrays_returns_targets(name, key, width):
    with tfds.testing.mock_data(num_examples=10):
        images, targets = load_arrays(name, "train", max_examples=6)
    assert images.dtype == np.float32 and images.shape[1:] == SHAPES[name]
    values = targets[key]
    assert len(values) == len(images) and (values.ndim == 1 if width is None else values.shape[1] == width)
    if key == "factors":
        assert targets["factor_names"] == tfds_source.FACTOR_NAMES[name] and len(targets["factor_sizes"]) == width
        assert (values >= 0).all() and (values < np.array(targets["factor_sizes"])).all()
    if key == "attributes":
        assert len(targets["attribute_names"]) == 40 and "Smiling" in targets["attribute_names"]


def test_wrong_model_size_for_a_tfds_dataset_is_an_error():
    with tfds.testing.mock_data(num_examples=4):
        with pytest.raises(ValueError, match=r"mnist images are 28x28x1 but model.image_shape=\(32, 32, 1\)"):
            load("mnist", image_shape=(32, 32, 1))


def test_mnist_name_with_an_npz_data_dir_reads_the_file(mnist_npz):
    train, _ = load("mnist", data_dir=mnist_npz, batch_size=100)
    assert train.element_spec.shape.as_list() == [100, 28, 28, 1]
    images, targets = load_arrays("mnist", "test", max_examples=5, data_dir=mnist_npz)
    assert images.shape == (5, 28, 28, 1) and targets["labels"].shape == (5,)


def test_unprepared_dataset_offline_fails_fast_and_says_how_to_supply_it(tmp_path, monkeypatch):
    if tfds_source.host_reachable():
        pytest.skip("the TFDS download host is reachable: this checks the offline path")

    def download_and_prepare(*args, **kwargs):
        raise AssertionError("offline, no download may be tried: tfds retries it for minutes")

    # Fast by construction rather than by a wall clock (which a loaded machine decides): the only wait is the
    # probe, bounded by its timeout, and the minutes-long download is never started.
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)
    assert tfds_source.PROBE_TIMEOUT_S <= 10
    with pytest.raises(DatasetUnavailableError) as error:
        load("mnist", data_dir=str(tmp_path / "tfds"))
    message = str(error.value)
    assert "--data-dir" in message and "mnist.npz" in message and "not prepared" in message
