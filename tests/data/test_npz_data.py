"""Keras-layout .npz files: the real MNIST file, and bad files that must fail with a clear message."""

import numpy as np
import pytest

from vlae_tf.data import npz


def _write(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def test_real_mnist_loads_as_unit_floats_with_a_channel_axis(mnist_npz):
    images, labels = npz.load_npz(mnist_npz, "test", image_shape=(28, 28, 1))
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (10000,) and labels.dtype == np.int64
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))


def test_float_images_in_0_255_are_scaled_and_one_hot_labels_become_indices(tmp_path):
    x = np.full((4, 8, 8), 255.0, np.float32)
    path = _write(tmp_path, x_train=x, y_train=np.eye(3)[[0, 2, 1, 2]], x_test=x, y_test=np.arange(4))
    images, labels = npz.load_npz(path, "train")
    assert images.shape == (4, 8, 8, 1) and images.max() == 1.0
    np.testing.assert_array_equal(labels, [0, 2, 1, 2])


def test_wrong_size_names_found_and_expected(tmp_path):
    path = _write(tmp_path, x_train=np.zeros((2, 32, 32), np.uint8), y_train=np.zeros(2))
    with pytest.raises(ValueError, match=r"size 32x32 but the model expects 28x28"):
        npz.load_npz(path, "train", image_shape=(28, 28, 1))


def test_wrong_channels_names_found_and_expected(tmp_path):
    path = _write(tmp_path, x_train=np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(ValueError, match=r"3 channel\(s\) but the model expects 1"):
        npz.load_npz(path, "train", image_shape=(28, 28, 1))


def test_nan_pixels_are_counted(tmp_path):
    x = np.zeros((2, 4, 4, 1), np.float32)
    x[0, 0, 0, 0] = np.nan
    x[1, 1, 1, 0] = np.inf
    path = _write(tmp_path, x_train=x)
    with pytest.raises(ValueError, match="2 pixel value"):
        npz.load_npz(path, "train")


def test_values_out_of_range_are_rejected(tmp_path):
    path = _write(tmp_path, x_train=np.full((1, 4, 4), -1.0, np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[0, 255\]; found -1"):
        npz.load_npz(path, "train")
    with pytest.raises(ValueError, match=r"integer pixels must lie in \[0, 255\]"):
        npz.to_unit_float(np.full((1, 4, 4, 1), 300, np.int32))


def test_missing_file_and_missing_key(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        npz.load_npz(str(tmp_path / "nowhere.npz"))
    path = _write(tmp_path, images=np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=r"no array 'x_test' \(found images\)"):
        npz.load_npz(path, "test")
