"""``vlae-eval``: measure what each rung of a trained run learned; writes eval.json, eval.md and figures.

    vlae-eval --run runs/demo
    vlae-eval --run runs/mnist --split test --iw-samples 1000 --iw-examples 200
"""

from __future__ import annotations

import argparse
import sys

from .common import import_tensorflow, run_cli


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vlae-eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder written by vlae-train (config.json, model.keras)")
    p.add_argument("--split", choices=("test", "train"), default="test")
    p.add_argument("--checkpoint", help="a .keras file or tf.train checkpoint prefix (default: the run's model)")
    p.add_argument("--max-examples", type=int, help="evaluate the first N images of the split (default: all)")
    p.add_argument("--iw-samples", type=int, default=100,
                   help="importance samples K of the IWAE bound; 0 skips it (K=1000 fits, it is slower)")
    p.add_argument("--iw-examples", type=int, default=500, help="images the IWAE bound is averaged over")
    p.add_argument("--probe-train-examples", type=int, default=10000,
                   help="training images whose codes fit the label probes (labelled data only); with "
                        "--split train the probes fit these from 80%% of the evaluated images and are scored "
                        "on the other 20%%, never on images they were fitted on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the report")
    return p


def main_args(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from vlae_tf.evaluation.evaluate_run import EvalOptions
    from vlae_tf.evaluation import report

    options = EvalOptions(split=args.split, max_examples=args.max_examples, iw_samples=args.iw_samples,
                          iw_examples=args.iw_examples, probe_train_examples=args.probe_train_examples,
                          seed=args.seed, progress=not args.quiet)
    result = report.evaluate_run_folder(args.run, options, args.checkpoint)
    print(report.markdown(result))
    print(f"wrote {args.run}/{report.EVAL_JSON}, {args.run}/{report.EVAL_MD} and {args.run}/{report.FIGURE_DIR}/*.png")
    return 0


def main(argv=None) -> int:
    import_tensorflow()
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
