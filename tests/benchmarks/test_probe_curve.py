"""``benchmarks.probe_curve``: one point per kept checkpoint, per-rung probe accuracies, and the figure."""

import json

import numpy as np
import pytest

from benchmarks import probe_curve
from tests.conftest import MNIST_NPZ
from vlae_tf import presets
from vlae_tf.training.keras_fit import run_fit


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    if not MNIST_NPZ.exists():
        pytest.skip(f"{MNIST_NPZ} is missing")
    config = presets.get("mnist", **{
        "data.dataset": "npz", "data.data_dir": str(MNIST_NPZ), "data.batch_size": 32,
        "model.conv_channels": (8, 16), "model.dense_units": 32, "train.checkpoint_every": 2,
        "train.keep_checkpoints": 10, "train.image_every": 1000, "train.seed": 0})
    folder = tmp_path_factory.mktemp("mnist_run")
    run_fit(config, folder, steps=4, verbose=0)
    return folder


def test_every_kept_checkpoint_gives_one_point_with_a_probe_per_rung(mnist_run, tmp_path):
    assert [step for step, _ in probe_curve.checkpoint_steps(mnist_run)] == [2, 4]
    points = probe_curve.curve(mnist_run, probe_train_examples=300, test_examples=200)
    assert [p["step"] for p in points] == [2, 4]
    for point in points:
        assert len(point["logistic"]) == len(point["knn"]) == 3  # the mnist preset's three rungs
        assert all(0.0 <= a <= 1.0 for a in point["logistic"] + point["knn"])
        assert 0.1 <= point["chance"] <= 0.2  # the majority class of 200 MNIST test digits
    out = tmp_path / "curve"
    assert probe_curve.main([str(mnist_run), "--out", str(out), "--probe-train-examples", "300"]) == 0
    saved = json.loads(out.with_suffix(".json").read_text())
    assert [p["step"] for p in saved[str(mnist_run)]] == [2, 4]
    assert out.with_suffix(".png").stat().st_size > 0


def test_a_run_without_kept_checkpoints_is_refused(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "config.json").write_text(json.dumps(presets.get("mnist", **{
        "data.dataset": "npz", "data.data_dir": str(MNIST_NPZ)}).to_dict()))
    with pytest.raises(SystemExit, match="holds no checkpoints"):
        probe_curve.curve(tmp_path, probe_train_examples=10, test_examples=10)
