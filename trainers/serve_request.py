"""``vlae-serve-request``: send one request to a model served by TF Serving and show or save the answer.

    vlae-serve-request --model vlae_mnist --images digits.npz --count 4 --png recon.png
    vlae-serve-request --model vlae_mnist --signature sample --num-samples 16 --seed 1 2 --png samples.png
    vlae-serve-request --model vlae_mnist --signature traverse --rung 3 --values -2 -1 0 1 2 --png rung3.png
    vlae-serve-request --model vlae_mnist --signature encode --images digits.npz --protocol grpc --out codes.npz
    vlae-serve-request --model vlae_mnist --signature decode --codes codes.npz --out images.npz

``--images`` takes a .npy or .npz array (``x_test``, ``x`` or the first array; uint8 is scaled to [0, 1]) or
image files. REST goes to port 8501, gRPC to 8500, unless ``--port`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys

from .common import import_tensorflow, run_cli

SIGNATURES = ("serving_default", "encode", "decode", "sample", "traverse")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vlae-serve-request", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="the name TF Serving serves the model under")
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, help="default: 8501 for REST, 8500 for gRPC")
    p.add_argument("--protocol", choices=("rest", "grpc"), default="rest")
    p.add_argument("--form", choices=("inputs", "instances"), default="inputs", help="REST body form")
    p.add_argument("--version", type=int, help="a specific model version (default: what the server picks)")
    p.add_argument("--signature", choices=SIGNATURES, default="serving_default")
    p.add_argument("--images", nargs="+", help="serving_default/encode: a .npy/.npz array or image files")
    p.add_argument("--count", type=int, default=8, help="images taken from an array file (default 8)")
    p.add_argument("--codes", help="decode: .npz with z_1 .. z_L, e.g. the --out of an encode request")
    p.add_argument("--num-samples", type=int, default=8, help="sample: images to draw (default 8)")
    p.add_argument("--seed", type=int, nargs=2, default=(0, 0), help="sample/traverse: two ints (default 0 0)")
    p.add_argument("--rung", type=int, help="traverse: the rung, 1 (nearest the pixels) .. L")
    p.add_argument("--values", type=float, nargs="+", default=(-2.0, -1.0, 0.0, 1.0, 2.0),
                   help="traverse: values each dimension sweeps (default -2 -1 0 1 2)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds")
    p.add_argument("--out", help="save every output to this .npz")
    p.add_argument("--png", help="save the output images as one tiled PNG")
    return p


def load_images(paths, count: int):
    """float32 [N, H, W, C] in [0, 1] from one array file or several image files."""
    import numpy as np

    if len(paths) == 1 and paths[0].endswith((".npy", ".npz")):
        loaded = np.load(paths[0])
        if paths[0].endswith(".npz"):
            key = next((k for k in ("x_test", "x", "images") if k in loaded.files), loaded.files[0])
            loaded = loaded[key]
        images = np.asarray(loaded)[:count]
    else:
        from PIL import Image

        images = np.stack([np.asarray(Image.open(p)) for p in paths])
    if images.ndim == 3:
        images = images[..., None]  # [N, H, W] grayscale
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


def build_inputs(args) -> dict:
    import numpy as np

    if args.signature in ("serving_default", "encode"):
        if not args.images:
            raise ValueError(f"--signature {args.signature} needs --images")
        return {"images": load_images(args.images, args.count)}
    if args.signature == "decode":
        if not args.codes:
            raise ValueError("--signature decode needs --codes (an .npz with z_1 .. z_L)")
        codes = np.load(args.codes)
        zs = {k: codes[k] for k in codes.files if k.startswith("z_")}
        if not zs:  # an encode answer: decode its means
            zs = {"z_" + k[len("mean_"):]: codes[k] for k in codes.files if k.startswith("mean_")}
        if not zs:
            raise ValueError(f"{args.codes} holds neither z_1 .. z_L nor mean_1 .. mean_L")
        return zs
    if args.signature == "sample":
        return {"num_samples": args.num_samples, "seed": list(args.seed)}
    if args.rung is None:
        raise ValueError("--signature traverse needs --rung")
    return {"rung": args.rung, "values": list(args.values), "seed": list(args.seed)}


def main_args(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from vlae_tf import serving

    inputs = build_inputs(args)
    port = args.port or (serving.REST_PORT if args.protocol == "rest" else serving.GRPC_PORT)
    address = f"{args.host}:{port}"
    try:
        if args.protocol == "rest":
            outputs = serving.predict_rest(address, args.model, inputs, args.signature, args.version, args.form,
                                           args.timeout)
        else:
            request = serving.grpc_request(args.model, inputs, args.signature, args.version)
            outputs = serving.predict_grpc(address, request, args.timeout)
    except (serving.ServingError, OSError) as err:  # refused requests, unreachable servers
        print(f"error: {args.protocol} request to {address} failed: {err}", file=sys.stderr)
        return 1
    for name in sorted(outputs):
        value = outputs[name]
        print(f"{name}: shape {list(value.shape)} {value.dtype} range [{value.min():.4g}, {value.max():.4g}]")
    if args.out:
        import numpy as np

        np.savez(args.out, **outputs)
    if args.png:
        from vlae_tf import visualize

        images = outputs.get("reconstruction", outputs.get("images"))
        if images is None:
            raise ValueError(f"--png needs an image output; {args.signature} returned {sorted(outputs)}")
        cols = len(args.values) if args.signature == "traverse" else None
        visualize.save_png(visualize.tile(images, cols, padding=1), args.png)
    return 0


def main(argv=None) -> int:
    import_tensorflow()
    return run_cli(main_args, argv)


if __name__ == "__main__":
    sys.exit(main())
