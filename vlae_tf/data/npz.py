"""Arrays from ``.npz`` files in the keras ``mnist.npz`` layout, and the checks every in-memory image source
shares (pixel range, NaN/inf, shape against the model's ``image_shape``).

Pixel convention, applied to whatever a user hands in:
- integer arrays (uint8 included) are read as [0, 255] and divided by 255; values outside are an error;
- float arrays whose values all lie in [0, 1] are taken as they are;
- float arrays with values above 1 but all in [0, 255] are read as [0, 255] and divided by 255;
- anything else (negative values, values above 255, NaN, inf) is an error naming what was found.
Images of another size or channel count than the model expects are an error, never silently resized.
"""

from __future__ import annotations

import os

import numpy as np

SPLIT_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


def to_unit_float(images: np.ndarray, source: str = "images") -> np.ndarray:
    """float32 copy of ``images`` in [0, 1] by the convention above; ``source`` names the data in errors."""
    images = np.asarray(images)
    if images.dtype == np.bool_:
        return images.astype(np.float32)
    if np.issubdtype(images.dtype, np.integer):
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(f"{source}: integer pixels must lie in [0, 255]; found {images.min()}..{images.max()}")
        return images.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{source}: pixels have dtype {images.dtype}; give uint8 or float images")
    finite = np.isfinite(images)
    if not finite.all():
        bad = images.size - int(finite.sum())
        raise ValueError(f"{source}: {bad} pixel value(s) are NaN or infinite; clean the data first")
    if not images.size:
        return images.astype(np.float32)
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 255.0:
        raise ValueError(f"{source}: float pixels must lie in [0, 1] or [0, 255]; found {low:g}..{high:g}")
    images = images.astype(np.float32)
    return images / np.float32(255.0) if high > 1.0 else images


def with_channel_axis(images: np.ndarray, source: str = "images") -> np.ndarray:
    """[N, H, W] -> [N, H, W, 1]; [N, H, W, C] unchanged; any other rank is an error."""
    if images.ndim == 3:
        return images[..., None]
    if images.ndim == 4:
        return images
    raise ValueError(f"{source}: expected images shaped [N, H, W] or [N, H, W, C]; got {images.shape}")


def check_image_shape(found: tuple, expected: tuple | None, source: str, hint: str = "") -> None:
    """Raises ``ValueError`` unless per-image shape ``found`` (H, W, C) equals the model's ``expected``."""
    if expected is None or tuple(found) == tuple(expected):
        return
    found, expected = tuple(int(s) for s in found), tuple(int(s) for s in expected)
    problems = []
    if found[:2] != expected[:2]:
        problems.append(f"size {found[0]}x{found[1]} but the model expects {expected[0]}x{expected[1]}")
    if found[2] != expected[2]:
        problems.append(f"{found[2]} channel(s) but the model expects {expected[2]}")
    message = f"{source}: images have {' and '.join(problems)} (model.image_shape={expected})"
    raise ValueError(message + (f"; {hint}" if hint else ""))


def load_npz(path: str, split: str = "train", image_shape: tuple | None = None,
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Reads one split of an ``.npz`` in the keras ``mnist.npz`` layout (``x_train, y_train, x_test, y_test``).

    Args:
      path: the ``.npz`` file.
      split: ``"train"`` or ``"test"``.
      image_shape: (H, W, C) the model expects; a mismatch is an error. None skips the check.

    Returns:
      images: float32 [N, H, W, C] in [0, 1] (a channel axis is added to [N, H, W] arrays).
      labels: int64 [N] from ``y_<split>`` (one-hot rows become class indices), or None when absent.
    """
    if split not in SPLIT_KEYS:
        raise ValueError(f"split={split!r} is not valid; choose one of {', '.join(SPLIT_KEYS)}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"npz file not found: {path!r} (give --data-dir path/to/file.npz, e.g. "
                                "a keras mnist.npz with x_train, y_train, x_test, y_test)")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder; the npz dataset needs a .npz file (use --dataset folder for an "
                         "image folder)")
    x_key, y_key = SPLIT_KEYS[split]
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # a truncated or non-npz file: numpy's message alone does not say which file
        raise ValueError(f"could not read {path!r} as an .npz file: {error}") from error
    with archive:
        if x_key not in archive.files:
            raise ValueError(f"{path!r} has no array {x_key!r} (found {', '.join(archive.files) or 'none'}); "
                             "expected the keras mnist.npz layout: x_train, y_train, x_test, y_test")
        raw = archive[x_key]
        labels = archive[y_key] if y_key in archive.files else None
    source = f"{path}[{x_key}]"
    images = with_channel_axis(raw, source)
    check_image_shape(images.shape[1:], image_shape, source,
                      "resize the data to the model's size or change model.image_shape")
    images = to_unit_float(images, source)
    if labels is not None:
        labels = np.asarray(labels).reshape(len(labels), -1)
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"{path!r}: {y_key} has {labels.shape[0]} entries but {x_key} has {images.shape[0]}")
        one_hot = labels.shape[1] > 1 and np.isin(labels, (0, 1)).all() and (labels.sum(axis=1) == 1).all()
        labels = labels.argmax(axis=1) if one_hot else labels[:, 0] if labels.shape[1] == 1 else labels
        labels = labels.astype(np.int64)
    return images, labels
