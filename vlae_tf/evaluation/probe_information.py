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
the probe family cannot read scores less. Two families are fitted and the better bound is kept per cell:

- ``logistic``: multinomial logistic regression on standardised codes (linear logits); near-exact for a
  factor laid out along a direction of the code, and well calibrated.
- ``mlp``: a two-layer perceptron. A rung can hold a factor non-linearly: on ``shapes`` the top rung codes
  rotation on a circle whose period depends on the shape's symmetry, which linear logits read at <= 0.02
  of H(rotation) and the MLP at ~0.6 (docs/comparison.md).

Keeping the larger of two out-of-fold estimates, each a bound in expectation, can overshoot the truth by
about the Monte Carlo error of the selected one; the reported standard error is that one's.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from vlae_tf.evaluation.information import check_discrete_factors, factor_entropies

ESTIMATOR_NAME = "cross-validated probe (best of logistic and a 2-layer MLP per cell), 1 - CE / H(v)"
PROBE_FAMILIES = ("logistic", "mlp")
# Weak regularisation: a factor held exactly needs large weights to reach a log-loss near 0, and the
# out-of-fold scoring already guards against overfitting.
PROBE_C = 100.0
# 64-64 units, 100 epochs of Adam: on the shapes demo's codes, within 0.03 of 200 epochs or of early stopping
# without it at half the cost; early stopping (a 10% validation split) was worse calibrated: 0.74 of
# H(bg_color) where both others reach 1.0.
MLP_UNITS = (64, 64)
MLP_EPOCHS = 100
MIN_PROB = 1e-12  # floor on predicted probabilities: one confident miss costs at most -log(1e-12) nats


def _probe(family, seed):
    if family == "logistic":
        classifier = LogisticRegression(C=PROBE_C, max_iter=500)
    elif family == "mlp":
        classifier = MLPClassifier(MLP_UNITS, alpha=1e-3, max_iter=MLP_EPOCHS, random_state=seed)
    else:
        raise ValueError(f"probe family {family!r} is not valid; choose one of {', '.join(PROBE_FAMILIES)}")
    return make_pipeline(StandardScaler(), classifier)


def probe_information(codes, labels, folds=3, seed=0, family="logistic"):
    """Lower bound on I(codes; labels) in nats from an out-of-fold logistic probe's cross-entropy.

    Args:
      codes: [N, d] real codes (one rung's posterior means).
      labels: [N] integer labels, at least two values.
      folds: stratified cross-validation folds (capped by the rarest label's count, at least 2).
      seed: fold shuffling seed (and the MLP's initialisation).
      family: the probe, one of ``PROBE_FAMILIES``.
    Returns:
      dict: information (H(v) - CE, nats), entropy (H(v)), cross_entropy (CE), standard_error (of CE).
    """
    codes = np.asarray(codes, np.float64)
    labels = np.asarray(labels).reshape(-1)
    probe = _probe(family, seed)
    classes, encoded, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise ValueError("labels are constant: a constant factor holds no information; drop it first.")
    entropy = float(-(counts / counts.sum()) @ np.log(counts / counts.sum()))
    folds = int(max(2, min(folds, counts.min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # One OpenMP/BLAS thread: many small fits; threads competing with TensorFlow's pools only slow them.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        proba = cross_val_predict(probe, codes, encoded, cv=splitter, method="predict_proba")
    losses = -np.log(np.maximum(proba[np.arange(len(encoded)), encoded], MIN_PROB))
    cross_entropy = float(losses.mean())
    return {"information": entropy - cross_entropy, "entropy": entropy, "cross_entropy": cross_entropy,
            "standard_error": float(losses.std() / np.sqrt(len(losses)))}


def rung_factor_probe_information(codes_per_rung, factors, folds=3, seed=0, max_rows=5000,
                                  families=PROBE_FAMILIES):
    """Per rung and factor, 1 - CE / H(v): the best probe's bound on I(z_l; v_k) / H(v_k).

    Args:
      codes_per_rung: list of L arrays [N, d_l] (posterior means), rungs 1..L in order.
      factors: [N, F] integer labels, none constant.
      folds, seed: as `probe_information`.
      max_rows: rows used (a seeded random subset when N is larger): the fits dominate the cost.
      families: the probe families fitted per cell; the larger bound is kept.
    Returns:
      dict: nmi [L, F] (clipped below at 0), standard_error [L, F] (of the kept bound's nmi), family [L][F]
      (the family that gave it), by_family {family: nmi [L, F]}, estimator (its name).
    """
    families = tuple(families)
    if not families or any(f not in PROBE_FAMILIES for f in families):
        raise ValueError(f"families={families!r}: choose one or more of {', '.join(PROBE_FAMILIES)}")
    if len(codes_per_rung) == 0:
        raise ValueError("codes_per_rung is empty; pass one [N, d_l] array per rung.")
    factors = check_discrete_factors(factors)
    constant = np.flatnonzero(factor_entropies(factors) <= 0)
    if constant.size:
        raise ValueError(f"factor columns {constant.tolist()} are constant; drop them first.")
    rows = np.arange(factors.shape[0])
    if rows.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows.size, max_rows, replace=False))
    shape = (len(codes_per_rung), factors.shape[1])
    by_family = {family: np.zeros(shape) for family in families}
    family_se = {family: np.zeros(shape) for family in families}
    for rung, codes in enumerate(codes_per_rung):
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] != factors.shape[0]:
            raise ValueError(f"codes_per_rung[{rung}] must be [{factors.shape[0]}, d], got {codes.shape}.")
        for k in range(factors.shape[1]):
            for family in families:
                result = probe_information(codes[rows], factors[rows, k], folds, seed, family)
                by_family[family][rung, k] = result["information"] / result["entropy"]
                family_se[family][rung, k] = result["standard_error"] / result["entropy"]
    stacked = np.stack([by_family[f] for f in families])
    best = np.argmax(stacked, axis=0)  # ties go to the first family
    nmi = np.take_along_axis(stacked, best[None], axis=0)[0]
    standard_error = np.take_along_axis(np.stack([family_se[f] for f in families]), best[None], axis=0)[0]
    return {"nmi": np.maximum(nmi, 0.0), "standard_error": standard_error,
            "family": [[families[i] for i in row] for row in best],
            "by_family": {f: np.maximum(v, 0.0) for f, v in by_family.items()}, "estimator": ESTIMATOR_NAME}
