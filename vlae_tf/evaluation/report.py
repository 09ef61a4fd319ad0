"""``eval.json``, ``eval.md`` and figures for a run folder, and the factor -> rung lines of ``make demo``.

Files written into the run folder (``vlae_tf.run_dir`` describes the rest of it):

    <run>/eval.json                 ``evaluate_run.evaluate_model``'s dict (rungs numbered 1..L from the pixels)
    <run>/eval.md                   the same as tables
    <run>/eval/traversal_rung_{l}.png
    <run>/eval/nmi_rungs.png        normalised MI, rung x factor, k-means/best-dimension estimate (saturates)
    <run>/eval/probe_nmi_rungs.png  the cross-validated probe bound, rung x factor (``factor_rung`` reads it)
    <run>/eval/traversal_specificity.png   rung x factor change of the classifier's reading when one rung moves
    <run>/eval/traversal_specificity_swap.png   the same, the rung moved to other test images' codes
    <run>/eval/nmi_dims.png         normalised MI, latent dimension x factor
    <run>/eval/kl_per_rung.png
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np

from vlae_tf import data, run_dir
from vlae_tf.data.shapes import FACTOR_LEVELS
from vlae_tf.evaluation import figures
from vlae_tf.evaluation.evaluate_run import SPECIFICITY_KEYS, EvalOptions, evaluate_model
from vlae_tf.io.run_model import load_model

EVAL_JSON = "eval.json"
EVAL_MD = "eval.md"
FIGURE_DIR = "eval"
FIGURE_IMAGES = 256  # real images per report: the traversal rows are the first ones, the sweep ranges come from all


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(header: list, rows: list) -> list[str]:
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]


def dim_labels(latent_dims) -> list[str]:
    """``z{rung}.{dim}`` for every latent dimension, rung 1 first."""
    return [f"z{rung}.{dim}" for rung, d in enumerate(latent_dims, start=1) for dim in range(1, d + 1)]


def likelihood_lines(result: dict) -> list[str]:
    nats = "nats per image" if result["likelihood"] in ("bernoulli", "gaussian") else "distortion (l1, not nats)"
    rows = [["ELBO", _fmt(result["elbo"]), _fmt(result["bits_per_dim"], 4)],
            ["reconstruction -log p(x|z)", _fmt(result["recon"]), ""],
            ["KL", _fmt(result["kl"]), ""]]
    if result.get("iwae") is not None:
        n, k = result["iwae_examples"], result["iwae_samples"]
        rows += [[f"IWAE bound (K={k}, first {n} images)", _fmt(result["iwae"]), _fmt(result["iwae_bits_per_dim"], 4)],
                 [f"ELBO from the same {k} samples", _fmt(result["iwae_elbo"]), ""]]
    lines = _table(["quantity", nats, "bits per dim"], rows)
    if result["likelihood"] == "gaussian":
        lines += ["", "A Gaussian is a density on [0, 1]: its log-likelihoods are positive; bits per dim add the 8-bit "
                      "discretisation term (ln 256 per dimension) first."]
    return lines


def rung_lines(result: dict) -> list[str]:
    rows = [[rung, d, _fmt(kl), _fmt(share), f"{au}/{d}"]
            for rung, (d, kl, share, au) in enumerate(zip(result["latent_dims"], result["kl_per_rung"],
                                                          result["kl_share_per_rung"],
                                                          result["active_units_per_rung"]), start=1)]
    return _table(["rung", "dims", "KL (nats)", "KL share", "active units"], rows)


def _estimator(result: dict, key: str, default: str) -> str:
    return result.get("estimators", {}).get(key, default)


def factor_lines(result: dict) -> list[str]:
    """The rung x factor information tables (probe bound first when present) and the MIGs, each named by
    its estimator."""
    names = result["factor_names"]
    lines = []
    if "rung_factor_probe_nmi" in result:
        families = result.get("rung_factor_probe_family")
        rows = [[rung] + [_fmt(v) + ("*" if families and families[rung - 1][k] != "logistic" else "")
                          for k, v in enumerate(values)]
                for rung, values in enumerate(result["rung_factor_probe_nmi"], start=1)]
        rows.append(["**captured by rung**"] + [result["factor_rung"][n] for n in names])
        lines += [f"Estimator: {_estimator(result, 'rung_factor_probe_nmi', '')}", ""]
        lines += _table(["rung"] + names, rows)
        if families:
            lines += ["", "\\* read by the MLP probe; the logistic probe reads less there (the code holds the factor "
                      "non-linearly)."]
        lines += ["", "Older estimate, kept for comparison: "
                                                   f"{_estimator(result, 'rung_factor_nmi', 'k-means')}", ""]
    rows = [[rung] + [_fmt(v) for v in values] for rung, values in enumerate(result["rung_factor_nmi"], start=1)]
    if "rung_factor_probe_nmi" not in result:
        rows.append(["**captured by rung**"] + [result["factor_rung"][n] for n in names])
    lines += _table(["rung"] + names, rows)
    migs = [f"{_estimator(result, key, key)} {_fmt(result[key], 3)}"
            for key in ("mig", "mig_sup", "mig_sampled", "mig_sup_sampled") if result.get(key) is not None]
    return lines + ["", "; ".join(migs)]


def fidelity_lines(result: dict) -> list[str]:
    """Per factor: the classifier's accuracy on originals and on reconstructions, and their ratio."""
    rows = [[name, _fmt(f["accuracy_original"], 3), _fmt(f["accuracy_reconstruction"], 3),
             _fmt(f["relative_fidelity"], 3), _fmt(f["chance"], 3)] for name, f in result["fidelity"].items()]
    return _table(["factor", "accuracy on originals", "on reconstructions", "relative fidelity", "chance"], rows)


