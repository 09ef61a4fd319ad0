"""Mixed precision for the custom loop: the dtype policy models are built under, and the optimizer.

``mixed_float16``   float16 compute, float32 weights, a dynamic ``LossScaleOptimizer``: float16 gradients of
                    small losses underflow, so the loss is multiplied by a scale that halves after a
                    non-finite step (which is skipped) and doubles after ``dynamic_growth_steps`` good ones.
``mixed_bfloat16``  bfloat16 compute, float32 weights; bfloat16 has float32's exponent range, so no scaling.
``float32``         everything float32.

The posterior heads, the decoder output and the loss stay float32 under every policy (the layers pin them),
because TFP distributions need float32 parameters.
"""

from __future__ import annotations

import contextlib
import pathlib
from typing import Callable

import keras
import tensorflow as tf

from vlae_tf.config import PRECISIONS, ExperimentConfig


@contextlib.contextmanager
def policy_scope(precision: str):
    """Sets Keras' global dtype policy for the ``with`` block, restoring the previous one afterwards.

    Layers take the policy when they are created, so a model built inside keeps computing in ``precision``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not valid; choose one of {', '.join(PRECISIONS)}")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def learning_rate_schedule(config: ExperimentConfig):
    """``train.learning_rate``, or its cosine decay over ``train.lr_decay_steps`` steps down to
    ``train.lr_decay_floor`` of it (a ``keras.optimizers.schedules.CosineDecay`` of the optimizer's step)."""
    train = config.train
    if train.lr_decay_steps is None:
        return train.learning_rate
    return keras.optimizers.schedules.CosineDecay(train.learning_rate, train.lr_decay_steps,
                                                  alpha=train.lr_decay_floor)


def restore_learning_rate(optimizer: keras.optimizers.Optimizer, config: ExperimentConfig) -> None:
    """After a checkpoint restore: a constant rate is a variable the checkpoint overwrote with the old run's
    value, so set the configured one (it may change on resume); a schedule is rebuilt from the config."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if config.train.lr_decay_steps is None:
        inner.learning_rate = config.train.learning_rate


def build_optimizer(config: ExperimentConfig, precision: str,
                    optimizer: Callable[[], keras.optimizers.Optimizer] | keras.optimizers.Optimizer | None = None
                    ) -> keras.optimizers.Optimizer:
    """Adam at ``learning_rate_schedule(config)`` (with ``global_clipnorm=train.clip_norm``) unless
    ``optimizer`` is given (an optimizer or a zero-argument factory); wrapped in a ``LossScaleOptimizer`` for ``mixed_float16``.

    Call inside ``strategy.scope()``, so the optimizer's variables are mirrored like the model's. Keras clips
    each replica's share of the gradient before summing the replicas, exactly as ``model.fit`` does.
    """
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate_schedule(config), global_clipnorm=config.train.clip_norm)
    elif callable(optimizer) and not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer()
    if precision == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


# CPU flags of native bfloat16 arithmetic (Intel AMX, AVX512-BF16 on Intel and AMD); without them bfloat16 is
# emulated and slower than float32.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def fastest_precision(cpuinfo: str | None = None) -> str:
    """The policy that trains fastest here: ``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a CPU with native
    bfloat16 (measured 1.7-1.8x float32's speed on both kinds seen), else ``float32``.

    cpuinfo: the text of /proc/cpuinfo (read when None; empty where the file does not exist).
    """
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    if cpuinfo is None:
        path = pathlib.Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    flags = set(cpuinfo.split())
    return "mixed_bfloat16" if flags.intersection(BF16_CPU_FLAGS) else "float32"


def loss_scale(optimizer: keras.optimizers.Optimizer) -> float | None:
    """The current dynamic loss scale, or None when the optimizer does not scale the loss."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) and optimizer.built:
        return float(keras.ops.convert_to_numpy(optimizer.dynamic_scale))
    return None


def learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate now (schedules evaluated at the current iteration)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


__all__ = ["build_optimizer", "fastest_precision", "learning_rate", "learning_rate_schedule", "loss_scale",
           "policy_scope", "restore_learning_rate"]
