"""The custom training loop: ``Trainer(config, run_dir, strategy=...).train()``.

It gives the model ``model.fit`` gives (same seed, data and float32: same weights, see the tests) and adds
what long multi-device runs need: any ``tf.distribute`` strategy (multi-worker included), mixed precision,
checkpoints every ``train.checkpoint_every`` steps and on SIGTERM/SIGINT, automatic resume, a divergence
guard and TensorBoard traversals every ``train.image_every`` steps.

Resume restores weights, optimizer state (loss scale included), the model's noise seed state and the step;
the data position is restored by skipping ``step`` global batches of the training pipeline, which is
deterministic for a fixed ``data.seed`` (seeded shuffles re-run identically), so a resumed run sees the
batches the uninterrupted one would have. The iterator's own state is not checkpointed: it would hold the
whole shuffle buffer and the in-memory cache (tens of MB per checkpoint) and is not portable across
strategies. The skip re-reads the skipped batches once, which costs input-pipeline time, not model time.
"""

from __future__ import annotations

import math
import pathlib
import time
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from vlae_tf import data
from vlae_tf.io.atomic import save_model_atomically
from vlae_tf.io.run_model import build_model
from vlae_tf.models.base import as_experiment_config
from vlae_tf.run_dir import CHECKPOINT_DIR, LOG_DIR, MODEL_FILE, save_config
from vlae_tf.training import checkpoints, precision as mixed, run_folder, strategies
from vlae_tf.training.interrupts import DivergenceError, StopRequests, TrainingInterrupted
from vlae_tf.training.progress import Progress
from vlae_tf.training.step import make_eval_step, make_train_step, unpack
from vlae_tf.training.summaries import Summaries


class _Interval:
    """Means of the terms over the steps since the last scalar write (skipped steps left out), and speed."""

    def __init__(self, names):
        self.names = names
        self.sums, self.count = np.zeros(len(names)), 0
        self.seconds, self.timed = 0.0, 0
        self.kl_weight = None

    def add(self, result, seconds: float | None) -> None:
        if result.applied:
            self.sums += [result.terms[n] for n in self.names]
            self.count += 1
        self.kl_weight = result.kl_weight
        if seconds is not None:
            self.seconds, self.timed = self.seconds + seconds, self.timed + 1

    def means(self) -> dict:
        values = self.sums / self.count if self.count else np.full(len(self.names), np.nan)
        return {n: float(v) for n, v in zip(self.names, values)}

    def images_per_second(self, global_batch: int) -> float | None:
        return global_batch * self.timed / self.seconds if self.timed and self.seconds > 0 else None


