"""Tolerances for assertions on estimates, derived from the estimate's standard error, never hand-picked.

A stochastic estimate (a Monte Carlo mean, an IWAE bound, a plug-in mutual information, a probe's test
accuracy) differs from what it estimates by its own noise. A test allows ``Z`` standard errors of that
noise and no more, so it fails when the quantity itself is wrong and passes whatever seed, order or CPU:
for a normal estimate, |error| > 4 SE has probability 6e-5, so even the ~100 such comparisons of the
suite all pass by chance with probability > 0.99 (and every test here is seeded besides).
"""

import math

import numpy as np

Z = 4.0


def mean_and_standard_error(replicates):
    """Mean over everything of a [R, N] table (R independent replicates of an estimate, for each of N fixed
    inputs) and the standard error of that mean: sqrt(sum_i var_i / R) / N, with var_i the replicates'
    variance for input i (ddof=1). The inputs are fixed, so their spread is not noise and is left out."""
    replicates = np.asarray(replicates, np.float64)
    count, inputs = replicates.shape
    variance = replicates.var(axis=0, ddof=1) / count
    return float(replicates.mean()), float(math.sqrt(variance.sum()) / inputs)


def independent_mi_bound(df, num_rows, entropy):
    """Upper end (mean + Z sd) of the plug-in MI of two independent discrete variables, normalised by
    ``entropy``. The G statistic 2 N I (nats) is chi-squared with df = (a - 1)(b - 1) degrees of freedom
    for a and b observed values, so I has mean df / (2N) and sd sqrt(2 df) / (2N)."""
    return (df + Z * math.sqrt(2.0 * df)) / (2.0 * num_rows * entropy)


def binomial_bound(rate, trials):
    """Z standard errors of an observed rate (an accuracy) over ``trials`` independent trials."""
    return Z * math.sqrt(rate * (1.0 - rate) / trials)
