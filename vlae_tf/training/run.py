"""``vlae-train --loop custom``: a whole custom-loop run into a run folder, like ``keras_fit.run_fit``."""

from __future__ import annotations

import json
import sys
from typing import Any

from vlae_tf import callbacks, data, run_dir as layout
from vlae_tf.config import ExperimentConfig
from vlae_tf.training import keras_fit, run_folder, strategies
from vlae_tf.training.interrupts import TrainingInterrupted
from vlae_tf.training.trainer import Trainer


def run_custom(config: ExperimentConfig, run_dir, strategy: Any = "default", resume: bool = True,
               steps: int | None = None, verbose: int = 1) -> dict | None:
    """Trains ``config`` with the custom loop into ``run_dir``; returns the test metrics (chief) or None.

    ``steps`` is the total number of optimiser steps (default: ``train.epochs`` epochs). The chief then
    evaluates the test split (``loss``, ``elbo``, ``recon``, ``kl``, ``kl/rung_{l}`` in nats, written to
    ``metrics.json``) and saves traversal, sample and reconstruction PNGs in ``images/``. After SIGTERM or
    SIGINT the run writes a checkpoint and exits with status 128 + signal (``SystemExit``); the same command
    resumes it. The run folder rules (lock, config check, resume) are those of ``run_folder``; only the chief
    locks and writes the folder.
    """
    keras_fit.check_steps(steps)
    strategy = strategies.build_strategy(strategy)
    with run_folder.claim(run_dir, config, resume=resume, chief=strategies.is_chief(strategy)):
        trainer = Trainer(config, run_dir, strategy=strategy, resume=resume, verbose=verbose)
        start = trainer.step
        try:
            trainer.train(steps)
        except TrainingInterrupted as stop:
            print(f"\n{stop}", file=sys.stderr)
            raise SystemExit(stop.exit_code) from None
        if not trainer.chief:
            return None
        final = trainer.run_dir / layout.MODEL_FILE
        if start >= trainer.target:
            if final.exists():
                trainer.summaries.close()
                return keras_fit.finished_metrics(trainer.run_dir, start, trainer.target)
            layout.save_model_atomically(trainer.model, final)  # a crash after the last checkpoint
        test = data.build_dataset(trainer.config, "test")
        metrics = trainer.evaluate(test)
        examples = next(iter(test))[:8]
        callbacks.save_pngs(trainer.summaries.grids(trainer.model, examples), trainer.run_dir / layout.IMAGE_DIR)
        (trainer.run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
        trainer.summaries.close()
        return metrics


__all__ = ["run_custom"]
