"""Mutual Information Gap (MIG) and its supplement MIG-sup.

MIG (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", arXiv:1802.04942), computed as
disentanglement_lib's `compute_mig` does (posterior means, histogram-discretised):

    MIG = 1/K sum_k (I(z_{j(1)}; v_k) - I(z_{j(2)}; v_k)) / H(v_k)

where j(1), j(2) are the code dimensions with the highest and second-highest MI with factor v_k. It
rewards each factor being held by one dimension, and is blind to one dimension holding several factors.

MIG-sup (Li et al. 2020, "Progressive Learning and Disentanglement of Hierarchical Representations",
ICLR, arXiv:2002.10549) measures that other direction, per code dimension:

    MIG-sup = 1/J sum_j (I_norm(z_j; v_{k(1)}) - I_norm(z_j; v_{k(2)})),  I_norm(z; v) = I(z; v) / H(v)

averaged, as in the authors' code (proVLAE metric_MIG.py), over the J active dimensions only: a
collapsed dimension holds no factor and would otherwise drag the score towards 0 for free.

Two estimators of I(z_j; v_k) are offered, named in reports as they are here:
- "histogram of means" (`mig`, `mig_sup`): disentanglement_lib's plug-in estimate on binned posterior means.
- "sampled q(z|x), Chen et al." (`mig_sampled`, `mig_sup_sampled`): beta-TCVAE's and the pro-VLAE
  authors' Monte Carlo estimate over the aggregate posterior (`sampled_information`). It sees the posterior
  spread, so the two differ widely on the same codes when posteriors are wide.

Edge cases: with a single code dimension (MIG) or a single factor (MIG-sup) there is no runner-up and
the gap is the top normalised MI itself (the runner-up counts as 0).
"""

import numpy as np

from vlae_tf.evaluation.active_units import DEFAULT_THRESHOLD, active_unit_mask
from vlae_tf.evaluation.information import normalized_mutual_information
from vlae_tf.evaluation.sampled_information import sampled_mutual_information

ESTIMATOR_NAMES = {"histogram": "histogram of means", "sampled": "sampled q(z|x), Chen et al."}


def _top_two_gap(nmi, axis):
    """Highest minus second-highest along `axis`; a lone entry competes with 0."""
    ranked = -np.sort(-nmi, axis=axis)
    top = np.take(ranked, 0, axis=axis)
    if nmi.shape[axis] < 2:
        return top
    return top - np.take(ranked, 1, axis=axis)


def mig(codes, factors, num_bins=20):
    """Mutual Information Gap, as disentanglement_lib computes it.

    Args:
      codes: [N, D] posterior means.
      factors: [N, F] integer factor labels, none constant.
      num_bins: histogram bins per code dimension (disentanglement_lib's default config uses 20).
    Returns:
      dict: score (float in [0, 1]), per_factor ([F] gaps), nmi ([D, F] normalised MI).
    """
    nmi = normalized_mutual_information(codes, factors, num_bins)
    per_factor = _top_two_gap(nmi, axis=0)
    return {"score": float(np.mean(per_factor)), "per_factor": per_factor, "nmi": nmi}


def _active(codes, active_threshold):
    if active_threshold is None:
        return np.ones(codes.shape[1], dtype=bool)
    return active_unit_mask(codes, active_threshold)


def mig_sup(codes, factors, num_bins=20, active_threshold=DEFAULT_THRESHOLD):
    """MIG-sup of pro-VLAE: per-dimension gap between its two most informative factors.

    Args:
      codes: [N, D] posterior means.
      factors: [N, F] integer factor labels, none constant.
      num_bins: histogram bins per code dimension.
      active_threshold: dimensions whose mean varies by no more than this over the data are left out
        of the average (Burda et al.'s active units); None averages over all D dimensions.
    Returns:
      dict: score (float in [0, 1]; 0.0 when no dimension is active), per_dim ([D] gaps, inactive
      dimensions included), active ([D] bool), nmi ([D, F]).
    """
    nmi = normalized_mutual_information(codes, factors, num_bins)
    per_dim = _top_two_gap(nmi, axis=1)
    active = _active(codes, active_threshold)
    score = float(np.mean(per_dim[active])) if np.any(active) else 0.0
    return {"score": score, "per_dim": per_dim, "active": active, "nmi": nmi}


def mig_sampled(means, stddevs, factors, num_draws=2000, seed=0, information=None):
    """MIG with I(z_j; v_k) sampled from q(z | x) (Chen et al. 2018's own estimator).

    Args:
      means, stddevs: [N, D] posterior parameters.
      factors: [N, F] integer labels, none constant.
      num_draws, seed: Monte Carlo draws per entropy (`sampled_mutual_information`).
      information: a `sampled_mutual_information` result to reuse (skips the estimate).
    Returns:
      dict: score, per_factor [F], nmi [D, F] (clipped to [0, 1]), standard_error [D, F] (of the nmi).
    """
    info = information or sampled_mutual_information(means, stddevs, factors, num_draws, seed)
    nmi = np.clip(info["nmi"], 0.0, 1.0)
    per_factor = _top_two_gap(nmi, axis=0)
    return {"score": float(np.mean(per_factor)), "per_factor": per_factor, "nmi": nmi,
            "standard_error": info["standard_error"] / info["factor_entropy"][None, :]}


def mig_sup_sampled(means, stddevs, factors, num_draws=2000, seed=0, active_threshold=DEFAULT_THRESHOLD,
                    information=None):
    """MIG-sup with I(z_j; v_k) sampled from q(z | x), as the pro-VLAE authors compute it.

    Arguments as `mig_sampled`; `active_threshold` as `mig_sup` (on the means).
    Returns:
      dict: score, per_dim [D], active [D] bool, nmi [D, F] (clipped to [0, 1]).
    """
    info = information or sampled_mutual_information(means, stddevs, factors, num_draws, seed)
    nmi = np.clip(info["nmi"], 0.0, 1.0)
    per_dim = _top_two_gap(nmi, axis=1)
    active = _active(np.asarray(means), active_threshold)
    score = float(np.mean(per_dim[active])) if np.any(active) else 0.0
    return {"score": score, "per_dim": per_dim, "active": active, "nmi": nmi}
