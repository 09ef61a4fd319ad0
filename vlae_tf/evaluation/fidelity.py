"""Factor fidelity: do a model's reconstructions and traversals still show each factor, to a classifier?

A classifier fitted on true images (``factor_classifier``) reads each factor (or the class label) off an
image. Two measurements follow, both from numpy callables rather than a model's internals, so they apply
to any model with ``encode(x) -> [(mean, stddev)] per rung`` and ``decode([z_1..z_L]) -> images``:

- ``reconstruction_fidelity``: per factor, the classifier's accuracy on the originals, on their
  reconstructions, and the ratio ("relative fidelity": 1 when the reconstruction keeps everything the
  classifier could read in the original; chance / accuracy when it keeps nothing).
- ``traversal_specificity``: the paper's traversal figure as a number. For each rung l, N base codes
  (posterior means of real images) are decoded, then decoded again with only z_l moved (drawn from the
  prior, set along a grid in [-2, 2] per dimension, or swapped for another base image's z_l), the other
  rungs held fixed. Prior draws and the grid also land in the gaps between the codes real images have
  (where a decoder draws in-between pictures); a swap moves only between real codes, so it says what the
  rung holds apart from those gaps. The rung x factor
  ``change_rate`` is how often the predicted factor differs between the two decodes. Normalised by the
  change rate when every rung is redrawn (``full_resample_change_rate``), ``specificity`` is ~1 where a
  rung alone moves the factor as much as a fresh sample does, and 0 where the rung leaves it alone.

Change rates are means of N x draws Bernoulli outcomes: their standard error is at most
sqrt(p (1 - p) / (N draws)) (draws of one base are correlated, so N alone is the conservative count).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from vlae_tf import visualize

TRAVERSAL_MODES = ("prior", "grid", "swap")


def _chance(labels: np.ndarray) -> np.ndarray:
    """[F] accuracy of always answering the most frequent class."""
    return np.array([np.unique(col, return_counts=True)[1].max() / len(col) for col in labels.T])


def reconstruction_fidelity(predict: Callable, images, labels, reconstructions,
                            factor_names: Sequence[str] | None = None) -> dict:
    """Accuracy of ``predict`` on ``images`` and on their ``reconstructions``, per factor.

    Args:
      predict: images [N, H, W, C] -> int [N, F] predicted classes.
      images: [N, H, W, C] true images in [0, 1].
      labels: int [N, F] true classes (or [N] for one label).
      reconstructions: [N, H, W, C] the model's reconstructions of ``images``, in the same order.
      factor_names: F names (default factor_1..).
    Returns:
      dict of per-factor dicts keyed by name: accuracy_original, accuracy_reconstruction,
      relative_fidelity (None when the classifier never reads the factor), agreement (predictions on the
      reconstruction equal to those on the original), chance (most frequent class share).
    """
    labels = np.asarray(labels).reshape(len(images), -1)
    names = list(factor_names or [f"factor_{k + 1}" for k in range(labels.shape[1])])
    if len(names) != labels.shape[1]:
        raise ValueError(f"got {len(names)} factor names for {labels.shape[1]} label columns")
    recon = np.asarray(reconstructions)
    if recon.shape != np.asarray(images).shape:
        raise ValueError(f"reconstructions have shape {recon.shape}; the images have {np.asarray(images).shape}")
    pred_original, pred_recon = np.asarray(predict(images)), np.asarray(predict(recon))
    original = np.mean(pred_original == labels, axis=0)
    reconstruction = np.mean(pred_recon == labels, axis=0)
    agreement = np.mean(pred_recon == pred_original, axis=0)
    return {name: {"accuracy_original": float(original[k]), "accuracy_reconstruction": float(reconstruction[k]),
                   "relative_fidelity": float(reconstruction[k] / original[k]) if original[k] > 0 else None,
                   "agreement": float(agreement[k]), "chance": float(c)}
            for k, (name, c) in enumerate(zip(names, _chance(labels)))}


def _moved_codes(base, rung, mode, draw, num_draws, rng):
    """Copy of ``base`` with rung ``rung`` moved: a prior draw, grid value ``draw`` on one dimension, or the
    codes of the bases in a random order."""
    moved = list(base)
    if mode == "prior":
        moved[rung] = rng.standard_normal(base[rung].shape).astype(np.float32)
    elif mode == "swap":
        moved[rung] = base[rung][rng.permutation(len(base[rung]))]
    else:
        dims = base[rung].shape[1]
        dim, step = draw % dims, draw // dims
        values = np.linspace(-2.0, 2.0, num_draws)
        moved[rung] = base[rung].copy()
        moved[rung][:, dim] = values[step]
    return moved


def traversal_specificity(predict: Callable, encode: Callable, decode: Callable, images, num_draws: int = 2,
                          mode: str = "prior", seed: int = 0, factor_names: Sequence[str] | None = None) -> dict:
    """Rung x factor change rates of the predicted factor when only one rung moves.

    Args:
      predict: images -> int [N, F].
      encode: images -> list of L (mean [N, d_l], stddev [N, d_l]) numpy pairs; the means are the base codes.
      decode: list of L arrays [N, d_l] -> images [N, H, W, C] (numpy).
      images: [N, H, W, C] real images whose codes are the bases.
      num_draws: "prior": prior draws of the moved rung per base; "grid": values in [-2, 2] per dimension;
        "swap": other bases' codes per base.
      mode: one of TRAVERSAL_MODES. The full resample that normalises draws every rung from the prior, or
        with "swap" gives each rung the code of an independently chosen base.
      seed: numpy seed of the prior draws.
      factor_names: F names for the result.
    Returns:
      dict: change_rate [L][F], full_resample_change_rate [F] (every rung drawn from the prior),
      specificity [L][F] (change_rate / full rate, 0 where the full rate is 0), factor_names, mode,
      num_bases, num_draws.
    """
    if mode not in TRAVERSAL_MODES:
        raise ValueError(f"mode={mode!r} is not valid; choose one of {', '.join(TRAVERSAL_MODES)}")
    if num_draws < 1:
        raise ValueError(f"num_draws={num_draws} must be >= 1")
    rng = np.random.default_rng(seed)
    base = [np.asarray(mean, np.float32) for mean, _ in encode(np.asarray(images))]
    reference = np.asarray(predict(decode(base)))
    change = np.zeros((len(base), reference.shape[1]))
    for rung in range(len(base)):
        total = num_draws * base[rung].shape[1] if mode == "grid" else num_draws
        for draw in range(total):
            moved = _moved_codes(base, rung, mode, draw, num_draws, rng)
            change[rung] += np.mean(np.asarray(predict(decode(moved))) != reference, axis=0) / total
    full = np.zeros(reference.shape[1])
    for _ in range(num_draws):
        fresh = [b[rng.permutation(len(b))] if mode == "swap" else rng.standard_normal(b.shape).astype(np.float32)
                 for b in base]
        full += np.mean(np.asarray(predict(decode(fresh))) != reference, axis=0) / num_draws
    specificity = np.divide(change, full[None, :], out=np.zeros_like(change), where=full[None, :] > 0)
    names = list(factor_names or [f"factor_{k + 1}" for k in range(reference.shape[1])])
    return {"change_rate": change.tolist(), "full_resample_change_rate": full.tolist(),
            "specificity": specificity.tolist(), "factor_names": names, "mode": mode,
            "num_bases": int(len(base[0])), "num_draws": int(num_draws)}


def model_callables(model, batch_size: int = 250):
    """(encode, decode, reconstruct) numpy callables over ``model``'s public API, in batches.

    encode: images -> [(mean, stddev)] per rung; decode: [z_1..z_L] -> images; reconstruct: images -> images.
    """
    def encode(images):
        chunks = [model.encode(np.asarray(images[i:i + batch_size], np.float32))
                  for i in range(0, len(images), batch_size)]
        return [(np.concatenate([np.asarray(c[r][0]) for c in chunks]), np.concatenate([np.asarray(c[r][1]) for c in chunks]))
                for r in range(len(chunks[0]))]

    decode = visualize.generator_fn_from_model(model, batch_size)

    def reconstruct(images):
        return decode([mean for mean, _ in encode(images)])

    return encode, decode, reconstruct
