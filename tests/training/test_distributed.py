"""Several replicas and several processes, each scenario in fresh processes (see scenario.py)."""

import json

import numpy as np
import pytest

import subprocesses


@pytest.mark.slow
def test_mirrored_custom_loop_and_fit_match_the_single_device_run():
    # SGD, not Adam: Adam is invariant to a constant gradient factor, so it would hide a wrong loss scaling.
    out = subprocesses.run("parity", {"steps": 3, "optimizer": "sgd"})
    assert out["replicas"] == 2
    assert set(out["start_diff"].values()) == {0.0}
    # Replicas sum their gradients in another order than one device does: float32 rounding, nothing more
    # (measured 3e-8). Dividing each replica's loss by its own batch instead of the global one would double
    # the update, a difference of about `moved` (2.8e-2).
    assert out["moved"] > 1e-2
    assert out["diff"]["custom_default"] <= 1e-6
    for run in ("custom_mirrored", "fit_mirrored"):
        assert out["diff"][run] <= 1e-5, (run, out["diff"])
    # mixed_float16, a NaN on replica 1 only: the step is skipped everywhere and the scale halves (Keras'
    # LossScaleOptimizer on its own would apply it, as it looks at replica 0's gradients only).
    assert out["overflow_on_one_replica"] == {"changed": 0.0, "skipped": 1, "scale": 0.5}


@pytest.mark.slow
def test_two_workers_finish_with_identical_weights_and_only_the_chief_writes(tmp_path):
    ports = subprocesses.free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in (0, 1):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        args = {"run_dir": str(tmp_path / f"run{index}"), "steps": 4, "out": str(tmp_path / f"w{index}.npz")}
        procs.append(subprocesses.start("multi_worker", args, TF_CONFIG=tf_config))
    outputs = subprocesses.finish(procs)
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
    outputs = [subprocesses.result(output) for output in outputs]
    assert [o["chief"] for o in outputs] == [True, False]
    assert all(o["step"] == 4 and o["replicas"] == 2 for o in outputs)
    first, second = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    chief = tmp_path / "run0"
    assert sorted(p.name for p in (chief / "checkpoints").glob("*.index")) == ["ckpt-2.index", "ckpt-4.index"]
    assert (chief / "model.keras").exists() and list((chief / "logs" / "train").glob("events.*"))
    assert not (tmp_path / "run1").exists()  # the other worker wrote nothing into its run folder
