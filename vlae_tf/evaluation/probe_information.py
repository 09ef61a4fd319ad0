"""Rung x factor information that does not saturate: a cross-validated probe's log-loss bound.

``information.rung_factor_information`` discretises a multi-dimensional rung through 20 k-means clusters,
so it can never show more than log 20 nats, and a 4-D rung holding two factors fully scores well below 1.
Here every rung gets a classifier q(v | z_l) per factor, fitted on other folds than the rows it scores;
for any such q,

    I(z_l; v) = H(v) - H(v | z_l) >= H(v) - CE,    CE = E[-log q(v | z_l)]     (Barber & Agakov, 2003)

since the cross-entropy of any model of v given z_l is at least H(v | z_l). Out-of-fold scoring keeps the
bound honest (an in-sample fit would overfit noise into "information"), up to the Monte Carlo error of CE
over N rows, ``standard_error`` = std(-log q) / sqrt(N). The normalised score 1 - CE / H(v) is 1 when the
probe names v with certainty, about 0 (or slightly below: the probe pays for its own fitting) when z_l
says nothing about v, and never capped by a cluster count. It is a lower bound: a factor coded in a way
the probe family cannot read (multinomial logistic on standardised codes: linear logits) scores less.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from vlae_tf.evaluation.information import check_discrete_factors, factor_entropies

ESTIMATOR_NAME = "cross-validated logistic probe, 1 - CE / H(v)"
# Weak regularisation: a factor held exactly needs large weights to reach a log-loss near 0, and the
# out-of-fold scoring already guards against overfitting.
PROBE_C = 100.0
MIN_PROB = 1e-12  # floor on predicted probabilities: one confident miss costs at most -log(1e-12) nats


def _probe():
    return make_pipeline(StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=500))


def probe_information(codes, labels, folds=3, seed=0):
    """Lower bound on I(codes; labels) in nats from an out-of-fold logistic probe's cross-entropy.

    Args:
      codes: [N, d] real codes (one rung's posterior means).
      labels: [N] integer labels, at least two values.
      folds: stratified cross-validation folds (capped by the rarest label's count, at least 2).
      seed: fold shuffling seed.
    Returns:
      dict: information (H(v) - CE, nats), entropy (H(v)), cross_entropy (CE), standard_error (of CE).
    """
    codes = np.asarray(codes, np.float64)
    labels = np.asarray(labels).reshape(-1)
    classes, encoded, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise ValueError("labels are constant: a constant factor holds no information; drop it first.")
    entropy = float(-(counts / counts.sum()) @ np.log(counts / counts.sum()))
    folds = int(max(2, min(folds, counts.min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One OpenMP/BLAS thread: many small fits; threads competing with TensorFlow's pools only slow them.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        proba = cross_val_predict(_probe(), codes, encoded, cv=splitter, method="predict_proba")
    losses = -np.log(np.maximum(proba[np.arange(len(encoded)), encoded], MIN_PROB))
    cross_entropy = float(losses.mean())
    return {"information": entropy - cross_entropy, "entropy": entropy, "cross_entropy": cross_entropy,
            "standard_error": float(losses.std() / np.sqrt(len(losses)))}


def rung_factor_probe_information(codes_per_rung, factors, folds=3, seed=0, max_rows=5000):
    """Per rung and factor, 1 - CE / H(v): the probe bound on I(z_l; v_k) / H(v_k).

    Args:
      codes_per_rung: list of L arrays [N, d_l] (posterior means), rungs 1..L in order.
      factors: [N, F] integer labels, none constant.
      folds, seed: as `probe_information`.
      max_rows: rows used (a seeded random subset when N is larger): the fits dominate the cost.
    Returns:
      dict: nmi [L, F] (clipped below at 0), standard_error [L, F] (of the nmi), estimator (its name).
    """
    if len(codes_per_rung) == 0:
        raise ValueError("codes_per_rung is empty; pass one [N, d_l] array per rung.")
    factors = check_discrete_factors(factors)
    constant = np.flatnonzero(factor_entropies(factors) <= 0)
    if constant.size:
        raise ValueError(f"factor columns {constant.tolist()} are constant; drop them first.")
    rows = np.arange(factors.shape[0])
    if rows.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows.size, max_rows, replace=False))
    nmi = np.zeros((len(codes_per_rung), factors.shape[1]))
    standard_error = np.zeros_like(nmi)
    for rung, codes in enumerate(codes_per_rung):
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] != factors.shape[0]:
            raise ValueError(f"codes_per_rung[{rung}] must be [{factors.shape[0]}, d], got {codes.shape}.")
        for k in range(factors.shape[1]):
            result = probe_information(codes[rows], factors[rows, k], folds, seed)
            nmi[rung, k] = result["information"] / result["entropy"]
            standard_error[rung, k] = result["standard_error"] / result["entropy"]
    return {"nmi": np.maximum(nmi, 0.0), "standard_error": standard_error, "estimator": ESTIMATOR_NAME}
