"""The Ladder VAE (Sonderby, Raiko, Maaloe, Sonderby & Winther 2016, "Ladder Variational Autoencoders").

The generative model is the chain of ``models.markov``. Inference first runs the deterministic bottom-up
pass ``d_l = f_l(d_{l-1})`` (the ladder's rungs) and reads a Gaussian ``N(mu_hat_l, sigma_hat_l)`` off every
rung; then a top-down pass shares the generative model's conditionals:

    q(z_L | x)           = N(mu_hat_L, sigma_hat_L)
    q(z_l | x, z_{l+1})  = N(mu_hat_l, sigma_hat_l) * p(z_l | z_{l+1}), renormalised   (l < L)

the precision-weighted merge of ``distributions.precision_weighted`` (their eq. 18-19). The ELBO is
``E_q[log p(x | z_1)] - sum_l KL_l`` with every KL analytic given the rung above:

    KL_l = KL(q(z_l | x, z_{l+1}) || p(z_l | z_{l+1}))   (l < L),   KL_L = KL(q(z_L | x) || N(0, I)).

So it is the HVAE with better inference: the question is whether that makes its upper rungs carry
information (the paper's section 5 says a Markov chain's upper rungs go unused whatever the inference).
"""

from __future__ import annotations

import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.layers import serializable
from vlae_tf.models.markov import ChainStep, MarkovChainModel


@serializable
class LVAE(MarkovChainModel):
    """``LVAE(config)`` or ``LVAE.from_preset("shapes_lvae")``; ``decode`` and ``decode_noise`` of the chain."""

    kind = "lvae"

    def _build_layers(self):
        # Every rung has a bottom-up head (mu_hat_l, sigma_hat_l); p(x | z_1) reads z_1 through the top rung.
        dims = self.model_config.latent_dims
        self._build_ladder(dims, inject=False, top_code_dim=dims[0])
        self._build_priors()

    def _posterior_chain(self, images, num_samples=1, seed=None, sample=True):
        seeds = self._rung_seeds(seed)
        ups = [rung.posterior(h) for rung, h in zip(self.rungs, self.features(images))]
        ups = [(tf.tile(m, [num_samples, 1]), tf.tile(s, [num_samples, 1])) for m, s in ups]  # [K*B, d_l]
        steps = [None] * self.num_rungs
        for rung in range(self.num_rungs, 0, -1):
            prior = None if rung == self.num_rungs else self.prior(rung, steps[rung].z)
            posterior = ups[rung - 1] if prior is None else distributions.precision_weighted(ups[rung - 1], prior)
            steps[rung - 1] = ChainStep(self._draw(*posterior, seeds[rung - 1], sample), posterior, prior)
        return steps

    def _kl(self, step):
        if step.prior is None:
            return super()._kl(step)
        return distributions.gaussian_kl(step.posterior, step.prior)
