"""Animated GIFs of one rung: its value sweeps back and forth while a few samples of the other rungs stay put."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
from PIL import Image

from vlae_tf.visualize import labels
from vlae_tf.visualize.figures import DATA_RANGE_NOTE, VALUE_RANGE, rung_title, sweep_values, value_labels
from vlae_tf.visualize.grids import resolve, traversal_grid
from vlae_tf.visualize.images import cells, check_count


def bounce(num_values: int) -> list[int]:
    """Value indices of one back-and-forth loop: ``0 .. n-1`` then ``n-2 .. 1`` (``2n - 2`` frames, n >= 2), so a
    looping GIF never shows the same value twice in a row."""
    check_count("num_values", num_values)
    return list(range(num_values)) + list(range(num_values - 2, 0, -1))


def traversal_frames(model_or_fn: Any, rung: int, latent_dims: Sequence[int] | None = None, num_samples: int = 4,
                     num_values: int = 9, value_range: float = VALUE_RANGE, seed: int = 0, cell_size: int = 96,
                     font_size: int = 14, row_codes: Sequence[np.ndarray] | None = None,
                     values: Sequence[float] | None = None, keep_orthogonal: bool = False) -> list[np.ndarray]:
    """Frames (uint8 ``[height, width, 3]``, all one size) of rung ``rung`` swept along its random direction.

    Frame ``t`` shows ``num_samples`` images side by side: sample i fixes the same random codes of the other
    rungs as row i of ``figures.traversal_figure`` with this seed, and the rung is ``value_t * u``, ``u`` the
    same direction as there. Values run ``-value_range .. value_range`` in ``num_values`` steps and back
    (:func:`bounce`); the current value is written left of the samples. With ``row_codes`` (one
    ``[n, d_l]`` array per rung, e.g. the posterior means of n real images) the samples are those n codes.
    ``values`` replaces the sweep (e.g. ``grids.data_sweep_values``); ``keep_orthogonal`` as in
    ``grids.traversal_grid``.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    values = sweep_values(num_values, value_range) if values is None else np.asarray(values, np.float32)
    num_values = len(values)
    if row_codes is not None:
        num_samples = len(row_codes[0])
    grid = traversal_grid(generator_fn, rung, dims, num_samples, mode="direction", values=values, seed=seed,
                          row_codes=row_codes, keep_orthogonal=keep_orthogonal)
    images = cells(grid, num_samples, num_values)
    images = images.reshape((num_samples, num_values) + images.shape[1:])
    row_labels = [f"value {label}" for label in value_labels(values)]
    width = max(labels.text_width(label, font_size) for label in row_labels) + labels.pad(font_size)
    title = f"{rung_title(rung, dims)}: along a random direction{DATA_RANGE_NOTE if keep_orthogonal else ''}"
    col_labels = [f"{'image' if row_codes is not None else 'sample'} {i + 1}" for i in range(num_samples)]
    return [labels.labelled_grid(images[:, k], num_samples, cell_size, title, col_labels, [row_labels[k]],
                                 font_size, row_label_width=width) for k in bounce(num_values)]


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, duration_ms: int = 200) -> str:
    """Writes uint8 RGB frames as a GIF looping forever, ``duration_ms`` per frame; creates parent folders."""
    if not len(frames):
        raise ValueError("save_gif needs at least one frame")
    check_count("duration_ms", duration_ms)
    images = [Image.fromarray(np.asarray(frame, np.uint8)) for frame in frames]
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return path
