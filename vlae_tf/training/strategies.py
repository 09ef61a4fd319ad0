"""Distribution strategies by name, the cluster from ``TF_CONFIG``, and who writes files.

``default``       one device (the first GPU, else the CPU), no distribution.
``mirrored``      every local GPU; without GPUs every logical CPU device (see :func:`split_cpu`), which is how
                  the tests run two replicas on one machine.
``multi_worker``  ``MultiWorkerMirroredStrategy`` over the cluster that ``TF_CONFIG`` describes, e.g.
                  ``{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}``;
                  the same command runs on every worker, only ``task.index`` differs.

In a multi-worker run every worker must take part in every collective, checkpoint saves included, but only the
chief may write into the run folder (TensorFlow's multi-worker tutorial): :func:`write_dir` hands the other
workers a private temporary folder instead, removed by :func:`remove_write_dir` after each save.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def split_cpu(num_devices: int) -> list[str]:
    """Splits the host CPU into ``num_devices`` logical devices, so ``mirrored`` has replicas without GPUs.

    Must run before TensorFlow initialises its devices (before any op or strategy is created); raises
    ``RuntimeError`` otherwise. Returns the logical CPU device names.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def build_strategy(strategy: Any = "default") -> tf.distribute.Strategy:
    """A ``tf.distribute.Strategy`` from one of ``STRATEGIES`` (a Strategy instance is returned as is)."""
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy == "default":
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if strategy == "multi_worker":
        if "TF_CONFIG" in os.environ:
            cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
            if not cluster:
                raise ValueError("TF_CONFIG has no 'cluster': set it to {\"cluster\": {\"worker\": [...]}, "
                                 "\"task\": {\"type\": \"worker\", \"index\": i}}")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy={strategy!r} is not valid; choose one of {', '.join(STRATEGIES)} "
                     "or pass a tf.distribute.Strategy")


def task(strategy: tf.distribute.Strategy) -> tuple[str | None, int | None]:
    """(task_type, task_id) of this process in a multi-worker cluster; (None, None) otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return None, None
    return resolver.task_type, resolver.task_id


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints, summaries and the final model.

    The chief is the task of type ``chief`` or, in a cluster without one, ``worker`` 0 (TensorFlow's rule).
    Single-process strategies are always chief.
    """
    task_type, task_id = task(strategy)
    if task_type is None:
        return True
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return chief_of(cluster, task_type, task_id)


def chief_of(cluster: dict, task_type: str | None, task_id: int | None) -> bool:
    """The chief rule on a plain ``TF_CONFIG`` cluster dict (pure, for tests)."""
    if task_type is None or task_type == "chief":
        return True
    return task_type == "worker" and int(task_id or 0) == 0 and "chief" not in cluster


def write_dir(path: str | os.PathLike, strategy: tf.distribute.Strategy) -> str:
    """``path`` on the chief; a fresh private temporary folder on every other worker."""
    if is_chief(strategy):
        os.makedirs(path, exist_ok=True)
        return os.fspath(path)
    task_type, task_id = task(strategy)
    return tempfile.mkdtemp(prefix=f"vlae_{task_type}{task_id}_")


def remove_write_dir(path: str | os.PathLike, strategy: tf.distribute.Strategy) -> None:
    """Deletes a non-chief worker's temporary folder (never the chief's)."""
    if not is_chief(strategy):
        shutil.rmtree(path, ignore_errors=True)


__all__ = ["STRATEGIES", "build_strategy", "chief_of", "is_chief", "remove_write_dir", "split_cpu", "task",
           "write_dir"]
