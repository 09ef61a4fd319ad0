"""Named presets, each the base configuration with a few dotted overrides.

Sizes follow the original code (ermongroup/Variational-Ladder-Autoencoder) where it had the dataset:
MNIST 3 rungs x 2 dims, SVHN 4 rungs 5/5/5/10, CelebA 4 rungs x 10. ``shapes`` is the embedded,
procedurally generated default. Baselines are the same preset with ``model.kind`` changed:
``get("mnist", **{"model.kind": "hvae"})`` or the names ``mnist_hvae`` / ``mnist_lvae`` / ``mnist_vae``.
"""

from __future__ import annotations

from typing import Any

from vlae_tf.config import MODEL_KINDS, ExperimentConfig

_BASE = ExperimentConfig()  # every field a preset does not name keeps the dataclass default

# The original's datasets share its optimiser settings.
_ORIGINAL = {"model.dense_units": 1024, "data.batch_size": 100, "train.learning_rate": 2e-4}

_OVERRIDES: dict[str, dict[str, Any]] = {
    # 32x32 RGB, factors at three levels (colour / position+scale / shape+rotation); small enough for a CPU.
    # Gaussian likelihood: the images are continuous colours, not binary. Rung 1 injects a tiled vector: with
    # a dense map it drew the shape's position and the top rung took the colours (docs/comparison.md).
    "shapes": {"model.image_shape": (32, 32, 3), "model.latent_dims": (3, 3, 3), "model.conv_channels": (32, 64),
               "model.dense_units": 256, "model.likelihood": "gaussian", "model.broadcast_rungs": 1,
               "data.dataset": "shapes", "data.batch_size": 64, "train.learning_rate": 1e-3, "train.epochs": 10},
    "mnist": {**_ORIGINAL, "model.image_shape": (28, 28, 1), "model.latent_dims": (2, 2, 2),
              "model.conv_channels": (64, 128), "data.dataset": "mnist", "data.binarize": "dynamic",
              "train.epochs": 50},
    "svhn": {**_ORIGINAL, "model.image_shape": (32, 32, 3), "model.latent_dims": (5, 5, 5, 10),
             "model.conv_channels": (64, 128, 256), "model.likelihood": "gaussian", "data.dataset": "svhn_cropped",
             "train.epochs": 50},
    "celeba": {**_ORIGINAL, "model.image_shape": (64, 64, 3), "model.latent_dims": (10, 10, 10, 10),
               "model.conv_channels": (64, 128, 256), "model.likelihood": "gaussian", "data.dataset": "celeb_a",
               "train.epochs": 20},
    "dsprites": {"model.image_shape": (64, 64, 1), "model.latent_dims": (2, 2, 2), "model.conv_channels": (32, 64),
                 "model.dense_units": 512, "data.dataset": "dsprites", "data.batch_size": 64,
                 "train.learning_rate": 5e-4, "train.epochs": 10},
    "shapes3d": {"model.image_shape": (64, 64, 3), "model.latent_dims": (3, 3, 3), "model.conv_channels": (32, 64),
                 "model.dense_units": 512, "model.beta": 8.0, "data.dataset": "shapes3d", "data.batch_size": 64,
                 "train.learning_rate": 5e-4, "train.epochs": 10},
}

_PRESETS: dict[str, ExperimentConfig] = {name: _BASE.replace(**o) for name, o in _OVERRIDES.items()}

DEFAULT_PRESET = "shapes"
# ``<preset>_<kind>``: the same preset with another model kind (``mnist_hvae``, ``shapes_lvae``, ...).
_KIND_SUFFIXES = {f"_{kind}": kind for kind in MODEL_KINDS}


def names() -> list[str]:
    """Every preset name, baselines included."""
    base = sorted(_PRESETS)
    return base + [f"{n}_{kind}" for n in base for kind in MODEL_KINDS if kind != "vlae"]


def get(name: str = DEFAULT_PRESET, **overrides: Any) -> ExperimentConfig:
    """The preset ``name`` with dotted overrides applied (``get("mnist", **{"model.beta": 2.0})``)."""
    kind = None
    base_name = name
    for suffix, suffix_kind in _KIND_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in _PRESETS:
            base_name, kind = name[: -len(suffix)], suffix_kind
    if base_name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(names())}")
    config = _PRESETS[base_name]
    if kind is not None:
        overrides = {"model.kind": kind, **overrides}
    return config.replace(**overrides) if overrides else config
