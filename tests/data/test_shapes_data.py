"""The procedural shapes dataset: determinism, factor ranges, every factor visible, shapes inside the frame."""

import time

import numpy as np
import pytest

from vlae_tf.data import shapes


def _base(**values):
    row = {"bg_color": 0, "fg_color": 1, "pos_x": 2, "pos_y": 3, "scale": 2, "shape": 0, "rotation": 1}
    row.update(values)
    return np.array([[row[n] for n in shapes.FACTOR_NAMES]])


def test_same_seed_same_images_and_other_seed_other_images():
    a_images, a_factors = shapes.generate(64, seed=3)
    b_images, b_factors = shapes.generate(64, seed=3)
    c_images, c_factors = shapes.generate(64, seed=4)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_factors, b_factors)
    assert not np.array_equal(a_factors, c_factors)
    assert not np.allclose(a_images, c_images)


def test_shapes_dtypes_and_ranges():
    images, factors = shapes.generate(3000, seed=0, image_size=32)
    assert images.shape == (3000, 32, 32, 3) and images.dtype == np.float32
    assert factors.shape == (3000, len(shapes.FACTOR_NAMES)) and factors.dtype == np.int32
    assert images.min() >= 0.0 and images.max() <= 1.0
    for k, name in enumerate(shapes.FACTOR_NAMES):  # every value is drawn, nothing outside the range
        np.testing.assert_array_equal(np.unique(factors[:, k]), np.arange(shapes.FACTOR_SIZES[name]))


def test_factor_metadata_is_consistent():
    assert set(shapes.FACTOR_LEVELS) == set(shapes.FACTOR_NAMES) == set(shapes.FACTOR_SIZES)
    assert set(shapes.FACTOR_LEVELS.values()) == {"low", "middle", "high"}
    assert shapes.FACTOR_LEVELS["fg_color"] == "low" and shapes.FACTOR_LEVELS["shape"] == "high"
    assert all(size >= 4 for size in shapes.FACTOR_SIZES.values())


@pytest.mark.parametrize("name", shapes.FACTOR_NAMES)
def test_every_value_of_every_factor_draws_a_different_image(name):
    k = shapes.FACTOR_NAMES.index(name)
    for shape in range(shapes.FACTOR_SIZES["shape"]):
        rows = np.repeat(_base(shape=shape), shapes.FACTOR_SIZES[name], axis=0)
        rows[:, k] = np.arange(shapes.FACTOR_SIZES[name])
        images = shapes.render(rows, 32).reshape(len(rows), -1)
        gaps = np.abs(images[:, None] - images[None]).max(-1)
        off_diagonal = gaps[~np.eye(len(rows), dtype=bool)]
        assert off_diagonal.min() > 0.1, f"{name} values draw the same picture for shape {shape}"


@pytest.mark.parametrize("image_size", [32, 64])
def test_largest_shape_stays_inside_at_every_position_and_rotation(image_size):
    grid = np.array(np.meshgrid(*[range(shapes.FACTOR_SIZES[n]) for n in ("pos_x", "pos_y", "shape", "rotation")],
                                indexing="ij")).reshape(4, -1).T
    extremes = grid[np.isin(grid[:, 0], [0, 5]) | np.isin(grid[:, 1], [0, 5])]
    rows = np.repeat(_base(scale=shapes.FACTOR_SIZES["scale"] - 1), len(extremes), axis=0)
    for column, name in enumerate(("pos_x", "pos_y", "shape", "rotation")):
        rows[:, shapes.FACTOR_NAMES.index(name)] = extremes[:, column]
    images = shapes.render(rows, image_size)
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    np.testing.assert_allclose(border, np.broadcast_to(shapes.BG_PALETTE[0], border.shape), atol=1e-6)
    assert (np.abs(images - shapes.BG_PALETTE[0]).max(-1) > 0.5).sum(axis=(1, 2)).min() > 4  # shape drawn


def test_edges_are_anti_aliased():
    image = shapes.render(_base(shape=1, rotation=2), 32)[0]
    coverage = (image - shapes.BG_PALETTE[0]) / (shapes.FG_PALETTE[1] - shapes.BG_PALETTE[0])
    partial = (coverage[..., 0] > 0.05) & (coverage[..., 0] < 0.95)
    assert partial.sum() >= 8


def test_twenty_thousand_images_are_quick():
    # CPU time of this process, not wall time: on a loaded 2-core machine the wall time of this ~1 s job
    # was measured at 2-7 s (other jobs' load, not ours), while its CPU time stayed at 0.95-1.15 s.
    start = time.process_time()
    shapes.generate(20000, seed=1)
    assert time.process_time() - start < 6.0  # 5x the measured CPU time


def test_bad_factors_are_rejected_with_the_valid_range():
    with pytest.raises(ValueError, match="shape must lie in 0..3"):
        shapes.render(_base(shape=7))
    with pytest.raises(ValueError, match=r"factors must be \[N, 7\]"):
        shapes.render(np.zeros((2, 3), np.int32))


def test_coverage_is_the_layout_that_render_colours():
    factors = shapes.sample_factors(64, seed=5)
    masks = shapes.coverage(factors)
    assert masks.shape == (64, 32, 32) and masks.dtype == np.float32
    assert masks.min() == 0.0 and np.all(masks.reshape(64, -1).max(axis=1) == 1.0)  # every shape covers whole pixels
    bg = shapes.BG_PALETTE[factors[:, 0]][:, None, None, :]
    fg = shapes.FG_PALETTE[factors[:, 1]][:, None, None, :]
    np.testing.assert_allclose(shapes.render(factors), bg + masks[..., None] * (fg - bg), atol=1e-6)


def test_recolor_keeps_the_geometry_and_draws_colours_off_the_palette():
    factors = shapes.sample_factors(300, seed=4)
    images = shapes.recolor(factors, seed=1, image_size=32, min_contrast=0.35)
    assert images.shape == (300, 32, 32, 3) and images.dtype == np.float32
    mask = shapes.coverage(factors, 32)
    bg = images[:, 0, 0, :]  # the largest shape keeps a margin: the corner is background
    inside = images[np.arange(300), *np.unravel_index(mask.reshape(300, -1).argmax(1), (32, 32))]
    # Every pixel is background + coverage x (shape colour - background): the palette's geometry, new colours.
    expected = bg[:, None, None, :] + mask[..., None] * (inside - bg)[:, None, None, :]
    np.testing.assert_allclose(images, expected, atol=1e-5)
    on_palette = np.isclose(inside[:, None, :], shapes.FG_PALETTE[None], atol=1e-3).all(-1).any(-1)
    assert on_palette.mean() < 0.05  # colours from the whole RGB cube leave the palette
    # The shape's coverage is below 1 on its edge: the largest difference sits on a fully covered pixel, which
    # every shape has, so the drawn pair's contrast shows exactly.
    assert np.abs(inside - bg).max(-1).min() >= 0.35 - 1e-6
    # Both polarities: a shape darker than its ground in a fair share (the palette's are all lighter). With
    # uniform colours the share is 1/2; 0.35 is > 4 standard errors below it on 300 images.
    darker = inside.sum(-1) < bg.sum(-1)
    assert 0.35 < darker.mean() < 0.65, darker.mean()
    np.testing.assert_array_equal(images, shapes.recolor(factors, seed=1, image_size=32))
    with pytest.raises(ValueError, match="min_contrast=0 must lie in"):
        shapes.recolor(factors, min_contrast=0)
