"""``model.fit`` against a minimal hand-written ``tf.function`` step of the same model, and the input
pipeline alone, in images per second (issue: "The VLAE itself", Speed).

    python -m benchmarks.train_step --preset mnist --batch-size 100 --steps 50

The two training paths alternate in rounds within one process, so a noisy machine affects both alike;
the ratio is the figure to read. The input pipeline is timed over the same preset's real source when it
is available offline (``--dataset npz --data-dir ../shared/datasets/mnist.npz``) or ``shapes`` otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vlae_tf import data, presets, run_dir  # noqa: E402


def handwritten_step(model, optimizer):
    """The least a training step can do: forward, per-example loss, mean, gradients, apply."""

    @tf.function(jit_compile=False)
    def step(images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model.compute_terms(images, training=True, step=optimizer.iterations)["loss"])
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return step


def time_fit(model, dataset, steps: int) -> float:
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start


def time_handwritten(step, iterator, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(next(iterator))
    float(loss)  # wait for the last step
    return time.perf_counter() - start


def time_pipeline(dataset, batches: int) -> float:
    iterator = iter(dataset)
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(iterator)
    batch.numpy()
    return time.perf_counter() - start


def measure(preset: str, batch_size: int, steps: int, rounds: int, data_overrides: dict) -> dict:
    config = presets.get(preset, **{"data.batch_size": batch_size, **data_overrides})
    train, _ = data.load(config)
    train = train.repeat()
    # In-memory batches for the model timings, so both paths see identical, already-decoded input.
    batches = [b for b in train.take(8)]
    fixed = tf.data.Dataset.from_tensor_slices(tf.stack(batches)).repeat()
    results = {"preset": preset, "batch_size": batch_size, "steps": steps}
    keras.utils.set_random_seed(0)
    fit_model = run_dir.build_model(config)
    fit_model.compile()
    hand_model = run_dir.build_model(config)
    hand_step = handwritten_step(hand_model, keras.optimizers.Adam(config.train.learning_rate))
    hand_iter = iter(fixed)
    time_fit(fit_model, fixed, 3)  # trace and warm up both
    time_handwritten(hand_step, hand_iter, 3)
    fit_s, hand_s = [], []
    for _ in range(rounds):
        fit_s.append(time_fit(fit_model, fixed, steps))
        hand_s.append(time_handwritten(hand_step, hand_iter, steps))
    images = steps * batch_size
    results["fit_images_per_s"] = images / min(fit_s)
    results["handwritten_images_per_s"] = images / min(hand_s)
    results["fit_over_handwritten_time"] = min(fit_s) / min(hand_s)
    results["pipeline_images_per_s"] = 50 * batch_size / time_pipeline(train, 50)
    results["pipeline_over_training"] = results["pipeline_images_per_s"] / results["fit_images_per_s"]
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dataset", help="data source for the pipeline timing (default: shapes when offline)")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    overrides = {"data.dataset": args.dataset or "shapes", "data.data_dir": args.data_dir}
    if overrides["data.dataset"] == "shapes":
        overrides["data.binarize"] = "none"
    result = measure(args.preset, args.batch_size, args.steps, args.rounds, overrides)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
