"""Shared fixtures: quiet TensorFlow, a fixed random state and a fresh float32 policy per test, the shared
MNIST file."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

MNIST_NPZ = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist.npz"
# The state every test starts from; tests that build a model still seed it themselves, next to the model.
TEST_SEED = 20170301


@pytest.fixture(autouse=True)
def _fixed_random_state():
    """Every test starts from the same random state, whatever ran before it in this process (an xdist
    worker runs an arbitrary share of the suite, in an arbitrary order).

    Keras 3 draws an initializer's seed from Python's ``random`` when none is given, and dropout or input
    noise from its global SeedGenerator; ``set_random_seed`` resets those, NumPy's and TF's global seeds.
    ``clear_session`` restarts layer-name counters and Keras' global state first (without its
    ``gc.collect()``, which costs ~0.3 s per test here and buys no determinism). pytest-randomly, when
    enabled, reseeds ``random`` and NumPy again at call time: a test that passes only under this seed
    and not under its reseeding builds something unseeded.
    """
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(TEST_SEED)
    yield


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
