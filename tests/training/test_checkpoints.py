"""Checkpoints: keep the last K, fall back past an unreadable newest one, restore into a fresh model."""

import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from scenario import tiny_config
from vlae_tf.models import VLAE
from vlae_tf.training import checkpoints


def _checkpoints(directory, keep=3):
    values = tf.Variable(np.zeros(1000, np.float32))
    step = tf.Variable(0, dtype=tf.int64)
    ckpts = checkpoints.Checkpoints(directory, tf.distribute.get_strategy(), keep,
                                    state=checkpoints.indexed([values]), step=step)
    return ckpts, values, step


def _save_steps(directory, steps):
    ckpts, values, step = _checkpoints(directory)
    for s in steps:
        values.assign(np.full(1000, s, np.float32))
        step.assign(s)
        ckpts.save(s)
    return ckpts


def test_keeps_the_last_k_and_restores_the_newest(tmp_path):
    _save_steps(tmp_path, [1, 2, 3, 4])
    ckpts, values, step = _checkpoints(tmp_path)
    assert [os.path.basename(p) for p in ckpts.candidates()] == ["ckpt-4", "ckpt-3", "ckpt-2"]
    assert ckpts.restore_latest().endswith("ckpt-4")
    assert int(step.numpy()) == 4 and values.numpy()[0] == 4


def test_empty_folder_restores_nothing(tmp_path):
    ckpts, _, step = _checkpoints(tmp_path / "none")
    assert ckpts.restore_latest() is None and int(step.numpy()) == 0


@pytest.mark.parametrize("damage", ["truncate_data", "garble_index"])
def test_corrupt_newest_falls_back_to_the_previous_with_a_warning(tmp_path, damage):
    _save_steps(tmp_path, [1, 2, 3])
    if damage == "truncate_data":
        data = tmp_path / "ckpt-3.data-00000-of-00001"
        data.write_bytes(data.read_bytes()[:100])
    else:
        index = tmp_path / "ckpt-3.index"
        index.write_bytes(b"\x00garbage" * 20)
    ckpts, values, step = _checkpoints(tmp_path)
    with pytest.warns(UserWarning, match="ckpt-3 cannot be restored"):
        path = ckpts.restore_latest()
    assert path.endswith("ckpt-2")
    assert int(step.numpy()) == 2 and np.all(values.numpy() == 2)


def test_every_checkpoint_unreadable_is_an_error_not_a_fresh_start(tmp_path):
    _save_steps(tmp_path, [1, 2])
    for index in tmp_path.glob("*.index"):
        index.write_bytes(b"broken")
    ckpts, _, _ = _checkpoints(tmp_path)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="no checkpoint"):
        ckpts.restore_latest()


def test_unparsable_state_file_still_finds_the_checkpoints(tmp_path):
    _save_steps(tmp_path, [1, 2])
    (tmp_path / "checkpoint").write_text("not { a proto")
    ckpts, _, step = _checkpoints(tmp_path)
    assert ckpts.restore_latest().endswith("ckpt-2") and int(step.numpy()) == 2
    ckpts.save(3)  # and the next save writes a good state file
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-3")


def test_non_chief_workers_write_nothing(tmp_path):
    spec = tf.train.ClusterSpec({"worker": ["a:1", "b:1"]})
    worker = types.SimpleNamespace(cluster_resolver=types.SimpleNamespace(task_type="worker", task_id=1,
                                                                          cluster_spec=lambda: spec))
    ckpts = checkpoints.Checkpoints(tmp_path / "ckpt", worker, 2, step=tf.Variable(1))
    assert ckpts.save(1) is None
    assert not (tmp_path / "ckpt").exists()


def test_restore_model_reaches_every_variable_of_a_second_instance(tmp_path):
    # tf.train.Checkpoint(model=vlae) would save only the output layer (rungs live in Python lists), and
    # the second instance's variable paths differ (conv2d -> conv2d_8): restore_model must not care.
    config = tiny_config()
    keras.utils.set_random_seed(1)
    first = VLAE(config)
    for v in first.trainable_variables:
        v.assign(v + 0.5)
    prefix = tf.train.Checkpoint(model=checkpoints.indexed(first.variables)).write(str(tmp_path / "m"))
    second = VLAE(config)
    checkpoints.restore_model(second, prefix)
    for a, b in zip(first.variables, second.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_restore_model_refuses_a_checkpoint_of_another_architecture(tmp_path):
    keras.utils.set_random_seed(2)
    small = VLAE(tiny_config())
    prefix = tf.train.Checkpoint(model=checkpoints.indexed(small.variables)).write(str(tmp_path / "m"))
    with pytest.raises(ValueError, match="another config"):
        checkpoints.restore_model(VLAE(tiny_config(**{"model.dense_units": 64})), prefix)
