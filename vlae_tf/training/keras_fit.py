"""A whole training run the Keras way: ``model.fit``, with the custom loop's run folder, rules and guard.

Both loops share one run-folder contract (``run_folder``): the folder is locked, resumed only with a
compatible config, and its checkpoints (``checkpoints/ckpt-<step>``: model and optimizer variables, step and
skipped-step counters, see ``checkpoints.for_training``) are the same, so either loop continues the other's
run. ``steps`` is the absolute target: ``--steps 140`` on a finished 100-step run trains steps 101..140, and
the same ``--steps`` again trains nothing and overwrites nothing. Like the custom loop, ``fit`` skips steps
whose loss or gradients are non-finite (``step.make_fit_train_step``) and stops after
``train.max_nonfinite_steps`` in a row, writes checkpoints, scalars and images every
``train.checkpoint_every`` / ``summary_every`` / ``image_every`` steps (``fit_callback``), and runs under the
chosen ``tf.distribute`` strategy (not multi-worker: Keras 3 ``fit`` does not support it).

Epochs stay what Keras users expect (the validation pass and Keras' own ``epoch_*`` scalars): an epoch is
``train.steps_per_epoch`` steps, or one pass over the training set; a run resumed in the middle of an epoch
first finishes that epoch with a shorter ``fit`` call.
"""

from __future__ import annotations

import pathlib

import keras
import tensorflow as tf

from vlae_tf import data, run_dir
from vlae_tf.callbacks import EpochTensorBoard
from vlae_tf.config import ExperimentConfig
from vlae_tf.io.atomic import save_model_atomically
from vlae_tf.io.run_model import build_model
from vlae_tf.training import checkpoints, outputs, precision as mixed, run_folder, strategies
from vlae_tf.training.fit_callback import RunCallback
from vlae_tf.training.step import make_fit_train_step
from vlae_tf.training.summaries import Summaries


def steps_per_epoch(config: ExperimentConfig, dataset: tf.data.Dataset) -> int:
    """``train.steps_per_epoch``, else the batches of one pass over ``dataset`` (the custom loop's rule)."""
    if config.train.steps_per_epoch is not None:
        return config.train.steps_per_epoch
    batches = int(dataset.cardinality())
    if batches < 0:
        raise ValueError("the training dataset's size is unknown or infinite: set train.steps_per_epoch or pass "
                         "--steps")
    if batches < 1:
        raise ValueError(f"the training set has fewer examples than one batch of {config.data.batch_size}")
    return batches


def segments(start: int, target: int, per_epoch: int) -> list[tuple[int, int, int, int]]:
    """The ``fit`` calls that take steps ``start+1..target`` in epochs of ``per_epoch`` steps, epoch ``e``
    covering steps ``e*per_epoch+1..(e+1)*per_epoch``: ``[(initial_epoch, steps_per_epoch, epochs,
    first_step)]``. A partial epoch (resumed mid-way, or a target that is no multiple) gets a call of its own."""
    calls, step = [], start
    while step < target:
        epoch, offset = divmod(step, per_epoch)
        if offset or target - step < per_epoch:
            size = min(per_epoch - offset, target - step)
            calls.append((epoch, size, 1, step))
            step += size
        else:
            full = (target - step) // per_epoch
            calls.append((epoch, per_epoch, full, step))
            step += full * per_epoch
    return calls


def build(config: ExperimentConfig, strategy: tf.distribute.Strategy):
    """(model, optimizer): built, compiled and the optimizer's slots created inside ``strategy.scope()``."""
    keras.utils.set_random_seed(config.train.seed)  # the custom loop's initial weights for the same seed
    with strategy.scope(), mixed.policy_scope(config.train.precision):
        model = build_model(config)
        optimizer = mixed.build_optimizer(config, config.train.precision)  # clip_norm as in the custom loop
        model.compile(optimizer=optimizer)
        optimizer.build(model.trainable_variables)  # slots must exist before a checkpoint is restored
    model.train_step = make_fit_train_step(model)
    return model, optimizer


