"""A rung's posterior head: features -> (mean, stddev) of a diagonal Gaussian, always in float32."""

from __future__ import annotations

import keras

from vlae_tf.layers.encoder import PACKAGE, activation_layer

MIN_STDDEV = 1e-4  # keeps log-densities finite when a dimension becomes very certain


@keras.saving.register_keras_serializable(package=PACKAGE)
class GaussianHead(keras.layers.Layer):
    """[B, H, W, C] or [B, F] -> (mean [B, d], stddev [B, d]).

    Spatial inputs are first reduced by a strided convolution and flattened (the original's ladder
    branch). The last dense layer runs in float32 whatever the policy: TFP needs float32 parameters.
    """

    def __init__(self, latent_dim: int, spatial: bool, filters: int = 0, activation: str = "leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.spatial, self.filters, self.activation = latent_dim, spatial, filters, activation
        self._features = []
        if spatial:
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
                "filters": self.filters, "activation": self.activation}
