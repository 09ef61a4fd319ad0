"""The input pipeline alone, per data source, in images per second (``vlae_tf.data.build_dataset``, exactly
what ``model.fit`` and the custom loop read).

    python -m benchmarks.pipeline

Sources, each at the batch size and image shape of the preset it feeds:

- ``npz``: the keras ``mnist.npz`` file (``../shared/datasets/mnist.npz``) with dynamic binarisation: the
  ``mnist`` preset's offline source.
- ``shapes``: the embedded procedural dataset, generated at the ``svhn`` preset's 32x32x3 (the SVHN TFDS
  files are not on this machine; ``shapes`` is the in-memory source of the same shape).
- ``folder``: a temporary folder of JPEGs at CelebA's native 178x218, decoded, resized by the shorter side
  and centre-cropped to the ``celeba`` preset's 64x64x3: the path of a user with an image folder.
- TFDS names (``mnist``, ``svhn_cropped``, ``celeb_a``) when ``--tfds-data-dir`` holds them prepared.

``first_epoch_images_per_s`` covers the first pass (file decoding, the shuffle buffer filling);
``images_per_s`` the steady state afterwards (a folder that fits in memory is cached after its first pass).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from vlae_tf import data, presets  # noqa: E402

MNIST_NPZ = pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist.npz"
CELEBA_NATIVE = (218, 178)  # (height, width) of an aligned CelebA image


def write_jpeg_folder(root, count: int, size=CELEBA_NATIVE, seed: int = 0) -> str:
    """``count`` smooth random RGB JPEGs of ``size`` (H, W) in ``root``; returns ``root``."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    for i in range(count):
        coarse = rng.integers(0, 256, (size[0] // 16 + 1, size[1] // 16 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size[1], size[0]), Image.BILINEAR)  # JPEG-like content
        image.save(os.path.join(root, f"{i:06d}.jpg"), quality=90)
    return str(root)


def sources(tmp: str, quick: bool, tfds_data_dir: str | None = None) -> dict:
    """name -> (preset it feeds, dotted overrides of that preset)."""
    out = {}
    if MNIST_NPZ.exists():
        out["npz"] = ("mnist", {"data.dataset": "npz", "data.data_dir": str(MNIST_NPZ)})
    out["shapes"] = ("svhn", {"data.dataset": "shapes", "data.num_train": 2000 if quick else 10000})
    folder = write_jpeg_folder(os.path.join(tmp, "jpegs"), 300 if quick else 1200)
    out["folder"] = ("celeba", {"data.dataset": "folder", "data.data_dir": folder})
    if tfds_data_dir:
        for preset, name in (("mnist", "mnist"), ("svhn", "svhn_cropped"), ("celeba", "celeb_a")):
            out[f"tfds:{name}"] = (preset, {"data.dataset": name, "data.data_dir": tfds_data_dir})
    return out


def time_source(config, batches: int) -> dict:
    """Images per second of the train pipeline of ``config``: first epoch, then ``batches`` steady batches."""
    train = data.build_dataset(config, "train")
    per_epoch = int(train.cardinality())
    iterator = iter(train.repeat())
    start = time.perf_counter()
    for _ in range(max(per_epoch, 1)):
        next(iterator)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(iterator)
    np.asarray(batch)
    steady = time.perf_counter() - start
    size = config.data.batch_size
    return {"batch_size": size, "image_shape": list(config.model.image_shape),
            "first_epoch_images_per_s": max(per_epoch, 1) * size / first, "images_per_s": batches * size / steady}


def measure(quick: bool = False, batches: int | None = None, tfds_data_dir: str | None = None) -> dict:
    """``{source: {"preset", "images_per_s", "first_epoch_images_per_s", ...}}`` for every source here."""
    batches = batches or (20 if quick else 100)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (preset, overrides) in sources(tmp, quick, tfds_data_dir).items():
            try:
                config = presets.get(preset, **overrides)
                results[name] = {"preset": preset, **time_source(config, batches)}
            except (data.DatasetUnavailableError, OSError, ValueError) as error:
                results[name] = {"preset": preset, "skipped": str(error).splitlines()[0][:200]}
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--batches", type=int)
    p.add_argument("--tfds-data-dir", help="a prepared TFDS data_dir: also time mnist, svhn_cropped, celeb_a")
    args = p.parse_args(argv)
    result = measure(args.quick, args.batches, args.tfds_data_dir)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
