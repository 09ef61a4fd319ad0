"""The Variational Ladder Autoencoder (Zhao, Song & Ermon 2017, section 4).

Bottom-up: ``h_l = f_l(h_{l-1})`` with ``h_0 = x``; each rung has ``q(z_l | x) = N(mu_l(h_l),
sigma_l(h_l))`` and the prior ``p(z_l) = N(0, I)``. Top-down: ``g_L = u_L(z_L)``,
``g_l = u_l(combine(g_{l+1}, v_l(z_l)))`` and ``p(x | z) = likelihood(r(g_1))``. Rungs 1..L-1 are
convolutional (each halves the resolution), rung L is fully connected, so deeper rungs sit behind more
layers and are pushed towards more abstract factors.
"""

from __future__ import annotations

import keras

from vlae_tf import distributions
from vlae_tf.layers import (Combine, ConvRung, DenseRung, GaussianHead, LatentBroadcast, LatentProjection,
                            LogScale)
from vlae_tf.layers.encoder import PACKAGE
from vlae_tf.models.base import LatentVariableModel


def feature_shapes(config) -> list[tuple]:
    """Shape (H, W, C) of ``h_l`` for the convolutional rungs l = 1..L-1."""
    height, width, _ = config.image_shape
    return [(height // 2 ** l, width // 2 ** l, c) for l, c in enumerate(config.conv_channels, start=1)]


@keras.saving.register_keras_serializable(package=PACKAGE)
class VLAE(LatentVariableModel):
    """``VLAE(config)`` or ``VLAE.from_preset("mnist")``; see ``LatentVariableModel`` for the API."""

    kind = "vlae"

    def _build_layers(self):
        cfg = self.model_config
        num_conv = cfg.num_rungs - 1
        shapes = feature_shapes(cfg)
        act, convs = cfg.activation, cfg.convs_per_rung
        # f_l and the posterior heads mu_l, sigma_l
        self.encoder_rungs = [ConvRung(c, convs, act, "down", name=f"f_{l}")
                              for l, c in enumerate(cfg.conv_channels, start=1)]
        self.encoder_rungs.append(DenseRung(cfg.dense_units, 2, act, name=f"f_{cfg.num_rungs}"))
        self.heads = [GaussianHead(d, spatial=l <= num_conv, filters=shapes[l - 1][-1] if l <= num_conv else 0,
                                   activation=act, name=f"q_{l}")
                      for l, d in enumerate(cfg.latent_dims, start=1)]
        # u_L, then per convolutional rung v_l, combine_l and u_l (u_l upsamples to h_{l-1}'s grid)
        self.top = LatentProjection(shapes[-1], hidden_units=cfg.dense_units, activation=act,
                                    name=f"u_{cfg.num_rungs}")
        # v_l: rungs up to broadcast_rungs inject a tiled vector (no spatial layout), the others a dense map.
        self.injections = [LatentBroadcast(shape, activation=act, name=f"v_{l}") if l <= cfg.broadcast_rungs
                           else LatentProjection(shape, activation=act, name=f"v_{l}")
                           for l, shape in enumerate(shapes, start=1)]
        self.combines = [Combine(cfg.combine, name=f"combine_{l}") for l in range(1, num_conv + 1)]
        out_channels = [shapes[0][-1]] + [s[-1] for s in shapes[:-1]]
        self.decoder_rungs = [ConvRung(c, convs, act, "up", name=f"u_{l}") for l, c in enumerate(out_channels, 1)]
        self.output_layer = keras.layers.Conv2D(cfg.image_shape[-1], 3, padding="same", dtype="float32",
                                                name="r")
        if cfg.likelihood == "gaussian":
            self.likelihood_scale = LogScale(cfg.image_shape[-1], cfg.gaussian_scale, name="log_scale")
            self.likelihood_scale.build()

    def features(self, images):
        """Bottom-up ``[h_1, ..., h_L]``."""
        h = keras.ops.cast(images, self.compute_dtype)
        hs = []
        for rung in self.encoder_rungs:
            h = rung(h)
            hs.append(h)
        return hs

    def encode(self, images):
        """Per rung ``(mean [N, d_l], stddev [N, d_l])`` of ``q(z_l | x)``, float32."""
        return [head(h) for head, h in zip(self.heads, self.features(images))]

    def _generate(self, zs):
        """Top-down pass: codes [N, d_l] per rung -> raw likelihood parameters [N, H, W, C] float32."""
        g = self.top(zs[-1])
        for l in reversed(range(len(self.injections))):
            g = self.combines[l]([g, self.injections[l](zs[l])])
            g = self.decoder_rungs[l](g)
        return self.output_layer(g)

    def _forward(self, images, training=False):
        posteriors = self.encode(images)
        zs = [self._reparameterize(mean, stddev) for mean, stddev in posteriors]
        return {"params": self._generate(zs), "z_per_rung": zs, "posteriors": posteriors,
                "kl_per_rung": [distributions.kl_to_standard_normal(m, s) for m, s in posteriors]}
