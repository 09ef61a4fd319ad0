"""Training throughput of one preset in one precision, three ways: ``model.fit``, the custom loop's step and
a minimal hand-written ``tf.function`` step of the same model, timed in interleaved rounds.

    python -m benchmarks.throughput --preset mnist --precision float32

Each path trains its own copy of the model (same config, same seed) on the same few in-memory batches, so
the input pipeline is not part of these figures (``benchmarks.pipeline`` times it alone). Tracing and the
first steps are never timed. Within a round every path runs for about the same wall time, one after the
other; the best round of each is kept. A noisy machine therefore slows all paths alike and the ratios hold
even when the absolute figures do not. ``jit="auto"`` makes the choice ``model.fit`` and the custom loop make
(XLA on a GPU, none on a CPU) for all three paths.
The matrix-multiply rate of the precision's compute dtype is measured inside the same rounds, and the
training step's FLOPs (``benchmarks.flops``) over its time give the fraction of that rate reached.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import flops, machine  # noqa: E402
from vlae_tf import presets, run_dir  # noqa: E402
from vlae_tf.training import precision as mixed  # noqa: E402

PATHS = ("fit", "custom", "handwritten")
COMPUTE_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def resolve_jit(jit: str | bool) -> bool:
    """``"auto"`` is what ``model.fit`` and the custom loop choose: XLA with a GPU, none on a CPU."""
    if jit == "auto":
        return bool(tf.config.list_logical_devices("GPU"))
    return jit in (True, "on", "true", "1")


def fixed_batches(config, count: int = 4, seed: int = 0) -> np.ndarray:
    """``count`` batches [count, B, H, W, C] of the preset's shape and value range.

    Binary images for Bernoulli models, uniform [0, 1] otherwise: the arithmetic, hence the speed, does not
    depend on what the pixels show.
    """
    shape = (count, config.data.batch_size) + tuple(config.model.image_shape)
    images = np.random.default_rng(seed).random(shape, dtype=np.float32)
    if config.model.likelihood == "bernoulli":
        images = (images < 0.3).astype(np.float32)
    return images


def batches_dataset(images: np.ndarray) -> tf.data.Dataset:
    """The batches of :func:`fixed_batches`, in memory, repeated forever."""
    return tf.data.Dataset.from_tensor_slices(images).cache().repeat()


def _build_model(config, precision: str):
    keras.utils.set_random_seed(config.train.seed)
    with mixed.policy_scope(precision):
        return run_dir.build_model(config)


class _Stamps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None):
        self.stamps.append(time.perf_counter())  # a callback with batch hooks makes fit wait for each step


def fit_path(config, precision: str, images: np.ndarray, jit: bool) -> Callable[[int], float]:
    """``model.fit`` as a user calls it; the clock runs from the end of the first step to the end of the last,
    so the per-call set-up of ``fit`` (iterator, callbacks) is not charged to the steps."""
    model = _build_model(config, precision)
    model.compile(jit_compile=jit)
    dataset = batches_dataset(images)
    clock = _Stamps()

    def run(steps: int) -> float:
        clock.stamps = []
        model.fit(dataset, steps_per_epoch=steps + 1, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
        return clock.stamps[-1] - clock.stamps[0]

    return run


def custom_path(config, precision: str, images: np.ndarray, jit: bool) -> Callable[[int], float]:
    """The custom loop (``vlae_tf.training.Trainer``), timed by its own benchmark ``benchmarks.custom_loop``:
    a fresh Trainer per call (checkpoints, summaries and images switched off), two untimed steps, then
    ``steps`` timed ones. Falls back to the loop's step function (``vlae_tf.training.step``) read back every
    step, as the loop does, when that module is missing.
    """
    try:
        from benchmarks import custom_loop
    except ImportError:
        custom_loop = None
    if custom_loop is not None and hasattr(custom_loop, "custom_rate"):
        config = config.replace(**{"train.precision": precision})
        flat = images.reshape((-1,) + images.shape[2:])

        def run_loop(steps: int) -> float:
            return steps * config.data.batch_size / custom_loop.custom_rate(config, flat, steps, 2)

        run_loop.warm = True  # every call builds, traces and warms up its own loop
        return run_loop
    from vlae_tf.training.step import make_train_step, unpack

    strategy = tf.distribute.get_strategy()
    model = _build_model(config, precision)
    optimizer = mixed.build_optimizer(config, precision)
    optimizer.build(model.trainable_variables)
    step = make_train_step(model, optimizer, strategy, config.data.batch_size, jit_compile=jit)
    dataset = batches_dataset(images)
    iterator = iter(strategy.distribute_datasets_from_function(lambda _: dataset))
    names, stop = model.term_names, tf.constant(0.0)

    def run(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            unpack(step(iterator, stop).numpy(), names)
        return time.perf_counter() - start

    return run


def handwritten_step(model, optimizer, jit: bool):
    """The least a training step can do: forward, per-example loss, mean, gradients, apply."""

    @tf.function(jit_compile=jit)
    def step(images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model.compute_terms(images, training=True, step=optimizer.iterations)["loss"])
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return step


def handwritten_path(config, precision: str, images: np.ndarray, jit: bool, optimizer=None) -> Callable[[int], float]:
    """``optimizer``: a Keras optimizer or a factory of one (default: the library's, Adam)."""
    model = _build_model(config, precision)
    optimizer = mixed.build_optimizer(config, precision, optimizer)
    optimizer.build(model.trainable_variables)
    step = handwritten_step(model, optimizer, jit)
    iterator = iter(batches_dataset(images))

    def run(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(next(iterator))
        float(loss)  # wait for the last step
        return time.perf_counter() - start

    return run


def release() -> None:
    """Frees what the models built so far hold (Keras' global state keeps them alive otherwise): a suite
    that builds dozens of models in one process must not grow by gigabytes."""
    keras.backend.clear_session()
    gc.collect()


BUILDERS = {"fit": fit_path, "custom": custom_path, "handwritten": handwritten_path}


def steps_for(step_seconds: float, seconds: float, steps: int | None) -> int:
    """``steps`` when given, else enough steps to last ``seconds`` (at least 2)."""
    return steps if steps else max(2, int(round(seconds / max(step_seconds, 1e-6))))


def measure(preset: str, precision: str = "float32", paths=PATHS, rounds: int = 3, seconds: float = 3.0,
            steps: int | None = None, jit: str | bool = "auto", overrides: dict | None = None) -> dict:
    """Images per second of each path, the step's FLOPs and the fraction of the matmul rate it reaches.

    ``seconds``: wall time per path per round (ignored when ``steps`` is given).
    Returns a dict with per-path ``images_per_s``, ``step_ms`` and ``fraction_of_matmul``, the ratios
    ``<path>_over_handwritten`` (time ratios: 1.05 = 5% slower), and ``matmul_gflops``.
    """
    config = presets.get(preset, **(overrides or {}))
    batch = config.data.batch_size
    jit = resolve_jit(jit)
    images = fixed_batches(config)
    counted = flops.count(_build_model(config, "float32"), batch)["train_step"]
    runners, trace_s, probe = {}, {}, {}
    for name in paths:
        start = time.perf_counter()
        runners[name] = BUILDERS[name](config, precision, images, jit)
        if not getattr(runners[name], "warm", False):
            runners[name](2)  # trace and warm up
            probe[name] = runners[name](2) / 2
        trace_s[name] = time.perf_counter() - start
    fallback = min(probe.values()) if probe else None
    probe = {name: probe.get(name, fallback) for name in paths}
    dtype = COMPUTE_DTYPE[precision]
    times = {name: [] for name in paths}
    rates = [machine.matmul_rate(dtype, repeats=3, min_seconds=0.3)]
    for _ in range(rounds):
        for name, run in runners.items():
            n = steps if steps else steps_for(probe[name] or run(2) / 2, seconds, None)
            times[name].append(run(n) / n)
        rates.append(machine.matmul_rate(dtype, repeats=2, min_seconds=min(seconds, 0.5) / 2))
    rate = max(rates)
    result = {"preset": preset, "precision": precision, "batch_size": batch, "jit_compile": jit,
              "train_step_gflop": counted / 1e9, "matmul_dtype": dtype, "matmul_gflops": rate / 1e9, "paths": {}}
    for name in paths:
        best = min(times[name])
        result["paths"][name] = {"images_per_s": batch / best, "step_ms": 1e3 * best,
                                 "median_step_ms": 1e3 * float(np.median(times[name])),
                                 "fraction_of_matmul": counted / best / rate, "build_and_warmup_s": trace_s[name]}
    runners.clear()
    release()
    if "handwritten" in paths:
        base = result["paths"]["handwritten"]["step_ms"]
        for name in paths:
            if name != "handwritten":
                result[f"{name}_over_handwritten"] = result["paths"][name]["step_ms"] / base
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--precision", default="float32", choices=sorted(COMPUTE_DTYPE))
    p.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0, help="wall time per path per round")
    p.add_argument("--steps", type=int, help="fixed steps per path per round (overrides --seconds)")
    p.add_argument("--jit", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--batch-size", type=int)
    args = p.parse_args(argv)
    overrides = {"data.batch_size": args.batch_size} if args.batch_size else {}
    result = measure(args.preset, args.precision, args.paths, args.rounds, args.seconds, args.steps, args.jit,
                     overrides)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
