"""What a training run writes when it ends, the same for ``model.fit`` and the custom loop, and the checks
their entry points (``keras_fit.run_fit``, ``run.run_custom``) share.

    <run>/metrics.json   the test metrics (``loss``, ``elbo``, ``recon``, ``kl``, ``kl/rung_{l}`` in nats)
    <run>/images/        the labelled figures of ``Summaries.grids`` as PNGs, and one GIF per rung
"""

from __future__ import annotations

import json
import pathlib

from vlae_tf import run_dir
from vlae_tf.io.images import model_animations, save_gifs, save_pngs
from vlae_tf.training.summaries import RECONSTRUCTIONS, Summaries

def check_steps(steps: int | None) -> None:
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps={steps!r} is not valid; give a positive number of optimizer steps (the run's total)")


def finished_metrics(out: pathlib.Path, step: int, target: int) -> dict | None:
    """The stored metrics of a run that already reached its target (None when it has none), after saying so."""
    print(f"{out} already finished at step {step} (target {target}): nothing to train and nothing overwritten; "
          "raise --steps or --epochs to train on")
    path = out / run_dir.METRICS_FILE
    return json.loads(path.read_text()) if path.exists() else None


def write_outputs(out: pathlib.Path, model, metrics: dict, summaries: Summaries) -> None:
    """``metrics.json``, and the figures of ``model`` in ``images/``: those ``summaries`` logs (around its
    reference test images: their reconstructions, traversals over the range of their codes) and the GIFs."""
    images = out / run_dir.IMAGE_DIR
    save_pngs(summaries.grids(model), images)
    reference = summaries.reference_images
    examples = None if reference is None else reference[:RECONSTRUCTIONS]
    save_gifs(model_animations(model, seed=summaries.image_seed, images=examples, range_images=reference), images)
    (out / run_dir.METRICS_FILE).write_text(json.dumps(metrics, indent=2))


__all__ = ["check_steps", "finished_metrics", "write_outputs"]
