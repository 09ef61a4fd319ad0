"""Likelihood bounds from importance weights: ELBO and the IWAE bound.

For an image x and K samples z_k ~ q(z|x), the log importance weights are
log w_k = log p(x, z_k) - log q(z_k|x). Then (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted
Autoencoders", sec. 3)

    ELBO(x)   = 1/K sum_k log w_k                (Monte Carlo ELBO)
    L_K(x)    = log (1/K) sum_k w_k              (the IWAE bound)

In expectation over the samples, ELBO = L_1 <= L_2 <= ... <= L_K <= log p(x), and L_K -> log p(x) as K
grows when the weights are bounded (their Theorem 1); for every draw, L_K >= ELBO (Jensen).
L_K is computed with logsumexp: the weights of an image are exp(-1000s) in nats and underflow as
floats. Everything here is numpy in float64; a model supplies the log weights.

Shapes: log weights are [K, B], samples along axis 0, images along axis 1; bounds are [B] in nats.
"""

import math

import numpy as np
from scipy.special import logsumexp


def log_mean_exp(log_w, axis=0):
    """log(mean(exp(log_w), axis)) without overflow or underflow; all -inf gives -inf."""
    log_w = np.asarray(log_w, dtype=np.float64)
    return logsumexp(log_w, axis=axis) - math.log(log_w.shape[axis])


def _check_log_weights(log_weights):
    log_weights = np.asarray(log_weights, dtype=np.float64)
    if log_weights.ndim != 2 or log_weights.shape[0] == 0:
        raise ValueError(f"log weights must be [K, B] with K >= 1, got shape {log_weights.shape}.")
    # -inf is a legitimate zero weight; NaN or +inf means the model's densities are broken, and
    # one such sample would silently decide the bound.
    if np.any(np.isnan(log_weights)) or np.any(log_weights == np.inf):
        raise ValueError("log weights contain NaN or +inf.")
    return log_weights


def iwae_bound(log_weights):
    """IWAE bound L_K = log (1/K) sum_k w_k. [K, B] log weights -> [B] nats."""
    return log_mean_exp(_check_log_weights(log_weights), axis=0)


def elbo_from_log_weights(log_weights):
    """Monte Carlo ELBO, the mean log weight. [K, B] -> [B] nats."""
    return np.mean(_check_log_weights(log_weights), axis=0)


def batched_bounds(log_weight_fn, images, num_samples, chunk_size=100):
    """IWAE bound and ELBO from `num_samples` samples drawn `chunk_size` at a time.

    Only one chunk of weights (and of the model's activations) exists at a time, so K = 1000 or 5000
    fits in memory. Chunks combine exactly: logsumexp over all K weights is the logaddexp of the
    per-chunk logsumexps, so the result equals the unbatched bound up to float rounding.

    Args:
      log_weight_fn: callable (images, k) -> [k, B] array-like (numpy or an eager tf.Tensor) of
        log p(x, z_i) - log q(z_i|x) for k fresh samples z_i ~ q(z|x) per image.
      images: the batch of B images, passed through to `log_weight_fn` untouched.
      num_samples: K, the total number of samples per image.
      chunk_size: samples per call of `log_weight_fn`; the last call gets the remainder.
    Returns:
      dict: iwae ([B] L_K), elbo ([B] mean log weight over the same K samples), in nats, float64.
    """
    if num_samples < 1 or chunk_size < 1:
        raise ValueError(f"num_samples and chunk_size must be >= 1, got {num_samples} and "
                         f"{chunk_size}.")
    log_sum = None
    weight_sum = None
    done = 0
    while done < num_samples:
        k = min(chunk_size, num_samples - done)
        chunk = _check_log_weights(np.asarray(log_weight_fn(images, k)))
        if chunk.shape[0] != k or (log_sum is not None and chunk.shape[1] != log_sum.shape[0]):
            expected = f"[{k}, B]" if log_sum is None else f"[{k}, {log_sum.shape[0]}]"
            raise ValueError(f"log_weight_fn returned shape {chunk.shape}, expected {expected}.")
        chunk_log_sum = logsumexp(chunk, axis=0)
        if log_sum is None:
            log_sum, weight_sum = chunk_log_sum, chunk.sum(axis=0)
        else:
            log_sum = np.logaddexp(log_sum, chunk_log_sum)
            weight_sum = weight_sum + chunk.sum(axis=0)
        done += k
    return {"iwae": log_sum - math.log(num_samples), "elbo": weight_sum / num_samples}


def batched_iwae(log_weight_fn, images, num_samples, chunk_size=100):
    """IWAE bound L_K of `batched_bounds` alone: [B] nats."""
    return batched_bounds(log_weight_fn, images, num_samples, chunk_size)["iwae"]


def bits_per_dim(nats_per_image, num_dims):
    """Converts a per-image negative log-likelihood in nats to bits per dimension.

    Pass -log p(x) (or -bound), a positive number; `num_dims` is H * W * C. For 8-bit images modelled
    as continuous data the caller must already have added the dequantisation term to the nats.
    """
    if num_dims < 1:
        raise ValueError(f"num_dims must be >= 1, got {num_dims}.")
    return np.asarray(nats_per_image, dtype=np.float64) / (num_dims * math.log(2.0))
