"""TensorFlow Datasets sources: mnist, svhn_cropped, celeb_a, dsprites, shapes3d.

Images come out as uint8 [H, W, C] in [0, 255] (the pipeline divides by 255): dSprites stores {0, 1} and is
scaled to {0, 255} here. CelebA is centre-cropped to 108x108 and resized to the model's size, as the
original VLAE code did (``dataset_celeba.py``: ``center_crop(x, 108)`` then 64x64).

Splits: mnist and svhn_cropped have train/test; celeb_a uses its train and test splits (validation unused);
dsprites and shapes3d only ship "train", so every tenth example (index % 10 == 9) is held out for "test".

Offline, ``tfds.load`` retries its download for minutes. Here an unprepared dataset is noticed at once
(``as_dataset`` fails), the download host is probed with a few-second timeout, and when it is unreachable
``DatasetUnavailableError`` says how to supply the data instead.
"""

from __future__ import annotations

import os
import socket
import threading

import tensorflow as tf

from vlae_tf.config import SPLITS

TFDS_NAMES = ("mnist", "svhn_cropped", "celeb_a", "dsprites", "shapes3d")
# (H, W, C) as stored; celeb_a is cropped and resized to whatever the model asks for.
NATIVE_IMAGE_SHAPES = {"mnist": (28, 28, 1), "svhn_cropped": (32, 32, 3), "celeb_a": None,
                       "dsprites": (64, 64, 1), "shapes3d": (64, 64, 3)}
LABELLED = ("mnist", "svhn_cropped")
FACTOR_NAMES = {
    "dsprites": ("shape", "scale", "orientation", "x_position", "y_position"),
    "shapes3d": ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"),
}
FACTOR_SIZES = {"dsprites": (3, 6, 40, 32, 32), "shapes3d": (10, 10, 10, 8, 4, 15)}
CELEBA_CROP = 108
HELD_OUT_EVERY = 10
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 3.0


class DatasetUnavailableError(RuntimeError):
    """A TFDS dataset is not prepared locally and cannot be downloaded."""


