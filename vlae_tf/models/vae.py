"""A flat VAE: one Gaussian latent behind the VLAE's whole encoder, the paper's non-hierarchical baseline.

    q(z | x) = N(mu(h_L), sigma(h_L)),   p(z) = N(0, I),   p(x | z) = likelihood(r(u(z)))

``h_L`` is the ladder's bottom-up stack (convolutional rungs, then the dense rung) and ``u`` its top-down
stack without injections, so a VAE differs from the VLAE of the same preset only in having one latent of
size ``sum(latent_dims)`` instead of one per rung. The model therefore has one rung: its config is
normalised to ``latent_dims = (sum,)``, so ``kl_per_rung``, ``encode`` and ``decode`` all have one entry.
"""

from __future__ import annotations

from vlae_tf.layers import serializable
from vlae_tf.models.base import LatentVariableModel, as_experiment_config


def flat_config(config):
    """The ExperimentConfig with ``model.latent_dims`` summed into one rung (kind ``vae``).

    A per-rung ``beta`` has no meaning for one latent: it must be uniform.
    """
    config = as_experiment_config(config)
    cfg = config.model
    if len(set(cfg.beta)) > 1:
        raise ValueError(f"model.beta={cfg.beta!r} differs between rungs; a VAE has one latent, give one beta")
    return config.with_kind("vae", **{"model.latent_dims": (sum(cfg.latent_dims),), "model.beta": cfg.beta[0]})


@serializable
class VAE(LatentVariableModel):
    """``VAE(config)`` or ``VAE.from_preset("shapes")`` (one latent of 9 dims for the 3x3 shapes preset)."""

    kind = "vae"

    def __init__(self, config=None, **kwargs):
        super().__init__(flat_config(config), **kwargs)

    def _build_layers(self):
        # Only the top (dense) rung has a posterior head; the ladder keeps its len(conv_channels) + 1 rungs.
        cfg = self.model_config
        self._build_ladder([0] * len(cfg.conv_channels) + [cfg.latent_dims[0]], inject=False,
                           top_code_dim=cfg.latent_dims[0])

    def encode(self, images):
        """``[(mean [N, d], stddev [N, d])]``: one rung, float32."""
        return [self.rungs[-1].posterior(self.features(images)[-1])]
