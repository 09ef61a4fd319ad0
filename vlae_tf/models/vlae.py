"""The Variational Ladder Autoencoder (Zhao, Song & Ermon 2017, section 4).

Bottom-up: ``h_l = f_l(h_{l-1})`` with ``h_0 = x``; each rung has ``q(z_l | x) = N(mu_l(h_l),
sigma_l(h_l))`` and the prior ``p(z_l) = N(0, I)``. Top-down: ``g_L = u_L(z_L)``,
``g_l = u_l(combine(g_{l+1}, v_l(z_l)))`` and ``p(x | z) = likelihood(r(g_1))``. Rungs 1..L-1 are
convolutional (each halves the resolution), rung L is fully connected, so deeper rungs sit behind more
layers and are pushed towards more abstract factors.

Option: pro-VLAE progressive training (``model.progressive_steps``; ``vlae_tf.progressive``): rungs join top
first with faded-in injections; the model keeps its last trained step so decoding uses the fades it was
trained with.
"""

from __future__ import annotations

from vlae_tf.layers import serializable
from vlae_tf.models.base import LatentVariableModel


@serializable
class VLAE(LatentVariableModel):
    """``VLAE(config)`` or ``VLAE.from_preset("mnist")``; see ``LatentVariableModel`` for the API."""

    kind = "vlae"

    def _build_layers(self):
        # Every rung has a posterior head on its own features and injects its code top-down.
        dims = self.model_config.latent_dims
        self._build_ladder(dims, inject=True, top_code_dim=dims[-1])

    def encode(self, images):
        """Per rung ``(mean [N, d_l], stddev [N, d_l])`` of ``q(z_l | x)``, float32."""
        return [rung.posterior(h) for rung, h in zip(self.rungs, self.features(images))]

    def _decoder_codes(self, zs):
        return list(zs)
