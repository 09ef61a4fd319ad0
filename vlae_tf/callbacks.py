"""Keras callbacks for ``model.fit`` on vlae_tf models.

``TraversalImages`` writes, every N epochs and once more when training ends, what each rung learned as
TensorBoard images (and optionally PNG files):

- ``traversal/rung_{l}`` for l = 1..L (:func:`vlae_tf.visualize.traversal_grid`),
- ``manifold/rung_{l}`` for every 2-dim rung (:func:`vlae_tf.visualize.manifold_grid`),
- ``samples`` (:func:`vlae_tf.visualize.sample_grid`),
- ``reconstructions`` when ``reconstruction_images`` are given (originals and reconstructions in alternating
  rows).

Images go to ``<log_dir>/images``, a run of its own next to the ``train`` and ``validation`` runs that
``keras.callbacks.TensorBoard(log_dir)`` writes, and use the same step (the 0-based epoch) as its
``epoch_*`` scalars, so ``tensorboard --logdir <log_dir>`` shows losses and pictures side by side.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import keras
import numpy as np
import tensorflow as tf

from vlae_tf import visualize


def write_images(writer: Any, grids: Mapping[str, np.ndarray], step: int) -> None:
    """Writes each ``[H, W, C]`` grid in [0, 1] as a TensorBoard image summary named by its key, at ``step``.

    ``writer`` is a ``tf.summary.create_file_writer`` writer; the custom training loop uses this too.
    """
    with writer.as_default():
        for name, grid in grids.items():
            tf.summary.image(name, visualize.to_uint8(grid)[None], step=int(step))
    writer.flush()


def save_pngs(grids: Mapping[str, np.ndarray], png_dir: str | os.PathLike) -> list[str]:
    """Saves each grid as ``<png_dir>/<name with "/" replaced by "_">.png``; returns the paths."""
    return [visualize.save_png(grid, os.path.join(png_dir, name.replace("/", "_") + ".png"))
            for name, grid in grids.items()]


class TraversalImages(keras.callbacks.Callback):
    """Logs per-rung traversals, 2-D manifolds, samples and reconstructions during ``fit``.

    The model must have ``decode(zs)`` and ``config.model.latent_dims`` (``reconstruct(images)`` too when
    ``reconstruction_images`` is given). Grids use a fixed ``seed``, so the same codes are decoded every
    time and images from successive epochs are directly comparable.

    Args:
      log_dir: the TensorBoard log folder (the one given to ``keras.callbacks.TensorBoard``).
      every_n_epochs: write after epochs ``N-1, 2N-1, ...`` (0-based) and after the last epoch.
      num_rows, num_cols, mode: traversal layout; see :func:`vlae_tf.visualize.traversal_grid`.
      num_samples: images in the ``samples`` grid.
      seed: seeds every random code of every grid.
      png_dir: when given, also save ``traversal_rung_{l}.png``, ``manifold_rung_{l}.png``, ``samples.png``
        (and ``reconstructions.png``) there, overwritten each time: they show the latest state.
      reconstruction_images: optional ``[N, H, W, C]`` images in [0, 1] to reconstruct (keep N small, e.g. 16).
      subdir: the run folder under ``log_dir``.
    """

    def __init__(self, log_dir: str | os.PathLike, every_n_epochs: int = 1, num_rows: int = 8, num_cols: int = 9,
                 mode: str = "sample", num_samples: int = 64, seed: int = 0, png_dir: str | os.PathLike | None = None,
                 reconstruction_images: Any = None, subdir: str = "images"):
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs={every_n_epochs!r} must be a positive integer")
        if mode not in visualize.MODES:
            raise ValueError(f"mode={mode!r} is not valid; choose one of {', '.join(visualize.MODES)}")
        self.log_dir = os.fspath(log_dir)
        self.every_n_epochs = every_n_epochs
        self.num_rows, self.num_cols, self.mode = num_rows, num_cols, mode
        self.num_samples, self.seed = num_samples, seed
        self.png_dir = None if png_dir is None else os.fspath(png_dir)
        self.reconstruction_images = None if reconstruction_images is None else np.asarray(
            reconstruction_images, dtype=np.float32)
        self.subdir = subdir
        self._writer = None
        self._last_epoch = None  # the last epoch that ended
        self._last_written = None  # the last epoch whose images were written

    def on_train_begin(self, logs=None):
        self._last_epoch = self._last_written = None

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_written != self._last_epoch:
            self.write(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def grids(self) -> dict[str, np.ndarray]:
        """The grids for the current weights, by summary name."""
        grids = visualize.image_grids(self.model, num_rows=self.num_rows, num_cols=self.num_cols, mode=self.mode,
                                      num_samples=self.num_samples, seed=self.seed)
        if self.reconstruction_images is not None:
            originals = self.reconstruction_images
            grids["reconstructions"] = visualize.reconstruction_grid(originals, self.model.reconstruct(originals))
        return grids

    def write(self, step: int) -> dict[str, np.ndarray]:
        """Computes the grids and writes them at ``step``; returns them."""
        grids = self.grids()
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, self.subdir))
        write_images(self._writer, grids, step)
        if self.png_dir is not None:
            save_pngs(grids, self.png_dir)
        self._last_written = step
        return grids
