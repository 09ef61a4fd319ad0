"""Latent-variable models sharing one interface: ``encode``, ``decode``, ``reconstruct``, ``generate``."""

from vlae_tf.models.base import LatentVariableModel
from vlae_tf.models.vlae import VLAE

MODEL_CLASSES = (VLAE,)  # every kind a config can name; baselines join here

__all__ = ["MODEL_CLASSES", "LatentVariableModel", "VLAE"]
