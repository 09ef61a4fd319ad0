"""Grids from a fake generator that writes its codes into the pixels, so layouts can be read back exactly."""

import keras
import numpy as np
import pytest
from PIL import Image

from vlae_tf import visualize
from vlae_tf.config import ExperimentConfig, ModelConfig


def encoding_generator(shape=(4, 4, 1)):
    """generator_fn whose image holds the concatenated codes of all rungs in its first pixels (row-major)."""

    def generator_fn(zs):
        codes = np.concatenate(zs, axis=1)
        images = np.zeros((len(codes), int(np.prod(shape))), np.float32)
        images[:, :codes.shape[1]] = codes
        return images.reshape((-1,) + shape)

    return generator_fn


def read_codes(grid, shape, total_dims, padding=0):
    """[rows, cols, total_dims]: the codes each cell of a grid of encoding_generator images was decoded from."""
    h, w, _ = shape
    rows, cols = (grid.shape[0] + padding) // (h + padding), (grid.shape[1] + padding) // (w + padding)
    cells = [[grid[r * (h + padding):r * (h + padding) + h, c * (w + padding):c * (w + padding) + w].reshape(-1)
              [:total_dims] for c in range(cols)] for r in range(rows)]
    return np.array(cells)


class FakeModel:
    """The model interface the visualisations need: config.model.latent_dims and decode(zs) -> tf tensor."""

    def __init__(self, latent_dims=(2, 3), image_shape=(4, 4, 1)):
        self.config = ExperimentConfig(model=ModelConfig(image_shape=image_shape, latent_dims=latent_dims,
                                                         conv_channels=(8,) * (len(latent_dims) - 1)))
        self.batch_sizes = []
        self.decoded_codes = []  # per decode call, the codes per rung

    def decode(self, zs, seed=None):
        import tensorflow as tf

        self.batch_sizes.append(len(zs[0]))
        self.decoded_codes.append([np.asarray(z) for z in zs])
        return tf.constant(encoding_generator(self.config.model.image_shape)(zs))


@pytest.mark.parametrize("n, cols, hwc, padding, expected", [
    (6, 3, (4, 5, 1), 0, (8, 15, 1)),
    (7, 3, (4, 5, 3), 0, (12, 15, 3)),
    (7, 3, (4, 5, 3), 2, (16, 19, 3)),
    (10, None, (2, 2, 1), 0, (6, 8, 1)),
    (1, 4, (3, 3, 3), 1, (3, 15, 3)),
])
def test_tile_shapes_and_white_fill(n, cols, hwc, padding, expected):
    images = np.zeros((n,) + hwc, np.float32)
    grid = visualize.tile(images, cols, padding=padding)
    assert grid.shape == expected and grid.dtype == np.float32
    assert grid.min() == 0.0
    if padding or expected[0] * expected[1] > n * hwc[0] * hwc[1]:
        assert grid.max() == 1.0  # padding and empty cells are white


@pytest.mark.parametrize("dims, rung, rows, cols, hwc, mode, expected_rows", [
    ((2, 2, 2), 1, 8, 9, (4, 4, 1), "sample", 8),
    ((3, 3, 3), 3, 2, 5, (4, 6, 3), "sample", 2),
    ((5, 5, 5, 10), 4, 3, 4, (8, 8, 3), "dims", 30),
    ((2, 3), 2, 1, 1, (4, 4, 1), "dims", 3),
])
def test_traversal_grid_shapes(dims, rung, rows, cols, hwc, mode, expected_rows):
    grid = visualize.traversal_grid(encoding_generator(hwc), rung, dims, num_rows=rows, num_cols=cols, mode=mode)
    assert grid.shape == (expected_rows * hwc[0], cols * hwc[1], hwc[2])


