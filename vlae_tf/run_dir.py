"""The layout of a training run's folder, shared by every trainer, exporter and evaluator.

    <run>/config.json         the ExperimentConfig (``ExperimentConfig.to_dict``)
    <run>/model.keras         the final model (Keras format), written at the end of a run
    <run>/checkpoints/        tf.train.CheckpointManager checkpoints ``ckpt-<step>`` of both loops (runs
                              of earlier versions of the fit loop hold a ``model.keras`` there instead)
    <run>/.lock               the lock of the run using the folder (``vlae_tf.training.run_folder``)
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


def save_model_atomically(model, path) -> str:
    """``model.save`` into a temporary file, then rename: a crash never leaves half a model behind."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(str(tmp))
    os.replace(tmp, path)
    return str(path)


def build_model(config: ExperimentConfig):
    """The model class named by ``config.model.kind``."""
    from vlae_tf import models

    classes = {cls.kind: cls for cls in models.MODEL_CLASSES}
    return classes[config.model.kind](config)


def _newest_model(run_dir: pathlib.Path) -> str:
    final, folder = run_dir / MODEL_FILE, run_dir / CHECKPOINT_DIR
    if final.exists():
        return str(final)
    prefix = tf.train.latest_checkpoint(str(folder))
    if prefix is None:  # an unparsable or missing state file: the newest checkpoint on disk
        steps = [(int(p.name[len("ckpt-"):-len(".index")]), p) for p in folder.glob("ckpt-*.index")
                 if p.name[len("ckpt-"):-len(".index")].isdigit()]
        prefix = str(max(steps)[1])[:-len(".index")] if steps else None
    if prefix is not None:
        return prefix
    if (folder / MODEL_FILE).exists():
        return str(folder / MODEL_FILE)
    there = sorted(p.name for p in run_dir.iterdir()) if run_dir.is_dir() else []
    raise FileNotFoundError(f"{run_dir} has no trained model: no {MODEL_FILE} and no checkpoint in {CHECKPOINT_DIR}/ "
                            f"(it holds: {', '.join(there) or 'nothing'}); train into it with vlae-train --out "
                            f"{run_dir}, or give --checkpoint")


def load_model(run_dir, checkpoint: str | None = None):
    """The trained model of a run: ``checkpoint`` if given (a .keras file or a tf.train checkpoint
    prefix), else ``model.keras``, else the newest checkpoint in ``checkpoints/`` (``ckpt-<step>``, or the
    ``model.keras`` that earlier versions of the fit loop kept there)."""
    run_dir = pathlib.Path(run_dir)
    if checkpoint is None:
        checkpoint = _newest_model(run_dir)
    if str(checkpoint).endswith(".keras"):
        if not pathlib.Path(checkpoint).exists():
            raise FileNotFoundError(f"model file {checkpoint} not found")
        return keras.saving.load_model(checkpoint, compile=False)
    from vlae_tf.training.checkpoints import restore_model

    model = build_model(load_config(run_dir))
    restore_model(model, checkpoint)  # by variable position: tf.train.Checkpoint(model=...) misses listed layers
    return model
