"""``run_fit`` on tiny configs: resume and finished runs, the divergence guard, clipping, and TensorBoard
scalars that overlay the custom loop's."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from scenario import tiny_config
from vlae_tf import data, run_dir
from vlae_tf.callbacks import EpochTensorBoard
from vlae_tf.io import run_model
from vlae_tf.training import DivergenceError, keras_fit, run_custom, run_folder
from vlae_tf.training.keras_fit import run_fit, segments

# 64 training images in batches of 16: 4 steps per epoch, so 6 steps cross an epoch boundary.
SMALL = {"data.batch_size": 16, "data.num_train": 64, "data.num_test": 32, "train.summary_every": 2,
         "train.checkpoint_every": 2, "train.image_every": 1000}


def _scalars(directory):
    acc = event_accumulator.EventAccumulator(str(directory), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


def _weights(model):
    return [v.numpy() for v in model.trainable_variables]


def test_segments_cover_every_step_once_in_epoch_aligned_calls():
    assert segments(0, 8, 4) == [(0, 4, 2, 0)]
    assert segments(0, 6, 4) == [(0, 4, 1, 0), (1, 2, 1, 4)]
    assert segments(6, 13, 4) == [(1, 2, 1, 6), (2, 4, 1, 8), (3, 1, 1, 12)]
    assert segments(5, 5, 4) == []


def test_fit_resumes_a_finished_run_and_never_overwrites_it_silently(tmp_path, capsys):
    config = tiny_config(**SMALL)
    first = run_fit(config, tmp_path, steps=6, verbose=0)
    model_file = tmp_path / "model.keras"
    stamp = model_file.stat().st_mtime_ns
    again = run_fit(config, tmp_path, steps=6, verbose=0)  # the same target: nothing to do
    assert "already finished at step 6" in capsys.readouterr().out
    assert model_file.stat().st_mtime_ns == stamp and again == first
    faster = tiny_config(**{**SMALL, "train.learning_rate": 5e-3})  # may change on resume
    run_fit(faster, tmp_path, steps=9, verbose=0)
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-9")
    assert model_file.stat().st_mtime_ns != stamp
    model = keras.saving.load_model(model_file)  # compiled: with the optimizer's state
    reader = tf.train.load_checkpoint(str(tmp_path / "checkpoints" / "ckpt-9"))
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 9
    # model.keras holds the optimizer too: 9 applied steps, and the learning rate given on resume.
    assert int(model.optimizer.iterations.numpy()) == 9
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(5e-3)
    assert run_dir.load_config(tmp_path).train.learning_rate == 5e-3
    run_custom(faster, tmp_path, steps=10, verbose=0)  # one checkpoint format: the other loop continues it
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-10")


def test_a_decaying_learning_rate_is_a_function_of_the_step_across_resumes_and_loops(tmp_path):
    config = tiny_config(**{**SMALL, "train.learning_rate": 1e-3, "train.lr_decay_steps": 8,
                            "train.lr_decay_floor": 0.1})

    def saved_rate():
        optimizer = keras.saving.load_model(tmp_path / "model.keras").optimizer
        return int(optimizer.iterations.numpy()), float(optimizer.learning_rate.numpy())

    run_fit(config, tmp_path, steps=4, verbose=0)
    # cosine halfway: 0.1 + 0.9 * (1 + cos(pi / 2)) / 2 = 0.55 of the initial rate
    assert saved_rate() == (4, pytest.approx(0.55e-3, rel=1e-5))
    run_custom(config, tmp_path, steps=6, verbose=0)  # the checkpoint does not freeze the rate
    run_fit(config, tmp_path, steps=10, verbose=0)
    assert saved_rate() == (10, pytest.approx(0.1e-3, rel=1e-5))  # past lr_decay_steps: the floor
    constant = tiny_config(**{**SMALL, "train.learning_rate": 1e-3})
    with pytest.raises(run_folder.RunFolderError, match=r"train.lr_decay_steps: 8 -> None"):
        run_fit(constant, tmp_path, steps=12, verbose=0)  # refused before anything is written
    assert saved_rate()[0] == 10


def test_fit_and_the_custom_loop_write_the_same_scalars_on_the_step_axis(tmp_path):
    config = tiny_config(**SMALL)
    run_fit(config, tmp_path / "fit", steps=6, verbose=0)
    run_custom(config, tmp_path / "custom", steps=6, verbose=0)
    fit, custom = _scalars(tmp_path / "fit" / "logs" / "train"), _scalars(tmp_path / "custom" / "logs" / "train")
    expected = {"loss", "elbo", "recon", "kl", "kl/rung_1", "kl/rung_3", "kl_weight", "learning_rate",
                "skipped_steps"}
    assert expected <= set(fit) and expected <= set(custom), (set(fit), set(custom))
    for tag in expected:
        assert [s for s, _ in fit[tag]] == [s for s, _ in custom[tag]] == [2, 4, 6], (tag, fit[tag], custom[tag])
    # Keras' own per-epoch scalars are there too (EpochTensorBoard), for training and validation.
    assert {"epoch_loss", "epoch_elbo"} <= set(fit) and not any(tag.startswith("batch_") for tag in fit), set(fit)
    assert "epoch_loss" in _scalars(tmp_path / "fit" / "logs" / "validation")
    # Same seed, data and weights (test_trainer.py): the same interval means through the first epoch (steps
    # 1-4; they agree within rel 1e-5, float32 sums in another order). After it, fit's validation pass draws
    # from the model's noise generator, so step 6 sees other posterior samples: not compared.
    for tag in ("loss", "kl/rung_1", "kl_weight"):
        assert [v for _, v in fit[tag][:2]] == pytest.approx([v for _, v in custom[tag][:2]], rel=1e-5), tag
    # Both loops log their figures around the first test batch: reconstructions sit beside the traversals.
    for loop in ("fit", "custom"):
        pictures = event_accumulator.EventAccumulator(str(tmp_path / loop / "logs" / "images"),
                                                      size_guidance={event_accumulator.TENSORS: 0})
        pictures.Reload()
        assert {"reconstructions", "traversals", "traversal/rung_2"} <= set(pictures.Tags()["tensors"]), loop


def test_a_diverging_fit_stops_with_finite_weights_and_no_model_file(tmp_path, monkeypatch):
    build = data.build_dataset

    def poisoned(config, split, *args):
        ds = build(config, split, *args)
        if split != "train":
            return ds
        # From the third batch of every pass on, NaN images: steps 3 and 4 are non-finite.
        return ds.enumerate().map(lambda i, x: tf.where(i >= 2, tf.fill(tf.shape(x), np.nan), x))

    monkeypatch.setattr(keras_fit.data, "build_dataset", poisoned)
    config = tiny_config(**{**SMALL, "train.max_nonfinite_steps": 2})
    with pytest.raises(DivergenceError, match=r"2 consecutive steps \(steps 3\.\.4.*ckpt-2"):
        run_fit(config, tmp_path, steps=20, verbose=0)
    assert not (tmp_path / "model.keras").exists()
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-2")
    good = run_model.load_model(tmp_path)  # the last good checkpoint, finite
    assert all(np.isfinite(w).all() for w in _weights(good))


def test_fit_clips_like_the_custom_loop_and_builds_under_the_strategy():
    config = tiny_config(**{"train.clip_norm": 1.5})
    strategy = tf.distribute.get_strategy()
    model, optimizer = keras_fit.build(config, strategy)
    assert model.optimizer is optimizer and optimizer.global_clipnorm == 1.5
    assert model.distribute_strategy is strategy
    model.compile()  # the model's own default optimizer clips the same way
    assert model.optimizer.global_clipnorm == 1.5


@pytest.mark.parametrize("update_freq,calls", [("epoch", 0), (1, 2)])
def test_the_tensorboard_callback_calls_no_summary_op_per_batch_when_it_writes_per_epoch(tmp_path, monkeypatch,
                                                                                          update_freq, calls):
    callback = EpochTensorBoard(str(tmp_path), update_freq=update_freq, write_graph=False)
    written = []
    recorder = type("Recorder", (), {"scalar": staticmethod(lambda *a, **k: written.append(a[0]))})
    monkeypatch.setattr(EpochTensorBoard, "summary", property(lambda self: recorder))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback.set_model(model)
    callback.on_train_batch_end(0, {"loss": 1.0, "kl": 2.0})
    assert len(written) == calls, written  # Keras' own callback calls summary.scalar per log, per batch
