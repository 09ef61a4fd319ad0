"""Numpy image grids of what each rung learned: traversals, 2-D manifolds, samples, reconstructions.

Every grid function takes a ``generator_fn``: ``generator_fn(zs) -> images`` where ``zs`` is a list with
one float32 array ``[N, d_l]`` per rung (rung 1, nearest the pixels, first) and ``images`` is ``[N, H, W, C]``
in [0, 1]. This keeps the pictures independent of model internals (as in disentanglement_lib's
``visualize_util``). A model with ``decode(zs)`` and ``config.model.latent_dims`` (``vlae_tf.VLAE``, ``HVAE``,
``VAE``) is accepted wherever a ``generator_fn`` is; it is wrapped by :func:`generator_fn_from_model`.

The grid functions always pass every rung's code explicitly, so a grid depends only on the decoder and
``seed``: it never draws from the model's own random state. Rungs are numbered 1..L, as everywhere in vlae_tf.

Layouts (rows x columns, each cell one ``H x W`` image; ``padding`` white pixels between cells, 0 by default):

- :func:`traversal_grid` ``mode="sample"`` (the layout of the paper's figures): each row fixes one random code
  for every OTHER rung; each column fixes one random code for the traversed rung, the same in every row. Reading
  along a row shows what the rung controls; reading down a column shows what it does not.
- :func:`traversal_grid` ``mode="dims"`` (disentanglement_lib): one block of ``num_rows`` rows per dimension of
  the rung; along a row that dimension sweeps ``values`` while everything else keeps the row's random code.
- :func:`traversal_grid` ``mode="direction"``: rows as in ``"sample"``; column ``k`` sets the traversed rung's whole
  code to ``values[k] * u``, ``u`` a seeded random unit vector (:func:`traversal_direction`), the same in every row.
  The prior's projection on any unit vector is N(0, 1), so ``values`` read in prior standard deviations for a rung
  of any size; this is the one-knob-per-rung sweep of the labelled figures and GIFs.
- ``keep_orthogonal=True`` (``"direction"``): only the row code's coordinate along ``u`` is set to the value; the
  rest of the rung's code stays the row's, as ``"dims"`` keeps the other dimensions. With the codes of real
  images as rows and values from :func:`data_sweep_values` (quantiles of real codes along ``u``), every cell
  stays within the data's range along ``u`` even when the rung's codes lie far from N(0, I) (on ``shapes``
  rung 2's codes spread to +-7 and its origin decodes to a smear).
- :func:`manifold_grid`: a 2-dim rung decoded over a ``size x size`` grid of Gaussian quantiles (the VAE
  paper's MNIST manifold; the mnist preset has three 2-dim rungs).
"""

from __future__ import annotations

import statistics
from typing import Any, Callable, Sequence

import numpy as np

from vlae_tf.visualize.images import as_images, check_count, tile

GeneratorFn = Callable[[list], np.ndarray]
MODES = ("sample", "dims", "direction")


def generator_fn_from_model(model: Any, batch_size: int = 256, decode: Callable | None = None) -> GeneratorFn:
    """Wraps ``model.decode`` (or ``decode``, e.g. the HVAE's ``decode_noise``) as a numpy ``generator_fn``,
    decoding at most ``batch_size`` codes per call.

    When the model has ``config.model.latent_dims`` the returned function carries them as ``latent_dims``, so
    grid functions need no ``latent_dims`` argument.
    """
    if decode is None and not hasattr(model, "decode"):
        raise TypeError(f"{type(model).__name__} has no decode(zs) method; pass a model or a generator_fn")
    check_count("batch_size", batch_size)
    decode = decode or model.decode

    def generator_fn(zs: list) -> np.ndarray:
        n = len(zs[0])
        chunks = [np.asarray(decode([z[i:i + batch_size] for z in zs])) for i in range(0, n, batch_size)]
        return np.concatenate(chunks, axis=0).astype(np.float32)

    config = getattr(getattr(model, "config", None), "model", None)
    if getattr(config, "latent_dims", None) is not None:
        generator_fn.latent_dims = tuple(int(d) for d in config.latent_dims)
    return generator_fn


