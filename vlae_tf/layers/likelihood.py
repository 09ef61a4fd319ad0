"""The likelihood head every model shares: ``r`` maps the top-down features ``g_1`` to the raw parameters
of ``p(x | z)`` and, for a Gaussian likelihood, owns its per-channel log scale."""

from __future__ import annotations

import math

import keras

from vlae_tf.config import LIKELIHOODS
from vlae_tf.layers.serialization import serializable


@serializable
class LogScale(keras.layers.Layer):
    """Per-channel log standard deviation of a Gaussian likelihood: learned, or fixed when ``value`` is set."""

    def __init__(self, channels: int, value: float | None = None, initial: float = -2.3, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.value, self.initial = channels, value, initial

    def build(self, input_shape=None):
        init = math.log(self.value) if self.value is not None else self.initial
        self.log_scale = self.add_weight(name="log_scale", shape=(self.channels,), dtype="float32",
                                         initializer=keras.initializers.Constant(init),
                                         trainable=self.value is None)

    def call(self, inputs=None):
        # Bounded below so that a learned scale cannot run off to a degenerate density.
        return keras.ops.maximum(keras.ops.cast(self.log_scale, "float32"), -7.0)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "value": self.value, "initial": self.initial}


@serializable
class LikelihoodHead(keras.layers.Layer):
    """``r``, a ``kernel_size`` convolution: g_1 [B, H, W, C_1] -> raw likelihood parameters [B, H, W, channels]
    float32 (Bernoulli logits, or the pre-sigmoid Gaussian mean), plus ``log_scale()`` [channels] for
    ``likelihood="gaussian"``.

    ``r`` runs in float32 under any policy: its outputs go straight into a TFP distribution.
    """

    def __init__(self, channels: int, likelihood: str = "bernoulli", gaussian_scale: float | None = None,
                 kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood {likelihood!r} is not valid; choose one of {', '.join(LIKELIHOODS)}")
        self.channels, self.likelihood, self.gaussian_scale = channels, likelihood, gaussian_scale
        self.kernel_size = kernel_size
        self.r = keras.layers.Conv2D(channels, kernel_size, padding="same", dtype="float32", name="r")
        self.scale = None
        if likelihood == "gaussian":
            self.scale = LogScale(channels, gaussian_scale, dtype=self.dtype_policy, name="log_scale")

    def build(self, input_shape):
        self.r.build(input_shape)
        if self.scale is not None:
            self.scale.build()

    def call(self, g):
        return self.r(keras.ops.cast(g, "float32"))

    def log_scale(self):
        """The Gaussian's per-channel log scale [channels] float32, or None for the other likelihoods."""
        return None if self.scale is None else self.scale(None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.channels,)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "likelihood": self.likelihood,
                "gaussian_scale": self.gaussian_scale, "kernel_size": self.kernel_size}

