"""A flat VAE: one Gaussian latent behind the VLAE's whole encoder, the paper's non-hierarchical baseline.

    q(z | x) = N(mu(h_L), sigma(h_L)),   p(z) = N(0, I),   p(x | z) = likelihood(r(u(z)))

``h_L`` is the VLAE's bottom-up stack (convolutional rungs, then the dense rung) and ``u`` its top-down
stack without injections, so a VAE differs from the VLAE of the same preset only in having one latent of
size ``sum(latent_dims)`` instead of one per rung. The model therefore has one rung: its config is
normalised to ``latent_dims = (sum,)``, so ``kl_per_rung``, ``encode`` and ``decode`` all have one entry.
"""

from __future__ import annotations

import keras

from vlae_tf import distributions
from vlae_tf.layers import ConvRung, DenseRung, GaussianHead, LatentProjection, LogScale
from vlae_tf.layers.encoder import PACKAGE
from vlae_tf.models.base import LatentVariableModel, as_experiment_config
from vlae_tf.models.vlae import feature_shapes


def flat_config(config):
    """The ExperimentConfig with ``model.latent_dims`` summed into one rung (kind ``vae``).

    A per-rung ``beta`` has no meaning for one latent: it must be uniform.
    """
    config = as_experiment_config(config)
    cfg = config.model
    if len(set(cfg.beta)) > 1:
        raise ValueError(f"model.beta={cfg.beta!r} differs between rungs; a VAE has one latent, give one beta")
    return config.replace(**{"model.kind": "vae", "model.latent_dims": (sum(cfg.latent_dims),),
                             "model.beta": cfg.beta[0]})


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(LatentVariableModel):
    """``VAE(config)`` or ``VAE.from_preset("shapes")`` (one latent of 9 dims for the 3x3 shapes preset)."""

    kind = "vae"

    def __init__(self, config=None, **kwargs):
        super().__init__(flat_config(config), **kwargs)

    def _build_layers(self):
        cfg = self.model_config
        shapes = feature_shapes(cfg)
        act, convs = cfg.activation, cfg.convs_per_rung
        self.encoder_rungs = [ConvRung(c, convs, act, "down", name=f"f_{l}")
                              for l, c in enumerate(cfg.conv_channels, start=1)]
        self.encoder_rungs.append(DenseRung(cfg.dense_units, 2, act, name=f"f_{len(cfg.conv_channels) + 1}"))
        self.head = GaussianHead(cfg.latent_dims[0], spatial=False, activation=act, name="q")
        self.top = LatentProjection(shapes[-1], hidden_units=cfg.dense_units, activation=act, name="u_top")
        out_channels = [shapes[0][-1]] + [s[-1] for s in shapes[:-1]]
        self.decoder_rungs = [ConvRung(c, convs, act, "up", name=f"u_{l}") for l, c in enumerate(out_channels, 1)]
        self.output_layer = keras.layers.Conv2D(cfg.image_shape[-1], 3, padding="same", dtype="float32", name="r")
        if cfg.likelihood == "gaussian":
            self.likelihood_scale = LogScale(cfg.image_shape[-1], cfg.gaussian_scale, name="log_scale")
            self.likelihood_scale.build()

    def encode(self, images):
        """``[(mean [N, d], stddev [N, d])]``: one rung, float32."""
        h = keras.ops.cast(images, self.compute_dtype)
        for layer in self.encoder_rungs:
            h = layer(h)
        return [self.head(h)]

    def _generate(self, zs):
        """One code [N, d] (in a one-entry list) -> raw likelihood parameters [N, H, W, C] float32."""
        g = self.top(zs[0])
        for rung in reversed(self.decoder_rungs):
            g = rung(g)
        return self.output_layer(g)

    def _forward(self, images, training=False):
        posteriors = self.encode(images)
        zs = [self._reparameterize(mean, stddev) for mean, stddev in posteriors]
        return {"params": self._generate(zs), "z_per_rung": zs, "posteriors": posteriors,
                "kl_per_rung": [distributions.kl_to_standard_normal(m, s) for m, s in posteriors]}
