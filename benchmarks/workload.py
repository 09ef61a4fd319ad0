"""What the benchmarks train: a preset's model in one precision, fed fixed in-memory batches of its shape.

Every section that times a model builds it here, so the speed figures of ``throughput``, ``scaling``,
``flops``, ``memory`` and ``serving`` refer to the same model for the same preset and seed.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vlae_tf.io import run_model  # noqa: E402
from vlae_tf.training import precision as mixed  # noqa: E402

# The dtype a precision's matrix multiplies run in: the rate the training step is compared against.
COMPUTE_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def build_model(config, precision: str = "float32"):
    """The model of ``config`` (seeded with ``train.seed``), its layers created under ``precision``."""
    keras.utils.set_random_seed(config.train.seed)
    with mixed.policy_scope(precision):
        return run_model.build_model(config)


def resolve_jit(jit: str | bool) -> bool:
    """``"auto"`` is what ``model.fit`` and the custom loop choose: XLA with a GPU, none on a CPU."""
    if jit == "auto":
        return bool(tf.config.list_logical_devices("GPU"))
    return jit in (True, "on", "true", "1")


def fixed_batches(config, count: int = 4, seed: int = 0) -> np.ndarray:
    """``count`` batches [count, B, H, W, C] of the preset's shape and value range.

    Binary images for Bernoulli models, uniform [0, 1] otherwise: the arithmetic, hence the speed, does not
    depend on what the pixels show.
    """
    shape = (count, config.data.batch_size) + tuple(config.model.image_shape)
    images = np.random.default_rng(seed).random(shape, dtype=np.float32)
    if config.model.likelihood == "bernoulli":
        images = (images < 0.3).astype(np.float32)
    return images


def batches_dataset(images: np.ndarray) -> tf.data.Dataset:
    """The batches of :func:`fixed_batches`, in memory, repeated forever."""
    return tf.data.Dataset.from_tensor_slices(images).cache().repeat()


def release() -> None:
    """Frees the models built so far (Keras' global state keeps them alive otherwise), so a suite that builds
    dozens of models in one process does not grow by gigabytes."""
    keras.backend.clear_session()
    gc.collect()
