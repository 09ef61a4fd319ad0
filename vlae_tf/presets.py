"""Named presets, each the base configuration with a few dotted overrides.

Sizes follow the original code (ermongroup/Variational-Ladder-Autoencoder) where it had the dataset:
MNIST 3 rungs x 2 dims, SVHN 4 rungs 5/5/5/10, CelebA 4 rungs x 10. ``shapes`` is the embedded,
procedurally generated default. Baselines are the same preset with ``model.kind`` changed:
``get("mnist", **{"model.kind": "hvae"})`` or the names ``mnist_hvae`` / ``mnist_lvae`` / ``mnist_vae``.
``<preset>_provlae`` is the preset's VLAE with pro-VLAE progressive training (``PROGRESSIVE``).
"""

from __future__ import annotations

from typing import Any

from vlae_tf.config import MODEL_KINDS, ExperimentConfig

_BASE = ExperimentConfig()  # every field a preset does not name keeps the dataclass default

# The original's datasets share its optimiser settings.
_ORIGINAL = {"model.dense_units": 1024, "data.batch_size": 100, "train.learning_rate": 2e-4}

_OVERRIDES: dict[str, dict[str, Any]] = {
    # 32x32 RGB, factors at three levels (colour / position+scale / shape+rotation); small enough for a CPU.
    # Gaussian likelihood: the images are continuous colours, not binary. Rung 1 and the top rung inject tiled
    # vectors, so only rung 2 can place anything: with dense maps the top rung took the position and no rung
    # held the shape. Four dims on rung 1 and the top: two hue circles below, shape and rotation above.
    # Batches of 32: on a CPU, 8000 steps of 32 take about as long as 5000 of 64 and reconstruct the shape
    # far better (docs/comparison.md); 13 epochs are ~8000 steps. Rung 2's dense map has a hidden layer: its
    # codes then stay nearer the prior. Rung 1 joins after its upsampling (late_broadcast) by FiLM (scale and
    # shift per feature): nothing spatial follows its code, so it cannot resize the shape, and it tints the
    # shape's mask in one product, so the shape colour leaves the top rung; over 3 seeds this took shape
    # fidelity from 0.90 to 0.95, rotation from 0.74 to 0.87 and put scale on rung 2 in 2 seeds (of 0 before),
    # at a cost: valid prior samples fell from 0.48 to 0.21. "film,concat" (FiLM on rung 1 only) keeps 0.39 of
    # them but puts scale on the top rung in every seed (docs/comparison.md).
    # Rungs 1 and 2 train alone for the first 1250 steps and the top rung fades in after them (a progressive
    # schedule in the order opposite to pro-VLAE's): the colours, the position and the scale are taken by the
    # rungs that can express them before the top rung can compete, and the top rung learns what is left, the
    # shape and the rotation. Without it the top rung kept part of the shape colour in one seed of three; after
    # 1000 steps the top rung took scale from rung 2 in one seed of five, after 1500 rotation fidelity fell to
    # 0.88 in one of three; after 1250 every target held in seeds 0-4 (docs/comparison.md).
    # Rung 1's posterior reads a maximum over the grid (broadcast_posteriors): which colours occur, not where or
    # over how much of the image. With the flattened map its code also carried the shape's size (probe bound
    # 0.68-0.69), which its decoder used to resize the shape.
    "shapes": {"model.image_shape": (32, 32, 3), "model.latent_dims": (4, 3, 4), "model.conv_channels": (32, 64),
               "model.dense_units": 256, "model.likelihood": "gaussian", "model.broadcast_rungs": 1,
               "model.broadcast_top": True, "model.dense_injection_units": 256, "model.late_broadcast": True,
               "model.broadcast_posteriors": True,
               "model.combine": "film", "model.progressive_steps": 1250, "model.progressive_phases": (0, 0, 1),
               "data.dataset": "shapes", "data.batch_size": 32, "train.learning_rate": 1e-3, "train.epochs": 13},
    # pro-VLAE's order by default: the top rung trains alone for 2500 steps, rung 2 joins, then rung 1, each
    # faded in over 1250 steps. Over 3 seeds to 10,000 steps the top rung then read the digit best at every
    # checkpoint (logistic probe 0.664 +- 0.034, the next rung 0.348); trained all at once, the best rung
    # was rung 2 in two seeds of three and the top rung read 0.470 +- 0.069 (docs/comparison.md).
    "mnist": {**_ORIGINAL, "model.image_shape": (28, 28, 1), "model.latent_dims": (2, 2, 2),
              "model.conv_channels": (64, 128), "model.progressive_steps": 2500, "data.dataset": "mnist",
              "data.binarize": "dynamic", "train.epochs": 50},
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

# Progressive schedules (vlae_tf/progressive.py): every rung active by about half of the preset's default
# training steps, so the full ladder trains as long as the progression took; the fade is the authors' 5000
# steps where phases are long, half a phase (the default) where they are short.
PROGRESSIVE: dict[str, dict[str, Any]] = {
    "shapes": {"model.progressive_steps": 2000},  # ~8100 steps by default: all 3 rungs from step 4000, top first
    "mnist": {"model.progressive_steps": 2500},  # the preset's own schedule (measured to 10,000 steps)
    "svhn": {"model.progressive_steps": 5000, "model.fade_in_steps": 2500},  # ~36000 steps, 4 rungs
    "celeba": {"model.progressive_steps": 5000, "model.fade_in_steps": 2500, "model.pre_kl": 0.1},  # authors' coff
    "dsprites": {"model.progressive_steps": 20000, "model.fade_in_steps": 5000},  # ~115000 steps
    "shapes3d": {"model.progressive_steps": 15000, "model.fade_in_steps": 5000},  # ~75000 steps
}
PROGRESSIVE_SUFFIX = "_provlae"

DEFAULT_PRESET = "shapes"
# ``<preset>_<kind>``: the same preset with another model kind (``mnist_hvae``, ``shapes_lvae``, ...).
_KIND_SUFFIXES = {f"_{kind}": kind for kind in MODEL_KINDS}


def names() -> list[str]:
    """Every preset name, baselines included."""
    base = sorted(_PRESETS)
    return (base + [f"{n}_{kind}" for n in base for kind in MODEL_KINDS if kind != "vlae"]
            + [n + PROGRESSIVE_SUFFIX for n in base])


def progressive_overrides(name: str) -> dict[str, Any]:
    """The progressive schedule of preset ``name`` (a kind suffix is ignored): dotted overrides that turn its
    VLAE into a pro-VLAE, e.g. ``{"model.progressive_steps": 800}``."""
    base_name = _split(name)[0]
    return {"model.progressive_phases": None, **PROGRESSIVE[base_name]}  # pro-VLAE's order: the top rung first


def _split(name: str) -> tuple[str, dict[str, Any]]:
    """(base preset, overrides its suffix implies); a one-line error for an unknown name."""
    if name.endswith(PROGRESSIVE_SUFFIX) and name[: -len(PROGRESSIVE_SUFFIX)] in _PRESETS:
        base_name = name[: -len(PROGRESSIVE_SUFFIX)]
        return base_name, {"model.kind": "vlae", **progressive_overrides(base_name)}
    for suffix, suffix_kind in _KIND_SUFFIXES.items():
        if name.endswith(suffix) and name[: -len(suffix)] in _PRESETS:
            return name[: -len(suffix)], {"model.kind": suffix_kind}
    if name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(names())}")
    return name, {}


def get(name: str = DEFAULT_PRESET, **overrides: Any) -> ExperimentConfig:
    """The preset ``name`` with dotted overrides applied (``get("mnist", **{"model.beta": 2.0})``).

    A baseline (another ``model.kind``) of a preset with a progressive schedule, or of a ``_provlae`` name,
    trains every rung at once (``ExperimentConfig.with_kind``) unless the caller's own overrides name one."""
    base_name, implied = _split(name)
    config = _PRESETS[base_name]
    kind = overrides.get("model.kind", implied.get("model.kind", config.model.kind))
    if kind != "vlae":
        implied = {}  # a _provlae name's schedule is the VLAE's, not the baseline's
    overrides = {key: value for key, value in {**implied, **overrides}.items() if key != "model.kind"}
    if kind == config.model.kind and not overrides:
        return config
    return config.with_kind(kind, **overrides)