def traversal_grid(model_or_fn: Any, rung: int, latent_dims: Sequence[int] | None = None, num_rows: int = 8,
                   num_cols: int = 9, mode: str = "sample", values: Sequence[float] | None = None, seed: int = 0,
                   row_codes: Sequence[np.ndarray] | None = None, padding: int = 0,
                   keep_orthogonal: bool = False) -> np.ndarray:
    """What rung ``rung`` (1..L) controls, as one image.

    Args:
      model_or_fn: a ``generator_fn`` or a model with ``decode``.
      rung: the traversed rung, 1-based.
      latent_dims: codes per rung; read from the model (or the adapter) when omitted.
      num_rows: rows, i.e. random codes for the other rungs. Ignored when ``row_codes`` is given.
      num_cols: columns in ``mode="sample"``; in ``mode="dims"`` the default ``values`` has this many entries.
      mode: ``"sample"`` (columns = independent draws of the whole rung code), ``"dims"`` (one block of rows
        per dimension, sweeping ``values``) or ``"direction"`` (columns sweep ``values`` along one random unit
        direction of the rung). See the module docstring.
      values: ``mode="dims"`` / ``"direction"``: the values swept; default ``linspace(-2.5, 2.5, num_cols)``.
      seed: seeds every random code (numpy ``default_rng``); same seed, same grid.
      row_codes: optional list with one ``[num_rows, d_l]`` array per rung replacing the random row codes,
        e.g. the posterior means of real images, to traverse around them.
      padding: white pixels between cells.
      keep_orthogonal: ``mode="direction"``: set only the coordinate of each row's code along the direction to
        the value and keep the rest of it, instead of setting the rung's whole code to ``value * u``.

    Returns:
      float32 ``[R*H, K*W, C]`` (plus padding), ``R = num_rows`` (``mode="sample"``) or ``d_rung * num_rows``
      (``mode="dims"``, block ``j`` = dimension ``j + 1``), ``K = num_cols`` or ``len(values)``.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    index = _check_rung(rung, dims) - 1
    _check_choice("mode", mode, MODES)
    rng = np.random.default_rng(seed)
    if row_codes is None:
        check_count("num_rows", num_rows)
        rows = [rng.standard_normal((num_rows, d)).astype(np.float32) for d in dims]
    else:
        rows = _check_codes(row_codes, dims)
    n = len(rows[0])
    if keep_orthogonal and mode != "direction":
        raise ValueError(f"keep_orthogonal applies to mode='direction', not mode={mode!r}")
    if mode == "sample":
        if values is not None:
            raise ValueError("values applies to mode='dims' or 'direction'; mode='sample' draws num_cols random "
                             "codes for the rung")
        check_count("num_cols", num_cols)
        cols = rng.standard_normal((num_cols, dims[index])).astype(np.float32)
        # Cell (r, c) is image r * num_cols + c: other rungs follow the row, the traversed rung the column.
        zs = [np.repeat(z, num_cols, axis=0) for z in rows]
        zs[index] = np.tile(cols, (n, 1))
        return tile(_generate(generator_fn, zs), num_cols, padding)
    values = np.linspace(-2.5, 2.5, num_cols) if values is None else np.asarray(values, dtype=np.float32)
    if values.ndim != 1 or not len(values):
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {values.shape}")
    k = len(values)
    if mode == "direction":
        # Cell (r, c) is image r * k + c: other rungs follow the row, the rung is values[c] * u in every row
        # (plus the row's code of the rung off u when keep_orthogonal).
        zs = [np.repeat(z, k, axis=0) for z in rows]
        u = traversal_direction(dims, rung, seed)
        rest = zs[index] - np.outer(zs[index] @ u, u) if keep_orthogonal else 0.0
        zs[index] = (rest + np.tile(np.outer(values, u), (n, 1))).astype(np.float32)
        return tile(_generate(generator_fn, zs), k, padding)
    # Cell (j * n + r, c) is image (j * n + r) * k + c: dimension j of the rung set to values[c] in row r.
    zs = [np.tile(np.repeat(z, k, axis=0), (dims[index], 1)) for z in rows]
    for j in range(dims[index]):
        zs[index][j * n * k:(j + 1) * n * k, j] = np.tile(values, n)
    return tile(_generate(generator_fn, zs), k, padding)


def traversal_direction(latent_dims: Sequence[int], rung: int, seed: int = 0) -> np.ndarray:
    """The unit vector ``[d_rung]`` that ``mode="direction"`` sweeps along, drawn from ``(seed, rung)`` alone, so
    every figure and GIF made with the same seed moves a rung along the same direction whatever its layout.
    """
    dims = tuple(int(d) for d in latent_dims)
    index = _check_rung(rung, dims) - 1
    u = np.random.default_rng((abs(int(seed)), int(rung))).standard_normal(dims[index])
    return (u / np.linalg.norm(u)).astype(np.float32)


def data_sweep_values(codes: np.ndarray, latent_dims: Sequence[int], rung: int, num_values: int = 9,
                      seed: int = 0, coverage: float = 0.9) -> np.ndarray:
    """``num_values`` evenly spaced values spanning the central ``coverage`` of real codes along the direction
    ``traversal_direction(latent_dims, rung, seed)``: e.g. the 5%..95% quantiles of the projections of
    ``codes`` ([N, d_rung], posterior means of N real images; N >= 2)."""
    dims = tuple(int(d) for d in latent_dims)
    index = _check_rung(rung, dims) - 1
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or codes.shape[1] != dims[index] or len(codes) < 2:
        raise ValueError(f"codes must be [N >= 2, {dims[index]}] for rung {rung}; got shape {codes.shape}")
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage={coverage} must lie in (0, 1]")
    check_count("num_values", num_values)
    low, high = np.quantile(codes @ traversal_direction(dims, rung, seed), [(1 - coverage) / 2, (1 + coverage) / 2])
    return np.linspace(low, high, num_values).astype(np.float32)


def manifold_grid(model_or_fn: Any, rung: int, latent_dims: Sequence[int] | None = None, size: int = 10,
                  quantile: float = 0.95, others: str = "random", seed: int = 0, padding: int = 0) -> np.ndarray:
    """A 2-dim rung decoded over a ``size x size`` grid; float32 ``[size*H, size*W, C]`` (plus padding).

    Both coordinates run over the standard normal's quantiles ``ppf(linspace(1 - quantile, quantile, size))``,
    so every cell covers the same prior mass (0.95 spans about +-1.64). Column ``j`` sets dimension 1 (left to
    right increasing); row ``i`` sets dimension 2 (top to bottom decreasing, like a plot's y axis). The other
    rungs hold one code for the whole grid: a seeded draw (``others="random"``) or the prior mean (``"zero"``).
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    index = _check_rung(rung, dims) - 1
    if dims[index] != 2:
        raise ValueError(f"manifold_grid needs a 2-dim rung; rung {rung} has {dims[index]} dims "
                         f"(latent_dims={tuple(dims)}); use traversal_grid for it")
    check_count("size", size)
    _check_choice("others", others, ("random", "zero"))
    if not 0.5 < quantile < 1.0:
        raise ValueError(f"quantile={quantile!r} must lie in (0.5, 1)")
    rng = np.random.default_rng(seed)
    fixed = [rng.standard_normal((1, d)) if others == "random" else np.zeros((1, d)) for d in dims]
    zs = [np.repeat(z, size * size, axis=0).astype(np.float32) for z in fixed]
    normal = statistics.NormalDist()
    grid = np.array([normal.inv_cdf(p) for p in np.linspace(1.0 - quantile, quantile, size)], dtype=np.float32)
    zs[index][:, 0] = np.tile(grid, size)
    zs[index][:, 1] = np.repeat(grid[::-1], size)
    return tile(_generate(generator_fn, zs), size, padding)


def sample_grid(model_or_fn: Any, num_samples: int = 64, latent_dims: Sequence[int] | None = None,
                cols: int | None = None, seed: int = 0, padding: int = 0) -> np.ndarray:
    """``num_samples`` images decoded from prior codes of every rung, tiled ``cols`` wide (default: square)."""
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    check_count("num_samples", num_samples)
    rng = np.random.default_rng(seed)
    zs = [rng.standard_normal((num_samples, d)).astype(np.float32) for d in dims]
    return tile(_generate(generator_fn, zs), cols, padding)


def reconstruction_grid(originals: Any, reconstructions: Any, cols: int = 8, padding: int = 0) -> np.ndarray:
    """Originals and reconstructions in alternating rows: row ``2i`` holds originals ``i*cols..(i+1)*cols - 1``,
    row ``2i + 1`` their reconstructions. Inputs ``[N, H, W, C]``; output float32 ``[2*ceil(N/cols)*H, cols*W, C]``
    (plus padding), with white cells after the last image.
    """
    x, y = as_images(originals), as_images(reconstructions)
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} must have the same shape")
    check_count("cols", cols)
    cols = min(cols, len(x))
    pad = -len(x) % cols
    if pad:
        blank = np.ones((pad,) + x.shape[1:], np.float32)
        x, y = np.concatenate([x, blank]), np.concatenate([y, blank])
    rows = len(x) // cols
    pairs = np.stack([x.reshape((rows, cols) + x.shape[1:]), y.reshape((rows, cols) + y.shape[1:])], axis=1)
    return tile(pairs.reshape((-1,) + x.shape[1:]), cols, padding)


