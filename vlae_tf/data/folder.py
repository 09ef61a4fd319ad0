"""Any folder of images (searched recursively), decoded lazily and fitted to the model's (H, W, C).

Each image is scaled so its shorter side matches the target and the centre is cropped to (H, W) (PIL's
``ImageOps.fit``: the aspect ratio is kept, nothing is stretched), then converted to grey (C=1) or RGB (C=3).
Splits: ``<root>/train`` and ``<root>/test`` when both exist; otherwise every tenth readable file of the sorted
list, counted from the last one, is held out for test (any folder with two or more images has both splits).

Files are checked up front with PIL's ``verify()`` (cheap: headers and, for PNG, checksums; run on a thread
pool). Unreadable ones are skipped with one warning giving their count; a file that passes the check but
still fails to decode later is dropped by ``ignore_errors``.
"""

from __future__ import annotations

import functools
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

from vlae_tf.config import SPLITS

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
HELD_OUT_EVERY = 10


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


def _split_roots(root: str) -> dict | None:
    roots = {s: os.path.join(root, s) for s in SPLITS}
    return roots if all(os.path.isdir(r) for r in roots.values()) else None


def _readable(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # PIL raises many types (OSError, SyntaxError, ValueError...) for bad files
        return False


@functools.lru_cache(maxsize=8)
def _unreadable(root: str, files: tuple) -> frozenset:
    """The unreadable paths among ``files`` ((path, size, mtime) triples); warns once per folder state.

    Memoised so that building the train and the test split of one folder checks (and warns) once.
    """
    paths = [f[0] for f in files]
    with ThreadPoolExecutor(max_workers=min(16, (os.cpu_count() or 1) * 4)) as pool:
        ok = list(pool.map(_readable, paths, chunksize=64))
    bad = [p for p, keep in zip(paths, ok) if not keep]
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable image file(s) of {len(paths)} in {root!r} "
                      f"(first: {bad[0]!r})", RuntimeWarning, stacklevel=4)
    return frozenset(bad)


def split_files(root: str, split: str) -> list[str]:
    """The readable image files of ``split`` ("train" or "test") under ``root``, in a fixed order.

    Unreadable files are left out (one warning for the whole folder) before the held-out tenth is chosen.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not valid; choose one of {', '.join(SPLITS)}")
    roots = _split_roots(root)
    listed = {s: list_images(r) for s, r in roots.items()} if roots else {None: list_images(root)}
    everything = [f for files in listed.values() for f in files]
    # Size and mtime join the memo key, so a file rewritten in place is checked again.
    stats = tuple((f, st.st_size, st.st_mtime_ns) for f, st in ((f, os.stat(f)) for f in everything))
    bad = _unreadable(os.path.abspath(root), stats)
    if roots:
        chosen = [f for f in listed[split] if f not in bad]
    else:
        readable = [f for f in everything if f not in bad]
        held_out = set(range(len(readable) - 1, -1, -HELD_OUT_EVERY))
        chosen = [f for i, f in enumerate(readable) if (i in held_out) == (split == "test")]
    if not chosen:
        raise ValueError(f"no readable {split} images under {root!r} ({len(everything)} image file(s), "
                         f"{len(bad)} unreadable); a folder without train/ and test/ subfolders needs at least "
                         "two readable images")
    return chosen


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
