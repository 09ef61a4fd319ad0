"""Shared fixtures: quiet TensorFlow, a fresh float32 policy per test, the shared MNIST file."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

MNIST_NPZ = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"


@pytest.fixture(autouse=True)
def _float32_policy():
    """Tests that switch to mixed precision must not leak the policy into the next test."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def mnist_npz():
    if not MNIST_NPZ.exists():
        pytest.skip(f"real MNIST not found at {MNIST_NPZ}")
    return str(MNIST_NPZ)