def image_grids(model_or_fn: Any, latent_dims: Sequence[int] | None = None, num_rows: int = 8, num_cols: int = 9,
                mode: str = "sample", num_samples: int = 64, manifolds: bool = True, seed: int = 0,
                padding: int = 0) -> dict[str, np.ndarray]:
    """The standard set of pictures of a model, by summary name: ``traversal/rung_{l}`` for every rung,
    ``manifold/rung_{l}`` for every 2-dim rung (when ``manifolds``) and ``samples``: bare grids, without the
    titles and value labels of ``visualize.figures.figure_set``, which both training loops log.
    """
    generator_fn, dims = resolve(model_or_fn, latent_dims)
    grids = {f"traversal/rung_{l}": traversal_grid(generator_fn, l, dims, num_rows=num_rows, num_cols=num_cols,
                                                   mode=mode, seed=seed, padding=padding)
             for l in range(1, len(dims) + 1)}
    if manifolds:
        grids.update({f"manifold/rung_{l}": manifold_grid(generator_fn, l, dims, seed=seed, padding=padding)
                      for l in range(1, len(dims) + 1) if dims[l - 1] == 2})
    grids["samples"] = sample_grid(generator_fn, num_samples, dims, seed=seed, padding=padding)
    return grids


def resolve(model_or_fn: Any, latent_dims: Sequence[int] | None) -> tuple[GeneratorFn, tuple]:
    """(generator_fn, latent_dims) from a model or a generator_fn; explicit ``latent_dims`` wins."""
    if hasattr(model_or_fn, "decode"):
        fn = generator_fn_from_model(model_or_fn)
    elif callable(model_or_fn):
        fn = model_or_fn
    else:
        raise TypeError(f"expected a generator_fn or a model with decode(zs), got {type(model_or_fn).__name__}")
    dims = latent_dims if latent_dims is not None else getattr(fn, "latent_dims", None)
    if dims is None:
        raise ValueError("latent_dims is required with a generator_fn (or a model without config.model.latent_dims): "
                         "one code size per rung, e.g. (2, 2, 2)")
    dims = tuple(int(d) for d in dims)
    if not dims or min(dims) <= 0:
        raise ValueError(f"latent_dims={dims!r} must hold one positive size per rung")
    return fn, dims


