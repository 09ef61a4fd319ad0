"""Text around image grids: titles, column and row labels, drawn with Pillow's built-in font.

``ImageFont.load_default(size=...)`` (Pillow >= 10.1 with FreeType) is a scalable Aileron embedded in Pillow, so
figures need no font files and look the same on every machine; without FreeType Pillow's small bitmap font is
used instead. Figures are uint8 RGB arrays on white: black text, model images upscaled by an integer factor.

Vertical layout of :func:`labelled_grid` (pixels, ``s = font_size``, ``p = pad(s)``)::

    p | title band, band_height(s + 4) | column-label band, band_height(s) | rows * cell + (rows - 1) * gap | p

A band is present only when its text is given. Horizontally: ``p | row labels | grid | p``, the grid flush
against the right margin.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vlae_tf.visualize.images import check_count, scale_for, to_uint8, upscale

TEXT = (0, 0, 0)
WHITE = 255
TITLE_BIGGER = 4  # title font size over label font size


@functools.lru_cache(maxsize=16)
def font(size: int) -> Any:
    """Pillow's embedded scalable font at ``size`` pixels (its bitmap font when Pillow lacks FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def text_width(text: str, size: int) -> int:
    left, _, right, _ = font(size).getbbox(text)
    return int(math.ceil(right - left))


def pad(size: int) -> int:
    """Margin around a figure and between labels and images."""
    return max(4, size // 2)


def band_height(size: int) -> int:
    """Height of one line of text at ``size`` with its padding."""
    return size + pad(size)


def labelled_grid(images: Any, cols: int, cell_size: int = 96, title: str | None = None,
                  col_labels: Sequence[str] | None = None, row_labels: Sequence[str] | None = None,
                  font_size: int = 14, gap: int = 2, row_label_width: int = 0) -> np.ndarray:
    """``[N, H, W, C]`` images (in [0, 1] or uint8; C = 1 or 3) tiled ``cols`` wide as a labelled figure.

    Each image is upscaled (nearest neighbour) by ``scale_for((H, W), cell_size)``; ``gap`` white pixels
    separate cells. ``col_labels`` (one per column) sit centred above the columns, ``row_labels`` (one per row)
    right-aligned left of the rows, ``title`` centred on top. ``row_label_width`` reserves at least that many
    pixels for row labels, so frames with changing labels keep one size. Returns uint8 ``[height, width, 3]``.
    """
    check_count("cols", cols)
    check_count("font_size", font_size)
    cells = np.asarray(to_uint8(images))
    if cells.ndim == 3:
        cells = cells[..., None]
    if cells.ndim != 4 or cells.shape[-1] not in (1, 3) or not len(cells):
        raise ValueError(f"labelled_grid takes [N, H, W, 1 or 3] images; got shape {cells.shape}")
    cells = upscale(np.broadcast_to(cells, cells.shape[:3] + (3,)), scale_for(cells.shape[1:3], cell_size))
    rows, cols = math.ceil(len(cells) / cols), min(cols, len(cells))
    _check_labels("col_labels", col_labels, cols)
    _check_labels("row_labels", row_labels, rows)
    ch, cw = cells.shape[1:3]
    grid_h, grid_w = rows * (ch + gap) - gap, cols * (cw + gap) - gap
    p, title_size = pad(font_size), font_size + TITLE_BIGGER
    title_h = band_height(title_size) if title else 0
    labels_h = band_height(font_size) if col_labels else 0
    rows_w = max([row_label_width] + [text_width(t, font_size) + p for t in row_labels or ()])
    width = max(2 * p + rows_w + grid_w, 2 * p + text_width(title, title_size) if title else 0)
    top, left = p + title_h + labels_h, width - p - grid_w
    canvas = np.full((top + grid_h + p, width, 3), WHITE, np.uint8)
    for i, cell in enumerate(cells):
        y, x = top + (i // cols) * (ch + gap), left + (i % cols) * (cw + gap)
        canvas[y:y + ch, x:x + cw] = cell
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    if title:
        centre = left + grid_w / 2 if text_width(title, title_size) <= grid_w else width / 2
        _text(draw, title, title_size, centre, p, title_h, "centre")
    for c, label in enumerate(col_labels or ()):
        _text(draw, label, font_size, left + c * (cw + gap) + cw / 2, p + title_h, labels_h, "centre")
    for r, label in enumerate(row_labels or ()):
        _text(draw, label, font_size, left - p / 2, top + r * (ch + gap), ch, "right")
    return np.asarray(image)


def title_band(text: str, width: int, font_size: int = 14) -> np.ndarray:
    """One centred line of text at ``font_size + 4`` as uint8 ``[band_height, max(width, text), 3]``."""
    size = font_size + TITLE_BIGGER
    width = max(width, text_width(text, size) + 2 * pad(font_size))
    image = Image.new("RGB", (width, band_height(size) + pad(font_size)), (WHITE,) * 3)
    _text(ImageDraw.Draw(image), text, size, width / 2, pad(font_size), band_height(size), "centre")
    return np.asarray(image)


def hstack(parts: Sequence[np.ndarray], spacing: int = 0) -> np.ndarray:
    """Figures of one height side by side, ``spacing`` white pixels apart."""
    if len({part.shape[0] for part in parts}) != 1:
        raise ValueError(f"hstack needs figures of one height; got {[part.shape[0] for part in parts]}")
    spacer = np.full((parts[0].shape[0], spacing, 3), WHITE, np.uint8)
    return np.concatenate([x for part in parts for x in (spacer, part)][1:], axis=1)


def vstack(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Figures one above the other, each centred on white to the widest one."""
    width = max(part.shape[1] for part in parts)
    padded = []
    for part in parts:
        extra = width - part.shape[1]
        padded.append(np.pad(part, ((0, 0), (extra // 2, extra - extra // 2), (0, 0)), constant_values=WHITE))
    return np.concatenate(padded, axis=0)


def _text(draw: ImageDraw.ImageDraw, text: str, size: int, x: float, top: float, height: float,
          align: str) -> None:
    """Draws ``text`` centred vertically in ``[top, top + height)``, centred on or right-aligned to ``x``.

    Positions come from the text's bounding box rather than ``anchor=``, which Pillow's bitmap font lacks.
    """
    left, upper, right, lower = draw.textbbox((0, 0), text, font=font(size))
    x0 = x - (right - left) / 2 if align == "centre" else x - (right - left)
    y0 = top + (height - (lower - upper)) / 2
    draw.text((round(x0 - left), round(y0 - upper)), text, fill=TEXT, font=font(size))


def _check_labels(name: str, labels: Sequence[str] | None, expected: int) -> None:
    if labels is not None and len(labels) != expected:
        raise ValueError(f"{name} has {len(labels)} entries; the grid has {expected}")
