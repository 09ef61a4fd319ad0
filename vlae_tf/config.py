"""Frozen, validated configuration: one dataclass per concern.

``ExperimentConfig`` bundles a ``ModelConfig`` (the ladder), a ``DataConfig`` (what is fed) and a
``TrainConfig`` (how it is optimised). Every per-rung quantity is a tuple indexed by rung, rung 1 being
the one nearest the pixels. Bad values raise ``ValueError`` naming the field and listing what is valid.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

MODEL_KINDS = ("vlae", "hvae", "lvae", "vae")
COMBINES = ("concat", "add", "gated_add", "film", "adain")
LIKELIHOODS = ("bernoulli", "gaussian", "l1")
REGULARIZERS = ("kl", "mmd")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "swish", "gelu")
DATASETS = ("shapes", "mnist", "svhn_cropped", "celeb_a", "dsprites", "shapes3d", "npz", "folder")
BINARIZATIONS = ("none", "static", "dynamic")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
SPLITS = ("train", "test")  # every data source has these two; evaluation may use either


def _check_choice(name: str, value: Any, valid: tuple) -> None:
    if value not in valid:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {', '.join(map(str, valid))}")


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    if value is None or (value < 0 if allow_zero else value <= 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} is not valid; it must be {bound}")


def _as_tuple(value: Any, length: int | None = None, name: str = "") -> tuple:
    """Scalars broadcast to ``length``; sequences become tuples (length checked when given)."""
    if isinstance(value, (list, tuple)):
        out = tuple(value)
    else:
        out = (value,) * (length or 1)
    if length is not None and len(out) != length:
        raise ValueError(f"{name} has {len(out)} entries but the model has {length} rungs; give one per rung")
    return out


def _ints(name: str, value: Any, what: str) -> tuple:
    """``value`` as a tuple of ints; a ValueError naming the field (not int()'s) when an entry is not one."""
    try:
        return tuple(int(v) for v in _as_tuple(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not valid; give {what}") from None


@dataclass(frozen=True)
class ModelConfig:
    """The ladder. Rung l (1..L) has ``latent_dims[l-1]`` Gaussian latents.

    Rungs 1..L-1 are convolutional: each halves the resolution with ``convs_per_rung`` convolutions of
    ``conv_channels[l-1]`` filters. Rung L is fully connected (``dense_units`` wide), so the top latent
    sits behind the most layers: the capacity gap of the paper's section 4.
    """

    kind: str = "vlae"  # vlae | hvae (stacked Markov baseline) | lvae (Ladder VAE) | vae (one flat latent)
    image_shape: tuple = (32, 32, 3)
    latent_dims: tuple = (3, 3, 3)
    conv_channels: tuple = (64, 128)  # one per convolutional rung: len(latent_dims) - 1 entries
    convs_per_rung: int = 2  # convolutions per rung; the first strides by 2
    dense_units: int = 512  # top rung width (the original used 1024 for MNIST)
    activation: str = "leaky_relu"  # the original's lrelu
    # How v_l(z_l) joins g_{l+1}: concat | add | gated_add (gate starts at 0.1) | film | adain. One mode for every
    # convolutional rung, or one per convolutional rung from the pixels up ("film,concat" on the command line);
    # the top rung joins nothing. A uniform tuple is stored as its one mode.
    combine: tuple | str = "concat"
    # The lowest ``broadcast_rungs`` rungs inject z_l as one feature vector tiled over their grid instead of a
    # dense map to it: they can set per-pixel statistics (colour) but cannot place anything. 0 is the
    # original code; the shapes preset needs 1 for the VLAE's hierarchy to form (docs/comparison.md).
    broadcast_rungs: int = 0
    # The broadcast rungs inject after u_l's upsampling instead of before it, followed only by a 1x1 mix: their
    # code then changes each pixel's features with no spatial layer behind it but the likelihood head's 3x3,
    # so it can recolour but not resize or reshape (on shapes, the tiled rung 1 otherwise took the scale).
    late_broadcast: bool = False
    # The broadcast rungs' posterior heads read their features through a 1x1 convolution and a maximum over the
    # grid instead of a flattened map: which features occur, not where or over how much of the image. The code
    # that cannot place anything in the decoder then cannot learn a layout or a size in the encoder either (on
    # shapes, rung 1's code otherwise carried the scale, which its decoder used to resize the shape).
    broadcast_posteriors: bool = False
    # The top rung's u_L maps z_L to one vector tiled over the grid instead of a dense feature map: the top code
    # then says what is drawn but cannot say where, so position must sit on a rung below. VLAE only: the other
    # kinds decode everything from their top rung's code and keep the dense map (as with broadcast_rungs).
    broadcast_top: bool = False
    # Hidden units of the dense maps v_l (the rungs that inject a dense map, not a tiled vector). 0: one dense
    # layer, as in the original, so each feature of v_l(z) is one half-space of the code; with a hidden layer
    # a few-dimensional code can draw a bump of any position and extent.
    dense_injection_units: int = 0
    likelihood: str = "bernoulli"  # bernoulli | gaussian | l1 (the original's scaled L1)
    # Kernel of the likelihood head r (a convolution g_1 -> the likelihood's parameters); odd. 1: each pixel's
    # parameters read only that pixel's features, so a late-broadcast rung 1 has no spatial layer behind it.
    head_kernel: int = 3
    gaussian_scale: float | None = None  # None: learn one log-scale per channel; a float fixes it
    l1_scale: float = 1.0  # multiplies the summed L1 distortion (the original weighs it against the KL)
    regularizer: str = "kl"  # kl | mmd (InfoVAE MMD of q(z_l) to N(0, I))
    beta: tuple | float = 1.0  # per-rung KL weight; a scalar applies to every rung
    warmup_steps: float = 2000.0  # KL weight 1 - exp(-step / warmup_steps); 0 disables the warm-up
    mmd_weight: float = 1000.0  # per-rung MMD weight (InfoVAE uses large values: MMD is tiny per batch)
    salt_pepper: float = 0.0  # denoising: fraction of pixels set to 0 or 1 at training time
    input_noise: float = 0.0  # denoising: stddev of Gaussian noise added to the input at training time
    # pro-VLAE progressive training (Li et al. 2020; vlae_tf/progressive.py), VLAE only: train the top rung
    # alone for ``progressive_steps`` optimizer steps, then add one rung below per phase of that length.
    # None (or 0) trains every rung from the start, as the original VLAE does.
    progressive_steps: int | None = None
    # Steps over which a joining rung's injection rises linearly from 0 to 1. None: half a phase, long enough
    # for the decoder to adapt without a jump, short enough that the rung trains at full strength in its phase.
    fade_in_steps: int | None = None
    # KL weight on rungs not yet active (the authors' "pre-KL" ``coff``: 0.5 for dSprites and 3D Shapes), so
    # their posteriors sit at the prior when they join; not multiplied by beta, as in the authors' code.
    pre_kl: float = 0.5
    # The phase in which each rung (1 = nearest the pixels) joins, rung l at ``phase_l * progressive_steps``.
    # None: pro-VLAE's order, the top rung alone first and one rung below per phase, (L-1, ..., 1, 0).
    # (0, 0, 1) trains rungs 1 and 2 first and adds the top rung one phase later: the lower rungs take the
    # factors they can express before the top rung can compete for them.
    progressive_phases: tuple | None = None

    def __post_init__(self):
        _check_choice("model.kind", self.kind, MODEL_KINDS)
        _check_choice("model.likelihood", self.likelihood, LIKELIHOODS)
        _check_choice("model.regularizer", self.regularizer, REGULARIZERS)
        _check_choice("model.activation", self.activation, ACTIVATIONS)
        shape = _ints("model.image_shape", self.image_shape, "(height, width, channels) as integers")
        if len(shape) != 3 or min(shape) <= 0 or shape[-1] not in (1, 3):
            raise ValueError(f"model.image_shape={self.image_shape!r} is not valid; give (height, width, channels) "
                             "with channels 1 or 3")
        object.__setattr__(self, "image_shape", shape)
        dims = _ints("model.latent_dims", self.latent_dims, "one positive integer size per rung, e.g. (2, 2, 2)")
        if not dims or min(dims) <= 0:
            raise ValueError(f"model.latent_dims={self.latent_dims!r} is not valid; give one positive size per rung")
        object.__setattr__(self, "latent_dims", dims)
        channels = _ints("model.conv_channels", self.conv_channels, "one positive integer per convolutional rung")
        if len(channels) != len(dims) - 1 and self.kind != "vae":
            raise ValueError(f"model.conv_channels has {len(channels)} entries; a {len(dims)}-rung model needs "
                             f"{len(dims) - 1} (one per convolutional rung below the dense top rung)")
        if channels and min(channels) <= 0:
            raise ValueError(f"model.conv_channels={channels!r} must be positive")
        object.__setattr__(self, "conv_channels", channels)
        self._check_combine()
        factor = 2 ** len(channels)
        if shape[0] % factor or shape[1] % factor:
            raise ValueError(f"model.image_shape={shape} cannot be halved {len(channels)} times; height and width "
                             f"must be multiples of {factor}")
        beta = self.beta
        if isinstance(beta, (tuple, list)) and len(set(beta)) == 1:
            beta = beta[0]  # a uniform beta follows the rung count (e.g. when latent_dims is overridden)
        object.__setattr__(self, "beta", tuple(float(b) for b in _as_tuple(beta, len(dims), "model.beta")))
        for b in self.beta:
            _check_positive("model.beta", b, allow_zero=True)
        if self.late_broadcast not in (True, False):
            raise ValueError(f"model.late_broadcast={self.late_broadcast!r} is not valid; give True or False")
        if self.broadcast_posteriors not in (True, False):
            raise ValueError(f"model.broadcast_posteriors={self.broadcast_posteriors!r} is not valid; "
                             "give True or False")
        if self.broadcast_posteriors and self.broadcast_rungs == 0:
            raise ValueError("model.broadcast_posteriors=True pools the broadcast rungs' posteriors; it needs "
                             "model.broadcast_rungs >= 1")
        if self.late_broadcast and self.broadcast_rungs == 0:
            raise ValueError("model.late_broadcast=True moves the broadcast rungs' injection; it needs "
                             "model.broadcast_rungs >= 1")
        if self.broadcast_top not in (True, False):
            raise ValueError(f"model.broadcast_top={self.broadcast_top!r} is not valid; give True or False")
        if self.broadcast_rungs < 0 or (self.kind == "vlae" and self.broadcast_rungs > len(dims) - 1):
            raise ValueError(f"model.broadcast_rungs={self.broadcast_rungs!r} is not valid; give 0..{len(dims) - 1}: "
                             "how many of the convolutional rungs, from the pixels up, inject a tiled vector")
        if not isinstance(self.head_kernel, int) or self.head_kernel < 1 or self.head_kernel % 2 == 0:
            raise ValueError(f"model.head_kernel={self.head_kernel!r} is not valid; give an odd kernel size "
                             "(1, 3, 5, ...)")
        _check_positive("model.convs_per_rung", self.convs_per_rung)
        _check_positive("model.dense_injection_units", self.dense_injection_units, allow_zero=True)
        _check_positive("model.dense_units", self.dense_units)
        _check_positive("model.warmup_steps", self.warmup_steps, allow_zero=True)
        _check_positive("model.mmd_weight", self.mmd_weight, allow_zero=True)
        _check_positive("model.l1_scale", self.l1_scale)
        if self.gaussian_scale is not None:
            _check_positive("model.gaussian_scale", self.gaussian_scale)
        if not 0.0 <= self.salt_pepper < 1.0:
            raise ValueError(f"model.salt_pepper={self.salt_pepper!r} must lie in [0, 1)")
        _check_positive("model.input_noise", self.input_noise, allow_zero=True)
        self._check_progressive()

    def _check_combine(self):
        combine = self.combine
        if isinstance(combine, str) and "," in combine:
            combine = tuple(mode.strip() for mode in combine.split(","))
        modes = tuple(combine) if isinstance(combine, (tuple, list)) else (combine,)
        for mode in modes:
            _check_choice("model.combine", mode, COMBINES)
        if len(set(modes)) == 1:
            object.__setattr__(self, "combine", modes[0])  # one spelling of "every rung alike"
            return
        if len(modes) != len(self.conv_channels):
            raise ValueError(f"model.combine has {len(modes)} modes but the model has {len(self.conv_channels)} "
                             "convolutional rungs; give one mode, or one per convolutional rung (the top joins none)")
        object.__setattr__(self, "combine", modes)

    def combine_of(self, level: int) -> str:
        """How rung ``level`` (1 = nearest the pixels) joins its code to the top-down features."""
        return self.combine if isinstance(self.combine, str) else self.combine[level - 1]

    def _check_progressive(self):
        steps = self.progressive_steps
        if isinstance(steps, bool) or not (steps is None or isinstance(steps, int)) or (steps or 0) < 0:
            raise ValueError(f"model.progressive_steps={steps!r} is not valid; give steps per phase (an int > 0), "
                             "or None/0 to train every rung from the start")
        object.__setattr__(self, "progressive_steps", steps or None)  # one spelling of "off" in saved configs
        fade = self.fade_in_steps
        if fade is not None and (isinstance(fade, bool) or not isinstance(fade, int) or fade < 0
                                 or (steps and fade > steps)):
            raise ValueError(f"model.fade_in_steps={fade!r} is not valid; give None (half a phase) or an int in "
                             f"0..model.progressive_steps ({steps})")
        _check_positive("model.pre_kl", self.pre_kl, allow_zero=True)
        self._check_progressive_phases()
        if steps and self.kind != "vlae":
            raise ValueError(f"model.progressive_steps={steps!r} is a VLAE option; model.kind={self.kind!r} "
                             "needs progressive_steps=None")
        if steps and self.regularizer != "kl":
            raise ValueError(f"model.progressive_steps={steps!r} needs model.regularizer='kl' (the pre-KL "
                             f"penalty is a KL), not {self.regularizer!r}")

    def _check_progressive_phases(self):
        phases = self.progressive_phases
        if phases is None:
            return
        if isinstance(phases, list):
            phases = tuple(phases)
            object.__setattr__(self, "progressive_phases", phases)
        rungs = len(self.latent_dims)
        if (not isinstance(phases, tuple) or len(phases) != rungs
                or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in phases) or min(phases) != 0):
            raise ValueError(f"model.progressive_phases={phases!r} is not valid; give one phase (an int >= 0) per "
                             f"rung ({rungs}), from the pixels up, with at least one rung in phase 0, or None for "
                             "pro-VLAE's top-down order")
        if not self.progressive_steps:
            raise ValueError(f"model.progressive_phases={phases!r} needs model.progressive_steps (the length of "
                             "a phase); to train every rung from the start set both to None")

    @property
    def num_rungs(self) -> int:
        return len(self.latent_dims)


@dataclass(frozen=True)
class DataConfig:
    """What is fed. Images reach the model as float32 in [0, 1], shaped ``ModelConfig.image_shape``."""

    dataset: str = "shapes"  # see DATASETS; npz = keras mnist.npz layout, folder = any image folder
    data_dir: str | None = None  # file or folder for npz/folder; TFDS data_dir for TFDS names
    batch_size: int = 64
    binarize: str = "none"  # none | static (threshold once) | dynamic (resample Bernoulli every epoch)
    seed: int = 0  # shapes generation, shuffling and dynamic binarisation
    num_train: int = 20000  # procedural shapes only: images generated for training
    num_test: int = 2000  # procedural shapes only: images generated for evaluation
    shuffle_buffer: int = 10000

    def __post_init__(self):
        _check_choice("data.dataset", self.dataset, DATASETS)
        _check_choice("data.binarize", self.binarize, BINARIZATIONS)
        _check_positive("data.batch_size", self.batch_size)
        _check_positive("data.num_train", self.num_train)
        _check_positive("data.num_test", self.num_test)
        _check_positive("data.shuffle_buffer", self.shuffle_buffer)
        if self.dataset in ("npz", "folder") and not self.data_dir:
            raise ValueError(f"data.dataset={self.dataset!r} needs data.data_dir (--data-dir): the path to read")


@dataclass(frozen=True)
class TrainConfig:
    """How the model is optimised."""

    learning_rate: float = 2e-4  # Adam, as in the original
    epochs: int = 10
    steps_per_epoch: int | None = None  # None: one pass over the training set
    seed: int = 0
    precision: str = "float32"  # float32 | mixed_float16 | mixed_bfloat16
    checkpoint_every: int = 500  # steps between checkpoints (both loops)
    keep_checkpoints: int = 3
    summary_every: int = 100  # steps between TensorBoard scalars (both loops)
    image_every: int = 1000  # steps between TensorBoard traversal images (both loops)
    max_nonfinite_steps: int = 10  # consecutive non-finite steps that stop a run
    clip_norm: float | None = None  # global gradient-norm clip; None disables
    # Cosine decay of the learning rate from learning_rate to lr_decay_floor * learning_rate over the first
    # lr_decay_steps steps, constant afterwards (a pure function of the step, so resumes continue it);
    # None keeps it constant. Fixed for a run: a resume may not switch it on, off or to another length. Annealing the step size sharpens what a short run ends on.
    lr_decay_steps: int | None = None
    lr_decay_floor: float = 0.05

    def __post_init__(self):
        _check_positive("train.learning_rate", self.learning_rate)
        _check_positive("train.epochs", self.epochs)
        if self.steps_per_epoch is not None:
            _check_positive("train.steps_per_epoch", self.steps_per_epoch)
        _check_choice("train.precision", self.precision, PRECISIONS)
        for name in ("checkpoint_every", "keep_checkpoints", "summary_every", "image_every", "max_nonfinite_steps"):
            _check_positive(f"train.{name}", getattr(self, name))
        if self.clip_norm is not None:
            _check_positive("train.clip_norm", self.clip_norm)
        steps = self.lr_decay_steps
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0):
            raise ValueError(f"train.lr_decay_steps={steps!r} is not valid; give an int > 0, or None for a "
                             "constant learning rate")
        if not 0.0 <= self.lr_decay_floor <= 1.0:
            raise ValueError(f"train.lr_decay_floor={self.lr_decay_floor!r} is not valid; give a fraction of "
                             "train.learning_rate in [0, 1]")


@dataclass(frozen=True)
class ExperimentConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> "ExperimentConfig":
        unknown = set(d) - {"model", "data", "train"}
        if unknown:
            raise ValueError(f"unknown config section(s) {sorted(unknown)}; valid: model, data, train")
        return cls(model=_build(ModelConfig, d.get("model", {})), data=_build(DataConfig, d.get("data", {})),
                   train=_build(TrainConfig, d.get("train", {})))

    def replace(self, **overrides: Any) -> "ExperimentConfig":
        """Override fields by dotted name: ``cfg.replace(**{"model.beta": 2.0, "data.batch_size": 32})``."""
        sections = {"model": {}, "data": {}, "train": {}}
        for key, value in overrides.items():
            section, _, name = key.partition(".")
            if section not in sections or not name:
                raise ValueError(f"override {key!r} must be 'section.field' with section one of model, data, train")
            sections[section][name] = value
        return ExperimentConfig(model=_replace(self.model, sections["model"]),
                                data=_replace(self.data, sections["data"]),
                                train=_replace(self.train, sections["train"]))

    def with_kind(self, kind: str, **overrides: Any) -> "ExperimentConfig":
        """This config as a ``kind`` model, with dotted ``overrides``. A progressive schedule is a VLAE setting:
        another kind trains every rung at once, unless ``overrides`` name a schedule (then an error)."""
        no_schedule = {"model.progressive_steps": None, "model.progressive_phases": None} if kind != "vlae" else {}
        return self.replace(**{"model.kind": kind, **no_schedule, **overrides})


def _field_names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _build(cls, values: Mapping):
    unknown = set(values) - set(_field_names(cls))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {sorted(unknown)}; valid: {', '.join(_field_names(cls))}")
    return cls(**values)


def _replace(obj, values: Mapping):
    if not values:
        return obj
    merged = {**dataclasses.asdict(obj), **values}
    return _build(type(obj), merged)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a CLI override ``section.field=value``; the value is read as a Python literal when it is one."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise ValueError(f"override {text!r} must look like section.field=value, e.g. model.beta=2.0")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value
