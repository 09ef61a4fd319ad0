"""The one tiny configuration tests build models from: the shapes preset at 16x16 RGB with narrow layers
(3 rungs of 3), and random images of its shape. Tests pin whatever else they rely on with overrides."""

import numpy as np

from vlae_tf import presets

IMAGE_SHAPE = (16, 16, 3)
# Latent sizes, the injections and the batch size are pinned so tests keep their shapes when the preset's change.
TINY = {"model.image_shape": IMAGE_SHAPE, "model.conv_channels": (8, 16), "model.dense_units": 32,
        "model.latent_dims": (3, 3, 3), "model.broadcast_top": False, "model.late_broadcast": False,
        "model.broadcast_posteriors": False,
        "model.dense_injection_units": 0, "model.combine": "concat",
        "model.progressive_steps": None, "model.progressive_phases": None, "data.batch_size": 64}


def tiny_config(kind: str = "vlae", **overrides):
    """``presets.get("shapes")`` shrunk to TINY, as ``kind``, with dotted ``overrides`` applied last."""
    return presets.get("shapes", **{"model.kind": kind, **TINY, **overrides})


def tiny_images(n: int = 4, seed: int = 0, shape=IMAGE_SHAPE) -> np.ndarray:
    """[n, *shape] float32 uniform in [0, 1]."""
    return np.random.default_rng(seed).uniform(size=(n,) + tuple(shape)).astype("float32")
