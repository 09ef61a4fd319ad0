"""The images both training loops log (``training.summaries.Summaries``, which the custom loop and the fit loop's
``RunCallback`` share, and the ``TraversalImages`` callback for user ``fit`` calls), and how they are written: TensorBoard image summaries, PNG files and animated GIFs.
Names such as ``traversal/rung_2`` become TensorBoard tags and, with "/" replaced by "_", file names.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np
import tensorflow as tf

from vlae_tf import visualize
from vlae_tf.visualize import animation, figures, grids


def write_images(writer: Any, grids: Mapping[str, np.ndarray], step: int) -> None:
    """Writes each ``[H, W, C]`` image (floats in [0, 1] or uint8) as a TensorBoard image summary named by its
    key, at ``step``. ``writer`` is a ``tf.summary.create_file_writer`` writer.
    """
    with writer.as_default():
        for name, grid in grids.items():
            tf.summary.image(name, visualize.to_uint8(grid)[None], step=int(step))
    writer.flush()


def save_pngs(grids: Mapping[str, np.ndarray], png_dir: str | os.PathLike) -> list[str]:
    """Saves each image as ``<png_dir>/<name with "/" replaced by "_">.png``; returns the paths."""
    return [visualize.save_png(grid, os.path.join(png_dir, name.replace("/", "_") + ".png"))
            for name, grid in grids.items()]


def save_gifs(animations: Mapping[str, Sequence[np.ndarray]], png_dir: str | os.PathLike,
              duration_ms: int = 200) -> list[str]:
    """Saves each list of frames as ``<png_dir>/<name with "/" replaced by "_">.gif``; returns the paths."""
    return [animation.save_gif(frames, os.path.join(png_dir, name.replace("/", "_") + ".gif"), duration_ms)
            for name, frames in animations.items()]


def image_codes(model: Any, images: Any) -> list[np.ndarray]:
    """The posterior means ``[n, d_l]`` per rung of ``images``: traversals around real images, whose other
    rungs hold codes the decoder was trained on, show more than ones around prior draws early in training."""
    return [np.asarray(mean) for mean, _ in model.encode(np.asarray(images, np.float32))]


def sweep_codes(model: Any, images: Any, range_images: Any = None) -> list[np.ndarray] | None:
    """The codes the traversals take their per-rung range from: those of ``range_images`` (default ``images``),
    or None with fewer than 2 images (a range needs two)."""
    range_images = np.asarray(images if range_images is None else range_images, np.float32)
    return image_codes(model, range_images) if len(range_images) >= 2 else None


def model_figures(model: Any, reconstruction_images: Any = None, range_images: Any = None,
                  **options: Any) -> dict[str, np.ndarray]:
    """``visualize.figure_set`` of ``model`` (``options`` are its keyword arguments), plus ``reconstructions``
    of ``reconstruction_images`` through ``model.reconstruct`` when given, and then the traversals are taken
    around the codes of the first ``num_rows`` of those images (one row each), sweeping each rung over the
    central 90% of the codes of ``range_images`` (default: ``reconstruction_images``; pass a test batch) along
    its direction. Both training loops log this.
    """
    reconstructions = row_codes = ranges = None
    if reconstruction_images is not None:
        originals = np.asarray(reconstruction_images, np.float32)
        reconstructions = (originals, np.asarray(model.reconstruct(originals)))
        row_codes = image_codes(model, originals[:options.get("num_rows", figures.NUM_ROWS)])
        ranges = sweep_codes(model, originals, range_images)
    return figures.figure_set(model, reconstructions=reconstructions, row_codes=row_codes, sweep_codes=ranges,
                              **options)


def model_animations(model: Any, num_samples: int = 4, num_values: int = 9, seed: int = 0, cell_size: int = 96,
                     images: Any = None, range_images: Any = None) -> dict[str, list[np.ndarray]]:
    """``{"traversal/rung_{l}": frames}`` for every rung (``visualize.traversal_frames``); around the codes of
    the first ``num_samples`` of ``images`` when given, over the central 90% of the codes of ``range_images``
    (default: ``images``) as in ``model_figures``."""
    generator_fn = visualize.generator_fn_from_model(model)
    dims = generator_fn.latent_dims
    row_codes = ranges = None
    if images is not None:
        row_codes = image_codes(model, np.asarray(images)[:num_samples])
        ranges = sweep_codes(model, images, range_images)

    def sweep(rung):
        if ranges is None:
            return {}
        return dict(values=grids.data_sweep_values(ranges[rung - 1], dims, rung, num_values, seed),
                    keep_orthogonal=True)
    return {f"traversal/rung_{l}": animation.traversal_frames(generator_fn, l, num_samples=num_samples,
                                                              num_values=num_values, seed=seed, cell_size=cell_size,
                                                              row_codes=row_codes, **sweep(l))
            for l in range(1, len(dims) + 1)}
