"""Labelled figures of what each rung learned, built on the numpy grids of :mod:`vlae_tf.visualize.grids`.

Every function returns a uint8 RGB ``[height, width, 3]`` array (save it with ``visualize.save_png``, log it
with ``tf.summary.image``). Cells are the model's images upscaled by an integer factor to at least
``cell_size`` pixels (96 by default: 3x for 32x32 images, 4x for MNIST's 28x28, 2x for 64x64).

Traversals sweep ``values`` (default ``linspace(-2, 2, num_cols)``, in prior standard deviations) in one of
the modes of :func:`vlae_tf.visualize.grids.traversal_grid`:

- ``"direction"`` (default): the rung's whole code is ``value * u``, ``u`` one seeded random unit direction of
  the rung (:func:`~vlae_tf.visualize.grids.traversal_direction`), the same in every row and every figure made
  with that seed. A multi-dim rung is one knob this way, so every rung gets the same figure and the rungs can sit
  side by side; ``"dims"`` shows each dimension separately instead.
- ``"dims"``: one block of rows per dimension of the rung; that dimension sweeps the values.
- ``"sample"``: columns are independent random codes of the rung (labelled ``draw k``), not a sweep.

Rows always fix one random code of every other rung ("sample i"); with the same seed, row i holds the same
codes in every figure, so the rungs' panels of :func:`traversals_figure` are directly comparable.

Given the codes of real images (``figure_set(sweep_codes=...)``, as the training loops pass them), each
direction sweep keeps the rest of the row's code and sets only its coordinate along ``u``, over the central
90% of the real codes' coordinates (``grids.data_sweep_values``), so each panel shows its rung within the
range the data uses: the prior's +-2 can leave it (on ``shapes`` the origin of rung 2 decodes to a smear).
"""

from __future__ import annotations

import statistics
from typing import Any, Sequence

import numpy as np

from vlae_tf.visualize import labels
from vlae_tf.visualize.grids import (MODES, data_sweep_values, manifold_grid, reconstruction_grid, resolve,
                                     sample_grid, traversal_grid)
from vlae_tf.visualize.images import as_images, cells

VALUE_RANGE = 2.0  # sweeps cover +-2 prior standard deviations, about 95% of the prior's mass along u
NUM_ROWS = 8  # rows of a traversal figure: codes of the other rungs (or images) it is taken around

MODE_NOTES = {"direction": "along a random direction", "dims": "one dimension per block of rows",
              "sample": "random codes per column"}
DATA_RANGE_NOTE = ", over the data's range"


def sweep_values(num_cols: int = 9, value_range: float = VALUE_RANGE) -> np.ndarray:
    """The default traversal values: ``linspace(-value_range, value_range, num_cols)`` (9 -> -2.0, -1.5, ... 2.0)."""
    return np.linspace(-value_range, value_range, num_cols).astype(np.float32)


def value_labels(values: Sequence[float]) -> list[str]:
    """Column labels with one decimal; "-0.0" reads "0.0"."""
    return [f"{v:.1f}".replace("-0.0", "0.0") for v in values]


def rung_title(rung: int, latent_dims: Sequence[int]) -> str:
    """``"rung 2 (3 dims)"``."""
    d = latent_dims[rung - 1]
    return f"rung {rung} ({d} dim{'' if d == 1 else 's'})"


def panel_title(rung: int, num_rungs: int) -> str:
    """The paper figure's panel titles: ``rung 1 (pixels)``, ``rung 2``, ..., ``rung L (top)``."""
    where = [w for w, here in (("pixels", rung == 1), ("top", rung == num_rungs)) if here]
    return f"rung {rung}" + (f" ({', '.join(where)})" if where else "")


