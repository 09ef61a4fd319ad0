"""Mutual information between latent codes and ground-truth factors.

Every estimate here is the plug-in (histogram) estimate used by disentanglement_lib: continuous codes are
cut into `num_bins` equal-width bins per column, factors are taken as the discrete labels they are, and
`sklearn.metrics.mutual_info_score` gives I(code; factor) in nats. Normalising by the factor's entropy
H(v) puts every factor on [0, 1]: 1 means the code determines the factor.

Layout: samples are rows. `codes` is [N, D] (posterior means, one column per latent dimension),
`factors` is [N, F] (integer labels). disentanglement_lib stores the transpose; the numbers are the same.

The plug-in estimate is biased upwards by about (bins_code - 1)(values_factor - 1) / (2N) nats, so an
independent code scores a little above 0; use N in the thousands.
"""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import mutual_info_score
from threadpoolctl import threadpool_limits

RUNG_METHODS = ("best_dim", "joint", "both")


def _as_matrix(values, name):
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, columns], got shape {values.shape}.")
    if values.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    return values


def check_discrete_factors(factors):
    """Returns `factors` as an [N, F] array after checking every value is an integer label.

    Real-valued factors (an angle, a scale) must be binned first, e.g. with `discretize`: the plug-in
    estimate would otherwise treat every distinct float as its own class.
    """
    factors = _as_matrix(factors, "factors")
    if not np.issubdtype(factors.dtype, np.integer):
        if not np.all(np.isfinite(factors)) or np.any(factors != np.round(factors)):
            raise ValueError(
                "factors must hold integer labels; bin real-valued factors first with "
                "discretize(factors, num_bins).")
    return factors


def discretize(values, num_bins=20):
    """Histogram-discretises each column into `num_bins` equal-width bins.

    As disentanglement_lib's `_histogram_discretize`: the bin edges span [min, max] of the column and the
    top edge is dropped, so labels run 1..num_bins and the maximum falls in the last bin.

    Args:
      values: [N, D] real array.
      num_bins: bins per column.
    Returns:
      [N, D] int64 bin labels in 1..num_bins.
    """
    values = _as_matrix(values, "values")
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("values contain NaN or inf; histogram bins need finite values.")
    discrete = np.empty(values.shape, dtype=np.int64)
    for j in range(values.shape[1]):
        edges = np.histogram(values[:, j], num_bins)[1]
        discrete[:, j] = np.digitize(values[:, j], edges[:-1])
    return discrete


def mutual_information_matrix(codes_discrete, factors):
    """I(code_j; factor_k) in nats for every pair.

    Args:
      codes_discrete: [N, D] discrete labels (e.g. from `discretize`).
      factors: [N, F] integer labels.
    Returns:
      [D, F] float64 matrix.
    """
    codes_discrete = _as_matrix(codes_discrete, "codes_discrete")
    factors = check_discrete_factors(factors)
    if codes_discrete.shape[0] != factors.shape[0]:
        raise ValueError(f"codes have {codes_discrete.shape[0]} rows but factors have "
                         f"{factors.shape[0]}.")
    mi = np.zeros((codes_discrete.shape[1], factors.shape[1]))
    for j in range(codes_discrete.shape[1]):
        for k in range(factors.shape[1]):
            mi[j, k] = mutual_info_score(factors[:, k], codes_discrete[:, j])
    return mi


def factor_entropies(factors):
    """H(factor_k) in nats, as I(v; v). [N, F] integer labels -> [F]."""
    factors = check_discrete_factors(factors)
    return np.array([mutual_info_score(factors[:, k], factors[:, k])
                     for k in range(factors.shape[1])])


def _nonzero_entropies(factors):
    entropy = factor_entropies(factors)
    constant = np.flatnonzero(entropy <= 0.0)
    if constant.size:
        raise ValueError(f"factor columns {constant.tolist()} are constant (zero entropy); normalised "
                         "mutual information is undefined for them. Drop them first.")
    return entropy


def normalized_mutual_information(codes, factors, num_bins=20):
    """I(z_j; v_k) / H(v_k): the share of factor k's entropy that code dimension j carries.

    Args:
      codes: [N, D] continuous codes (posterior means).
      factors: [N, F] integer labels, none constant.
      num_bins: histogram bins per code dimension.
    Returns:
      [D, F] values in [0, 1].
    """
    entropy = _nonzero_entropies(factors)
    return mutual_information_matrix(discretize(codes, num_bins), factors) / entropy[None, :]


