"""Active latent units (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", sec. 5.2).

A unit u is active when its posterior mean moves with the input: A_u = Cov_x(E_{q(u|x)}[u]) > threshold,
with threshold 0.01 as in the paper. A collapsed unit has q(u|x) = p(u) for every x, so its mean is
constant and it carries no information about x. Pass posterior means, not samples: sampling noise alone
would make every unit look active.
"""

import numpy as np

DEFAULT_THRESHOLD = 0.01


def unit_activity(means):
    """Variance over the data of each posterior mean. [N, D] -> [D] float64."""
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or means.shape[0] == 0:
        raise ValueError(f"means must be a non-empty [N, D] array, got shape {means.shape}.")
    return np.var(means, axis=0)


def active_unit_mask(means, threshold=DEFAULT_THRESHOLD):
    """[N, D] posterior means -> [D] bool, True where the unit's activity exceeds `threshold`."""
    return unit_activity(means) > threshold


def active_units(means, threshold=DEFAULT_THRESHOLD):
    """Number of active units in [N, D] posterior means."""
    return int(np.sum(active_unit_mask(means, threshold)))


def active_units_per_rung(means_per_rung, threshold=DEFAULT_THRESHOLD):
    """Active-unit counts for a list of L rungs of posterior means [N, d_l] -> list of L ints."""
    return [active_units(means, threshold) for means in means_per_rung]
