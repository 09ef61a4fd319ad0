"""Every signature, run in a fresh process that cannot import vlae_tf, matches the Keras model."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from vlae_tf import export, visualize
from vlae_tf.models import VLAE

from export_helpers import IMAGE_SHAPE, LATENT_DIMS, tiny_config

# Runs requests "label|signature|input" from an npz against a SavedModel, with vlae_tf made unimportable,
# then replays the warm-up file; writes "label|output" arrays.
CHILD = textwrap.dedent("""
    import importlib.abc, os, sys

    class NoVlae(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "vlae_tf":
                raise ImportError("vlae_tf is not importable in this process")

    sys.meta_path.insert(0, NoVlae())
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    export_dir, requests_path, out_path = sys.argv[1:]
    try:
        import vlae_tf
        sys.exit("vlae_tf should not be importable here")
    except ImportError:
        pass
    loaded = tf.saved_model.load(export_dir)
    requests = {}
    with np.load(requests_path) as data:
        for key in data.files:
            label, signature, name = key.split("|")
            requests.setdefault((label, signature), {})[name] = tf.constant(data[key])
    results = {}
    for (label, signature), inputs in requests.items():
        for name, value in loaded.signatures[signature](**inputs).items():
            results[f"{label}|{name}"] = value.numpy()
    warmup = os.path.join(export_dir, "assets.extra", "tf_serving_warmup_requests")
    for i, record in enumerate(tf.data.TFRecordDataset(warmup).as_numpy_iterator()):
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        for name, value in loaded.signatures[request.model_spec.signature_name](**inputs).items():
            results[f"warmup{i}:{request.model_spec.signature_name}|{name}"] = value.numpy()
    assert not any(m.split(".")[0] == "vlae_tf" for m in sys.modules)
    np.savez(out_path, **results)
""")


def run_without_vlae_tf(tmp_path, export_dir, requests):
    """``{label|output: array}`` from ``requests`` = ``{label: (signature, inputs)}``, run in a fresh process."""
    flat = {f"{label}|{sig}|{name}": np.asarray(value) for label, (sig, inputs) in requests.items()
            for name, value in inputs.items()}
    np.savez(tmp_path / "requests.npz", **flat)
    (tmp_path / "child.py").write_text(CHILD)
    proc = subprocess.run([sys.executable, "-I", str(tmp_path / "child.py"), str(export_dir),
                           str(tmp_path / "requests.npz"), str(tmp_path / "out.npz")],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp_path / "out.npz") as out:
        return {key: out[key] for key in out.files}


def test_every_signature_runs_without_vlae_tf_and_matches_keras(exported, tmp_path):
    model = exported.model
    rng = np.random.default_rng(0)
    images = rng.random((3, *IMAGE_SHAPE), dtype=np.float32)
    zs = {f"z_{l}": rng.standard_normal((3, d)).astype(np.float32) for l, d in enumerate(LATENT_DIMS, 1)}
    values = np.array([-1.5, 0.0, 2.0], np.float32)
    seed_a, seed_b = np.array([3, 4], np.int32), np.array([5, 6], np.int32)
    out = run_without_vlae_tf(tmp_path, exported.path, {
        "rec": ("serving_default", {"images": images}),
        "enc": ("encode", {"images": images}),
        "dec": ("decode", zs),
        "sample_a": ("sample", {"num_samples": np.int32(5), "seed": seed_a}),
        "sample_a2": ("sample", {"num_samples": np.int32(5), "seed": seed_a}),
        "sample_b": ("sample", {"num_samples": np.int32(5), "seed": seed_b}),
        "trav_a": ("traverse", {"rung": np.int32(2), "values": values, "seed": seed_a}),
        "trav_a2": ("traverse", {"rung": np.int32(2), "values": values, "seed": seed_a}),
        "trav_top": ("traverse", {"rung": np.int32(3), "values": values, "seed": seed_b}),
    })
    np.testing.assert_array_equal(out["rec|reconstruction"], model.reconstruct(images))
    for l, (mean, stddev) in enumerate(model.encode(images), start=1):
        np.testing.assert_array_equal(out[f"enc|mean_{l}"], mean)
        np.testing.assert_array_equal(out[f"enc|stddev_{l}"], stddev)
    np.testing.assert_array_equal(out["dec|images"], model.decode(list(zs.values())))

    # sample: reproducible, seed-dependent, and the same prior draws as model.generate
    assert out["sample_a|images"].shape == (5, *IMAGE_SHAPE)
    np.testing.assert_array_equal(out["sample_a|images"], out["sample_a2|images"])
    assert np.abs(out["sample_a|images"] - out["sample_b|images"]).max() > 1e-4
    np.testing.assert_array_equal(out["sample_a|images"], model.generate(5, seed=tf.constant(seed_a)))

    # traverse: reproducible, and tiled K wide it is visualize.traversal_grid(mode="dims") on the same rows
    rows = exported.traverse_rows
    assert out["trav_a|images"].shape == (LATENT_DIMS[1] * rows * len(values), *IMAGE_SHAPE)
    np.testing.assert_array_equal(out["trav_a|images"], out["trav_a2|images"])
    for key, rung, seed in (("trav_a", 2, seed_a), ("trav_top", 3, seed_b)):
        codes = [c.numpy() for c in export.row_codes(tf.constant(seed), LATENT_DIMS, rows)]
        grid = visualize.traversal_grid(model, rung, mode="dims", values=values, row_codes=codes)
        np.testing.assert_allclose(visualize.tile(out[f"{key}|images"], len(values)), grid, atol=1e-6)

    # the warm-up file: one runnable request per signature
    replayed = sorted(key.split(":")[1].split("|")[0] for key in out if key.startswith("warmup"))
    assert sorted(set(replayed)) == sorted(export.NAMES)
    assert out["warmup0:serving_default|reconstruction"].shape == (1, *IMAGE_SHAPE)


def test_warmup_file_holds_one_predictionlog_per_signature(exported):
    requests = export.read_warmup(exported.path)
    assert [sig for sig, _ in requests] == list(export.NAMES)
    decode_inputs = dict(requests)["decode"]
    assert {k: v.shape for k, v in decode_inputs.items()} == {f"z_{l}": (1, d) for l, d in enumerate(LATENT_DIMS, 1)}
    assert dict(requests)["sample"]["seed"].dtype == np.int32


def test_a_mixed_precision_model_exports_as_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(2)
    mixed = VLAE(tiny_config())
    assert mixed.rungs[0].compute_dtype == "bfloat16"
    copy = export.float32_copy(mixed)
    assert keras.config.dtype_policy().name == "mixed_bfloat16"  # the caller's policy is left alone
    assert all(layer.compute_dtype == "float32" for layer in copy._flatten_layers())
    for a, b in zip(mixed.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(a, b)
    images = np.random.default_rng(1).random((2, *IMAGE_SHAPE), dtype=np.float32)
    out = copy.reconstruct(images)
    assert out.dtype == tf.float32
    # bfloat16 keeps 8 significant bits, so each layer that computes in it (one per kernel, at most the
    # path's depth) adds a relative error of at most 2^-8 to the logits, and to first order these add up:
    # |d logit| <= depth * 2^-8 * |logit|. The image is sigmoid(logit), whose change is then at most
    # max_l sigmoid'(l) |l| (0.224, at l = 1.54) times that.
    depth = sum(1 for layer in mixed._flatten_layers() if getattr(layer, "kernel", None) is not None)
    np.testing.assert_allclose(out, mixed.reconstruct(images), atol=0.224 * depth * 2.0 ** -8)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hvae", "vae"])
def test_the_baselines_export_with_the_same_signatures(kind, tmp_path):
    from vlae_tf.io import run_model

    keras.utils.set_random_seed(3)
    model = run_model.build_model(tiny_config(**{"model.kind": kind}))
    loaded = tf.saved_model.load(export.save(model, tmp_path / kind, warmup=False))
    assert sorted(loaded.signatures) == sorted(export.NAMES)
    images = np.random.default_rng(2).random((2, *IMAGE_SHAPE), dtype=np.float32)
    np.testing.assert_array_equal(loaded.signatures["serving_default"](images=images)["reconstruction"],
                                  model.reconstruct(images))
    seed = tf.constant([1, 2])
    np.testing.assert_array_equal(loaded.signatures["sample"](num_samples=tf.constant(3), seed=seed)["images"],
                                  model.generate(3, seed=seed))
    dims = model.config.model.latent_dims
    grid = loaded.signatures["traverse"](rung=tf.constant(len(dims)), values=tf.constant([0.0, 1.0]), seed=seed)
    assert grid["images"].shape == (dims[-1] * export.DEFAULT_TRAVERSE_ROWS * 2, *IMAGE_SHAPE)
