"""Latent-variable models sharing one interface: ``encode``, ``decode``, ``reconstruct``, ``generate``."""

from vlae_tf.models.base import LatentVariableModel
from vlae_tf.models.vlae import VLAE

__all__ = ["LatentVariableModel", "VLAE"]
