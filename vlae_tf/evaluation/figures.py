"""PNG figures of an evaluation: information heat maps, KL per rung, traversal grids side by side.

matplotlib runs on its file-only ``Agg`` backend, so nothing here needs a display.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from vlae_tf import visualize
from vlae_tf.evaluation import model_metrics
from vlae_tf.io.images import image_codes


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def heatmap(matrix, row_labels: Sequence[str], col_labels: Sequence[str], title: str, path) -> str:
    """A [R, C] matrix of values in [0, 1] as an annotated heat map PNG."""
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * matrix.shape[1], 1.0 + 0.45 * matrix.shape[0]))
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), col_labels, rotation=45, ha="right")
    ax.set_yticks(range(matrix.shape[0]), row_labels)
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black",
                fontsize=8)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return _save(fig, path)


def kl_bars(kl_per_model: Mapping[str, Sequence[float]], path) -> str:
    """KL per rung (nats), one group of bars per rung and one bar per model."""
    plt = _pyplot()
    num_rungs = max(len(k) for k in kl_per_model.values())
    width = 0.8 / len(kl_per_model)
    fig, ax = plt.subplots(figsize=(2.0 + 1.2 * num_rungs, 3.0))
    for index, (name, kls) in enumerate(kl_per_model.items()):
        ax.bar(np.arange(1, len(kls) + 1) + (index - (len(kl_per_model) - 1) / 2) * width, kls, width, label=name)
    ax.set_xticks(range(1, num_rungs + 1))
    ax.set_xlabel("rung (1 = nearest the pixels)")
    ax.set_ylabel("KL (nats per image)")
    ax.legend()
    return _save(fig, path)


def traversal_grids(model, images=None, num_rows: int = 6, num_cols: int = 9, seed: int = 0,
                    cell_size: int = 96) -> list[np.ndarray]:
    """One labelled ``visualize.traversal_figure`` per rung (uint8 RGB), rung 1 first.

    With ``images`` (real images, e.g. the evaluated split's first few hundred), as the run's own figures:
    row i holds the posterior means of image i, and each rung's columns set only its coordinate along a random
    direction, over the central 90% of the images' codes along it (``visualize.data_sweep_values``), so no
    column decodes a code far from where real images' codes lie. Without ``images``, or for a model whose
    traversals go through ancestral noise (the HVAE's ``decode_noise``, whose rungs are compared on that
    noise), rows are prior draws and columns sweep -2..2 along the direction; an unused upper rung then shows
    identical columns.
    """
    generator_fn = model_metrics.traversal_generator(model)
    if images is None or len(images) < 2 or hasattr(model, "decode_noise"):
        return [visualize.traversal_figure(generator_fn, rung, num_rows=num_rows, num_cols=num_cols, seed=seed,
                                           cell_size=cell_size) for rung in range(1, model.num_rungs + 1)]
    codes = image_codes(model, images)
    dims = generator_fn.latent_dims
    return [visualize.traversal_figure(generator_fn, rung, num_rows=num_rows, num_cols=num_cols, seed=seed,
                                       cell_size=cell_size, row_codes=[c[:num_rows] for c in codes],
                                       values=visualize.data_sweep_values(codes[rung - 1], dims, rung, num_cols, seed),
                                       keep_orthogonal=True)
            for rung in range(1, model.num_rungs + 1)]


def save_traversals(grids: Sequence[np.ndarray], out_dir) -> list[str]:
    """``traversal_rung_{l}.png`` in ``out_dir`` for each grid of ``traversal_grids``, rung 1 first."""
    return [visualize.save_png(grid, os.path.join(out_dir, f"traversal_rung_{rung}.png"))
            for rung, grid in enumerate(grids, start=1)]


def side_by_side_traversals(grids_per_model: Mapping[str, Sequence[np.ndarray]], path) -> str:
    """The paper's comparison figure: one column per model, one row per rung (top rung first)."""
    plt = _pyplot()
    names = list(grids_per_model)
    num_rungs = max(len(g) for g in grids_per_model.values())
    fig, axes = plt.subplots(num_rungs, len(names), figsize=(4.0 * len(names), 3.6 * num_rungs), squeeze=False)
    for col, name in enumerate(names):
        grids = grids_per_model[name]
        for row in range(num_rungs):
            rung = num_rungs - row
            ax = axes[row][col]
            ax.axis("off")
            if rung <= len(grids):
                grid = visualize.to_uint8(grids[rung - 1])  # labelled figures are uint8 already
                ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray" if grid.shape[-1] == 1 else None)
                ax.set_title(name)
    fig.suptitle("Traversals: each row fixes the other rungs, each column varies this rung")
    return _save(fig, path)
