"""The custom loop in this process on one device: parity with fit, run folder, TensorBoard, resume,
skipped and diverging steps, mixed precision. Multi-device and multi-process runs: test_distributed.py."""

import json
import os
import signal
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from scenario import images, in_memory_dataset_fn, max_diff, tiny_config, weights
from vlae_tf import run_dir
from vlae_tf.io import run_model
from vlae_tf.models import VLAE
from vlae_tf.training import DivergenceError, Trainer, TrainingInterrupted, run_custom

BATCH = 8
FAST = {"data.batch_size": BATCH, "train.image_every": 1000, "train.summary_every": 1000,
        "train.checkpoint_every": 1000}


def _trainer(path, x=None, resume=True, precision=None, **overrides):
    dataset_fn = None if x is None else in_memory_dataset_fn(x, BATCH)
    return Trainer(tiny_config(**{**FAST, **overrides}), path, dataset_fn=dataset_fn, resume=resume,
                   precision=precision, verbose=0)


def _events(directory):
    acc = event_accumulator.EventAccumulator(str(directory), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return {tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


@pytest.mark.slow
def test_custom_loop_reaches_the_weights_of_fit_on_one_device(tmp_path):
    config, x = tiny_config(**FAST), images()
    keras.utils.set_random_seed(config.train.seed)
    model = VLAE(config)
    model.compile()  # Adam at train.learning_rate, like the trainer
    start = weights(model)
    model.fit(tf.data.Dataset.from_tensor_slices(x).batch(BATCH).repeat(), steps_per_epoch=4, epochs=1, verbose=0)
    trainer = _trainer(tmp_path, x)
    assert max_diff(weights(trainer.model), start) == 0.0  # same seed, same initial weights
    trainer.train(4)
    assert max_diff(weights(model), start) > 1e-3  # the runs moved the weights...
    assert max_diff(weights(trainer.model), weights(model)) <= 1e-6  # ...to the same place (measured: 0)


def test_run_folder_and_tensorboard_scalars_and_one_traversal_per_rung(tmp_path):
    trainer = _trainer(tmp_path, images(), **{"train.summary_every": 2, "train.image_every": 4,
                                              "train.checkpoint_every": 2, "train.keep_checkpoints": 2})
    metrics = trainer.train(4)
    assert metrics["step"] == 4 and metrics["skipped_steps"] == 0 and metrics["images_per_second"] > 0
    for name in ("config.json", "model.keras", "checkpoints/ckpt-4.index", "checkpoints/ckpt-2.index"):
        assert (tmp_path / name).exists(), name
    assert run_dir.load_config(tmp_path) == trainer.config
    scalars = _events(tmp_path / "logs" / "train")
    expected = {"loss", "elbo", "recon", "kl", "kl/rung_1", "kl/rung_2", "kl/rung_3", "kl_weight", "learning_rate",
                "images_per_second", "skipped_steps"}
    assert expected <= set(scalars), expected - set(scalars)
    assert [step for step, _ in scalars["loss"]] == [2, 4]
    assert float(scalars["loss"][-1][1]) == pytest.approx(metrics["loss"])
    pictures = _events(tmp_path / "logs" / "images")
    for rung in (1, 2, 3):
        (step, image), = pictures[f"traversal/rung_{rung}"]  # exactly one, at step 4
        assert step == 4 and image[2].startswith(b"\x89PNG")  # [width, height, png]


@pytest.mark.slow
def test_resumed_run_continues_exactly_where_the_uninterrupted_one_goes(tmp_path):
    overrides = {"data.batch_size": 16, "train.checkpoint_every": 3, "train.summary_every": 3}  # shuffled shapes
    straight = _trainer(tmp_path / "a", **overrides)
    expected = straight.train(6)
    first = _trainer(tmp_path / "b", **overrides)
    first.train(3)
    resumed = _trainer(tmp_path / "b", **overrides)
    assert resumed.restored_from.endswith("ckpt-3") and resumed.step == 3
    assert int(resumed.optimizer.iterations.numpy()) == 3
    assert max_diff(weights(resumed.model), weights(first.model)) == 0.0
    metrics = resumed.train(6)
    # Same weights, optimizer state, noise and data position: the same run (measured: bit-identical).
    assert max_diff(weights(resumed.model), weights(straight.model)) <= 1e-6
    assert metrics["loss"] == pytest.approx(expected["loss"], rel=1e-5)


def test_resume_off_refuses_a_folder_with_checkpoints(tmp_path):
    _trainer(tmp_path, images()).train(1)
    with pytest.raises(FileExistsError, match="resume"):
        _trainer(tmp_path, images(), resume=False)


def test_a_non_finite_step_is_skipped_and_counted(tmp_path):
    x = images()
    x[2 * BATCH:3 * BATCH] = np.nan  # the third batch
    trainer = _trainer(tmp_path, x)
    trainer.train(2)
    before = weights(trainer.model)
    trainer.train(3)
    assert max_diff(weights(trainer.model), before) == 0.0
    assert trainer.skipped_steps == 1 and int(trainer.optimizer.iterations.numpy()) == 2
    trainer.train(4)
    assert max_diff(weights(trainer.model), before) > 0 and trainer.skipped_steps == 1


def test_consecutive_non_finite_losses_stop_the_run_and_keep_the_last_good_checkpoint(tmp_path):
    x = images()
    x[2 * BATCH:] = np.nan  # from step 3 on
    trainer = _trainer(tmp_path, x, **{"train.max_nonfinite_steps": 3, "train.checkpoint_every": 2})
    with pytest.raises(DivergenceError, match="3 consecutive steps.*ckpt-2"):
        trainer.train(8)
    assert trainer.step == 5
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-2")
    good = run_model.load_model(tmp_path, checkpoint=str(tmp_path / "checkpoints" / "ckpt-2"))
    assert all(np.isfinite(w).all() for w in weights(good))
    assert max_diff(weights(good), weights(trainer.model)) == 0.0  # nothing after step 2 was applied


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_with_float32_weights(tmp_path, precision):
    # Seeded: the Trainer sets train.seed before building, and data.seed drives the shapes data.
    trainer = _trainer(tmp_path, precision=precision, **{"data.batch_size": 16, "train.learning_rate": 3e-3,
                                                         "train.seed": 0, "data.seed": 0})
    assert trainer.model.rungs[0].compute_dtype == precision.split("_")[1]
    assert keras.mixed_precision.global_policy().name == "float32"  # the trainer leaves the global policy be
    before = trainer.evaluate(max_batches=2)["loss"]
    metrics = trainer.train(20)
    after = trainer.evaluate(max_batches=2)["loss"]
    # Measured with train.seed = data.seed = 0, 1, 2: the loss fell by 66.2, 67.1, 72.5 nats (float16) and
    # 77.4, 76.8, 76.6 (bfloat16), an sd of about 3.5; 30 is over 10 such sds below the smallest drop, and an
    # untrained step (no drop at all) still fails.
    assert after < before - 30, (before, after)
    assert {v.dtype for v in trainer.model.trainable_variables} == {"float32"}
    # float16 starts at a scale of 2**15 and halves it on each overflowing step; bfloat16 has no scale.
    if precision == "mixed_float16":
        # 6, 6 and 5 of the 20 steps were skipped for seeds 0, 1, 2 (the scale halving from 2^15 to 2^9-2^10);
        # 20 would mean no step was ever applied.
        assert metrics["loss_scale"] <= 2.0 ** 15 and metrics["skipped_steps"] < 20
    else:
        assert metrics["loss_scale"] is None and metrics["skipped_steps"] == 0


def test_an_overflow_under_mixed_float16_halves_the_scale_and_skips_the_step(tmp_path):
    trainer = _trainer(tmp_path, images(), precision="mixed_float16")
    trainer.train(2)
    before, iterations, skipped = weights(trainer.model), int(trainer.optimizer.iterations.numpy()), \
        trainer.skipped_steps
    trainer.optimizer.dynamic_scale.assign(2.0 ** 60)  # scaled float16 gradients overflow to inf
    trainer.train(3)
    assert float(trainer.optimizer.dynamic_scale.numpy()) == 2.0 ** 59
    assert max_diff(weights(trainer.model), before) == 0.0
    assert int(trainer.optimizer.iterations.numpy()) == iterations and trainer.skipped_steps == skipped + 1
    trainer.optimizer.dynamic_scale.assign(1.0)  # nothing overflows unscaled
    trainer.train(4)  # an overflow is the scale adapting, not divergence: training goes on
    assert max_diff(weights(trainer.model), before) > 0


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_sigterm_writes_a_checkpoint_before_stopping(tmp_path):
    trainer = _trainer(tmp_path, images())
    step = trainer._train_step

    def step_then_signal(*args):
        out = step(*args)
        if trainer.step == 2:  # during step 3
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    trainer._train_step = step_then_signal
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM at step 4") as stopped:
        trainer.train(100)
    assert signal.getsignal(signal.SIGTERM) is previous  # the trainer's handler is gone again
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    assert stopped.value.checkpoint.endswith("ckpt-4") and (tmp_path / "checkpoints" / "ckpt-4.index").exists()
    assert _trainer(tmp_path, images()).step == 4


def test_run_custom_writes_a_complete_run_folder(tmp_path):
    config = tiny_config(**{"data.batch_size": 16, "train.checkpoint_every": 3})
    metrics = run_custom(config, tmp_path, steps=4, verbose=0)
    assert {"loss", "elbo", "recon", "kl/rung_3"} <= set(metrics)
    assert json.loads((tmp_path / "metrics.json").read_text())["elbo"] == pytest.approx(metrics["elbo"])
    for name in ("traversal_rung_1.png", "traversal_rung_3.png", "samples.png", "reconstructions.png"):
        assert (tmp_path / "images" / name).exists(), name
    final = run_model.load_model(tmp_path)  # model.keras
    from_checkpoint = run_model.load_model(tmp_path, checkpoint=str(tmp_path / "checkpoints" / "ckpt-4"))
    assert max_diff(weights(final), weights(from_checkpoint)) == 0.0


def test_a_dataset_batched_unlike_the_config_is_refused(tmp_path):
    trainer = Trainer(tiny_config(**{"data.batch_size": 16}), tmp_path, verbose=0,
                      dataset_fn=in_memory_dataset_fn(images(), BATCH))
    with pytest.raises(ValueError, match="batches of 8 but data.batch_size=16"):
        trainer.train(1)
