"""Runs one training scenario in a fresh process, for tests that need their own TensorFlow set-up
(logical CPU devices, TF_CONFIG, signals). ``python scenario.py <name> <json args>``; prints one JSON line
starting with ``RESULT`` and writes any arrays to ``args["out"]``.
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tests.tiny_configs import tiny_config as shared_tiny_config  # noqa: E402
from vlae_tf.training import strategies  # noqa: E402

# The shared tiny model. The likelihood and injection are pinned so that the loop's tests (and their loss
# thresholds) do not move when the preset's modelling choices do.
TINY = {"model.likelihood": "bernoulli", "model.broadcast_rungs": 0, "model.warmup_steps": 10.0,
        "data.num_train": 256, "data.num_test": 64, "data.shuffle_buffer": 256}


def tiny_config(**overrides):
    return shared_tiny_config(**{**TINY, **overrides})


def images(n=64, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, 16, 16, 3)).astype("float32")


def in_memory_dataset_fn(x, global_batch):
    def dataset_fn(ctx):
        ds = tf.data.Dataset.from_tensor_slices(x).shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
        return ds.batch(ctx.get_per_replica_batch_size(global_batch), drop_remainder=True)

    return dataset_fn


def weights(model):
    return [v.numpy() for v in model.trainable_variables]


def max_diff(a, b):
    return float(max(np.abs(x - y).max() for x, y in zip(a, b)))


def parity(args):
    """fit and the custom loop, on one device and under MirroredStrategy over two logical CPUs."""
    strategies.split_cpu(2)
    import keras

    from vlae_tf.models import VLAE
    from vlae_tf.training import Trainer

    steps, batch = args["steps"], 8
    config = tiny_config(**{"data.batch_size": batch})
    x = images()
    mirrored = strategies.build_strategy("mirrored")  # one instance: two in a process clash over collectives

    def optimizer():
        return keras.optimizers.SGD(0.01) if args["optimizer"] == "sgd" else keras.optimizers.Adam(1e-3)

    def fit(strategy):
        keras.utils.set_random_seed(config.train.seed)
        with strategy.scope():
            model = VLAE(config)
            model.compile(optimizer=optimizer())
        start = weights(model)
        data = tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True).repeat()
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
        return start, weights(model)

    def custom(strategy):
        trainer = Trainer(config, tempfile.mkdtemp(), strategy=strategy, optimizer=optimizer, verbose=0,
                          dataset_fn=in_memory_dataset_fn(x, batch))
        start = weights(trainer.model)
        trainer.train(steps)
        return start, weights(trainer.model)

    def overflow_on_one_replica():
        # Keras' LossScaleOptimizer alone checks replica 0's gradients only; here replica 1 overflows.
        poisoned = images()
        poisoned[2 * batch + batch // 2:3 * batch] = np.nan  # replica 1's half of the third batch
        trainer = Trainer(config, tempfile.mkdtemp(), strategy=mirrored, precision="mixed_float16", verbose=0,
                          dataset_fn=in_memory_dataset_fn(poisoned, batch))
        trainer.optimizer.dynamic_scale.assign(1.0)  # no overflow but the injected one
        trainer.train(2)
        before = weights(trainer.model)
        trainer.train(3)
        return {"changed": max_diff(weights(trainer.model), before), "skipped": trainer.skipped_steps,
                "scale": float(trainer.optimizer.dynamic_scale.numpy())}

    default = tf.distribute.get_strategy()
    runs = {"fit_default": fit(default), "fit_mirrored": fit(mirrored), "custom_default": custom(default),
            "custom_mirrored": custom(mirrored)}
    start, reference = runs["fit_default"]
    return {"replicas": mirrored.num_replicas_in_sync,
            "moved": max_diff(reference, start),
            "start_diff": {k: max_diff(v[0], start) for k, v in runs.items()},
            "diff": {k: max_diff(v[1], reference) for k, v in runs.items()},
            "overflow_on_one_replica": overflow_on_one_replica()}


def multi_worker(args):
    """One worker of a MultiWorkerMirroredStrategy run (TF_CONFIG set by the caller)."""
    from vlae_tf.training import Trainer

    config = tiny_config(**{"data.batch_size": 8, "train.checkpoint_every": 2, "train.summary_every": 2,
                            "train.image_every": 100})
    trainer = Trainer(config, args["run_dir"], strategy="multi_worker", verbose=0)
    metrics = trainer.train(args["steps"])
    np.savez(args["out"], *weights(trainer.model))
    return {"chief": trainer.chief, "step": trainer.step, "replicas": trainer.strategy.num_replicas_in_sync,
            "loss": metrics.get("loss")}


def train(args):
    """A plain run that a test may kill; prints ``STEP n`` lines as it goes."""
    from vlae_tf.training import Trainer, TrainingInterrupted

    config = tiny_config(**args.get("overrides", {}))
    trainer = Trainer(config, args["run_dir"], verbose=0)
    print(f"START {trainer.step}", flush=True)
    train_step = trainer._train_step

    def reporting_step(*a):
        out = train_step(*a)
        print(f"STEP {trainer.step + 1}", flush=True)
        return out

    trainer._train_step = reporting_step
    try:
        metrics = trainer.train(args["steps"])
    except TrainingInterrupted as stop:
        print(f"RESULT {json.dumps({'interrupted': stop.signum, 'step': stop.step})}", flush=True)
        sys.exit(stop.exit_code)
    return {"step": trainer.step, "loss": metrics.get("loss")}


if __name__ == "__main__":
    name, arguments = sys.argv[1], json.loads(sys.argv[2])
    result = {"parity": parity, "multi_worker": multi_worker, "train": train}[name](arguments)
    print(f"RESULT {json.dumps(result)}", flush=True)