def test_sample_mode_rows_fix_other_rungs_and_columns_fix_the_rung():
    dims, shape, rung = (2, 3, 2), (4, 4, 1), 2
    grid = visualize.traversal_grid(encoding_generator(shape), rung, dims, num_rows=5, num_cols=6, padding=1)
    codes = read_codes(grid, shape, sum(dims), padding=1)  # [5, 6, 7]
    assert codes.shape == (5, 6, 7)
    rung_code, others = codes[:, :, 2:5], np.concatenate([codes[:, :, :2], codes[:, :, 5:]], axis=2)
    # The other rungs: one code per row, repeated along it; rows differ.
    np.testing.assert_array_equal(others, np.broadcast_to(others[:, :1], others.shape))
    assert len({tuple(row) for row in others[:, 0]}) == 5
    # The traversed rung: one code per column, the same in every row; columns differ.
    np.testing.assert_array_equal(rung_code, np.broadcast_to(rung_code[:1], rung_code.shape))
    assert len({tuple(col) for col in rung_code[0]}) == 6


def test_dims_mode_sweeps_one_dimension_per_block():
    dims, shape, rung, rows = (2, 3), (4, 4, 1), 2, 4
    values = [-1.0, 0.0, 2.0]
    grid = visualize.traversal_grid(encoding_generator(shape), rung, dims, num_rows=rows, mode="dims",
                                    values=values, seed=3)
    codes = read_codes(grid, shape, 5).reshape(3, rows, 3, 5)  # [dim block, row, col, code]
    base = codes[1, :, 0].copy()  # the rows' codes: block 1 leaves all but rung dim 2 alone ...
    base[:, 3] = codes[0, :, 0, 3]  # ... which block 0 leaves alone
    for j in range(3):
        block = codes[j]
        np.testing.assert_array_equal(block[:, :, 2 + j], np.broadcast_to(values, (rows, 3)))
        untouched = [k for k in range(5) if k != 2 + j]
        # Everything but the swept dimension keeps the row's code, the same in every block.
        np.testing.assert_array_equal(block[:, :, untouched], np.broadcast_to(base[:, None, untouched],
                                                                              (rows, 3, 4)))


def test_direction_mode_sweeps_one_unit_direction_of_the_rung():
    dims, shape, rung, rows = (2, 3), (4, 4, 1), 2, 4
    values = np.array([-2.0, 0.5, 1.0], np.float32)
    grid = visualize.traversal_grid(encoding_generator(shape), rung, dims, num_rows=rows, mode="direction",
                                    values=values, seed=5)
    codes = read_codes(grid, shape, 5)  # [rows, 3 values, 5 codes]
    u = visualize.traversal_direction(dims, rung, seed=5)
    assert u.shape == (3,) and np.linalg.norm(u) == pytest.approx(1.0, abs=1e-6)
    # Column k sets the whole rung code to values[k] * u, the same in every row.
    np.testing.assert_allclose(codes[:, :, 2:], np.broadcast_to(np.outer(values, u), (rows, 3, 3)), atol=1e-6)
    # The other rung: one random code per row, repeated along it, the same rows as mode="sample" draws.
    others = codes[:, :, :2]
    np.testing.assert_array_equal(others, np.broadcast_to(others[:, :1], others.shape))
    sample = read_codes(visualize.traversal_grid(encoding_generator(shape), rung, dims, num_rows=rows, seed=5),
                        shape, 5)
    np.testing.assert_array_equal(others[:, 0], sample[:, 0, :2])
    # The direction depends on (seed, rung) only, not on the grid's layout.
    np.testing.assert_array_equal(u, visualize.traversal_direction((7, 3), 2, seed=5))
    assert not np.allclose(u, visualize.traversal_direction(dims, rung, seed=6))


