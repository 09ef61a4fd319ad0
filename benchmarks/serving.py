"""``serving_default`` of the exported SavedModel against calling the Keras model directly: latency at batch 1
(median, p99) and throughput at batch 64.

    python -m benchmarks.serving --preset mnist
    python -m benchmarks.serving --run runs/mnist --rounds 5 --out benchmarks/results/serving.json

Paths timed on the same images, interleaved call by call (batch 1) and in 0.25 s blocks (batch 64), so a
noisy machine affects all alike; the ratios are the figures to read:

- ``keras_call``: ``model(images)``, the eager Keras call (what a Python service would do without an export);
- ``keras_predict_on_batch``: ``model.predict_on_batch(images)``, Keras' own compiled predict step;
- ``saved_model``: ``tf.saved_model.load(export).signatures["serving_default"](images=...)``;
- ``session``: a TF1 session over the export's MetaGraph fed by tensor name: how TF Serving runs a request
  (without its RPC and JSON costs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import workload  # noqa: E402
from vlae_tf import export, presets  # noqa: E402
from vlae_tf.io import run_model  # noqa: E402


def session_runner(path):
    """``fn(images) -> reconstruction`` through a TF1 session, as TF Serving runs a signature."""
    session = tf.compat.v1.Session(graph=tf.Graph())
    with session.graph.as_default():
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
    signature = meta_graph.signature_def["serving_default"]
    return session.make_callable(signature.outputs["reconstruction"].name, [signature.inputs["images"].name])


def paths(model, export_dir):
    """name -> ``fn(batch)``, where ``batch`` holds the same images as ``array`` (numpy) and ``tensor``."""
    loaded = tf.saved_model.load(export_dir)
    serve = loaded.signatures["serving_default"]
    run_session = session_runner(export_dir)
    return {
        "keras_call": lambda x: model(x["tensor"]).numpy(),
        "keras_predict_on_batch": lambda x: model.predict_on_batch(x["tensor"]),
        "saved_model": lambda x: serve(images=x["tensor"])["reconstruction"].numpy(),
        "session": lambda x: run_session(x["array"]),
    }


def measure(model, rounds: int, calls: int, seconds: float, batch_size: int) -> dict:
    shape = model.config.model.image_shape
    rng = np.random.default_rng(0)
    batches = {}
    for n in (1, batch_size):
        array = rng.random((n, *shape), dtype=np.float32)
        batches[n] = {"array": array, "tensor": tf.constant(array)}
    with tempfile.TemporaryDirectory() as tmp:
        export_dir = export.save(model, os.path.join(tmp, "bench"), warmup=False)
        fns = paths(model, export_dir)
        expected = fns["keras_call"](batches[1])
        for name, fn in fns.items():  # warm up (traces, first-call allocations) and check the answers agree
            for _ in range(5):
                got = fn(batches[1])
                fn(batches[batch_size])
            np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=name)
        times = {name: [] for name in fns}
        busy = {name: [0, 0.0] for name in fns}  # images, seconds
        for _ in range(rounds):
            # One call of each path in turn, so load from other processes falls on all of them alike.
            for _ in range(calls):
                for name, fn in fns.items():
                    start = time.perf_counter()
                    fn(batches[1])
                    times[name].append(time.perf_counter() - start)
            for _ in range(max(1, int(seconds / 0.25))):
                for name, fn in fns.items():
                    start, n = time.perf_counter(), 0
                    while time.perf_counter() - start < 0.25:
                        fn(batches[batch_size])
                        n += batch_size
                    busy[name][0] += n
                    busy[name][1] += time.perf_counter() - start
    result = {}
    for name in fns:
        ordered = sorted(times[name])
        result[name] = {"batch1_median_ms": 1e3 * statistics.median(ordered),
                        "batch1_p99_ms": 1e3 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
                        f"batch{batch_size}_images_per_s": busy[name][0] / busy[name][1]}
    base = result["keras_call"]
    for name in ("saved_model", "session"):
        result[name]["median_speedup_vs_keras_call"] = base["batch1_median_ms"] / result[name]["batch1_median_ms"]
        result[name]["throughput_ratio_vs_keras_call"] = (result[name][f"batch{batch_size}_images_per_s"]
                                                          / base[f"batch{batch_size}_images_per_s"])
    return result


def measure_preset(preset: str = "mnist", rounds: int = 3, calls: int = 100, seconds: float = 2.0,
                   batch_size: int = 64) -> dict:
    """:func:`measure` on an untrained model of ``preset`` (speed does not depend on the weights)."""
    model = workload.build_model(presets.get(preset))
    return {"model": preset, "batch_size": batch_size, **measure(model, rounds, calls, seconds, batch_size)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist", help="untrained model of this preset (speed does not depend on "
                                                     "the weights)")
    p.add_argument("--run", help="time a trained run's model instead")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=100, help="batch-1 calls per path per round")
    p.add_argument("--seconds", type=float, default=2.0, help="batch-64 time per path per round")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    if args.run:
        result = {"model": args.run, "batch_size": args.batch_size,
                  **measure(run_model.load_model(args.run), args.rounds, args.calls, args.seconds, args.batch_size)}
    else:
        result = measure_preset(args.preset, args.rounds, args.calls, args.seconds, args.batch_size)
    result.update(cpu_count=os.cpu_count(), tensorflow=tf.__version__)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return result


if __name__ == "__main__":
    main()