def _cluster_labels(codes, num_clusters, seed, max_fit_rows=10000):
    """Joint discretisation of a multi-dimensional code: k-means cluster index per row."""
    unique_rows, inverse = np.unique(codes, axis=0, return_inverse=True)
    if unique_rows.shape[0] <= num_clusters:
        # Already as discrete as the clustering would make it (and k-means would warn).
        return inverse.reshape(-1)
    rng = np.random.default_rng(seed)
    fit_rows = codes
    if codes.shape[0] > max_fit_rows:
        fit_rows = codes[rng.choice(codes.shape[0], max_fit_rows, replace=False)]
    # One thread: k-means on <= 10k rows takes milliseconds, while OpenMP threads competing with
    # TensorFlow's thread pools for the same cores made it 10-30x slower in measurements.
    with threadpool_limits(limits=1, user_api="openmp"):
        kmeans = KMeans(n_clusters=num_clusters, n_init=3, random_state=seed).fit(fit_rows)
        return kmeans.predict(codes)


def rung_factor_information(codes_per_rung, factors, num_bins=20, method="both", seed=0):
    """How much of each factor each rung carries, as a normalised MI in [0, 1].

    A rung has several dimensions, and a trained rung may spread one factor over them (a position as a
    rotated 2-D code, an angle as (cos, sin)), so no single dimension need carry it. Two estimates,
    both lower bounds on I(z_l; v_k) / H(v_k) by data processing, since each is the MI of a function of
    the rung code:
      - "best_dim": max over the rung's dimensions of `normalized_mutual_information` (MIG's view).
      - "joint": the rung code jointly discretised by k-means into `num_bins` clusters (rows are not
        standardised: inactive dimensions have near-zero spread and should not drive the clusters).
        Using as many clusters as histogram bins keeps the plug-in bias of both estimates comparable.
      - "both" (default): the larger of the two, i.e. the tighter lower bound.

    Args:
      codes_per_rung: list of L arrays [N, d_l] (posterior means), rungs 1..L in order.
      factors: [N, F] integer labels, none constant.
      num_bins: histogram bins per dimension, and k-means clusters per rung.
      method: one of RUNG_METHODS.
      seed: k-means seed, for reproducible numbers.
    Returns:
      [L, F] float64 matrix; row l-1 is rung l.
    """
    if method not in RUNG_METHODS:
        raise ValueError(f"method must be one of {RUNG_METHODS}, got {method!r}.")
    if len(codes_per_rung) == 0:
        raise ValueError("codes_per_rung is empty; pass one [N, d_l] array per rung.")
    factors = check_discrete_factors(factors)
    entropy = _nonzero_entropies(factors)
    info = np.zeros((len(codes_per_rung), factors.shape[1]))
    for rung, codes in enumerate(codes_per_rung):
        codes = _as_matrix(codes, f"codes_per_rung[{rung}]")
        if method in ("best_dim", "both"):
            best = normalized_mutual_information(codes, factors, num_bins).max(axis=0)
            info[rung] = np.maximum(info[rung], best)
        if method in ("joint", "both"):
            labels = _cluster_labels(codes, num_bins, seed)
            joint = mutual_information_matrix(labels[:, None], factors)[0] / entropy
            info[rung] = np.maximum(info[rung], joint)
    return info


def factor_rung_assignment(info, factor_names):
    """Names each factor's rung: the rung (1-based, from the pixels up) with the most information.

    Args:
      info: [L, F] from `rung_factor_information`.
      factor_names: F names, in the column order of the factors.
    Returns:
      dict factor name -> rung number in 1..L (ties go to the lower rung).
    """
    info = _as_matrix(info, "info")
    factor_names = list(factor_names)
    if len(factor_names) != info.shape[1]:
        raise ValueError(f"got {len(factor_names)} factor names for {info.shape[1]} factor columns.")
    best = np.argmax(info, axis=0)
    return {name: int(rung) + 1 for name, rung in zip(factor_names, best)}
