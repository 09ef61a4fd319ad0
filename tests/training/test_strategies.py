"""Strategy names, the chief rule and where each worker may write."""

import os
import types

import pytest
import tensorflow as tf

from vlae_tf.training import strategies


def test_default_is_the_single_device_strategy():
    strategy = strategies.build_strategy("default")
    assert strategy.num_replicas_in_sync == 1
    assert strategies.is_chief(strategy)
    assert strategies.build_strategy(strategy) is strategy  # instances pass through


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="default, mirrored, multi_worker"):
        strategies.build_strategy("tpu")


def test_multi_worker_rejects_a_tf_config_without_cluster(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"task": {"type": "worker", "index": 0}}')
    with pytest.raises(ValueError, match="cluster"):
        strategies.build_strategy("multi_worker")


@pytest.mark.parametrize("cluster, task_type, task_id, chief", [
    ({"worker": ["a:1", "b:1"]}, "worker", 0, True),
    ({"worker": ["a:1", "b:1"]}, "worker", 1, False),
    ({"chief": ["c:1"], "worker": ["a:1"]}, "worker", 0, False),
    ({"chief": ["c:1"], "worker": ["a:1"]}, "chief", 0, True),
    ({}, None, None, True),
])
def test_chief_rule(cluster, task_type, task_id, chief):
    assert strategies.chief_of(cluster, task_type, task_id) is chief


def _fake_worker(task_id):
    spec = tf.train.ClusterSpec({"worker": ["a:1", "b:1"]})
    resolver = types.SimpleNamespace(task_type="worker", task_id=task_id, cluster_spec=lambda: spec)
    return types.SimpleNamespace(cluster_resolver=resolver)


def test_only_the_chief_writes_into_the_run_folder(tmp_path):
    chief_dir = strategies.write_dir(tmp_path / "ckpt", _fake_worker(0))
    assert chief_dir == str(tmp_path / "ckpt") and os.path.isdir(chief_dir)
    other = _fake_worker(1)
    scratch = strategies.write_dir(tmp_path / "ckpt", other)
    assert not scratch.startswith(str(tmp_path)) and os.path.isdir(scratch)
    strategies.remove_write_dir(scratch, other)
    assert not os.path.exists(scratch)
    strategies.remove_write_dir(chief_dir, _fake_worker(0))  # never removes the chief's folder
    assert os.path.isdir(chief_dir)
