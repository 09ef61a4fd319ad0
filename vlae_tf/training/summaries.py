"""TensorBoard output of both training loops (the custom loop, and ``model.fit`` through ``RunCallback``),
written by the chief only.

    <run>/logs/train/    scalars every ``train.summary_every`` steps: ``loss``, ``elbo``, ``recon``, ``kl``,
                         ``kl/rung_{l}`` (means over the steps since the last write, skipped steps left out),
                         ``kl_weight``, ``learning_rate``, ``loss_scale`` (mixed_float16), ``images_per_second``
                         and ``skipped_steps`` (the run's total)
    <run>/logs/images/   every ``train.image_every`` steps the labelled figures of ``vlae_tf.io.images.model_figures``
                         (as the ``TraversalImages`` callback writes them): ``traversal/rung_{l}`` per rung,
                         ``traversals``, ``manifold/rung_{l}`` per 2-dim rung, ``samples``, ``reconstructions``;
                         both run entry points draw them around the first test batch (``reference_images``)

The x axis is the run's training step in both loops, so ``tensorboard --logdir <run>/logs`` overlays a fit
run and a custom run.
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np
import tensorflow as tf

from vlae_tf.io.images import model_figures, write_images

RECONSTRUCTIONS = 8  # reference images reconstructed in the figures, and the traversals' rows
SCALAR_RUN = "train"
IMAGE_RUN = "images"


class Summaries:
    """Scalar and image summaries under ``log_dir``; every method is a no-op when ``enabled`` is False."""

    def __init__(self, log_dir: str | os.PathLike, enabled: bool = True, image_seed: int = 0,
                 reference_images=None):
        self.enabled = enabled
        self.image_seed = image_seed
        # Test images (a batch) the figures are drawn around: reconstructions of the first RECONSTRUCTIONS, the
        # traversals' rows at their codes and each rung swept over the whole batch's range. None: prior codes.
        self.reference_images = None if reference_images is None else np.asarray(reference_images, np.float32)
        self._scalars = self._images = None
        if enabled:
            self._scalars = tf.summary.create_file_writer(os.path.join(log_dir, SCALAR_RUN))
            self._images = tf.summary.create_file_writer(os.path.join(log_dir, IMAGE_RUN))

    def scalars(self, values: Mapping[str, float | None], step: int) -> None:
        """One scalar per entry (None values are left out), at ``step``."""
        if not self.enabled:
            return
        with self._scalars.as_default():
            for name, value in values.items():
                if value is not None:
                    tf.summary.scalar(name, float(value), step=int(step))
        self._scalars.flush()

    def grids(self, model) -> dict[str, np.ndarray]:
        """The pictures of ``model`` now, by summary name (``io.images.model_figures``), around the reference
        images when there are some."""
        images = self.reference_images
        if images is None:
            return model_figures(model, seed=self.image_seed)
        return model_figures(model, images[:RECONSTRUCTIONS], images, seed=self.image_seed)

    def images(self, model, step: int) -> dict[str, np.ndarray]:
        """Computes and writes the grids at ``step``; returns them (empty when disabled)."""
        if not self.enabled:
            return {}
        grids = self.grids(model)
        write_images(self._images, grids, step)
        return grids

    def close(self) -> None:
        for writer in (self._scalars, self._images):
            if writer is not None:
                writer.close()
        self._scalars = self._images = None
        self.enabled = False


__all__ = ["IMAGE_RUN", "SCALAR_RUN", "Summaries"]
