"""The only place where tensors become TensorFlow Probability distributions.

Layers return plain tensors; likelihoods and KLs are computed here, in float32, so that mixed-precision
models keep their probabilistic arithmetic exact. Event shapes: a rung's posterior has event shape
``[d_l]``; the image likelihood has event shape ``[H, W, C]``; batch shape is ``[B]`` throughout.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def _f32(x):
    return tf.cast(x, tf.float32)


def diagonal_gaussian(mean, stddev) -> tfd.Distribution:
    """``q(z_l | x) = N(mean, diag(stddev^2))``; mean, stddev: [B, d] -> batch [B], event [d]."""
    return tfd.Independent(tfd.Normal(_f32(mean), _f32(stddev)), reinterpreted_batch_ndims=1)


def standard_normal(dim: int) -> tfd.Distribution:
    """The prior ``p(z_l) = N(0, I_d)``; event [d], batch [] (broadcasts against any batch)."""
    return tfd.Independent(tfd.Normal(tf.zeros([dim]), tf.ones([dim])), reinterpreted_batch_ndims=1)


def kl_to_standard_normal(mean, stddev):
    """Analytic ``KL(N(mean, stddev^2) || N(0, I))`` summed over the event: [B, d] -> [B] nats."""
    posterior = diagonal_gaussian(mean, stddev)
    return tfd.kl_divergence(posterior, standard_normal(mean.shape[-1]))


def gaussian_kl(q, p):
    """Analytic ``KL(N(q_mean, q_stddev^2) || N(p_mean, p_stddev^2))`` summed over the last axis: [B, d] -> [B].

    q, p: (mean, stddev) pairs of broadcastable float tensors. Per dimension the KL is
    ``log(s_p / s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2`` (the LVAE's per-rung term, given z_{l+1}).
    """
    (q_mean, q_stddev), (p_mean, p_stddev) = [(_f32(m), _f32(s)) for m, s in (q, p)]
    ratio = tf.square(q_stddev / p_stddev)
    return tf.reduce_sum(0.5 * (ratio + tf.square((q_mean - p_mean) / p_stddev) - 1.0 - tf.math.log(ratio)),
                         axis=-1)


def precision_weighted(bottom_up, top_down):
    """The Ladder VAE's posterior (Sonderby et al. 2016, eq. 18-19): the product of two diagonal Gaussians.

    bottom_up: (mean_hat, stddev_hat) from the deterministic upward pass; top_down: (mean_p, stddev_p) of the
    prior ``p(z_l | z_{l+1})``. Returns (mean, stddev) [B, d] float32 with
    ``stddev^2 = 1 / (stddev_hat^-2 + stddev_p^-2)`` and
    ``mean = (mean_hat stddev_hat^-2 + mean_p stddev_p^-2) stddev^2``: an infinitely broad prior leaves the
    bottom-up Gaussian unchanged.
    """
    (mean_hat, stddev_hat), (mean_p, stddev_p) = [(_f32(m), _f32(s)) for m, s in (bottom_up, top_down)]
    precision_hat, precision_p = tf.math.reciprocal(tf.square(stddev_hat)), tf.math.reciprocal(tf.square(stddev_p))
    variance = tf.math.reciprocal(precision_hat + precision_p)
    return (mean_hat * precision_hat + mean_p * precision_p) * variance, tf.sqrt(variance)


def image_likelihood(kind: str, params, log_scale=None) -> tfd.Distribution:
    """``p(x | z)`` with batch [B] and event [H, W, C].

    ``params`` are the decoder's raw outputs [B, H, W, C]: Bernoulli logits, or the pre-sigmoid mean of
    a Gaussian whose per-channel ``log_scale`` [C] is learned or fixed. (``l1`` is a distortion, not a
    distribution: see ``losses.reconstruction_cost``.)
    """
    params = _f32(params)
    if kind == "bernoulli":
        base = tfd.Bernoulli(logits=params, dtype=tf.float32)
    elif kind == "gaussian":
        base = tfd.Normal(tf.sigmoid(params), tf.exp(_f32(log_scale)))
    else:
        raise ValueError(f"likelihood {kind!r} has no distribution; valid: bernoulli, gaussian")
    return tfd.Independent(base, reinterpreted_batch_ndims=3)


def image_mean(kind: str, params):
    """The likelihood's mean in the image range [0, 1]: [B, H, W, C] float32."""
    del kind  # every likelihood here maps its raw output through a sigmoid
    return tf.sigmoid(_f32(params))


def gaussian_log_density(z, mean, stddev):
    """``log N(z; mean, stddev^2)`` summed over the last axis (broadcasting), float32 [...]."""
    z, mean, stddev = _f32(z), _f32(mean), _f32(stddev)
    return tf.reduce_sum(-0.5 * tf.square((z - mean) / stddev) - tf.math.log(stddev) - 0.5 * math.log(2 * math.pi),
                         axis=-1)