def validity_lines(result: dict) -> list[str]:
    """The share of prior samples that re-draw as cleanly as the reconstructions (``sample_validity``)."""
    v = result["sample_validity"]
    return [f"Valid prior samples: {_fmt(v['valid_share'], 3)} +- {_fmt(v['standard_error'], 3)} of "
            f"{v['num_samples']} (valid: a two-colour drawing of the shape the classifier reads off the sample "
            f"leaves no more of its pixel variance unexplained than it does for {v['quantile']:.0%} of the "
            f"reconstructions, {_fmt(v['threshold'], 3)}); median share unexplained: samples "
            f"{_fmt(v['median_unexplained_samples'], 3)}, "
            f"reconstructions {_fmt(v['median_unexplained_reconstructions'], 3)}, "
            f"originals {_fmt(v['median_unexplained_originals'], 3)}"]


SPECIFICITY_MOVES = {"prior": "prior draws of the moved rung",
                     "swap": "swaps of the moved rung's code for another test image's (moves between real codes)",
                     "grid": "grid values of the moved rung"}


def specificity_lines(result: dict, key: str = "traversal_specificity") -> list[str]:
    """Rung x factor: change rate of the classifier's reading when only that rung moves, / full resample."""
    spec = result[key]
    names = spec["factor_names"]
    rows = [[rung] + [f"{_fmt(s)} ({_fmt(c)})" for s, c in zip(srow, crow)]
            for rung, (srow, crow) in enumerate(zip(spec["specificity"], spec["change_rate"]), start=1)]
    rows.append(["all rungs redrawn"] + [_fmt(c) for c in spec["full_resample_change_rate"]])
    moves = SPECIFICITY_MOVES[spec.get("mode", "prior")]
    return [f"Specificity (change rate in brackets) over {spec['num_bases']} test codes x {spec['num_draws']} "
            f"{moves}; 1 = the rung alone moves the factor as much as redrawing every rung.",
            ""] + _table(["rung"] + names, rows)


def specificity_keys(result: dict) -> list[str]:
    """The traversal specificities ``result`` holds (``evaluate_run.SPECIFICITY_KEYS`` order: prior draws first)."""
    return [key for key in SPECIFICITY_KEYS if result.get(key)]


def probe_lines(result: dict) -> list[str]:
    rows = [[rung, _fmt(p["logistic"], 3), _fmt(p["knn"], 3), _fmt(p["chance"], 3)]
            for rung, p in enumerate(result["probe_accuracy_per_rung"], start=1)]
    return _table(["rung", "logistic", "k-NN", "chance"], rows)


def markdown(result: dict) -> str:
    """eval.md: the tables of one evaluation."""
    lines = [f"# Evaluation: {result['model']} on {result['dataset']} ({result['split']} split, "
             f"{result['num_examples']} images)", "", "## Likelihood", ""] + likelihood_lines(result)
    lines += ["", "## Per rung (1 = nearest the pixels)", ""] + rung_lines(result)
    if "factor_rung" in result:
        lines += ["", "## Normalised mutual information, rung x factor", ""] + factor_lines(result)
    if result.get("fidelity"):
        lines += ["", "## Factor fidelity: a classifier of the true images reads originals and reconstructions",
                  ""] + fidelity_lines(result)
    for key in specificity_keys(result):
        lines += ["", "## Traversal specificity, rung x factor", ""] + specificity_lines(result, key)
    if "sample_validity" in result:
        lines += ["", "## Prior samples", ""] + validity_lines(result)
    if "probe_accuracy_per_rung" in result:
        lines += ["", f"## Label probes on each rung's posterior means ({result['probe_train_examples']} "
                      "training codes)", ""] + probe_lines(result)
    return "\n".join(lines) + "\n"