def test_keep_orthogonal_sets_only_the_coordinate_along_the_direction():
    dims, shape, rung = (2, 3), (4, 4, 1), 2
    rng = np.random.default_rng(0)
    row_codes = [rng.normal(size=(3, 2)), 5.0 + rng.normal(size=(3, 3))]  # rung 2 far from the prior's centre
    values = np.array([-1.0, 0.0, 4.0], np.float32)
    grid = visualize.traversal_grid(encoding_generator(shape), rung, dims, mode="direction", values=values, seed=2,
                                    row_codes=row_codes, keep_orthogonal=True)
    codes = read_codes(grid, shape, 5)  # [3 rows, 3 values, 5 codes]
    u = visualize.traversal_direction(dims, rung, seed=2)
    swept = codes[:, :, 2:]
    # The coordinate along u is the column's value in every row; the rest is the row's own code.
    np.testing.assert_allclose(swept @ u, np.broadcast_to(values, (3, 3)), atol=1e-5)
    rest = row_codes[1] - np.outer(row_codes[1] @ u, u)
    np.testing.assert_allclose(swept - np.einsum("rk,d->rkd", swept @ u, u), np.broadcast_to(rest[:, None], (3, 3, 3)),
                               atol=1e-5)
    np.testing.assert_allclose(codes[:, :, :2], np.broadcast_to(row_codes[0][:, None], (3, 3, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="keep_orthogonal applies to mode='direction'"):
        visualize.traversal_grid(encoding_generator(shape), rung, dims, mode="dims", keep_orthogonal=True)


def test_data_sweep_values_span_the_central_quantiles_of_the_codes():
    dims, rung = (2, 3), 2
    u = visualize.traversal_direction(dims, rung, seed=4)
    t = np.linspace(-10.0, 10.0, 1001)  # codes along u, plus an orthogonal offset that must not matter
    offset = np.linalg.svd(u[None])[2][1]
    codes = np.outer(t, u) + 3.0 * offset
    values = visualize.data_sweep_values(codes, dims, rung, num_values=5, seed=4, coverage=0.9)
    np.testing.assert_allclose(values, np.linspace(-9.0, 9.0, 5), atol=1e-4)  # the 5% and 95% quantiles of t
    with pytest.raises(ValueError, match=r"codes must be \[N >= 2, 3\] for rung 2"):
        visualize.data_sweep_values(codes[:1], dims, rung)
    with pytest.raises(ValueError, match="coverage"):
        visualize.data_sweep_values(codes, dims, rung, coverage=0.0)


def test_model_figures_sweep_each_rung_over_its_data_range():
    from vlae_tf.io.images import image_codes, model_figures
    model = FakeModel(latent_dims=(2, 3), image_shape=(4, 4, 1))
    model.encode = lambda x: [(x.reshape(len(x), -1)[:, :2], None), (x.reshape(len(x), -1)[:, 2:5] + 6.0, None)]
    model.reconstruct = lambda x: x
    images = np.random.default_rng(1).normal(size=(32, 4, 4, 1)).astype(np.float32)
    figs = model_figures(model, images[:4], images, num_rows=4, manifolds=False, cell_size=8)
    assert {"traversal/rung_1", "traversal/rung_2", "traversals", "samples", "reconstructions"} <= set(figs)
    # The second decode is the rung-2 figure's (rung 1's comes first). Its rung-2 codes sit within the range of
    # the 32 images' rung-2 codes along u, not around the prior's centre (the codes are centred at 6).
    asked = model.decoded_codes[1][1]
    u = visualize.traversal_direction((2, 3), 2, seed=0)
    along = image_codes(model, images)[1] @ u
    assert along.min() - 1e-5 <= (asked @ u).min() and (asked @ u).max() <= along.max() + 1e-5


def test_default_values_and_row_codes():
    dims, shape = (2, 2), (4, 4, 1)
    grid = visualize.traversal_grid(encoding_generator(shape), 1, dims, num_rows=1, num_cols=5, mode="dims")
    np.testing.assert_allclose(read_codes(grid, shape, 4)[0, :, 0], np.linspace(-2.5, 2.5, 5))
    row_codes = [np.zeros((2, 2)), np.full((2, 2), 7.0)]
    grid = visualize.traversal_grid(encoding_generator(shape), 1, dims, num_cols=3, row_codes=row_codes)
    codes = read_codes(grid, shape, 4)
    assert codes.shape[:2] == (2, 3) and np.all(codes[:, :, 2:] == 7.0)


def test_seed_determinism():
    fn, dims = encoding_generator(), (2, 2, 2)
    for make in (lambda s: visualize.traversal_grid(fn, 2, dims, seed=s),
                 lambda s: visualize.traversal_grid(fn, 2, dims, mode="dims", seed=s),
                 lambda s: visualize.traversal_grid(fn, 2, dims, mode="direction", seed=s),
                 lambda s: visualize.manifold_grid(fn, 1, dims, size=3, seed=s),
                 lambda s: visualize.sample_grid(fn, 9, dims, seed=s)):
        np.testing.assert_array_equal(make(0), make(0))
        assert not np.array_equal(make(0), make(1))


@pytest.mark.parametrize("rung", [0, 4, -1, 1.5, True, "2"])
def test_rung_out_of_range(rung):
    with pytest.raises(ValueError, match=r"choose 1\.\.3"):
        visualize.traversal_grid(encoding_generator(), rung, (2, 2, 2))


def test_argument_errors():
    fn = encoding_generator()
    with pytest.raises(ValueError, match="latent_dims is required"):
        visualize.traversal_grid(fn, 1)
    with pytest.raises(ValueError, match="choose one of sample, dims, direction"):
        visualize.traversal_grid(fn, 1, (2, 2), mode="linear")
    with pytest.raises(ValueError, match="values applies to mode='dims'"):
        visualize.traversal_grid(fn, 1, (2, 2), values=[0.0, 1.0])
    with pytest.raises(ValueError, match="row_codes"):
        visualize.traversal_grid(fn, 1, (2, 2), row_codes=[np.zeros((2, 2)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match="returned 1 images for"):
        visualize.sample_grid(lambda zs: np.zeros((1, 4, 4, 1)), 4, (2,))
    with pytest.raises(TypeError, match="generator_fn or a model"):
        visualize.sample_grid(42, 4, (2,))


def test_manifold_grid_layout():
    dims, shape = (3, 2), (4, 4, 1)
    grid = visualize.manifold_grid(encoding_generator(shape), 2, dims, size=5, seed=1)
    assert grid.shape == (20, 20, 1)
    codes = read_codes(grid, shape, 5)
    dim1, dim2 = codes[:, :, 3], codes[:, :, 4]
    assert np.all(np.diff(dim1, axis=1) > 0) and np.all(dim1 == dim1[:1])  # left to right, same in every row
    assert np.all(np.diff(dim2, axis=0) < 0) and np.all(dim2 == dim2[:, :1])  # top to bottom, decreasing
    np.testing.assert_allclose(dim1[0], [-1.6449, -0.5978, 0.0, 0.5978, 1.6449], atol=1e-4)
    others = codes[:, :, :3].reshape(-1, 3)
    assert np.all(others == others[0]) and np.any(others[0] != 0)
    zero = visualize.manifold_grid(encoding_generator(shape), 2, dims, size=2, others="zero")
    assert np.all(read_codes(zero, shape, 5)[:, :, :3] == 0)


def test_manifold_grid_needs_a_2d_rung():
    with pytest.raises(ValueError, match="needs a 2-dim rung; rung 1 has 3 dims"):
        visualize.manifold_grid(encoding_generator(), 1, (3, 2))


def test_sample_grid_shape():
    assert visualize.sample_grid(encoding_generator((4, 6, 3)), 10, (2, 2), cols=5).shape == (8, 30, 3)
    assert visualize.sample_grid(encoding_generator(), 64, (2, 2)).shape == (32, 32, 1)


def test_reconstruction_grid_alternates_rows():
    x = np.stack([np.full((2, 2, 1), i / 10) for i in range(5)])
    y = 1.0 - x
    grid = visualize.reconstruction_grid(x, y, cols=3)
    assert grid.shape == (8, 6, 1)
    cell = lambda r, c: grid[2 * r, 2 * c, 0]
    assert [cell(0, c) for c in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    assert [cell(1, c) for c in range(3)] == pytest.approx([1.0, 0.9, 0.8])
    assert [cell(2, c) for c in range(3)] == pytest.approx([0.3, 0.4, 1.0])  # blank cell is white
    assert [cell(3, c) for c in range(3)] == pytest.approx([0.7, 0.6, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        visualize.reconstruction_grid(x, y[:4])


def test_to_uint8():
    out = visualize.to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0, np.nan], np.float32))
    assert out.dtype == np.uint8 and out.tolist() == [0, 0, 128, 255, 255, 0]
    same = np.array([1, 2], np.uint8)
    assert visualize.to_uint8(same) is same


@pytest.mark.parametrize("shape, mode", [((6, 8, 1), "L"), ((6, 8), "L"), ((6, 8, 3), "RGB")])
def test_save_png_round_trip(tmp_path, shape, mode):
    grid = np.random.default_rng(0).uniform(size=shape).astype(np.float32)
    path = visualize.save_png(grid, tmp_path / "a" / "b" / "grid.png")
    assert path == str(tmp_path / "a" / "b" / "grid.png")
    with Image.open(path) as image:
        assert image.mode == mode and image.size == (8, 6)
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels, visualize.to_uint8(grid).reshape(pixels.shape))
    with pytest.raises(ValueError, match="save_png takes"):
        visualize.save_png(np.zeros((4, 4, 2)), tmp_path / "bad.png")


def test_model_adapter_reads_latent_dims_and_batches():
    model = FakeModel(latent_dims=(2, 3))
    fn = visualize.generator_fn_from_model(model, batch_size=4)
    assert fn.latent_dims == (2, 3)
    images = fn([np.zeros((10, 2), np.float32), np.ones((10, 3), np.float32)])
    assert isinstance(images, np.ndarray) and images.shape == (10, 4, 4, 1) and model.batch_sizes == [4, 4, 2]
    # A model goes wherever a generator_fn does, and gives the same grid as the fake it wraps.
    np.testing.assert_array_equal(visualize.traversal_grid(model, 2, num_rows=3, num_cols=4),
                                  visualize.traversal_grid(encoding_generator(), 2, (2, 3), num_rows=3, num_cols=4))
    with pytest.raises(ValueError, match="choose 1..2"):
        visualize.traversal_grid(model, 3)
    grids = visualize.image_grids(model, num_rows=2, num_cols=3, num_samples=4)
    assert sorted(grids) == ["manifold/rung_1", "samples", "traversal/rung_1", "traversal/rung_2"]


def test_vlae_shapes_preset_traversal():
    models = pytest.importorskip("vlae_tf.models")
    if not hasattr(models, "VLAE"):
        pytest.skip("vlae_tf.models.VLAE is not written yet")
    keras.utils.set_random_seed(0)  # the initial weights, whatever ran before in this process
    model = models.VLAE.from_preset("shapes")
    grid = visualize.traversal_grid(model, rung=2, num_rows=2, num_cols=3)
    height, width, channels = model.config.model.image_shape
    assert grid.shape == (2 * height, 3 * width, channels)
    assert np.isfinite(grid).all() and grid.min() >= 0.0 and grid.max() <= 1.0
    np.testing.assert_allclose(grid, visualize.traversal_grid(model, rung=2, num_rows=2, num_cols=3), atol=1e-6)
    with pytest.raises(ValueError, match=f"choose 1..{model.config.model.num_rungs}"):
        visualize.traversal_grid(model, rung=model.config.model.num_rungs + 1)
