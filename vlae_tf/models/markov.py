"""What the hierarchical baselines share: the generative Markov chain

    p(x, z) = p(z_L) p(z_{L-1} | z_L) ... p(z_1 | z_2) p(x | z_1),   p(z_L) = N(0, I),

with every ``p(z_l | z_{l+1})`` a diagonal Gaussian from an MLP of the rung above (``GaussianLink``), and
``p(x | z_1)`` the ladder's top-down stack without injections (dense -> reshape -> transposed-convolution
rungs) fed with ``z_1``. The HVAE and the LVAE differ only in their posterior, which a subclass defines in
``_posterior_chain``; the KLs, ``encode``, ancestral ``decode`` and the IWAE log weights follow from it here.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.layers import GaussianLink
from vlae_tf.models.base import LatentVariableModel


class ChainStep(NamedTuple):
    """One rung of a posterior draw: the code z [N, d], its posterior and its prior (mean, stddev) [N, d]
    (prior None for the top rung: N(0, I))."""

    z: tf.Tensor
    posterior: tuple
    prior: tuple | None


class MarkovChainModel(LatentVariableModel):
    """Base of the HVAE and the LVAE. ``decode`` draws ``None`` rungs ancestrally from ``p(z_l | z_{l+1})``
    and only ``z_1`` reaches the pixels; ``decode_noise`` decodes the ancestral sampler's standardised noise,
    which is what a per-rung traversal of a Markov hierarchy should vary."""

    def _build_priors(self):
        """``p(z_l | z_{l+1})`` for l < L: ``self.priors[l - 1]``."""
        cfg = self.model_config
        self.priors = [GaussianLink(d, cfg.dense_units, cfg.activation, dtype=self.dtype_policy, name=f"p_{l}")
                       for l, d in enumerate(cfg.latent_dims[:-1], start=1)]

    def prior(self, rung: int, above):
        """``p(z_rung | z_{rung+1} = above)`` for rung < L: (mean, stddev) [N, d_rung] float32."""
        return self.priors[rung - 1](above)

    def _posterior_chain(self, images, num_samples: int = 1, seed=None, sample: bool = True) -> list[ChainStep]:
        """Per rung a ``ChainStep`` for ``num_samples`` draws per image (rows k * B + b). ``sample=False``
        follows the posterior means instead of drawing; ``seed`` ([2] int) makes draws stateless."""
        raise NotImplementedError

    def _draw(self, mean, stddev, seed, sample: bool):
        return self._reparameterize(mean, stddev, seed) if sample else mean

    def _kl(self, step: ChainStep):
        """KL_l of the ELBO for one rung, [B]; the top rung's is analytic against N(0, I)."""
        return distributions.kl_to_standard_normal(*step.posterior)

    # -- the model's interface ----------------------------------------------------------------------
    def encode(self, images):
        """Per rung (mean, stddev) [N, d_l] of the posterior along the chain of means (each rung's posterior
        given the means of the rungs it depends on): the deterministic summary that ``reconstruct`` and the
        evaluation's codes use, since the marginal ``q(z_l | x)`` has no closed form."""
        return [step.posterior for step in self._posterior_chain(images, sample=False)]

    def _forward(self, images, training=False):
        chain = self._posterior_chain(images)
        zs = [step.z for step in chain]
        return {"params": self.likelihood_params(zs)[0], "z_per_rung": zs,
                "posteriors": [step.posterior for step in chain], "kl_per_rung": [self._kl(s) for s in chain]}

    def log_weights(self, images, num_samples: int, seed):
        """IWAE log weights ``log p(x, z) - log q(z | x)`` for ``num_samples`` draws per image: [K, B] float32.

        ``log p(x, z) = log p(x | z_1) + sum_{l<L} log p(z_l | z_{l+1}) + log N(z_L; 0, I)``.
        """
        images = tf.cast(images, tf.float32)
        batch = tf.shape(images)[0]
        chain = self._posterior_chain(images, num_samples, seed)
        log_q = tf.add_n([distributions.gaussian_log_density(s.z, *s.posterior) for s in chain])
        standard = (0.0, 1.0)  # p(z_L)
        log_p = tf.add_n([distributions.gaussian_log_density(s.z, *(standard if s.prior is None else s.prior))
                          for s in chain])
        params, log_scale = self.likelihood_params([s.z for s in chain])
        log_px = distributions.image_likelihood(self.model_config.likelihood, params, log_scale).log_prob(
            tf.tile(images, [num_samples, 1, 1, 1]))
        return tf.reshape(log_px + log_p - log_q, [num_samples, batch])

    def decode(self, zs, num_samples=None, seed=None):
        """Images [N, H, W, C] in [0, 1]; ``None`` rungs are drawn from ``p(z_l | z_{l+1})``, top down.

        Only ``z_1`` reaches the pixels: with ``zs[0]`` given, the rungs above it change nothing.
        """
        codes = self._ancestral(zs, num_samples, seed, noise=False)
        return distributions.image_mean(self.model_config.likelihood, self.likelihood_params(codes)[0])

    def decode_noise(self, noise, num_samples=None, seed=None):
        """Images from the ancestral sampler's standardised noise, one [N, d_l] per rung (``None``: drawn).

        ``z_L = noise_L`` and ``z_l = mean_l(z_{l+1}) + stddev_l(z_{l+1}) * noise_l``: varying one rung's
        noise with the others fixed shows what that rung controls in the generative model.
        """
        codes = self._ancestral(noise, num_samples, seed, noise=True)
        return distributions.image_mean(self.model_config.likelihood, self.likelihood_params(codes)[0])

    def _ancestral(self, given, num_samples, seed, noise: bool):
        """Codes for every rung, top down. ``given`` holds codes (``noise=False``) or noise (``noise=True``)."""
        given = list(given) if given is not None else [None] * self.num_rungs
        if len(given) != self.num_rungs:
            raise ValueError(f"decode needs one code (or None) per rung: got {len(given)}, the model has "
                             f"{self.num_rungs} rungs")
        if noise:
            eps, given = self._complete_codes(given, num_samples, seed), [None] * self.num_rungs
        else:
            known = [z for z in given if z is not None]
            eps = self._complete_codes(None, tf.shape(known[0])[0] if known else num_samples, seed)
        codes = [None] * self.num_rungs
        for rung in range(self.num_rungs, 0, -1):
            if given[rung - 1] is not None:
                codes[rung - 1] = tf.cast(given[rung - 1], tf.float32)
            elif rung == self.num_rungs:
                codes[rung - 1] = eps[rung - 1]
            else:
                mean, stddev = self.prior(rung, codes[rung])
                codes[rung - 1] = mean + stddev * eps[rung - 1]
        return codes