def _generate(generator_fn: GeneratorFn, zs: list) -> np.ndarray:
    images = as_images(generator_fn(zs))
    if len(images) != len(zs[0]):
        raise ValueError(f"generator_fn returned {len(images)} images for {len(zs[0])} codes")
    return images


def _check_rung(rung: Any, dims: tuple) -> int:
    if isinstance(rung, bool) or not isinstance(rung, (int, np.integer)) or not 1 <= rung <= len(dims):
        raise ValueError(f"rung={rung!r} is not valid; this model has {len(dims)} rungs: choose 1..{len(dims)} "
                         "(1 is nearest the pixels)")
    return int(rung)


def _check_codes(codes: Sequence[np.ndarray], dims: tuple) -> list:
    codes = [np.asarray(z, dtype=np.float32) for z in codes]
    if len(codes) != len(dims) or any(z.ndim != 2 or z.shape[1] != d for z, d in zip(codes, dims)) \
            or len({len(z) for z in codes}) != 1 or not len(codes[0]):
        raise ValueError(f"row_codes must hold one [num_rows, d_l] array per rung for latent_dims={dims}; got "
                         f"shapes {[z.shape for z in codes]}")
    return codes


def _check_choice(name: str, value: Any, valid: tuple) -> None:
    if value not in valid:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {', '.join(valid)}")
