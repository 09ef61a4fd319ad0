"""The layout of a training run's folder, shared by every trainer, exporter and evaluator.

    <run>/config.json         the ExperimentConfig (``ExperimentConfig.to_dict``)
    <run>/model.keras         the final model (Keras format), written at the end of a run
    <run>/checkpoints/        tf.train.CheckpointManager checkpoints ``ckpt-<step>`` of both loops (runs
                              of earlier versions of the fit loop hold a ``model.keras`` there instead)
    <run>/.lock               the lock of the run using the folder (``vlae_tf.training.run_folder``)
    <run>/logs/               TensorBoard event files
    <run>/images/             PNG traversals, samples and reconstructions, GIF traversals
    <run>/metrics.json        the test metrics at the end of the run

This module names these files and reads and writes ``config.json``; ``vlae_tf.io.run_model`` builds and loads
the model of a run folder.
"""

from __future__ import annotations

import json
import pathlib

from vlae_tf.config import ExperimentConfig
from vlae_tf.io.atomic import write_json_atomically

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
IMAGE_DIR = "images"
METRICS_FILE = "metrics.json"


def save_config(run_dir, config: ExperimentConfig) -> str:
    """Writes config.json atomically (temporary file, then rename)."""
    return write_json_atomically(pathlib.Path(run_dir) / CONFIG_FILE, config.to_dict())


def load_config(run_dir) -> ExperimentConfig:
    path = pathlib.Path(run_dir) / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run_dir!r} a vlae_tf run folder (made by vlae-train)?")
    return ExperimentConfig.from_dict(json.loads(path.read_text()))
