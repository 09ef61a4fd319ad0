"""``vlae-train``: train a VLAE (or a baseline) from a preset, with ``model.fit`` or the custom loop.

    vlae-train --preset shapes --out runs/demo --epochs 8
    vlae-train --preset mnist --dataset npz --data-dir ../shared/datasets/mnist.npz --steps 200
    vlae-train --preset mnist --set model.beta=2.0 --set model.combine=gated_add
    vlae-train --loop custom --strategy mirrored --precision mixed_float16 --out runs/mnist
"""

from __future__ import annotations

import argparse
import sys

from .common import import_tensorflow, run_cli


def build_parser() -> argparse.ArgumentParser:
    from vlae_tf import presets
    from vlae_tf.config import DATASETS, PRECISIONS

    p = argparse.ArgumentParser(prog="vlae-train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=presets.DEFAULT_PRESET, help=f"one of: {', '.join(presets.names())}")
    p.add_argument("--dataset", choices=DATASETS, help="override the preset's dataset")
    p.add_argument("--data-dir", help="npz file, image folder, or TFDS data_dir")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    p.add_argument("--steps", type=int, help="total optimiser steps (overrides --epochs)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", default="runs/default", help="run folder (config, model, checkpoints, logs, images)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="override any config field, e.g. --set model.beta=2.0 (repeatable)")
    p.add_argument("--loop", choices=("fit", "custom"), default="fit", help="model.fit or the custom tf.function loop")
    p.add_argument("--strategy", choices=("default", "mirrored", "multi_worker"), default="default",
                   help="custom loop only: tf.distribute strategy (multi_worker reads TF_CONFIG)")
    p.add_argument("--precision", choices=PRECISIONS, help="float32 | mixed_float16 | mixed_bfloat16")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue from the run folder's last checkpoint when there is one (default)")
    p.add_argument("--demo", action="store_true", help="after training, report what each rung captured")
    return p


def config_from_args(args):
    from vlae_tf import presets
    from vlae_tf.config import parse_override

    overrides = dict(parse_override(text) for text in args.overrides)
    for key, value in (("data.dataset", args.dataset), ("data.data_dir", args.data_dir),
                       ("data.batch_size", args.batch_size), ("train.precision", args.precision)):
        if value is not None:
            overrides[key] = value
    if args.seed is not None:
        overrides["data.seed"] = overrides["train.seed"] = args.seed
    if args.epochs is not None:
        overrides["train.epochs"] = args.epochs
    return presets.get(args.preset, **overrides)


def main_args(argv=None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    if args.loop == "custom":
        from vlae_tf.training import run_custom

        metrics = run_custom(config, args.out, strategy=args.strategy, resume=args.resume, steps=args.steps)
    else:
        from vlae_tf.training.keras_fit import run_fit

        metrics = run_fit(config, args.out, epochs=args.epochs, steps=args.steps, verbose=2)
    from vlae_tf.training.keras_fit import summary_lines

    if metrics is not None:  # non-chief multi-worker processes report nothing
        print("\n".join(summary_lines(args.out, metrics, config.model.num_rungs)))
    if args.demo:
        from . import demo_report

        demo_report.print_report(config, args.out)
    return 0


def main(argv=None) -> int:
    import_tensorflow()  # before anything imports vlae_tf, so the CUDA-stub noise stays hidden
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
