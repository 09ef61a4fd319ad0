"""Keras callbacks for ``model.fit`` on vlae_tf models.

``TraversalImages`` writes, every N epochs and once more when training ends, what each rung learned as labelled
TensorBoard images (:mod:`vlae_tf.visualize.figures`; cells upscaled to ``cell_size`` pixels):

- ``traversal/rung_{l}`` for l = 1..L: title ``rung l (d_l dims)``, traversal values above the columns, the
  random sample of the other rungs each row holds fixed on the left,
- ``traversals``: the paper-style figure, one panel per rung side by side (``rung 1 (pixels)`` .. ``rung L (top)``),
- ``manifold/rung_{l}`` for every 2-dim rung,
- ``samples``, and ``reconstructions`` when ``reconstruction_images`` are given (originals above reconstructions).

Images go to ``<log_dir>/images``, a run of its own next to the ``train`` and ``validation`` runs that
``keras.callbacks.TensorBoard(log_dir)`` writes. Their step is the optimizer step
(``model.optimizer.iterations``); the tags are those ``vlae-train``'s loops write. With ``png_dir`` the callback also saves ``traversal_rung_{l}.png``, ``traversals.png``,
``manifold_rung_{l}.png``, ``samples.png``, ``reconstructions.png`` and an animated ``traversal_rung_{l}.gif``
per rung there.

``EpochTensorBoard`` is ``keras.callbacks.TensorBoard`` without its per-batch cost when it writes per epoch.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from vlae_tf import visualize
from vlae_tf.io.images import model_animations, model_figures, save_gifs, save_pngs, write_images


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback (its ``epoch_*`` and validation scalars) without its per-batch cost when it
    writes per epoch: Keras 3.15 still calls ``summary.scalar`` for every log of every batch, each a no-op under
    ``record_if(False)``; on 2 CPU cores those calls cost ~4 ms of a ~55 ms step."""

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, None if self.update_freq == "epoch" else logs)


class TraversalImages(keras.callbacks.Callback):
    """Logs labelled per-rung traversals, the side-by-side figure, manifolds, samples and reconstructions.

    The model must have ``decode(zs)`` and ``config.model.latent_dims`` (``reconstruct(images)`` too when
    ``reconstruction_images`` is given). Figures use a fixed ``seed``, so the same codes are decoded every
    time and images from successive epochs are directly comparable.

    Args:
      log_dir: the TensorBoard log folder (the one given to ``keras.callbacks.TensorBoard``).
      every_n_epochs: write after epochs ``N-1, 2N-1, ...`` (0-based) and after the last epoch.
      num_rows, num_cols, mode: traversal layout; see :mod:`vlae_tf.visualize.figures` (``"direction"``: the
        columns sweep -2..2 along one random direction of the rung).
      num_samples: images in the ``samples`` figure.
      seed: seeds every random code of every figure.
      png_dir: when given, also save the PNGs and GIFs listed in the module docstring there, overwritten each
        time: they show the latest state.
      reconstruction_images: optional ``[N, H, W, C]`` images in [0, 1] to reconstruct (keep N small, e.g. 8).
      subdir: the run folder under ``log_dir``.
      cell_size: minimum pixels per cell; images are upscaled by an integer factor (nearest neighbour).
      gifs: with ``png_dir``, also write one animated GIF per rung.
    """

    def __init__(self, log_dir: str | os.PathLike, every_n_epochs: int = 1, num_rows: int = 8, num_cols: int = 9,
                 mode: str = "direction", num_samples: int = 64, seed: int = 0,
                 png_dir: str | os.PathLike | None = None, reconstruction_images: Any = None, subdir: str = "images",
                 cell_size: int = 96, gifs: bool = True):
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs={every_n_epochs!r} must be a positive integer")
        if mode not in visualize.MODES:
            raise ValueError(f"mode={mode!r} is not valid; choose one of {', '.join(visualize.MODES)}")
        if isinstance(cell_size, bool) or not isinstance(cell_size, int) or cell_size < 1:
            raise ValueError(f"cell_size={cell_size!r} must be a positive integer (pixels per cell)")
        self.log_dir = os.fspath(log_dir)
        self.every_n_epochs = every_n_epochs
        self.num_rows, self.num_cols, self.mode = num_rows, num_cols, mode
        self.num_samples, self.seed, self.cell_size, self.gifs = num_samples, seed, cell_size, gifs
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
            self._write_epoch(epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_written != self._last_epoch:
            self._write_epoch(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def grids(self) -> dict[str, np.ndarray]:
        """The labelled figures for the current weights, by summary tag (uint8 ``[H, W, 3]``)."""
        return model_figures(self.model, self.reconstruction_images, num_rows=self.num_rows,
                             num_cols=self.num_cols, mode=self.mode, num_samples=self.num_samples, seed=self.seed,
                             cell_size=self.cell_size)

    def write(self, step: int) -> dict[str, np.ndarray]:
        """Computes the figures and writes them at ``step`` (and the PNGs and GIFs); returns the figures."""
        grids = self.grids()
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, self.subdir))
        write_images(self._writer, grids, step)
        if self.png_dir is not None:
            save_pngs(grids, self.png_dir)
            if self.gifs:
                save_gifs(model_animations(self.model, num_values=self.num_cols, seed=self.seed,
                                           cell_size=self.cell_size, images=self.reconstruction_images),
                          self.png_dir)
        return grids

    def _write_epoch(self, epoch: int) -> None:
        self.write(self._step(epoch))
        self._last_written = epoch

    def _step(self, epoch: int) -> int:
        """The optimizer's step count; the epoch for a model compiled without an optimizer."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or getattr(optimizer, "iterations", None) is None:
            return int(epoch)
        return int(keras.ops.convert_to_numpy(optimizer.iterations))