def traversal_figure(model_or_fn: Any, rung: int, latent_dims: Sequence[int] | None = None, num_rows: int = 8,
                     num_cols: int = 9, mode: str = "direction", values: Sequence[float] | None = None,
                     seed: int = 0, cell_size: int = 96, font_size: int = 14,
                     row_codes: Sequence[np.ndarray] | None = None, keep_orthogonal: bool = False) -> np.ndarray:
    """One rung's traversal: title ``rung l (d_l dims): <mode>``, the values above the columns, ``sample i``
    (or ``image i`` when ``row_codes`` are the codes of real images; ``dim j, ...`` in ``mode="dims"``) left of
    the rows. Arguments as in ``grids.traversal_grid``.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    grid, col_labels = _traversal(generator_fn, rung, dims, num_rows, num_cols, mode, values, seed, row_codes,
                                  keep_orthogonal)
    row_labels = _row_labels(num_rows, row_codes)
    if mode == "dims":
        row_labels = [f"dim {j + 1}, {label}" for j in range(dims[rung - 1]) for label in row_labels]
    return labels.labelled_grid(cells(grid, len(row_labels), len(col_labels)), len(col_labels), cell_size,
                                f"{rung_title(rung, dims)}: {MODE_NOTES[mode]}{DATA_RANGE_NOTE if keep_orthogonal else ''}",
                                col_labels, row_labels, font_size)


def traversals_figure(model_or_fn: Any, latent_dims: Sequence[int] | None = None, num_rows: int = 8,
                      num_cols: int = 9, mode: str = "direction", values: Sequence[float] | None = None,
                      seed: int = 0, cell_size: int = 96, font_size: int = 14,
                      row_codes: Sequence[np.ndarray] | None = None, rung_values: Sequence[Sequence[float]] | None = None,
                      keep_orthogonal: bool = False) -> np.ndarray:
    """The paper's figure (Zhao et al. 2017, SVHN and CelebA): one panel per rung side by side, rung 1 left.

    In every panel row i fixes the same codes of the other rungs (random, or ``row_codes``: e.g. the posterior
    means of real images) and the columns sweep that panel's rung; ``mode`` is ``"direction"`` (values along
    one random unit direction per rung) or ``"sample"`` (a random rung code per column), since a per-dimension
    block per rung would give panels of unequal height. ``rung_values``: one sequence of values per rung
    (``"direction"``), e.g. ``grids.data_sweep_values``, in place of the shared ``values``.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    if mode not in ("direction", "sample"):
        raise ValueError(f"mode={mode!r} is not valid for the side-by-side figure; choose one of direction, sample")
    if rung_values is not None and len(rung_values) != len(dims):
        raise ValueError(f"rung_values has {len(rung_values)} entries; give one sequence per rung ({len(dims)})")
    panels = []
    for rung in range(1, len(dims) + 1):
        swept = values if rung_values is None else rung_values[rung - 1]
        grid, col_labels = _traversal(generator_fn, rung, dims, num_rows, num_cols, mode, swept, seed, row_codes,
                                      keep_orthogonal)
        row_labels = _row_labels(num_rows, row_codes) if rung == 1 else None
        rows = len(_row_labels(num_rows, row_codes))
        panels.append(labels.labelled_grid(cells(grid, rows, len(col_labels)), len(col_labels), cell_size,
                                           panel_title(rung, len(dims)), col_labels, row_labels, font_size))
    body = labels.hstack(panels, spacing=3 * labels.pad(font_size))
    rows = "the other rungs at the codes of a test image" if row_codes is not None else "the other rungs"
    if keep_orthogonal:
        columns = "sets one rung's coordinate along a random direction, keeping the rest of the row's code"
    else:
        columns = "sets one rung's code (" + ("value along a random direction" if mode == "direction" else
                                             "a random code") + ")"
    header = labels.title_band(f"each row fixes {rows}; each column {columns}", body.shape[1], font_size)
    return labels.vstack([header, body])


def manifold_figure(model_or_fn: Any, rung: int, latent_dims: Sequence[int] | None = None, size: int = 10,
                    quantile: float = 0.95, seed: int = 0, cell_size: int = 96, font_size: int = 14) -> np.ndarray:
    """A 2-dim rung over a ``size x size`` grid (``grids.manifold_grid``), dimension 1 across, 2 upwards, with
    the quantile values on both axes."""
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    grid = manifold_grid(generator_fn, rung, dims, size=size, quantile=quantile, seed=seed)
    normal = statistics.NormalDist()
    values = [normal.inv_cdf(q) for q in np.linspace(1.0 - quantile, quantile, size)]
    row_labels = [f"dim 2 = {label}" for label in value_labels(values[::-1])]
    return labels.labelled_grid(cells(grid, size, size), size, cell_size,
                                f"{rung_title(rung, dims)}: dim 1 across, dim 2 upwards",
                                value_labels(values), row_labels, font_size)


def samples_figure(model_or_fn: Any, num_samples: int = 64, latent_dims: Sequence[int] | None = None,
                   cols: int | None = None, seed: int = 0, cell_size: int = 96, font_size: int = 14) -> np.ndarray:
    """``num_samples`` decodes of prior codes of every rung (``grids.sample_grid``), upscaled, titled."""
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    cols = cols or int(np.ceil(np.sqrt(num_samples)))
    grid = sample_grid(generator_fn, num_samples, dims, cols=cols, seed=seed)
    rows = int(np.ceil(num_samples / cols))
    return labels.labelled_grid(cells(grid, rows, cols)[:num_samples], cols, cell_size,
                                "samples: every rung drawn from the prior", font_size=font_size)


