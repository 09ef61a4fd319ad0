"""``vlae-train``: train a VLAE (or a baseline) from a preset, with ``model.fit`` or the custom loop.

    vlae-train --preset shapes --out runs/demo --epochs 8
    vlae-train --preset mnist --dataset npz --data-dir ../shared/datasets/mnist.npz --steps 200
    vlae-train --preset mnist --set model.beta=2.0 --set model.combine=gated_add
    vlae-train --loop custom --strategy mirrored --precision mixed_float16 --out runs/mnist

A run folder is used by one run at a time and resumed when it holds a run: --steps / --epochs are the run's
total, so the same command again continues an interrupted run and does nothing on a finished one (README.md,
"Run folders: resume and locking").
"""

from __future__ import annotations

import argparse
import sys

from .common import import_tensorflow, run_cli

# Spelled out here rather than imported: importing vlae_tf imports TensorFlow (seconds), and --help and
# argument errors should answer at once. tests/trainers/test_train_cli.py checks them against the library.
DEFAULT_PRESET = "shapes"
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("default", "mirrored", "multi_worker")
LOOPS = ("fit", "custom")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vlae-train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help=f"preset name (default {DEFAULT_PRESET}); an unknown name lists the valid ones")
    p.add_argument("--dataset", help="override the preset's dataset (shapes, mnist, npz, folder, ...; a wrong name "
                                     "lists the valid ones)")
    p.add_argument("--data-dir", help="npz file, image folder, or TFDS data_dir")
    p.add_argument("--epochs", type=int, help="epochs in all (default: the preset's)")
    p.add_argument("--steps", type=int, help="optimizer steps in all, resumed runs included (overrides --epochs)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", default="runs/default", help="run folder (config, model, checkpoints, logs, images)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="override any config field, e.g. --set model.beta=2.0 (repeatable)")
    p.add_argument("--loop", choices=LOOPS, default="fit", help="model.fit or the custom tf.function loop")
    p.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="tf.distribute strategy for either loop (multi_worker reads TF_CONFIG; custom loop only)")
    p.add_argument("--precision", choices=PRECISIONS + ("auto",),
                   help="float32 | mixed_float16 | mixed_bfloat16 | auto (mixed_float16 on a GPU, mixed_bfloat16 on "
                        "a CPU with native bfloat16, else float32; the choice is stored in config.json)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue the run in --out when there is one (default); --no-resume refuses a folder "
                        "that holds a run")
    p.add_argument("--demo", action="store_true", help="after training, report what each rung captured")
    return p


def check_args(args) -> None:
    """The checks that need no library: they fail before TensorFlow is imported."""
    for name in ("steps", "epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} {value} is not valid; give a positive number")
    if args.strategy == "multi_worker" and args.loop == "fit":
        raise ValueError("--strategy multi_worker needs --loop custom: model.fit does not run under "
                         "MultiWorkerMirroredStrategy in Keras 3")


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
    check_args(args)
    # The library is imported only now (see the constants above); TensorFlow first, quietly.
    import_tensorflow()
    from vlae_tf.training import run_custom
    from vlae_tf.training.keras_fit import run_fit, summary_lines
    from vlae_tf.training.precision import fastest_precision

    if args.precision == "auto":
        args.precision = fastest_precision()
        print(f"--precision auto: {args.precision}")
    config = config_from_args(args)
    if args.loop == "custom":
        metrics = run_custom(config, args.out, strategy=args.strategy, resume=args.resume, steps=args.steps)
    else:
        metrics = run_fit(config, args.out, steps=args.steps, verbose=2, strategy=args.strategy,
                          resume=args.resume)
    if metrics is not None:  # non-chief multi-worker processes report nothing
        print("\n".join(summary_lines(args.out, metrics, config.model.num_rungs)))
    if args.demo:
        from . import demo_report

        demo_report.print_report(config, args.out)
    return 0


def main(argv=None) -> int:
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