class Trainer:
    """Builds the model, optimizer, checkpoints and distributed input for ``config`` in ``run_dir``.

    Args:
      config: an ExperimentConfig, preset name, ModelConfig or dict.
      run_dir: the run folder (``vlae_tf.run_dir``); its ``config.json`` is written by the chief.
      strategy: ``"default" | "mirrored" | "multi_worker"`` or a ``tf.distribute.Strategy``.
      precision: overrides ``train.precision`` (``float32 | mixed_float16 | mixed_bfloat16``).
      resume: continue from the newest readable checkpoint in ``run_dir/checkpoints`` when there is one;
        with False an existing checkpoint is an error (choose another folder).
      dataset_fn: ``fn(input_context) -> tf.data.Dataset`` of per-replica float32 image batches (finite or
        not); default ``vlae_tf.data.build_dataset(config, "train", input_context)``.
      optimizer: a Keras optimizer or a factory of one, built under the strategy; default Adam at
        ``train.learning_rate``. Wrapped in a ``LossScaleOptimizer`` under ``mixed_float16``.
      jit_compile: XLA for the per-replica step; ``"auto"`` follows ``model.fit`` (on with a GPU and no
        distribution strategy).
      verbose: 1 shows a progress bar, 0 nothing.

    The model is available as ``.model`` straight away (restored when resuming), the optimizer as
    ``.optimizer``, the number of steps taken as ``.step``.
    """

    def __init__(self, config: Any, run_dir, strategy: Any = "default", precision: str | None = None,
                 resume: bool = True, dataset_fn: Callable | None = None, optimizer: Any = None,
                 jit_compile: bool | str = "auto", verbose: int = 1):
        config = as_experiment_config(config)
        if precision is not None and precision != config.train.precision:
            config = config.replace(**{"train.precision": precision})
        self.config, self.precision, self.verbose = config, config.train.precision, verbose
        self.run_dir = pathlib.Path(run_dir)
        run_folder.check_config(self.run_dir, config)  # before anything is written or restored
        self.strategy = strategies.build_strategy(strategy)
        self.chief = strategies.is_chief(self.strategy)
        self.global_batch_size = config.data.batch_size
        replicas = self.strategy.num_replicas_in_sync
        if self.global_batch_size % replicas:
            raise ValueError(f"data.batch_size={self.global_batch_size} is the global batch and must split evenly "
                             f"over the {replicas} replicas")
        self._dataset_fn = dataset_fn or self._default_dataset_fn
        keras.utils.set_random_seed(config.train.seed)  # the same initial weights as model.fit with this seed
        with self.strategy.scope(), mixed.policy_scope(self.precision):
            self.model = build_model(config)
            self.optimizer = mixed.build_optimizer(config, self.precision, optimizer)
            self.optimizer.build(self.model.trainable_variables)  # slots must exist before the first step
        self._counters = {name: tf.Variable(0, dtype=tf.int64, trainable=False) for name in ("step", "skipped")}
        self.checkpoints = checkpoints.for_training(self.run_dir / CHECKPOINT_DIR, self.strategy,
                                                    config.train.keep_checkpoints, self.model, self.optimizer,
                                                    self._counters)
        self.restored_from = None
        if self.checkpoints.candidates():
            if not resume:
                raise FileExistsError(f"{self.checkpoints.directory} holds checkpoints and resume is off; resume "
                                      "(--resume) or use another run folder")
            self.restored_from = self.checkpoints.restore_latest()
            if self.restored_from and optimizer is None:
                mixed.restore_learning_rate(self.optimizer, config)
        self.step = int(self._counters["step"].numpy())
        self.skipped_steps = int(self._counters["skipped"].numpy())
        self._check_workers_agree(self.step, "step after restoring (is the run folder shared by every worker?)")
        self.last_checkpoint = self.restored_from
        if self.chief:
            save_config(self.run_dir, config)
        if self.restored_from and self.verbose and self.chief:
            print(f"resuming from {self.restored_from} at step {self.step}")
        if jit_compile == "auto":
            jit_compile = bool(tf.config.list_logical_devices("GPU")) and not isinstance(
                self.strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy))
        self._train_step = make_train_step(self.model, self.optimizer, self.strategy, self.global_batch_size,
                                           jit_compile=bool(jit_compile))
        self._eval_step = None
        self._iterator = None
        self.target = None  # the step the last train() call aimed at
        self._per_step = self._pipeline_batches = None
        self.summaries = Summaries(self.run_dir / LOG_DIR, enabled=self.chief, image_seed=config.train.seed)
        self.metrics: dict = {}
        self._streak = 0  # consecutive steps with a non-finite loss

    # -- input --------------------------------------------------------------------------------------
    def _default_dataset_fn(self, input_context):
        return data.build_dataset(self.config, "train", input_context)

    def _input_fn(self, start_step: int):
        def dataset_fn(input_context):
            ds = self._dataset_fn(input_context)
            expected, batch = input_context.get_per_replica_batch_size(self.global_batch_size), \
                ds.element_spec.shape[0]
            if batch is not None and batch != expected:  # the loss is averaged over data.batch_size
                raise ValueError(f"dataset_fn gives batches of {batch} but data.batch_size={self.global_batch_size} "
                                 f"means {expected} per replica; batch with "
                                 "input_context.get_per_replica_batch_size(data.batch_size)")
            # Batches this pipeline hands out per global step: one per replica it feeds.
            self._per_step = input_context.num_replicas_in_sync // input_context.num_input_pipelines
            self._pipeline_batches = int(ds.cardinality())
            return ds.repeat().skip(start_step * self._per_step)  # resume where the last run stopped

        return dataset_fn

    def _worker_mean(self, value: float) -> float:
        """The mean of ``value`` over every replica of every worker (``value`` where there is one worker)."""
        if not isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return float(value)
        strategy = self.strategy

        @tf.function
        def mean():
            local = strategy.run(lambda: tf.constant(float(value), tf.float64))
            return strategy.reduce(tf.distribute.ReduceOp.MEAN, local, axis=None)

        return float(mean())

    def _check_workers_agree(self, value: int, what: str) -> None:
        mean, mean_sq = self._worker_mean(value), self._worker_mean(float(value) ** 2)
        if abs(mean_sq - mean ** 2) > 1e-6 * max(1.0, mean_sq):
            raise RuntimeError(f"workers disagree on the {what}: each worker must see the same run folder")

    def _target(self, steps: int | None) -> int:
        if steps is not None:
            return int(steps)
        per_epoch = self.config.train.steps_per_epoch
        if per_epoch is None:
            if self._pipeline_batches is None or self._pipeline_batches < 0:
                raise ValueError("the training dataset's size is unknown or infinite: set train.steps_per_epoch "
                                 "or pass steps")
            per_epoch = math.floor(self._worker_mean(self._pipeline_batches // self._per_step))
            if per_epoch < 1:
                raise ValueError(f"the training set has fewer examples than one global batch of "
                                 f"{self.global_batch_size}")
        return self.config.train.epochs * per_epoch

    # -- training -----------------------------------------------------------------------------------
    def train(self, steps: int | None = None) -> dict:
        """Trains up to step ``steps`` (absolute: a resumed run stops where the first would have), by default
        ``train.epochs`` epochs. Returns the final metrics: the means of the last summary interval plus
        ``step``, ``skipped_steps``, ``images_per_second``, ``learning_rate``, ``loss_scale``.

        Raises ``TrainingInterrupted`` after SIGTERM/SIGINT (a checkpoint is written first) and
        ``DivergenceError`` after ``train.max_nonfinite_steps`` consecutive non-finite losses (nothing is
        written: the newest checkpoint is the last good state).
        """
        if self._iterator is None:
            dist = self.strategy.distribute_datasets_from_function(self._input_fn(self.step))
            self._iterator = iter(dist)
        target = self.target = self._target(steps)
        if self.step >= target:
            return self.metrics
        cfg = self.config.train
        names = self.model.term_names
        loss_scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        progress = Progress(self.step, target, self.verbose if self.chief else 0)
        interval, first = _Interval(names), True
        saved_at = written_at = imaged_at = None  # the steps of the last checkpoint, scalars and images
        with StopRequests() as stop:
            while self.step < target:
                flag = tf.constant(0.0 if stop.signum is None else 1.0)
                started = time.perf_counter()
                result = unpack(self._train_step(self._iterator, flag).numpy(), names)
                interval.add(result, None if first else time.perf_counter() - started)  # first: tracing
                first = False
                self.step += 1
                self.skipped_steps += not result.applied
                # Under loss scaling, overflowing gradients with a finite loss are the scale adapting, not
                # divergence; without it any non-finite value is.
                diverging = not result.loss_finite or not (result.grads_finite or loss_scaled)
                self._streak = self._streak + 1 if diverging else 0
                streak = self._streak
                progress.update(self.step, result.terms["loss"], interval.images_per_second(self.global_batch_size))
                if result.stop:
                    raise TrainingInterrupted(stop.signum or 0, self.step, self._save())
                if streak >= cfg.max_nonfinite_steps:
                    raise DivergenceError(
                        f"the loss was non-finite for {streak} consecutive steps (steps {self.step - streak + 1}"
                        f"..{self.step}, train.max_nonfinite_steps={cfg.max_nonfinite_steps}); stopped without "
                        f"saving, the last good checkpoint is {self.last_checkpoint or 'none (none written yet)'}."
                        " Lower train.learning_rate, "
                        "set train.clip_norm or check the data for NaNs")
                if self.step % cfg.checkpoint_every == 0 and streak == 0:
                    self._save()
                    saved_at = self.step
                if self.step % cfg.summary_every == 0:
                    self._write_scalars(interval)
                    interval, written_at = _Interval(names), self.step
                if self.step % cfg.image_every == 0:
                    self.summaries.images(self.model, self.step)
                    imaged_at = self.step
        if saved_at != self.step:
            self._save()
        if written_at != self.step:
            self._write_scalars(interval)
        if imaged_at != self.step:
            self.summaries.images(self.model, self.step)
        if self.chief:
            save_model_atomically(self.model, self.run_dir / MODEL_FILE)
        return self.metrics

    def _save(self) -> str | None:
        self._counters["step"].assign(self.step)
        self._counters["skipped"].assign(self.skipped_steps)
        path = self.checkpoints.save(self.step)
        self.last_checkpoint = path or self.last_checkpoint
        return path

    def _write_scalars(self, interval: _Interval) -> dict:
        values = {**interval.means(), "kl_weight": interval.kl_weight,
                  "learning_rate": mixed.learning_rate(self.optimizer),
                  "loss_scale": mixed.loss_scale(self.optimizer),
                  "images_per_second": interval.images_per_second(self.global_batch_size),
                  "skipped_steps": self.skipped_steps}
        self.summaries.scalars(values, self.step)
        self.metrics = {**values, "step": self.step}
        return self.metrics

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, dataset: tf.data.Dataset | None = None, split: str = "test",
                 max_batches: int | None = None) -> dict:
        """Means of the terms (``loss``, ``elbo``, ``recon``, ``kl``, ``kl/rung_{l}``, in nats) over ``dataset``
        (default: ``split`` of the configured data), on this process only. The model's noise seed state is
        left as it was, so evaluating does not change the training run.
        """
        if dataset is None:
            dataset = data.build_dataset(self.config, split)
        if self._eval_step is None:
            self._eval_step = make_eval_step(self.model, self.optimizer.iterations)
        noise = getattr(self.model, "_noise", None)
        saved_state = None if noise is None else noise.state.numpy()
        sums, count = np.zeros(len(self.model.term_names)), 0
        for images in dataset.take(-1 if max_batches is None else max_batches):
            batch_sums, size = self._eval_step(images)
            sums, count = sums + batch_sums.numpy(), count + int(size)
        if saved_state is not None:
            noise.state.assign(saved_state)
        if not count:
            raise ValueError("the evaluation dataset is empty")
        return {name: float(v / count) for name, v in zip(self.model.term_names, sums)}


__all__ = ["Trainer"]