def write_figures(result: dict, out_dir, model=None, seed: int = 0, grids=None, images=None) -> list[str]:
    """KL bars, NMI heat maps and (given the model, or its ``figures.traversal_grids``) traversal PNGs, around
    the codes of ``images`` when given (see ``figures.traversal_grids``)."""
    out_dir = pathlib.Path(out_dir)
    paths = [figures.kl_bars({result["model"]: result["kl_per_rung"]}, out_dir / "kl_per_rung.png")]
    if "factor_rung" in result:
        num_rungs = len(result["rung_factor_nmi"])
        paths.append(figures.heatmap(result["rung_factor_nmi"], [f"rung {r}" for r in range(1, num_rungs + 1)],
                                     result["factor_names"], f"{result['model']}: I(rung; factor) / H(factor)",
                                     out_dir / "nmi_rungs.png"))
        paths.append(figures.heatmap(result["dim_factor_nmi"], dim_labels(result["latent_dims"]),
                                     result["factor_names"], f"{result['model']}: I(z_j; factor) / H(factor)",
                                     out_dir / "nmi_dims.png"))
        if "rung_factor_probe_nmi" in result:
            paths.append(figures.heatmap(result["rung_factor_probe_nmi"], [f"rung {r}" for r in range(1, num_rungs + 1)],
                                         result["factor_names"], f"{result['model']}: probe bound 1 - CE / H(factor)",
                                         out_dir / "probe_nmi_rungs.png"))
    for key in specificity_keys(result):
        spec = result[key]
        paths.append(figures.heatmap(np.clip(spec["specificity"], 0.0, 1.0),
                                     [f"rung {r}" for r in range(1, len(spec["specificity"]) + 1)],
                                     spec["factor_names"], f"{result['model']}: traversal specificity ({spec['mode']})",
                                     out_dir / f"{key}.png"))
    if grids is None and model is not None:
        grids = figures.traversal_grids(model, images, seed=seed)
    if grids is not None:
        paths += figures.save_traversals(grids, out_dir)
    return paths


def write_report(result: dict, run, model=None, seed: int = 0, grids=None, images=None) -> dict:
    """Writes eval.json, eval.md and the figures into the folder ``run``; returns their paths.

    Traversal PNGs need ``model`` or its precomputed ``grids`` (``figures.traversal_grids``, around the codes
    of ``images`` when given).
    """
    run = pathlib.Path(run)
    run.mkdir(parents=True, exist_ok=True)
    (run / EVAL_JSON).write_text(json.dumps(result, indent=2, sort_keys=True))
    (run / EVAL_MD).write_text(markdown(result))
    return {"json": str(run / EVAL_JSON), "markdown": str(run / EVAL_MD),
            "figures": write_figures(result, run / FIGURE_DIR, model, seed, grids, images)}


def evaluate_run_folder(run, options: EvalOptions | None = None, checkpoint: str | None = None, model=None,
                 grids=None) -> dict:
    """Evaluates the run folder's model (or ``model``, already loaded) and writes the report into the folder."""
    config = run_dir.load_config(run)
    options = options or EvalOptions()
    model = model if model is not None else load_model(run, checkpoint)
    result = evaluate_model(model, config, options)
    result["run"] = str(run)
    images = None if grids is not None else figure_images(config, options.split)
    write_report(result, run, model, seed=options.seed, grids=grids, images=images)
    return result


def figure_images(config, split: str = "test"):
    """The real images the report's traversals start from and take their ranges from: the first
    ``FIGURE_IMAGES`` of ``split``."""
    images, _ = data.load_arrays(config, split, FIGURE_IMAGES, binarize=True)
    return images


def factor_rung_summary(result: dict) -> list[str]:
    """``factor  (level)  rung r  [NMI per rung]`` per factor, for a result with ground-truth factors."""
    lines = [f"{result['model']} on {result['dataset']}: the rung (1 = nearest the pixels) that captured each factor"]
    table = result.get("rung_factor_probe_nmi", result["rung_factor_nmi"])
    for k, name in enumerate(result["factor_names"]):
        nmi = " ".join(f"{row[k]:.2f}" for row in table)
        level = FACTOR_LEVELS.get(name, "")
        label = "probe bound" if "rung_factor_probe_nmi" in result else "NMI"
        lines.append(f"  {name:<10} {level:<7} rung {result['factor_rung'][name]}   {label} per rung 1..L: {nmi}")
    return lines
