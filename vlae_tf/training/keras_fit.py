"""A whole training run the Keras way: ``model.fit`` with TensorBoard, checkpoints and traversal images.

Writes the run folder described in ``vlae_tf.run_dir``; a run interrupted mid-way resumes from the
``BackupAndRestore`` state in ``checkpoints/backup`` when started again with the same ``run_dir``.
"""

from __future__ import annotations

import json
import math
import os
import pathlib

import keras

from vlae_tf import callbacks, data, run_dir as layout
from vlae_tf.config import ExperimentConfig


def set_precision(precision: str) -> None:
    """Sets Keras' global dtype policy; layers built afterwards compute in it, weights stay float32."""
    keras.mixed_precision.set_global_policy(precision)


def save_model_atomically(model, path) -> str:
    """``model.save`` into a temporary file, then rename: a crash never leaves half a model behind."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(str(tmp))
    os.replace(tmp, path)
    return str(path)


def _schedule(train_ds, config: ExperimentConfig, epochs: int | None, steps: int | None):
    """(dataset, epochs, steps_per_epoch): ``steps`` counts optimiser steps over the whole run."""
    epochs = epochs or config.train.epochs
    per_epoch = config.train.steps_per_epoch
    if steps is None and per_epoch is None:
        return train_ds, epochs, None
    if steps is None:
        return train_ds.repeat(), epochs, per_epoch
    cardinality = int(train_ds.cardinality())
    per_epoch = per_epoch or (min(steps, cardinality) if cardinality > 0 else steps)
    return train_ds.repeat(), math.ceil(steps / per_epoch), per_epoch


def run_fit(config: ExperimentConfig, out: str, epochs: int | None = None, steps: int | None = None,
            verbose: int | str = "auto", image_every: int | None = None) -> dict:
    """Trains ``config`` with ``model.fit`` into the run folder ``out``; returns the final test metrics.

    ``epochs`` defaults to ``config.train.epochs``; ``steps`` (total optimiser steps) overrides it.
    The returned dict holds the test ``loss``, ``elbo``, ``recon``, ``kl`` and ``kl/rung_{l}`` in nats.
    """
    out = pathlib.Path(out)
    keras.utils.set_random_seed(config.train.seed)
    set_precision(config.train.precision)
    layout.save_config(out, config)
    model = layout.build_model(config)
    model.compile()
    train_ds, test_ds = data.load(config)
    train_ds, epochs, steps_per_epoch = _schedule(train_ds, config, epochs, steps)
    examples = next(iter(test_ds))[:8]
    ckpt_dir = out / layout.CHECKPOINT_DIR
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    fit_callbacks = [
        keras.callbacks.BackupAndRestore(str(ckpt_dir / "backup")),
        keras.callbacks.ModelCheckpoint(str(ckpt_dir / layout.MODEL_FILE)),
        keras.callbacks.TensorBoard(str(out / layout.LOG_DIR)),
        callbacks.TraversalImages(str(out / layout.LOG_DIR), every_n_epochs=image_every or 1,
                                  png_dir=str(out / layout.IMAGE_DIR), reconstruction_images=examples,
                                  seed=config.train.seed),
    ]
    model.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, validation_data=test_ds,
              callbacks=fit_callbacks, verbose=verbose, shuffle=False)  # data is pre-shuffled
    save_model_atomically(model, out / layout.MODEL_FILE)
    metrics = {k: float(v) for k, v in model.evaluate(test_ds, return_dict=True, verbose=0).items()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def summary_lines(out, metrics: dict, num_rungs: int) -> list[str]:
    """What a user wants to see at the end of a run: where things are, the ELBO and the KL per rung."""
    out = pathlib.Path(out)
    lines = [f"run folder:      {out}",
             f"model:           {out / layout.MODEL_FILE}",
             f"checkpoints:     {out / layout.CHECKPOINT_DIR}",
             f"tensorboard:     tensorboard --logdir {out / layout.LOG_DIR}",
             f"images:          {out / layout.IMAGE_DIR} (traversal_rung_*.png, samples.png, reconstructions.png)",
             f"test ELBO:       {metrics['elbo']:.2f} nats per image",
             f"reconstruction:  {metrics['recon']:.2f}"]
    lines += [f"KL rung {r}:       {metrics[f'kl/rung_{r}']:.3f} nats" for r in range(1, num_rungs + 1)]
    return lines


__all__ = ["run_fit", "save_model_atomically", "set_precision", "summary_lines"]
