"""Tests for probes.py: perfect on separable codes, chance on noise."""

import numpy as np
import pytest

from vlae_tf.evaluation import probes

from .tolerances import binomial_bound

# Blob centres lie 5 sqrt(2) = 7.1 apart, 0.3 spread: a point crosses half way at 11.8 sd (P ~ 1e-32), so
# the Bayes error is 0 and a working probe scores exactly 1.

def _blobs(rng, n, num_classes=3, dims=4, spread=0.3):
    labels = rng.integers(0, num_classes, size=n)
    centres = 5.0 * np.eye(num_classes, dims)
    return centres[labels] + spread * rng.normal(size=(n, dims)), labels


def test_separable_codes_are_decoded_perfectly():
    rng = np.random.default_rng(0)
    x_train, y_train = _blobs(rng, 600)
    x_test, y_test = _blobs(rng, 400)
    result = probes.probe_accuracy(x_train, y_train, x_test, y_test)
    assert result["logistic"] == 1.0
    assert result["knn"] == 1.0
    assert 1 / 3 <= result["chance"] < 1 / 3 + binomial_bound(1 / 3, 400)  # the largest of 3 uniform classes


def test_noise_codes_decode_at_chance():
    rng = np.random.default_rng(1)
    x_train, x_test = rng.normal(size=(2000, 4)), rng.normal(size=(2000, 4))
    y_train, y_test = rng.integers(0, 4, size=2000), rng.integers(0, 4, size=2000)
    result = probes.probe_accuracy(x_train, y_train, x_test, y_test)
    assert 0.25 <= result["chance"] < 0.25 + binomial_bound(0.25, 2000)
    # Whatever a probe predicts from noise, each test label is uniform on 4 classes and independent of
    # it: every answer is right with probability 1/4, so accuracy is Binomial(2000, 1/4) / 2000.
    for name in ("logistic", "knn"):
        assert abs(result[name] - 0.25) < binomial_bound(0.25, 2000), (name, result[name])


def test_probe_per_rung_finds_the_informative_rung():
    rng = np.random.default_rng(2)
    x_train, y_train = _blobs(rng, 500)
    x_test, y_test = _blobs(rng, 300)
    noise_train, noise_test = rng.normal(size=(500, 2)), rng.normal(size=(300, 2))
    results = probes.probe_per_rung([noise_train, x_train], y_train, [noise_test, x_test], y_test)
    assert len(results) == 2
    assert results[0]["logistic"] < 1 / 3 + binomial_bound(1 / 3, 300)  # noise: right w.p. 1/3 each
    assert results[1]["logistic"] == 1.0


def test_probe_inputs_are_checked():
    x, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="single class"):
        probes.probe_accuracy(x, np.zeros(10), x, y)
    with pytest.raises(ValueError, match="labels_test"):
        probes.probe_accuracy(x, y, x, y[:5])