def run_fit(config: ExperimentConfig, out, epochs: int | None = None, steps: int | None = None,
            verbose: int | str = "auto", strategy="default", resume: bool = True) -> dict | None:
    """Trains ``config`` with ``model.fit`` into the run folder ``out``; returns the final test metrics
    (``loss``, ``elbo``, ``recon``, ``kl`` and ``kl/rung_{l}`` in nats), the stored ones when the run had
    already reached its target.

    ``epochs`` overrides ``train.epochs``; ``steps`` (total optimizer steps of the run) overrides both.
    Raises ``DivergenceError`` after ``train.max_nonfinite_steps`` consecutive non-finite steps (nothing is
    saved; the in-memory weights and the newest checkpoint are the last finite ones).
    """
    outputs.check_steps(steps)
    if epochs is not None:
        config = config.replace(**{"train.epochs": epochs})
    strategy = strategies.build_strategy(strategy)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        raise ValueError("model.fit cannot train under the multi_worker strategy (Keras 3 does not support it); "
                         "use --loop custom")
    with run_folder.claim(out, config, resume=resume) as out:
        model, optimizer = build(config, strategy)
        counters = {name: tf.Variable(0, dtype=tf.int64, trainable=False) for name in ("step", "skipped")}
        ckpts = checkpoints.for_training(out / run_dir.CHECKPOINT_DIR, strategy, config.train.keep_checkpoints,
                                         model, optimizer, counters)
        restored = ckpts.restore_latest()
        if restored:
            mixed.restore_learning_rate(optimizer, config)
        start = int(counters["step"].numpy())
        train_ds, test_ds = data.build_dataset(config, "train"), data.build_dataset(config, "test")
        per_epoch = steps_per_epoch(config, train_ds)
        target = steps if steps is not None else config.train.epochs * per_epoch
        if start >= target and (out / run_dir.MODEL_FILE).exists():
            return outputs.finished_metrics(out, start, target)
        run_dir.save_config(out, config)
        if verbose:
            replicas = model.distribute_strategy.num_replicas_in_sync
            print(f"model.fit under {type(model.distribute_strategy).__name__} ({replicas} replica(s))"
                  + (f", resuming from {restored} at step {start}" if restored else ""))

        def save(step, skipped):
            counters["step"].assign(step)
            counters["skipped"].assign(skipped)
            return ckpts.save(step)

        summaries = Summaries(out / run_dir.LOG_DIR, image_seed=config.train.seed,
                              reference_images=next(iter(test_ds)))
        run = RunCallback(config, start, int(counters["skipped"].numpy()), save, summaries, restored)
        fit_callbacks = [run, EpochTensorBoard(str(out / run_dir.LOG_DIR))]
        repeated = train_ds.repeat()  # deterministic for a fixed data.seed: skipping reaches the resumed position
        for initial_epoch, size, epochs_now, first_step in segments(start, target, per_epoch):
            model.fit(repeated.skip(first_step), initial_epoch=initial_epoch, epochs=initial_epoch + epochs_now,
                      steps_per_epoch=size, validation_data=test_ds, callbacks=fit_callbacks, verbose=verbose,
                      shuffle=False)  # the pipeline shuffles, seeded
        run.finish()
        save_model_atomically(model, out / run_dir.MODEL_FILE)
        metrics = {k: float(v) for k, v in model.evaluate(test_ds, return_dict=True, verbose=0).items()}
        outputs.write_outputs(out, model, metrics, summaries)
        summaries.close()
        return metrics


def summary_lines(out, metrics: dict, num_rungs: int) -> list[str]:
    """What a user wants to see at the end of a run: where things are, the ELBO and the KL per rung."""
    out = pathlib.Path(out)
    lines = [f"run folder:      {out}",
             f"model:           {out / run_dir.MODEL_FILE}",
             f"checkpoints:     {out / run_dir.CHECKPOINT_DIR}",
             f"tensorboard:     tensorboard --logdir {out / run_dir.LOG_DIR}",
             f"images:          {out / run_dir.IMAGE_DIR} (traversal_rung_*.png and .gif, traversals.png, samples.png, reconstructions.png)",
             f"test ELBO:       {metrics['elbo']:.2f} nats per image",
             f"reconstruction:  {metrics['recon']:.2f}"]
    lines += [f"KL rung {r}:       {metrics[f'kl/rung_{r}']:.3f} nats" for r in range(1, num_rungs + 1)]
    return lines


__all__ = ["build", "run_fit", "segments", "steps_per_epoch", "summary_lines"]
