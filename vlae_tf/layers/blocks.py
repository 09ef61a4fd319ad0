"""The convolutional and dense blocks a rung is made of: ``f_l`` bottom-up and ``u_l`` top-down."""

from __future__ import annotations

import keras

from vlae_tf.layers.serialization import serializable


def activation_layer(name: str, dtype=None) -> keras.layers.Layer:
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2, dtype=dtype)  # the original's lrelu slope
    return keras.layers.Activation(name, dtype=dtype)


class LayerStack(keras.layers.Layer):
    """A fixed sequence of sub-layers built one after another from the input shape."""

    def build(self, input_shape):
        shape = input_shape
        for layer in self._stack:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, x):
        for layer in self._stack:
            x = layer(x)
        return x


@serializable
class ConvBlock(LayerStack):
    """``convs`` 4x4 then 3x3 convolutions; the first halves (``direction="down"``) or doubles (``"up"``) H and W.

    [B, H, W, C_in] -> [B, H/2, W/2, filters] (down) or [B, 2H, 2W, filters] (up); ``direction="same"`` keeps
    the grid with ``kernel_size`` convolutions (e.g. 1x1, a per-pixel mix).
    """

    def __init__(self, filters: int, convs: int = 2, activation: str = "leaky_relu", direction: str = "down",
                 kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        if direction not in ("down", "up", "same"):
            raise ValueError(f"direction={direction!r} is not valid; choose one of down, up, same")
        self.filters, self.convs, self.activation, self.direction = filters, convs, activation, direction
        self.kernel_size = kernel_size
        if direction == "same":
            first = keras.layers.Conv2D(filters, kernel_size, padding="same", dtype=self.dtype_policy)
        else:
            first = (keras.layers.Conv2D if direction == "down" else keras.layers.Conv2DTranspose)(
                filters, 4, strides=2, padding="same", dtype=self.dtype_policy)
        self._stack = [first, activation_layer(activation, self.dtype_policy)]
        for _ in range(convs - 1):
            self._stack += [keras.layers.Conv2D(filters, kernel_size, padding="same", dtype=self.dtype_policy),
                            activation_layer(activation, self.dtype_policy)]

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        scale = {"down": 0.5, "up": 2, "same": 1}[self.direction]
        return (b, None if h is None else int(h * scale), None if w is None else int(w * scale), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "convs": self.convs,
                "activation": self.activation, "direction": self.direction, "kernel_size": self.kernel_size}


@serializable
class DenseBlock(LayerStack):
    """Flatten, then ``depth`` fully connected layers: [B, ...] -> [B, units]. The top rung's ``f_L``."""

    def __init__(self, units: int, depth: int = 2, activation: str = "leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.units, self.depth, self.activation = units, depth, activation
        self._stack = [keras.layers.Flatten(dtype=self.dtype_policy)]
        for _ in range(depth):
            self._stack += [keras.layers.Dense(units, dtype=self.dtype_policy),
                            activation_layer(activation, self.dtype_policy)]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "depth": self.depth, "activation": self.activation}
