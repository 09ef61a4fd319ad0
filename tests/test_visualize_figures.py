"""Labelled figures and GIFs: sizes (cells upscaled to cell_size, plus label bands and margins), cells that hold
exactly the upscaled model images, labels that are really drawn, determinism, and GIF frame counts."""

import numpy as np
import pytest
from PIL import Image

from vlae_tf import visualize
from vlae_tf.visualize import animation, figures, labels

FONT = 14
P = labels.pad(FONT)
TOP = P + labels.band_height(FONT + labels.TITLE_BIGGER) + labels.band_height(FONT)  # title and column labels
GAP = 2


def colour_cells(n, hw=(8, 8)):
    """n images, each one flat colour that no grey anti-aliased text pixel can equal (green 200, blue 30)."""
    colours = np.array([[10 * i + 5, 200, 30] for i in range(n)], np.uint8)
    return np.broadcast_to(colours[:, None, None, :], (n,) + hw + (3,)).copy(), colours


def blank(region):
    return bool(np.all(region == 255))


def coloured_generator(shape=(32, 32, 3)):
    """generator_fn whose image is flat, coloured by the first codes of rungs 1 and 2 (through a sigmoid)."""

    def generator_fn(zs):
        z = np.concatenate(zs, axis=1)
        colour = 1.0 / (1.0 + np.exp(-np.stack([z[:, 0], z[:, -1], z[:, 0] * z[:, -1]], axis=1)))
        return np.broadcast_to(colour[:, None, None, :shape[2]], (len(z),) + shape).astype(np.float32)

    generator_fn.latent_dims = (2, 3)
    return generator_fn


