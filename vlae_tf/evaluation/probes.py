"""Probe classifiers: how well a label can be read off a code, linearly and locally.

A logistic-regression probe (on standardised features) asks whether the label is linearly decodable; a
k-nearest-neighbour probe (on the raw code, so the latent space's own Euclidean geometry decides who is
a neighbour and collapsed dimensions with near-zero spread cannot dominate distances) asks whether it is
locally decodable at all. `chance` is the majority-class rate of the test labels, the score of a probe
that learned nothing.

A probe is only ever scored on rows it was not fitted on: scored on its own training rows, a k-NN probe
finds each row among its own neighbours and reads its label back, whatever the code holds (on random
labels its accuracy rises from chance, 0.1 for ten classes, to about 0.25). `held_out_rows` splits one set
of rows into disjoint fit and score rows for when the evaluated rows are themselves training rows.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _check_split(features, labels, name):
    features = np.asarray(features)
    labels = np.asarray(labels)
    if features.ndim != 2:
        raise ValueError(f"features_{name} must be [N, D], got shape {features.shape}.")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(f"labels_{name} must be [N] with N = {features.shape[0]} "
                         f"(rows of features_{name}), got shape {labels.shape}.")
    return features, labels


def probe_accuracy(features_train, labels_train, features_test, labels_test, k=5, max_iter=2000,
                   seed=0):
    """Test accuracy of a logistic and a k-NN probe trained on (features_train, labels_train).

    Args:
      features_train: [N_train, D] codes (e.g. one rung's posterior means).
      labels_train: [N_train] class labels (at least two classes).
      features_test: [N_test, D].
      labels_test: [N_test].
      k: neighbours of the k-NN probe.
      max_iter: L-BFGS iterations of the logistic probe (standardised inputs converge well within it).
      seed: random state of the logistic solver.
    Returns:
      dict: logistic, knn, chance (floats in [0, 1]).
    """
    features_train, labels_train = _check_split(features_train, labels_train, "train")
    features_test, labels_test = _check_split(features_test, labels_test, "test")
    if features_train.shape[1] != features_test.shape[1]:
        raise ValueError(f"train features have {features_train.shape[1]} columns, test features "
                         f"{features_test.shape[1]}.")
    if np.unique(labels_train).size < 2:
        raise ValueError("labels_train holds a single class; a probe needs at least two.")
    logistic = make_pipeline(StandardScaler(),
                             LogisticRegression(max_iter=max_iter, random_state=seed))
    logistic.fit(features_train, labels_train)
    knn = KNeighborsClassifier(n_neighbors=min(k, features_train.shape[0]))
    knn.fit(features_train, labels_train)
    _, counts = np.unique(labels_test, return_counts=True)
    return {
        "logistic": float(logistic.score(features_test, labels_test)),
        "knn": float(knn.score(features_test, labels_test)),
        "chance": float(counts.max() / labels_test.shape[0]),
    }


def held_out_rows(num_rows, max_fit=None, score_fraction=0.2, seed=0):
    """Disjoint (fit, score) row indices over `num_rows` rows, in a seeded random order.

    Args:
      num_rows: rows to split (at least 2).
      max_fit: most rows to fit on (None: all the rows not scored).
      score_fraction: share of the rows held out for scoring (at least one row, at most num_rows - 1).
      seed: the shuffle's seed, so that rows stored in class order still give both sets every class.
    Returns:
      (fit, score): int arrays of row indices, no index in both.
    """
    if num_rows < 2:
        raise ValueError(f"num_rows={num_rows} rows cannot be split into fit and score rows; need at least 2.")
    if not 0.0 < score_fraction < 1.0:
        raise ValueError(f"score_fraction={score_fraction!r} must lie strictly between 0 and 1.")
    order = np.random.default_rng(seed).permutation(num_rows)
    num_score = min(max(1, round(num_rows * score_fraction)), num_rows - 1)
    fit = order[num_score:]
    return (fit if max_fit is None else fit[:max_fit]), order[:num_score]


def probe_per_rung(codes_train_per_rung, labels_train, codes_test_per_rung, labels_test, **kwargs):
    """`probe_accuracy` for each rung's code alone.

    Args:
      codes_train_per_rung: list of L arrays [N_train, d_l], rungs 1..L in order.
      labels_train: [N_train].
      codes_test_per_rung: list of L arrays [N_test, d_l].
      labels_test: [N_test].
      **kwargs: passed to `probe_accuracy` (k, max_iter, seed).
    Returns:
      list of L dicts, entry l-1 for rung l.
    """
    if len(codes_train_per_rung) != len(codes_test_per_rung):
        raise ValueError(f"{len(codes_train_per_rung)} train rungs but {len(codes_test_per_rung)} "
                         "test rungs.")
    return [probe_accuracy(train, labels_train, test, labels_test, **kwargs)
            for train, test in zip(codes_train_per_rung, codes_test_per_rung)]
