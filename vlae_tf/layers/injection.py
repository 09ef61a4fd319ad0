"""How a code enters the top-down path: ``v_l`` (latent -> features, dense or tiled) and ``combine_l``
(paper section 4); ``LatentProjection`` is also the top rung's ``u_L``."""

from __future__ import annotations

import math

import keras

from vlae_tf.config import COMBINES
from vlae_tf.layers.blocks import LayerStack, activation_layer
from vlae_tf.layers.serialization import serializable


class CodeMap(LayerStack):
    """z [B, d] -> features [B, *target_shape]: an optional hidden dense layer, then ``_output_layers()``.

    linear_output: no activation after the last dense layer (``film`` reads its output as a scale and a shift,
    which must be free to take either sign).
    """

    def __init__(self, target_shape, hidden_units: int = 0, activation: str = "leaky_relu",
                 linear_output: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        self.hidden_units, self.activation, self.linear_output = hidden_units, activation, linear_output
        self._stack = []
        if hidden_units:
            self._stack += [keras.layers.Dense(hidden_units, dtype=self.dtype_policy),
                            activation_layer(activation, self.dtype_policy)]
        self._stack += self._output_layers()

    def _output_layers(self) -> list:
        raise NotImplementedError

    def _output_activation(self) -> list:
        return [] if self.linear_output else [activation_layer(self.activation, self.dtype_policy)]

    def call(self, z):
        return super().call(keras.ops.cast(z, self.compute_dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.target_shape

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape, "hidden_units": self.hidden_units,
                "activation": self.activation, "linear_output": self.linear_output}


@serializable
class LatentProjection(CodeMap):
    """z [B, d] -> feature map [B, *target_shape]: an optional hidden dense layer, then a dense map reshaped."""

    def _output_layers(self) -> list:
        return [keras.layers.Dense(math.prod(self.target_shape), dtype=self.dtype_policy),
                *self._output_activation(),
                keras.layers.Reshape(self.target_shape, dtype=self.dtype_policy)]


@serializable
class LatentBroadcast(CodeMap):
    """``v_l`` without spatial layout: z [B, d] -> one vector [B, C] tiled to [B, H, W, C].

    Every position receives the same features, so the rung can change per-pixel statistics (a colour,
    a contrast) everywhere at once but cannot say where anything is: less capacity than
    ``LatentProjection``, for the rungs nearest the pixels. As the top rung's ``u_L`` (with a hidden layer)
    it lets the top code say *what* is drawn while the rungs below say *where*.
    """

    def _output_layers(self) -> list:
        return [keras.layers.Dense(self.target_shape[-1], dtype=self.dtype_policy), *self._output_activation()]

    def call(self, z):
        v = super().call(z)
        height, width, _ = self.target_shape
        return keras.ops.tile(v[:, None, None, :], (1, height, width, 1))


@serializable
class Combine(keras.layers.Layer):
    """Joins the top-down features g [B, ..., C] with a rung's injection v [B, ..., C] ([..., 2C] for ``film``).

    ``concat`` -> [..., 2C]; ``add`` -> g + v; ``gated_add`` -> g + gate * v with a trainable
    per-channel gate starting at 0.1, as in the original code; ``film`` -> g * (1 + gamma) + beta with
    (gamma, beta) the two halves of v (feature-wise modulation, FiLM, Perez et al. 2018; StyleGAN injects its
    per-resolution styles the same way): the code can rescale a feature, e.g. tint a shape's mask, in one step
    where ``concat`` needs the convolutions after it to form that product; ``adain`` -> the same on g normalised
    per image and channel over the grid (adaptive instance normalisation, StyleGAN's first form): the rung's code
    then sets every feature's mean and spread, so nothing above the rung can carry them (e.g. a colour).
    """

    def __init__(self, mode: str = "concat", **kwargs):
        super().__init__(**kwargs)
        if mode not in COMBINES:
            raise ValueError(f"combine mode {mode!r} is not valid; choose one of {', '.join(COMBINES)}")
        self.mode = mode

    def injection_channels(self, channels: int) -> int:
        """The channels ``v_l`` must produce to join features of ``channels``: a scale and a shift each for
        ``film`` and ``adain``."""
        return 2 * channels if self.linear_injection else channels

    @property
    def linear_injection(self) -> bool:
        """Whether ``v_l``'s output must be linear: ``film`` and ``adain`` read it as a scale and a shift of
        either sign."""
        return self.mode in ("film", "adain")

    def build(self, input_shape):
        g_shape, v_shape = input_shape
        expected = self.injection_channels(g_shape[-1])
        if v_shape[-1] != expected:
            raise ValueError(f"combine={self.mode!r} joins features of {g_shape[-1]} channels with an injection of "
                             f"{expected}; got {v_shape[-1]}")
        if self.mode == "gated_add":
            self.gate = self.add_weight(name="gate", shape=(g_shape[-1],),
                                        initializer=keras.initializers.Constant(0.1))

    def call(self, inputs):
        g, v = inputs
        if self.mode == "concat":
            return keras.ops.concatenate([g, v], axis=-1)
        if self.mode == "add":
            return g + v
        if self.mode == "adain":
            g = _instance_normalized(g)
        if self.mode in ("film", "adain"):
            gamma, beta = keras.ops.split(v, 2, axis=-1)
            return g * (1.0 + gamma) + beta
        return g + keras.ops.cast(self.gate, self.compute_dtype) * v

    def compute_output_shape(self, input_shape):
        g_shape, _ = input_shape
        if self.mode == "concat":
            return tuple(g_shape[:-1]) + (2 * g_shape[-1],)
        return tuple(g_shape)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def _instance_normalized(g, epsilon: float = 1e-3):
    """g [B, H, W, C] with zero mean and unit variance over each image's grid, per channel; the moments in
    float32 (bfloat16 keeps 8 bits of a variance)."""
    g32 = keras.ops.cast(g, "float32")
    mean, variance = keras.ops.moments(g32, axes=(1, 2), keepdims=True)
    return keras.ops.cast((g32 - mean) * keras.ops.rsqrt(variance + epsilon), g.dtype)
