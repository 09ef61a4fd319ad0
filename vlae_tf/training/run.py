"""``vlae-train --loop custom``: a whole custom-loop run into a run folder, like ``keras_fit.run_fit``."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from vlae_tf import data, run_dir
from vlae_tf.config import ExperimentConfig
from vlae_tf.io.atomic import save_model_atomically
from vlae_tf.training import outputs, run_folder, strategies
from vlae_tf.training.interrupts import TrainingInterrupted
from vlae_tf.training.trainer import Trainer


def run_custom(config: ExperimentConfig, folder, strategy: Any = "default", resume: bool = True,
               steps: int | None = None, verbose: int = 1) -> dict | None:
    """Trains ``config`` with the custom loop into the run folder ``folder``; returns the test metrics (chief)
    or None.

    ``steps`` is the total number of optimiser steps (default: ``train.epochs`` epochs). The chief then
    evaluates the test split (``loss``, ``elbo``, ``recon``, ``kl``, ``kl/rung_{l}`` in nats, written to
    ``metrics.json``) and saves its figures as PNGs and GIFs in ``images/`` (``outputs.write_outputs``). After
    SIGTERM or SIGINT the run writes a checkpoint and exits with status 128 + signal (``SystemExit``); the same command
    resumes it. The run folder rules (lock, config check, resume) are those of ``run_folder``; only the chief
    locks and writes the folder.
    """
    outputs.check_steps(steps)
    strategy = strategies.build_strategy(strategy)
    with run_folder.claim(folder, config, resume=resume, chief=strategies.is_chief(strategy)):
        trainer = Trainer(config, folder, strategy=strategy, resume=resume, verbose=verbose)
        test = data.build_dataset(trainer.config, "test") if trainer.chief else None
        if test is not None:  # the figures logged while training are drawn around these test images
            trainer.summaries.reference_images = np.asarray(next(iter(test)), np.float32)
        start = trainer.step
        try:
            trainer.train(steps)
        except TrainingInterrupted as stop:
            print(f"\n{stop}", file=sys.stderr)
            raise SystemExit(stop.exit_code) from None
        if not trainer.chief:
            return None
        final = trainer.run_dir / run_dir.MODEL_FILE
        if start >= trainer.target:
            if final.exists():
                trainer.summaries.close()
                return outputs.finished_metrics(trainer.run_dir, start, trainer.target)
            save_model_atomically(trainer.model, final)  # a crash after the last checkpoint
        metrics = trainer.evaluate(test)
        outputs.write_outputs(trainer.run_dir, trainer.model, metrics, trainer.summaries)
        trainer.summaries.close()
        return metrics


__all__ = ["run_custom"]
