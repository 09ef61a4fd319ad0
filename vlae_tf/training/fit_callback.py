"""What the custom loop does between steps, as one Keras callback for ``model.fit``: count steps, stop on
divergence, checkpoint, and write the custom loop's TensorBoard scalars and images.

The step is the run's training step (batches taken since the run began, resumes included), the x axis of
every summary of both loops, so a fit run and a custom run overlay in one chart. It equals the optimizer's
iteration count unless steps were skipped.

Needs the per-step ``kl_weight`` and ``nonfinite`` values that ``step.make_fit_train_step`` adds to the logs.
Term means are read from the model's metric trackers (their ``total`` and ``count``), which hold sums since
the epoch began over the applied steps only, so the scalars are the means over the steps since the last write,
skipped steps left out, exactly as the custom loop writes them.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from vlae_tf.training import precision as mixed
from vlae_tf.training.interrupts import DivergenceError


def _read(variable) -> float:
    return float(keras.ops.convert_to_numpy(variable))


class RunCallback(keras.callbacks.Callback):
    """Args:
      config: the run's ExperimentConfig (``train.checkpoint_every``, ``summary_every``, ``image_every``,
        ``max_nonfinite_steps``; ``data.batch_size`` for images per second).
      step, skipped: the run's step and skipped-step count when this ``fit`` run starts (from a checkpoint).
      save: ``save(step, skipped) -> prefix``, writes a checkpoint.
      summaries: a ``summaries.Summaries`` for ``<run>/logs``.
      last_checkpoint: the newest checkpoint so far, named by the divergence message.
    """

    def __init__(self, config, step: int, skipped: int, save, summaries, last_checkpoint: str | None = None):
        super().__init__()
        self.train_config, self.global_batch = config.train, config.data.batch_size
        self.step, self.skipped, self.streak = step, skipped, 0
        self._save, self.summaries, self.last_checkpoint = save, summaries, last_checkpoint
        self.saved_at = self.written_at = self.imaged_at = step
        self._sums = self._counts = self._seen = None
        self._kl_weight, self._seconds, self._timed, self._started = None, 0.0, 0, None
        self.metrics: dict = {}

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _tracker_state(self) -> np.ndarray:
        """[2, terms]: the trackers' totals and counts since the epoch began."""
        return np.array([[_read(m.total) for m in self.model.metrics], [_read(m.count) for m in self.model.metrics]])

    def _accumulate(self) -> None:
        """Adds the trackers' growth since the last read to the interval's sums; call it before fit's validation pass
        resets them at the end of an epoch."""
        state = self._tracker_state()
        delta, self._seen = state - self._seen, state
        self._sums, self._counts = self._sums + delta[0], self._counts + delta[1]

    def on_train_begin(self, logs=None):
        if self._sums is None:
            self._sums = self._counts = np.zeros(len(self.model.metrics))
        self._first = True  # the first step of a fit call traces the step function: not timed
        self._iterations = _read(self.model.optimizer.iterations)

    def on_epoch_begin(self, epoch, logs=None):
        self._seen = np.zeros((2, len(self.model.metrics)))  # fit resets the trackers as each epoch begins

    def on_train_batch_begin(self, batch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self._started
        self.step += 1
        iterations = _read(self.model.optimizer.iterations)  # a skipped step leaves it where it was
        self.skipped += int(iterations == self._iterations)
        self._iterations = iterations
        self._kl_weight = float(logs.get("kl_weight", np.nan))
        if not self._first:
            self._seconds, self._timed = self._seconds + seconds, self._timed + 1
        self._first = False
        self.streak = self.streak + 1 if float(logs.get("nonfinite", 0.0)) > 0 else 0
        cfg = self.train_config
        if self.streak >= cfg.max_nonfinite_steps:
            raise DivergenceError(
                f"the loss was non-finite for {self.streak} consecutive steps (steps {self.step - self.streak + 1}.."
                f"{self.step}, train.max_nonfinite_steps={cfg.max_nonfinite_steps}); those steps were skipped and "
                f"nothing was saved, the last good checkpoint is {self.last_checkpoint or 'none (none written yet)'}."
                " Lower train.learning_rate, set train.clip_norm or check the data for NaNs")
        if self.step % cfg.checkpoint_every == 0 and self.streak == 0:
            self.save()
        if self.step % cfg.summary_every == 0 or batch + 1 == self.params.get("steps"):
            self._accumulate()  # at the last batch: before fit's validation pass resets the trackers
        if self.step % cfg.summary_every == 0:
            self.write_scalars()
        if self.step % cfg.image_every == 0:
            self.write_images()

    # -- outputs -------------------------------------------------------------------------------------
    def save(self) -> str | None:
        self.last_checkpoint = self._save(self.step, self.skipped) or self.last_checkpoint
        self.saved_at = self.step
        return self.last_checkpoint

    def write_scalars(self) -> dict:
        names = self.model.term_names
        means = self._sums / self._counts if self._counts[0] else np.full(len(names), np.nan)
        optimizer = self.model.optimizer
        speed = self.global_batch * self._timed / self._seconds if self._timed and self._seconds > 0 else None
        values = {**{n: float(v) for n, v in zip(names, means)}, "kl_weight": self._kl_weight,
                  "learning_rate": mixed.learning_rate(optimizer), "loss_scale": mixed.loss_scale(optimizer),
                  "images_per_second": speed, "skipped_steps": self.skipped}
        self.summaries.scalars(values, self.step)
        self.metrics = {**values, "step": self.step}
        self._sums = self._counts = np.zeros(len(names))
        self._seconds, self._timed = 0.0, 0
        self.written_at = self.step
        return self.metrics

    def write_images(self) -> None:
        self.summaries.images(self.model, self.step)
        self.imaged_at = self.step

    def finish(self) -> None:
        """The end of the run: a checkpoint, scalars and images at the last step unless already written."""
        if self.saved_at != self.step:
            self.save()
        if self.written_at != self.step:
            self.write_scalars()
        if self.imaged_at != self.step:
            self.write_images()


__all__ = ["RunCallback"]
