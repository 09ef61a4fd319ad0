"""``vlae-compare``: train several models on the same data, seed and budget, evaluate them, report side by side.

    vlae-compare --preset shapes --models vlae,hvae,vae --budget 4000 --out runs/compare
    vlae-compare --preset mnist --dataset npz --data-dir ../shared/datasets/mnist.npz --budget 3epochs

Writes ``<out>/<model>/`` (a vlae-train run folder with its eval.json), and ``<out>/comparison.md``,
``<out>/comparison.json``, ``<out>/traversals.png`` (per-rung traversals of every model, the paper's
comparison figure) and ``<out>/kl_per_rung.png``. A model whose run folder already holds ``model.keras``
is evaluated without retraining unless ``--retrain`` is given.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import sys
import time

from .common import import_tensorflow, run_cli


def model_kinds() -> tuple[str, ...]:
    """Every kind a config accepts (``config.MODEL_KINDS``: a new baseline is comparable at once), and
    provlae: the VLAE with the preset's progressive schedule."""
    from vlae_tf.config import MODEL_KINDS  # not at the top: vlae_tf loads after import_tensorflow()

    return (*MODEL_KINDS, "provlae")


def parse_budget(text: str) -> dict:
    """``"4000"`` / ``"4000steps"`` -> {"steps": 4000}; ``"3epochs"`` -> {"epochs": 3}."""
    match = re.fullmatch(r"\s*(\d+)\s*(steps?|epochs?)?\s*", text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"--budget {text!r} is not valid; give optimiser steps (4000, 4000steps) or epochs (3epochs)")
    unit = "epochs" if (match.group(2) or "").startswith("epoch") else "steps"
    return {unit: int(match.group(1))}


def parse_models(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    kinds = model_kinds()
    bad = [n for n in names if n not in kinds]
    if not names or bad or len(set(names)) != len(names):
        raise ValueError(f"--models {text!r} is not valid; give distinct names from {', '.join(kinds)}, "
                         "comma-separated")
    return names


def build_parser() -> argparse.ArgumentParser:
    from vlae_tf import presets
    from vlae_tf.config import DATASETS

    p = argparse.ArgumentParser(prog="vlae-compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=presets.DEFAULT_PRESET, help=f"one of: {', '.join(presets.names())}")
    p.add_argument("--models", default="vlae,hvae,vae", help=f"comma-separated from: {', '.join(model_kinds())}")
    p.add_argument("--budget", default="4000", help="per model: optimiser steps (4000) or epochs (3epochs)")
    p.add_argument("--out", default="runs/compare", help="folder for the runs and the comparison report")
    p.add_argument("--dataset", choices=DATASETS, help="override the preset's dataset")
    p.add_argument("--data-dir", help="npz file, image folder, or TFDS data_dir")
    p.add_argument("--seed", type=int, help="data and training seed, the same for every model")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="override a config field for every model (repeatable)")
    p.add_argument("--retrain", action="store_true",
                   help="delete each model's run folder under --out (<out>/<model>) and train it again")
    p.add_argument("--iw-samples", type=int, default=100, help="importance samples of the IWAE bound (0 skips)")
    p.add_argument("--iw-examples", type=int, default=500, help="images the IWAE bound is averaged over")
    p.add_argument("--max-examples", type=int, help="evaluate on the first N images of the test split")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the report")
    return p


def model_config(args, kind: str):
    from vlae_tf import presets
    from vlae_tf.config import parse_override

    overrides = dict(parse_override(text) for text in args.overrides)
    for key, value in (("data.dataset", args.dataset), ("data.data_dir", args.data_dir)):
        if value is not None:
            overrides[key] = value
    if args.seed is not None:
        overrides["data.seed"] = overrides["train.seed"] = args.seed
    if kind == "provlae":  # the preset's schedule unless --set gives one
        overrides, kind = {**presets.progressive_overrides(args.preset), **overrides}, "vlae"
    return presets.get(args.preset, **{**overrides, "model.kind": kind})  # the kind wins over a preset suffix


def main_args(argv=None) -> int:
    args = build_parser().parse_args(argv)
    names, budget = parse_models(args.models), parse_budget(args.budget)
    from vlae_tf import run_dir
    from vlae_tf.evaluation import comparison, figures, report
    from vlae_tf.evaluation.evaluate_run import EvalOptions
    from vlae_tf.io.run_model import load_model
    from vlae_tf.training.keras_fit import run_fit

    out = pathlib.Path(args.out)
    options = EvalOptions(max_examples=args.max_examples, iw_samples=args.iw_samples, iw_examples=args.iw_examples,
                          progress=not args.quiet)
    # Keras' step bar on a terminal; in a log file one line per epoch (its bar would write escape codes).
    fit_verbose = 0 if args.quiet else (1 if sys.stdout.isatty() else 2)

    def say(text):  # progress on stderr: stdout holds the report
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    results, extra, grids = {}, {}, {}
    for index, kind in enumerate(names, start=1):
        config, run = model_config(args, kind), out / kind
        tag = f"[{index}/{len(names)}] {kind}"  # which model of how many, on every progress line
        if args.retrain and (run / run_dir.CONFIG_FILE).exists():
            # run_fit would resume the finished run (and train nothing); only this --out folder's run is removed
            say(f"{tag}: --retrain removes {run}")
            shutil.rmtree(run)
        trained_before = (run / run_dir.MODEL_FILE).exists()
        if not trained_before:
            unit, amount = next(iter(budget.items()))
            say(f"{tag}: training {amount} {unit} into {run}")
        start = time.time()
        # A finished run of this configuration and budget returns at once; one of another configuration
        # (other --set, --seed or preset) is refused in one line, so old models are never reported as new ones.
        run_fit(config, str(run), epochs=budget.get("epochs"), steps=budget.get("steps"), verbose=fit_verbose)
        if not trained_before:
            (run / "train_time.json").write_text(json.dumps({"train_seconds": time.time() - start, **budget}))
        timing = run / "train_time.json"
        extra[kind] = json.loads(timing.read_text()) if timing.exists() else {}
        extra[kind]["train_steps"] = extra[kind].get("steps")
        say(f"{tag}: evaluating {run}")
        model = load_model(run)
        grids[kind] = figures.traversal_grids(model, report.figure_images(config, options.split))
        results[kind] = report.evaluate_run_folder(run, options, model=model, grids=grids[kind])
    text = comparison.markdown(results, f"{', '.join(names)} on {args.preset}, budget {args.budget} per model", extra)
    (out / "comparison.md").write_text(text)
    (out / "comparison.json").write_text(json.dumps({"models": names, "results": results, "training": extra,
                                                     "claims": comparison.claims(results)}, indent=2))
    figures.side_by_side_traversals(grids, out / "traversals.png")
    figures.kl_bars({k: r["kl_per_rung"] for k, r in results.items()}, out / "kl_per_rung.png")
    print(text)
    print(f"wrote {out}/comparison.md, comparison.json, traversals.png, kl_per_rung.png")
    return 0


def main(argv=None) -> int:
    import_tensorflow()
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