def test_labelled_grid_layout_cells_and_labels():
    images, colours = colour_cells(6)
    fig = labels.labelled_grid(images, 3, cell_size=96, title="rung 1 (2 dims)", col_labels=["-1.0", "0.0", "1.0"],
                               row_labels=["sample 1", "sample 2"], font_size=FONT, gap=GAP)
    grid_h, grid_w = 2 * 96 + GAP, 3 * 96 + 2 * GAP  # 8-pixel images upscaled 12x to 96
    assert fig.dtype == np.uint8 and fig.shape[2] == 3
    assert fig.shape[0] == TOP + grid_h + P
    left = fig.shape[1] - P - grid_w
    assert left >= P + labels.text_width("sample 1", FONT)  # room for the row labels
    for i, colour in enumerate(colours):
        mask = np.all(fig == colour, axis=2)
        ys, xs = np.nonzero(mask)
        top_left = (TOP + (i // 3) * (96 + GAP), left + (i % 3) * (96 + GAP))
        assert mask.sum() == 96 * 96 and (ys.min(), xs.min()) == top_left and (ys.max(), xs.max()) == (
            top_left[0] + 95, top_left[1] + 95)
    # Every label is drawn in its band: the title band, above each column, left of each row.
    assert not blank(fig[P:P + labels.band_height(FONT + 4)])
    for c in range(3):
        assert not blank(fig[TOP - labels.band_height(FONT):TOP, left + c * 98:left + c * 98 + 96])
    for r in range(2):
        assert not blank(fig[TOP + r * 98:TOP + r * 98 + 96, :left])
    bare = labels.labelled_grid(images, 3, cell_size=96, gap=GAP)  # no text: margins only
    assert bare.shape == (2 * P + grid_h, 2 * P + grid_w, 3)
    with pytest.raises(ValueError, match="col_labels has 2 entries; the grid has 3"):
        labels.labelled_grid(images, 3, col_labels=["a", "b"])


def test_cell_size_is_an_integer_upscale_and_grayscale_becomes_rgb():
    gray = np.linspace(0, 1, 4 * 28 * 28).reshape(4, 28, 28, 1)
    fig = labels.labelled_grid(gray, 4, cell_size=96, gap=0)
    assert fig.shape == (2 * P + 112, 2 * P + 4 * 112, 3)  # ceil(96 / 28) = 4 -> 112-pixel cells
    cell = fig[P:P + 112, P:P + 112]
    np.testing.assert_array_equal(cell, np.repeat(visualize.upscale(visualize.to_uint8(gray[0]), 4), 3, axis=2))
    assert labels.labelled_grid(gray, 4, cell_size=10, gap=0).shape == (2 * P + 28, 2 * P + 4 * 28, 3)


def test_traversal_figure_holds_the_upscaled_grid_and_is_seeded():
    fn = coloured_generator()
    fig = figures.traversal_figure(fn, 2, num_rows=3, num_cols=5, seed=1)
    grid_h, grid_w = 3 * 96 + 2 * GAP, 5 * 96 + 4 * GAP  # 32x32 images, 3x
    assert fig.shape[0] == TOP + grid_h + P
    grid = visualize.traversal_grid(fn, 2, num_rows=3, mode="direction", values=figures.sweep_values(5), seed=1)
    expected = visualize.to_uint8(visualize.upscale(grid, 3))
    region = fig[TOP:TOP + grid_h, -P - grid_w:-P]
    for r in range(3):
        for c in range(5):
            np.testing.assert_array_equal(region[r * 98:r * 98 + 96, c * 98:c * 98 + 96],
                                          expected[r * 96:(r + 1) * 96, c * 96:(c + 1) * 96])
    np.testing.assert_array_equal(fig, figures.traversal_figure(fn, 2, num_rows=3, num_cols=5, seed=1))
    assert not np.array_equal(fig, figures.traversal_figure(fn, 2, num_rows=3, num_cols=5, seed=2))
    dims = figures.traversal_figure(fn, 2, num_rows=2, num_cols=3, mode="dims")
    assert dims.shape[0] == TOP + 3 * 2 * 98 - GAP + P  # 3 dims x 2 rows
    assert figures.value_labels(figures.sweep_values(9)) == ["-2.0", "-1.5", "-1.0", "-0.5", "0.0", "0.5", "1.0",
                                                             "1.5", "2.0"]


def test_traversals_figure_has_one_panel_per_rung():
    fn = coloured_generator()
    fig = figures.traversals_figure(fn, num_rows=2, num_cols=3, cell_size=32)
    header = labels.band_height(FONT + 4) + P
    panel_h = TOP + 2 * 32 + GAP + P
    assert fig.shape[0] == header + panel_h
    panel_w = 3 * 32 + 2 * GAP
    assert fig.shape[1] > 2 * (panel_w + 2 * P)
    body = fig[header:]
    # Two panels of 3 columns: the x with (coloured) image pixels in the grid rows form 6 runs; the white between the
    # panels (spacing plus margins) is far wider than the 2-pixel gaps between cells.
    rows = body[TOP:TOP + 64].astype(int)
    used = np.any((rows[..., 0] != rows[..., 1]) | (rows[..., 1] != rows[..., 2]), axis=0)  # text is grey
    edges = np.flatnonzero(np.diff(used.astype(int)))  # start - 1 and end of each run
    runs = list(zip(edges[::2] + 1, edges[1::2] + 1))
    assert [end - start for start, end in runs] == [32] * 6
    gaps = [runs[i + 1][0] - runs[i][1] for i in range(5)]
    assert gaps[:2] == gaps[3:] == [GAP, GAP] and gaps[2] >= 5 * P
    assert not blank(fig[:header])
    assert figures.panel_title(1, 4) == "rung 1 (pixels)" and figures.panel_title(4, 4) == "rung 4 (top)"
    assert figures.panel_title(2, 4) == "rung 2" and figures.panel_title(1, 1) == "rung 1 (pixels, top)"
    with pytest.raises(ValueError, match="choose one of direction, sample"):
        figures.traversals_figure(fn, mode="dims")


def test_figure_set_and_other_figures():
    fn = coloured_generator()
    originals = np.random.default_rng(0).uniform(size=(5, 32, 32, 3)).astype(np.float32)
    figs = figures.figure_set(fn, num_rows=2, num_cols=3, num_samples=4, cell_size=32,
                              reconstructions=(originals, 1.0 - originals))
    assert sorted(figs) == ["manifold/rung_1", "reconstructions", "samples", "traversal/rung_1", "traversal/rung_2",
                            "traversals"]
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in figs.values())
    title_only = P + labels.band_height(FONT + 4)
    assert figs["samples"].shape[0] == title_only + 2 * 32 + GAP + P
    assert figs["reconstructions"].shape[0] == title_only + 2 * 32 + GAP + P  # 5 images, 8 wide: 2 rows
    assert figs["manifold/rung_1"].shape[0] == TOP + 10 * 32 + 9 * GAP + P
    recon = figures.reconstructions_figure(originals, 1.0 - originals, cols=3, cell_size=32)
    assert recon.shape[0] == title_only + 4 * 32 + 3 * GAP + P  # original, reconstruction, original, recon.


def test_gif_frames_sweep_back_and_forth(tmp_path):
    fn = coloured_generator()
    frames = animation.traversal_frames(fn, 1, num_samples=3, num_values=5, cell_size=32, seed=3)
    assert animation.bounce(5) == [0, 1, 2, 3, 4, 3, 2, 1] and len(frames) == 8
    assert len({f.shape for f in frames}) == 1
    np.testing.assert_array_equal(frames[1], frames[7])  # the same value on the way back
    assert not np.array_equal(frames[0], frames[4])
    path = animation.save_gif(frames, tmp_path / "g" / "rung_1.gif", duration_ms=120)
    with Image.open(path) as gif:
        assert gif.n_frames == 8 and gif.size == frames[0].shape[1::-1]
        assert gif.info["loop"] == 0 and gif.info["duration"] == 120
    again = animation.traversal_frames(fn, 1, num_samples=3, num_values=5, cell_size=32, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))


def test_traversals_around_given_codes_keep_each_rows_codes_and_label_the_rows_as_images():
    generator_fn = coloured_generator()
    row_codes = [np.array([[3.0, 0.0], [-3.0, 0.0]], np.float32), np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]],
                                                                           np.float32)]
    grid = visualize.traversal_grid(generator_fn, 2, mode="direction", values=[-1.0, 0.0, 1.0], row_codes=row_codes)
    cells_ = figures.cells(grid, 2, 3)
    # Rung 1 is held at each row's code: the red channel is sigmoid(z_1[0]) in every cell of that row.
    np.testing.assert_allclose(cells_[:3, 0, 0, 0], 1 / (1 + np.exp(-3.0)), rtol=1e-6)
    np.testing.assert_allclose(cells_[3:, 0, 0, 0], 1 / (1 + np.exp(3.0)), rtol=1e-6)
    with_images = figures.traversal_figure(generator_fn, 2, num_cols=3, row_codes=row_codes, cell_size=32)
    with_samples = figures.traversal_figure(generator_fn, 2, num_rows=2, num_cols=3, cell_size=32)
    assert with_images.shape == with_samples.shape  # two rows either way
    assert not np.array_equal(with_images, with_samples)  # other codes, other labels ("image i")
    frames = animation.traversal_frames(generator_fn, 2, num_values=3, row_codes=row_codes, cell_size=32)
    assert len(frames) == 4 and frames[0].shape[1] > 2 * 32  # two images side by side
