"""The objective, as one pure function shared by ``train_step``, the custom loop and evaluation.

For a VLAE (paper eq. 4 with per-rung weights):

    ELBO(x) = E_q[log p(x | z_1..z_L)] - sum_l KL(q(z_l | x) || p(z_l))
    loss(x) = -E_q[log p(x | z)] + w(t) * sum_l beta_l KL_l          (regulariser "kl")
    loss(x) = -E_q[log p(x | z)] + mmd_weight * sum_l MMD(q(z_l), N(0, I))   (regulariser "mmd", InfoVAE)

with the warm-up ``w(t) = 1 - exp(-t / warmup_steps)``. ``E_q`` is a one-sample reparameterised
estimate. Every term is per example ([B], float32) so the distributed loop can average over the global
batch; the MMD, a property of the batch, is spread evenly over its examples.
"""

from __future__ import annotations

import tensorflow as tf

from vlae_tf import distributions
from vlae_tf.config import ModelConfig


def kl_weight(step, warmup_steps: float):
    """``1 - exp(-step / warmup_steps)``, or 1 without warm-up."""
    if not warmup_steps:
        return tf.constant(1.0)
    return 1.0 - tf.exp(-tf.cast(step, tf.float32) / float(warmup_steps))


def reconstruction_cost(kind: str, images, params, log_scale=None, l1_scale: float = 1.0):
    """``-log p(x | z)`` in nats for bernoulli/gaussian, or the scaled L1 distortion: [B] float32."""
    images = tf.cast(images, tf.float32)
    if kind == "l1":
        mean = distributions.image_mean(kind, params)
        return l1_scale * tf.reduce_sum(tf.abs(images - mean), axis=[1, 2, 3])
    return -distributions.image_likelihood(kind, params, log_scale).log_prob(images)


def mmd_to_standard_normal(z, seed=None):
    """Biased MMD estimate with a Gaussian kernel between samples z [B, d] and as many N(0, I) draws.

    The kernel ``exp(-||a - b||^2 / d)`` follows InfoVAE (Zhao, Song & Ermon 2017). Returns a scalar.
    """
    z = tf.cast(z, tf.float32)
    dim = tf.cast(tf.shape(z)[1], tf.float32)
    prior = (tf.random.stateless_normal(tf.shape(z), seed) if seed is not None else tf.random.normal(tf.shape(z)))

    def kernel(a, b):
        sq = tf.reduce_sum(tf.square(a[:, None, :] - b[None, :, :]), axis=-1)
        return tf.exp(-sq / dim)

    return (tf.reduce_mean(kernel(z, z)) + tf.reduce_mean(kernel(prior, prior))
            - 2.0 * tf.reduce_mean(kernel(z, prior)))


def loss_terms(config: ModelConfig, images, decoder_params, kl_per_rung, z_per_rung, step, log_scale=None,
               mmd_seed=None, rung_kl_weights=None) -> dict:
    """Named per-example terms [B] float32: ``loss``, ``elbo``, ``recon``, ``kl``, ``kl/rung_{l}``.

    images: [B, H, W, C] targets in [0, 1]; decoder_params: raw decoder output [B, H, W, C];
    kl_per_rung: list of [B] (rung 1 first); z_per_rung: list of [B, d_l] samples (used by ``mmd``);
    step: the optimiser step, for the KL warm-up. rung_kl_weights: optional [L] weights on the KLs in ``loss``
    replacing ``w(t) * beta_l`` (progressive training's, ``vlae_tf.progressive.kl_weights``). Also returns
    the scalar warm-up weight ``kl_weight``.
    """
    recon = reconstruction_cost(config.likelihood, images, decoder_params, log_scale, config.l1_scale)
    kls = [tf.cast(k, tf.float32) for k in kl_per_rung]
    total_kl = tf.add_n(kls)
    weight = kl_weight(step, config.warmup_steps)
    if config.regularizer == "kl":
        if rung_kl_weights is None:
            penalty = weight * tf.add_n([beta * k for beta, k in zip(config.beta, kls)])
        else:
            penalty = tf.add_n([w * k for w, k in zip(tf.unstack(tf.cast(rung_kl_weights, tf.float32)), kls)])
    else:
        mmd = tf.add_n([mmd_to_standard_normal(z, mmd_seed) for z in z_per_rung])
        penalty = config.mmd_weight * mmd * tf.ones_like(recon)
    terms = {"loss": recon + penalty, "elbo": -(recon + total_kl), "recon": recon, "kl": total_kl}
    for rung, k in enumerate(kls, start=1):
        terms[f"kl/rung_{rung}"] = k
    terms["kl_weight"] = weight
    return terms

