"""Long-run faults on real processes: SIGKILL mid-training, then SIGTERM (see scenario.py)."""

import re
import signal

import pytest
import tensorflow as tf

import subprocesses
from scenario import tiny_config
from vlae_tf.training import Trainer

EVERY = 4
OVERRIDES = {"data.batch_size": 16, "train.learning_rate": 3e-3, "train.checkpoint_every": EVERY,
             "train.summary_every": 1000, "train.image_every": 1000}


def _run_until(run_dir, at_least, overrides, sig):
    """Starts a long run, sends ``sig`` once it has printed ``STEP n`` with n >= ``at_least`` (steps counted
    from its start), returns (return code, last step printed, first step, output)."""
    proc = subprocesses.start("train", {"run_dir": str(run_dir), "steps": 100000, "overrides": overrides})
    lines, first = [], None
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("START"):
                first = int(line.split()[1])
            if line.startswith("STEP") and int(line.split()[1]) >= first + at_least:
                proc.send_signal(sig)
                break
        rest, _ = proc.communicate(timeout=subprocesses.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines) + rest
    steps = [int(s) for s in re.findall(r"^STEP (\d+)$", output, re.M)]
    assert steps, output[-3000:]
    return proc.returncode, max(steps), first, output


def _newest(run_dir):
    path = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    return int(path.rsplit("-", 1)[1])


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_checkpoint_and_sigterm_saves_first(tmp_path):
    code, last, first, output = _run_until(tmp_path, 10, OVERRIDES, signal.SIGKILL)
    assert code == -signal.SIGKILL and first == 0
    saved = _newest(tmp_path)
    assert saved % EVERY == 0 and 0 <= last - saved <= EVERY, (last, saved)  # at most one interval lost

    fresh_loss = Trainer(tiny_config(**OVERRIDES), tmp_path / "fresh", verbose=0).evaluate(max_batches=2)["loss"]
    resumed = Trainer(tiny_config(**OVERRIDES), tmp_path, verbose=0)
    assert resumed.step == saved and int(resumed.optimizer.iterations.numpy()) == saved
    loss = resumed.evaluate(max_batches=2)["loss"]
    assert loss < fresh_loss - 30, (fresh_loss, loss)  # trained weights came back, not fresh ones
    resumed.train(saved + 2)
    assert resumed.step == saved + 2 and int(resumed.optimizer.iterations.numpy()) == saved + 2
    del resumed

    # SIGTERM: the run checkpoints the step it stops at, though no periodic checkpoint is due.
    code, last, first, output = _run_until(tmp_path, 3, {**OVERRIDES, "train.checkpoint_every": 1000},
                                           signal.SIGTERM)
    assert first == saved + 2
    assert code == 128 + signal.SIGTERM, output[-3000:]
    stopped = subprocesses.result(output)
    assert stopped["interrupted"] == signal.SIGTERM and stopped["step"] >= first + 3
    assert _newest(tmp_path) == stopped["step"]
