"""The stacked (Markov) hierarchical VAE: the baseline of the paper's section 3.

Inference is a chain up from the pixels, generation the chain of ``models.markov`` down to them:

    q(z | x) = q(z_1 | x) q(z_2 | z_1) ... q(z_L | z_{L-1})

with every factor a diagonal Gaussian. The ELBO is ``E_q[log p(x | z_1)] - sum_l KL_l`` with

    KL_l = log q(z_l | z_{l-1}) - log p(z_l | z_{l+1})      (l < L; one-sample estimate, z_0 = x)
    KL_L = KL(q(z_L | z_{L-1}) || N(0, I))                   (analytic)

To compare like with like, ``q(z_1 | x)`` reads the ladder's whole bottom-up stack (its convolutional
rungs, then its dense rung) and ``p(x | z_1)`` is its top-down stack without injections, so the only
difference from the VLAE is where the latents sit. The paper's claim (its Proposition 1 and section 5) is
that the rungs above z_1 end up nearly unused.
"""

from __future__ import annotations

import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.layers import GaussianLink, serializable
from vlae_tf.models.markov import ChainStep, MarkovChainModel


@serializable
class HVAE(MarkovChainModel):
    """``HVAE(config)`` or ``HVAE.from_preset("shapes")``; ``decode`` and ``decode_noise`` of the chain."""

    kind = "hvae"

    def _build_layers(self):
        cfg = self.model_config
        # q(z_1 | x) is the top rung's head on h_L; no other rung has one.
        self._build_ladder([0] * len(cfg.conv_channels) + [cfg.latent_dims[0]], inject=False,
                           top_code_dim=cfg.latent_dims[0])
        self._build_priors()
        # q(z_l | z_{l-1}) for l >= 2: self.posteriors[l - 2].
        self.posteriors = [GaussianLink(d, cfg.dense_units, cfg.activation, dtype=self.dtype_policy, name=f"q_{l}")
                           for l, d in enumerate(cfg.latent_dims[1:], start=2)]

    def _posterior_chain(self, images, num_samples=1, seed=None, sample=True):
        seeds = self._rung_seeds(seed)
        mean, stddev = self.rungs[-1].posterior(self.features(images)[-1])  # q(z_1 | x) [B, d_1]
        mean, stddev = tf.tile(mean, [num_samples, 1]), tf.tile(stddev, [num_samples, 1])  # [K*B, d_1]
        zs, posteriors = [], []
        for rung in range(1, self.num_rungs + 1):
            if rung > 1:
                mean, stddev = self.posteriors[rung - 2](zs[-1])
            zs.append(self._draw(mean, stddev, seeds[rung - 1], sample))
            posteriors.append((mean, stddev))
        priors = [self.prior(rung, zs[rung]) for rung in range(1, self.num_rungs)] + [None]
        return [ChainStep(*step) for step in zip(zs, posteriors, priors)]

    def _kl(self, step):
        if step.prior is None:
            return super()._kl(step)
        return (distributions.gaussian_log_density(step.z, *step.posterior)
                - distributions.gaussian_log_density(step.z, *step.prior))