def reconstructions_figure(originals: Any, reconstructions: Any, cols: int = 8, cell_size: int = 96,
                           font_size: int = 14) -> np.ndarray:
    """Originals above their reconstructions (``grids.reconstruction_grid``), rows labelled, upscaled."""
    grid = reconstruction_grid(originals, reconstructions, cols=cols)
    cols = min(cols, len(as_images(originals)))
    rows = grid.shape[0] // as_images(originals).shape[1]
    return labels.labelled_grid(cells(grid, rows, cols), cols, cell_size, "reconstructions",
                                row_labels=["original", "reconstruction"] * (rows // 2), font_size=font_size)


def figure_set(model_or_fn: Any, latent_dims: Sequence[int] | None = None, num_rows: int = NUM_ROWS, num_cols: int = 9,
               mode: str = "direction", num_samples: int = 64, manifolds: bool = True, seed: int = 0,
               cell_size: int = 96, reconstructions: tuple[Any, Any] | None = None,
               row_codes: Sequence[np.ndarray] | None = None,
               sweep_codes: Sequence[np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The labelled figures of a model by TensorBoard tag: ``traversal/rung_{l}`` per rung, ``traversals`` (the
    side-by-side figure; ``mode="direction"`` there when ``mode="dims"``), ``manifold/rung_{l}`` per 2-dim rung
    (when ``manifolds``), ``samples``, and ``reconstructions`` given ``(originals, reconstructions)``.

    sweep_codes: optional codes of real images, one ``[N, d_l]`` array per rung (N >= 2; a test batch): the
    direction sweeps then set each row's coordinate along the direction (``keep_orthogonal``) to values over the
    central 90% of these codes' coordinates (``grids.data_sweep_values``), per rung.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    options = dict(num_rows=num_rows, num_cols=num_cols, seed=seed, cell_size=cell_size, row_codes=row_codes)
    rung_values = None
    if sweep_codes is not None:
        rung_values = [data_sweep_values(codes, dims, l, num_cols, seed) for l, codes in enumerate(sweep_codes, 1)]
    sweeps = {l: dict(values=rung_values[l - 1], keep_orthogonal=True) if rung_values and mode == "direction" else {}
              for l in range(1, len(dims) + 1)}
    figures = {f"traversal/rung_{l}": traversal_figure(generator_fn, l, dims, mode=mode, **sweeps[l], **options)
               for l in range(1, len(dims) + 1)}
    side_by_side = "sample" if mode == "sample" else "direction"
    figures["traversals"] = traversals_figure(
        generator_fn, dims, mode=side_by_side, **options,
        **(dict(rung_values=rung_values, keep_orthogonal=True) if rung_values and side_by_side == "direction" else {}))
    if manifolds:
        figures.update({f"manifold/rung_{l}": manifold_figure(generator_fn, l, dims, seed=seed, cell_size=cell_size)
                        for l in range(1, len(dims) + 1) if dims[l - 1] == 2})
    figures["samples"] = samples_figure(generator_fn, num_samples, dims, seed=seed, cell_size=cell_size)
    if reconstructions is not None:
        figures["reconstructions"] = reconstructions_figure(*reconstructions, cell_size=cell_size)
    return figures


def _row_labels(num_rows: int, row_codes: Sequence[np.ndarray] | None) -> list[str]:
    if row_codes is None:
        return [f"sample {i + 1}" for i in range(num_rows)]
    return [f"image {i + 1}" for i in range(len(row_codes[0]))]


def _traversal(generator_fn, rung, dims, num_rows, num_cols, mode, values, seed,
               row_codes=None, keep_orthogonal=False) -> tuple[np.ndarray, list[str]]:
    """(numpy traversal grid, its column labels)."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not valid; choose one of {', '.join(MODES)}")
    if mode == "sample":
        grid = traversal_grid(generator_fn, rung, dims, num_rows, num_cols, mode, seed=seed, row_codes=row_codes)
        return grid, [f"draw {k + 1}" for k in range(num_cols)]
    values = sweep_values(num_cols) if values is None else np.asarray(values, np.float32)
    grid = traversal_grid(generator_fn, rung, dims, num_rows, mode=mode, values=values, seed=seed,
                          row_codes=row_codes, keep_orthogonal=keep_orthogonal)
    return grid, value_labels(values)
