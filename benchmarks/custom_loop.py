"""Images per second of the custom loop against ``model.fit`` on one preset, per precision.

    python -m benchmarks.custom_loop --preset mnist
    python -m benchmarks.custom_loop --preset shapes --steps 20 --rounds 7 --precisions float32 mixed_bfloat16

Both loops train the same model on the same in-memory batches (random binary images of the preset's shape:
this measures the training step, not the input pipeline) with the trainer's default strategy. After
``--warmup`` steps (tracing, graph optimisation) the loops alternate blocks of ``--steps`` steps for
``--rounds`` rounds, so load from other processes hits both alike; a block's clock runs from its first to its
last step end, covering each loop's per-step Python work but not the custom loop's end-of-call checkpoint,
images and model save. The median block counts, in images per wall-clock second and per CPU second of the
process (the steadier figure on a machine shared with other jobs). With a GPU, ``mixed_float16`` is measured too (both loops
then use XLA, ``model.fit``'s default there).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vlae_tf import presets, run_dir  # noqa: E402
from vlae_tf.training import Trainer  # noqa: E402
from vlae_tf.training.precision import policy_scope  # noqa: E402


def _images(config, count=512, seed=0):
    shape = (count,) + tuple(config.model.image_shape)
    return (np.random.default_rng(seed).uniform(size=shape) < 0.3).astype("float32")


class _Clock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None):
        self.stamps.append(_now())


def _now():
    """(wall-clock, this process's CPU time): on a shared machine the CPU time is the steadier measure."""
    return time.perf_counter(), time.process_time()


def _rate(stamps, batch):
    """(images per wall-clock second, images per CPU second) between the first and the last stamp."""
    steps = len(stamps) - 1
    return tuple(batch * steps / (stamps[-1][i] - stamps[0][i]) for i in (0, 1))


class FitRun:
    """``model.fit`` in blocks of steps; the clock runs from the first to the last step end of a block."""

    def __init__(self, config, x):
        keras.utils.set_random_seed(config.train.seed)
        with policy_scope(config.train.precision):
            self.model = run_dir.build_model(config)
        self.model.compile()
        self.batch = config.data.batch_size
        self.data = tf.data.Dataset.from_tensor_slices(x).batch(self.batch, drop_remainder=True).cache().repeat()

    def block(self, steps) -> float:
        clock = _Clock()
        self.model.fit(self.data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        return _rate(clock.stamps, self.batch)


class CustomRun:
    """``Trainer.train`` in blocks of steps, timed the same way (its end-of-call saves fall outside)."""

    def __init__(self, config, x, folder):
        self.batch = config.data.batch_size

        def dataset_fn(ctx):
            ds = tf.data.Dataset.from_tensor_slices(x)
            return ds.batch(ctx.get_per_replica_batch_size(self.batch), drop_remainder=True).cache()

        quiet = {"train.checkpoint_every": 10 ** 6, "train.summary_every": 10 ** 6, "train.image_every": 10 ** 6}
        self.trainer = Trainer(config.replace(**quiet), folder, dataset_fn=dataset_fn, verbose=0)
        step, self.stamps = self.trainer._train_step, []

        def timed_step(*args):
            out = step(*args)
            self.stamps.append(_now())  # the loop reads the result at once: the step is done
            return out

        self.trainer._train_step = timed_step

    def block(self, steps) -> float:
        self.stamps.clear()
        self.trainer.train(self.trainer.step + steps)
        return _rate(self.stamps, self.batch)


def measure(config, x, steps, warmup, rounds) -> dict:
    """Median (images/s, images per CPU-s) over ``rounds`` alternating blocks of ``steps`` steps."""
    with tempfile.TemporaryDirectory() as folder:
        runs = {"fit": FitRun(config, x), "custom": CustomRun(config, x, folder)}
        for run in runs.values():
            run.block(warmup)
        rates = {name: [] for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():
                rates[name].append(run.block(steps))
    return {name: tuple(float(np.median([x[i] for x in r])) for i in (0, 1)) for name, r in rates.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="mnist")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (tracing, optimisation)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating fit/custom blocks; the median counts")
    parser.add_argument("--batch-size", type=int, help="default: the preset's")
    parser.add_argument("--precisions", nargs="+", help="default: float32 mixed_bfloat16 (+ mixed_float16 on GPU)")
    args = parser.parse_args(argv)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    precisions = args.precisions or ["float32", "mixed_bfloat16"] + (["mixed_float16"] if gpu else [])
    base = presets.get(args.preset)
    if args.batch_size:
        base = base.replace(**{"data.batch_size": args.batch_size})
    x = _images(base)
    device = "CPU"
    if gpu:
        device = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        device = "GPU " + device.get("device_name", "")
    print(f"preset {args.preset}, batch {base.data.batch_size}, blocks of {args.steps} steps x {args.rounds} rounds "
          f"after {args.warmup}, {device}, {os.cpu_count()} CPU cores")
    rates = {}
    for precision in precisions:
        config = base.replace(**{"train.precision": precision})
        rate = rates[precision] = measure(config, x, args.steps, args.warmup, args.rounds)
        for i, unit in enumerate(("img/s", "img/CPU-s")):
            print(f"{precision:15s} fit {rate['fit'][i]:8.1f} {unit:9s} custom {rate['custom'][i]:8.1f} {unit:9s} "
                  f"custom/fit {rate['custom'][i] / rate['fit'][i]:.2f}", flush=True)
    if "float32" in rates:
        for precision in rates:
            if precision != "float32":
                ratios = [f"{loop} {rates[precision][loop][i] / rates['float32'][loop][i]:.2f}x"
                          for i in (0, 1) for loop in ("fit", "custom")]
                print(f"{precision} / float32: wall-clock {', '.join(ratios[:2])}; CPU time {', '.join(ratios[2:])}")
    return rates


if __name__ == "__main__":
    main()
