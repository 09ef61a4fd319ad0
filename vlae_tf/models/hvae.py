"""The stacked (Markov) hierarchical VAE: the baseline of the paper's section 3.

Inference is a chain up from the pixels and generation a chain down to them:

    q(z | x) = q(z_1 | x) q(z_2 | z_1) ... q(z_L | z_{L-1})
    p(x, z)  = p(z_L) p(z_{L-1} | z_L) ... p(z_1 | z_2) p(x | z_1)

with ``p(z_L) = N(0, I)`` and every other factor a diagonal Gaussian whose mean and stddev an MLP
computes from the neighbouring rung. The ELBO is ``E_q[log p(x | z_1)] - sum_l KL_l`` with

    KL_l = log q(z_l | z_{l-1}) - log p(z_l | z_{l+1})      (l < L; one-sample estimate, z_0 = x)
    KL_L = KL(q(z_L | z_{L-1}) || N(0, I))                   (analytic)

To compare like with like, ``q(z_1 | x)`` reads the VLAE's whole bottom-up stack (its convolutional
rungs, then its dense rung) and ``p(x | z_1)`` is the VLAE's top-down stack without injections
(dense -> reshape -> transposed-convolution rungs), so the only difference is where the latents sit.
The paper's claim (its Proposition 1 and section 5) is that the rungs above z_1 end up nearly unused.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.layers import ConvRung, DenseRung, GaussianHead, LatentProjection, LogScale
from vlae_tf.layers.encoder import PACKAGE
from vlae_tf.models.base import LatentVariableModel
from vlae_tf.models.vlae import feature_shapes


@keras.saving.register_keras_serializable(package=PACKAGE)
class HVAE(LatentVariableModel):
    """``HVAE(config)`` or ``HVAE.from_preset("shapes")``; the interface of ``LatentVariableModel``.

    Codes differ from a VLAE's in one way: ``p(x | z)`` depends on ``z_1`` alone, so ``decode`` with
    ``z_1`` given ignores the rungs above it; rungs left ``None`` are drawn ancestrally from
    ``p(z_l | z_{l+1})``. ``decode_noise`` decodes the standardised noise of that ancestral sampler,
    which is what a per-rung traversal of a Markov hierarchy should vary.
    """

    kind = "hvae"

    def _build_layers(self):
        cfg = self.model_config
        shapes = feature_shapes(cfg)
        act, convs, units = cfg.activation, cfg.convs_per_rung, cfg.dense_units
        levels = range(1, cfg.num_rungs + 1)
        self.encoder_rungs = [ConvRung(c, convs, act, "down", name=f"f_{l}")
                              for l, c in enumerate(cfg.conv_channels, start=1)]
        self.encoder_rungs.append(DenseRung(units, 2, act, name=f"f_{len(cfg.conv_channels) + 1}"))
        # q(z_1 | x) reads h_L; q(z_l | z_{l-1}) (l >= 2) an MLP of the rung below. Entry l-1 is rung l.
        self.posterior_nets = [None] + [DenseRung(units, 2, act, name=f"q_net_{l}") for l in levels if l > 1]
        self.posterior_heads = [GaussianHead(d, spatial=False, activation=act, name=f"q_{l}")
                                for l, d in zip(levels, cfg.latent_dims)]
        # p(z_l | z_{l+1}) for l < L; entry l-1 is rung l.
        self.prior_nets = [DenseRung(units, 2, act, name=f"p_net_{l}") for l in levels if l < cfg.num_rungs]
        self.prior_heads = [GaussianHead(d, spatial=False, activation=act, name=f"p_{l}")
                            for l, d in zip(levels, cfg.latent_dims[:-1])]
        # p(x | z_1): the VLAE's top-down stack without injections.
        self.top = LatentProjection(shapes[-1], hidden_units=units, activation=act, name="u_top")
        out_channels = [shapes[0][-1]] + [s[-1] for s in shapes[:-1]]
        self.decoder_rungs = [ConvRung(c, convs, act, "up", name=f"u_{l}") for l, c in enumerate(out_channels, 1)]
        self.output_layer = keras.layers.Conv2D(cfg.image_shape[-1], 3, padding="same", dtype="float32", name="r")
        if cfg.likelihood == "gaussian":
            self.likelihood_scale = LogScale(cfg.image_shape[-1], cfg.gaussian_scale, name="log_scale")
            self.likelihood_scale.build()

    # -- the chains ---------------------------------------------------------------------------------
    def posterior(self, rung: int, below):
        """``q(z_rung | below)``: (mean, stddev) [N, d_rung]; ``below`` is x [N, H, W, C] for rung 1, else z."""
        if rung == 1:
            h = keras.ops.cast(below, self.compute_dtype)
            for layer in self.encoder_rungs:
                h = layer(h)
        else:
            h = self.posterior_nets[rung - 1](below)
        return self.posterior_heads[rung - 1](h)

    def prior(self, rung: int, above):
        """``p(z_rung | z_{rung+1} = above)`` for rung < L: (mean, stddev) [N, d_rung]."""
        return self.prior_heads[rung - 1](self.prior_nets[rung - 1](above))

    def encode(self, images):
        """Per rung (mean, stddev) along the chain of means: ``q(z_1 | x)``, then ``q(z_l | z_{l-1} = mean_{l-1})``.

        The mean of ``z_l`` under the full posterior is not available in closed form; following the means
        is the deterministic summary that ``reconstruct`` and the evaluation's codes use.
        """
        posteriors = [self.posterior(1, images)]
        for rung in range(2, self.num_rungs + 1):
            posteriors.append(self.posterior(rung, posteriors[-1][0]))
        return posteriors

    def _generate(self, zs):
        """``p(x | z_1)``: the raw likelihood parameters [N, H, W, C] from ``zs[0]``; the other rungs are unused."""
        g = self.top(zs[0])
        for rung in reversed(self.decoder_rungs):
            g = rung(g)
        return self.output_layer(g)

    def _forward(self, images, training=False):
        posteriors, zs = [], []
        below = images
        for rung in range(1, self.num_rungs + 1):
            mean, stddev = self.posterior(rung, below)
            below = self._reparameterize(mean, stddev)
            posteriors.append((mean, stddev))
            zs.append(below)
        kls = []
        for rung in range(1, self.num_rungs):
            prior_mean, prior_stddev = self.prior(rung, zs[rung])
            mean, stddev = posteriors[rung - 1]
            kls.append(distributions.gaussian_log_density(zs[rung - 1], mean, stddev)
                       - distributions.gaussian_log_density(zs[rung - 1], prior_mean, prior_stddev))
        kls.append(distributions.kl_to_standard_normal(*posteriors[-1]))
        return {"params": self._generate(zs), "z_per_rung": zs, "posteriors": posteriors, "kl_per_rung": kls}

    # -- decoding -----------------------------------------------------------------------------------
    def decode(self, zs, num_samples=None, seed=None):
        """Images [N, H, W, C] in [0, 1]; ``None`` rungs are drawn from ``p(z_l | z_{l+1})``, top down.

        Only ``z_1`` reaches the pixels: with ``zs[0]`` given, the rungs above it change nothing.
        """
        codes = self._ancestral(zs, num_samples, seed, noise=False)
        return distributions.image_mean(self.model_config.likelihood, self._generate(codes))

    def decode_noise(self, noise, num_samples=None, seed=None):
        """Images from the ancestral sampler's standardised noise, one [N, d_l] per rung (``None``: drawn).

        ``z_L = noise_L`` and ``z_l = mean_l(z_{l+1}) + stddev_l(z_{l+1}) * noise_l``: varying one rung's
        noise with the others fixed shows what that rung controls in the generative model.
        """
        codes = self._ancestral(noise, num_samples, seed, noise=True)
        return distributions.image_mean(self.model_config.likelihood, self._generate(codes))

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

    # -- evaluation ---------------------------------------------------------------------------------
    def log_weights(self, images, num_samples: int, seed):
        """IWAE log weights ``log p(x, z) - log q(z | x)`` for ``num_samples`` chains per image: [K, B] float32.

        ``z_1 ~ q(z_1 | x)``, ``z_l ~ q(z_l | z_{l-1})``; ``log p(x, z) = log p(x | z_1) + sum_{l<L}
        log p(z_l | z_{l+1}) + log N(z_L; 0, I)``. ``seed`` ([2] int) makes the draws reproducible.
        """
        images = tf.cast(images, tf.float32)
        batch = tf.shape(images)[0]
        seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), self.num_rungs))
        mean, stddev = self.posterior(1, images)
        mean, stddev = tf.tile(mean, [num_samples, 1]), tf.tile(stddev, [num_samples, 1])  # [K*B, d]
        zs, log_q = [], 0.0
        for rung in range(1, self.num_rungs + 1):
            if rung > 1:
                mean, stddev = self.posterior(rung, zs[-1])
            z = mean + stddev * self._normal(tf.shape(mean), seeds[rung - 1])
            log_q += distributions.gaussian_log_density(z, mean, stddev)
            zs.append(z)
        log_p = distributions.gaussian_log_density(zs[-1], 0.0, 1.0)
        for rung in range(1, self.num_rungs):
            log_p += distributions.gaussian_log_density(zs[rung - 1], *self.prior(rung, zs[rung]))
        targets = tf.tile(images, [num_samples, 1, 1, 1])
        log_px = distributions.image_likelihood(self.model_config.likelihood, self._generate(zs),
                                                self._log_scale()).log_prob(targets)
        return tf.reshape(log_px + log_p - log_q, [num_samples, batch])
