"""Image folders: any size in, (H, W, C) out by shorter-side resize + centre crop; bad files counted once."""

import warnings

import numpy as np
import pytest
from PIL import Image

from vlae_tf.config import DataConfig
from vlae_tf.data import folder, load, load_arrays


def _png(path, size=(40, 30), color=(200, 30, 30), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "images"
    _png(root / "a.png", (40, 30))
    _png(root / "b.png", (17, 64), (10, 200, 10))
    _png(root / "nested" / "c.jpg", (64, 64), (10, 10, 200))
    _png(root / "nested" / "d.png", (50, 20), 128, mode="L")
    _png(root / "e.png", (33, 33), (9, 9, 9, 0), mode="RGBA")
    _png(root / "f.gif", (20, 45), 3, mode="P")
    _png(root / "g.bmp", (12, 12))
    (root / "notes.txt").write_text("not an image")
    return root


def test_various_sizes_come_out_at_the_model_size(image_folder):
    data = DataConfig(dataset="folder", data_dir=str(image_folder), batch_size=2)
    train, test = load(data, image_shape=(16, 16, 3))
    batches = list(train.as_numpy_iterator())
    assert len(batches) == 3 and all(b.shape == (2, 16, 16, 3) and b.dtype == np.float32 for b in batches)
    assert all(b.min() >= 0.0 and b.max() <= 1.0 for b in batches)
    assert sum(len(b) for b in test.as_numpy_iterator()) == 1  # 7 images: one held out


def test_grey_model_gets_one_channel(image_folder):
    images, targets = load_arrays(DataConfig(dataset="folder", data_dir=str(image_folder)), "train",
                                  image_shape=(8, 8, 1))
    assert images.shape == (6, 8, 8, 1) and targets == {}


def test_centre_crop_keeps_the_middle_of_a_wide_image(tmp_path):
    stripes = np.zeros((20, 60, 3), np.uint8)
    stripes[:, :20, 0] = stripes[:, 20:40, 1] = stripes[:, 40:, 2] = 255  # red | green | blue
    path = tmp_path / "wide.png"
    Image.fromarray(stripes).save(path)
    out = folder.decode(str(path), (8, 8, 3))
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert out[:, :, 1].min() > 200 and out[:, 2:-2, [0, 2]].max() < 30


def test_train_and_test_subfolders_are_used_when_present(tmp_path):
    for i in range(3):
        _png(tmp_path / "train" / f"{i}.png")
    _png(tmp_path / "test" / "only.png")
    assert len(folder.split_files(str(tmp_path), "train")) == 3
    assert [p.rsplit("/", 1)[-1] for p in folder.split_files(str(tmp_path), "test")] == ["only.png"]


def test_empty_and_missing_folders_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no images found under .*empty.*jpg"):
        load(DataConfig(dataset="folder", data_dir=str(tmp_path / "empty")), image_shape=(8, 8, 3))
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load(DataConfig(dataset="folder", data_dir=str(tmp_path / "missing")), image_shape=(8, 8, 3))
    with pytest.raises(ValueError, match="pass image_shape"):
        load(DataConfig(dataset="folder", data_dir=str(tmp_path / "empty")))


def test_corrupt_files_are_skipped_with_one_warning_giving_the_count(image_folder):
    (image_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    good = image_folder / "a.png"
    (image_folder / "truncated.png").write_bytes(good.read_bytes()[:40])
    data = DataConfig(dataset="folder", data_dir=str(image_folder), batch_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train, test = load(data, image_shape=(8, 8, 3))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "skipped 2 unreadable image file(s) of 9" in messages[0]
    assert sum(1 for _ in train) + sum(1 for _ in test) == 7
