"""Named presets, each built from a base by overriding a few fields.

Sizes follow the original code (ermongroup/Variational-Ladder-Autoencoder) where it had the dataset:
MNIST 3 rungs x 2 dims, SVHN 4 rungs 5/5/5/10, CelebA 4 rungs x 10. ``shapes`` is the embedded,
procedurally generated default. Baselines are the same preset with ``model.kind`` changed:
``get("mnist", **{"model.kind": "hvae"})`` or the names ``mnist_hvae`` / ``mnist_vae``.
"""

from __future__ import annotations

from typing import Any

from vlae_tf.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig

_BASE = ExperimentConfig()

_PRESETS: dict[str, ExperimentConfig] = {
    # 32x32 RGB, factors at three levels (colour / position+scale / shape+rotation); small enough for a CPU.
    # Gaussian likelihood: the images are continuous colours, not binary. Rung 1 injects a tiled vector: with
    # a dense map it drew the shape's position and the top rung took the colours (docs/comparison.md).
    "shapes": ExperimentConfig(
        model=ModelConfig(image_shape=(32, 32, 3), latent_dims=(3, 3, 3), conv_channels=(32, 64), dense_units=256,
                          likelihood="gaussian", broadcast_rungs=1),
        data=DataConfig(dataset="shapes", batch_size=64),
        train=TrainConfig(learning_rate=1e-3, epochs=10)),
    "mnist": ExperimentConfig(
        model=ModelConfig(image_shape=(28, 28, 1), latent_dims=(2, 2, 2), conv_channels=(64, 128),
                          dense_units=1024),
        data=DataConfig(dataset="mnist", batch_size=100, binarize="dynamic"),
        train=TrainConfig(learning_rate=2e-4, epochs=50)),
    "svhn": ExperimentConfig(
        model=ModelConfig(image_shape=(32, 32, 3), latent_dims=(5, 5, 5, 10), conv_channels=(64, 128, 256),
                          dense_units=1024, likelihood="gaussian"),
        data=DataConfig(dataset="svhn_cropped", batch_size=100),
        train=TrainConfig(learning_rate=2e-4, epochs=50)),
    "celeba": ExperimentConfig(
        model=ModelConfig(image_shape=(64, 64, 3), latent_dims=(10, 10, 10, 10), conv_channels=(64, 128, 256),
                          dense_units=1024, likelihood="gaussian"),
        data=DataConfig(dataset="celeb_a", batch_size=100),
        train=TrainConfig(learning_rate=2e-4, epochs=20)),
    "dsprites": ExperimentConfig(
        model=ModelConfig(image_shape=(64, 64, 1), latent_dims=(2, 2, 2), conv_channels=(32, 64), dense_units=512),
        data=DataConfig(dataset="dsprites", batch_size=64),
        train=TrainConfig(learning_rate=5e-4, epochs=10)),
    "shapes3d": ExperimentConfig(
        model=ModelConfig(image_shape=(64, 64, 3), latent_dims=(3, 3, 3), conv_channels=(32, 64), dense_units=512,
                          beta=8.0),
        data=DataConfig(dataset="shapes3d", batch_size=64),
        train=TrainConfig(learning_rate=5e-4, epochs=10)),
}

DEFAULT_PRESET = "shapes"
_BASELINE_SUFFIXES = {"_hvae": "hvae", "_vae": "vae", "_vlae": "vlae"}


def names() -> list[str]:
    """Every preset name, baselines included."""
    base = sorted(_PRESETS)
    return base + [f"{n}{s}" for n in base for s in ("_hvae", "_vae")]


def get(name: str = DEFAULT_PRESET, **overrides: Any) -> ExperimentConfig:
    """The preset ``name`` with dotted overrides applied (``get("mnist", **{"model.beta": 2.0})``)."""
    kind = None
    base_name = name
    for suffix, suffix_kind in _BASELINE_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in _PRESETS:
            base_name, kind = name[: -len(suffix)], suffix_kind
    if base_name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(names())}")
    config = _PRESETS[base_name]
    if kind is not None:
        overrides = {"model.kind": kind, **overrides}
    return config.replace(**overrides) if overrides else config
