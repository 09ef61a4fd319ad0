"""Latent-variable models sharing one interface: ``encode``, ``decode``, ``reconstruct``, ``generate``.

All assemble the same ladder (``vlae_tf.layers``: rungs and likelihood head).

- ``VLAE``: the Variational Ladder Autoencoder (independent rungs injected top-down).
- ``HVAE``: the stacked Markov hierarchical VAE baseline (``q(z_1|x) q(z_2|z_1)...``).
- ``LVAE``: the Ladder VAE baseline (the same generative chain, precision-weighted top-down inference).
- ``VAE``: one flat latent of the same total size.
"""

from vlae_tf.models.base import LatentVariableModel
from vlae_tf.models.hvae import HVAE
from vlae_tf.models.lvae import LVAE
from vlae_tf.models.vae import VAE
from vlae_tf.models.vlae import VLAE

MODEL_CLASSES = (VLAE, HVAE, LVAE, VAE)  # every kind a config can name (``model.kind``)

__all__ = ["HVAE", "LVAE", "MODEL_CLASSES", "LatentVariableModel", "VAE", "VLAE"]
