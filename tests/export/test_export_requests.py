"""Bad requests get a clear InvalidArgumentError from the signature itself, both through TF Serving's
session path and through ``tf.saved_model.load``; good ones survive concurrent callers."""

import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from export_helpers import IMAGE_SHAPE, LATENT_DIMS

H, W, C = IMAGE_SHAPE
GOOD_IMAGES = np.full((2, H, W, C), 0.5, np.float32)
SEED = np.array([1, 2], np.int32)


def zs(**changes):
    codes = {f"z_{l}": np.zeros((2, d), np.float32) for l, d in enumerate(LATENT_DIMS, 1)}
    return {**codes, **changes}


IMAGES_SHAPE = f"images must be float32 [N, {H}, {W}, {C}] with N >= 1"
BAD_REQUESTS = [  # (signature, inputs, what the error must say); the fixture's max_samples is 64
    ("serving_default", {"images": GOOD_IMAGES[0]}, IMAGES_SHAPE),  # rank 3
    ("serving_default", {"images": GOOD_IMAGES[None]}, IMAGES_SHAPE),  # rank 5
    ("serving_default", {"images": np.zeros((2, H + 4, W, C), np.float32)}, IMAGES_SHAPE),
    ("serving_default", {"images": np.zeros((2, H, W - 8, C), np.float32)}, IMAGES_SHAPE),
    ("serving_default", {"images": np.zeros((2, H, W, 1), np.float32)}, IMAGES_SHAPE),
    ("serving_default", {"images": np.zeros((0, H, W, C), np.float32)}, IMAGES_SHAPE),
    ("serving_default", {"images": GOOD_IMAGES * 255}, "images must lie in [0, 1]"),
    ("serving_default", {"images": np.full((1, H, W, C), np.nan, np.float32)}, "images must lie in [0, 1]"),
    ("encode", {"images": np.zeros((2, H, W), np.float32)}, "encode: " + IMAGES_SHAPE),
    ("decode", zs(z_2=np.zeros((2, LATENT_DIMS[1] + 1), np.float32)), f"z_2 must be float32 [N, {LATENT_DIMS[1]}]"),
    ("decode", zs(z_1=np.zeros((LATENT_DIMS[0],), np.float32)), f"z_1 must be float32 [N, {LATENT_DIMS[0]}]"),
    ("decode", zs(z_3=np.zeros((3, LATENT_DIMS[2]), np.float32)), "every z_l must have the same N"),
    ("decode", zs(z_1=np.full((2, LATENT_DIMS[0]), np.inf, np.float32)), "z_1 must be finite"),
    ("sample", {"num_samples": np.int32(65), "seed": SEED}, "num_samples must lie in [1, 64]"),
    ("sample", {"num_samples": np.int32(2 ** 30), "seed": SEED}, "num_samples must lie in [1, 64]"),
    ("sample", {"num_samples": np.int32(-3), "seed": SEED}, "num_samples must lie in [1, 64]"),
    ("sample", {"num_samples": np.array([4], np.int32), "seed": SEED}, "num_samples must be a scalar int32"),
    ("sample", {"num_samples": np.int32(4), "seed": np.array([1, 2, 3], np.int32)}, "seed must be int32 [2]"),
    ("sample", {"num_samples": np.int32(4), "seed": np.int32(7)}, "seed must be int32 [2]"),
    ("traverse", {"rung": np.int32(0), "values": np.zeros(3, np.float32), "seed": SEED}, "rung must lie in [1, 3]"),
    ("traverse", {"rung": np.int32(4), "values": np.zeros(3, np.float32), "seed": SEED}, "rung must lie in [1, 3]"),
    ("traverse", {"rung": np.int32(1), "values": np.zeros(0, np.float32), "seed": SEED}, "non-empty list"),
    ("traverse", {"rung": np.int32(1), "values": np.zeros((2, 2), np.float32), "seed": SEED},
     "values must be float32 [K]"),
    ("traverse", {"rung": np.int32(1), "values": np.array([0, np.nan], np.float32), "seed": SEED}, "finite"),
    ("traverse", {"rung": np.int32(3), "values": np.zeros(9, np.float32), "seed": SEED}, "max_samples=64"),
    ("traverse", {"rung": np.int32(1), "values": np.zeros(3, np.float32), "seed": SEED[:1]}, "seed must be int32 [2]"),
    # several faults: the first check in input order reports, every time
    ("traverse", {"rung": np.int32(9), "values": np.zeros(0, np.float32), "seed": SEED[:1]}, "rung must lie in"),
    ("decode", zs(z_1=np.zeros((5,), np.float32), z_3=np.zeros((4, 1), np.float32)), "z_1 must be float32"),
]


def loaded_run(loaded, signature, inputs):
    return loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})


@pytest.mark.parametrize("path", ["tf_serving_session", "saved_model_load"])
def test_bad_requests_fail_with_a_clear_invalid_argument_error(path, session_server, loaded):
    for signature, inputs, message in BAD_REQUESTS:
        with pytest.raises(tf.errors.InvalidArgumentError) as err:
            if path == "tf_serving_session":
                session_server.run(signature, inputs)
            else:
                loaded_run(loaded, signature, inputs)
        assert message in err.value.message, (signature, {k: np.shape(v) for k, v in inputs.items()}, err.value.message)
        assert f"{signature}: " in err.value.message  # the error names the signature it came from


def test_a_wrong_dtype_is_refused_before_the_signature_runs(session_server, loaded):
    # TF Serving's REST API converts JSON numbers to the declared dtype; a gRPC tensor of another dtype is
    # refused by the session's argument check with an InvalidArgumentError naming both dtypes.
    for inputs, message in (({"images": (GOOD_IMAGES * 255).astype(np.uint8)}, "float but uint8"),
                            ({"images": GOOD_IMAGES.astype(np.float64)}, "float but double")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            session_server.run("serving_default", inputs)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32 but int64"):
        session_server.run("sample", {"num_samples": np.int64(2), "seed": SEED})
    with pytest.raises(tf.errors.InvalidArgumentError, match="float tensor but is a uint8 tensor"):
        loaded_run(loaded, "serving_default", {"images": GOOD_IMAGES.astype(np.uint8)})


def test_the_session_path_gives_the_same_answers(session_server, loaded):
    traverse = {"rung": np.int32(2), "values": np.array([-1, 1], np.float32), "seed": SEED}
    for signature, inputs in (("serving_default", {"images": GOOD_IMAGES}),
                              ("sample", {"num_samples": np.int32(3), "seed": SEED}), ("traverse", traverse)):
        expected = loaded_run(loaded, signature, inputs)
        got = session_server.run(signature, inputs)
        assert sorted(got) == sorted(expected)
        for name in got:
            np.testing.assert_allclose(got[name], expected[name], atol=1e-6)


def test_eight_threads_calling_serving_default_get_correct_answers(loaded, exported):
    rng = np.random.default_rng(0)
    batches = [rng.random((4, H, W, C), dtype=np.float32) for _ in range(8)]
    expected = [exported.model.reconstruct(b).numpy() for b in batches]
    fn = loaded.signatures["serving_default"]
    calls, errors = [0] * 8, []
    deadline = time.monotonic() + 2.5

    def worker(i):
        try:
            while time.monotonic() < deadline:
                got = fn(images=tf.constant(batches[i]))["reconstruction"].numpy()
                np.testing.assert_allclose(got, expected[i], atol=1e-6)
                calls[i] += 1
        except Exception as err:  # noqa: BLE001 - reported below, with the thread it came from
            errors.append((i, err))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    assert all(n > 0 for n in calls), calls
