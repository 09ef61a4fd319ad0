"""Run-folder rules without training: the lock, the config check on resume, refusals and clean-up."""

import json
import os
import subprocess
import sys

import keras
import pytest

from scenario import tiny_config
from vlae_tf import run_dir
from vlae_tf.io import atomic, run_model
from vlae_tf.training import run_custom, run_folder
from vlae_tf.training.keras_fit import run_fit
from vlae_tf.training.run_folder import RunFolderError


def test_a_held_folder_is_refused_naming_the_holder_and_released_after(tmp_path):
    with run_folder.locked(tmp_path):
        with pytest.raises(RunFolderError, match=rf"in use by another run \(pid {os.getpid()} on "):
            with run_folder.locked(tmp_path):
                pass
    with run_folder.locked(tmp_path):  # released: the next run takes it
        pass


@pytest.mark.parametrize("run", [run_fit, run_custom], ids=["fit", "custom"])
def test_both_loops_refuse_a_held_folder_before_building_anything(tmp_path, run):
    with run_folder.locked(tmp_path):
        with pytest.raises(RunFolderError, match="in use by another run"):
            run(tiny_config(), tmp_path, steps=1, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [run_folder.LOCK_FILE]


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'12345 on elsewhere'); print('held', flush=True); "
         "time.sleep(600)", str(tmp_path / run_folder.LOCK_FILE)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError, match="pid 12345 on elsewhere"):
            with run_folder.locked(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with run_folder.locked(tmp_path):  # the kernel dropped the dead process's lock
        assert (tmp_path / run_folder.LOCK_FILE).read_text().startswith(f"{os.getpid()} on ")


def test_config_differences_name_each_field_and_ignore_the_resumable_ones():
    stored = json.loads(json.dumps(tiny_config().to_dict()))  # as config.json holds it
    changed = tiny_config(**{"model.activation": "elu", "model.latent_dims": (2, 2), "model.conv_channels": (8,),
                             "train.learning_rate": 1.0, "train.epochs": 99, "data.data_dir": "/elsewhere"})
    differences = run_folder.config_differences(stored, changed)
    assert "model.activation: leaky_relu -> elu" in differences
    assert "model.latent_dims: [3, 3, 3] -> [2, 2]" in differences
    assert not [d for d in differences if d.startswith(("train.learning_rate", "train.epochs", "data.data_dir"))]
    assert run_folder.config_differences(stored, tiny_config(**{"train.summary_every": 7})) == []
    # A schedule has no learning-rate variable; a constant rate has one: the optimizer's checkpointed
    # variables would not line up, so switching is refused while the floor may change.
    assert run_folder.config_differences(stored, tiny_config(**{"train.lr_decay_steps": 100})) == [
        "train.lr_decay_steps: None -> 100"]
    assert run_folder.config_differences(stored, tiny_config(**{"train.lr_decay_floor": 0.5})) == []


def test_resuming_with_another_model_config_stops_before_writing_anything(tmp_path):
    run_dir.save_config(tmp_path, tiny_config())
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    with pytest.raises(RunFolderError, match=r"model\.activation: leaky_relu -> elu.*use a new --out"):
        with run_folder.claim(tmp_path, tiny_config(**{"model.activation": "elu"})):
            pass
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    with run_folder.claim(tmp_path, tiny_config(**{"train.learning_rate": 1e-2})):  # a resumable change
        pass


def test_no_resume_refuses_a_folder_holding_a_run(tmp_path):
    run_dir.save_config(tmp_path, tiny_config())
    with pytest.raises(FileExistsError, match="new --out or delete"):
        with run_folder.claim(tmp_path, tiny_config(), resume=False):
            pass
    with run_folder.claim(tmp_path / "fresh", tiny_config(), resume=False):
        pass


def test_leftovers_of_a_crashed_write_are_removed_when_the_next_run_starts(tmp_path):
    temp = tmp_path / "checkpoints" / "ckpt-7_temp"
    temp.mkdir(parents=True)
    (temp / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"x" * 100)
    (tmp_path / "model.tmp.keras").write_bytes(b"half a model")
    (tmp_path / "checkpoints" / "ckpt-6.index").write_bytes(b"a real checkpoint stays")
    with run_folder.claim(tmp_path, tiny_config()):
        assert not temp.exists() and not (tmp_path / "model.tmp.keras").exists()
    assert (tmp_path / "checkpoints" / "ckpt-6.index").exists()


def test_an_out_that_is_a_file_or_not_writable_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(RunFolderError, match="is an existing file"):
        run_folder.check_writable(tmp_path / "file")
    with pytest.raises(RunFolderError, match="is a file"):
        run_folder.check_writable(tmp_path / "file" / "run")
    if os.geteuid() != 0:  # root writes anywhere
        locked_dir = tmp_path / "readonly"
        locked_dir.mkdir(mode=0o555)
        with pytest.raises(RunFolderError, match="not writable"):
            run_folder.check_writable(locked_dir / "run")


def test_load_model_finds_the_fit_checkpoint_of_an_interrupted_run_or_says_what_is_there(tmp_path):
    config = tiny_config()
    run_dir.save_config(tmp_path, config)
    with pytest.raises(FileNotFoundError, match="it holds: config.json.*vlae-train --out"):
        run_model.load_model(tmp_path)
    keras.utils.set_random_seed(3)
    model = run_model.build_model(config)
    (tmp_path / "checkpoints").mkdir()
    atomic.save_model_atomically(model, tmp_path / "checkpoints" / "model.keras")  # an earlier fit run's
    loaded = run_model.load_model(tmp_path)
    assert all((a.numpy() == b.numpy()).all() for a, b in zip(model.variables, loaded.variables))


def test_a_config_json_written_before_a_field_existed_resumes_as_its_default():
    stored = json.loads(json.dumps(tiny_config().to_dict()))
    del stored["model"]["broadcast_top"], stored["model"]["pre_kl"]  # as an older version wrote config.json
    assert run_folder.config_differences(stored, tiny_config()) == []
    assert run_folder.config_differences(stored, tiny_config(**{"model.broadcast_top": True})) == [
        "model.broadcast_top: False -> True"]
