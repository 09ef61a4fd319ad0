"""``vlae-train`` from the command line: a short run, overrides, and bad input failing fast and clearly."""

import json
import os
import subprocess
import sys
import time

import pytest

from trainers import train

# A tiny shapes model and data set, as --set arguments (tests/training/scenario.py's TINY).
TINY = ["--set", "model.image_shape=(16,16,3)", "--set", "model.conv_channels=(8,16)", "--set",
        "model.dense_units=32", "--set", "model.likelihood=bernoulli", "--set", "model.broadcast_rungs=0",
        "--set", "model.late_broadcast=False", "--set", "model.broadcast_posteriors=False", "--set",
        "data.num_train=64", "--set", "data.num_test=32",
        "--set", "data.batch_size=16"]


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
    (["--set", "model.latent_dims=abc", "--steps", "1"], "model.latent_dims='abc' is not valid; give one positive"),
    (["--steps", "-5"], "--steps -5 is not valid"),
    (["--steps", "0", "--loop", "custom"], "--steps 0 is not valid"),
    (["--epochs", "0"], "--epochs 0 is not valid"),
    (["--strategy", "multi_worker"], "--strategy multi_worker needs --loop custom"),
])
def test_bad_input_exits_with_a_clear_message_within_seconds(tmp_path, capsys, args, message):
    # In-process, so the cost measured is our checks and not TensorFlow's import. CPU time, not wall time, so
    # other jobs on the machine cannot decide the verdict: the checks take well under a second of CPU, while
    # any training step or data set build that slipped in before them would take many seconds.
    start = time.process_time()
    status = train.main([*args, "--out", str(tmp_path / "run")])
    cpu_seconds = time.process_time() - start
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err and err.startswith("error: ")
    assert cpu_seconds < 10, cpu_seconds


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


def test_help_and_argument_errors_answer_without_importing_tensorflow():
    code = ("import sys; from trainers import train\n"
            "for argv in (['--help'], ['--steps', '-5'], ['--loop', 'nope']):\n"
            "    try:\n        status = train.main(argv)\n    except SystemExit as exit:\n        status = exit.code\n"
            "    print(argv[0], status, 'tensorflow' in sys.modules, file=sys.stderr)\n")
    # The speed is asserted by its cause, not by a clock: TensorFlow's import (5+ s) is what made help slow.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("--")]
    assert lines == ["--help 0 False", "--steps 2 False", "--loop 2 False"], proc.stderr
    assert "usage: vlae-train" in proc.stdout


def test_parser_constants_match_the_library():
    from vlae_tf import config, presets, training

    assert train.PRECISIONS == config.PRECISIONS and train.STRATEGIES == training.STRATEGIES
    assert train.DEFAULT_PRESET == presets.DEFAULT_PRESET


def test_run_folder_errors_are_one_line_with_exit_2(tmp_path, capsys):
    def error(*args):
        status = train.main([*TINY, *args])
        err = capsys.readouterr().err
        assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
        return err

    (tmp_path / "file").write_text("")
    assert "is an existing file" in error("--out", str(tmp_path / "file"), "--steps", "1")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    args = train.build_parser().parse_args([*TINY, "--out", str(run)])
    from vlae_tf import run_dir

    run_dir.save_config(run, train.config_from_args(args))
    assert "model.activation: leaky_relu -> elu" in error("--out", str(run), "--set", "model.activation=elu")
    assert "--no-resume will not mix" in error("--out", str(run), "--no-resume")
    for name in ("ckpt-1.index", "ckpt-1.data-00000-of-00001"):
        (run / "checkpoints" / name).write_bytes(b"broken")
    with pytest.warns(UserWarning, match="cannot be restored"):
        assert "no checkpoint in" in error("--out", str(run), "--steps", "2")


@pytest.mark.slow
def test_a_second_run_on_a_busy_folder_exits_2_naming_the_holder(tmp_path):
    # The first run trains with model.fit under MirroredStrategy (one CPU replica here) for a long time.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    out = str(tmp_path / "run")
    first = subprocess.Popen([sys.executable, "-m", "trainers.train", *TINY, "--steps", "100000", "--strategy",
                              "mirrored", "--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env)
    try:
        printed = []
        for line in first.stdout:  # until the first epoch (4 steps) has been trained under the strategy
            printed.append(line)
            if line.startswith("4/4"):
                break
        assert any(line.startswith("model.fit under MirroredStrategy") for line in printed), printed
        second, _ = run_cli([*TINY, "--steps", "2", "--out", out])
        assert second.returncode == 2, second.stderr
        assert second.stderr.startswith(f"error: run folder {out} is in use by another run (pid {first.pid} on ")
        assert "Traceback" not in second.stderr
    finally:
        first.kill()
        first.communicate()
    assert not (tmp_path / "run" / "model.keras").exists()
