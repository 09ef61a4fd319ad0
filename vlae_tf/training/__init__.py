"""Training: the distributed custom loop (``Trainer``), strategies, mixed precision and checkpoints.

    trainer = vlae_tf.training.Trainer("shapes", "runs/shapes", strategy="mirrored", precision="mixed_float16")
    metrics = trainer.train()            # resumes from runs/shapes/checkpoints when it holds one

``model.fit`` runs live in ``vlae_tf.training.keras_fit``.
"""

from vlae_tf.training.checkpoints import Checkpoints, restore_model
from vlae_tf.training.interrupts import DivergenceError, TrainingInterrupted
from vlae_tf.training.run import run_custom
from vlae_tf.training.strategies import STRATEGIES, build_strategy, is_chief, split_cpu
from vlae_tf.training.trainer import Trainer

__all__ = ["STRATEGIES", "Checkpoints", "DivergenceError", "Trainer", "TrainingInterrupted", "build_strategy",
           "is_chief", "restore_model", "run_custom", "split_cpu"]
