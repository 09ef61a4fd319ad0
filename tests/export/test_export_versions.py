"""TF Serving's versioned layout: next free version, never overwritten, never half-written."""

import os
import pathlib

import keras
import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from vlae_tf import export
from vlae_tf.export import version_folders

EXAMPLE_CONFIG = pathlib.Path(__file__).resolve().parents[2] / "saved_models" / "models.config"


def write_file(folder):
    pathlib.Path(folder, "saved_model.pb").write_text("x")


def test_publish_numbers_versions_from_one_and_skips_what_exists(tmp_path):
    base = tmp_path / "m"
    assert version_folders.publish(base, write_file) == str(base / "1")
    assert version_folders.publish(base, write_file) == str(base / "2")
    assert version_folders.publish(base, write_file, version=7) == str(base / "7")
    (base / "notes").mkdir()  # non-numeric folders are not versions (TF Serving ignores them too)
    assert version_folders.publish(base, write_file) == str(base / "8")
    assert version_folders.versions(base) == [1, 2, 7, 8]
    assert sorted(os.listdir(base)) == ["1", "2", "7", "8", "notes"]


def test_an_existing_version_is_never_overwritten(tmp_path):
    base = tmp_path / "m"
    version_folders.publish(base, write_file, version=3)
    calls = []
    with pytest.raises(FileExistsError, match="never overwritten"):
        version_folders.publish(base, calls.append, version=3)
    assert calls == []  # refused before anything was written
    with pytest.raises(ValueError, match="positive integer"):
        version_folders.publish(base, write_file, version=0)


def test_a_failed_write_leaves_no_folder_behind(tmp_path):
    base = tmp_path / "m"
    version_folders.publish(base, write_file)

    def half_then_crash(folder):
        write_file(folder)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        version_folders.publish(base, half_then_crash)
    assert os.listdir(base) == ["1"]


def test_exporting_twice_gives_versions_1_and_2(exported):
    second = export.save(exported.model, exported.base_dir, max_samples=64, traverse_rows=2)
    assert second == str(exported.base_dir / "2")
    assert export.versions(exported.base_dir) == [1, 2]
    for version in ("1", "2"):
        files = set(os.listdir(exported.base_dir / version))
        assert {"saved_model.pb", "variables", "assets.extra"} <= files
    assert [p for p in os.listdir(exported.base_dir) if p.startswith(".")] == []


def test_a_failed_export_leaves_no_partial_version(exported, tmp_path, monkeypatch):
    base = tmp_path / "vlae_tiny"

    class CrashingArchive:  # writes part of a SavedModel, then fails like a full disk would
        def track(self, model):
            pass

        def add_endpoint(self, name, fn, input_signature):
            pass

        def write_out(self, folder, verbose=False):
            pathlib.Path(folder, "saved_model.pb").write_bytes(b"partial")
            raise OSError("No space left on device")

    monkeypatch.setattr(keras.export, "ExportArchive", CrashingArchive)
    with pytest.raises(OSError, match="No space left"):
        export.save(exported.model, base)
    assert os.listdir(base) == []


def test_bad_export_settings_fail_before_writing(exported, tmp_path):
    with pytest.raises(ValueError, match="max_samples"):
        export.save(exported.model, tmp_path / "m", max_samples=0)
    with pytest.raises(ValueError, match="exceeds max_samples"):
        export.save(exported.model, tmp_path / "m", max_samples=8, traverse_rows=4)  # 4 rows x 4 dims > 8
    assert not (tmp_path / "m").exists()


def test_models_config_is_a_valid_model_server_config():
    text = export.models_config({"vlae_mnist": "/models/vlae_mnist", "vlae_shapes": "/models/vlae_shapes"},
                                versions={"vlae_mnist": [1, 2]})
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    mnist, shapes = config.model_config_list.config
    assert (mnist.name, mnist.base_path, list(mnist.model_version_policy.specific.versions)) == \
        ("vlae_mnist", "/models/vlae_mnist", [1, 2])
    assert shapes.name == "vlae_shapes" and not shapes.HasField("model_version_policy")
    with pytest.raises(ValueError, match="not among the models"):
        export.models_config({"a": "/models/a"}, versions={"b": [1]})


def test_the_example_models_config_parses():
    config = text_format.Parse(EXAMPLE_CONFIG.read_text(), model_server_config_pb2.ModelServerConfig())
    names = [c.name for c in config.model_config_list.config]
    assert "vlae_mnist" in names and len(names) >= 2


def test_only_vlae_tf_models_are_exported(tmp_path):
    with pytest.raises(TypeError, match="takes a vlae_tf model"):
        export.save(keras.Sequential([keras.layers.Dense(1)]), tmp_path / "m")
