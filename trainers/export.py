"""``vlae-export``: a trained run as a SavedModel version that TF Serving loads, in ``<base-dir>/<name>/<version>/``.

    vlae-export --run runs/mnist --name vlae_mnist                  # -> saved_models/vlae_mnist/<next>/
    vlae-export --run runs/mnist --checkpoint runs/mnist/checkpoints/ckpt-3 --name vlae_mnist --version 7
    vlae-export --run runs/mnist --name vlae_mnist --max-samples 256 --traverse-rows 4

Versions are never overwritten; a version is written under a temporary name and renamed when complete.
Signatures: serving_default (reconstruct), encode, decode, sample, traverse (see saved_models/README.md).
"""

from __future__ import annotations

import argparse
import os
import sys

from .common import import_tensorflow, run_cli


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vlae-export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder written by vlae-train")
    p.add_argument("--checkpoint", help="a .keras file or tf.train checkpoint prefix (default: the run's final "
                                        "model.keras, else its newest checkpoint)")
    p.add_argument("--name", required=True, help="model name: TF Serving serves it as /v1/models/<name>")
    p.add_argument("--base-dir", default="saved_models", help="folder holding one folder per model name")
    p.add_argument("--version", type=int, help="version number (default: the next free one)")
    p.add_argument("--max-samples", type=int, default=1024,
                   help="most images one sample/traverse request may ask for (default 1024)")
    p.add_argument("--traverse-rows", type=int, default=8, help="random row codes per traversal (default 8)")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="skip assets.extra/tf_serving_warmup_requests")
    return p


def main_args(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not args.name or os.sep in args.name or args.name in (".", ".."):
        raise ValueError(f"--name {args.name!r} must be a plain folder name such as vlae_mnist")
    if not os.path.isdir(args.run):
        raise FileNotFoundError(f"run folder {args.run} not found")
    from vlae_tf import export
    from vlae_tf.io import run_model

    model = run_model.load_model(args.run, args.checkpoint)
    path = export.save(model, os.path.join(args.base_dir, args.name), args.version, max_samples=args.max_samples,
                       traverse_rows=args.traverse_rows, warmup=args.warmup)
    print(path)
    return 0


def main(argv=None) -> int:
    import_tensorflow()
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
