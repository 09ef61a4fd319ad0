"""Training throughput of one preset in one precision, two ways, timed in interleaved rounds:

- ``fit``: ``model.compile(jit_compile=...)`` then ``model.fit``, as a user calls it;
- ``custom``: the custom loop's step function (``vlae_tf.training.step.make_train_step``) under the default
  strategy, its result read back every step as ``Trainer`` does; the loop's checkpoints, summaries and
  images are left out. It is the library's leanest full training step (forward, loss, gradients,
  finiteness checks, update), so ``fit``'s time over it is what ``model.fit`` adds.

    python -m benchmarks.throughput --preset mnist --precision float32

Each path trains its own copy of the model (same config, same seed) on the same few in-memory batches, so
the input pipeline is not part of these figures (``benchmarks.pipeline`` times it alone). Tracing and the
first steps are never timed. Within a round every path runs for about the same wall time, one after the
other; the best round of each is kept, so a noisy machine slows all paths alike and the ratios hold even
when the absolute figures do not. ``jit="auto"`` makes the choice ``model.fit`` and the custom loop make
(XLA on a GPU, none on a CPU) for both paths. The matrix-multiply rate of the precision's compute dtype is
measured inside the same rounds, and the step's FLOPs (``benchmarks.flops``) over its time give the
fraction of that rate reached.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import flops, machine, workload  # noqa: E402
from vlae_tf import presets  # noqa: E402
from vlae_tf.config import parse_override  # noqa: E402
from vlae_tf.training import precision as mixed  # noqa: E402
from vlae_tf.training.step import make_train_step, unpack  # noqa: E402

PATHS = ("fit", "custom")


class _Stamps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None):
        self.stamps.append(time.perf_counter())  # a callback with batch hooks makes fit wait for each step


def fit_path(config, precision: str, images: np.ndarray, jit: bool) -> Callable[[int], float]:
    """``run(steps) -> seconds`` of ``model.fit``; the clock runs from the end of the first step to the end of
    the last, so the per-call set-up of ``fit`` (iterator, callbacks) is not charged to the steps."""
    model = workload.build_model(config, precision)
    model.compile(jit_compile=jit)
    dataset = workload.batches_dataset(images)
    clock = _Stamps()

    def run(steps: int) -> float:
        clock.stamps = []
        model.fit(dataset, steps_per_epoch=steps + 1, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        return clock.stamps[-1] - clock.stamps[0]

    return run


def custom_path(config, precision: str, images: np.ndarray, jit: bool) -> Callable[[int], float]:
    """``run(steps) -> seconds`` of the custom loop's step function, each result unpacked on the host."""
    strategy = tf.distribute.get_strategy()
    model = workload.build_model(config, precision)
    optimizer = mixed.build_optimizer(config, precision)
    optimizer.build(model.trainable_variables)
    step = make_train_step(model, optimizer, strategy, config.data.batch_size, jit_compile=jit)
    dataset = workload.batches_dataset(images)
    iterator = iter(strategy.distribute_datasets_from_function(lambda _: dataset))
    names, stop = model.term_names, tf.constant(0.0)

    def run(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            unpack(step(iterator, stop).numpy(), names)
        return time.perf_counter() - start

    return run


BUILDERS = {"fit": fit_path, "custom": custom_path}


def steps_for(step_seconds: float, seconds: float) -> int:
    """Enough steps to last ``seconds`` (at least 2)."""
    return max(2, int(round(seconds / max(step_seconds, 1e-6))))


def measure(preset: str, precision: str = "float32", paths=PATHS, rounds: int = 3, seconds: float = 3.0,
            steps: int | None = None, jit: str | bool = "auto", overrides: dict | None = None) -> dict:
    """Images per second of each path, the step's FLOPs and the fraction of the matmul rate it reaches.

    ``seconds``: wall time per path per round (ignored when ``steps`` is given). Returns a dict with, per
    path, ``images_per_s``, ``step_ms`` (best round), ``median_step_ms`` and ``fraction_of_matmul``.
    """
    config = presets.get(preset, **(overrides or {}))
    batch = config.data.batch_size
    jit = workload.resolve_jit(jit)
    images = workload.fixed_batches(config)
    counted = flops.count(workload.build_model(config), batch)["train_step"]
    runners, build_s, probe = {}, {}, {}
    for name in paths:
        start = time.perf_counter()
        runners[name] = BUILDERS[name](config, precision, images, jit)
        runners[name](2)  # trace and warm up
        probe[name] = runners[name](2) / 2
        build_s[name] = time.perf_counter() - start
    dtype = workload.COMPUTE_DTYPE[precision]
    times = {name: [] for name in paths}
    rates = [machine.matmul_rate(dtype, repeats=3, min_seconds=0.3)]
    for _ in range(rounds):
        for name, run in runners.items():
            n = steps or steps_for(probe[name], seconds)
            times[name].append(run(n) / n)
        rates.append(machine.matmul_rate(dtype, repeats=2, min_seconds=min(seconds, 0.5) / 2))
    runners.clear()
    workload.release()
    rate = max(rates)
    result = {"preset": preset, "precision": precision, "batch_size": batch, "jit_compile": jit,
              "train_step_gflop": counted / 1e9, "matmul_dtype": dtype, "matmul_gflops": rate / 1e9, "paths": {}}
    for name in paths:
        best = min(times[name])
        result["paths"][name] = {"images_per_s": batch / best, "step_ms": 1e3 * best,
                                 "median_step_ms": 1e3 * float(np.median(times[name])),
                                 "fraction_of_matmul": counted / best / rate, "build_and_warmup_s": build_s[name]}
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--precision", default="float32", choices=sorted(workload.COMPUTE_DTYPE))
    p.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0, help="wall time per path per round")
    p.add_argument("--steps", type=int, help="fixed steps per path per round (overrides --seconds)")
    p.add_argument("--jit", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--batch-size", type=int)
    p.add_argument("--set", action="append", default=[], metavar="section.field=value",
                   help="a config override, as vlae-train's (repeatable)")
    args = p.parse_args(argv)
    overrides = dict(parse_override(s) for s in args.set)
    if args.batch_size:
        overrides["data.batch_size"] = args.batch_size
    result = measure(args.preset, args.precision, args.paths, args.rounds, args.seconds, args.steps, args.jit,
                     overrides)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
