"""``vlae-train`` from the command line: a short run, overrides, and bad input failing fast and clearly."""

import json
import subprocess
import sys
import time

import pytest

from trainers import train


def run_cli(args, timeout=120):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "trainers.train", *args], capture_output=True, text=True,
                          timeout=timeout)
    return proc, time.monotonic() - start


def test_overrides_reach_the_config():
    args = train.build_parser().parse_args(["--preset", "mnist", "--set", "model.beta=2.0", "--batch-size", "32",
                                            "--seed", "7", "--set", "model.combine=add"])
    config = train.config_from_args(args)
    assert config.model.beta == (2.0, 2.0, 2.0) and config.model.combine == "add"
    assert config.data.batch_size == 32 and config.train.seed == 7 and config.data.seed == 7


@pytest.mark.parametrize("args,message", [
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--dataset", "npz", "--data-dir", "/no/such/mnist.npz", "--steps", "1"], "/no/such/mnist.npz"),
    (["--dataset", "folder", "--data-dir", "/no/such/folder", "--steps", "1"], "/no/such/folder"),
    (["--set", "model.combine=mul", "--steps", "1"], "concat, add, gated_add"),
    (["--set", "model.nope=1", "--steps", "1"], "unknown ModelConfig field"),
])
def test_bad_input_exits_with_a_clear_message_within_seconds(tmp_path, capsys, args, message):
    # In-process, so the timing measures our checks and not TensorFlow's import on a loaded machine.
    start = time.monotonic()
    status = train.main([*args, "--out", str(tmp_path / "run")])
    seconds = time.monotonic() - start
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err and err.startswith("error: ")
    assert seconds < 10


def test_bad_input_from_the_shell_exits_2_without_a_traceback(tmp_path):
    proc, _ = run_cli(["--dataset", "npz", "--data-dir", "/no/such/mnist.npz", "--out", str(tmp_path / "run")])
    assert proc.returncode == 2, proc.stderr
    assert "/no/such/mnist.npz" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_short_cli_run_writes_the_run_folder_and_reports(tmp_path):
    out = tmp_path / "run"
    proc, _ = run_cli(["--preset", "shapes", "--steps", "20", "--out", str(out), "--set", "data.num_train=640",
                       "--set", "data.num_test=128", "--set", "model.dense_units=64"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    for line in ("test ELBO", "KL rung 1", "KL rung 3", "traversal_rung_"):
        assert line in proc.stdout
    assert json.loads((out / "config.json").read_text())["model"]["dense_units"] == 64
    assert (out / "model.keras").exists()
