"""The end of ``make demo``: what each rung captured, how faithful the reconstructions are, and where the
pictures are. One ``vlae-eval`` pass without the slow parts (no IWAE bound, no sampled-q(z|x) MIGs)."""

from __future__ import annotations

import pathlib

from vlae_tf import run_dir
from vlae_tf.evaluation import report
from vlae_tf.evaluation.evaluate_run import EvalOptions

# The shapes factor classifier ships with the package; other data sets' are fitted once per machine and cached.
DEMO_OPTIONS = EvalOptions(iw_samples=0, sampled_mi_draws=0, progress=True)


def print_report(config, out) -> None:
    result = report.evaluate_run_folder(out, DEMO_OPTIONS)
    lines = [""]
    if "factor_rung" in result:
        lines += report.factor_rung_summary(result) + [""]
    if "fidelity" in result:
        lines += ["Factor fidelity: a classifier of the true images reads each factor from the originals and "
                  "from their reconstructions"] + report.fidelity_lines(result) + [""]
    for key in report.specificity_keys(result):
        lines += report.specificity_lines(result, key) + [""]
    if "sample_validity" in result:
        lines += report.validity_lines(result) + [""]
    out = pathlib.Path(out)
    images = out / run_dir.IMAGE_DIR
    lines += [f"pictures:        {images / 'traversals.png'} (one panel per rung), "
              f"{images / 'traversal_rung_<l>.png'} and .gif, {images / 'reconstructions.png'}, "
              f"{images / 'samples.png'}",
              f"report:          {out / report.EVAL_MD} (tables), {out / report.EVAL_JSON}, "
              f"{out / report.FIGURE_DIR}/ (heat maps)"]
    print("\n".join(lines))
