"""Model-dependent evaluation: run a trained model over arrays of images and return numpy.

The pure metrics (``bounds``, ``information``, ``mig``, ``active_units``, ``probes``) take what these
functions return. Everything is batched, so a whole test split (or K = 1000 importance samples) fits in
memory, and seeded, so a report is reproducible.

- ``posterior_codes``: per rung, the posterior means and stddevs [N, d_l] (``model.encode``).
- ``elbo_terms``: the mean of every loss term (``elbo``, ``recon``, ``kl``, ``kl/rung_l``) in nats.
- ``log_weights``: IWAE log weights ``log p(x, z) - log q(z | x)`` [K, B] for any model kind.
- ``importance_weighted_bounds``: the IWAE bound and the ELBO from the same K samples, per image.
- ``traversal_generator``: the ``generator_fn`` whose per-rung traversals show what a rung controls.
"""

from __future__ import annotations

import itertools
import weakref

import numpy as np
import tensorflow as tf

from vlae_tf import distributions, visualize
from vlae_tf.evaluation import bounds

DEFAULT_BATCH = 500
# Decoder passes per call of a log-weight function: K_chunk * B images. ~2,000 32x32 images keep the
# decoder's activations around a gigabyte.
DECODES_PER_CALL = 2048


_FUNCTIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _traced(model, name, python_fn):
    """One ``tf.function`` per model and purpose, kept for the model's lifetime: traced once, not per call."""
    functions = _FUNCTIONS.setdefault(model, {})
    if name not in functions:
        functions[name] = tf.function(python_fn, reduce_retracing=True)
    return functions[name]


def _batches(images, batch_size):
    for start in range(0, len(images), batch_size):
        yield tf.convert_to_tensor(np.asarray(images[start:start + batch_size], np.float32))


def posterior_codes(model, images, batch_size: int = DEFAULT_BATCH) -> tuple[list, list]:
    """(means, stddevs): two lists of L float32 arrays [N, d_l], rung 1 first, from ``model.encode``."""
    encode = _traced(model, "encode", model.encode)
    means = [[] for _ in range(model.num_rungs)]
    stddevs = [[] for _ in range(model.num_rungs)]
    for batch in _batches(images, batch_size):
        for rung, (mean, stddev) in enumerate(encode(batch)):
            means[rung].append(mean.numpy())
            stddevs[rung].append(stddev.numpy())
    return [np.concatenate(m) for m in means], [np.concatenate(s) for s in stddevs]


def elbo_terms(model, images, batch_size: int = DEFAULT_BATCH) -> dict:
    """Mean over the images of each per-example term of ``losses.loss_terms``, in nats (floats).

    The ELBO is a one-sample estimate per image: over a test split of thousands its noise is negligible.
    """
    terms_fn = _traced(model, "terms", lambda x: model.compute_terms(x, training=False, step=0))
    sums, count = {}, 0
    for batch in _batches(images, batch_size):
        terms = terms_fn(batch)
        for name, value in terms.items():
            if name == "kl_weight":
                continue
            sums[name] = sums.get(name, 0.0) + float(tf.reduce_sum(tf.cast(value, tf.float64)))
        count += int(batch.shape[0])
    return {name: total / count for name, total in sums.items()}


def independent_log_weights(model, images, num_samples: int, seed):
    """Log weights of a model whose rungs are independent a priori, ``p(z) = prod_l N(z_l; 0, I)``,
    with a factorised posterior ``q(z | x) = prod_l q(z_l | x)`` (VLAE, VAE):

        log w = log p(x | z) + sum_l [log N(z_l; 0, I) - log q(z_l | x)],   z_l ~ q(z_l | x).

    images: [B, H, W, C]; seed: [2] int. Returns [K, B] float32.
    """
    images = tf.cast(images, tf.float32)
    batch = tf.shape(images)[0]
    posteriors = model.encode(images)
    seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), len(posteriors)))
    zs, log_ratio = [], 0.0
    for (mean, stddev), rung_seed in zip(posteriors, seeds):
        mean, stddev = tf.tile(mean, [num_samples, 1]), tf.tile(stddev, [num_samples, 1])  # [K*B, d]
        z = mean + stddev * tf.random.stateless_normal(tf.shape(mean), tf.cast(rung_seed, tf.int32))
        log_ratio += (distributions.gaussian_log_density(z, 0.0, 1.0)
                      - distributions.gaussian_log_density(z, mean, stddev))
        zs.append(z)
    # ``decode`` returns the likelihood's means; the density needs its parameters.
    likelihood = distributions.image_likelihood(model.model_config.likelihood, *model.likelihood_params(zs))
    log_px = likelihood.log_prob(tf.tile(images, [num_samples, 1, 1, 1]))
    return tf.reshape(log_px + log_ratio, [num_samples, batch])


def log_weights(model, images, num_samples: int, seed):
    """``log p(x, z_k) - log q(z_k | x)`` for K = ``num_samples`` draws per image: [K, B] float32.

    A model with its own ``log_weights`` (the HVAE's Markov chain) supplies them; the others use
    ``independent_log_weights``.
    """
    if model.model_config.likelihood not in ("bernoulli", "gaussian"):
        raise ValueError(f"likelihood {model.model_config.likelihood!r} is a distortion, not a density: it has "
                         "no importance-weighted bound; valid: bernoulli, gaussian")
    own = getattr(model, "log_weights", None)
    if own is not None:
        return own(images, num_samples, seed)
    return independent_log_weights(model, images, num_samples, seed)


def importance_weighted_bounds(model, images, num_samples: int, seed: int = 0,
                               decodes_per_call: int = DECODES_PER_CALL, batch_size: int = 100,
                               progress=None) -> dict:
    """IWAE bound L_K and the ELBO from the same K samples, per image, in nats.

    Images go through ``batch_size`` at a time and samples ``decodes_per_call // batch`` at a time
    (``bounds.batched_bounds``), so K = 1000 needs no more memory than K = 10. ``progress(n)``, when
    given, is called after each batch of n images (K = 1000 takes minutes).

    Returns:
      dict: iwae [N], elbo [N] (float64; iwae >= elbo image by image).
    """
    fn = _traced(model, "log_weights", lambda x, k, s: log_weights(model, x, k, s))
    out = {"iwae": [], "elbo": []}
    calls = itertools.count()  # a fresh stateless seed for every call: no two chunks share samples
    for batch in _batches(images, batch_size):
        chunk = max(1, decodes_per_call // int(batch.shape[0]))

        def weights(x, k):
            return fn(x, k, tf.constant([seed, next(calls)], tf.int32)).numpy()

        result = bounds.batched_bounds(weights, batch, num_samples, chunk_size=chunk)
        out["iwae"].append(result["iwae"])
        out["elbo"].append(result["elbo"])
        if progress is not None:
            progress(int(batch.shape[0]))
    return {name: np.concatenate(values) for name, values in out.items()}


def traversal_generator(model):
    """A ``visualize`` generator_fn for per-rung traversals (numpy codes in, images in [0, 1] out).

    For a model with ``decode_noise`` (the HVAE) the codes are the ancestral sampler's standardised
    noise, so every rung's traversal shows what that rung changes in a sample; for the VLAE and the VAE
    the prior is N(0, I) and codes are the latents themselves.
    """
    return visualize.generator_fn_from_model(model, decode=getattr(model, "decode_noise", model.decode))
