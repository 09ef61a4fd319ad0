"""Keras layers of the ladder; each returns tensors (distributions live in ``vlae_tf.distributions``)."""

from vlae_tf.layers.decoder import Combine, LatentBroadcast, LatentProjection, LogScale
from vlae_tf.layers.encoder import ConvRung, DenseRung, activation_layer
from vlae_tf.layers.gaussian_head import GaussianHead

__all__ = ["Combine", "ConvRung", "DenseRung", "GaussianHead", "LatentBroadcast", "LatentProjection", "LogScale",
           "activation_layer"]
