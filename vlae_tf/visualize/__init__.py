"""Pictures of what each rung learned.

- :mod:`vlae_tf.visualize.grids`: numpy grids behind a ``generator_fn`` (traversals, manifolds, samples,
  reconstructions), one pixel per model pixel, for tests and further processing.
- :mod:`vlae_tf.visualize.images`: tiling, uint8 conversion, PNG files.
- :mod:`vlae_tf.visualize.figures`: the same grids as labelled figures to look at: upscaled cells, a title per
  rung, traversal values above the columns, what each row holds fixed on the left; the paper-style figure
  with one panel per rung side by side.
- :mod:`vlae_tf.visualize.animation`: an animated GIF per rung sweeping its value back and forth.
"""

from vlae_tf.visualize.grids import (MODES, GeneratorFn, data_sweep_values, generator_fn_from_model, image_grids,
                                     manifold_grid, reconstruction_grid, sample_grid, traversal_direction,
                                     traversal_grid)
from vlae_tf.visualize.images import save_png, tile, to_uint8, upscale
from vlae_tf.visualize.figures import (figure_set, manifold_figure, reconstructions_figure, samples_figure,
                                       traversal_figure, traversals_figure)
from vlae_tf.visualize.animation import save_gif, traversal_frames

__all__ = ["MODES", "GeneratorFn", "data_sweep_values", "figure_set", "generator_fn_from_model", "image_grids", "manifold_figure",
           "manifold_grid", "reconstruction_grid", "reconstructions_figure", "sample_grid", "samples_figure",
           "save_gif", "save_png", "tile", "to_uint8", "traversal_direction", "traversal_figure", "traversal_frames",
           "traversal_grid", "traversals_figure", "upscale"]
