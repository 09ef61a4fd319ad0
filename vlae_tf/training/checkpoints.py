"""Checkpoints of both training loops: ``tf.train.CheckpointManager`` with a fallback past unreadable ones.

What is saved: every model variable (weights and the noise seed-generator state), every optimizer variable
(slots, iteration count, loss scale), the loop's step and skipped-step counters. The data position is not
saved: the loop skips ``step`` batches of its deterministic pipeline on resume (see ``trainer.py``).

Variables are saved by their position in ``model.variables`` / ``optimizer.variables``
(``vlae_tf.io.run_model.indexed``, which says why), not through the object graph.

Writes are atomic the way TensorFlow makes them: shards go to a temporary name and the ``checkpoint`` state
file is replaced atomically after them, so a process killed mid-save leaves the previous state intact. A
checkpoint that is unreadable anyway (truncated or corrupted on disk) is skipped with a warning on restore,
and the one before it is used.
"""

from __future__ import annotations

import os
import re
import warnings

import tensorflow as tf

from vlae_tf.io.run_model import indexed, restore_model
from vlae_tf.training import strategies

PREFIX = "ckpt"


class UnreadableCheckpoints(RuntimeError):
    """Checkpoints exist but none can be restored; starting afresh instead would silently discard the run."""


def for_training(directory, strategy: tf.distribute.Strategy, keep: int, model, optimizer,
                 counters: dict) -> "Checkpoints":
    """The checkpoints of a training run, the same for ``model.fit`` and the custom loop: every model and
    optimizer variable by position, plus the ``counters`` (``step``, ``skipped``: int64 variables). A run
    folder started by one loop can therefore be resumed by the other."""
    return Checkpoints(directory, strategy, keep, model=indexed(model.variables),
                       optimizer=indexed(optimizer.variables), **counters)


def _number(path: str) -> int:
    match = re.search(rf"{PREFIX}-(\d+)$", path)
    return int(match.group(1)) if match else -1


class Checkpoints:
    """Saves and restores ``objects`` in ``directory`` through a ``CheckpointManager`` keeping ``max_to_keep``.

    In a multi-worker run every worker calls :meth:`save` (saving may involve collectives); only the chief
    writes into ``directory``, the others into a temporary folder deleted straight after. Every worker
    restores from ``directory``, which must therefore be on a filesystem they share.
    """

    def __init__(self, directory: str | os.PathLike, strategy: tf.distribute.Strategy, max_to_keep: int,
                 **objects):
        self.directory = os.fspath(directory)
        self.strategy = strategy
        self.max_to_keep = max_to_keep
        self.checkpoint = tf.train.Checkpoint(**objects)
        self._manager = None

    def _chief_manager(self) -> tf.train.CheckpointManager:
        # An unparsable "checkpoint" state file is ignored by TensorFlow (with a logged warning) and replaced
        # at the next save; candidates() still finds the checkpoints on disk.
        if self._manager is None:
            os.makedirs(self.directory, exist_ok=True)
            self._manager = tf.train.CheckpointManager(self.checkpoint, self.directory, self.max_to_keep,
                                                       checkpoint_name=PREFIX)
        return self._manager

    def candidates(self) -> list[str]:
        """Checkpoint prefixes in ``directory``, newest first: the state file's order, then any others on disk
        by step number."""
        listed = []
        try:
            state = tf.train.get_checkpoint_state(self.directory)
            if state is not None:
                listed = [p if os.path.isabs(p) else os.path.join(self.directory, p)
                          for p in state.all_model_checkpoint_paths]
        except Exception:  # unparsable state file: the files on disk still count
            listed = []
        on_disk = [p[:-len(".index")] for p in tf.io.gfile.glob(os.path.join(self.directory, f"{PREFIX}-*.index"))]
        others = sorted((p for p in on_disk if p not in listed), key=_number)
        return list(reversed(others + [p for p in listed if tf.io.gfile.exists(p + ".index")]))

    def restore_latest(self) -> str | None:
        """Restores the newest readable checkpoint and returns its prefix; None when there is none.

        An unreadable checkpoint is skipped with a warning. Raises ``UnreadableCheckpoints`` when checkpoints exist
        but none can be read (restoring nothing would silently restart training from scratch).
        """
        failures = []
        for path in self.candidates():
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except Exception as err:  # noqa: BLE001 - TF reports a short read as IndexError, others as OpError
                reason = f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0][:200]}"
                warnings.warn(f"checkpoint {path} cannot be restored ({reason}); trying the previous one")
                failures.append(f"{os.path.basename(path)} ({reason})")
                continue
            return path
        if failures:
            raise UnreadableCheckpoints(f"no checkpoint in {self.directory} could be restored: "
                                        f"{'; '.join(failures)}. Move the folder away to start afresh")
        return None

    def save(self, step: int) -> str | None:
        """Writes checkpoint ``ckpt-<step>`` (chief) and returns its prefix; None on other workers."""
        if strategies.is_chief(self.strategy):
            return self._chief_manager().save(checkpoint_number=step)
        scratch = strategies.write_dir(self.directory, self.strategy)
        try:
            tf.train.CheckpointManager(self.checkpoint, scratch, 1, checkpoint_name=PREFIX).save(checkpoint_number=step)
        finally:
            strategies.remove_write_dir(scratch, self.strategy)
        return None


__all__ = ["Checkpoints", "PREFIX", "UnreadableCheckpoints", "for_training", "indexed", "restore_model"]
