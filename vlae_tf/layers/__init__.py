"""Keras layers of the ladder; each returns tensors (distributions live in ``vlae_tf.distributions``).

``Rung`` owns one level's parts; ``ladder`` builds the rungs and runs the bottom-up and top-down passes;
``LikelihoodHead`` maps the top-down features to the parameters of ``p(x | z)`` for every model.
"""

from vlae_tf.layers.blocks import ConvBlock, DenseBlock, activation_layer
from vlae_tf.layers.gaussian_head import GaussianHead, GaussianLink
from vlae_tf.layers.injection import Combine, LatentBroadcast, LatentProjection
from vlae_tf.layers.ladder import bottom_up, build_rungs, feature_shapes, make_rungs, top_down
from vlae_tf.layers.likelihood import LikelihoodHead, LogScale
from vlae_tf.layers.rung import Rung
from vlae_tf.layers.serialization import PACKAGE, serializable

__all__ = ["PACKAGE", "Combine", "ConvBlock", "DenseBlock", "GaussianHead", "GaussianLink", "LatentBroadcast",
           "LatentProjection", "LikelihoodHead", "LogScale", "Rung", "activation_layer", "bottom_up",
           "build_rungs", "feature_shapes", "make_rungs", "serializable", "top_down"]
