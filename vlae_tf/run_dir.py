"""The layout of a training run's folder, shared by every trainer, exporter and evaluator.

    <run>/config.json         the ExperimentConfig (``ExperimentConfig.to_dict``)
    <run>/model.keras         the final model (Keras format), written at the end of a run
    <run>/checkpoints/        tf.train.CheckpointManager checkpoints (custom loop) and the fit
                              loop's latest ``model.keras`` checkpoint
    <run>/logs/               TensorBoard event files
    <run>/images/             PNG traversals, samples and reconstructions
"""

from __future__ import annotations

import json
import os
import pathlib

import keras
import tensorflow as tf

from vlae_tf.config import ExperimentConfig

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
IMAGE_DIR = "images"


def save_config(run_dir, config: ExperimentConfig) -> str:
    """Writes config.json atomically (temporary file, then rename)."""
    path = pathlib.Path(run_dir) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True))
    os.replace(tmp, path)
    return str(path)


def load_config(run_dir) -> ExperimentConfig:
    path = pathlib.Path(run_dir) / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run_dir!r} a vlae_tf run folder (made by vlae-train)?")
    return ExperimentConfig.from_dict(json.loads(path.read_text()))


def build_model(config: ExperimentConfig):
    """The model class named by ``config.model.kind``."""
    from vlae_tf import models

    classes = {cls.kind: cls for cls in models.MODEL_CLASSES}
    return classes[config.model.kind](config)


def load_model(run_dir, checkpoint: str | None = None):
    """The trained model of a run: ``checkpoint`` if given (a .keras file or a tf.train checkpoint
    prefix), else ``model.keras``, else the newest checkpoint in ``checkpoints/``."""
    run_dir = pathlib.Path(run_dir)
    if checkpoint is None:
        final = run_dir / MODEL_FILE
        if final.exists():
            checkpoint = str(final)
        else:
            checkpoint = tf.train.latest_checkpoint(str(run_dir / CHECKPOINT_DIR))
            if checkpoint is None:
                raise FileNotFoundError(f"{run_dir} has neither {MODEL_FILE} nor a checkpoint in {CHECKPOINT_DIR}/")
    if str(checkpoint).endswith(".keras"):
        if not pathlib.Path(checkpoint).exists():
            raise FileNotFoundError(f"model file {checkpoint} not found")
        return keras.saving.load_model(checkpoint, compile=False)
    from vlae_tf.training.checkpoints import restore_model

    model = build_model(load_config(run_dir))
    restore_model(model, checkpoint)  # by variable position: tf.train.Checkpoint(model=...) misses listed layers
    return model
