"""I(z_j; v_k) from samples of q(z | x): the estimator of beta-TCVAE's MIG and of the pro-VLAE authors.

Chen et al. 2018 ("Isolating Sources of Disentanglement in VAEs", arXiv:1802.04942, section 5 and their
``estimate_entropies``) do not bin posterior means. They take the aggregate posterior of each code
dimension, the mixture of the N posteriors of the data set,

    q(z_j) = 1/N sum_n q(z_j | x_n),           q(z_j | v_k = i) = 1/N_i sum_{n: v_k(x_n) = i} q(z_j | x_n),

and estimate the entropies by Monte Carlo with draws z ~ q(z_j | x_n) of random data points:

    H(z_j) = -E_{n, z ~ q(z_j | x_n)} log q(z_j),   I(z_j; v_k) = H(z_j) - sum_i p(v_k = i) H(z_j | v_k = i).

Each log q(.) is an exact log-sum-exp over the mixture's components, so the only error is the Monte Carlo
average over draws: each entropy comes with its standard error (std of -log q over draws / sqrt(draws)).
Unlike the histogram of means, the posterior's spread counts: codes whose posteriors overlap carry less
information than their means suggest. beta-TCVAE runs over a full factor grid with uniform factors; here
p(v_k = i) is the empirical frequency, which is the same thing on a grid and also serves random samples.

Layout as in ``information``: rows are samples; means and stddevs [N, D], factors [N, F] integer labels.
"""

import numpy as np

from vlae_tf.evaluation.information import check_discrete_factors, factor_entropies

# Elements of one [draws, components, dims] block of log densities: ~20M float64 keep a block near 160 MB.
BLOCK_ELEMENTS = 20_000_000
HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def _check_posteriors(means, stddevs):
    means, stddevs = np.asarray(means, np.float64), np.asarray(stddevs, np.float64)
    if means.ndim != 2 or means.shape != stddevs.shape:
        raise ValueError(f"means and stddevs must both be [N, D]; got {means.shape} and {stddevs.shape}.")
    if means.shape[0] == 0:
        raise ValueError("means has no rows.")
    if not np.all(stddevs > 0):
        raise ValueError("stddevs must be > 0 (a Gaussian posterior's scale).")
    return means, stddevs


def log_mixture_density(z, means, stddevs):
    """Per dimension, log of 1/M sum_m N(z; mean_m, stddev_m^2): [S, D] draws, [M, D] components -> [S, D].

    The [S, M, D] blocks are float32 (half the time of float64; the log-sum-exp subtracts its maximum, so
    the result keeps ~1e-6 relative precision), the result float64.
    """
    m, d = means.shape
    chunk = max(1, BLOCK_ELEMENTS // (m * d))
    out = np.empty(z.shape)
    inv_std = (1.0 / stddevs).astype(np.float32)[None]  # [1, M, D]
    scaled_means = means.astype(np.float32)[None] * inv_std
    log_norm = (np.log(inv_std) - HALF_LOG_2PI - np.log(m)).astype(np.float32)
    for start in range(0, z.shape[0], chunk):
        block = z[start:start + chunk, None, :].astype(np.float32) * inv_std - scaled_means  # [S, M, D]
        np.square(block, out=block)
        block *= -0.5
        block += log_norm
        top = block.max(axis=1)
        block -= top[:, None]
        np.exp(block, out=block)
        out[start:start + chunk] = top + np.log(block.sum(axis=1, dtype=np.float64))
    return out


def sampled_mutual_information(means, stddevs, factors, num_draws=2000, seed=0):
    """I(z_j; v_k) for every code dimension and factor, from the posteriors q(z | x), in nats.

    One set of draws serves every entropy (common random numbers): z_s ~ q(z | x_{n_s}) with n_s uniform,
    and I(z_j; v_k) = mean_s [log q(z_sj | v_k = v_k(x_{n_s})) - log q(z_sj)], since draws whose source has
    v_k = i are draws from q(z | v_k = i) in proportion p(v_k = i). The per-draw differences are far less
    noisy than the two entropies apart.

    Bias: each mixture includes the component its draw came from (as in beta-TCVAE). For a code
    independent of v_k that self term inflates log q(z | v_k = i) more (N_i < N components), by about
    E[1 / (N_i stddev sqrt(2 pi) q(z))] nats: negligible for N_i stddev >> 1 on the scale of the code.

    Args:
      means, stddevs: [N, D] posterior parameters (``model_metrics.posterior_codes``, rungs concatenated).
      factors: [N, F] integer labels, none constant.
      num_draws: Monte Carlo draws (beta-TCVAE uses 10,000; the common draws make 2,000 enough for a
        standard error near 1e-3 nats); cost ~ (F + 1) num_draws N D exponentials.
      seed: numpy seed of the draws.
    Returns:
      dict: mi [D, F], standard_error [D, F] (the Monte Carlo error of mi), nmi [D, F] (mi / H(v_k),
      unclipped: Monte Carlo noise can put it a little outside [0, 1]), factor_entropy [F].
    """
    means, stddevs = _check_posteriors(means, stddevs)
    factors = check_discrete_factors(factors)
    if factors.shape[0] != means.shape[0]:
        raise ValueError(f"means have {means.shape[0]} rows but factors have {factors.shape[0]}.")
    entropy_v = factor_entropies(factors)
    if np.any(entropy_v <= 0):
        raise ValueError(f"factor columns {np.flatnonzero(entropy_v <= 0).tolist()} are constant; drop them first.")
    rng = np.random.default_rng(seed)
    source = rng.integers(0, means.shape[0], size=num_draws)
    z = means[source] + stddevs[source] * rng.standard_normal((num_draws, means.shape[1]))
    log_marginal = log_mixture_density(z, means, stddevs)  # [S, D]
    d, f = means.shape[1], factors.shape[1]
    mi, standard_error = np.zeros((d, f)), np.zeros((d, f))
    for k in range(f):
        log_conditional = np.empty_like(log_marginal)
        for value in np.unique(factors[:, k]):
            rows, drawn = factors[:, k] == value, factors[source, k] == value
            if np.any(drawn):
                log_conditional[drawn] = log_mixture_density(z[drawn], means[rows], stddevs[rows])
        gain = log_conditional - log_marginal  # [S, D]
        mi[:, k] = gain.mean(axis=0)
        standard_error[:, k] = gain.std(axis=0) / np.sqrt(num_draws)
    return {"mi": mi, "standard_error": standard_error, "nmi": mi / entropy_v[None, :],
            "factor_entropy": entropy_v}
