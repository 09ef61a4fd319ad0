"""Diagonal-Gaussian parameter layers: features -> (mean, stddev), always in float32.

``GaussianHead`` is a rung's posterior head ``q_l`` on its features ``h_l``; ``GaussianLink`` is one
conditional of a Markov chain, ``z_other -> p(z | z_other)`` (the HVAE's posterior chain, and the top-down
prior of the HVAE and the LVAE).
"""

from __future__ import annotations

import keras

from vlae_tf.layers.blocks import DenseBlock, activation_layer
from vlae_tf.layers.serialization import serializable

MIN_STDDEV = 1e-4  # keeps log-densities finite when a dimension becomes very certain


@serializable
class GaussianHead(keras.layers.Layer):
    """[B, H, W, C] or [B, F] -> (mean [B, d], stddev [B, d]).

    Spatial inputs are first reduced by a strided convolution and flattened (the original's ladder
    branch), or with ``pooled`` by a 1x1 convolution and a maximum over the grid: the head then knows which
    features occur somewhere (a colour present) but not where, nor over how much of the image (a shape's
    size). The last dense layer runs in float32 whatever the policy: TFP needs float32 parameters.
    """

    def __init__(self, latent_dim: int, spatial: bool, filters: int = 0, activation: str = "leaky_relu",
                 pooled: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.spatial, self.filters, self.activation = latent_dim, spatial, filters, activation
        self.pooled = pooled
        self._features = []
        if spatial and pooled:
            self._features = [keras.layers.Conv2D(filters, 1, dtype=self.dtype_policy),
                              activation_layer(activation, self.dtype_policy),
                              keras.layers.GlobalMaxPooling2D(dtype=self.dtype_policy)]
        elif spatial:
            self._features = [keras.layers.Conv2D(filters, 4, strides=2, padding="same", dtype=self.dtype_policy),
                              activation_layer(activation, self.dtype_policy),
                              keras.layers.Flatten(dtype=self.dtype_policy)]
        self._params = keras.layers.Dense(2 * latent_dim, dtype="float32")

    def build(self, input_shape):
        shape = input_shape
        for layer in self._features:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self._params.build(shape)

    def call(self, h):
        for layer in self._features:
            h = layer(h)
        params = self._params(keras.ops.cast(h, "float32"))
        mean, raw_stddev = keras.ops.split(params, 2, axis=-1)
        return mean, keras.ops.softplus(raw_stddev) + MIN_STDDEV

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.latent_dim), (input_shape[0], self.latent_dim)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "spatial": self.spatial,
                "filters": self.filters, "activation": self.activation, "pooled": self.pooled}


@serializable
class GaussianLink(keras.layers.Layer):
    """One conditional of a Markov chain: z_other [B, d'] -> (mean [B, d], stddev [B, d]) float32,
    through a two-layer MLP of ``units`` and a ``GaussianHead``."""

    def __init__(self, latent_dim: int, units: int, activation: str = "leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.units, self.activation = latent_dim, units, activation
        self.net = DenseBlock(units, 2, activation, dtype=self.dtype_policy, name="net")
        self.head = GaussianHead(latent_dim, spatial=False, activation=activation, dtype=self.dtype_policy,
                                 name="head")

    def build(self, input_shape):
        self.net.build(input_shape)
        self.head.build(self.net.compute_output_shape(input_shape))

    def call(self, z):
        return self.head(self.net(keras.ops.cast(z, self.compute_dtype)))

    def compute_output_shape(self, input_shape):
        return self.head.compute_output_shape(self.net.compute_output_shape(input_shape))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "units": self.units,
                "activation": self.activation}
