"""``saved_model_cli``, which loads a SavedModel through the session-based loader TF Serving uses, sees exactly
the signatures we promise and runs them."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from export_helpers import IMAGE_SHAPE, LATENT_DIMS

CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
IMAGE = "(-1, " + ", ".join(map(str, IMAGE_SHAPE)) + ")"
SCALAR, SEED = "()", "(2)"  # inputs declare their shapes, so a client can read them from the metadata


def expected_signatures():
    images = {"images": ("DT_FLOAT", IMAGE)}
    encoded = {f"{kind}_{l}": ("DT_FLOAT", f"(-1, {d})") for l, d in enumerate(LATENT_DIMS, 1)
               for kind in ("mean", "stddev")}
    return {
        "serving_default": (images, {"reconstruction": ("DT_FLOAT", IMAGE)}),
        "encode": (images, encoded),
        "decode": ({f"z_{l}": ("DT_FLOAT", f"(-1, {d})") for l, d in enumerate(LATENT_DIMS, 1)}, images),
        "sample": ({"num_samples": ("DT_INT32", SCALAR), "seed": ("DT_INT32", SEED)}, images),
        "traverse": ({"rung": ("DT_INT32", SCALAR), "values": ("DT_FLOAT", "(-1)"), "seed": ("DT_INT32", SEED)},
                     images),
    }


def saved_model_cli(*args, cwd=None):
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=180, cwd=cwd,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def parse_show_all(text):
    """``{signature: (inputs, outputs)}``, each ``{name: (dtype, shape)}``, from ``saved_model_cli show --all``."""
    signatures, current, section, tensor = {}, None, None, None
    for line in text.split("Concrete Functions:")[0].splitlines():
        if m := re.match(r"signature_def\['(.+)'\]:", line):
            current = signatures.setdefault(m.group(1), ({}, {}))
        elif "following input(s)" in line:
            section = 0
        elif "following output(s)" in line:
            section = 1
        elif m := re.match(r"\s+(inputs|outputs)\['(.+)'\] tensor_info:", line):
            tensor = m.group(2)
        elif m := re.match(r"\s+dtype: (\w+)", line):
            dtype = m.group(1)
        elif m := re.match(r"\s+shape: (.+)", line):
            current[section][tensor] = (dtype, m.group(1).strip())
    signatures.pop("__saved_model_init_op", None)  # TF's own restore op, not a serving signature
    return signatures


def test_show_all_lists_exactly_our_signatures(exported):
    assert parse_show_all(saved_model_cli("show", "--all", "--dir", exported.path)) == expected_signatures()


@pytest.mark.slow
def test_run_serving_default_and_sample_through_the_session_loader(exported, tmp_path):
    images = np.random.default_rng(0).random((2, *IMAGE_SHAPE), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    saved_model_cli("run", "--dir", exported.path, "--tag_set", "serve", "--signature_def", "serving_default",
                    "--inputs", f"images={tmp_path / 'images.npy'}", "--outdir", str(tmp_path / "rec"))
    reconstruction = np.load(tmp_path / "rec" / "reconstruction.npy")
    assert reconstruction.shape == (2, *IMAGE_SHAPE) and reconstruction.dtype == np.float32
    np.testing.assert_allclose(reconstruction, exported.model.reconstruct(images), atol=1e-6)

    saved_model_cli("run", "--dir", exported.path, "--tag_set", "serve", "--signature_def", "sample",
                    "--input_exprs", "num_samples=3;seed=[1,2]", "--outdir", str(tmp_path / "sample"))
    samples = np.load(tmp_path / "sample" / "images.npy")
    assert samples.shape == (3, *IMAGE_SHAPE) and samples.dtype == np.float32
    assert 0.0 <= samples.min() and samples.max() <= 1.0
