"""Any folder of images (searched recursively), decoded lazily and fitted to the model's (H, W, C).

Each image is scaled so its shorter side matches the target and the centre is cropped to (H, W) (PIL's
``ImageOps.fit``: the aspect ratio is kept, nothing is stretched), then converted to grey (C=1) or RGB (C=3).
Splits: ``<root>/train`` and ``<root>/test`` when both exist; otherwise every tenth file of the sorted list,
counted from the last one, is held out for test (so any folder with two or more images has both splits).

Files are checked up front with PIL's ``verify()`` (cheap: headers and, for PNG, checksums; run on a thread
pool). Unreadable ones are skipped with one warning giving their count; a file that passes the check but
still fails to decode later is dropped by ``ignore_errors``.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
HELD_OUT_EVERY = 10
_SPLITS = ("train", "test")


def list_images(root: str) -> list[str]:
    """Sorted paths of every file under ``root`` whose extension is in ``IMAGE_EXTENSIONS``."""
    if not os.path.exists(root):
        raise FileNotFoundError(f"image folder not found: {root!r} (give --data-dir path/to/images)")
    if not os.path.isdir(root):
        raise ValueError(f"{root!r} is a file; the folder dataset needs a folder of images "
                         "(use --dataset npz for an .npz file)")
    found = []
    for folder, _, names in os.walk(root, followlinks=True):
        found.extend(os.path.join(folder, n) for n in names if n.lower().endswith(IMAGE_EXTENSIONS))
    if not found:
        raise ValueError(f"no images found under {root!r}; looked (recursively) for files ending in "
                         f"{', '.join(IMAGE_EXTENSIONS)}")
    return sorted(found)


def split_files(root: str, split: str) -> list[str]:
    """The image files of ``split`` ("train" or "test") under ``root``, in a fixed order."""
    if split not in _SPLITS:
        raise ValueError(f"split={split!r} is not valid; choose one of {', '.join(_SPLITS)}")
    if all(os.path.isdir(os.path.join(root, s)) for s in _SPLITS):
        return list_images(os.path.join(root, split))
    files = list_images(root)
    held_out = set(range(len(files) - 1, -1, -HELD_OUT_EVERY))
    chosen = [f for i, f in enumerate(files) if (i in held_out) == (split == "test")]
    if not chosen:
        raise ValueError(f"{root!r} holds only {len(files)} image(s): too few to split into train and test; "
                         f"add images or make {root}/train and {root}/test folders")
    return chosen


def _readable(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # PIL raises many types (OSError, SyntaxError, ValueError...) for bad files
        return False


def readable_files(files: list[str], source: str) -> list[str]:
    """``files`` without the ones PIL cannot open; warns once with the count when some are dropped."""
    with ThreadPoolExecutor(max_workers=min(16, (os.cpu_count() or 1) * 4)) as pool:
        ok = list(pool.map(_readable, files, chunksize=64))
    good = [f for f, keep in zip(files, ok) if keep]
    bad = len(files) - len(good)
    if not good:
        raise ValueError(f"none of the {len(files)} image file(s) in {source!r} could be read "
                         f"(first: {files[0]!r})")
    if bad:
        first = next(f for f, keep in zip(files, ok) if not keep)
        warnings.warn(f"skipped {bad} unreadable image file(s) of {len(files)} in {source!r} (first: {first!r})",
                      RuntimeWarning, stacklevel=2)
    return good


def decode(path: str | bytes, image_shape: tuple) -> np.ndarray:
    """uint8 [H, W, C]: the image at ``path`` scaled (shorter side), centre-cropped and colour-converted."""
    from PIL import Image, ImageOps

    height, width, channels = image_shape
    path = path.decode() if isinstance(path, bytes) else path
    with Image.open(path) as image:
        mode = "L" if channels == 1 else "RGB"
        try:  # JPEG: let the decoder downscale by 1/2..1/8 while both sides stay >= the target (much faster)
            image.draft(mode, (width, height))
        except (ValueError, OSError):
            pass
        image = image.convert(mode)
        image = ImageOps.fit(image, (width, height), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))
        array = np.asarray(image, dtype=np.uint8)
    return array.reshape(height, width, channels)


def folder_records(files: list[str]) -> tf.data.Dataset:
    """The file paths as a dataset of tf.string scalars (shard and shuffle these before decoding)."""
    return tf.data.Dataset.from_tensor_slices(tf.constant(files, tf.string))


def decode_fn(image_shape: tuple):
    """A tf.data map function: tf.string path -> uint8 [H, W, C] (PIL inside ``tf.numpy_function``)."""
    shape = tuple(int(s) for s in image_shape)

    def _decode(path):
        image = tf.numpy_function(lambda p: decode(p, shape), [path], tf.uint8, stateful=False)
        return tf.ensure_shape(image, shape)

    return _decode