def host_reachable(host: tuple = DOWNLOAD_HOST, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to ``host`` opens within ``timeout`` seconds (name lookup included).

    The lookup has no timeout of its own, so the probe runs on a daemon thread that is abandoned if slow.
    """
    result = []

    def probe():
        try:
            socket.create_connection(host, timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _unavailable_message(name: str, data_dir: str | None) -> str:
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")
    if data_dir and not os.path.isdir(data_dir):
        where += " (that folder does not exist)"
    message = (f"TFDS dataset {name!r} is not prepared in {where} and its download host {DOWNLOAD_HOST[0]} is "
               f"unreachable (offline?). Supply the data yourself: --data-dir DIR with a prepared TFDS data_dir "
               f"(on a machine with internet: `tfds build {name} --data_dir DIR`, then copy DIR)")
    if name == "mnist":
        message += (", or a keras mnist.npz file: --dataset npz --data-dir path/to/mnist.npz (--dataset mnist "
                    "with --data-dir pointing at the .npz works too)")
    return message + ". The embedded --dataset shapes needs no download."


def _builder(name: str, data_dir: str | None):
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetUnavailableError(f"dataset {name!r} needs tensorflow_datasets: pip install tensorflow-datasets "
                                      "(or use --dataset shapes, npz or folder)") from error
    if name not in TFDS_NAMES:
        raise ValueError(f"unknown TFDS dataset {name!r}; valid: {', '.join(TFDS_NAMES)}")
    return tfds.builder(name, data_dir=data_dir)


def raw_dataset(name: str, tfds_split: str, data_dir: str | None = None) -> tf.data.Dataset:
    """The TFDS feature dicts of ``tfds_split``, in file order; prepares the data only when it can download.

    Raises:
      DatasetUnavailableError: within seconds, when the data is neither prepared nor downloadable.
    """
    builder = _builder(name, data_dir)
    try:
        return builder.as_dataset(split=tfds_split, shuffle_files=False)
    except AssertionError:  # TFDS's "could not find data in <data_dir>": not prepared there
        pass
    if not host_reachable():
        raise DatasetUnavailableError(_unavailable_message(name, data_dir))
    builder.download_and_prepare()
    return builder.as_dataset(split=tfds_split, shuffle_files=False)


def num_examples(name: str, split: str, data_dir: str | None = None) -> int | None:
    """Examples in our ``split`` when TFDS knows the counts (prepared data), else None."""
    try:
        splits = _builder(name, data_dir).info.splits
        if name in FACTOR_NAMES:
            total = splits["train"].num_examples
            test = total // HELD_OUT_EVERY
            return test if split == "test" else total - test
        return splits[split].num_examples or None
    except Exception:  # unprepared or mocked builders have no split info
        return None


def check_image_shape(name: str, image_shape: tuple) -> None:
    """Raises ``ValueError`` when the model's ``image_shape`` cannot take ``name``'s images."""
    native = NATIVE_IMAGE_SHAPES[name]
    height, width, channels = image_shape
    if native is None:  # celeb_a: any size (crop + resize), but RGB
        if channels != 3:
            raise ValueError(f"celeb_a images are RGB but model.image_shape={tuple(image_shape)} has {channels} "
                             "channel(s); use 3")
        return
    if tuple(image_shape) != native:
        raise ValueError(f"{name} images are {native[0]}x{native[1]}x{native[2]} but model.image_shape="
                         f"{tuple(image_shape)}; set model.image_shape={native} (or use the {name} preset)")


def _image(name: str, features: dict, image_shape: tuple) -> tf.Tensor:
    image = features["image"]
    if name == "dsprites":  # stored as {0, 1}
        return tf.minimum(image, 1) * 255
    if name == "celeb_a":
        shape = tf.shape(image)
        crop = tf.minimum(CELEBA_CROP, tf.minimum(shape[0], shape[1]))
        image = tf.image.crop_to_bounding_box(image, (shape[0] - crop) // 2, (shape[1] - crop) // 2, crop, crop)
        image = tf.image.resize(image, image_shape[:2], method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    return image


def _targets(name: str, features: dict) -> dict:
    if name in LABELLED:
        return {"labels": features["label"]}
    if name in FACTOR_NAMES:
        return {"factors": tf.stack([tf.cast(features[f"label_{f}"], tf.int32) for f in FACTOR_NAMES[name]])}
    if name == "celeb_a":
        attributes = features["attributes"]
        return {"attributes": tf.stack([tf.cast(attributes[k], tf.int32) for k in sorted(attributes)])}
    return {}


def target_names(name: str, data_dir: str | None = None) -> dict:
    """Names that go with the targets: ``factor_names`` / ``factor_sizes`` or ``attribute_names``."""
    if name in FACTOR_NAMES:
        return {"factor_names": FACTOR_NAMES[name], "factor_sizes": FACTOR_SIZES[name]}
    if name == "celeb_a":
        return {"attribute_names": tuple(sorted(_builder(name, data_dir).info.features["attributes"].keys()))}
    return {}


def tfds_records(name: str, split: str, image_shape: tuple, data_dir: str | None = None,
                 with_targets: bool = False) -> tf.data.Dataset:
    """uint8 [H, W, C] images of our ``split`` ("train" | "test"), or (image, targets) with ``with_targets``.

    targets: ``{"labels": int64 []}`` (mnist, svhn_cropped), ``{"factors": int32 [F]}`` (dsprites, shapes3d;
    columns in ``FACTOR_NAMES[name]`` order) or ``{"attributes": int32 [40]}`` (celeb_a, sorted names).
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not valid; choose one of {', '.join(SPLITS)}")
    if name not in TFDS_NAMES:
        raise ValueError(f"unknown TFDS dataset {name!r}; valid: {', '.join(TFDS_NAMES)}")
    check_image_shape(name, image_shape)
    shape = tuple(int(s) for s in image_shape)
    if name in FACTOR_NAMES:  # only a train split exists: hold out every tenth example
        want_test = split == "test"
        ds = raw_dataset(name, "train", data_dir).enumerate()
        ds = ds.filter(lambda i, _: (i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == want_test)
        ds = ds.map(lambda _, features: features)
    else:
        ds = raw_dataset(name, split, data_dir)

    def convert(features):
        image = tf.ensure_shape(_image(name, features, shape), shape)
        return (image, _targets(name, features)) if with_targets else image

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
