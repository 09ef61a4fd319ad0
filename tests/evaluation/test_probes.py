"""Tests for probes.py: perfect on separable codes, chance on noise."""

import keras
import numpy as np
import pytest

from vlae_tf import presets
from vlae_tf.evaluation import probes
from vlae_tf.evaluation.evaluate_run import EvalOptions, evaluate_model
from vlae_tf.io import run_model

from tests.tolerances import binomial_bound

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


def test_held_out_rows_are_disjoint_and_cover_what_was_asked():
    fit, score = probes.held_out_rows(1000, seed=3)
    assert len(score) == 200 and len(fit) == 800
    assert not set(fit) & set(score) and set(fit) | set(score) == set(range(1000))
    fit, score = probes.held_out_rows(1000, max_fit=100, seed=3)
    assert len(fit) == 100 and not set(fit) & set(score)
    fit, score = probes.held_out_rows(2)
    assert len(fit) == len(score) == 1 and fit[0] != score[0]
    with pytest.raises(ValueError, match="num_rows=1"):
        probes.held_out_rows(1)


def _random_label_npz(path, num_train, num_classes):
    """An npz dataset whose labels are independent of the images: no probe can beat chance on it."""
    rng = np.random.default_rng(5)
    np.savez(path, x_train=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, num_classes, num_train),
             x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_test=rng.integers(0, num_classes, 20))
    return str(path)


def test_vlae_eval_split_train_never_scores_probes_on_rows_they_were_fitted_on(tmp_path):
    # Random labels: each scored row's label is uniform on 10 classes and independent of the rows the probe
    # fitted, so k-NN accuracy is Binomial(n_score, 0.1) / n_score. Scored on its own training rows (each
    # row its own nearest neighbour), k-NN reads labels back: 0.34-0.37 on these codes, 14 standard errors above.
    num_train, num_classes = 1500, 10
    data_file = _random_label_npz(tmp_path / "random.npz", num_train, num_classes)
    config = presets.get("mnist", **{"data.dataset": "npz", "data.data_dir": data_file, "model.conv_channels": (4, 8),
                                     "model.dense_units": 16})
    keras.utils.set_random_seed(0)
    model = run_model.build_model(config)
    options = EvalOptions(split="train", iw_samples=0, fidelity="off", sampled_mi_draws=0, specificity_bases=0)
    result = evaluate_model(model, config, options)
    scored = result["probe_test_examples"]
    assert scored == round(0.2 * num_train) and result["probe_train_examples"] == num_train - scored
    for rung, accuracy in enumerate(result["probe_accuracy_per_rung"], start=1):
        chance = 1.0 / num_classes
        assert abs(accuracy["knn"] - chance) < binomial_bound(chance, scored), (rung, accuracy)
        assert abs(accuracy["logistic"] - chance) < binomial_bound(chance, scored), (rung, accuracy)
