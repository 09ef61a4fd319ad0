"""Image arrays to pictures: tiling into grids, nearest-neighbour upscaling, uint8 conversion, PNG files."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from PIL import Image


def tile(images: Any, cols: int | None = None, padding: int = 0, pad_value: float = 1.0) -> np.ndarray:
    """Tiles ``[N, H, W, C]`` images row-major into ``[R*H + (R-1)*padding, cols*W + (cols-1)*padding, C]``.

    ``cols`` defaults to ``ceil(sqrt(N))``; ``R = ceil(N / cols)``; cells after the last image and the padding
    take ``pad_value`` (white). A ``[N, H, W]`` batch is treated as one channel.
    """
    images = as_images(images)
    n, h, w, c = images.shape
    cols = math.ceil(math.sqrt(n)) if cols is None else cols
    check_count("cols", cols)
    if padding < 0:
        raise ValueError(f"padding={padding!r} must be >= 0")
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + padding) - padding, cols * (w + padding) - padding, c), pad_value, np.float32)
    for i, image in enumerate(images):
        top, left = (i // cols) * (h + padding), (i % cols) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def cells(grid: Any, rows: int, cols: int) -> np.ndarray:
    """The inverse of ``tile(images, cols)`` without padding: ``[rows*H, cols*W, C]`` -> ``[rows*cols, H, W, C]``."""
    grid = np.asarray(grid)
    h, w = grid.shape[0] // rows, grid.shape[1] // cols
    if h * rows != grid.shape[0] or w * cols != grid.shape[1]:
        raise ValueError(f"a grid of shape {grid.shape} does not split into {rows} x {cols} cells")
    return grid.reshape(rows, h, cols, w, -1).transpose(0, 2, 1, 3, 4).reshape(rows * cols, h, w, -1)


def scale_for(image_size: tuple[int, int], cell_size: int) -> int:
    """The integer upscaling factor that makes an ``(H, W)`` image at least ``cell_size`` pixels on its long
    side: ``ceil(cell_size / max(H, W))``, at least 1. Integer factors keep every model pixel a sharp square.
    """
    check_count("cell_size", cell_size)
    return max(1, math.ceil(cell_size / max(image_size)))


def upscale(images: Any, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of ``[..., H, W, C]`` by an integer ``scale`` along H and W."""
    check_count("scale", scale)
    images = np.asarray(images)
    return np.repeat(np.repeat(images, scale, axis=-3), scale, axis=-2)


def to_uint8(images: Any) -> np.ndarray:
    """[0, 1] floats to uint8 (clipped, rounded; NaN -> 0). uint8 input is returned unchanged."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    images = np.nan_to_num(images.astype(np.float32), nan=0.0)
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)


def save_png(grid: Any, path: str | os.PathLike) -> str:
    """Writes an ``[H, W]``, ``[H, W, 1]`` (grayscale PNG) or ``[H, W, 3]`` (RGB PNG) image in [0, 1] or uint8.

    Parent folders are created. Returns the path as a string.
    """
    grid = to_uint8(grid)
    if grid.ndim == 3 and grid.shape[-1] == 1:
        grid = grid[..., 0]
    if grid.ndim not in (2, 3) or (grid.ndim == 3 and grid.shape[-1] != 3):
        raise ValueError(f"save_png takes [H, W], [H, W, 1] or [H, W, 3]; got shape {grid.shape}")
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid, mode="L" if grid.ndim == 2 else "RGB").save(path, format="PNG")
    return path


def as_images(images: Any) -> np.ndarray:
    """float32 ``[N, H, W, C]`` from ``[N, H, W, C]`` or ``[N, H, W]``; an error for anything else or N = 0."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or not len(images):
        raise ValueError(f"expected a non-empty [N, H, W, C] batch of images, got shape {images.shape}")
    return images


def check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
