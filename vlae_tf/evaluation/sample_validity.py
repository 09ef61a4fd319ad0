"""Are a model's prior samples images of the data set? For procedural data, re-draw what a sample shows.

Where the data set can draw the layout of given factors (``shapes``: factors -> how much of each pixel the
shape covers), a sample can be checked against the image it claims to be: the factor classifier
(``factor_classifier``) reads every factor off the sample, the data set draws that shape's coverage mask, and
the sample's distance to it is the share of its pixel variance that the best per-channel fit
``background + mask * (foreground - background)`` leaves unexplained (1 - R^2). The colours are fitted, not
drawn: a clean shape whose hue lies between two palette entries is still one shape on a plain background
(colours are the lowest rung's business, and a blend of two hues would otherwise dominate the error over the
whole background). The geometry is searched, too, within half a step of what the classifier reads
(``search_dims``): a model with continuous codes draws a shape between two grid positions or sizes, and that
is still one clean shape (drawn on the grid alone, a shape half a step, 1.3 pixels, off its grid position
leaves a median 0.29 of its variance unexplained; with the search, shapes anywhere within 0.45 steps of the
grid in all four coordinates leave at most 0.03). A clean sample of one shape sits close to its drawing; a smear, two blobs, a blob
that is no shape of the data set, or a dot smaller than its smallest shape does not.

A share, not a root-mean-square error: a faint smear or an empty image has little variance to get wrong,
and an RMS error would call it clean. Sharpness is the model's own business (``fidelity`` measures it on
reconstructions), so the threshold is relative: a sample is *valid* when its distance is at most the
``quantile`` (0.95) of the same distance over the model's reconstructions of real images. The valid share is then near 0.95 for a model whose prior draws
look like its reconstructions, and falls where the prior puts mass on codes no real image has (the "holes"
between the aggregate posterior's clusters). The share is a mean of N independent Bernoulli outcomes: its
standard error is sqrt(p (1 - p) / N).
"""

from __future__ import annotations

from typing import Callable

import numpy as np


SEARCH_OFFSETS = np.linspace(-0.5, 0.5, 9)  # half a step each side: beyond, the classifier reads the next value
SEARCH_PASSES = 2  # sweeps over the coordinates: a second one corrects what a poor start misled in the first


def two_colour_share(masks, images) -> np.ndarray:
    """[N] share of each image's pixel variance that the best fit ``a_c + b_c * mask`` per channel c (least
    squares; a constant where the mask is constant) leaves unexplained, residual and total sums of squares
    pooled over the channels: 0 for an exact drawing, 1 for a blank image or one the mask does not fit."""
    return _share_of_centred(masks, *_centred_pixels(images))


def _centred_pixels(images):
    """(pixels less their per-image, per-channel mean [N, H*W, C] float64, total sum of squares [N], the
    masks' shape [N, H, W]): what every mask tried against the same images shares."""
    images = np.asarray(images, np.float64)
    x = images.reshape(len(images), -1, images.shape[-1])
    x_centred = x - x.mean(axis=1, keepdims=True)
    return x_centred, np.sum(x_centred ** 2, axis=(1, 2)), images.shape[:3]


def _share_of_centred(masks, x_centred, total, mask_shape) -> np.ndarray:
    masks = np.asarray(masks, np.float64)
    if masks.shape != mask_shape:
        raise ValueError(f"draw_mask returned shape {masks.shape} for images of shape "
                         f"{mask_shape + (x_centred.shape[-1],)}")
    m = masks.reshape(len(masks), -1, 1)
    m_centred = m - m.mean(axis=1, keepdims=True)
    variance = np.sum(m_centred ** 2, axis=1, keepdims=True)
    slope = np.divide(np.sum(m_centred * x_centred, axis=1, keepdims=True), variance,
                      out=np.zeros_like(x_centred[:, :1]), where=variance > 0)
    residual = np.sum((x_centred - slope * m_centred) ** 2, axis=(1, 2))
    return np.divide(residual, total, out=np.ones_like(total), where=total > 1e-12)


def unexplained_variance(predict: Callable, draw_mask: Callable, images, search_dims: int = 0) -> np.ndarray:
    """[N] ``two_colour_share`` of each image against the drawing of the factors read off it.

    predict: images [N, H, W, C] -> int [N, F] factor classes; draw_mask: int [N, F] -> coverage [N, H, W] in
    [0, 1], or with ``search_dims`` > 0, ``draw_mask(factors, offsets)`` with float offsets [N, search_dims]
    that move continuous coordinates (position, size, angle) off the data set's grid, in steps of each.
    With ``search_dims``, each coordinate is searched over ``SEARCH_OFFSETS`` in turn, ``SEARCH_PASSES``
    times, keeping what fits each image best: a clean shape drawn between two grid values (as a model with
    continuous codes draws them) fits as well as one on the grid.
    """
    images = np.asarray(images, np.float32)
    factors = np.asarray(predict(images))
    if search_dims <= 0:
        return two_colour_share(draw_mask(factors), images)
    centred = _centred_pixels(images)  # once: only the mask changes between tries
    offsets = np.zeros((len(images), search_dims), np.float32)
    best = _share_of_centred(draw_mask(factors, offsets), *centred)
    for _ in range(SEARCH_PASSES):
        for dim in range(search_dims):
            for value in SEARCH_OFFSETS:
                trial = offsets.copy()
                trial[:, dim] = value
                share = _share_of_centred(draw_mask(factors, trial), *centred)
                better = share < best
                best[better], offsets[better] = share[better], trial[better]
    return best


def sample_validity(predict: Callable, draw_mask: Callable, samples, reconstructions, originals=None,
                    quantile: float = 0.95, search_dims: int = 0) -> dict:
    """The share of ``samples`` as close to a drawing of what they show as the ``reconstructions`` are.

    Args:
      predict, draw_mask: as in ``unexplained_variance``.
      samples: [N, H, W, C] prior samples in [0, 1].
      reconstructions: [M, H, W, C] the model's reconstructions of real images: they set the threshold.
      originals: optional real images, to report the classifier-and-renderer floor (near 0 when the
        classifier reads every factor right).
      quantile: which quantile of the reconstructions' unexplained shares is the threshold, in (0, 1].
      search_dims: as in ``unexplained_variance`` (the same search for samples, reconstructions, originals).
    Returns:
      dict: valid_share, standard_error, threshold, quantile, median_unexplained_samples,
      median_unexplained_reconstructions, median_unexplained_originals (None without originals), num_samples.
    """
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile={quantile} must lie in (0, 1]")
    if len(samples) == 0 or len(reconstructions) == 0:
        raise ValueError("sample_validity needs at least one sample and one reconstruction")
    sample_share = unexplained_variance(predict, draw_mask, samples, search_dims)
    recon_share = unexplained_variance(predict, draw_mask, reconstructions, search_dims)
    threshold = float(np.quantile(recon_share, quantile))
    share = float(np.mean(sample_share <= threshold))
    return {"valid_share": share, "standard_error": float(np.sqrt(share * (1.0 - share) / len(samples))),
            "threshold": threshold, "quantile": float(quantile),
            "median_unexplained_samples": float(np.median(sample_share)),
            "median_unexplained_reconstructions": float(np.median(recon_share)),
            "median_unexplained_originals": None if originals is None
            else float(np.median(unexplained_variance(predict, draw_mask, originals, search_dims))),
            "num_samples": int(len(samples))}


__all__ = ["sample_validity", "two_colour_share", "unexplained_variance"]
