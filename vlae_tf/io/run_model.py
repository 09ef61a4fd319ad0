"""The model of a run folder: built from its ``config.json``, or loaded from its ``model.keras`` or a checkpoint.

Checkpoints hold the model's variables by their position in ``model.variables`` (``indexed``), not through the
object graph: ``tf.train.Checkpoint(model=keras_model)`` silently misses every layer a Keras 3 model holds in a
Python list (a VLAE's rungs), and Keras' variable paths carry process-wide counters (``conv2d_8``) that differ
between two builds of the same model.
"""

from __future__ import annotations

import pathlib

import keras
import tensorflow as tf

from vlae_tf import models, run_dir
from vlae_tf.config import ExperimentConfig


def indexed(variables) -> dict:
    """A checkpointable mapping of variables by position (see the module docstring)."""
    return {f"v{i:04d}": v for i, v in enumerate(variables)}


def restore_model(model, prefix: str) -> str:
    """Loads the model variables of a custom-loop checkpoint ``prefix`` (e.g. ``.../checkpoints/ckpt-500``)
    into ``model``, which must have the same configuration. Returns ``prefix``."""
    stored = {name.split("/")[1]: shape for name, shape in tf.train.list_variables(prefix)
              if name.startswith("model/")}
    wanted = {key: list(v.shape) for key, v in indexed(model.variables).items()}
    if stored != wanted:
        raise ValueError(f"checkpoint {prefix} does not fit this model ({len(stored)} model variables stored, "
                         f"{len(wanted)} expected, or shapes differ): was it written with another config?")
    tf.train.Checkpoint(model=indexed(model.variables)).restore(prefix).expect_partial()
    return prefix


def build_model(config: ExperimentConfig):
    """The model class named by ``config.model.kind``."""
    classes = {cls.kind: cls for cls in models.MODEL_CLASSES}
    return classes[config.model.kind](config)


def _newest_model(folder: pathlib.Path) -> str:
    final, checkpoints = folder / run_dir.MODEL_FILE, folder / run_dir.CHECKPOINT_DIR
    if final.exists():
        return str(final)
    prefix = tf.train.latest_checkpoint(str(checkpoints))
    if prefix is None:  # an unparsable or missing state file: the newest checkpoint on disk
        steps = [(int(p.name[len("ckpt-"):-len(".index")]), p) for p in checkpoints.glob("ckpt-*.index")
                 if p.name[len("ckpt-"):-len(".index")].isdigit()]
        prefix = str(max(steps)[1])[:-len(".index")] if steps else None
    if prefix is not None:
        return prefix
    if (checkpoints / run_dir.MODEL_FILE).exists():
        return str(checkpoints / run_dir.MODEL_FILE)
    there = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise FileNotFoundError(f"{folder} has no trained model: no {run_dir.MODEL_FILE} and no checkpoint in "
                            f"{run_dir.CHECKPOINT_DIR}/ "
                            f"(it holds: {', '.join(there) or 'nothing'}); train into it with vlae-train --out "
                            f"{folder}, or give --checkpoint")


def load_model(folder, checkpoint: str | None = None):
    """The trained model of a run: ``checkpoint`` if given (a .keras file or a tf.train checkpoint
    prefix), else ``model.keras``, else the newest checkpoint in ``checkpoints/`` (``ckpt-<step>``, or the
    ``model.keras`` that earlier versions of the fit loop kept there)."""
    folder = pathlib.Path(folder)
    if checkpoint is None:
        checkpoint = _newest_model(folder)
    if str(checkpoint).endswith(".keras"):
        if not pathlib.Path(checkpoint).exists():
            raise FileNotFoundError(f"model file {checkpoint} not found")
        return keras.saving.load_model(checkpoint, compile=False)
    model = build_model(run_dir.load_config(folder))
    restore_model(model, checkpoint)  # by variable position: tf.train.Checkpoint(model=...) misses listed layers
    return model


__all__ = ["build_model", "indexed", "load_model", "restore_model"]
